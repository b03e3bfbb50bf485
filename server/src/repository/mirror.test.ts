import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { pino } from 'pino';
import { InstanceKeyStore } from '../pgp/instance-key.js';
import { architectureOf, filterRelease, MIRROR_MARKER, poolFilesOf, targetDirectory, writeMirror } from './mirror.js';
import { byHashPath, parseRelease } from './publish.js';
import { Reprepro, type RepreproDistribution } from './reprepro.js';

const quiet = pino({ level: process.env.DEBYARD_TEST_LOG ?? 'silent' });

const RELEASE = `Origin: Debyard archive test
Codename: bookworm-test-unstable
Date: Sun, 22 Nov 2026 03:51:39 UTC
Acquire-By-Hash: yes
Architectures: amd64 i386
Components: main
MD5Sum:
 d41d8cd98f00b204e9800998ecf8427e 0 main/binary-amd64/Packages
 d41d8cd98f00b204e9800998ecf8427e 0 main/binary-i386/Packages
 d41d8cd98f00b204e9800998ecf8427e 0 main/source/Sources
 d41d8cd98f00b204e9800998ecf8427e 0 main/Contents-i386.gz
 d41d8cd98f00b204e9800998ecf8427e 0 main/Contents-udeb-i386.gz
SHA256:
 ${'a'.repeat(64)} 0 main/binary-amd64/Packages
 ${'b'.repeat(64)} 0 main/binary-i386/Packages
 ${'c'.repeat(64)} 0 main/source/Sources
 ${'d'.repeat(64)} 0 main/Contents-i386.gz
 ${'e'.repeat(64)} 0 main/Contents-udeb-i386.gz
`;

describe('architectureOf, filterRelease, poolFilesOf', () => {
  test('names the architecture of an index path', () => {
    assert.equal(architectureOf('main/binary-amd64/Packages.xz'), 'amd64');
    assert.equal(architectureOf('main/debian-installer/binary-i386/Packages'), 'i386');
    assert.equal(architectureOf('main/Contents-arm64.gz'), 'arm64');
    assert.equal(architectureOf('main/Contents-udeb-arm64'), 'arm64');
    assert.equal(architectureOf('main/source/Sources.xz'), null);
    assert.equal(architectureOf('main/i18n/Translation-en'), null);
  });

  test('drops the other architectures from every list and from Architectures', () => {
    const r = filterRelease(RELEASE, new Set(['amd64']));
    assert.equal(r.changed, true);
    assert.deepEqual(r.dropped, ['main/Contents-i386.gz', 'main/Contents-udeb-i386.gz', 'main/binary-i386/Packages']);
    assert.match(r.text, /^Architectures: amd64$/m);
    assert.doesNotMatch(r.text, /i386/);
    assert.match(r.text, /^Acquire-By-Hash: yes$/m);
    assert.deepEqual(
      parseRelease(r.text).sha256.map((e) => e.path),
      ['main/binary-amd64/Packages', 'main/source/Sources'],
    );
    assert.match(r.text, /^MD5Sum:\n d41d8cd98f00b204e9800998ecf8427e 0 main\/binary-amd64\/Packages\n/m);
  });

  test('keeps the text byte for byte when every architecture stays', () => {
    assert.deepEqual(filterRelease(RELEASE, new Set(['amd64', 'i386'])), {
      text: RELEASE,
      changed: false,
      dropped: [],
    });
  });

  test('reads pool files from Packages and Sources', () => {
    assert.deepEqual(
      poolFilesOf(
        'Package: a\nFilename: pool/main/a/a/a_1_amd64.deb\n\nPackage: b\nFilename: pool/main/b/b/b_1_all.deb\n',
        'Packages',
      ),
      ['pool/main/a/a/a_1_amd64.deb', 'pool/main/b/b/b_1_all.deb'],
    );
    assert.deepEqual(
      poolFilesOf('Package: a\nDirectory: pool/main/a/a\nFiles:\n 0123 10 a_1.dsc\n 4567 20 a_1.tar.xz\n', 'Sources'),
      ['pool/main/a/a/a_1.dsc', 'pool/main/a/a/a_1.tar.xz'],
    );
  });
});

describe('writeMirror and targetDirectory (real reprepro, the instance key)', () => {
  let tmp: string;
  let keys: InstanceKeyStore;
  let keyring: string;
  let reprepro: Reprepro;
  const dists: RepreproDistribution[] = [];

  async function deb(name: string, version: string, arch: string): Promise<string> {
    const root = path.join(tmp, `pkg-${name}-${arch}`);
    await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
    await writeFile(
      path.join(root, 'DEBIAN/control'),
      `Package: ${name}\nVersion: ${version}\nArchitecture: ${arch}\nMaintainer: T <t@example.invalid>\nSection: misc\nPriority: optional\nDescription: test\n`,
    );
    const file = path.join(tmp, `${name}_${version}_${arch}.deb`);
    await execa('dpkg-deb', ['--build', root, file]);
    return file;
  }

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'debyard-mirror-'));
    keys = new InstanceKeyStore({ keysDir: path.join(tmp, 'keys'), logger: quiet });
    const info = await keys.generate({ identity: 'mirrortest', email: 'm@example.invalid' });
    keyring = path.join(tmp, 'keyring.gpg');
    await writeFile(keyring, await keys.binaryPublicKey());
    reprepro = new Reprepro({
      basedir: path.join(tmp, 'data/repositories/test'),
      gnupgHome: keys.gnupgHome,
      logger: quiet,
    });
    for (const suite of ['unstable', 'testing'])
      dists.push({
        codename: `bookworm-test-${suite}`,
        origin: 'Debyard archive test',
        components: ['main'],
        architectures: ['amd64', 'i386'],
        description: suite,
        notAutomatic: false,
        butAutomaticUpgrades: false,
        signWith: info.fingerprint,
      });
    await reprepro.configure(dists);
    await reprepro.export();
    for (const [name, arch] of [
      ['tool', 'amd64'],
      ['tool', 'i386'],
      ['docs', 'all'],
    ] as const)
      await reprepro.run(['includedeb', 'bookworm-test-unstable', await deb(name, '1.0', arch)]);
    await reprepro.run(['includedeb', 'bookworm-test-testing', await deb('old', '0.9', 'amd64')]);
  });
  after(async () => {
    await execa('gpgconf', ['--homedir', keys.gnupgHome, '--kill', 'gpg-agent'], { reject: false });
    await rm(tmp, { recursive: true, force: true });
  });

  const plan = (names: string[], architectures: string[], target: string) => ({
    repository: 'test',
    dists: dists
      .filter((d) => names.includes(d.codename))
      .map((d) => ({ name: d.codename, architectures: d.architectures })),
    architectures,
    target,
  });

  async function gpgv(...args: string[]) {
    return execa('gpgv', ['--keyring', keyring, ...args], { reject: false });
  }

  /** Everything apt needs is there: signatures good, every listed index and its by-hash copy, every pool file. */
  async function checkCopy(dir: string, name: string): Promise<string> {
    const d = path.join(dir, 'dists', name);
    assert.equal((await gpgv(path.join(d, 'InRelease'))).exitCode, 0, `${name}/InRelease`);
    assert.equal((await gpgv(path.join(d, 'Release.gpg'), path.join(d, 'Release'))).exitCode, 0, `${name}/Release.gpg`);
    const release = await readFile(path.join(d, 'Release'), 'utf8');
    for (const e of parseRelease(release).sha256) {
      if (/Contents-[a-z0-9]+$/.test(e.path)) continue; // listed uncompressed, written compressed only
      const hash = (f: string) => readFile(f).then((b) => createHash('sha256').update(b).digest('hex'));
      assert.equal(await hash(path.join(d, e.path)), e.sha256, e.path);
      assert.equal(await hash(path.join(d, byHashPath(e))), e.sha256, `by-hash of ${e.path}`);
      if (e.path.endsWith('/Packages'))
        for (const f of poolFilesOf(await readFile(path.join(d, e.path), 'utf8'), 'Packages'))
          assert.ok((await stat(path.join(dir, f))).isFile(), f);
    }
    return release;
  }

  test('copies everything whole, signatures untouched, then narrows a copy to one architecture and signs it again', async () => {
    const whole = path.join(tmp, 'www/whole');
    await mkdir(whole, { recursive: true });
    const r = await writeMirror(
      reprepro,
      keys,
      plan(['bookworm-test-unstable', 'bookworm-test-testing'], ['amd64', 'i386'], whole),
    );
    assert.deepEqual(r.resigned, []);
    assert.equal(r.poolFiles, 4);
    assert.ok(r.bytes > 0);
    for (const name of ['bookworm-test-unstable', 'bookworm-test-testing']) {
      await checkCopy(whole, name);
      assert.equal(
        await readFile(path.join(whole, 'dists', name, 'InRelease'), 'utf8'),
        await readFile(path.join(reprepro.basedir, 'dists', name, 'InRelease'), 'utf8'),
      );
    }
    assert.deepEqual(JSON.parse(await readFile(path.join(whole, MIRROR_MARKER), 'utf8')).repository, 'test');
    // Only what apt needs: no conf/, no db/, no history, no staging left behind.
    assert.deepEqual((await readdir(whole)).sort(), [MIRROR_MARKER, 'dists', 'pool']);
    assert.equal((await readdir(reprepro.basedir)).filter((n) => n.startsWith('.mirror-')).length, 0);

    const amd64 = path.join(tmp, 'www/amd64');
    const n = await writeMirror(reprepro, keys, plan(['bookworm-test-unstable'], ['amd64'], amd64));
    assert.deepEqual(n.resigned, ['bookworm-test-unstable']);
    const release = await checkCopy(amd64, 'bookworm-test-unstable');
    assert.match(release, /^Architectures: amd64$/m);
    assert.doesNotMatch(release, /i386/);
    assert.equal(await stat(path.join(amd64, 'dists/bookworm-test-unstable/main/binary-i386')).catch(() => null), null);
    const pool = await readdir(path.join(amd64, 'pool/main'), { recursive: true });
    assert.ok(pool.some((f) => f.endsWith('tool_1.0_amd64.deb')) && pool.some((f) => f.endsWith('docs_1.0_all.deb')));
    assert.ok(!pool.some((f) => f.includes('i386')) && !pool.some((f) => f.includes('old_')));
    // The published files were replaced in the copy, not written through the hard links.
    assert.match(await readFile(path.join(reprepro.basedir, 'dists/bookworm-test-unstable/Release'), 'utf8'), /i386/);
    if ((await execa('sqv', ['--version'], { reject: false })).exitCode === 0) {
      const sqv = await execa(
        'sqv',
        [
          '--keyring',
          keyring,
          ...['Release.gpg', 'Release'].map((f) => path.join(amd64, 'dists/bookworm-test-unstable', f)),
        ],
        { reject: false },
      );
      assert.equal(sqv.exitCode, 0, sqv.stderr);
    }

    // Mirroring less into the first copy: what is no longer chosen goes, dists and pool.
    await writeMirror(reprepro, keys, plan(['bookworm-test-testing'], ['amd64', 'i386'], whole));
    assert.deepEqual(await readdir(path.join(whole, 'dists')), ['bookworm-test-testing']);
    const left = (await readdir(path.join(whole, 'pool'), { recursive: true })).filter((f) => f.endsWith('.deb'));
    assert.deepEqual(
      left.map((f) => path.basename(f)),
      ['old_0.9_amd64.deb'],
    );
  });

  test('refuses a relative path, the data directory, and a directory that is not empty and no mirror', async () => {
    const dataDir = path.join(tmp, 'data');
    await assert.rejects(targetDirectory('www/x', dataDir), /not an absolute path/);
    await assert.rejects(
      targetDirectory(path.join(dataDir, 'repositories/x'), dataDir),
      /inside the daemon's data directory/,
    );
    await assert.rejects(targetDirectory(tmp, dataDir), /contains it/);
    const busy = path.join(tmp, 'busy');
    await mkdir(busy);
    await writeFile(path.join(busy, 'precious.txt'), 'mine');
    await assert.rejects(targetDirectory(busy, dataDir), (err: Error & { extensions?: { code?: string } }) => {
      assert.equal(err.extensions?.code, 'MIRROR_DIRECTORY_IN_USE');
      assert.match(err.message, /neither empty nor an earlier mirror/);
      return true;
    });
    const fresh = path.join(tmp, 'fresh/deeper');
    assert.equal(await targetDirectory(fresh, dataDir), fresh);
    assert.ok((await stat(fresh)).isDirectory());
  });
});
