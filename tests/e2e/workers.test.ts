/**
 * Build workers end to end (issue 8, part 4): a packager on an external PostgreSQL with one build slot
 * and a real schroot chroot, and `debyard worker` processes (their own data directories) pointed at
 * its database and HTTP. A worker takes builds from the shared queue when the packager's slot is busy,
 * streams the log back, returns the .debs; a cancel reaches it; killed with SIGKILL mid-build, its build
 * goes back to the queue and is built again; a clean stop hands its row back. The worker API refuses
 * callers without an ADMIN token and results for builds that are not the worker's.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import type { Browser } from 'playwright-core';
import { ADMIN_PASSWORD, launchChromium, setPassword, signIn } from '../support/browser.js';
import { checkWorkersSection } from '../support/console-builds.js';
import { eventually, MAIN, TestDaemon } from '../support/daemon.js';
import { buildSourcePackage } from '../support/packages.js';
import { withChrootCopy } from '../support/pipeline.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from '../support/postgres.js';

interface BuildRow {
  id: string;
  state: string;
  result: string | null;
  reason: string | null;
  builder: string | null;
  attempt: number;
}
interface WorkerRow {
  name: string;
  host: string;
  slots: number;
  busy: number;
  alive: boolean;
}

const FIELDS = 'id state result reason builder attempt';
const DIST = 'bookworm-test-unstable';
const SETUP = ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test', '--chroots', '--apply'];

describe('build workers on the shared queue', { concurrency: false }, () => {
  let db: TestDatabase;
  let daemon: TestDaemon;
  let token: string;
  let work: string;
  const dsc: Record<string, string> = {};
  const workers = new Map<string, ResultPromise>();
  const workerDirs: string[] = [];
  /** What each worker printed (its JSON log), for the errors. */
  const output = new Map<string, string[]>();

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const r = await daemon.gql<T>(query, variables, token);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!;
  };
  const build = async (id: string) =>
    (await gql<{ build: BuildRow }>(`query($id: ID!) { build(id: $id) { ${FIELDS} } }`, { id })).build;
  const testBuild = async (name: string) =>
    (
      await gql<{ testBuild: BuildRow }>(
        `mutation($dsc: String!) { testBuild(dsc: $dsc, distribution: "${DIST}", architecture: "amd64") { ${FIELDS} } }`,
        { dsc: dsc[name] },
      )
    ).testBuild;
  /** The build once `ok` holds; on a timeout, the error says where it stands and what the daemon logged of it. */
  const until = (id: string, ok: (b: BuildRow) => boolean, timeoutMs = 300_000) =>
    eventually(async () => {
      const b = await build(id);
      return ok(b) ? b : undefined;
    }, timeoutMs).catch(async (err: Error) => {
      const logged = daemon.logs
        .split('\n')
        .filter((l) => l.includes(`"build":${id}`) || /worker|"level":[56]0/.test(l));
      const workerOutput = [...output.values()].map((o) => o.join('').slice(-3000));
      throw new Error(
        `${err.message}: build ${id} is ${JSON.stringify(await build(id))}\n${logged.slice(-30).join('\n')}\n${workerOutput.join('\n')}`,
      );
    });
  const listWorkers = async () =>
    (await gql<{ builders: { workers: WorkerRow[] } }>('{ builders { workers { name host slots busy alive } } }'))
      .builders.workers;

  /** Starts `debyard worker NAME` (as root: it drops to the debyard user) with a data directory of its own. */
  const startWorker = async (name: string) => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `debyard-e2e-worker-${name}-`));
    await fs.chmod(dataDir, 0o755);
    workerDirs.push(dataDir);
    const tokenFile = path.join(work, 'worker-token');
    await fs.writeFile(tokenFile, token, { mode: 0o600 });
    const proc = execa(
      process.execPath,
      [
        MAIN,
        'worker',
        '--database',
        db.url,
        '--packager',
        daemon.httpUrl,
        '--token-file',
        tokenFile,
        '--data-dir',
        dataDir,
        '--slots',
        '1',
        '--name',
        name,
      ],
      { env: { DEBYARD_LOG_LEVEL: 'info' }, reject: false, all: true },
    );
    workers.set(name, proc);
    const printed: string[] = [];
    output.set(name, printed);
    proc.all?.on('data', (d: Buffer) => printed.push(d.toString()));
    // Not returned: a ResultPromise is a thenable, and an async function would wait for the process to end.
    await eventually(async () => (await listWorkers()).find((w) => w.name === name && w.alive), 60_000);
  };

  before(async () => {
    db = await createTestDatabase();
    daemon = await TestDaemon.start({ databaseUrl: db.url });
    token = await daemon.adminToken;
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-workers-'));
    await fs.chmod(work, 0o755);
    const setup = await withChrootCopy(daemon, () => daemon.cli(SETUP, { timeoutMs: 600_000 }));
    assert.equal(setup.exitCode, 0, setup.stdout + setup.stderr);
    // One local slot (the default), no QA: what matters here is where builds run.
    for (const args of [
      ['config', 'distribution', 'set', 'bookworm', 'lintianMode=disabled'],
      ['config', 'distribution', 'set', 'bookworm', 'autopkgtestMode=disabled'],
      ['config', 'repository', 'pca', 'test'],
    ]) {
      const r = await daemon.cli(args, { timeoutMs: 120_000 });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    }
    for (const name of ['hello-c', 'slow-pkg']) dsc[name] = await buildSourcePackage(name, work);
  });

  after(async () => {
    for (const proc of workers.values()) proc.kill('SIGKILL');
    await daemon?.cli(['config', 'chroot', 'remove', 'bookworm-amd64'], { timeoutMs: 120_000 });
    await daemon?.dispose();
    await db?.drop();
    await stopScratchCluster();
    for (const dir of [work, ...workerDirs]) if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('a worker takes a build when the packager’s slot is busy; log, files and result come back', async () => {
    // The packager's one slot sleeps; then a worker starts, and the next build can only go to it.
    const slow = await testBuild('slow-pkg');
    const local = await until(slow.id, (b) => b.state === 'BUILDING', 120_000);
    assert.ok(local.builder && !local.builder.startsWith('worker-'), `${local.builder}`);
    await startWorker('worker-a');
    const listed = await listWorkers();
    assert.deepEqual(
      listed.map((w) => [w.name, w.host, w.slots, w.alive]),
      [['worker-a', os.hostname(), 1, true]],
    );
    const cli = await daemon.cli(['workers']);
    assert.equal(cli.exitCode, 0, cli.stderr);
    assert.match(cli.stdout, /worker-a/);

    const hello = await testBuild('hello-c');
    const done = await until(hello.id, (b) => b.state === 'BUILT');
    assert.equal(done.result, 'SUCCESSFUL', done.reason ?? '');
    assert.equal(done.builder, 'worker-a');
    // The log went to the packager as it grew, ending with sbuild's summary; the .debs are the packager's.
    const log = await (await fetch(`${daemon.httpUrl}/logs/${hello.id}`)).text();
    assert.match(log, /on the worker worker-a/);
    assert.match(log, /Status: successful/);
    const out = await fs.readdir(path.join(daemon.dataDir, 'builds', hello.id, 'out'));
    assert.ok(
      out.some((f) => /^hello-c_.*_amd64\.deb$/.test(f)),
      out.join(' '),
    );
    assert.ok(out.some((f) => f.endsWith('.changes')));
    const cancelled = await daemon.cli(['cancel', slow.id]);
    assert.equal(cancelled.exitCode, 0, cancelled.stderr);
    assert.equal((await until(slow.id, (b) => b.state === 'BUILT', 60_000)).result, 'CANCELLED');
  });

  it('a cancel reaches a build on the worker; the worker API refuses strangers and results that are not its own', async () => {
    const busy = await testBuild('slow-pkg');
    const onWorker = await testBuild('slow-pkg');
    // Whichever builder takes which: one runs on the packager, the other on the worker.
    const both = await Promise.all([busy, onWorker].map((b) => until(b.id, (x) => x.state === 'BUILDING', 120_000)));
    const remote = both.find((b) => b.builder === 'worker-a');
    const localOne = both.find((b) => b.builder !== 'worker-a');
    assert.ok(remote && localOne, JSON.stringify(both));
    // Into sbuild (its log reached the packager), then cancel.
    await eventually(async () => {
      const text = await (await fetch(`${daemon.httpUrl}/logs/${remote.id}`)).text();
      return /sleep 60/.test(text) || undefined;
    }, 180_000);
    // The packager restarts while the worker builds: start-up leaves a live worker's builds and job locks
    // alone (its own build goes back to the queue), and the worker's calls wait for it to come back.
    await daemon.stop();
    daemon = await TestDaemon.start({
      dataDir: daemon.dataDir,
      httpPort: daemon.httpPort,
      ftpPort: daemon.ftpPort,
      databaseUrl: db.url,
    });
    const kept = await build(remote.id);
    assert.deepEqual([kept.state, kept.builder, kept.attempt], ['BUILDING', 'worker-a', 1]);
    // The cancel reaches the worker through the restarted packager.
    const t = Date.now();
    const cancel = await daemon.cli(['cancel', remote.id]);
    assert.equal(cancel.exitCode, 0, cancel.stderr);
    const ended = await until(remote.id, (b) => b.state === 'BUILT', 60_000);
    assert.equal(ended.result, 'CANCELLED');
    assert.match(ended.reason ?? '', /cancelled by admin while building on the worker worker-a/);
    console.log(`# cancel on the worker, after the packager's restart: ${Date.now() - t} ms`);

    // The worker API: no token, an uploader's token, a result for a build that is not running there.
    const api = `${daemon.httpUrl}/api/worker/builds/${remote.id}`;
    const post = (route: string, body: object, auth?: string) =>
      fetch(api + route, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        body: JSON.stringify(body),
      });
    const anonymous = await post('/start', { worker: 'worker-a' });
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { code: string }).code, 'UNAUTHENTICATED');
    const late = await post(
      '/result',
      {
        worker: 'worker-a',
        result: 'SUCCESSFUL',
        failStage: null,
        reason: 'built',
        sbuildSeconds: 1,
        qaSeconds: null,
        lintian: 'NOT_RUN',
        autopkgtest: 'NOT_RUN',
      },
      token,
    );
    assert.equal(late.status, 409);
    assert.match(((await late.json()) as { message: string }).message, /not building/);
    assert.equal((await build(remote.id)).result, 'CANCELLED');
    const stranger = await post('/start', { worker: 'worker-z' }, token);
    assert.equal(stranger.status, 409);
    const badName = await post('/start', { worker: '../x' }, token);
    assert.equal(badName.status, 400);

    const local = await daemon.cli(['cancel', localOne.id]);
    assert.equal(local.exitCode, 0, local.stderr);
    await until(localOne.id, (b) => b.state === 'BUILT', 60_000);
  });

  it('a worker killed mid-build: the build goes back to the queue and is built again; a clean stop leaves no row', async () => {
    // Two long builds: one on the packager's slot, one on the worker.
    const queued = [await testBuild('slow-pkg'), await testBuild('slow-pkg')];
    const both = await Promise.all(queued.map((b) => until(b.id, (x) => x.state === 'BUILDING', 120_000)));
    const victim = both.find((b) => b.builder === 'worker-a');
    const other = both.find((b) => b.builder !== 'worker-a');
    assert.ok(victim && other, JSON.stringify(both));
    assert.equal(victim.attempt, 1);
    await eventually(async () => {
      const text = await (await fetch(`${daemon.httpUrl}/logs/${victim.id}`)).text();
      return /sleep 60/.test(text) || undefined;
    }, 180_000);
    const killed = Date.now();
    workers.get('worker-a')!.kill('SIGKILL');
    await workers.get('worker-a')!.catch(() => undefined);
    // The sweep finds it dead (30 s without a heartbeat) and puts the build back.
    await until(victim.id, (b) => b.attempt === 2, 120_000);
    console.log(`# SIGKILL to re-queued: ${Date.now() - killed} ms`);
    const { events } = await gql<{ events: { type: string; summary: string }[] }>(
      '{ events(limit: 100) { type summary } }',
    );
    assert.ok(
      events.some((e) => e.type === 'BUILD_REQUEUED' && /worker worker-a .*stopped answering/.test(e.summary)),
      JSON.stringify(events.filter((e) => e.type.startsWith('BUILD_'))),
    );
    // Its row goes once its locks are released, right after the builds went back.
    await eventually(async () => ((await listWorkers()).length === 0 ? true : undefined), 30_000);

    // The worker comes back, the packager's slot is freed, and the build is built (by either).
    await startWorker('worker-a');
    const proc = workers.get('worker-a')!;
    const cancel = await daemon.cli(['cancel', other.id]);
    assert.equal(cancel.exitCode, 0, cancel.stderr);
    const built = await until(victim.id, (b) => b.state === 'BUILT', 300_000);
    assert.equal(built.result, 'SUCCESSFUL', built.reason ?? '');
    assert.equal(built.attempt, 2);

    // The console's builders page lists it.
    let browser: Browser | undefined;
    try {
      await setPassword(daemon, 'admin', ADMIN_PASSWORD);
      browser = await launchChromium();
      const page = await (await browser.newContext({ baseURL: daemon.httpUrl })).newPage();
      await page.goto('/sign-in?redirect=/builders');
      await signIn(page, 'admin', ADMIN_PASSWORD);
      await checkWorkersSection(page, [{ name: 'worker-a', alive: true }]);
    } finally {
      await browser?.close();
    }

    // SIGTERM: a clean stop deletes its row.
    proc.kill('SIGTERM');
    const exit = await proc;
    assert.equal(exit.exitCode, 0, String(exit.all));
    assert.deepEqual(await listWorkers(), []);
  });
});
