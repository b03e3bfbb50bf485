// The console's package tracker, packages, uploads and upload pages and the event feed's filters in a
// real browser (Debian's chromium, driven by playwright-core) against the real daemon, before anything
// was uploaded: empty states, an unknown source, bad input named by the daemon; and the CLI's `ls`,
// `show`, `uploads`, `upload`, `retry --upload` and `events --exit-on` against the same daemon. The
// upload suites check these pages with real uploads through `tests/support/console-uploads.ts`.
//
// The `it`s run in order and share one daemon and one browser.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN_PASSWORD, ConsoleBrowser, artifact, setPassword, signIn } from '../support/browser.js';
import { checkTrackerPage, openUploadsPage, tid } from '../support/console-uploads.js';
import { TestDaemon } from '../support/daemon.js';

describe('package tracker console: a real browser against the real daemon', { timeout: 180_000 }, () => {
  let daemon: TestDaemon;
  let browser: ConsoleBrowser;

  before(async () => {
    daemon = await TestDaemon.start();
    await setPassword(daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      name: 'tracker',
    });
  });

  afterEach((t) => browser.afterEach(t));

  after(async () => {
    await browser?.close();
    await daemon?.dispose();
  });

  async function anonymousPage(): Promise<Page> {
    return (await browser.newContext()).newPage();
  }

  it('offers Packages and Uploads in the header, and says no package was uploaded yet', async () => {
    const page = await anonymousPage();
    await page.goto('/');
    await page.locator(tid('nav-packages')).click();
    await page.waitForURL(/\/packages$/);
    await page.locator(tid('packages-empty')).waitFor();
    assert.equal(await page.locator(tid('packages-list')).count(), 0);

    // A search goes into the URL; a whole source name offers its tracker.
    await page.locator(tid('packages-search')).fill('hello');
    await page.locator(tid('packages-search')).press('Enter');
    await page.waitForURL(/\/packages\?search=hello$/);
    await page.locator(tid('packages-empty')).filter({ hasText: 'hello' }).waitFor();
    await page.locator(tid('packages-open-exact')).click();
    await page.waitForURL(/\/packages\/hello$/);
    await page.locator(`${tid('package-title')}[data-source="hello"]`).waitFor();
    await page.screenshot({ path: artifact('tracker-console-packages.png'), fullPage: true });
  });

  it('shows an empty tracker for a source never uploaded, as the API answers it', async () => {
    const api = await daemon.gql<{
      package: {
        source: string;
        versions: unknown[];
        uploads: unknown[];
        builds: unknown[];
        events: unknown[];
        buildTimes: unknown[];
      };
    }>(
      '{ package(source: "no-such-package") { source versions { version } uploads { id } builds { id } events { id } buildTimes { seconds } } }',
    );
    assert.equal(api.errors, undefined, JSON.stringify(api.errors));
    assert.deepEqual(api.data!.package, {
      source: 'no-such-package',
      versions: [],
      uploads: [],
      builds: [],
      events: [],
      buildTimes: [],
    });

    const page = await anonymousPage();
    const shown = await checkTrackerPage(page, daemon.httpUrl, 'no-such-package', { versions: [] });
    assert.deepEqual(shown, { versions: [], uploads: [], builds: [], buildTimes: [], events: [] });
    for (const id of [
      'package-unknown',
      'package-versions-empty',
      'package-builds-empty',
      'package-build-times-empty',
      'package-uploads-empty',
      'package-events-empty',
    ])
      await page.locator(tid(id)).waitFor();
    assert.equal(await page.locator(tid('package-all-builds')).getAttribute('href'), '/builds?source=no-such-package');
    await page.screenshot({ path: artifact('tracker-console-unknown.png'), fullPage: true });
  });

  it('shows the daemon’s error for a name that is no source package name', async () => {
    const api = await daemon.gql('{ package(source: "Bad_Name") { source } }');
    assert.equal(api.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const page = await anonymousPage();
    await page.goto('/packages/Bad_Name');
    const error = page.locator(tid('package-error'));
    await error.waitFor();
    assert.equal(await error.getAttribute('data-code'), 'BAD_USER_INPUT');
    assert.match((await error.textContent()) ?? '', /"Bad_Name" is not a source package name/);
  });

  it('lists no uploads yet, keeps the state filter in the URL, and says when an upload does not exist', async () => {
    const page = await anonymousPage();
    await page.goto('/');
    await page.locator(tid('nav-uploads')).click();
    await page.locator(tid('uploads-empty')).waitFor();
    assert.equal(await page.locator(tid('uploads-total')).getAttribute('data-count'), '0');
    await page.locator(tid('uploads-filter-state')).selectOption('REJECTED');
    await page.waitForURL(/\/uploads\?state=REJECTED$/);
    await page.locator(tid('uploads-empty')).filter({ hasText: 'match these filters' }).waitFor();
    await page.locator(tid('uploads-filter-clear')).click();
    await page.waitForURL(/\/uploads$/);
    assert.deepEqual(await openUploadsPage(page, daemon.httpUrl, 'FAILED'), []);

    await page.goto('/uploads/999');
    await page.locator(tid('upload-not-found')).waitFor();
    await page.goto('/uploads/abc');
    assert.equal(await page.locator(tid('upload-error')).getAttribute('data-code'), 'BAD_USER_INPUT');
  });

  it('filters the live event feed by type and source, on the dashboard and in the events page’s URL', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto('/sign-in?redirect=/');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const feed = page.locator(tid('event-feed'));
    await feed.locator(`${tid('event-item')}[data-event-type="DAEMON_STARTED"]`).waitFor();

    await feed.locator(tid('event-filter-type')).selectOption('group:daemon');
    await feed.locator(`${tid('event-item')}[data-event-type="DAEMON_STARTED"]`).waitFor();
    assert.equal(await feed.locator(`${tid('event-item')}[data-event-type="USER_CREATED"]`).count(), 0);

    await feed.locator(tid('event-filter-source')).fill('hello');
    await feed.locator(tid('event-filter-source')).press('Enter');
    await feed.locator(tid('event-feed-filtered-empty')).waitFor();
    assert.equal(await feed.locator(tid('event-item')).count(), 0);

    // A new event the filter hides does not count as new; clearing the filter shows it at once.
    const stop = await daemon.cli(['engine', 'stop']);
    assert.equal(stop.exitCode, 0, stop.stderr);
    await feed.locator(tid('event-filter-clear')).click();
    await feed.locator(`${tid('event-item')}[data-event-type="ENGINE_STOPPED"]`).waitFor();
    assert.equal(await feed.locator(tid('event-new-button')).count(), 0);
    const start = await daemon.cli(['engine', 'start']);
    assert.equal(start.exitCode, 0, start.stderr);

    await page.goto('/events?type=ENGINE_STARTED');
    const all = page.locator(tid('event-feed'));
    await all
      .locator(`${tid('event-item')}[data-event-type="ENGINE_STARTED"]`)
      .first()
      .waitFor();
    assert.equal(await all.locator(tid('event-filter-type')).inputValue(), 'ENGINE_STARTED');
    assert.equal(await all.locator(`${tid('event-item')}:not([data-event-type="ENGINE_STARTED"])`).count(), 0);
    await all.locator(tid('event-filter-source')).fill('hello');
    await all.locator(tid('event-filter-source')).press('Enter');
    await page.waitForURL(/\/events\?type=ENGINE_STARTED&source=hello$/);
    await all.locator(tid('event-feed-filtered-empty')).waitFor();
    await page.screenshot({ path: artifact('tracker-console-event-filters.png'), fullPage: true });
  });
});

describe('package CLI against the real daemon', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;

  before(async () => {
    daemon = await TestDaemon.start();
  });

  after(async () => {
    await daemon?.dispose();
  });

  it('lists and shows a package never uploaded, and names a bad source name', async () => {
    const ls = await daemon.cli(['ls', 'hello']);
    assert.equal(ls.exitCode, 0, ls.stderr);
    assert.equal(ls.stdout.trim(), 'hello is in no repository');
    const json = await daemon.cli(['--json', 'ls', 'hello']);
    assert.deepEqual(JSON.parse(json.stdout), []);
    const show = await daemon.cli(['show', 'hello']);
    assert.equal(show.exitCode, 0, show.stderr);
    assert.match(show.stdout, /no uploads/);
    assert.match(show.stdout, /no builds/);
    const shown = JSON.parse((await daemon.cli(['--json', 'show', 'hello'])).stdout) as Record<string, unknown>;
    assert.deepEqual(shown, { source: 'hello', versions: [], snapshots: [], uploads: [], builds: [] });
    const bad = await daemon.cli(['ls', 'Bad_Name']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /"Bad_Name" is not a source package name/);
  });

  it('lists no uploads, and says when an upload does not exist or cannot be retried', async () => {
    const uploads = await daemon.cli(['uploads', '--state', 'rejected']);
    assert.equal(uploads.exitCode, 0, uploads.stderr);
    assert.equal(uploads.stdout.trim(), 'no uploads');
    const missing = await daemon.cli(['upload', '999']);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /there is no upload 999/);
    const retry = await daemon.cli(['retry', '--upload', '999']);
    assert.equal(retry.exitCode, 1, retry.stdout);
    const anonymous = await daemon.cli(['retry', '--upload', '1'], { token: null });
    assert.equal(anonymous.exitCode, 4, anonymous.stderr);
    assert.equal((await daemon.cli(['retry'])).exitCode, 2);
    assert.equal((await daemon.cli(['retry', '1', '--upload', '1'])).exitCode, 2);
  });

  it('follows events until one of --exit-on arrives, and refuses an event type the daemon does not know', async () => {
    const typo = await daemon.cli(['events', '--exit-on', 'INSTALL']);
    assert.equal(typo.exitCode, 2);
    assert.match(typo.stderr, /--exit-on: "INSTALL" is not an event type/);

    // The engine's events have no source: without --source any of them ends the wait, with exit 0.
    const waiting = daemon.cli(['events', '--exit-on', 'ENGINE_STOPPED', '--type', 'ENGINE_*', '-n', '0']);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await daemon.cli(['engine', 'stop'])).exitCode, 0);
    const done = await waiting;
    assert.equal(done.exitCode, 0, done.stderr);
    assert.match(done.stdout, /ENGINE_STOPPED/);
    assert.doesNotMatch(done.stdout, /DAEMON_STARTED/);
    assert.equal((await daemon.cli(['engine', 'start'])).exitCode, 0);

    // With --source, the engine's events do not end it: --since replays them, and it keeps waiting.
    const scoped = await daemon.cli(['events', '--since', '0', '--source', 'hello', '--exit-on', 'ENGINE_STARTED'], {
      timeoutMs: 3000,
    });
    assert.notEqual(scoped.exitCode, 0);
    assert.equal(scoped.stdout, '');
  });
});
