// Snapshots end to end, on a real daemon with a real chroot (PipelineFixture): `debyard snapshot
// create` of unstable, then a newer upload, and apt in a clean chroot session installs the old version
// from the snapshot's apt line, signature checked; bad input for create and delete (code, CLI exit
// code, nothing made); the weekly schedule (stable gets one, an expired one goes); deleting drops the
// snapshot's references; the console's snapshot list, form and delete in Chromium. The consumer views
// (ls, show, GraphQL, the console's package page and repository browser) list the snapshots holding a
// source; removing the repository removes its snapshots.
//
// The `it`s run in order and share one daemon.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { schrootName } from '@debyard/server/dist/chroot/chroot-ops.js';
import { execa } from 'execa';
import { aptSessionWithSource } from '../support/apt.js';
import { ADMIN_PASSWORD, ConsoleBrowser, setPassword, tid } from '../support/browser.js';
import { DIST, PipelineFixture, V } from '../support/pipeline.js';

const STABLE = 'bookworm-test-stable';

interface SnapshotRow {
  distribution: string;
  name: string;
  kind: string;
  expiresAt: string | null;
  aptLine: string;
}

describe('snapshots', { concurrency: false }, () => {
  let f: PipelineFixture;
  let browser: ConsoleBrowser;
  let keyring: Uint8Array;
  const today = () => new Date().toISOString().slice(0, 10);

  const versionIn = async (source: string, distribution: string) => {
    const r = await f.daemon.cli(['ls', source, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    return (JSON.parse(r.stdout) as { distribution: string; version: string }[]).find(
      (v) => v.distribution === distribution,
    )?.version;
  };
  const events = async (type: string) =>
    (
      await f.gql<{ events: { type: string; payload: Record<string, unknown> }[] }>(
        '{ events(limit: 500) { type payload } }',
      )
    ).events.filter((e) => e.type === type);
  /** reprepro's references held by snapshots (`s=<dist>=<name>`), as the daemon's user sees them. */
  const snapshotReferences = async () => {
    const r = await execa(
      'runuser',
      ['-u', 'debyard', '--', 'reprepro', '-b', path.join(f.daemon.dataDir, 'repositories/test'), 'dumpreferences'],
      { reject: false, all: true, env: { GNUPGHOME: path.join(f.daemon.dataDir, 'keys/gnupg') } },
    );
    assert.equal(r.exitCode, 0, String(r.all));
    return r.stdout.split('\n').filter((l) => l.startsWith('s='));
  };

  before(async () => {
    f = await PipelineFixture.start('snapshots');
    keyring = new Uint8Array(await (await fetch(`${f.daemon.httpUrl}/archive-keyring.gpg`)).arrayBuffer());
    await setPassword(f.daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: f.daemon.httpUrl,
      viewport: { width: 1280, height: 1000 },
      timeoutMs: 20_000,
      name: 'snapshots',
    });
  });

  afterEach((t) => browser?.afterEach(t));

  after(async () => {
    await browser?.close();
    await f?.dispose();
  });

  it('apt installs from a snapshot after the live distribution moved on, signature checked', async () => {
    const t0 = Date.now();
    await f.upload('hello-all', V('1.0'));
    assert.equal((await f.settled('hello-all', V('1.0'))).state, 'INSTALLED');
    const created = await f.daemon.cli(['snapshot', 'create', DIST, 'before-2.0']);
    assert.equal(created.exitCode, 0, created.stderr);
    const aptLine = created.stdout.trim().split('\n').at(-1)!;
    const url = f.daemon.httpUrl.replace(/[.]/g, '\\.');
    assert.match(
      aptLine,
      new RegExp(
        `^deb \\[signed-by=/usr/share/keyrings/${f.identity}-archive-keyring\\.gpg\\] ${url}/repositories/test/ ${DIST}/snapshots/before-2\\.0 main( [a-z-]+)*$`,
      ),
    );
    assert.ok((await snapshotReferences()).some((l) => l.startsWith(`s=${DIST}=before-2.0 `)));

    await f.upload('hello-all', V('2.0'));
    assert.equal((await f.settled('hello-all', V('2.0'))).state, 'INSTALLED');
    assert.equal(await versionIn('hello-all', DIST), V('2.0'));

    // A clean session that knows only the snapshot, the key in Signed-By: the old version comes.
    const session = await aptSessionWithSource(
      schrootName(f.daemon.dataDir, 'bookworm-amd64'),
      { line: (key) => aptLine.replace(/signed-by=[^\]]+/, `signed-by=${key}`), keyring, name: 'snapshot' },
      [
        'apt-get -q -y --no-install-recommends install hello-all',
        "dpkg-query -W -f='installed ${Version}\\n' hello-all",
      ],
    );
    assert.equal(session.exitCode, 0, session.output);
    assert.match(session.output, new RegExp(`${DIST}/snapshots/before-2\\.0 InRelease`));
    assert.match(session.output, new RegExp(`^installed ${V('1.0').replace(/[.+]/g, '\\$&')}$`, 'm'));
    assert.doesNotMatch(session.output, /NO_PUBKEY|not signed/);
    console.log(`# snapshot, newer upload, apt from the snapshot: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('refuses bad snapshots precisely (code, CLI exit code) and makes nothing', async () => {
    const refused = async (variables: Record<string, string>, code: string, message: RegExp) => {
      const r = await f.daemon.gql(
        'mutation($d: String!, $n: String!) { createSnapshot(distribution: $d, name: $n) { id } }',
        variables,
        f.token,
      );
      assert.equal(r.errors?.[0]?.extensions?.code, code, JSON.stringify(r.errors));
      assert.match(r.errors![0]!.message, message);
    };
    await refused({ d: 'bookworm-nosuch-stable', n: 'x' }, 'DISTRIBUTION_UNKNOWN', /not a published distribution/);
    await refused({ d: DIST, n: 'before-2.0' }, 'ALREADY_EXISTS', /has a snapshot named before-2\.0 already/);
    for (const n of ['../../conf', 'a/b', '.x', 'with space', ''])
      await refused({ d: DIST, n }, 'BAD_USER_INPUT', /is not a snapshot name/);
    const past = await f.daemon.gql(
      `mutation { createSnapshot(distribution: "${DIST}", name: "late", expiresAt: "2000-01-01T00:00:00Z") { id } }`,
      {},
      f.token,
    );
    assert.equal(past.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const anonymous = await f.daemon.gql(`mutation { createSnapshot(distribution: "${DIST}", name: "y") { id } }`);
    assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');

    const cli = await f.daemon.cli(['snapshot', 'create', 'bookworm-nosuch-stable', 'x']);
    assert.equal(cli.exitCode, 1);
    assert.match(cli.stderr, /bookworm-nosuch-stable is not a published distribution/);
    assert.equal((await f.daemon.cli(['snapshot', 'create', DIST, 'y'], { token: null })).exitCode, 4);
    assert.equal((await f.daemon.cli(['snapshot', 'create', DIST])).exitCode, 2, 'no name');
    assert.equal((await f.daemon.cli(['snapshot', 'run', 'daily'])).exitCode, 2);
    const missing = await f.daemon.cli(['snapshot', 'delete', DIST, 'nosuch']);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /has no snapshot named nosuch \(it has before-2\.0\)/);

    const dir = path.join(f.daemon.dataDir, 'repositories/test/dists', DIST, 'snapshots');
    assert.deepEqual(await fs.readdir(dir), ['before-2.0'], 'nothing else was made');
    const ls = await f.daemon.cli(['snapshot', 'ls', '--json']);
    assert.deepEqual(
      (JSON.parse(ls.stdout) as SnapshotRow[]).map((s) => s.name),
      ['before-2.0'],
    );
  });

  it('ls, show, GraphQL and the console list the snapshot that holds the older version', async () => {
    const held = {
      repository: 'test',
      distribution: DIST,
      snapshot: 'before-2.0',
      version: V('1.0'),
      component: 'main',
    };
    const q = await f.gql<{
      package: { snapshots: (typeof held)[] };
      repositoryBrowser: {
        entries: {
          source: string;
          distribution: string;
          version: string;
          snapshots: { name: string; version: string }[];
        }[];
      };
    }>(
      `{ package(source: "hello-all") { snapshots { repository distribution snapshot version component } }
         repositoryBrowser(repository: "test") { entries { source distribution version snapshots { name version } } } }`,
    );
    assert.deepEqual(q.package.snapshots, [held]);
    assert.deepEqual(
      q.repositoryBrowser.entries.filter((e) => e.source === 'hello-all' && e.snapshots.length),
      [
        {
          source: 'hello-all',
          distribution: DIST,
          version: V('2.0'),
          snapshots: [{ name: 'before-2.0', version: V('1.0') }],
        },
      ],
    );

    const ls = await f.daemon.cli(['ls', 'hello-all']);
    assert.equal(ls.exitCode, 0, ls.stderr);
    const [versions, snapshots] = ls.stdout.split('in snapshots:');
    assert.match(versions!, new RegExp(`^test\\s+${DIST}\\s+${V('2.0').replace(/[.+]/g, '\\$&')}\\s+main\\b`, 'm'));
    assert.match(
      snapshots ?? '',
      new RegExp(`^test\\s+${DIST}\\s+before-2\\.0\\s+${V('1.0').replace(/[.+]/g, '\\$&')}\\s+main$`, 'm'),
    );
    const show = await f.daemon.cli(['show', 'hello-all', '--json']);
    assert.equal(show.exitCode, 0, show.stderr);
    assert.deepEqual((JSON.parse(show.stdout) as { snapshots: unknown }).snapshots, [held]);
    assert.match((await f.daemon.cli(['show', 'hello-all'])).stdout, /in snapshots:\n.*\n.*before-2\.0/);

    // The console: the package page and the repository browser (as anyone may read them).
    const page = await (await browser.newContext()).newPage();
    await page.goto('/packages/hello-all');
    await page
      .locator(
        `${tid('package-snapshot')}[data-distribution="${DIST}"][data-snapshot="before-2.0"][data-version="${V('1.0')}"]`,
      )
      .waitFor();
    await page.goto('/browse/test');
    const cell = page.locator(
      `${tid('browser-package')}[data-source="hello-all"] ${tid('browser-cell')}[data-distribution="${DIST}"]`,
    );
    assert.equal(await cell.getAttribute('data-version'), V('2.0'));
    await cell.locator(`${tid('browser-snapshot')}[data-snapshot="before-2.0"][data-version="${V('1.0')}"]`).waitFor();
  });

  it('the weekly schedule snapshots the stable suites and deletes expired snapshots; delete drops the references', async () => {
    const soon = new Date(Date.now() + 2000).toISOString();
    const r = await f.daemon.gql(
      `mutation($e: DateTimeISO) { createSnapshot(distribution: "${STABLE}", name: "short", expiresAt: $e) { expiresAt } }`,
      { e: soon },
      f.token,
    );
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const run = await f.daemon.cli(['snapshot', 'run', 'weekly']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^created: ${STABLE}/snapshots/weekly-${today()}$`, 'm'));
    assert.match(run.stdout, new RegExp(`^deleted: ${STABLE}/snapshots/short$`, 'm'));
    const again = await f.daemon.cli(['snapshot', 'run', 'weekly']);
    assert.match(again.stdout, /^created: none$/m, 'one a day');

    const ls = await f.daemon.cli(['snapshot', 'ls', '--json']);
    const rows = JSON.parse(ls.stdout) as SnapshotRow[];
    assert.deepEqual(
      rows.map((s) => [s.distribution, s.name, s.kind]),
      [
        [STABLE, `weekly-${today()}`, 'WEEKLY'],
        [DIST, 'before-2.0', 'MANUAL'],
      ],
    );
    assert.ok(Date.parse(rows[0]!.expiresAt!) > Date.now() + 27 * 86400_000, 'four weeks by default');
    const human = await f.daemon.cli(['snapshot', 'ls', DIST, '--apt']);
    assert.match(human.stdout, new RegExp(`^deb \\[signed-by=.*\\] .* ${DIST}/snapshots/before-2\\.0 main`));

    const del = await f.daemon.cli(['snapshot', 'delete', DIST, 'before-2.0']);
    assert.equal(del.exitCode, 0, del.stderr);
    assert.equal(
      (await fetch(`${f.daemon.httpUrl}/repositories/test/dists/${DIST}/snapshots/before-2.0/InRelease`)).status,
      404,
    );
    assert.deepEqual(
      (await snapshotReferences()).filter((l) => l.startsWith(`s=${DIST}=`)),
      [],
      'nothing references files for it any more',
    );
    await f.repreproCheck();
    const made = (await events('SNAPSHOT_CREATED')).map((e) => e.payload.name);
    const deleted = (await events('SNAPSHOT_DELETED')).map((e) => [e.payload.name, e.payload.reason ?? null]);
    assert.deepEqual(made.sort(), ['before-2.0', 'short', `weekly-${today()}`].sort());
    assert.equal(deleted.length, 2);
    assert.ok(deleted.some(([n, why]) => n === 'short' && /^expired /.test(String(why))));
  });

  it('the console lists snapshots with their apt lines, creates one, shows a refused name and deletes after confirming', async () => {
    const page = await browser.signedInPage('/repositories', 'admin', ADMIN_PASSWORD);
    await page.waitForURL(/\/repositories$/);
    const snapshots = page.locator(`${tid('snapshots')}[data-repository="test"]`);
    await snapshots.locator(`${tid('snapshot-row')}[data-name="weekly-${today()}"][data-kind="WEEKLY"]`).waitFor();

    await snapshots.locator(tid('snapshot-create-distribution')).fill(DIST);
    await snapshots.locator(tid('snapshot-create-name')).fill('console-1');
    await snapshots.locator(tid('snapshot-create-submit')).click();
    const row = snapshots.locator(`${tid('snapshot-row')}[data-name="console-1"]`);
    await row.waitFor();
    assert.match(
      await row.locator(tid('snapshot-apt-line')).innerText(),
      new RegExp(`${DIST}/snapshots/console-1 main`),
    );
    assert.equal(await row.locator(tid('snapshot-apt-line-copy')).count(), 1);
    await snapshots.locator(tid('snapshot-create-name')).fill('console-1');
    await snapshots.locator(tid('snapshot-create-submit')).click();
    await snapshots.locator(`${tid('snapshot-action-error')}[data-code="ALREADY_EXISTS"]`).waitFor();
    await snapshots.locator(tid('snapshot-create-name')).fill('../x');
    await snapshots.locator(tid('snapshot-create-submit')).click();
    await snapshots.locator(`${tid('snapshot-action-error')}[data-code="BAD_USER_INPUT"]`).waitFor();

    await row.locator(tid('snapshot-delete')).click();
    const confirmation = row.locator(tid('snapshot-delete-confirmation'));
    assert.match(await confirmation.innerText(), /apt clients following .*console-1 lose it/s);
    await confirmation.locator(tid('snapshot-delete-confirm')).click();
    await row.waitFor({ state: 'detached' });

    // Anonymous readers see the list and the apt lines, not the form or the delete buttons.
    const anonymous = await (await browser.newContext()).newPage();
    await anonymous.goto('/repositories');
    const list = anonymous.locator(`${tid('snapshots')}[data-repository="test"]`);
    await list.locator(`${tid('snapshot-row')}[data-name="weekly-${today()}"]`).waitFor();
    assert.equal(await list.locator(tid('snapshot-create-form')).count(), 0);
    assert.equal(await list.locator(tid('snapshot-delete')).count(), 0);
  });

  it('removing a repository removes its snapshots: their rows and their published directories', async () => {
    const before = JSON.parse((await f.daemon.cli(['snapshot', 'ls', '--json'])).stdout) as SnapshotRow[];
    assert.ok(before.length > 0, 'the weekly snapshot is there');
    const removed = await f.daemon.cli(['config', 'repository', 'remove', 'test'], { timeoutMs: 120_000 });
    assert.equal(removed.exitCode, 0, removed.stdout + removed.stderr);
    const after = await f.daemon.cli(['snapshot', 'ls', '--json']);
    assert.equal(after.exitCode, 0, after.stderr);
    assert.deepEqual(JSON.parse(after.stdout), []);
    const rows = await f.gql<{ snapshots: unknown[]; package: { snapshots: unknown[] } }>(
      '{ snapshots { name } package(source: "hello-all") { snapshots { snapshot } } }',
    );
    assert.deepEqual(rows, { snapshots: [], package: { snapshots: [] } });
    for (const s of before)
      await assert.rejects(
        fs.stat(path.join(f.daemon.dataDir, 'repositories/test/dists', s.distribution, 'snapshots', s.name)),
        { code: 'ENOENT' },
      );
  });
});
