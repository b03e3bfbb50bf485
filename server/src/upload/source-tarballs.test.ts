import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UploadRejection } from './checks.js';
import {
  checkSourceTarballs,
  DEFAULT_TARBALL_LIMITS,
  isSourceTarball,
  tarballKind,
  type TarballLimits,
} from './source-tarballs.js';
import { writeSparseBomb, writeTarball, type TarMemberSpec } from './test-support.js';

const GiB = 1024 ** 3;

describe('checkSourceTarballs', () => {
  let dir: string;
  let n = 0;
  before(async () => (dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-tarballs-'))));
  after(() => fs.rm(dir, { recursive: true, force: true }));

  /** Writes `members` as a tarball called `name` in a directory of its own. */
  const tarball = async (name: string, members: TarMemberSpec[]) => {
    const file = path.join(dir, String(++n), name);
    await fs.mkdir(path.dirname(file));
    await writeTarball(file, members);
    return { name, path: file };
  };
  const orig = (...members: TarMemberSpec[]) =>
    tarball('pkg_1.0.orig.tar.xz', [{ name: 'pkg-1.0/', type: 'dir' }, ...members]);
  const unsafe = async (
    tarballs: { name: string; path: string }[],
    message: RegExp,
    limits: TarballLimits = DEFAULT_TARBALL_LIMITS,
  ) =>
    assert.rejects(checkSourceTarballs(tarballs, limits), (err: unknown) => {
      assert.ok(err instanceof UploadRejection, String(err));
      assert.equal(err.code, 'SOURCE_UNSAFE', err.message);
      assert.match(err.message, message);
      return true;
    });

  it('knows source tarballs and their kinds', () => {
    for (const name of ['a_1.orig.tar.gz', 'a_1.orig-doc.tar.xz', 'a_1-1.debian.tar.xz', 'a_1.tar.zst', 'a_1.tar'])
      assert.ok(isSourceTarball(name), name);
    for (const name of ['a_1.orig.tar.gz.asc', 'a_1.dsc', 'a_1-1.diff.gz', 'a.tar.7z'])
      assert.ok(!isSourceTarball(name), name);
    assert.deepEqual(['a_1.orig.tar.gz', 'a_1.orig-doc.tar.xz', 'a_1-1.debian.tar.xz', 'a_1.tar.xz'].map(tarballKind), [
      'orig',
      'orig',
      'debian',
      'native',
    ]);
  });

  it('accepts an ordinary tree: links that stay inside, sticky directories, odd but harmless names', async () => {
    await checkSourceTarballs([
      await orig(
        { name: 'pkg-1.0/src/', type: 'dir' },
        { name: 'pkg-1.0/src/main.c', data: 'int main;' },
        { name: 'pkg-1.0/tmp/', type: 'dir', mode: 0o1777 },
        { name: 'pkg-1.0/run.sh', data: '#!/bin/sh', mode: 0o755 },
        { name: 'pkg-1.0/src/link', type: 'symlink', link: '../run.sh' },
        { name: 'pkg-1.0/dir-link', type: 'symlink', link: 'src' },
        { name: 'pkg-1.0/via-dir-link', type: 'symlink', link: 'dir-link/../run.sh' },
        { name: 'pkg-1.0/hard', type: 'hardlink', link: 'pkg-1.0/run.sh' },
        { name: 'pkg-1.0/a -> b', data: '' },
        { name: 'pkg-1.0/debian', type: 'symlink', link: 'src' },
      ),
      await tarball('pkg_1.0-1.debian.tar.xz', [
        { name: 'debian/', type: 'dir' },
        { name: 'debian/README', type: 'symlink', link: '../README' },
      ]),
    ]);
  });

  const cases: [string, TarMemberSpec[], RegExp][] = [
    [
      'a "../" member',
      [{ name: 'pkg-1.0/../../x', data: 'x' }],
      /member "pkg-1\.0\/\.\.\/\.\.\/x" has a "\.\." component/,
    ],
    ['an absolute member', [{ name: '/etc/cron.d/x', data: 'x' }], /member "\/etc\/cron\.d\/x" has an absolute name/],
    [
      'a symlink to /etc/passwd',
      [{ name: 'pkg-1.0/passwd', type: 'symlink', link: '/etc/passwd' }],
      /member "pkg-1\.0\/passwd" is a symlink to the absolute path "\/etc\/passwd"/,
    ],
    [
      'a symlink out of the tree',
      [{ name: 'pkg-1.0/up', type: 'symlink', link: '../../etc' }],
      /member "pkg-1\.0\/up" is a symlink to "\.\.\/\.\.\/etc", which points outside the source tree/,
    ],
    [
      'a symlink that leaves the package directory and comes back',
      [{ name: 'pkg-1.0/back', type: 'symlink', link: '../pkg-1.0/x' }],
      /member "pkg-1\.0\/back" is a symlink to "\.\.\/pkg-1\.0\/x", which points outside/,
    ],
    [
      'a symlink that escapes through another symlink',
      [
        { name: 'pkg-1.0/a/', type: 'dir' },
        { name: 'pkg-1.0/a/b/', type: 'dir' },
        { name: 'pkg-1.0/a/b/d', type: 'symlink', link: '..' },
        { name: 'pkg-1.0/a/b/e', type: 'symlink', link: 'd/../../..' },
      ],
      /member "pkg-1\.0\/a\/b\/e" is a symlink to "d\/\.\.\/\.\.\/\.\.", which points outside/,
    ],
    [
      'a symlink loop',
      [
        { name: 'pkg-1.0/x', type: 'symlink', link: 'y' },
        { name: 'pkg-1.0/y', type: 'symlink', link: 'x' },
      ],
      /member "pkg-1\.0\/x" is a symlink to "y", which is part of a symlink loop/,
    ],
    [
      'a member written through a symlink',
      [
        { name: 'pkg-1.0/d', type: 'symlink', link: 'sub' },
        { name: 'pkg-1.0/d/x', data: 'x' },
      ],
      /member "pkg-1\.0\/d\/x" would be written through the symlink "pkg-1\.0\/d" -> "sub"/,
    ],
    [
      'a hard link to /etc/shadow',
      [{ name: 'pkg-1.0/h', type: 'hardlink', link: '/etc/shadow' }],
      /member "pkg-1\.0\/h" is a hard link to "\/etc\/shadow", outside the tree/,
    ],
    [
      'a hard link to a "../" name',
      [{ name: 'pkg-1.0/h', type: 'hardlink', link: 'pkg-1.0/../../x' }],
      /member "pkg-1\.0\/h" is a hard link to "pkg-1\.0\/\.\.\/\.\.\/x", outside the tree/,
    ],
    ['a character device', [{ name: 'pkg-1.0/null', type: 'chardev' }], /member "pkg-1\.0\/null" is a device node/],
    ['a block device', [{ name: 'pkg-1.0/sda', type: 'blockdev' }], /member "pkg-1\.0\/sda" is a device node/],
    ['a FIFO', [{ name: 'pkg-1.0/fifo', type: 'fifo' }], /member "pkg-1\.0\/fifo" is a FIFO/],
    [
      'a setuid file',
      [{ name: 'pkg-1.0/su', data: 'x', mode: 0o4755 }],
      /member "pkg-1\.0\/su" is setuid \(rwsr-xr-x\): repack the tarball without it/,
    ],
    [
      'a setgid file',
      [{ name: 'pkg-1.0/sg', data: 'x', mode: 0o2755 }],
      /member "pkg-1\.0\/sg" is setgid \(rwxr-sr-x\)/,
    ],
    [
      'a contiguous file (a type source packages do not hold)',
      [{ name: 'pkg-1.0/c', type: 'contiguous', data: 'x' }],
      /member "pkg-1\.0\/c" is of a type source packages do not hold \(tar type "C"\)/,
    ],
  ];
  for (const [what, members, message] of cases)
    it(`refuses ${what}, naming the tarball and the member`, async () => {
      await unsafe([await orig(...members)], new RegExp(`^pkg_1\\.0\\.orig\\.tar\\.xz: ${message.source}`));
    });

  it('refuses a debian tarball whose debian is a symlink, and a native tree whose debian is one', async () => {
    await unsafe(
      [await tarball('pkg_1.0-1.debian.tar.xz', [{ name: 'debian', type: 'symlink', link: 'upstream/debian' }])],
      /^pkg_1\.0-1\.debian\.tar\.xz: member "debian" is a symlink \(to "upstream\/debian"\); debian\/ must be a directory/,
    );
    await unsafe(
      [
        await tarball('pkg_1.0.tar.xz', [
          { name: 'pkg-1.0/', type: 'dir' },
          { name: 'pkg-1.0/debian', type: 'symlink', link: '/tmp' },
        ]),
      ],
      /^pkg_1\.0\.tar\.xz: member "pkg-1\.0\/debian" is a symlink \(to "\/tmp"\)/,
    );
  });

  it('says what tar said about a tarball it cannot read', async () => {
    const file = path.join(dir, 'pkg_1.0.orig.tar.gz');
    await fs.writeFile(file, Buffer.alloc(2000, 0x5a));
    await unsafe(
      [{ name: 'pkg_1.0.orig.tar.gz', path: file }],
      /^pkg_1\.0\.orig\.tar\.gz: tar cannot read it \(exit 2\): gzip: stdin: not in gzip format; .*: rebuild the source package \(dpkg-source -b\) and upload it again$/,
    );
  });

  it('stops at a header that declares more than the cap, before reading on (a truncated 5 GiB member)', async () => {
    const bomb = await orig({ name: 'pkg-1.0/README', data: 'hi' }, { name: 'pkg-1.0/zeros', declaredSize: 5 * GiB });
    const started = Date.now();
    await unsafe(
      [bomb],
      /^pkg_1\.0\.orig\.tar\.xz: the source tarballs declare more than 4294967296 bytes unpacked \("pkg-1\.0\/zeros" alone 5368709120\): a decompression bomb, or far too large: debyard does not unpack source packages that large$/,
    );
    assert.ok(Date.now() - started < 5000);
  });

  it('counts sizes and members over all tarballs of the upload, and stops tar at the cap', async () => {
    const a = await orig({ name: 'pkg-1.0/a', data: 'x'.repeat(600) });
    const b = await tarball('pkg_1.0-1.debian.tar.xz', [{ name: 'debian/b', data: 'x'.repeat(600) }]);
    const limits = { ...DEFAULT_TARBALL_LIMITS, maxUnpackedBytes: 1000 };
    await checkSourceTarballs([a], limits);
    await unsafe(
      [a, b],
      /^pkg_1\.0-1\.debian\.tar\.xz: .*declare more than 1000 bytes unpacked \("debian\/b" alone 600\)/,
      limits,
    );

    const many = await orig(...Array.from({ length: 30 }, (_, i) => ({ name: `pkg-1.0/f${i}`, data: '' })));
    await unsafe([many], /more than 20 members \(stopped at "pkg-1\.0\/f19"\)/, {
      ...DEFAULT_TARBALL_LIMITS,
      maxMembers: 20,
    });
  });

  it('refuses a sparse 5 GiB member of a few hundred bytes of .tar.xz at once', async () => {
    const file = path.join(dir, 'bomb_1.0.tar.xz');
    await writeSparseBomb(file, 5 * GiB);
    assert.ok((await fs.stat(file)).size < 4096);
    await unsafe([{ name: 'bomb_1.0.tar.xz', path: file }], /"bomb-1\.0\/bomb" alone 5368709120/);
  });

  it('stops tar when the time is up', async () => {
    // 16 MiB of zeros, xz-compressed: tar needs far longer than 1 ms to read through them.
    const file = path.join(dir, 'slow_1.0.tar.xz');
    await writeTarball(file, [{ name: 'slow-1.0/zeros', zeros: 16 * 1024 * 1024 }]);
    await unsafe(
      [{ name: 'slow_1.0.tar.xz', path: file }],
      /^slow_1\.0\.tar\.xz: listing the source tarballs took longer than 1 ms \(\d+ members, \d+ bytes so far\): debyard does not unpack source packages that large$/,
      { ...DEFAULT_TARBALL_LIMITS, timeoutMs: 1 },
    );
  });
});
