import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { schrootName } from '@debyard/server/dist/chroot/chroot-ops.js';
import { execa } from 'execa';
import type { Browser } from 'playwright-core';
import { ADMIN_PASSWORD, launchChromium, setPassword, signIn } from '../support/browser.js';
import { eventually, TestDaemon } from '../support/daemon.js';
import { checkBuildPageStreams, submitTestBuild, tid } from '../support/console-builds.js';
import { buildLogLags } from '../support/log-lag.js';
import { buildSourcePackage } from '../support/packages.js';
import { withChrootCopy } from '../support/pipeline.js';

/**
 * The builder end to end: a daemon sets up bookworm/amd64 with a real schroot chroot, then test builds
 * run real sbuild in it — arch:any, arch:all, an autopkgtest, a failing package — in parallel, with
 * live logs, cancel, a SIGKILL of the daemon mid-build, and bad input.
 */

interface BuildRow {
  id: string;
  source: string;
  state: string;
  result: string | null;
  failStage: string | null;
  reason: string | null;
  archAll: boolean;
  lintian: string;
  autopkgtest: string;
  startedAt: string | null;
  finishedAt: string | null;
  queuedAt: string;
  attempt: number;
}

const FIELDS =
  'id source state result failStage reason archAll lintian autopkgtest startedAt finishedAt queuedAt attempt';
const SETUP = ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test', '--chroots', '--apply'];
const DIST = 'bookworm-test-unstable';

describe('builds in a real chroot', { concurrency: false }, () => {
  let daemon: TestDaemon;
  let token: string;
  let sources: string;
  const dsc: Record<string, string> = {};

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const r = await daemon.gql<T>(query, variables, token);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!;
  };
  const build = async (id: string) =>
    (await gql<{ build: BuildRow }>(`query($id: ID!) { build(id: $id) { ${FIELDS} } }`, { id })).build;
  const testBuild = async (name: string, distribution = DIST) =>
    (
      await gql<{ testBuild: BuildRow }>(
        `mutation($dsc: String!, $d: String!) { testBuild(dsc: $dsc, distribution: $d, architecture: "amd64") { ${FIELDS} } }`,
        { dsc: dsc[name], d: distribution },
      )
    ).testBuild;
  const ended = (id: string, timeoutMs = 240_000) =>
    eventually(async () => {
      const b = await build(id);
      return b.state === 'BUILT' ? b : undefined;
    }, timeoutMs);
  const sessions = async () =>
    String((await execa('schroot', ['-l', '--all-sessions'], { reject: false })).stdout)
      .split('\n')
      .filter((l) => l.startsWith(`session:${schrootName(daemon.dataDir, 'bookworm-amd64')}-`));

  before(async () => {
    daemon = await TestDaemon.start();
    token = await daemon.adminToken;
    const setup = await withChrootCopy(daemon, () => daemon.cli(SETUP, { timeoutMs: 600_000 }));
    assert.equal(setup.exitCode, 0, setup.stdout + setup.stderr);
    // Edits mark dependants changed (the daemon → the repository): edit first, then prepare again.
    const slots = await daemon.cli(['config', 'daemon', 'set', 'daemon', 'maxParallelBuilds=2']);
    assert.equal(slots.exitCode, 0, slots.stderr);
    for (const [field, value] of [
      ['autopkgtestMode', 'errfail'],
      ['lintianMode', 'errfail'],
    ]) {
      const r = await daemon.cli(['config', 'distribution', 'set', 'bookworm', `${field}=${value}`]);
      assert.equal(r.exitCode, 0, r.stderr);
    }
    for (const [kind, key] of [
      ['daemon', 'daemon'],
      ['repository', 'test'],
    ]) {
      const pca = await daemon.cli(['config', kind!, 'pca', key!], { timeoutMs: 120_000 });
      assert.equal(pca.exitCode, 0, pca.stderr);
    }
    for (const step of ['stop', 'start']) assert.equal((await daemon.cli(['engine', step])).exitCode, 0);

    sources = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-sources-'));
    await fs.chmod(sources, 0o755);
    for (const name of ['hello-c', 'hello-all', 'hello-t', 'fail-pkg', 'slow-pkg'])
      dsc[name] = await buildSourcePackage(name, sources);
  });

  after(async () => {
    await daemon?.cli(['config', 'chroot', 'remove', 'bookworm-amd64'], { timeoutMs: 120_000 });
    await daemon?.dispose();
    if (sources) await fs.rm(sources, { recursive: true, force: true });
  });

  it('builds arch:any, arch:all, an autopkgtest and a failing package, two at a time, without interfering', async () => {
    const t0 = Date.now();
    const queued = await Promise.all(['hello-c', 'hello-all', 'hello-t', 'fail-pkg'].map((n) => testBuild(n)));
    // Queued builds are visible as queued at once.
    const listed = await gql<{ builds: { nodes: BuildRow[] } }>(`{ builds(first: 10) { nodes { ${FIELDS} } } }`);
    for (const q of queued) assert.ok(listed.builds.nodes.some((b) => b.id === q.id && b.state !== 'BUILT'));
    const [c, all, t, fail] = await Promise.all(queued.map((q) => ended(q.id)));

    assert.equal(c!.result, 'SUCCESSFUL', c!.reason ?? '');
    assert.ok(['PASS', 'WARN'].includes(c!.lintian), c!.lintian); // ERRFAIL: warnings pass
    assert.equal(all!.result, 'SUCCESSFUL', all!.reason ?? '');
    assert.equal(all!.archAll, true);
    assert.equal(t!.result, 'SUCCESSFUL', t!.reason ?? '');
    assert.equal(t!.autopkgtest, 'PASS');
    assert.equal(fail!.result, 'FAILED');
    assert.equal(fail!.failStage, 'build');

    const debs = await fs.readdir(path.join(daemon.dataDir, 'builds', c!.id, 'out'));
    assert.ok(
      debs.some((f) => /^hello-c_.*_amd64\.deb$/.test(f)),
      debs.join(' '),
    );
    assert.ok(
      (await fs.readdir(path.join(daemon.dataDir, 'builds', all!.id, 'out'))).some((f) => f.endsWith('_all.deb')),
    );

    // Two slots: some two builds overlapped in time, and still all came out right.
    const spans = [c!, all!, t!, fail!].map((b) => [Date.parse(b.startedAt!), Date.parse(b.finishedAt!)] as const);
    assert.ok(
      spans.some((a, i) => spans.some((b, j) => i !== j && a[0] < b[1] && b[0] < a[1])),
      'no two builds ran at the same time',
    );
    console.log(`# four builds in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // The log over HTTP, with Range, and through the CLI.
    const log = await fetch(`${daemon.httpUrl}/logs/${c!.id}`);
    assert.equal(log.status, 200);
    assert.match(await log.text(), /Status: successful/);
    const tail = await fetch(`${daemon.httpUrl}/logs/${c!.id}`, { headers: { range: 'bytes=0-9' } });
    assert.equal(tail.status, 206);
    assert.equal((await tail.text()).length, 10);
    const cli = await daemon.cli(['build-log', fail!.id]);
    assert.equal(cli.exitCode, 0);
    assert.match(cli.stdout, /Status: attempted/);
    const shown = await daemon.cli(['build', c!.id]);
    assert.match(shown.stdout, /state: +successful/);
    const listedCli = await daemon.cli(['builds', '--result', 'failed', '--json']);
    assert.deepEqual(
      JSON.parse(listedCli.stdout).nodes.map((b: BuildRow) => b.id),
      [fail!.id],
    );
  });

  it('streams a running build’s log within a second of sbuild writing it', async () => {
    const slow = await testBuild('slow-pkg');
    const logFile = path.join(daemon.dataDir, 'builds', slow.id, 'build.log');
    const lags = await buildLogLags({ httpUrl: daemon.httpUrl, buildId: slow.id, logFile, chunks: 5 });
    // Live, not at the end: each chunk came while the build (a 60 s sleep) ran. The targets (log within a
    // second, cancel within 2 s) are measured by bench/build-overhead.mjs on an idle machine; the bounds
    // here only hold the behaviour on a loaded one.
    assert.ok(lags.length >= 5, `only ${lags.length} chunks matched`);
    assert.ok(Math.max(...lags) < 5000, `log lag ${lags.join(', ')} ms`);
    console.log(`# log lag: ${lags.join(', ')} ms`);

    // Cancel kills the build (it would sleep a minute) and frees the slot, recorded as a cancel, not a failure.
    await eventually(async () => ((await build(slow.id)).state === 'BUILDING' ? true : undefined), 60_000);
    const t = Date.now();
    await gql('mutation($id: ID!) { cancelBuild(id: $id) { id } }', { id: slow.id });
    const cancelled = await ended(slow.id, 30_000);
    const ms = Date.now() - t;
    assert.equal(cancelled.result, 'CANCELLED');
    assert.match(cancelled.reason ?? '', /cancelled by admin/);
    assert.ok(ms < 20_000, `cancel took ${ms} ms`);
    console.log(`# cancel to slot free: ${ms} ms`);
    const { builders } = await gql<{ builders: { busy: number } }>('{ builders { busy } }');
    assert.equal(builders.busy, 0);
    assert.deepEqual(await sessions(), []);

    // Retry queues it again from scratch; a queued build is cancelled at once.
    const retried = await daemon.cli(['retry', slow.id, '--json']);
    assert.equal(retried.exitCode, 0, retried.stderr);
    assert.equal(JSON.parse(retried.stdout).attempt, 2);
    const cancel = await daemon.cli(['cancel', slow.id]);
    assert.equal(cancel.exitCode, 0, cancel.stderr);
    assert.equal((await ended(slow.id, 10_000)).result, 'CANCELLED');
  });

  it('takes a test build from the console and shows its log live, within a second, until the result', async () => {
    let browser: Browser | undefined;
    try {
      await setPassword(daemon, 'admin', ADMIN_PASSWORD);
      browser = await launchChromium();
      const page = await (await browser.newContext({ baseURL: daemon.httpUrl })).newPage();
      await page.goto('/sign-in?redirect=/builders');
      await signIn(page, 'admin', ADMIN_PASSWORD);
      await page.locator(tid('builders-summary')).waitFor();

      const refused = await submitTestBuild(page, daemon.httpUrl, {
        dsc: path.join(sources, 'nothing_1.0.dsc'),
        distribution: DIST,
        architecture: 'amd64',
      });
      assert.ok('error' in refused && refused.error.code === 'DSC_NOT_FOUND', JSON.stringify(refused));

      const queued = await submitTestBuild(page, daemon.httpUrl, {
        dsc: dsc['hello-t']!,
        distribution: DIST,
        architecture: 'amd64',
      });
      assert.ok('buildId' in queued, JSON.stringify(queued));
      const view = await await browser.contexts()[0]!.newPage();
      await view.goto(`/builds/${queued.buildId}`);
      // Whatever the file holds at some moment is on screen within a second.
      const logFile = path.join(daemon.dataDir, 'builds', queued.buildId, 'build.log');
      const lags: number[] = [];
      while ((await build(queued.buildId)).state !== 'BUILT' && lags.length < 20) {
        const size = await fs.stat(logFile).then(
          (st) => st.size,
          () => 0,
        );
        if (size === 0) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const t = Date.now();
        await view.waitForFunction(
          ([sel, n]) => Number(document.querySelector(sel as string)?.getAttribute('data-bytes') ?? 0) >= (n as number),
          [tid('build-log'), size] as const,
          { timeout: 5000 },
        );
        lags.push(Date.now() - t);
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(lags.length >= 3, `only ${lags.length} samples`);
      assert.ok(Math.max(...lags) < 1000, `console lag ${lags.join(', ')} ms`);
      console.log(`# console log lag: max ${Math.max(...lags)} ms over ${lags.length} samples`);
      const outcome = await checkBuildPageStreams(page, daemon.httpUrl, queued.buildId);
      assert.equal(outcome.result, 'SUCCESSFUL');
      assert.match(outcome.log, /autopkgtest/);
    } finally {
      await browser?.close();
    }
  });

  it('leaves no session and no build stuck in building after a SIGKILL of the daemon mid-build', async () => {
    const slow = await testBuild('slow-pkg');
    await eventually(async () => ((await build(slow.id)).state === 'BUILDING' ? true : undefined), 60_000);
    await new Promise((r) => setTimeout(r, 3000)); // well inside sbuild
    const { dataDir, httpPort, ftpPort } = daemon;
    await daemon.stop('SIGKILL');
    // sbuild gets TERM from setpriv's parent-death signal; one still installing build dependencies
    // ignores it until its build ends, so it is the restarted daemon that ends it and its session.
    daemon = await TestDaemon.start({ dataDir, httpPort, ftpPort });
    token = await daemon.adminToken;
    await eventually(async () => ((await sessions()).length === 0 ? true : undefined), 20_000);
    const again = await build(slow.id);
    assert.notEqual(again.state, 'BUILT');
    assert.equal(again.attempt, 2);
    await eventually(async () => ((await build(slow.id)).state === 'BUILDING' ? true : undefined), 60_000);
    await daemon.cli(['cancel', slow.id]);
    assert.equal((await ended(slow.id, 10_000)).result, 'CANCELLED');
  });

  it('refuses bad input precisely and leaves nothing behind', async () => {
    const broken = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-broken-'));
    await fs.chmod(broken, 0o755);
    try {
      const good = dsc['hello-c']!;
      const files = (await fs.readdir(path.dirname(good))).filter((f) => f.startsWith('hello-c_'));
      for (const f of files) await fs.copyFile(path.join(path.dirname(good), f), path.join(broken, f));
      const tarball = files.find((f) => f.endsWith('.tar.xz') || f.endsWith('.tar.gz'))!;
      const missing = path.join(broken, 'missing');
      await fs.mkdir(missing, { mode: 0o755 });
      await fs.copyFile(path.join(broken, path.basename(good)), path.join(missing, path.basename(good)));
      await fs.appendFile(path.join(broken, tarball), 'tampered');

      const cases: [string, string, string, string][] = [
        [path.join(missing, path.basename(good)), DIST, 'amd64', 'SOURCE_FILE_MISSING'],
        [path.join(broken, path.basename(good)), DIST, 'amd64', 'CHECKSUM_MISMATCH'],
        [path.join(broken, 'nothing.dsc'), DIST, 'amd64', 'DSC_NOT_FOUND'],
        [good, DIST, 'mips64el', 'UNKNOWN_ARCHITECTURE'],
        [good, 'bookworm-nosuch-unstable', 'amd64', 'UNKNOWN_DISTRIBUTION'],
      ];
      const before = await gql<{ builds: { totalCount: number } }>('{ builds { totalCount } }');
      for (const [file, dist, arch, code] of cases) {
        const r = await daemon.gql(
          'mutation($f: String!, $d: String!, $a: String!) { testBuild(dsc: $f, distribution: $d, architecture: $a) { id } }',
          { f: file, d: dist, a: arch },
          token,
        );
        assert.equal(r.errors?.[0]?.extensions?.code, code, JSON.stringify(r.errors));
        const cli = await daemon.cli(['test-build', file, '-d', dist, '-a', arch]);
        assert.equal(cli.exitCode, 1);
        assert.match(cli.stderr, /debyard: /);
      }
      const afterCount = await gql<{ builds: { totalCount: number } }>('{ builds { totalCount } }');
      assert.equal(afterCount.builds.totalCount, before.builds.totalCount, 'no refused build was queued');
      const leftovers = (await fs.readdir(path.join(daemon.dataDir, 'builds'))).filter((f) => f.startsWith('.'));
      assert.deepEqual(leftovers, []);
      // A .dsc by URL: fetched with its files and checked the same way.
      const server = http.createServer((req, res) => {
        const file = path.join(sources, path.basename(decodeURIComponent(req.url ?? '')));
        fs.readFile(file).then(
          (body) => res.end(body),
          () => res.writeHead(404).end(),
        );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const gone = await daemon.gql(
          'mutation($f: String!) { testBuild(dsc: $f, distribution: "bookworm", architecture: "amd64") { id } }',
          { f: `${base}/nothing_1.0.dsc` },
          token,
        );
        assert.equal(gone.errors?.[0]?.extensions?.code, 'DSC_NOT_FOUND', JSON.stringify(gone.errors));
        const byUrl = await gql<{ testBuild: BuildRow }>(
          `mutation($f: String!) { testBuild(dsc: $f, distribution: "bookworm", architecture: "amd64") { ${FIELDS} } }`,
          { f: `${base}/${path.basename(dsc['hello-all']!)}` },
        );
        assert.equal(byUrl.testBuild.source, 'hello-all');
        assert.equal(byUrl.testBuild.archAll, true);
        await gql('mutation($id: ID!) { cancelBuild(id: $id) { id } }', { id: byUrl.testBuild.id });
        assert.equal((await ended(byUrl.testBuild.id, 10_000)).result, 'CANCELLED');
      } finally {
        await new Promise((r) => server.close(r));
      }
      // Only admins may test-build.
      const anon = await daemon.gql(
        'mutation { testBuild(dsc: "/x.dsc", distribution: "bookworm", architecture: "amd64") { id } }',
      );
      assert.equal(anon.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    } finally {
      await fs.rm(broken, { recursive: true, force: true });
    }
  });
});
