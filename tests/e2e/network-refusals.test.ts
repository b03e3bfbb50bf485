// Building with a remote, what goes wrong: two real instances on loopback — bert (repositories only)
// and grover (chroots only), each the other's remote, so every build of bert's runs on grover. Bert's
// console shows such a build live and names its builder; a cancel on bert makes grover's late result
// refused. Results never asked for and replayed ones, and a build request signed by a key that is no
// remote's, are refused with a reason: each stays on record as a REJECTED upload with its code and a
// REJECTED event. The `it`s run in order.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ftpUpload, writeBuildRequest, writeBuildResult } from '@debyard/server/dist/remote/transfer.js';
import * as openpgp from 'openpgp';
import pg from 'pg';
import { ADMIN_PASSWORD, ConsoleBrowser, setPassword, tid } from '../support/browser.js';
import { eventually } from '../support/daemon.js';
import { buildSourcePackage } from '../support/packages.js';
import { DIST, PipelineFixture, V } from '../support/pipeline.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from '../support/postgres.js';
import { builderOf, buildsOn, CHECK_EVERY, ok, remoteBecomes, type BuildRow } from '../support/remotes.js';

type Instance = 'grover' | 'bert';

/** Clearsigns as gpg and the daemon do: LF line ends (openpgp.js writes CRLF) and no empty last line. */
async function clearsign(text: string, signingKeys: openpgp.PrivateKey): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text: text.replace(/\n$/, '') });
  return (await openpgp.sign({ message, signingKeys })).replace(/\r\n/g, '\n');
}

describe('remote builds: cancels, strays, replays and strangers', { concurrency: false }, () => {
  const dbs: Record<Instance, TestDatabase> = {} as Record<Instance, TestDatabase>;
  const at = {} as Record<Instance, PipelineFixture>;
  let browser: ConsoleBrowser;
  let serial = 0;

  async function upload(packager: Instance, name: string): Promise<{ name: string; version: string }> {
    const version = V('1.0', ++serial);
    await at[packager].upload(name, version);
    return { name, version };
  }

  async function buildsOf(packager: Instance, source: string, version: string): Promise<BuildRow[]> {
    return buildsOn(at[packager].daemon, source, version);
  }

  before(async () => {
    const [g, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    Object.assign(dbs, { grover: g!, bert: b! });
    const [grover, bert] = await Promise.all([
      PipelineFixture.start('refusals-grover', {
        repository: false,
        daemon: { databaseUrl: g!.url, args: ['--identity', 'grover', ...CHECK_EVERY] },
      }),
      PipelineFixture.start('refusals-bert', {
        chroots: false,
        layout: 'Default (no rollbacks)',
        daemon: { databaseUrl: b!.url, args: ['--identity', 'bert', ...CHECK_EVERY] },
      }),
    ]);
    Object.assign(at, { grover, bert });
    ok(await bert.daemon.cli(['remote', 'add', grover.daemon.httpUrl]), 'remote add grover on bert');
    ok(await grover.daemon.cli(['remote', 'add', bert.daemon.httpUrl]), 'remote add bert on grover');
    await remoteBecomes(bert.daemon, grover.daemon.httpUrl, 'CHECKED');
    await remoteBecomes(grover.daemon, bert.daemon.httpUrl, 'CHECKED');
    await setPassword(bert.daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: bert.daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      name: 'remote-refusals',
    });
  });

  afterEach((t) => browser?.afterEach(t));

  after(async () => {
    await browser?.close();
    await Promise.all(Object.values(at).map((f) => f.dispose()));
    await Promise.all(Object.values(dbs).map((d) => d.drop()));
    await stopScratchCluster();
  });

  it('builds bert’s upload on grover and installs it', async () => {
    const u = await upload('bert', 'hello-c');
    const row = await at.bert.settled(u.name, u.version, 300_000);
    assert.equal(row.state, 'INSTALLED', `${row.state}: ${row.reason ?? ''}`);
    const [b] = await buildsOf('bert', u.name, u.version);
    assert.equal(builderOf(b!), 'grover');
    const total = (Date.parse(row.finishedAt!) - Date.parse(row.receivedAt)) / 1000;
    const sbuild = row.builds[0]?.sbuildSeconds ?? 0;
    console.log(
      `# dput → INSTALLED on bert, built on grover: ${total.toFixed(1)} s, of which sbuild ${sbuild.toFixed(1)} s`,
    );
    // On grover, the build says whom it was for and that the result went back.
    const theirs = JSON.parse(ok(await at.grover.daemon.cli(['builds', '--json', '--source', u.name]), 'builds')) as {
      nodes: (BuildRow & { requestedFrom: string | null; resultSentAt: string | null })[];
    };
    const there = theirs.nodes.find((n) => n.version === u.version);
    assert.equal(there?.requestedFrom, at.bert.daemon.httpUrl);
    assert.ok(there?.resultSentAt, 'grover records the result as sent');
  });

  interface RejectedRow {
    id: string;
    changesName: string;
    rejectCode: string | null;
    reason: string | null;
  }

  /** Waits until `i` has refused an upload named like `changes` with `code`; returns it. */
  async function refused(i: Instance, changes: RegExp, code: string): Promise<RejectedRow> {
    return eventually(async () => {
      const out = ok(await at[i].daemon.cli(['uploads', '--state', 'rejected', '--json']), 'uploads');
      const rows = (JSON.parse(out) as { nodes: RejectedRow[] }).nodes;
      return rows.find((r) => changes.test(r.changesName) && r.rejectCode === code);
    }, 180_000);
  }

  /** Signs as instance `i` would (its instance key), for results it never sent. */
  async function signAs(i: Instance): Promise<(text: string) => Promise<string>> {
    const armoredKey = await fs.readFile(path.join(at[i].daemon.dataDir, 'keys', 'instance-key.asc'), 'utf8');
    const signingKeys = await openpgp.readPrivateKey({ armoredKey });
    return (text) => clearsign(text, signingKeys);
  }

  /** A build result for `source` `version` with `timecode`, signed as `from`, sent to `to`'s incoming. */
  async function sendResult(from: Instance, to: Instance, source: string, version: string, timecode: string) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-e2e-result-'));
    try {
      const log = path.join(dir, 'forged.log');
      await fs.writeFile(log, 'a log nobody built\n');
      const written = await writeBuildResult(
        path.join(dir, 'out'),
        {
          distribution: DIST,
          source,
          version,
          architecture: 'amd64',
          timecode,
          builder: at[from].daemon.httpUrl,
          buildlog: `${to}/0-1/${source}_${version}_amd64.buildlog`,
          uploadTo: `ftp://127.0.0.1:${at[to].daemon.ftpPort}/`,
          sbuildStatus: 'successful',
          result: 'SUCCESSFUL',
          failStage: null,
          reason: 'nobody built this',
          lintian: 'NOT_RUN',
          autopkgtest: 'NOT_RUN',
          sbuildSeconds: 1,
          qaSeconds: null,
          canceledBy: null,
          internalError: null,
        },
        log,
        null,
        await signAs(from),
      );
      await ftpUpload(`ftp://127.0.0.1:${at[to].daemon.ftpPort}/`, written.files);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** The timecode and builder URL of `packager`'s build of `source` `version`, from its database. */
  async function requestOf(packager: Instance, source: string, version: string) {
    const client = new pg.Client({ connectionString: dbs[packager].url });
    await client.connect();
    try {
      const { rows } = await client.query<{ timecode: string; sent_to: string }>(
        `select timecode, sent_to from build where source = $1 and version = $2 and timecode is not null`,
        [source, version],
      );
      assert.equal(rows.length, 1, `${packager} has one remote build of ${source} ${version}`);
      return rows[0]!;
    } finally {
      await client.end();
    }
  }

  it('bert’s console shows a remote build live with its builder; a cancel there refuses the builder’s late result', async () => {
    // slow-pkg sleeps a minute in its build; bert has no chroot, so it always builds elsewhere.
    const slow = await upload('bert', 'slow-pkg');
    const running = await eventually(async () => {
      const [b] = await buildsOf('bert', slow.name, slow.version);
      return b?.state === 'BUILDING' && b.builder ? b : undefined;
    }, 120_000);
    assert.equal(builderOf(running), 'grover');

    const page = await browser.signedInPage(`/builds/${running.id}`, 'admin', ADMIN_PASSWORD);
    await page.locator(tid('build-builder')).waitFor();
    assert.equal((await page.locator(tid('build-builder')).textContent())?.trim(), 'grover');
    assert.equal(await page.locator(tid('build-builder')).getAttribute('href'), at.grover.daemon.httpUrl);
    // The builder's log arrives while it builds: sbuild's header, then make's `sleep`.
    await page.waitForFunction(
      (sel) => /sleep \d+/.test(document.querySelector(sel)?.textContent ?? ''),
      tid('build-log-text'),
      { timeout: 120_000 },
    );
    assert.equal(await page.locator(tid('build-log')).getAttribute('data-state'), 'streaming');

    ok(await at.bert.daemon.cli(['cancel', running.id]), 'cancel');
    await page.locator(`${tid('build-header')}[data-result="CANCELLED"]`).waitFor({ timeout: 30_000 });
    // The builder did not know: it finishes and sends its result, which bert refuses.
    const late = await refused('bert', /^slow-pkg_.*_mini-buildd-buildresult_amd64\.changes$/, 'BUILD_CANCELLED');
    assert.match(late.reason ?? '', /was cancelled by admin/);
    const events = ok(await at.bert.daemon.cli(['events', '--json', '--type', 'REJECTED']), 'events');
    assert.match(events, new RegExp(`upload ${late.id}\\) refused: build \\d+ of slow-pkg`));
  });

  it('refuses a result for a build never requested, and a replayed one', async () => {
    // hello-c was built for bert by grover and installed; grover's result comes again.
    const [done] = (await buildsOf('bert', 'hello-c', V('1.0', 1))).filter((b) => b.result === 'SUCCESSFUL');
    assert.ok(done, 'bert has a built hello-c');
    const request = await requestOf('bert', 'hello-c', done.version);
    assert.equal(request.sent_to, at.grover.daemon.httpUrl);
    await sendResult('grover', 'bert', 'hello-c', done.version, request.timecode);
    const replay = await refused('bert', /^hello-c_.*_mini-buildd-buildresult_amd64\.changes$/, 'RESULT_REPLAYED');
    assert.match(replay.reason ?? '', /has its result already \(SUCCESSFUL\)/);

    await sendResult('grover', 'bert', 'hello-c', '9.9~test12+1', '2026-01-01T00:00:00.000Z-deadbeef');
    const stray = await refused('bert', /^hello-c_9\.9.*buildresult/, 'BUILD_NOT_REQUESTED');
    assert.match(stray.reason ?? '', /no build of hello-c 9\.9~test12\+1 on amd64 .* was requested from grover/);
  });

  it('refuses a build request signed by a key that is no remote’s', async () => {
    const { privateKey: signingKeys } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Not A Remote', email: 'stranger@debyard.example.org' }],
      format: 'object',
    });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-e2e-request-'));
    try {
      const dsc = await buildSourcePackage('hello-c', dir, { version: '7.0~test12+1', distribution: DIST });
      const written = await writeBuildRequest(
        path.join(dir, 'out'),
        {
          distribution: DIST,
          source: 'hello-c',
          version: '7.0~test12+1',
          architecture: 'amd64',
          timecode: '2026-12-06T00:00:00.000Z-0badc0de',
          uploadTo: `ftp://127.0.0.1:${at.bert.daemon.ftpPort}/`,
          packager: at.bert.daemon.httpUrl,
          builder: at.grover.daemon.httpUrl,
          archAll: true,
          buildDepResolver: 'apt',
          debBuildOptions: '',
          debBuildProfiles: '',
          addDepends: '',
          lintianMode: 'DISABLED',
          lintianExtraOptions: '',
          autopkgtestMode: 'DISABLED',
          buildlog: 'stranger/1-1/hello-c_7.0~test12+1_amd64.buildlog',
        },
        { aptSources: '', aptPreferences: '', aptKeys: '' },
        dsc,
        (text) => clearsign(text, signingKeys),
      );
      await ftpUpload(`ftp://127.0.0.1:${at.grover.daemon.ftpPort}/`, written.files);
      const row = await refused('grover', /^hello-c_7\.0.*buildrequest_amd64\.changes$/, 'UNKNOWN_KEY');
      assert.match(row.reason ?? '', new RegExp(signingKeys.getFingerprint().toUpperCase()));
      const builds = JSON.parse(ok(await at.grover.daemon.cli(['builds', '--json', '--source', 'hello-c']), 'builds'));
      assert.equal(
        (builds as { nodes: BuildRow[] }).nodes.filter((b) => b.version === '7.0~test12+1').length,
        0,
        'no build was made of it',
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
