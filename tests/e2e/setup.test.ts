import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { aptUpdate } from '../support/apt.js';
import { MAIN, TestDaemon } from '../support/daemon.js';
import { freePort } from '../support/postgres.js';

interface Row {
  key: string;
  status: string | null;
  checkState: string | null;
  problem: string | null;
}

/** The whole configuration as a comparable snapshot (state and every field of every object). */
async function snapshot(daemon: TestDaemon): Promise<string> {
  const kinds = ['DAEMON', 'ARCHIVE', 'APT_KEY', 'SOURCE', 'LAYOUT', 'DISTRIBUTION', 'REPOSITORY'];
  const parts: unknown[] = [];
  for (const kind of kinds) {
    const r = await daemon.gql<{ configObjects: unknown[] }>(
      'query($k: ConfigKind!) { configObjects(kind: $k) { key status checkState fields { name value } } }',
      { k: kind },
    );
    parts.push(r.data!.configObjects);
  }
  return JSON.stringify(parts);
}

async function objects(daemon: TestDaemon, kind: string): Promise<Row[]> {
  const r = await daemon.cli(['config', kind, 'list', '--json']);
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The setup most tests run: bookworm on amd64 with the repository `test`. */
const BOOKWORM_SETUP = ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test'];

/** A mirror on loopback whose bookworm InRelease is signed by a key nobody trusts. */
async function untrustedMirror(): Promise<{ url: string; close(): Promise<void> }> {
  const { privateKey } = await openpgp.generateKey({ userIDs: [{ name: 'Evil Mirror' }], format: 'object' });
  const release =
    'Origin: Debian\nLabel: Debian\nSuite: stable\nVersion: 12.9\nCodename: bookworm\nArchitectures: amd64\nComponents: main\n';
  const signed = await openpgp.sign({
    message: await openpgp.createCleartextMessage({ text: release }),
    signingKeys: privateKey,
  });
  const server = http.createServer((req, res) => {
    if (req.url === '/debian/dists/bookworm/InRelease') res.end(signed.replace(/\r\n/g, '\n'));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian/`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('setup: from an empty daemon to a signed APT repository apt trusts', () => {
  let daemon: TestDaemon;
  let work: string;

  before(async () => {
    daemon = await TestDaemon.start();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-setup-'));
  });
  after(async () => {
    await daemon?.dispose();
    await fs.rm(work, { recursive: true, force: true });
  });

  it('refuses bad setups precisely and leaves the configuration untouched', async () => {
    const before = await snapshot(daemon);
    const closedPort = await freePort();
    const mirror = await untrustedMirror();
    try {
      const cases: [string[], RegExp][] = [
        [['--codename', 'bookwarm'], /unknown codename "bookwarm" for Debian: setup knows .*bookworm/],
        [
          ['--codename', 'bookworm', '--mirror', `http://127.0.0.1:${closedPort}/debian/`],
          /Debian bookworm cannot be used from http:\/\/127\.0\.0\.1:\d+\/debian\/: .*(refused|unreachable)/i,
        ],
        [
          ['--codename', 'bookworm', '--mirror', mirror.url],
          /Debian bookworm cannot be used from .*: .*(key|signature)/i,
        ],
        [['--codename', 'bookworm', '--identity', 'Not Valid'], /"Not Valid" is not a valid identity/],
        [['--codename', 'bookworm', '--arch', 'vax'], /Debian bookworm has no architecture vax/],
        [['--codename', 'bookworm', '--repository', 'Bad_Repo'], /not a valid repository identity/],
        [['--codename', 'bookworm', '--repository', 'test:Nonsense'], /unknown layout "Nonsense"/],
      ];
      for (const [args, message] of cases) {
        const r = await daemon.cli(['setup', ...args, '--apply']);
        assert.equal(r.exitCode, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, message);
      }
    } finally {
      await mirror.close();
    }
    assert.equal(await snapshot(daemon), before, 'nothing was written');
    assert.equal((await daemon.cli(['status'])).exitCode, 0, 'the daemon is up');
  });

  it('dry-runs by default: every object MISSING, the 404 extra source reported and left out', async () => {
    const r = await daemon.cli([...BOOKWORM_SETUP, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      applied: boolean;
      entries: { kind: string; key: string; state: string; note: string | null }[];
    };
    assert.equal(report.applied, false);
    const sloppy = report.entries.find((e) => e.key === 'Debian Backports:bookworm-backports-sloppy');
    assert.equal(sloppy?.state, 'SKIPPED');
    assert.match(sloppy!.note!, /404/);
    assert.ok(report.entries.filter((e) => e !== sloppy).every((e) => e.state === 'MISSING'));
    assert.deepEqual(await objects(daemon, 'repository'), [], 'a dry run changes nothing');
  });

  it('applies: everything active, the distribution without the missing extra source', async () => {
    const r = await daemon.cli([...BOOKWORM_SETUP, '--mirror', 'http://deb.debian.org/debian', '--apply']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /setup applied/);
    assert.match(r.stderr, /CONFIG_ACTIVATED/, 'progress is shown as it happens');
    for (const kind of ['daemon', 'archive', 'apt-key', 'source', 'repository'])
      for (const o of await objects(daemon, kind))
        assert.deepEqual([kind, o.key, o.status, o.checkState], [kind, o.key, 'ACTIVE', 'CHECKED']);
    const dist = JSON.parse((await daemon.cli(['config', 'distribution', 'show', 'bookworm', '--json'])).stdout);
    const extra = dist.fields.find((f: { name: string }) => f.name === 'extraSources').value as string[];
    assert.deepEqual(extra, ['Debian Backports:bookworm-backports:1', 'Debian:bookworm-security:500']);
    const security = JSON.parse(
      (await daemon.cli(['config', 'source', 'show', 'Debian:bookworm-security', '--json'])).stdout,
    );
    assert.equal(security.fields.find((f: { name: string }) => f.name === 'removeFromComponent').value, 'updates/');
    const test = JSON.parse((await daemon.cli(['config', 'repository', 'show', 'test', '--json'])).stdout);
    assert.equal(test.fields.find((f: { name: string }) => f.name === 'allowUnauthenticatedUploads').value, true);
  });

  it('serves a signed repository that apt verifies with `debyard key`, and refuses with another key', async () => {
    // `debyard key --binary` writes the keyring to stdout, byte for byte.
    const bin = await execa(process.execPath, [MAIN, 'key', '--binary'], {
      env: { DEBYARD_URL: daemon.httpUrl, DEBYARD_DATA_DIR: daemon.dataDir },
      encoding: 'buffer',
      stripFinalNewline: false,
    });
    const line = (k: string) =>
      `deb [signed-by=${k}] ${daemon.httpUrl}/repositories/test bookworm-test-unstable main\n`;
    const good = await aptUpdate(line, bin.stdout);
    assert.equal(good.exitCode, 0, good.output);
    assert.match(good.output, /bookworm-test-unstable InRelease/);

    const { privateKey } = await openpgp.generateKey({ userIDs: [{ name: 'Other' }], format: 'object' });
    const bad = await aptUpdate(line, privateKey.toPublic().write());
    assert.notEqual(bad.exitCode, 0);
    assert.match(bad.output, /NO_PUBKEY|not signed/);

    const armored = await daemon.cli(['key']);
    assert.match(armored.stdout, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  });

  it('gives apt lines (one-line and deb822) and a dput.cf section', async () => {
    const one = await daemon.cli(['sources-list', '--suite', 'unstable']);
    assert.equal(
      one.stdout.trim(),
      `deb [signed-by=/usr/share/keyrings/${(await daemon.cli(['status', '--json'])).stdout.match(/"identity": "([^"]+)"/)![1]}-archive-keyring.gpg] ${daemon.httpUrl}/repositories/test bookworm-test-unstable main contrib non-free non-free-firmware`,
    );
    const deb822 = await daemon.cli(['sources-list', '--format', 'deb822', '--suite', 'testing', '--rollbacks']);
    assert.match(deb822.stdout, /^Types: deb\nURIs: .*\/repositories\/test\nSuites: bookworm-test-testing\n/m);
    assert.match(deb822.stdout, /Suites: bookworm-test-testing-rollback2/);
    const dput = await daemon.cli(['dput-config']);
    assert.match(
      dput.stdout,
      new RegExp(`^\\[debyard-.+\\]\\nmethod +?= ftp\\nfqdn +?= 127\\.0\\.0\\.1:${daemon.ftpPort}\\n`),
    );
  });

  it('is idempotent: a second setup reports nothing to change', async () => {
    const r = await daemon.cli([...BOOKWORM_SETUP, '--mirror', 'http://deb.debian.org/debian/', '--json']);
    const report = JSON.parse(r.stdout) as { entries: { key: string; state: string }[] };
    assert.deepEqual(
      report.entries.filter((e) => e.state !== 'UNCHANGED' && e.state !== 'SKIPPED'),
      [],
    );
    const applied = await daemon.cli([...BOOKWORM_SETUP, '--apply', '--json']);
    const results = (JSON.parse(applied.stdout) as { entries: { result: string }[] }).entries.map((e) => e.result);
    assert.deepEqual([...new Set(results)].sort(), ['SKIPPED', 'UNCHANGED']);
  });

  it('marks the repository changed when its distribution changes; PCA brings it back', async () => {
    const set = await daemon.cli(['config', 'distribution', 'set', 'bookworm', 'lintianMode=WARNFAIL']);
    assert.equal(set.exitCode, 0, set.stderr);
    const [changed] = await objects(daemon, 'repository');
    assert.deepEqual([changed!.status, changed!.checkState], ['PREPARED', 'CHANGED']);
    const check = await daemon.cli(['config', 'repository', 'check', 'test']);
    assert.equal(check.exitCode, 1);
    assert.match(check.stderr, /was changed: prepare it again, then check/);
    const pca = await daemon.cli(['config', 'repository', 'pca', 'test']);
    assert.equal(pca.exitCode, 0, pca.stderr);
    const [back] = await objects(daemon, 'repository');
    assert.deepEqual([back!.status, back!.checkState], ['ACTIVE', 'CHECKED']);
  });

  it('refuses invalid edits with the field named and changes nothing', async () => {
    const before = await snapshot(daemon);
    const cases: [string[], RegExp][] = [
      [
        ['layout', 'set', 'Default', 'suites=[{"name":"unstable","migratesTo":"unstable"}]'],
        /suites: suite unstable migrates to itself/,
      ],
      [
        ['layout', 'set', 'Default', 'mandatoryVersionRegex=~%IDENTITY%(+'],
        /mandatoryVersionRegex: .* is not a valid pattern/,
      ],
      [['distribution', 'set', 'bookworm', 'internalAptPriority=abc'], /internalAptPriority: expected a whole number/],
      [['distribution', 'set', 'bookworm', 'components=contrib'], /components: must include main/],
      [['daemon', 'set', 'daemon', 'identity=Not Valid'], /identity: "Not Valid" is not valid/],
      [['repository', 'set', 'test', 'nosuchfield=1'], /nosuchfield: repository has no such field/],
      [['source', 'set', 'Debian:bookworm', 'codeversion=13'], /codeversion: is read-only/],
    ];
    for (const [args, message] of cases) {
      const r = await daemon.cli(['config', ...args]);
      assert.equal(r.exitCode, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message);
    }
    const gql = await daemon.gql(
      'mutation { configSet(kind: DISTRIBUTION, key: "bookworm", values: {internalAptPriority: "abc"}) { created } }',
      {},
      await daemon.adminToken,
    );
    assert.equal(gql.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal((gql.errors?.[0]?.extensions as { field?: string }).field, 'internalAptPriority');
    assert.equal(await snapshot(daemon), before);
  });

  it('runs the lifecycle: deactivate, activate, remove (unpublishes), prepare+check+activate (republishes)', async () => {
    const run = async (action: string) => {
      const r = await daemon.cli(['config', 'repository', action, 'test', '--json']);
      assert.equal(r.exitCode, 0, r.stderr);
      const o = JSON.parse(r.stdout) as Row;
      return `${o.status}/${o.checkState}`;
    };
    assert.equal(await run('deactivate'), 'PREPARED/CHECKED');
    assert.equal(await run('activate'), 'ACTIVE/CHECKED');
    assert.equal(await run('remove'), 'REMOVED/UNCHECKED');
    const gone = await fetch(`${daemon.httpUrl}/repositories/test/dists/bookworm-test-unstable/InRelease`);
    assert.equal(gone.status, 404);
    assert.equal(await run('pca'), 'ACTIVE/CHECKED');
    const back = await fetch(`${daemon.httpUrl}/repositories/test/dists/bookworm-test-unstable/InRelease`);
    assert.equal(back.status, 200);
    const events = await daemon.cli(['events', '-n', '30', '--json']);
    for (const t of ['CONFIG_DEACTIVATED', 'CONFIG_REMOVED', 'CONFIG_PREPARED', 'CONFIG_CHECKED', 'CONFIG_ACTIVATED'])
      assert.match(events.stdout, new RegExp(`"type":"${t}"`));
  });

  it('keeps uploader keys: a strong key becomes active, weak and expired ones fail with the reason', async () => {
    await daemon.cli(['user', 'add', 'ulla', '--role', 'uploader']);
    const make = async (name: string, opts: Record<string, unknown>) => {
      const { publicKey } = await openpgp.generateKey({ userIDs: [{ name }], ...opts, format: 'armored' });
      const key = await openpgp.readKey({ armoredKey: publicKey });
      const file = path.join(work, `${name}.asc`);
      await fs.writeFile(file, publicKey);
      return { fpr: key.getFingerprint().toUpperCase(), file };
    };
    const good = await make('Ulla', {});
    const created = await daemon.cli([
      'config',
      'uploader',
      'create',
      good.fpr,
      `armored=@${good.file}`,
      'user=ulla',
      'repositories=test',
    ]);
    assert.equal(created.exitCode, 0, created.stderr);
    const pca = await daemon.cli(['config', 'uploader', 'pca', good.fpr, '--json']);
    assert.equal(pca.exitCode, 0, pca.stderr);
    assert.equal(JSON.parse(pca.stdout).status, 'ACTIVE');

    const weak = await make('Weak', { type: 'rsa', rsaBits: 1024, config: { minRSABits: 1024 } });
    await daemon.cli(['config', 'uploader', 'create', weak.fpr, `armored=@${weak.file}`, 'user=ulla']);
    const refused = await daemon.cli(['config', 'uploader', 'pca', weak.fpr]);
    assert.equal(refused.exitCode, 1);
    assert.match(
      refused.stderr,
      /prepare of uploader .* failed: the key is rsa1024: use RSA of at least 2048 bits or Ed25519/,
    );

    const expiring = await make('Brief', { keyExpirationTime: 1 });
    await daemon.cli(['config', 'uploader', 'create', expiring.fpr, `armored=@${expiring.file}`, 'user=ulla']);
    await new Promise((r) => setTimeout(r, 1500));
    const expired = await daemon.cli(['config', 'uploader', 'pca', expiring.fpr]);
    assert.match(expired.stderr, /expired on/);
    const list = JSON.parse((await daemon.cli(['config', 'uploader', 'list', '--json'])).stdout) as Row[];
    // A key that fails to prepare stays unprepared, with the failure recorded.
    assert.deepEqual(list.map((u) => `${u.status}/${u.checkState}`).sort(), [
      'ACTIVE/CHECKED',
      'REMOVED/FAILED',
      'REMOVED/FAILED',
    ]);
  });

  it('allows lifecycle actions to staff, edits and setup to admins only', async () => {
    await daemon.cli(['user', 'add', 'stella', '--role', 'staff']);
    const { secret } = JSON.parse((await daemon.cli(['token', 'create', '--for', 'stella', '--json'])).stdout);
    assert.equal((await daemon.cli(['config', 'repository', 'check', 'test'], { token: secret })).exitCode, 0);
    const edit = await daemon.cli(['config', 'repository', 'set', 'test', 'notify=a@b.c'], { token: secret });
    assert.equal(edit.exitCode, 4);
    assert.match(edit.stderr, /needs the ADMIN role/);
    assert.equal((await daemon.cli(['setup', '--codename', 'bookworm'], { token: secret })).exitCode, 4);
    assert.equal((await daemon.cli(['config', 'repository', 'check', 'test'], { token: null })).exitCode, 4);
    assert.equal((await daemon.cli(['sources-list'], { token: null })).exitCode, 0, 'consumers need no account');
  });
});
