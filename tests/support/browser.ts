// One browser set-up for the console's tests: Debian's chromium driven by playwright-core, contexts
// that record the pages' uncaught errors, signing in through the form, and screenshots of every page
// when a test fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO, type TestDaemon } from './daemon.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ADMIN_PASSWORD = 'correct horse battery staple';

const ARTIFACTS = path.join(REPO, 'tests/.artifacts');

export const tid = (id: string): string => `[data-testid="${id}"]`;

/** The path of `name` in the artifacts directory (created if need be), for screenshots to look at. */
export function artifact(name: string): string {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/** Debian's chromium, headless; every launch gets a fresh, throw-away profile (user-data dir). */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Nothing but the daemon: no background traffic, updates or sync.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Sets `username`'s password with the CLI, for signing in through the console. */
export async function setPassword(daemon: TestDaemon, username: string, password: string): Promise<void> {
  const r = await daemon.cli(['user', 'passwd', username], { input: `${password}\n` });
  assert.equal(r.exitCode, 0, r.stderr);
}

/** Fills in and submits the sign-in form on `page`, which must show it; does not wait for the answer. */
export async function submitSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.locator(tid('sign-in-username')).fill(username);
  await page.locator(tid('sign-in-password')).fill(password);
  await page.locator(tid('sign-in-submit')).click();
}

/** Signs in through the form on `page`, which must show it, and waits until the header names the user. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await submitSignIn(page, username, password);
  await page.locator(tid('user-name')).filter({ hasText: username }).waitFor();
}

export interface ConsoleBrowserOptions {
  baseURL: string;
  viewport: { width: number; height: number };
  /** Playwright's default timeout in every context. */
  timeoutMs: number;
  /** Starts the names of the screenshots taken when a test fails. */
  name: string;
}

/**
 * The browser of one suite. Its contexts record uncaught errors of their pages; `afterEach` takes
 * screenshots of every page when the test failed, closes the test's contexts and fails the test on
 * any uncaught error.
 */
export class ConsoleBrowser {
  private readonly pageErrors: string[] = [];
  private readonly testContexts: BrowserContext[] = [];

  private constructor(
    readonly browser: Browser,
    private readonly options: ConsoleBrowserOptions,
  ) {}

  static async launch(options: ConsoleBrowserOptions): Promise<ConsoleBrowser> {
    return new ConsoleBrowser(await launchChromium(), options);
  }

  /** A fresh profile with nobody signed in; closed after the running test unless `suite` keeps it open. */
  async newContext(scope: 'test' | 'suite' = 'test'): Promise<BrowserContext> {
    const { baseURL, viewport, timeoutMs } = this.options;
    const context = await this.browser.newContext({ baseURL, viewport });
    context.setDefaultTimeout(timeoutMs);
    context.on('page', (page) =>
      page.on('pageerror', (err) => this.pageErrors.push(`${page.url()}: ${err.stack ?? err.message}`)),
    );
    if (scope === 'test') this.testContexts.push(context);
    return context;
  }

  /** A page in a context kept open for the suite, signed in as `username` and sent on to `redirect`. */
  async signedInPage(redirect: string, username: string, password: string): Promise<Page> {
    const page = await (await this.newContext('suite')).newPage();
    await page.goto(`/sign-in?redirect=${redirect}`);
    await signIn(page, username, password);
    return page;
  }

  /** For the suite's `afterEach`. */
  async afterEach(t: { name: string }): Promise<void> {
    const errors = this.pageErrors.splice(0);
    if ('passed' in t && !t.passed) await this.saveFailureScreenshots(t.name);
    for (const context of this.testContexts.splice(0)) await context.close();
    assert.deepEqual(errors, [], 'the console threw uncaught errors');
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  /** Screenshots every open page into the artifacts directory, to see why `test` failed. */
  private async saveFailureScreenshots(test: string): Promise<void> {
    const pages = this.browser
      .contexts()
      .flatMap((context) => context.pages())
      .filter((page) => page.url() !== 'about:blank');
    for (const [i, page] of pages.entries()) {
      const file = artifact(`${this.options.name}-failed-${test.replace(/\W+/g, '-').slice(0, 60)}-${i}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(`${page.url()}: ${file}`);
    }
  }
}
