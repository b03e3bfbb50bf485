import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { MAIN, REPO, TestDaemon, type CliResult } from '../support/daemon.js';
import { buildSourcePackage } from '../support/packages.js';

const HELPER = '/usr/local/libexec/debyard/chroot-helper';
const CONF_DIR = '/etc/schroot/chroot.d';

interface ChrootRow {
  key: string;
  status: string;
  checkState: string;
  problem: string | null;
  fields: { name: string; value: unknown }[];
}

/** `debyard ARGS` with room for a chroot to be made (TestDaemon.cli stops after 30 s). */
async function cli(daemon: TestDaemon, args: string[], timeoutMs = 240_000): Promise<CliResult> {
  const r = await execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { DEBYARD_URL: daemon.httpUrl, DEBYARD_DATA_DIR: daemon.dataDir, DEBYARD_TOKEN: '' },
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function chroots(daemon: TestDaemon): Promise<ChrootRow[]> {
  const r = await cli(daemon, ['chroot', 'list', '--json']);
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const field = (row: ChrootRow, name: string) => row.fields.find((f) => f.name === name)?.value;

/** The schroot name the daemon gives `key` (its data directory is not the default one). */
function schrootName(daemon: TestDaemon, key: string): string {
  const tag = createHash('sha256').update(path.resolve(daemon.dataDir)).digest('hex').slice(0, 8);
  return `debyard-${tag}-${key}`;
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/** What schroot lists: `chroot:NAME`, `source:NAME` and, with `sessions`, `session:NAME-uuid`. */
async function schrootList(sessions = false): Promise<string[]> {
  const r = await execa('schroot', ['-l', ...(sessions ? ['--all-sessions'] : [])], { cwd: '/', reject: false });
  return String(r.stdout).split('\n').filter(Boolean);
}

/** Removes whatever chroot of this daemon a failed test left, through the helper as the daemon user. */
async function removeLeftovers(daemon: TestDaemon): Promise<void> {
  const prefix = schrootName(daemon, '');
  for (const f of await fs.readdir(CONF_DIR)) {
    if (!f.startsWith(prefix) || !f.endsWith('.conf')) continue;
    const name = f.slice(0, -'.conf'.length);
    const dir = path.join(daemon.dataDir, 'chroots', name.slice(prefix.length));
    await execa('runuser', ['-u', 'debyard', '--', 'sudo', '-n', HELPER, 'remove', name, dir], {
      cwd: '/',
      reject: false,
    });
  }
}

/** Runs the daemon's start-up clean-up as the daemon user, as `debyard serve` does after a crash. */
async function cleanupAfterCrash(dataDir: string): Promise<CliResult> {
  const ops = path.join(REPO, 'server/dist/chroot/chroot-ops.js');
  const script = `const m = await import(${JSON.stringify(ops)});
    const log = (level) => (o, msg) => console.log(level, msg ?? '', JSON.stringify(o));
    await m.cleanupAfterCrash(${JSON.stringify(dataDir)}, { info: log('info'), warn: log('warn') });`;
  const r = await execa('runuser', ['-u', 'debyard', '--', process.execPath, '--input-type=module', '-e', script], {
    cwd: '/',
    reject: false,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('chroots: setup --chroots, a build can enter it, check, crash clean-up, remove, unshare', () => {
  let daemon: TestDaemon;
  let name: string;
  let dir: string;

  before(async () => {
    daemon = await TestDaemon.start();
    name = schrootName(daemon, 'bookworm-amd64');
    dir = path.join(daemon.dataDir, 'chroots', 'bookworm-amd64');
  });
  after(async () => {
    if (daemon) await removeLeftovers(daemon);
    await daemon?.dispose();
  });

  it('setup --chroots --apply makes an active schroot chroot with debhelper, entered without /build', async () => {
    const dry = await cli(daemon, ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--chroots', '--json']);
    assert.equal(dry.exitCode, 0, dry.stderr);
    const planned = (JSON.parse(dry.stdout).entries as { kind: string; key: string; state: string }[]).find(
      (e) => e.kind === 'CHROOT',
    );
    assert.deepEqual(planned && [planned.key, planned.state], ['bookworm-amd64', 'MISSING']);

    const r = await cli(daemon, ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--chroots', '--apply']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /chroot\s+bookworm-amd64\s+CREATED/);
    const [c] = await chroots(daemon);
    assert.deepEqual([c!.key, c!.status, c!.checkState], ['bookworm-amd64', 'ACTIVE', 'CHECKED']);
    assert.equal(field(c!, 'backend'), 'SCHROOT');
    assert.equal(field(c!, 'source'), 'Debian:bookworm');
    assert.equal(field(c!, 'phase'), null);
    assert.ok(Number(field(c!, 'sizeBytes')) > 300e6, `size ${String(field(c!, 'sizeBytes'))}`);
    assert.ok(field(c!, 'refreshedAt'));

    assert.ok((await schrootList()).includes(`chroot:${name}`));
    const conf = await fs.readFile(path.join(CONF_DIR, `${name}.conf`), 'utf8');
    assert.match(conf, /^profile=debyard$/m);
    assert.match(conf, /^union-type=overlay$/m);
    assert.equal((await fs.stat(dir)).uid, 0, 'the chroot belongs to root');
    // The daemon user (group sbuild) enters it the way sbuild does; /build is not bound from the host.
    const dpkg = await execa(
      'runuser',
      [
        '-u',
        'debyard',
        '--',
        'schroot',
        '-c',
        name,
        '-d',
        '/',
        '--',
        'sh',
        '-c',
        'dpkg -s debhelper fakeroot && ls /build',
      ],
      { cwd: '/', reject: false },
    );
    assert.match(String(dpkg.stdout), /Package: debhelper\nStatus: install ok installed/);
    assert.match(String(dpkg.stdout), /Package: fakeroot\nStatus: install ok installed/);
    assert.match(String(dpkg.stderr), /cannot access '\/build'/);
    const lists = await fs.readdir(path.join(dir, 'var/lib/apt/lists'));
    assert.ok(
      lists.some((f) => f.endsWith('_bookworm_main_binary-amd64_Packages')),
      'apt lists are kept',
    );

    const log = await fs.readFile(path.join(daemon.dataDir, 'chroots', 'bookworm-amd64.log'), 'utf8');
    assert.match(log, /^== updating bookworm-amd64 \(SCHROOT\) at \d{4}-/, 'the last operation was the check');
  });

  it('check updates and upgrades it, its log shown live by `debyard chroot check`', async () => {
    const r = await cli(daemon, ['chroot', 'check', 'bookworm-amd64']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /chroot bookworm-amd64: active\/checked/);
    assert.match(r.stderr, /== updating bookworm-amd64 \(SCHROOT\)/);
    assert.match(
      r.stderr,
      /apt-get update, dist-upgrade, clean\nGet:1 http:\/\/deb\.debian\.org\/debian bookworm InRelease/,
    );
    assert.match(r.stderr, /\d+ upgraded, \d+ newly installed/);
    assert.match(r.stderr, /== done in/);
    const shown = await cli(daemon, ['chroot', 'log', 'bookworm-amd64']);
    assert.equal(shown.exitCode, 0, shown.stderr);
    assert.match(shown.stdout, /^== updating bookworm-amd64/);
  });

  it('after a crash, start-up ends this instance’s stale sessions and removes its sbuild temp dirs', async () => {
    const session = String((await execa('schroot', ['-b', '-c', name], { cwd: '/' })).stdout).trim();
    assert.ok((await schrootList(true)).includes(`session:${session}`));
    const tag = schrootName(daemon, '').slice('debyard-'.length, -1);
    const ours = `/dev/shm/tmp.sbuild.debyard-${tag}.abcdefghij`;
    const foreign = '/dev/shm/tmp.sbuild.Zyxwvutsrq';
    for (const d of [ours, foreign]) {
      await fs.mkdir(path.join(d, 'etc'), { recursive: true });
      await fs.writeFile(path.join(d, 'etc', 'passwd'), 'x');
      await execa('chown', ['-R', 'debyard:debyard', d]);
    }
    // Unpacked chroots hold files of the daemon user's subordinate ids.
    await execa('chown', ['100001:100001', path.join(ours, 'etc', 'passwd')]);
    try {
      const r = await cleanupAfterCrash(daemon.dataDir);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.ok(!(await schrootList(true)).includes(`session:${session}`), r.stdout);
      assert.equal(await exists(ours), false, r.stdout);
      assert.equal(await exists(foreign), true, 'another instance’s directory is left alone');
      assert.ok((await schrootList()).includes(`chroot:${name}`), 'the chroot itself stays');
    } finally {
      await fs.rm(ours, { recursive: true, force: true });
      await fs.rm(foreign, { recursive: true, force: true });
    }
  });

  it('remove deletes the directory and its schroot configuration', async () => {
    const r = await cli(daemon, ['chroot', 'remove', 'bookworm-amd64']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /== removing bookworm-amd64/);
    const [c] = await chroots(daemon);
    assert.equal(c!.status, 'REMOVED');
    assert.equal(await exists(dir), false);
    assert.equal(await exists(path.join(CONF_DIR, `${name}.conf`)), false);
    assert.ok(!(await schrootList()).includes(`chroot:${name}`));
  });

  it('the UNSHARE backend makes a rootless tarball owned by the daemon user', async () => {
    const set = await cli(daemon, ['chroot', 'set', 'bookworm-amd64', 'backend=unshare']);
    assert.equal(set.exitCode, 0, set.stderr);
    const r = await cli(daemon, ['chroot', 'pca', 'bookworm-amd64']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /mmdebstrap --mode=unshare/);
    const tarball = path.join(daemon.dataDir, 'chroots', 'bookworm-amd64.tar.zst');
    const st = await fs.stat(tarball);
    assert.equal(st.uid, 999, 'made as the daemon user');
    const [c] = await chroots(daemon);
    assert.deepEqual([c!.status, c!.checkState, field(c!, 'sizeBytes')], ['ACTIVE', 'CHECKED', st.size]);
    const members = await execa('tar', ['--zstd', '-tf', tarball], { maxBuffer: 64e6 });
    const names = String(members.stdout).split('\n');
    assert.ok(names.includes('./usr/bin/dh'), 'debhelper is in it');
    assert.ok(names.includes('./etc/apt/trusted.gpg.d/debyard-source.gpg'), 'the source’s keyring is in it');
    assert.ok(
      names.some((n) => n.endsWith('_bookworm_main_binary-amd64_Packages')),
      'apt lists are kept',
    );
    assert.deepEqual(
      (await fs.readdir(path.join(daemon.dataDir, 'chroots'))).filter((f) => f.startsWith('.')),
      [],
      'no temporary files',
    );

    // sbuild's unshare mode builds in it, rootless, unpacked on /dev/shm under this instance's name.
    const sources = await fs.mkdtemp(path.join(path.dirname(daemon.dataDir), 'sources-'));
    await fs.chmod(sources, 0o755);
    const dsc = await buildSourcePackage('hello-c', sources);
    const built = await cli(
      daemon,
      ['test-build', dsc, '-d', 'bookworm', '-a', 'amd64', '--follow', '--json'],
      600_000,
    );
    assert.equal(built.exitCode, 0, built.stdout + built.stderr);
    const ended = JSON.parse(built.stdout) as { result: string; logUrl: string };
    assert.equal(ended.result, 'SUCCESSFUL');
    const log = await (await fetch(`${daemon.httpUrl}${ended.logUrl}`)).text();
    assert.match(log, /--chroot-mode=unshare/);
    assert.deepEqual(
      (await fs.readdir('/dev/shm')).filter((f) => f.startsWith('tmp.sbuild.debyard-')),
      [],
      'sbuild cleaned up its unpacked chroot',
    );

    const removed = await cli(daemon, ['chroot', 'remove', 'bookworm-amd64']);
    assert.equal(removed.exitCode, 0, removed.stderr);
    assert.equal(await exists(tarball), false);
  });
});

/** A mirror on loopback that has Debian's real bookworm InRelease (so the source checks) and nothing else. */
async function releaseOnlyMirror(): Promise<{ url: string; close(): Promise<void> }> {
  const res = await fetch('http://deb.debian.org/debian/dists/bookworm/InRelease');
  assert.equal(res.status, 200);
  const inRelease = Buffer.from(await res.arrayBuffer());
  const server = http.createServer((req, reply) => {
    if (req.url === '/debian/dists/bookworm/InRelease') reply.end(inRelease);
    else reply.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian/`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('chroot bad inputs: precise errors, nothing left behind', () => {
  let daemon: TestDaemon;
  let mirror: { url: string; close(): Promise<void> };
  let chrootsDir: string;

  before(async () => {
    mirror = await releaseOnlyMirror();
    daemon = await TestDaemon.start();
    chrootsDir = path.join(daemon.dataDir, 'chroots');
    const r = await cli(daemon, [
      'setup',
      '--codename',
      'bookworm',
      '--arch',
      'amd64',
      '--mirror',
      mirror.url,
      '--apply',
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });
  after(async () => {
    await mirror?.close();
    if (daemon) await removeLeftovers(daemon);
    await daemon?.dispose();
  });

  /** Nothing of chroot `key` on disk but its log, and no schroot configuration of this daemon. */
  async function assertNothingLeft(): Promise<void> {
    const files = await fs.readdir(chrootsDir).catch(() => [] as string[]);
    assert.deepEqual(
      files.filter((f) => !f.endsWith('.log')),
      [],
    );
    const prefix = schrootName(daemon, '');
    assert.deepEqual(
      (await fs.readdir(CONF_DIR)).filter((f) => f.startsWith(prefix)),
      [],
    );
  }

  it('refuses an unknown architecture or codename, naming the valid ones, and creates nothing', async () => {
    const arch = await cli(daemon, ['chroot', 'create', 'bookworm-vax']);
    assert.equal(arch.exitCode, 1);
    assert.match(arch.stderr, /architecture: source Debian:bookworm has no architecture "vax"; it has .*amd64.*arm64/);
    const codename = await cli(daemon, ['chroot', 'create', 'trixie-amd64']);
    assert.equal(codename.exitCode, 1);
    assert.match(codename.stderr, /no source has the codename of "trixie-amd64"; sources: Debian:bookworm/);
    const junk = await cli(daemon, ['chroot', 'create', 'Bookworm_amd64']);
    assert.match(junk.stderr, /"Bookworm_amd64" is not CODENAME-ARCH, e.g. bookworm-amd64/);
    assert.deepEqual(await chroots(daemon), []);
    await assertNothingLeft();
  });

  it('a mirror without packages: mmdebstrap’s error names the URL; the half-made chroot is removed', async () => {
    const created = await cli(daemon, ['chroot', 'create', 'bookworm-amd64']);
    assert.equal(created.exitCode, 0, created.stderr);
    const r = await cli(daemon, ['chroot', 'prepare', 'bookworm-amd64']);
    assert.equal(r.exitCode, 1, r.stdout);
    const port = new URL(mirror.url).port;
    assert.match(
      r.stderr,
      new RegExp(`prepare of chroot bookworm-amd64 failed: .*127\\.0\\.0\\.1:${port}/debian.*404`),
    );
    const [c] = await chroots(daemon);
    assert.deepEqual([c!.status, c!.checkState, field(c!, 'phase')], ['REMOVED', 'FAILED', null]);
    assert.match(c!.problem!, /404/);
    await assertNothingLeft();
  });

  it('an unreachable mirror: the error names the URL, for both backends, and nothing is made', async () => {
    await mirror.close();
    for (const backend of ['schroot', 'unshare']) {
      assert.equal((await cli(daemon, ['chroot', 'set', 'bookworm-amd64', `backend=${backend}`])).exitCode, 0);
      const r = await cli(daemon, ['chroot', 'prepare', 'bookworm-amd64']);
      assert.equal(r.exitCode, 1, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(`the mirror ${mirror.url.replace(/[.]/g, '\\.')} is unreachable \\(ECONNREFUSED`),
        backend,
      );
      await assertNothingLeft();
    }
  });
});
