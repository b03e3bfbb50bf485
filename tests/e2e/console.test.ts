// The web console in a real browser (Debian's chromium, driven by playwright-core) against the real
// daemon: status, sign-in, live events, admin-only controls, the explorer and sign-out.
//
// The `it`s run in order and share one daemon and one browser; the admin's page, signed in by the
// sign-in test, is reused by the tests after it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { execa } from 'execa';
import type { BrowserContext, Page, Request } from 'playwright-core';
import {
  ADMIN_PASSWORD,
  artifact,
  ConsoleBrowser,
  setPassword,
  signIn,
  submitSignIn,
  tid,
} from '../support/browser.js';
import { TestDaemon } from '../support/daemon.js';

const BOB_PASSWORD = 'bob has a long password too';

/** Whether `request` is the console's GraphQL operation `name`. */
function isOperation(request: Request, name: string): boolean {
  if (!request.url().endsWith('/graphql') || request.method() !== 'POST') return false;
  return (request.postDataJSON() as { operationName?: string } | null)?.operationName === name;
}

interface Status {
  identity: string;
  version: string;
  engineRunning: boolean;
}

describe('web console: a real browser against the real daemon', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  let browser: ConsoleBrowser;
  let workDir: string;
  /** The admin's context and page; signed in by the sign-in test. */
  let admin: BrowserContext;
  let adminPage: Page;

  async function cliStatus(): Promise<Status> {
    const r = await daemon.cli(['status', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    return JSON.parse(r.stdout) as Status;
  }

  /** Uploads `names` (a few bytes each) to the daemon's FTP incoming in one session. */
  async function ftpUpload(...names: string[]): Promise<void> {
    const files = names.map((name) => {
      const file = path.join(workDir, name);
      fs.writeFileSync(file, `${name}\n`);
      return file;
    });
    const upload = files.length === 1 ? files[0]! : `{${files.join(',')}}`;
    await execa('curl', ['-sS', '--max-time', '20', '-T', upload, `ftp://127.0.0.1:${daemon.ftpPort}/`]);
  }

  /** Lets the page run two frames, e.g. for an IntersectionObserver to report a scroll. */
  async function frames(page: Page): Promise<void> {
    await page.evaluate(
      () => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))),
    );
  }

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-console-'));
    daemon = await TestDaemon.start();
    await setPassword(daemon, 'admin', ADMIN_PASSWORD);
    const bob = await daemon.cli(['user', 'add', 'bob', '--role', 'uploader', '--password-stdin'], {
      input: `${BOB_PASSWORD}\n`,
    });
    assert.equal(bob.exitCode, 0, bob.stderr);
    browser = await ConsoleBrowser.launch({
      baseURL: daemon.httpUrl,
      viewport: { width: 1280, height: 720 },
      timeoutMs: 10_000,
      name: 'console',
    });
    admin = await browser.newContext('suite');
    adminPage = await admin.newPage();
  });

  afterEach((t) => browser.afterEach(t));

  after(async () => {
    await browser?.close();
    await daemon?.dispose();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('serves the console at / with the status panel, and at deep links', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const expected = await cliStatus();
    await page.goto('/');
    await page.locator(tid('status-identity')).waitFor();
    assert.equal(await page.locator(tid('status-identity')).textContent(), expected.identity);
    assert.equal(await page.locator(tid('status-version')).textContent(), expected.version);
    assert.equal(await page.locator(tid('status-engine')).getAttribute('data-running'), String(expected.engineRunning));
    assert.equal(expected.engineRunning, true);
    assert.ok((await page.locator(tid('app-identity')).textContent())?.includes(expected.identity));

    // History fallback: the daemon answers a console route with the console itself.
    const response = await page.goto('/events');
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()['content-type'] ?? '', /^text\/html/);
    await page.locator(tid('event-feed')).waitFor();
    await page
      .locator(`${tid('event-item')}[data-event-type="DAEMON_STARTED"]`)
      .first()
      .waitFor();
    assert.equal(new URL(page.url()).pathname, '/events');
  });

  it('signs in: a wrong password is refused, the right one holds across a reload in an HTTP-only cookie', async () => {
    const page = adminPage;
    await page.goto('/sign-in');
    await submitSignIn(page, 'admin', 'not the password');
    const error = page.locator(tid('sign-in-error'));
    await error.waitFor();
    assert.equal(await error.getAttribute('data-code'), 'INVALID_CREDENTIALS');
    assert.equal(await page.locator(tid('user-name')).count(), 0);

    await signIn(page, 'admin', ADMIN_PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(await page.locator(tid('user-role')).textContent(), 'admin');

    await page.reload();
    await page.locator(tid('user-name')).waitFor();
    assert.equal(await page.locator(tid('user-name')).textContent(), 'admin');
    assert.equal(await page.locator(tid('user-role')).textContent(), 'admin');

    const cookies = await admin.cookies();
    const session = cookies.find((c) => c.name === 'debyard_session');
    assert.ok(session, `no session cookie among ${cookies.map((c) => c.name).join(', ') || 'none'}`);
    assert.equal(session.httpOnly, true);
    const visible = await page.evaluate(() => document.cookie);
    assert.ok(!visible.includes(session.value), 'the session cookie is readable from JavaScript');
    assert.ok(!visible.includes('debyard_session'), `document.cookie shows the session: ${visible}`);
  });

  it('shows an FTP upload in the live feed without a reload', async () => {
    const page = adminPage;
    await page.goto('/');
    await page.locator(`${tid('event-feed-live')}[data-state="connected"]`).waitFor();
    // A file no .changes claims: its FTP_UPLOAD event, then the session end removes it (another event).
    const name = `live-${Date.now()}.buildinfo`;
    await ftpUpload(name);
    const item = page.locator(`${tid('event-item')}[data-event-type="FTP_UPLOAD"]`).filter({ hasText: name });
    await item.waitFor();
    assert.ok((await item.locator(tid('event-summary')).textContent())?.includes(name));
    const cleaned = page.locator(`${tid('event-item')}[data-event-type="INCOMING_CLEANED"]`).filter({ hasText: name });
    await cleaned.waitFor();
    // New events go on top while the reader is there.
    assert.equal(
      await page.locator(tid('event-item')).first().getAttribute('data-event-id'),
      await cleaned.getAttribute('data-event-id'),
    );
  });

  it('holds new events behind "N new events" while the reader is scrolled down', async () => {
    const page = adminPage;
    // Enough events to scroll the page; one FTP session records one event per file.
    await ftpUpload(...Array.from({ length: 15 }, (_, i) => `filler-${i}.buildinfo`));
    await page.locator(tid('event-item')).filter({ hasText: 'filler-14.buildinfo' }).first().waitFor();
    // The session end removes the unclaimed files, with one event.
    await page
      .locator(tid('event-item'))
      .filter({ hasText: /removed filler-0\.buildinfo/ })
      .waitFor();
    const shown = await page.locator(tid('event-item')).count();

    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await frames(page);
    assert.ok(
      (await page.evaluate(() => window.scrollY)) > 200,
      'the page did not scroll: not enough events to push the feed past the viewport',
    );

    // Two files no .changes claims: one event per file, and one when the session end removes them.
    const names = ['held-1.buildinfo', 'held-2.buildinfo'];
    await ftpUpload(...names);
    const button = page.locator(tid('event-new-button'));
    await page.locator(`${tid('event-new-button')}[data-count="3"]`).waitFor();
    assert.match((await button.textContent()) ?? '', /3 new events/);
    assert.match((await page.locator(tid('event-feed-announcement')).textContent()) ?? '', /3 new events/);
    assert.equal(await page.locator(tid('event-item')).count(), shown, 'the list moved under the reader');
    assert.equal(await page.locator(tid('event-item')).filter({ hasText: 'held-1' }).count(), 0);

    await button.click();
    await page.locator(tid('event-item')).filter({ hasText: 'held-2.buildinfo' }).first().waitFor();
    await page.locator(tid('event-item')).filter({ hasText: 'held-1.buildinfo' }).first().waitFor();
    assert.equal(await page.locator(tid('event-new-button')).count(), 0);
    assert.equal(await page.locator(tid('event-item')).count(), shown + 3);
    const ids = await page
      .locator(tid('event-item'))
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-event-id')));
    assert.equal(new Set(ids).size, ids.length, 'an event is shown twice');
  });

  it('lets an admin stop and start the engine', async () => {
    const page = adminPage;
    await page.goto('/');
    await page.evaluate(() => window.scrollTo(0, 0));
    const engine = page.locator(tid('status-engine'));
    await page.locator(`${tid('status-engine')}[data-running="true"]`).waitFor();

    await page.locator(tid('status-engine-stop')).click();
    await page.locator(`${tid('status-engine')}[data-running="false"]`).waitFor();
    assert.equal((await engine.textContent())?.trim(), 'stopped');
    assert.equal((await cliStatus()).engineRunning, false);
    await page
      .locator(`${tid('event-item')}[data-event-type="ENGINE_STOPPED"]`)
      .first()
      .waitFor();
    assert.equal(await page.locator(tid('status-engine-stop')).isDisabled(), true);

    await page.locator(tid('status-engine-start')).click();
    await page.locator(`${tid('status-engine')}[data-running="true"]`).waitFor();
    assert.equal((await engine.textContent())?.trim(), 'running');
    assert.equal((await cliStatus()).engineRunning, true);
    await page
      .locator(`${tid('event-item')}[data-event-type="ENGINE_STARTED"]`)
      .first()
      .waitFor();
    assert.equal(await page.locator(tid('status-engine-error')).count(), 0);

    await page.screenshot({ path: artifact('console-dashboard.png') });
  });

  it('hides the engine controls from uploaders and anonymous visitors', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const me = page.waitForResponse((r) => isOperation(r.request(), 'Me'));
    await page.goto('/');
    await me;
    await page.locator(tid('status-engine')).waitFor();
    await page.locator(tid('sign-in-link')).waitFor();
    assert.equal(await page.locator(tid('status-engine-stop')).count(), 0);
    assert.equal(await page.locator(tid('status-engine-start')).count(), 0);

    await page.locator(tid('sign-in-link')).click();
    await signIn(page, 'bob', BOB_PASSWORD);
    assert.equal(await page.locator(tid('user-role')).textContent(), 'uploader');
    await page.locator(tid('status-engine')).waitFor();
    assert.equal(await page.locator(tid('status-engine-stop')).count(), 0);
    assert.equal(await page.locator(tid('status-engine-start')).count(), 0);
  });

  it('sends anonymous visitors of the explorer to sign in, then runs a query with our own GraphiQL', async () => {
    const context = await browser.newContext();
    const origin = new URL(daemon.httpUrl);
    const foreign: string[] = [];
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (['data:', 'blob:'].includes(url.protocol)) return;
      if (url.host !== origin.host) foreign.push(request.url());
    });
    const page = await context.newPage();
    page.on('websocket', (ws) => {
      if (new URL(ws.url()).host !== origin.host) foreign.push(ws.url());
    });
    await page.goto('/explorer');
    await page.locator(tid('sign-in-form')).waitFor();
    const url = new URL(page.url());
    assert.equal(url.pathname, '/sign-in');
    assert.equal(url.searchParams.get('redirect'), '/explorer');

    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.locator(`${tid('explorer')} .graphiql-container`).waitFor();
    assert.equal(new URL(page.url()).pathname, '/explorer');

    // Replace the prefilled query with our own, typed as a person would.
    const editor = page.locator('.graphiql-query-editor .CodeMirror');
    await editor.waitFor();
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{ status { identity } }');
    const typed = await editor.evaluate((el) =>
      (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue(),
    );
    assert.equal(typed.replace(/\s+/g, ' ').trim(), '{ status { identity } }');

    const { identity } = await cliStatus();
    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.graphiql-response .CodeMirror');
    await result.filter({ hasText: `"identity": "${identity}"` }).waitFor();
    assert.deepEqual(foreign, [], 'the explorer talked to hosts other than the daemon');
  });

  it('loads a page whose chunk is gone (the daemon was upgraded under an open tab) afresh', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto('/');
    await page.locator(tid('status-identity')).waitFor();
    // An upgrade replaces the hashed chunks the open tab knows: the first fetch of one fails.
    await context.route(/\/assets\/EventsPage-[^/]*\.js$/, (route) => route.abort(), { times: 1 });
    await page.locator(tid('nav-events')).click();
    await page.waitForURL((url) => url.pathname === '/events');
    await page.getByRole('heading', { name: 'All events' }).waitFor();
    await page
      .locator(`${tid('event-item')}[data-event-type="DAEMON_STARTED"]`)
      .first()
      .waitFor();
  });

  it('signs out back to an anonymous visitor', async () => {
    const page = adminPage;
    await page.goto('/');
    await page.locator(tid('user-name')).waitFor();
    await page.locator(tid('sign-out-button')).click();
    await page.locator(tid('sign-in-link')).waitFor();
    assert.equal(await page.locator(tid('user-name')).count(), 0);
    assert.equal(await page.locator(tid('status-engine-stop')).count(), 0);
    assert.equal(
      (await admin.cookies()).some((c) => c.name === 'debyard_session'),
      false,
    );

    // The user menu shows "Sign in" until the session is known: wait for the daemon's answer.
    const me = page.waitForResponse((r) => isOperation(r.request(), 'Me'));
    await page.reload();
    await me;
    await page.locator(tid('sign-in-link')).waitFor();
    assert.equal(await page.locator(tid('user-name')).count(), 0);
  });
});
