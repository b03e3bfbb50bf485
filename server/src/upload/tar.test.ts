import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listTarball, parseListingLine, TarError, unquoteC, type TarMember } from './tar.js';
import { writeTarball } from './test-support.js';

describe('parseListingLine', () => {
  it('reads files, directories, links and device nodes as GNU tar lists them', () => {
    const file = parseListingLine('-rw-r--r-- 0/0               5 2023-11-14 22:13:20 "pkg-1.0/README"');
    assert.deepEqual(
      { type: file.type, size: file.size, name: file.name, uid: file.uid, setuid: file.setuid },
      { type: 'file', size: 5, name: 'pkg-1.0/README', uid: 0, setuid: false },
    );
    assert.equal(parseListingLine('drwxrwxrwt 1000/1000 0 2023-11-14 22:13:20 "pkg-1.0/tmp/"').type, 'directory');
    const link = parseListingLine('lrwxrwxrwx 0/0 0 2023-11-14 22:13:20 "pkg-1.0/l" -> "/etc/passwd"');
    assert.deepEqual([link.type, link.link, link.quotedLink], ['symlink', '/etc/passwd', '"/etc/passwd"']);
    const hard = parseListingLine('hrw-r--r-- 0/0 0 2023-11-14 22:13:20 "pkg-1.0/h" link to "pkg-1.0/README"');
    assert.deepEqual([hard.type, hard.link], ['hardlink', 'pkg-1.0/README']);
    const dev = parseListingLine('crw-r--r-- 0/0             1,3 2023-11-14 22:13:20 "pkg-1.0/null"');
    assert.deepEqual([dev.type, dev.size], ['char-device', 0]);
    assert.equal(parseListingLine('brw-r--r-- 0/0 8,0 2023-11-14 22:13:20 "b"').type, 'block-device');
    assert.equal(parseListingLine('prw-r--r-- 0/0 0 2023-11-14 22:13:20 "p"').type, 'fifo');
  });

  it('reads setuid and setgid bits, times tar cannot show as dates, fractions and wide columns', () => {
    assert.equal(parseListingLine('-rwsr-xr-x 0/0 1 2023-11-14 22:13:20 "s"').setuid, true);
    const sgid = parseListingLine('-rw-r-Sr-- 0/0 1 2023-11-14 22:13:20 "g"');
    assert.deepEqual([sgid.setuid, sgid.setgid], [false, true]);
    assert.equal(parseListingLine('-rw-r--r-- 0/0 1 -4611686018427387904 "old"').name, 'old');
    assert.equal(parseListingLine('-rw-r--r-- 0/0 1 2023-11-14 22:13:20.5 "frac"').name, 'frac');
    assert.equal(parseListingLine('-rw-r--r-- 0/0      5368709120 1970-01-01 00:00:00  "big"').size, 5368709120);
  });

  it('undoes C quoting exactly: a name cannot fake an arrow or a line', () => {
    const m = parseListingLine(String.raw`-rw-r--r-- 0/0 1 2023-11-14 22:13:20 "a \"b\" -> \"c\"\n\\\303\251"`);
    assert.equal(m.type, 'file');
    assert.equal(m.link, undefined);
    assert.equal(Buffer.from(m.name, 'latin1').toString('utf8'), 'a "b" -> "c"\n\\é');
    assert.equal(unquoteC(String.raw`"\t\001\?x"`), '\t\x01?x');
    assert.throws(() => unquoteC('"a\\"'), TarError);
  });

  it('refuses anything else', () => {
    for (const line of [
      '',
      "tar: Removing leading `/' from member names",
      '-rw-r--r-- 0/0 1 2023-11-14 22:13:20 pkg/unquoted',
      '-rw-r--r-- 0/0 1 2023-11-14 22:13:20 "a" -> "b"',
      'lrwxrwxrwx 0/0 0 2023-11-14 22:13:20 "a"',
      '-rw-r--r-- 0/0 1,3 2023-11-14 22:13:20 "a"',
      'V--------- 0/0 0 2023-11-14 22:13:20 "label"--Volume Header--',
      '-rw-r--r-- 0/0 1 2023-11-14 22:13:20 "a" trailing',
    ])
      assert.throws(
        () => parseListingLine(line),
        (err: unknown) => err instanceof TarError && err.code === 'TAR_OUTPUT',
        line,
      );
  });
});

describe('listTarball', () => {
  let dir: string;
  before(async () => (dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-tar-'))));
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('lists every member of a compressed tarball, names exact', async () => {
    const file = path.join(dir, 'a.tar.xz');
    await writeTarball(file, [
      { name: 'pkg-1.0/', type: 'dir' },
      { name: 'pkg-1.0/caf\u00e9 "x"', data: 'abc' },
      { name: 'pkg-1.0/l', type: 'symlink', link: 'caf\u00e9 "x"' },
      { name: 'pkg-1.0/dev', type: 'chardev' },
    ]);
    const seen: TarMember[] = [];
    await listTarball(file, (m) => void seen.push(m), { timeoutMs: 10_000 });
    assert.deepEqual(
      seen.map((m) => [m.type, Buffer.from(m.name, 'latin1').toString('utf8'), m.size]),
      [
        ['directory', 'pkg-1.0/', 0],
        ['file', 'pkg-1.0/café "x"', 3],
        ['symlink', 'pkg-1.0/l', 0],
        ['char-device', 'pkg-1.0/dev', 0],
      ],
    );
  });

  it('stops tar when the callback throws, and throws that', async () => {
    const file = path.join(dir, 'b.tar');
    await writeTarball(file, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    let calls = 0;
    await assert.rejects(
      listTarball(
        file,
        () => {
          if (++calls === 2) throw new Error('enough');
        },
        { timeoutMs: 10_000 },
      ),
      /enough/,
    );
    assert.equal(calls, 2);
  });

  it('says what tar said about a file it cannot read', async () => {
    const file = path.join(dir, 'junk.tar.xz');
    await fs.writeFile(file, 'this is no tarball\n'.repeat(100));
    await assert.rejects(
      listTarball(file, () => undefined, { timeoutMs: 10_000 }),
      (err: unknown) =>
        err instanceof TarError &&
        err.code === 'TAR_FAILED' &&
        /^tar cannot read it \(exit 2\): xz: \(stdin\): File format not recognized/.test(err.message),
    );
  });
});
