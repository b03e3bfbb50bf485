// No-changes ports and rebuilds end to end, on a real daemon with a real chroot: an upload's
// `auto-ports` option, `debyard port` (a rebuild), the GraphQL `port` mutation's refusals and the CLI's
// exit codes, an auto-port that cannot be made (PORT_FAILED, the upload stays INSTALLED), and the
// console's Port action in Chromium. Every port is signed by the instance key and goes through the
// normal checks, builds and install; the repository takes signed uploads only, so that is proven.
//
// The `it`s run in order and share one daemon.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { ADMIN_PASSWORD, ConsoleBrowser, artifact, setPassword } from '../support/browser.js';
import { checkUploadPage, tid } from '../support/console-uploads.js';
import { eventually, TestDaemon } from '../support/daemon.js';
import { withChrootCopy } from '../support/pipeline.js';
import { generateUploaderKey, makeUpload, type UploaderKey } from '../support/uploads.js';

interface UploadRow {
  id: string;
  state: string;
  via: string;
  source: string | null;
  version: string | null;
  distribution: string | null;
  rejectCode: string | null;
  reason: string | null;
  signedBy: string | null;
  uploader: string | null;
  changesUrl: string;
  options: Record<string, unknown>;
  port: { from: string; fromVersion: string; by: string; autoPortOf: number | null } | null;
}
interface EventRow {
  id: string;
  type: string;
  summary: string;
  payload: Record<string, unknown>;
}

const FIELDS =
  'id state via source version distribution rejectCode reason signedBy uploader changesUrl options port { from fromVersion by autoPortOf }';
const UNSTABLE = 'bookworm-test-unstable';
const EXPERIMENTAL = 'bookworm-test-experimental';
/** The Default layout's rules in repository test on bookworm (12): ~test12+[1-9], experimental ~test12+0. */
const V = (n: number) => `1.0~test12+${n}`;
const SETTLED = ['INSTALLED', 'FAILED', 'REJECTED'];

describe('ports: auto-ports, debyard port, the console', { concurrency: false }, () => {
  let daemon: TestDaemon;
  let token: string;
  let key: UploaderKey;
  let work: string;
  let instanceKey: string;
  let browser: ConsoleBrowser | undefined;
  const made: string[] = [];

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const r = await daemon.gql<T>(query, variables, token);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!;
  };
  const uploadsOf = async (source: string) =>
    (
      await gql<{ uploads: { nodes: UploadRow[] } }>(
        `query($s: String) { uploads(source: $s, first: 100) { nodes { ${FIELDS} } } }`,
        { s: source },
      )
    ).uploads.nodes;
  const settled = (match: (u: UploadRow) => boolean, timeoutMs = 300_000) =>
    eventually(
      async () => (await uploadsOf('hello-all')).find((u) => match(u) && SETTLED.includes(u.state)),
      timeoutMs,
    );
  const events = async () =>
    (await gql<{ events: EventRow[] }>('{ events(limit: 300) { id type summary payload } }')).events;
  const versionIn = async (distribution: string) => {
    const r = await daemon.cli(['ls', 'hello-all', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    return (JSON.parse(r.stdout) as { distribution: string; version: string }[]).find(
      (v) => v.distribution === distribution,
    )?.version;
  };
  /** A signed upload of hello-all to unstable over FTP (curl: one session, the .changes last). */
  const upload = async (version: string, changesExtra: string[] = []) => {
    const u = await makeUpload('hello-all', { version, distribution: UNSTABLE, sign: key, changesExtra });
    made.push(u.dir);
    const args = ['-sS', '--max-time', '30'];
    for (const f of [...u.files.map((name) => path.join(u.dir, name)), u.changes])
      args.push('-T', f, `ftp://127.0.0.1:${daemon.ftpPort}/${path.basename(f)}`);
    const r = await execa('curl', args, { reject: false });
    assert.equal(r.exitCode, 0, String(r.stderr));
  };
  const portMutation = (variables: Record<string, unknown>) =>
    daemon.gql<{ port: UploadRow[] }>(
      `mutation($source: String!, $from: String!, $to: [String!]!, $version: String, $options: [String!]) {
         port(source: $source, from: $from, to: $to, version: $version, options: $options) { ${FIELDS} } }`,
      variables,
      token,
    );

  before(async () => {
    daemon = await TestDaemon.start();
    token = await daemon.adminToken;
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-ports-'));
    const setup = await withChrootCopy(daemon, () =>
      daemon.cli(
        ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test', '--chroots', '--apply'],
        { timeoutMs: 600_000 },
      ),
    );
    assert.equal(setup.exitCode, 0, setup.stdout + setup.stderr);
    key = await generateUploaderKey({ name: 'Ports Tester', email: 'ports@debyard.example.org' });
    const armored = path.join(work, 'uploader.asc');
    await fs.writeFile(armored, key.armored);
    // Signed uploads only: a port passes because the checks accept the instance key.
    for (const args of [
      ['config', 'uploader', 'create', key.fingerprint, `armored=@${armored}`, 'repositories=test', 'user=admin'],
      ['config', 'uploader', 'pca', key.fingerprint],
      ['config', 'repository', 'set', 'test', 'allowUnauthenticatedUploads=false'],
      ['config', 'repository', 'pca', 'test'],
    ]) {
      const r = await daemon.cli(args, { timeoutMs: 120_000 });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    }
    instanceKey = (await gql<{ archiveKey: { fingerprint: string } }>('{ archiveKey { fingerprint } }')).archiveKey
      .fingerprint;
  });

  afterEach((t) => browser?.afterEach(t));

  after(async () => {
    await browser?.close();
    await daemon?.cli(['config', 'chroot', 'remove', 'bookworm-amd64'], { timeoutMs: 120_000 });
    await daemon?.dispose();
    await key?.dispose();
    for (const dir of made) await fs.rm(dir, { recursive: true, force: true });
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('auto-ports an installed upload to experimental: rewritten version, signed by the instance key, installed', async () => {
    const t0 = Date.now();
    await upload(V(1), [`MINI_BUILDD_OPTION: auto-ports=${EXPERIMENTAL}`]);
    const original = await settled((u) => u.version === V(1) && u.via === 'FTP');
    assert.equal(original.state, 'INSTALLED', original.reason ?? '');
    assert.deepEqual(original.options.autoPorts, [EXPERIMENTAL]);
    const installed = (await events()).find((e) => e.type === 'INSTALLED' && e.payload.upload === Number(original.id));
    assert.deepEqual(installed?.payload.autoPorts, [EXPERIMENTAL]);

    const port = await settled((u) => u.via === 'PORT' && u.distribution === EXPERIMENTAL);
    assert.equal(port.state, 'INSTALLED', port.reason ?? '');
    assert.equal(port.version, V(0), 'unstable’s ~test12+1 becomes experimental’s ~test12+0');
    assert.equal(port.signedBy, instanceKey);
    assert.equal(port.uploader, 'the instance key');
    assert.deepEqual(port.port, {
      from: UNSTABLE,
      fromVersion: V(1),
      by: `auto-ports of upload ${original.id}`,
      autoPortOf: Number(original.id),
    });
    assert.equal(await versionIn(EXPERIMENTAL), V(0));
    assert.equal(await versionIn(UNSTABLE), V(1), 'the original stays where it was');

    // The .changes as the daemon keeps it: clearsigned by the instance key, the original author named.
    const changes = await (await fetch(`${daemon.httpUrl}${port.changesUrl}`)).text();
    assert.match(changes, /^-----BEGIN PGP SIGNED MESSAGE-----/);
    assert.match(changes, /^X-Debyard-Originally-Changed-By: Debyard Tests <tests@debyard\.example\.org>$/m);
    assert.match(changes, /^Changed-By: debyard archive \S+ </m);
    assert.match(changes, /Automated port via debyard \(no changes\) from bookworm-test-unstable\./);
    assert.match(changes, /Original \.dsc SHA-256:\s+[0-9a-f]{64}\./);
    assert.match(changes, /\* MINI_BUILDD_OPTION: lintian-mode=ignore/);
    const keyring = path.join(work, 'archive-keyring.gpg');
    await fs.writeFile(
      keyring,
      new Uint8Array(await (await fetch(`${daemon.httpUrl}/archive-keyring.gpg`)).arrayBuffer()),
    );
    const changesFile = path.join(work, 'port.changes');
    await fs.writeFile(changesFile, changes);
    const gpgv = await execa('gpgv', ['--keyring', keyring, changesFile], { reject: false, all: true });
    assert.equal(gpgv.exitCode, 0, String(gpgv.all));
    console.log(`# upload + auto-port, both INSTALLED: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('refuses bad ports precisely, over GraphQL and in the CLI, and uploads nothing', async () => {
    const before = (await uploadsOf('hello-all')).length;
    const refused = async (variables: Record<string, unknown>, code: string, message: RegExp) => {
      const r = await portMutation({ source: 'hello-all', from: UNSTABLE, to: [EXPERIMENTAL], ...variables });
      assert.equal(r.errors?.[0]?.extensions?.code, code, JSON.stringify(r.errors));
      assert.match(r.errors[0]!.message, message);
    };
    await refused({ source: 'hello-c' }, 'SOURCE_NOT_FOUND', /hello-c is not in bookworm-test-unstable/);
    await refused(
      { version: '9.9' },
      'SOURCE_NOT_FOUND',
      /hello-all 9\.9 is not in bookworm-test-unstable: .*1\.0~test12\+1 in bookworm-test-unstable/,
    );
    await refused({ from: 'bookworm-nosuch-unstable' }, 'DISTRIBUTION_UNKNOWN', /no repository "nosuch"/);
    await refused({ to: ['bookworm-nosuch-unstable'] }, 'DISTRIBUTION_UNKNOWN', /no repository "nosuch"/);
    await refused({ to: ['trixie-test-unstable'] }, 'DISTRIBUTION_UNKNOWN', /does not build for trixie/);
    await refused({ to: ['bookworm-test-testing'] }, 'SUITE_NOT_UPLOADABLE', /takes no uploads .*by migration/);
    await refused({ to: [`${UNSTABLE}-rollback0`] }, 'SUITE_NOT_UPLOADABLE', /is a rollback distribution/);
    await refused({}, 'VERSION_EXISTS', /hello-all 1\.0~test12\+0 is already in bookworm-test-experimental/);
    await refused({ options: ['lintian=ignore'] }, 'OPTION_UNKNOWN', /unknown upload option "lintian"/);
    await refused({ to: [EXPERIMENTAL, EXPERIMENTAL] }, 'BAD_USER_INPUT', /named twice/);
    const anonymous = await daemon.gql(
      'mutation { port(source: "hello-all", from: "bookworm-test-unstable", to: ["bookworm-test-unstable"]) { id } }',
    );
    assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');

    // The CLI says the same and exits 1 (refused) or 2 (usage); --dry-run plans without uploading.
    const cli = await daemon.cli(['port', 'hello-all', UNSTABLE, 'bookworm-test-testing']);
    assert.equal(cli.exitCode, 1);
    assert.match(cli.stderr, /bookworm-test-testing takes no uploads/);
    const missing = await daemon.cli(['port', 'hello-all', UNSTABLE, EXPERIMENTAL, '--version', '9.9']);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /hello-all 9\.9 is not in bookworm-test-unstable/);
    assert.equal((await daemon.cli(['port', 'hello-all', UNSTABLE])).exitCode, 2, 'no target');
    const dry = await daemon.cli(['port', 'hello-all', UNSTABLE, UNSTABLE, '--dry-run']);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.match(dry.stdout, /bookworm-test-unstable\s+1\.0~test12\+1\+rebuilt\d{14}\s+rebuild/);
    assert.equal((await uploadsOf('hello-all')).length, before, 'nothing was uploaded');
  });

  it('an auto-port to a distribution that takes no uploads is rejected at check time; one that cannot be made is PORT_FAILED', async () => {
    await upload(V(3), ['MINI_BUILDD_OPTION: auto-ports=bookworm-nosuch-unstable']);
    const typo = await settled((u) => u.version === V(3));
    assert.equal(typo.state, 'REJECTED');
    assert.equal(typo.rejectCode, 'OPTION_INVALID');
    assert.match(typo.reason ?? '', /auto-ports: cannot port to bookworm-nosuch-unstable: .*no repository "nosuch"/);

    // Experimental has 1.0~test12+0 already: the port of +2 would get that version again.
    await upload(V(2), [`MINI_BUILDD_OPTION: auto-ports=${EXPERIMENTAL}`]);
    const original = await settled((u) => u.version === V(2) && u.via === 'FTP');
    assert.equal(original.state, 'INSTALLED', original.reason ?? '');
    const failed = await eventually(async () =>
      (await events()).find((e) => e.type === 'PORT_FAILED' && e.payload.upload === Number(original.id)),
    );
    assert.equal(failed.payload.code, 'VERSION_EXISTS');
    assert.equal(failed.payload.distribution, EXPERIMENTAL);
    assert.match(String(failed.payload.reason), /1\.0~test12\+0 is already in bookworm-test-experimental/);
    const after = (await uploadsOf('hello-all')).find((u) => u.id === original.id)!;
    assert.equal(after.state, 'INSTALLED', 'the upload is untouched');
    assert.equal(await versionIn(UNSTABLE), V(2));
  });

  it('debyard port FROM FROM rebuilds in the same distribution (+rebuilt<stamp>) and --wait follows it to INSTALLED', async () => {
    const r = await daemon.cli(['port', 'hello-all', UNSTABLE, UNSTABLE, '--wait'], { timeoutMs: 300_000 });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const id = /^(\d+)\s+bookworm-test-unstable\s+(1\.0~test12\+2\+rebuilt\d{14})\s+received$/m.exec(r.stdout);
    assert.ok(id, r.stdout);
    assert.match(r.stdout, new RegExp(`INSTALLED .*upload #${id[1]}`));
    assert.equal(await versionIn(UNSTABLE), id[2]);
    const rebuilt = (await uploadsOf('hello-all')).find((u) => u.id === id[1])!;
    assert.equal(rebuilt.via, 'PORT');
    assert.equal(rebuilt.port?.by, 'admin');
    assert.equal(rebuilt.signedBy, instanceKey);
  });

  it('the console: Port on the tracker asks for targets, says exactly what will be uploaded, and links to the new upload', async () => {
    await setPassword(daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      name: 'ports',
    });
    // Anonymous visitors see the versions but no Port action.
    const anonymous = await (await browser.newContext()).newPage();
    await anonymous.goto('/packages/hello-all');
    await anonymous.locator(`${tid('package-version')}[data-distribution="${UNSTABLE}"]`).waitFor();
    assert.equal(await anonymous.locator(tid('package-port-open')).count(), 0);

    const from = await versionIn(UNSTABLE);
    const page = await browser.signedInPage('/packages/hello-all', 'admin', ADMIN_PASSWORD);
    const row = page.locator(`${tid('package-version')}[data-distribution="${UNSTABLE}"]`);
    await row.locator(tid('package-port-open')).click();
    const form = page.locator(tid('package-port-form'));
    await form.waitFor();
    assert.ok(((await form.locator(tid('package-port-from')).textContent()) ?? '').includes(from!));
    await form.locator(`${tid('package-port-target')}[data-distribution="${EXPERIMENTAL}"] input`).check();
    await form.locator(tid('package-port-review')).click();
    const confirm = form.locator(tid('package-port-confirmation'));
    await confirm.waitFor();
    const planned = confirm.locator(tid('package-port-plan-target'));
    assert.equal(await planned.count(), 1);
    const expected = from!.replace('~test12+2', '~test12+0');
    assert.equal(await planned.getAttribute('data-distribution'), EXPERIMENTAL);
    assert.equal(await planned.getAttribute('data-version'), expected);
    const text = (await confirm.textContent()) ?? '';
    for (const part of ['hello-all', from!, UNSTABLE, EXPERIMENTAL, expected, 'instance key', 'lintian-mode=ignore'])
      assert.ok(text.includes(part), `the confirmation names ${part}: ${text}`);
    await page.screenshot({ path: artifact('ports-console-confirm.png'), fullPage: true });
    await confirm.locator(tid('package-port-confirm')).click();
    const link = form.locator(tid('package-port-upload-link'));
    await link.waitFor();
    const href = (await link.getAttribute('href'))!;
    assert.match(href, /^\/uploads\/\d+$/);
    await link.click();
    await page.waitForURL(new RegExp(`${href}$`));
    await checkUploadPage(page, daemon.httpUrl, href.split('/').pop()!, { state: 'INSTALLED' });
    const origin = page.locator(tid('upload-port'));
    assert.equal(await origin.getAttribute('data-from'), UNSTABLE);
    assert.equal(await origin.getAttribute('data-from-version'), from);
    assert.match((await origin.textContent()) ?? '', /asked for by\s+admin/);
    assert.equal(await versionIn(EXPERIMENTAL), expected);
  });
});
