import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { pino } from 'pino';
import { byHashPath, keptGenerations, parseRelease, signHookScript, sweepByHash, type Generation } from './publish.js';
import { Reprepro, type RepreproDistribution } from './reprepro.js';
import { createThrowawayKey, stopGpgAgent, type ThrowawayKey } from './throwaway-key.js';

const quiet = pino({ level: process.env.DEBYARD_TEST_LOG ?? 'silent' });
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A Release as reprepro writes it, listing `files` (path → content). */
function releaseText(files: Record<string, string>, extra: string[] = []): string {
  const list = (hash: (s: string) => string) =>
    Object.entries(files).map(([name, content]) => ` ${hash(content)} ${Buffer.byteLength(content)} ${name}`);
  return [
    'Origin: Debyard archive test',
    'Codename: bookworm-test-unstable',
    'Date: Sun, 22 Nov 2026 03:51:39 UTC',
    ...extra,
    'Architectures: amd64',
    'Components: main',
    'MD5Sum:',
    ...list((s) => createHash('md5').update(s).digest('hex')),
    'SHA1:',
    ...list((s) => createHash('sha1').update(s).digest('hex')),
    'SHA256:',
    ...list(sha256),
    '',
  ].join('\n');
}

/** The text and the detached signature of a clearsigned document, for verifiers that take only detached ones (sqv 1.1). */
function splitClearsigned(signed: string): { text: string; signature: string } {
  const m =
    /^-----BEGIN PGP SIGNED MESSAGE-----\n(?:[^\n]+\n)*\n([\s\S]*?)\n(-----BEGIN PGP SIGNATURE-----\n[\s\S]*-----END PGP SIGNATURE-----\n?)$/.exec(
      signed,
    );
  if (!m) throw new Error('not a clearsigned document');
  // The line break before the signature is not part of the signed text.
  return { text: m[1]!.replace(/^- /gm, ''), signature: m[2]! };
}

describe('parseRelease and byHashPath', () => {
  test('reads the SHA256 list, and names by-hash files next to each index', () => {
    const r = parseRelease(releaseText({ 'main/binary-amd64/Packages.xz': 'x', 'main/Contents-amd64.gz': 'c' }));
    assert.equal(r.paragraph.get('Codename'), 'bookworm-test-unstable');
    assert.deepEqual(r.sha256, [
      { sha256: sha256('x'), size: 1, path: 'main/binary-amd64/Packages.xz' },
      { sha256: sha256('c'), size: 1, path: 'main/Contents-amd64.gz' },
    ]);
    assert.deepEqual(r.sha256.map(byHashPath), [
      `main/binary-amd64/by-hash/SHA256/${sha256('x')}`,
      `main/by-hash/SHA256/${sha256('c')}`,
    ]);
    assert.equal(byHashPath({ path: 'Contents-all', sha256: 'ab' }), 'by-hash/SHA256/ab');
  });

  test('refuses a malformed SHA256 line', () => {
    assert.throws(() => parseRelease('Codename: x\nSHA256:\n nothex 1 main/Packages\n'), /bad SHA256 line/);
    assert.throws(() => parseRelease(`Codename: x\nSHA256:\n ${sha256('')} 0\n`), /bad SHA256 line/);
  });
});

describe('keptGenerations', () => {
  const gen = (n: number, minutesAgo: number): Generation => ({
    release: String(n),
    since: new Date(Date.UTC(2026, 0, 1, 12, 0) - minutesAgo * 60_000).toISOString(),
    files: [],
  });
  const now = new Date(Date.UTC(2026, 0, 1, 12, 0));

  test('keeps the newest three, and every generation replaced less than an hour ago', () => {
    // Newest first: 5 published now, 4 ten minutes ago, … 1 published two days ago, replaced 70 minutes ago.
    const history = [gen(5, 0), gen(4, 10), gen(3, 20), gen(2, 59), gen(1, 70), gen(0, 2880)];
    // 2 was replaced by 3 twenty minutes ago: kept; 1 was replaced by 2 59 minutes ago: kept; 0 by 1 70 minutes ago: gone.
    assert.deepEqual(
      keptGenerations(history, now).map((g) => g.release),
      ['5', '4', '3', '2', '1'],
    );
  });

  test('keeps three even when all were replaced long ago', () => {
    const history = [gen(3, 600), gen(2, 1200), gen(1, 1800), gen(0, 2400)];
    assert.deepEqual(
      keptGenerations(history, now).map((g) => g.release),
      ['3', '2', '1'],
    );
  });
});

describe('the sign hook', () => {
  let tmp: string;
  let key: ThrowawayKey;
  let hook: string;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'debyard-publish-'));
    key = await createThrowawayKey(tmp);
    hook = path.join(tmp, 'hook');
    await writeFile(hook, signHookScript({ fingerprint: key.fingerprint, gnupgHome: key.gnupgHome }));
    await chmod(hook, 0o755);
  });
  after(async () => {
    await stopGpgAgent(key);
    await rm(tmp, { recursive: true, force: true });
  });

  /** A distribution directory in the middle of a reprepro export: some indices new (`.new`), some unchanged. */
  async function exporting(name: string, extra: string[] = []) {
    const dir = path.join(tmp, name);
    const files = {
      'main/binary-amd64/Packages': 'Package: hello\n',
      'main/binary-amd64/Packages.gz': 'gz',
      'main/source/Sources': 'Package: hello\nBinary: hello\n',
      'main/Contents-amd64.gz': '',
    };
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      // Packages is new in this export; Sources is unchanged (reprepro writes no .new for it) but a
      // crashed export left a Sources.new with other content, which must not be taken.
      const name = file.includes('binary-amd64') ? `${file}.new` : file;
      await writeFile(path.join(dir, name), content);
    }
    await writeFile(path.join(dir, 'main/source/Sources.new'), 'stale\n');
    await writeFile(path.join(dir, 'Release.new'), releaseText(files, extra));
    const run = () =>
      execa(hook, [`${dir}/Release.new`, `${dir}/InRelease.new`, `${dir}/Release.gpg.new`], { reject: false });
    return { dir, files, run };
  }

  test('links every listed index to by-hash, adds Acquire-By-Hash, signs InRelease and Release.gpg', async () => {
    const { dir, files, run } = await exporting('dist', ['Valid-Until: Sun, 29 Nov 2026 03:51:39 UTC']);
    const r = await run();
    assert.equal(r.exitCode, 0, r.stderr);

    for (const [file, content] of Object.entries(files)) {
      const target = path.join(dir, byHashPath({ path: file, sha256: sha256(content) }));
      assert.equal(await readFile(target, 'utf8'), content, file);
      const source = file.includes('binary-amd64') ? `${file}.new` : file;
      // A hard link to the very file reprepro renames into place.
      assert.equal((await stat(target)).ino, (await stat(path.join(dir, source))).ino, file);
    }
    for (const sub of ['main/binary-amd64', 'main/source', 'main'])
      assert.ok(
        (await readdir(path.join(dir, sub, 'by-hash/SHA256'))).every((n) => /^[0-9a-f]{64}$/.test(n)),
        `no temporary files left in ${sub}`,
      );

    const release = await readFile(path.join(dir, 'Release.new'), 'utf8');
    const lines = release.split('\n');
    assert.equal(lines.indexOf('Acquire-By-Hash: yes'), lines.indexOf('MD5Sum:') - 1);
    assert.match(release, /^Date: /m);
    assert.match(release, /^Valid-Until: /m);
    assert.equal(parseRelease(release).sha256.length, 4);

    const inRelease = await readFile(path.join(dir, 'InRelease.new'), 'utf8');
    const gpgv = await execa('gpgv', ['--keyring', key.keyring, '--output', '-', path.join(dir, 'InRelease.new')], {
      reject: false,
    });
    assert.equal(gpgv.exitCode, 0, gpgv.stderr);
    assert.equal(gpgv.stdout + '\n', release);
    assert.match(inRelease, /^Hash: SHA512$/m);
    const detached = await execa(
      'gpgv',
      ['--keyring', key.keyring, path.join(dir, 'Release.gpg.new'), path.join(dir, 'Release.new')],
      { reject: false },
    );
    assert.equal(detached.exitCode, 0, detached.stderr);

    // Run again (a re-export with nothing new): still one Acquire-By-Hash, nothing re-linked.
    assert.equal((await run()).exitCode, 0);
    assert.equal((await readFile(path.join(dir, 'Release.new'), 'utf8')).match(/^Acquire-By-Hash:/gm)?.length, 1);
  });

  // sqv is one of the test packages scripts/setup.sh installs (scripts/debian-packages): no skipping.
  test('sqv verifies Release.gpg and InRelease', async () => {
    const { dir, run } = await exporting('sqv');
    assert.equal((await run()).exitCode, 0);
    const detached = await execa(
      'sqv',
      ['--keyring', key.keyring, path.join(dir, 'Release.gpg.new'), path.join(dir, 'Release.new')],
      { reject: false },
    );
    assert.equal(detached.exitCode, 0, detached.stderr);
    const { text, signature } = splitClearsigned(await readFile(path.join(dir, 'InRelease.new'), 'utf8'));
    assert.equal(`${text}\n`, await readFile(path.join(dir, 'Release.new'), 'utf8'));
    await writeFile(path.join(dir, 'inline.txt'), text);
    await writeFile(path.join(dir, 'inline.asc'), signature);
    const inline = await execa(
      'sqv',
      ['--keyring', key.keyring, path.join(dir, 'inline.asc'), path.join(dir, 'inline.txt')],
      { reject: false },
    );
    assert.equal(inline.exitCode, 0, inline.stderr);
    await writeFile(path.join(dir, 'inline.txt'), text.replace('Components: main', 'Components: evil'));
    const tampered = await execa(
      'sqv',
      ['--keyring', key.keyring, path.join(dir, 'inline.asc'), path.join(dir, 'inline.txt')],
      { reject: false },
    );
    assert.notEqual(tampered.exitCode, 0);
  });

  test('a snapshot loses Valid-Until: it is never signed again and must not expire', async () => {
    const { dir, run } = await exporting('dist2/snapshots/weekly', ['Valid-Until: Sun, 29 Nov 2026 03:51:39 UTC']);
    assert.equal((await run()).exitCode, 0);
    const release = await readFile(path.join(dir, 'Release.new'), 'utf8');
    assert.doesNotMatch(release, /Valid-Until/);
    assert.match(release, /^Acquire-By-Hash: yes$/m);
  });

  test('skips a listed form reprepro does not write (uncompressed Contents)', async () => {
    const { dir, run } = await exporting('unwritten');
    await rm(path.join(dir, 'main/Contents-amd64.gz'));
    assert.equal((await run()).exitCode, 0);
    assert.equal(await stat(path.join(dir, 'main/by-hash')).catch(() => null), null);
  });

  test('fails, writing no signature, when a listed index differs, or its path leaves the directory', async () => {
    const differs = await exporting('differs');
    await writeFile(path.join(differs.dir, 'main/binary-amd64/Packages.gz.new'), 'other');
    const r1 = await differs.run();
    assert.notEqual(r1.exitCode, 0);
    assert.match(r1.stderr, /main\/binary-amd64\/Packages\.gz does not have the SHA256 [0-9a-f]{64} the Release lists/);
    assert.equal(await stat(path.join(differs.dir, 'InRelease.new')).catch(() => null), null);

    const escape = await exporting('escape');
    const text = await readFile(path.join(escape.dir, 'Release.new'), 'utf8');
    await writeFile(
      path.join(escape.dir, 'Release.new'),
      text.replace(/^ ([0-9a-f]{64}) (\d+) main\/source\/Sources$/m, ' $1 $2 main/../../../etc/passwd'),
    );
    const r2 = await escape.run();
    assert.notEqual(r2.exitCode, 0);
    assert.match(r2.stderr, /unsafe index path 'main\/..\/..\/..\/etc\/passwd'/);
  });

  test('refuses a fingerprint or GNUPGHOME it could not write safely', () => {
    assert.throws(() => signHookScript({ fingerprint: 'nope', gnupgHome: '/x' }), /not a key fingerprint/);
    assert.throws(
      () => signHookScript({ fingerprint: key.fingerprint, gnupgHome: 'relative' }),
      /must be an absolute path/,
    );
    assert.match(
      signHookScript({ fingerprint: key.fingerprint, gnupgHome: "/it's/here" }),
      /^my \$gnupghome = '\/it\\'s\/here';$/m,
    );
  });
});

describe('sweepByHash', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'debyard-sweep-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /** Publishes a generation: the index with `content`, its by-hash file, and a Release listing it. */
  async function publish(dir: string, content: string): Promise<string> {
    const file = 'main/binary-amd64/Packages';
    const target = path.join(dir, byHashPath({ path: file, sha256: sha256(content) }));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    await writeFile(path.join(dir, 'Release'), releaseText({ [file]: content }));
    return path.basename(target);
  }

  test('keeps the by-hash files of the kept generations, deletes older ones, and leaves snapshots alone', async () => {
    const dir = path.join(tmp, 'dist');
    const history = path.join(tmp, 'history', 'dist.json');
    const t0 = Date.UTC(2026, 0, 1);
    const at = (minutes: number) => new Date(t0 + minutes * 60_000);
    await mkdir(path.join(dir, 'snapshots/old/main/binary-amd64/by-hash/SHA256'), { recursive: true });
    await writeFile(path.join(dir, 'snapshots/old/main/binary-amd64/by-hash/SHA256', sha256('snap')), 'snap');

    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      names.push(await publish(dir, `generation ${i}\n`));
      // Minutes 0…5 apart by one minute: all replaced less than an hour ago at minute 5.
      const r = await sweepByHash(dir, history, at(i));
      assert.equal(r.newGeneration, true);
      assert.deepEqual(r.removed, []);
    }
    // Nothing new: nothing to do.
    assert.deepEqual(await sweepByHash(dir, history, at(6)), { newGeneration: false, removed: [] });

    // Two hours later a new generation: the newest three stay, generation 5 was replaced just now, the
    // others long ago (and their inodes are old enough by then).
    names.push(await publish(dir, 'generation 6\n'));
    const later = new Date(Date.now() + 2 * 3600_000);
    const r = await sweepByHash(dir, history, later);
    assert.equal(r.newGeneration, true);
    assert.deepEqual(
      r.removed.sort(),
      names
        .slice(0, 4)
        .map((n) => `main/binary-amd64/by-hash/SHA256/${n}`)
        .sort(),
    );
    assert.deepEqual((await readdir(path.join(dir, 'main/binary-amd64/by-hash/SHA256'))).sort(), names.slice(4).sort());
    assert.equal(
      await readFile(path.join(dir, 'snapshots/old/main/binary-amd64/by-hash/SHA256', sha256('snap')), 'utf8'),
      'snap',
    );
    const kept = JSON.parse(await readFile(history, 'utf8')) as { generations: Generation[] };
    assert.equal(kept.generations.length, 3);
  });

  test('keeps a file no generation names until its inode is an hour old', async () => {
    const dir = path.join(tmp, 'unknown');
    const history = path.join(tmp, 'history', 'unknown.json');
    await publish(dir, 'one\n');
    const stray = path.join(dir, 'main/binary-amd64/by-hash/SHA256', sha256('from a manual export\n'));
    await writeFile(stray, 'from a manual export\n');
    assert.deepEqual((await sweepByHash(dir, history)).removed, []);
    await publish(dir, 'two\n');
    const r = await sweepByHash(dir, history, new Date(Date.now() + 2 * 3600_000));
    assert.deepEqual(r.removed, [`main/binary-amd64/by-hash/SHA256/${sha256('from a manual export\n')}`]);
  });

  test('a distribution that was never exported is no generation', async () => {
    assert.deepEqual(await sweepByHash(path.join(tmp, 'nothing'), path.join(tmp, 'history', 'nothing.json')), {
      newGeneration: false,
      removed: [],
    });
  });
});

describe('Reprepro publishes by-hash through the hook', () => {
  let tmp: string;
  let key: ThrowawayKey;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'debyard-publish-reprepro-'));
    key = await createThrowawayKey(tmp);
  });
  after(async () => {
    await stopGpgAgent(key);
    await rm(tmp, { recursive: true, force: true });
  });

  const dist = (suite: string, validFor?: string): RepreproDistribution => ({
    codename: `bookworm-test-${suite}`,
    origin: 'Debyard archive test',
    components: ['main'],
    architectures: ['amd64'],
    description: `bookworm-test-${suite}`,
    notAutomatic: false,
    butAutomaticUpgrades: false,
    signWith: key.fingerprint,
    ...(validFor ? { validFor } : {}),
  });

  async function deb(version: string): Promise<string> {
    const root = path.join(tmp, `pkg-${version}`);
    await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
    await writeFile(
      path.join(root, 'DEBIAN/control'),
      `Package: hello\nVersion: ${version}\nArchitecture: amd64\nMaintainer: T <t@example.invalid>\nSection: misc\nPriority: optional\nDescription: test\n`,
    );
    const file = path.join(tmp, `hello_${version}_amd64.deb`);
    await execa('dpkg-deb', ['--build', root, file]);
    return file;
  }

  /** Checks a published distribution the way apt would use it. */
  async function checkPublished(dir: string): Promise<string> {
    const release = await readFile(path.join(dir, 'Release'), 'utf8');
    assert.match(release, /^Acquire-By-Hash: yes$/m);
    assert.match(release, /^Date: /m);
    const gpgv = await execa('gpgv', ['--keyring', key.keyring, '--output', '-', path.join(dir, 'InRelease')]);
    assert.equal(gpgv.stdout + '\n', release, 'InRelease is the signed Release');
    await execa('gpgv', ['--keyring', key.keyring, path.join(dir, 'Release.gpg'), path.join(dir, 'Release')]);
    for (const e of parseRelease(release).sha256) {
      if (e.path === 'main/Contents-amd64') continue; // listed, never written (Contents: .gz)
      const content = await readFile(path.join(dir, byHashPath(e)));
      assert.equal(sha256(content), e.sha256, e.path);
      assert.equal(sha256(await readFile(path.join(dir, e.path))), e.sha256, `${e.path} itself`);
    }
    return release;
  }

  test('export, includes and removals all publish by-hash; older generations stay fetchable', async () => {
    const r = new Reprepro({ basedir: path.join(tmp, 'repo'), gnupgHome: key.gnupgHome, logger: quiet });
    await r.configure([dist('unstable', '7d'), dist('testing')]);
    const conf = await readFile(path.join(r.basedir, 'conf/distributions'), 'utf8');
    assert.match(conf, new RegExp(`^SignWith: ! ${r.basedir}/conf/debyard-sign-release$`, 'm'));
    await r.export();
    const unstable = path.join(r.basedir, 'dists/bookworm-test-unstable');
    assert.match(await checkPublished(unstable), /^Valid-Until: /m);
    assert.doesNotMatch(await checkPublished(path.join(r.basedir, 'dists/bookworm-test-testing')), /Valid-Until/);

    const packagesBefore = parseRelease(await readFile(path.join(unstable, 'Release'), 'utf8')).sha256.find(
      (e) => e.path === 'main/binary-amd64/Packages',
    )!;
    // An include exports on its own (reprepro's default --export=changed): the hook runs there too.
    await r.run(['includedeb', 'bookworm-test-unstable', await deb('1.0')]);
    await checkPublished(unstable);
    await r.run(['--export=silent-never', 'includedeb', 'bookworm-test-unstable', await deb('1.1')]);
    await r.run(['export', 'bookworm-test-unstable']);
    const release = await checkPublished(unstable);
    assert.match(await readFile(path.join(unstable, 'main/binary-amd64/Packages'), 'utf8'), /^Version: 1\.1$/m);
    // The empty Packages of the first export is still there by its hash, for a client that read its InRelease.
    assert.equal(await readFile(path.join(unstable, byHashPath(packagesBefore)), 'utf8'), '');
    assert.notEqual(
      parseRelease(release).sha256.find((e) => e.path === 'main/binary-amd64/Packages')!.sha256,
      packagesBefore.sha256,
    );
    const history = JSON.parse(
      await readFile(path.join(r.basedir, 'by-hash-history/bookworm-test-unstable.json'), 'utf8'),
    ) as { generations: Generation[] };
    assert.equal(history.generations.length, 3);
    assert.equal(history.generations[0]!.release, sha256(await readFile(path.join(unstable, 'Release'))));

    // The same configuration again changes nothing; a dropped distribution takes its history along.
    assert.deepEqual(await r.configure([dist('unstable', '7d'), dist('testing')]), { changed: false });
    await r.configure([dist('unstable', '7d')]);
    await r.export();
    assert.deepEqual(await readdir(path.join(r.basedir, 'by-hash-history')), ['bookworm-test-unstable.json']);
  });

  test('a publish that fails half way (signing) switches nothing: the old InRelease and its indices stay as they were', async () => {
    const basedir = path.join(tmp, 'failing');
    const good = new Reprepro({ basedir, gnupgHome: key.gnupgHome, logger: quiet });
    await good.configure([dist('unstable')]);
    await good.export();
    const unstable = path.join(basedir, 'dists/bookworm-test-unstable');
    const before = await checkPublished(unstable);
    const packages = await readFile(path.join(unstable, 'main/binary-amd64/Packages'));

    // Same repository, a GNUPGHOME without the key: the hook links the new indices, then cannot sign.
    const broken = new Reprepro({ basedir, gnupgHome: path.join(tmp, 'no-such-gnupghome'), logger: quiet });
    await broken.configure([dist('unstable')]);
    await assert.rejects(
      broken.run(['includedeb', 'bookworm-test-unstable', await deb('2.0')]),
      /Signing-hook .* returned with exit code/,
    );
    assert.equal(await readFile(path.join(unstable, 'Release'), 'utf8'), before);
    assert.deepEqual(await readFile(path.join(unstable, 'main/binary-amd64/Packages')), packages);
    await checkPublished(unstable);

    // Back to the key: the next export publishes what the failed one could not.
    await good.configure([dist('unstable')]);
    await good.export();
    await checkPublished(unstable);
    assert.match(await readFile(path.join(unstable, 'main/binary-amd64/Packages'), 'utf8'), /^Version: 2\.0$/m);
  });
});
