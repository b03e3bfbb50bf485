// The console's configuration pages in a real browser (Debian's chromium, driven by playwright-core)
// against the real daemon: the setup wizard (preview as a diff, apply with live progress, idempotent),
// the pages per kind with lifecycle buttons, edit forms with the daemon's validation next to the
// field, the repository page, and what anonymous visitors do not get.
//
// The `it`s run in order and share one daemon, one browser and the admin's page; setup really
// fetches from deb.debian.org.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN_PASSWORD, artifact, ConsoleBrowser, setPassword, tid } from '../support/browser.js';
import { TestDaemon } from '../support/daemon.js';

/** Applying setup fetches Release files and keys from deb.debian.org and exports a repository. */
const APPLY_TIMEOUT_MS = 90_000;

interface FieldValue {
  name: string;
  value: unknown;
}

describe('configuration console: a real browser against the real daemon', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  let browser: ConsoleBrowser;
  let admin: BrowserContext;
  let page: Page;

  /** A field of a configuration object as GraphQL reports it, to check what the console did (or did not). */
  async function fieldValue(kind: string, key: string, field: string): Promise<unknown> {
    const r = await daemon.gql<{ configObject: { fields: FieldValue[] } }>(
      'query($kind: ConfigKind!, $key: String!) { configObject(kind: $kind, key: $key) { fields { name value } } }',
      { kind, key },
    );
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!.configObject.fields.find((f) => f.name === field)?.value;
  }

  async function screenshot(name: string): Promise<void> {
    // From the top: a full-page shot of a scrolled page draws the sticky header mid-page.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: artifact(name), fullPage: true });
  }

  /** The row of `key` on a configuration list page. */
  const row = (key: string) => page.locator(`${tid('config-row')}[data-key="${key}"]`);
  /** The form field `name` on an object page. */
  const field = (name: string) => page.locator(`${tid('config-field')}[data-field="${name}"]`);

  before(async () => {
    daemon = await TestDaemon.start();
    await setPassword(daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      name: 'config',
    });
    page = await browser.signedInPage('/setup', 'admin', ADMIN_PASSWORD);
    admin = page.context();
    await page.locator(tid('setup-form')).waitFor();
  });

  afterEach((t) => browser.afterEach(t));

  after(async () => {
    await browser?.close();
    await daemon?.dispose();
  });

  it('shows a bad setup input next to the form and leaves the configuration empty', async () => {
    await page.goto('/setup');
    await page.locator(tid('setup-codenames-other')).fill('bookwarm');
    await page.locator(tid('setup-preview')).click();
    const error = page.locator(tid('setup-error'));
    await error.waitFor();
    assert.equal(await error.getAttribute('data-code'), 'BAD_USER_INPUT');
    assert.match((await error.textContent()) ?? '', /unknown codename "bookwarm"/);
    assert.equal(await page.locator(tid('setup-report')).count(), 0);
    assert.equal(await page.locator(tid('setup-apply')).isDisabled(), true, 'apply without a preview');
    const repos = await daemon.gql<{ configObjects: unknown[] }>('{ configObjects(kind: REPOSITORY) { key } }');
    assert.deepEqual(repos.data?.configObjects, []);
  });

  it('previews bookworm/amd64/test as a diff, applies it with live progress, and a second preview changes nothing', async () => {
    await page.goto('/setup');
    assert.equal(await page.locator(tid('setup-codename-bookworm')).isChecked(), true);
    assert.equal(await page.locator(tid('setup-architectures')).inputValue(), 'amd64');
    assert.equal(await page.locator(tid('setup-repo-identity')).inputValue(), 'test');
    assert.equal(await page.locator(tid('setup-repo-layout')).inputValue(), 'Default');

    await page.locator(tid('setup-preview')).click();
    await page.locator(`${tid('setup-report')}[data-mode="preview"]`).waitFor();
    const entries = page.locator(tid('setup-entry'));
    const states = await entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    assert.ok(states.length > 5, `only ${states.length} entries`);
    assert.deepEqual([...new Set(states)].sort(), ['MISSING', 'SKIPPED']);
    const repository = page.locator(`${tid('setup-entry')}[data-kind="REPOSITORY"][data-key="test"]`);
    assert.equal(await repository.getAttribute('data-state'), 'MISSING');
    // What setup would set: the fields, from nothing.
    await repository.locator(tid('setup-entry-toggle')).click();
    await repository.locator(`${tid('setup-change')}[data-field="layout"]`).waitFor();
    assert.equal(
      await repository.locator(`${tid('setup-change')}[data-field="layout"] ${tid('setup-change-to')}`).textContent(),
      'Default',
    );
    const sloppy = page.locator(`${tid('setup-entry')}[data-key="Debian Backports:bookworm-backports-sloppy"]`);
    assert.equal(await sloppy.getAttribute('data-state'), 'SKIPPED');
    assert.match((await sloppy.locator(tid('setup-entry-note')).textContent()) ?? '', /left out: .*404/);

    await page.locator(tid('setup-apply')).click();
    // Progress comes from the event stream while the mutation still runs.
    await page.locator(`${tid('setup-report')}[data-mode="progress"]`).waitFor();
    await page.locator(tid('setup-entry-step')).first().waitFor({ timeout: APPLY_TIMEOUT_MS });
    await page.locator(`${tid('setup-report')}[data-mode="result"]`).waitFor({ timeout: APPLY_TIMEOUT_MS });
    const results = await entries.evaluateAll((els) =>
      els.map((e) => ({ key: e.getAttribute('data-key'), result: e.getAttribute('data-result') })),
    );
    assert.deepEqual(
      results.filter((r) => !['CREATED', 'SKIPPED'].includes(r.result ?? '')),
      [],
      'every object is created (or skipped)',
    );
    assert.equal(await sloppy.getAttribute('data-result'), 'SKIPPED');
    assert.equal(await page.locator(tid('setup-entry-error')).count(), 0);
    assert.equal(await page.locator(tid('setup-outcome')).getAttribute('data-failed'), '0');
    const progress = page.locator(tid('setup-progress'));
    assert.ok(Number(await progress.getAttribute('data-count')) > results.length, 'progress saw the CONFIG_* events');
    assert.ok((await page.locator(`${tid('setup-progress-event')}[data-event-type="CONFIG_ACTIVATED"]`).count()) > 0);
    await progress.locator('summary').click();
    await screenshot('config-console-setup-applied.png');

    await page.locator(tid('setup-preview')).click();
    await page.locator(`${tid('setup-report')}[data-mode="preview"]`).waitFor();
    const again = await entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    assert.deepEqual([...new Set(again)].sort(), ['SKIPPED', 'UNCHANGED']);
  });

  it('lists repository test as active and checked; editing its distribution marks it changed, PCA brings it back', async () => {
    await page.goto('/config/repository');
    await row('test').waitFor();
    assert.equal(await row('test').getAttribute('data-status'), 'ACTIVE');
    assert.equal(await row('test').getAttribute('data-check'), 'CHECKED');

    await page.goto('/config/distribution/bookworm');
    const lintian = field('lintianMode').locator(tid('config-field-input'));
    await lintian.waitFor();
    assert.equal(await lintian.inputValue(), 'ERRFAIL');
    await lintian.selectOption('WARNFAIL');
    await page.locator(tid('config-save')).click();
    const change = page.locator(`${tid('config-save-change')}[data-field="lintianMode"]`);
    await change.waitFor();
    assert.match((await change.textContent()) ?? '', /ERRFAIL → WARNFAIL/);
    assert.equal(await fieldValue('DISTRIBUTION', 'bookworm', 'lintianMode'), 'WARNFAIL');

    await page.locator(tid('nav-config')).click();
    await page.waitForURL((url) => url.pathname === '/config/repository');
    await page.locator(`${tid('config-row')}[data-key="test"][data-check="CHANGED"]`).waitFor();
    await row('test').locator(tid('config-action-pca')).click();
    await page.locator(`${tid('config-row')}[data-key="test"][data-status="ACTIVE"][data-check="CHECKED"]`).waitFor({
      timeout: 60_000,
    });
    const done = row('test').locator(tid('config-action-result'));
    await done.waitFor();
    assert.equal(await done.getAttribute('data-action'), 'PCA');
    assert.equal(await row('test').locator(tid('config-action-error')).count(), 0);
  });

  it('shows the daemon’s message next to a field with a bad value and changes nothing', async () => {
    await page.goto('/config/distribution/bookworm');
    const priority = field('internalAptPriority');
    await priority.locator(tid('config-field-input')).fill('abc');
    await page.locator(tid('config-save')).click();
    const error = priority.locator(tid('config-field-error'));
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /expected a whole number/);
    assert.equal(await page.locator(tid('config-field-error')).count(), 1, 'only that field is marked');
    assert.equal(await priority.locator(tid('config-field-input')).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator(tid('config-save-result')).count(), 0);
    assert.equal(await fieldValue('DISTRIBUTION', 'bookworm', 'internalAptPriority'), 1);

    await page.goto('/config/layout/Default');
    const suites = field('suites');
    const input = suites.locator(tid('config-field-input'));
    const before = await fieldValue('LAYOUT', 'Default', 'suites');
    const edited = (JSON.parse(await input.inputValue()) as { name: string; migratesTo: string | null }[]).map((s) =>
      s.name === 'unstable' ? { ...s, migratesTo: 'unstable' } : s,
    );
    await input.fill(JSON.stringify(edited, null, 2));
    await page.locator(tid('config-save')).click();
    await suites.locator(tid('config-field-error')).waitFor();
    assert.match((await suites.locator(tid('config-field-error')).textContent()) ?? '', /unstable migrates to itself/);
    assert.deepEqual(await fieldValue('LAYOUT', 'Default', 'suites'), before);
  });

  it('shows the apt lines, the archive key and the dput.cf section on the repository page', async () => {
    const r = await daemon.gql<{ archiveKey: { fingerprint: string } }>('{ archiveKey { fingerprint } }');
    const fingerprint = r.data!.archiveKey.fingerprint;
    await page.goto('/repositories');
    const card = page.locator(`${tid('repository-card')}[data-repository="test"]`);
    await card.waitFor();
    assert.equal(await card.locator(tid('repository-status')).getAttribute('data-status'), 'ACTIVE');
    assert.deepEqual(await card.locator(tid('repository-distribution')).allTextContents(), ['bookworm']);
    const sources = card.locator(tid('repository-sources'));
    await sources.waitFor();
    const oneLine = (await sources.textContent()) ?? '';
    assert.match(
      oneLine,
      new RegExp(`^deb \\[signed-by=\\S+\\] ${daemon.httpUrl}/repositories/test bookworm-test-unstable main\\b`, 'm'),
    );
    await card.locator(tid('repository-format-deb822')).check();
    await sources.filter({ hasText: 'Suites: bookworm-test-unstable' }).waitFor();

    const shown = page.locator(tid('archive-key-fingerprint'));
    assert.equal(await shown.getAttribute('data-fingerprint'), fingerprint);
    assert.equal(((await shown.textContent()) ?? '').replace(/\s/g, ''), fingerprint);
    assert.match((await page.locator(tid('archive-key-armored')).textContent()) ?? '', /BEGIN PGP PUBLIC KEY BLOCK/);
    const binary = await page.locator(tid('archive-key-binary-url')).getAttribute('href');
    assert.equal((await fetch(binary!)).status, 200);
    assert.match((await page.locator(tid('dput-config')).textContent()) ?? '', /method\s+= ftp/);

    await card.locator(tid('repository-format-one-line')).check();
    await admin.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.httpUrl });
    await card.locator(tid('repository-sources-copy')).click();
    await card.locator(`${tid('repository-sources-copy')}[data-state="copied"]`).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), oneLine);
    await screenshot('config-console-repositories.png');
  });

  it('gives anonymous visitors the pages to read, but no setup, lifecycle buttons or edit forms', async () => {
    const context = await browser.newContext();
    const anon = await context.newPage();
    await anon.goto('/config/repository');
    await anon.locator(`${tid('config-row')}[data-key="test"]`).waitFor();
    await anon.locator(tid('sign-in-link')).waitFor();
    assert.equal(await anon.locator(tid('nav-setup')).count(), 0);
    assert.equal(await anon.locator('[data-testid^="config-action-"]').count(), 0);
    assert.equal(await anon.locator(tid('config-new-button')).count(), 0);

    await anon.goto('/config/distribution/bookworm');
    await anon.locator(`${tid('config-field')}[data-field="lintianMode"] ${tid('config-field-value')}`).waitFor();
    assert.equal(await anon.locator(tid('config-field-input')).count(), 0);
    assert.equal(await anon.locator(tid('config-save')).count(), 0);

    await anon.goto('/repositories');
    await anon.locator(tid('repository-sources')).waitFor();

    await anon.goto('/setup');
    await anon.locator(tid('sign-in-form')).waitFor();
    assert.equal(new URL(anon.url()).pathname, '/sign-in');
    assert.equal(await anon.locator(tid('setup-form')).count(), 0);
  });
});
