// The console's builders, builds and build pages in a real browser (Debian's chromium, driven by
// playwright-core) against the real daemon: the builders' figures, the admin's test-build form with
// the daemon's own error, the builds list's filters in the URL, and the build page's log view. A real
// build's log is checked by the build suites (they call `checkBuildPageStreams`); here the same check
// runs against a scripted build log, served over the page's real WebSocket, to cover following,
// a dropped socket in the middle of the log and the refetch when it ends without an engine.
//
// The `it`s run in order and share one daemon, one browser and the admin's page.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { ADMIN_PASSWORD, artifact, ConsoleBrowser, setPassword } from '../support/browser.js';
import { checkBuildPageStreams, openBuildersPage, submitTestBuild, tid } from '../support/console-builds.js';
import { TestDaemon } from '../support/daemon.js';

interface GraphQLError {
  message: string;
  extensions?: { code?: string; field?: string };
}

describe('builders console: a real browser against the real daemon', { timeout: 180_000 }, () => {
  let daemon: TestDaemon;
  let browser: ConsoleBrowser;
  let admin: BrowserContext;
  let page: Page;

  before(async () => {
    daemon = await TestDaemon.start();
    await setPassword(daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      name: 'builders',
    });
    page = await browser.signedInPage('/builders', 'admin', ADMIN_PASSWORD);
    admin = page.context();
    await page.locator(tid('builders-summary')).waitFor();
  });

  afterEach((t) => browser.afterEach(t));

  after(async () => {
    await browser?.close();
    await daemon?.dispose();
  });

  it('shows the builders’ slots, load, queue and chart as the daemon reports them, with the admin’s test-build form', async () => {
    const api = await daemon.gql<{ builders: { slots: number; busy: number; queued: number; load: number } }>(
      '{ builders { slots busy queued load } }',
    );
    assert.equal(api.errors, undefined, JSON.stringify(api.errors));
    const shown = await openBuildersPage(page, daemon.httpUrl);
    assert.deepEqual(shown, api.data!.builders);
    assert.equal(
      await page.locator(tid('builders-slots')).textContent(),
      String(api.data!.builders.slots),
      'the slots are on screen',
    );
    await page.locator(tid('builders-load-bar')).waitFor();
    await page.locator(tid('builders-running-empty')).waitFor();
    await page.locator(tid('builders-queue-empty')).waitFor();
    await page.locator(tid('builders-chart')).waitFor();
    await page.locator(tid('test-build-form')).waitFor();
    await page.locator(tid('nav-builders')).waitFor();
    await page.locator(tid('nav-builds')).waitFor();
    await page.screenshot({ path: artifact('builders-console-builders.png'), fullPage: true });
  });

  it('lists chroots with their state, phase, size and refresh, opens the output of the busy one, and gives anonymous visitors no controls (scripted chroot)', async () => {
    const chroot = new ScriptedChroot('bookworm-amd64');
    const context = await browser.newContext();
    await context.addCookies(await admin.cookies());
    const p = await context.newPage();
    await chroot.install(p);
    await p.goto('/builders');
    const row = p.locator(`${tid('chroot-row')}[data-key="bookworm-amd64"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'PREPARED');
    assert.equal(await row.getAttribute('data-check'), 'UNCHECKED');
    assert.equal(await row.getAttribute('data-phase'), 'updating');
    assert.equal(await row.locator(tid('chroot-size')).textContent(), '312 MiB');
    assert.equal(await row.locator(tid('chroot-backend')).textContent(), 'UNSHARE');
    await row.locator(`${tid('chroot-refreshed')} time`).waitFor();
    for (const action of ['prepare', 'check', 'activate', 'deactivate', 'remove']) {
      await row.locator(tid(`config-action-${action}`)).waitFor();
    }
    // The busy chroot's output opens by itself and streams to its end.
    await p.locator(`${tid('chroot-output-panel')}[data-key="bookworm-amd64"]`).waitFor();
    await p.locator(`${tid('chroot-output')}[data-state="done"]`).waitFor();
    assert.equal(await p.locator(tid('chroot-output-text')).textContent(), chroot.text);
    assert.equal(await p.locator(tid('chroot-output-raw')).getAttribute('href'), '/logs/chroots/bookworm-amd64');
    assert.deepEqual(chroot.subscribedAt, [0]);
    await p.screenshot({ path: artifact('builders-console-chroots.png'), fullPage: true });
    await p.locator(tid('chroot-output-close')).click();
    assert.equal(await p.locator(tid('chroot-output-panel')).count(), 0);
    await row.locator(tid('chroot-output-button')).click();
    await p.locator(`${tid('chroot-output')}[data-state="done"]`).waitFor();

    const anonymous = await browser.newContext();
    const anon = await anonymous.newPage();
    await chroot.install(anon);
    await anon.goto('/builders');
    await anon.locator(`${tid('chroot-row')}[data-key="bookworm-amd64"]`).waitFor();
    await anon.locator(tid('builders-summary')).waitFor();
    assert.equal(await anon.locator('[data-testid^="config-action-"]').count(), 0);
    assert.equal(await anon.locator(tid('test-build-form')).count(), 0);
  });

  it('shows the daemon’s precise error for a test build of a bogus .dsc, next to the input it names, and queues nothing', async () => {
    const input = { dsc: '/nonexistent/bogus_1.0-1.dsc', distribution: 'bookworm', architecture: 'amd64' };
    const api = await daemon.gql(
      'mutation($dsc: String!, $d: String!, $a: String!) { testBuild(dsc: $dsc, distribution: $d, architecture: $a) { id } }',
      { dsc: input.dsc, d: input.distribution, a: input.architecture },
      await daemon.adminToken,
    );
    const expected = (api.errors as GraphQLError[] | undefined)?.[0];
    assert.ok(expected, `the daemon refuses the test build: ${JSON.stringify(api)}`);
    // A domain error (this daemon has no distributions yet), not a document the schema refuses.
    assert.equal(expected.extensions?.code, 'UNKNOWN_DISTRIBUTION', expected.message);

    const outcome = await submitTestBuild(page, daemon.httpUrl, input);
    assert.ok('error' in outcome, `no error shown: ${JSON.stringify(outcome)}`);
    assert.deepEqual(outcome.error, {
      code: expected.extensions?.code ?? '',
      message: expected.message,
      field: expected.extensions?.field ?? null,
    });
    if (outcome.error.field) {
      const named = page.locator(tid(`test-build-${outcome.error.field}`));
      assert.equal(await named.getAttribute('aria-invalid'), 'true', 'the input the daemon names is marked');
    }
    assert.equal(await page.locator(tid('test-build-error')).count(), 1);
    assert.equal(await page.locator(tid('test-build-result')).count(), 0);

    const builds = await daemon.gql<{ builds: { totalCount: number } }>('{ builds { totalCount } }');
    assert.equal(builds.data?.builds.totalCount, 0);
  });

  it('keeps the builds list’s filters in the URL, across a reload, and says when nothing matches', async () => {
    await page.goto('/builds');
    await page.locator(tid('builds-empty')).waitFor();
    assert.equal(await page.locator(tid('builds-total')).getAttribute('data-count'), '0');

    await page.locator(tid('builds-filter-state')).selectOption('QUEUED');
    await page.waitForURL((url) => url.searchParams.get('state') === 'QUEUED');
    await page.locator(tid('builds-filter-source')).fill('hello');
    await page.locator(tid('builds-filter-source')).press('Enter');
    await page.waitForURL((url) => url.searchParams.get('source') === 'hello');
    await page.locator(tid('builds-empty')).filter({ hasText: 'match these filters' }).waitFor();

    await page.reload();
    await page.locator(tid('builds-empty')).waitFor();
    assert.equal(await page.locator(tid('builds-filter-state')).inputValue(), 'QUEUED');
    assert.equal(await page.locator(tid('builds-filter-source')).inputValue(), 'hello');

    await page.locator(tid('builds-filter-clear')).click();
    await page.waitForURL((url) => url.pathname === '/builds' && url.search === '');
    assert.equal(await page.locator(tid('builds-filter-state')).inputValue(), '');
  });

  it('says so for a build that does not exist', async () => {
    await page.goto('/builds/999999');
    await page.locator(tid('build-not-found')).waitFor();
  });

  it('streams a build log that follows, survives a dropped socket and ends with the build’s result (scripted log)', async () => {
    const context = await browser.newContext();
    await context.addCookies(await admin.cookies());
    const p = await context.newPage();
    const log = new ScriptedBuild('4242');
    await log.install(p);

    const outcome = await checkBuildPageStreams(p, daemon.httpUrl, log.id, { timeoutMs: 30_000 });
    assert.equal(outcome.result, 'SUCCESSFUL');
    assert.equal(outcome.log, log.text);
    // One drop: the second subscription asked for the bytes after those the page had.
    assert.deepEqual(log.subscribedAt, [0, log.droppedAt]);
    assert.ok(log.droppedAt > 0);

    const header = p.locator(tid('build-header'));
    assert.equal(await header.locator(tid('build-lintian')).getAttribute('data-result'), 'PASS');
    assert.equal(await header.locator(tid('build-autopkgtest')).getAttribute('data-result'), 'NOT_RUN');
    assert.equal(await header.locator(tid('build-attempt')).textContent(), '1');
    assert.equal(await header.locator(tid('build-sbuild-seconds')).getAttribute('data-seconds'), '61.5');
    await header.locator(tid('build-retry')).waitFor();
    assert.equal(await header.locator(tid('build-cancel')).count(), 0, 'a built build cannot be cancelled');
    await p.screenshot({ path: artifact('builders-console-build.png'), fullPage: true });
  });
});

/**
 * A build the daemon does not have: its `build` query answered by the route, its `buildLog`
 * subscription by a script on the page's real WebSocket (everything else goes on to the daemon).
 * The log grows in steps, the socket is dropped once in the middle, and the last chunk says done.
 */
class ScriptedBuild {
  readonly text: string;
  /** Offsets the page subscribed from. */
  readonly subscribedAt: number[] = [];
  /** Bytes sent before the socket was dropped. */
  droppedAt = 0;
  private state: 'BUILDING' | 'BUILT' = 'BUILDING';
  private dropped = false;

  constructor(readonly id: string) {
    const lines: string[] = [];
    for (let i = 1; i <= 900; i++) lines.push(`${String(i).padStart(4, '0')} dpkg-buildpackage: Ünïcødé ✓ step ${i}\n`);
    this.text = lines.join('');
  }

  private build(): Record<string, unknown> {
    const built = this.state === 'BUILT';
    return {
      __typename: 'Build',
      id: this.id,
      source: 'hello',
      version: '2.10-3',
      distribution: 'bookworm-test-unstable',
      architecture: 'amd64',
      archAll: true,
      chroot: 'bookworm-amd64',
      state: this.state,
      result: built ? 'SUCCESSFUL' : null,
      failStage: null,
      reason: null,
      cancelRequestedBy: null,
      queuedAt: '2026-11-22T00:00:00.000Z',
      startedAt: '2026-11-22T00:00:05.000Z',
      finishedAt: built ? '2026-11-22T00:01:10.000Z' : null,
      sbuildSeconds: built ? 61.5 : null,
      lintian: built ? 'PASS' : 'NOT_RUN',
      autopkgtest: 'NOT_RUN',
      attempt: 1,
      builder: 'local',
      testBuild: false,
      requestedBy: 'admin',
      logUrl: `/logs/${this.id}`,
    };
  }

  async install(page: Page): Promise<void> {
    await page.route('**/graphql', async (route) => {
      const body = route.request().postDataJSON() as { query?: string; variables?: { id?: string } } | null;
      if (body?.query?.includes('build(id:') && body.variables?.id === this.id) {
        return route.fulfill({ json: { data: { build: this.build() } } });
      }
      return route.fallback();
    });
    await page.route(`**/logs/${this.id}`, (route) =>
      route.fulfill({ body: this.text, contentType: 'text/plain; charset=utf-8' }),
    );
    await scriptSubscriptions(
      page,
      (query, variables) => query.includes('buildLog(') && variables.id === this.id,
      (ws, server, subscription, variables) => void this.stream(ws, server, subscription, variables.offset ?? 0),
    );
  }

  /** Sends the log from byte `offset` in steps; drops the socket once, halfway. */
  private async stream(
    ws: WebSocketRoute,
    server: WebSocketRoute,
    subscription: string,
    offset: number,
  ): Promise<void> {
    this.subscribedAt.push(offset);
    const bytes = Buffer.from(this.text);
    const send = (from: number, to: number, done: boolean) =>
      ws.send(
        JSON.stringify({
          id: subscription,
          type: 'next',
          payload: { data: { buildLog: { offset: from, text: bytes.subarray(from, to).toString('utf8'), done } } },
        }),
      );
    const lineEnd = (from: number, lines: number): number => {
      let at = from;
      for (let i = 0; i < lines && at < bytes.length; i++) at = bytes.indexOf(10, at) + 1;
      return at;
    };
    // Most of the log at once, as a replay of what was written before the page opened.
    let at = offset;
    if (offset === 0) {
      const next = lineEnd(at, 300);
      send(at, next, false);
      at = next;
    }
    while (at < bytes.length) {
      await new Promise((r) => setTimeout(r, 80));
      const next = lineEnd(at, 20);
      send(at, next, false);
      at = next;
      if (!this.dropped && at >= bytes.length / 2) {
        this.dropped = true;
        this.droppedAt = at;
        await ws.close({ code: 1011, reason: 'scripted drop' });
        await server.close();
        return;
      }
    }
    this.state = 'BUILT';
    send(at, at, true);
    ws.send(JSON.stringify({ id: subscription, type: 'complete' }));
  }
}

/**
 * A chroot the daemon does not have, busy updating: the builders page's chroot list answered by the
 * route, its `chrootLog` by a script on the page's real WebSocket.
 */
class ScriptedChroot {
  readonly text = '== updating bookworm-amd64 (UNSHARE)\n$ mmdebstrap --variant=buildd bookworm …\nI: done ✓\n';
  readonly subscribedAt: number[] = [];

  constructor(readonly key: string) {}

  private object(): Record<string, unknown> {
    const field = (name: string, type: string, value: unknown) => ({
      __typename: 'ConfigField',
      name,
      type,
      description: name,
      options: null,
      refKind: null,
      readOnly: true,
      value,
    });
    return {
      __typename: 'ConfigObject',
      kind: 'CHROOT',
      key: this.key,
      description: `${this.key} (unshare, 312 MiB, updating)`,
      lifecycle: true,
      status: 'PREPARED',
      checkState: 'UNCHECKED',
      checkedAt: null,
      problem: null,
      fields: [
        field('source', 'REFERENCE', 'Debian:bookworm'),
        field('architecture', 'STRING', 'amd64'),
        field('backend', 'ENUM', 'UNSHARE'),
        field('sizeBytes', 'INT', 312 * 2 ** 20),
        field('refreshedAt', 'STRING', new Date(Date.now() - 3600_000).toISOString()),
        field('phase', 'STRING', 'updating'),
      ],
    };
  }

  async install(page: Page): Promise<void> {
    await page.route('**/graphql', async (route) => {
      const body = route.request().postDataJSON() as { query?: string; variables?: { kind?: string } } | null;
      if (body?.query?.includes('configObjects(kind:') && body.variables?.kind === 'CHROOT') {
        return route.fulfill({ json: { data: { configObjects: [this.object()] } } });
      }
      return route.fallback();
    });
    await scriptSubscriptions(
      page,
      (query, variables) => query.includes('chrootLog(') && variables.key === this.key,
      (ws, _server, subscription, variables) => {
        this.subscribedAt.push(variables.offset ?? 0);
        const bytes = Buffer.from(this.text);
        const half = bytes.indexOf(10) + 1;
        const next = (from: number, to: number, done: boolean) =>
          ws.send(
            JSON.stringify({
              id: subscription,
              type: 'next',
              payload: {
                data: { chrootLog: { offset: from, text: bytes.subarray(from, to).toString('utf8'), done } },
              },
            }),
          );
        next(0, half, false);
        setTimeout(() => {
          next(half, bytes.length, false);
          next(bytes.length, bytes.length, true);
          ws.send(JSON.stringify({ id: subscription, type: 'complete' }));
        }, 200);
      },
    );
  }
}

interface SubscriptionVariables {
  id?: string;
  key?: string;
  offset?: number;
}

/**
 * Passes the page's GraphQL WebSocket through to the daemon, but for the subscriptions `claims`
 * picks: `serve` answers those on the page's side, and the page's `complete` for them goes nowhere.
 */
async function scriptSubscriptions(
  page: Page,
  claims: (query: string, variables: SubscriptionVariables) => boolean,
  serve: (ws: WebSocketRoute, server: WebSocketRoute, subscription: string, variables: SubscriptionVariables) => void,
): Promise<void> {
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    const server = ws.connectToServer();
    const mine = new Set<string>();
    ws.onMessage((message) => {
      const m = JSON.parse(String(message)) as {
        id?: string;
        type: string;
        payload?: { query?: string; variables?: SubscriptionVariables };
      };
      if (m.type === 'subscribe' && m.id && claims(m.payload?.query ?? '', m.payload?.variables ?? {})) {
        mine.add(m.id);
        serve(ws, server, m.id, m.payload?.variables ?? {});
        return;
      }
      if (m.type === 'complete' && m.id && mine.has(m.id)) return;
      server.send(message);
    });
    server.onMessage((message) => ws.send(message));
  });
}
