// Browser checks of the console's builders and build pages, shared by the console's own test and by
// the build suites that run real builds (they call `checkBuildPageStreams` with a build they queued).
import assert from 'node:assert/strict';
import { errors, type Page } from 'playwright-core';

import { tid } from './browser.js';

export { tid };

export interface BuildersFigures {
  slots: number;
  busy: number;
  queued: number;
  load: number;
}

/** Opens /builders and reads the summary (slots, busy, queued, load) as the page shows it. */
export async function openBuildersPage(page: Page, baseUrl: string): Promise<BuildersFigures> {
  await page.goto(`${baseUrl}/builders`);
  await page.locator(tid('builders-summary')).waitFor();
  const value = async (id: string): Promise<number> => Number(await page.locator(tid(id)).getAttribute('data-value'));
  return {
    slots: await value('builders-slots'),
    busy: await value('builders-busy'),
    queued: await value('builders-queued'),
    load: await value('builders-load'),
  };
}

/** A worker row as the builders page shows it: its name and its health tag. */
interface WorkerShown {
  name: string;
  health: string;
}

/**
 * Checks the Workers section of the builders page the browser shows (the caller opens it): one row per
 * expected worker, by name, its health "alive" or "not seen since …"; with none expected, the empty
 * state that says how to start one. The page reads its workers every 10 s, so this waits up to a minute
 * for them to match before it asserts.
 */
export async function checkWorkersSection(page: Page, expected: { name: string; alive: boolean }[]): Promise<void> {
  const section = page.locator(tid('workers'));
  await section.waitFor();
  const want = expected
    .map((w) => ({ name: w.name, alive: String(w.alive) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  try {
    await page.waitForFunction(
      ({ sel, want }) => {
        const section = document.querySelector(sel.section);
        if (!section) return false;
        const rows = Array.from(section.querySelectorAll(sel.row), (r) => ({
          name: r.getAttribute('data-worker') ?? '',
          alive: r.getAttribute('data-alive') ?? '',
        }));
        if (!want.length) return rows.length === 0 && section.querySelector(sel.empty) !== null;
        rows.sort((a, b) => a.name.localeCompare(b.name));
        return JSON.stringify(rows) === JSON.stringify(want);
      },
      { sel: { section: tid('workers'), row: tid('worker-row'), empty: tid('workers-empty') }, want },
      { timeout: 60_000 },
    );
  } catch (err) {
    // The assertions below say what the page shows instead.
    if (!(err instanceof errors.TimeoutError)) throw err;
  }

  const rows = section.locator(tid('worker-row'));
  const shown: WorkerShown[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    shown.push({
      name: (await row.getAttribute('data-worker')) ?? '',
      health: ((await row.locator(tid('worker-health')).textContent()) ?? '').trim(),
    });
  }
  const empty = section.locator(tid('workers-empty'));
  if (!expected.length) {
    assert.deepEqual(shown, [], 'no worker rows');
    assert.equal(await empty.count(), 1, 'the empty state shows');
    assert.match((await empty.textContent()) ?? '', /debyard worker --database URL --packager URL --token-file FILE/);
    return;
  }
  assert.equal(await empty.count(), 0, 'no empty state beside worker rows');
  assert.deepEqual(
    shown.map((w) => w.name).sort((a, b) => a.localeCompare(b)),
    want.map((w) => w.name),
    'one row per worker',
  );
  for (const w of expected) {
    const health = shown.find((s) => s.name === w.name)!.health;
    if (w.alive) assert.equal(health, 'alive', `${w.name} is alive`);
    else assert.match(health, /^not seen since \S/, `${w.name} is not alive`);
  }
}

export interface TestBuildInput {
  dsc: string;
  distribution: string;
  architecture: string;
}

export type TestBuildOutcome = { buildId: string } | { error: { code: string; message: string; field: string | null } };

/** Submits the admin's "Test build" form on /builders; the queued build's id, or the error it shows. */
export async function submitTestBuild(page: Page, baseUrl: string, input: TestBuildInput): Promise<TestBuildOutcome> {
  await page.goto(`${baseUrl}/builders`);
  const form = page.locator(tid('test-build-form'));
  await form.waitFor();
  await form.locator(tid('test-build-dsc')).fill(input.dsc);
  await form.locator(tid('test-build-distribution')).fill(input.distribution);
  await form.locator(tid('test-build-architecture')).fill(input.architecture);
  await form.locator(tid('test-build-submit')).click();
  const error = form.locator(tid('test-build-error'));
  const link = form.locator(tid('test-build-link'));
  await error.or(link).waitFor({ timeout: 60_000 });
  if (await link.count()) return { buildId: (await link.getAttribute('data-build-id'))! };
  return {
    error: {
      code: (await error.getAttribute('data-code')) ?? '',
      message: ((await error.textContent()) ?? '').trim(),
      field: await error.getAttribute('data-field'),
    },
  };
}

/** The log box's scroll position: whether its end is in view, and whether it scrolls at all. */
function logScroll(page: Page): Promise<{ atBottom: boolean; overflows: boolean; top: number }> {
  return page.locator(tid('build-log-text')).evaluate((el) => ({
    atBottom: el.scrollHeight - el.scrollTop - el.clientHeight <= 24,
    overflows: el.scrollHeight > el.clientHeight + 24,
    top: el.scrollTop,
  }));
}

export interface BuildPageOutcome {
  state: string;
  result: string | null;
  /** The log as the page showed it (identical to the raw log). */
  log: string;
}

/**
 * Opens /builds/<id> and follows the build to its end in the browser: the log streams (bytes grow,
 * the view keeps the end in view while following; scrolling up stops following, the toggle resumes
 * it), the stream completes, the header is read again and shows the result, and the text shown is
 * byte for byte the raw log at the "Raw log" link. Returns the final state, result and log.
 */
export async function checkBuildPageStreams(
  page: Page,
  baseUrl: string,
  buildId: string,
  opts: { timeoutMs?: number } = {},
): Promise<BuildPageOutcome> {
  const timeout = opts.timeoutMs ?? 600_000;
  await page.goto(`${baseUrl}/builds/${buildId}`);
  const header = page.locator(`${tid('build-header')}[data-build-id="${buildId}"]`);
  await header.waitFor();
  const log = page.locator(tid('build-log'));
  const follow = page.locator(tid('build-log-follow'));
  assert.equal(await follow.getAttribute('data-follow'), 'true', 'the log follows from the start');

  // Some output arrives (sbuild prints its header at once).
  await page.waitForFunction(
    (sel) => Number(document.querySelector(sel)?.getAttribute('data-bytes') ?? 0) > 0,
    tid('build-log'),
    { timeout },
  );

  if ((await log.getAttribute('data-state')) === 'streaming') {
    // While following, the end stays in view as the log grows.
    await page.waitForFunction(
      (sel) => {
        const el = document.querySelector(sel);
        return !!el && el.scrollHeight - el.scrollTop - el.clientHeight <= 24;
      },
      tid('build-log-text'),
      { timeout: 10_000 },
    );
  }
  const scroll = await logScroll(page);
  if (scroll.overflows) {
    // Scrolling up stops following: what the reader looks at stays put.
    await page.locator(tid('build-log-text')).evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await page.locator(`${tid('build-log-follow')}[data-follow="false"]`).waitFor();
    assert.equal((await logScroll(page)).top, 0);
    await follow.click();
    await page.locator(`${tid('build-log-follow')}[data-follow="true"]`).waitFor();
    assert.equal((await logScroll(page)).atBottom, true, 'following again jumps to the end');
  }

  await page.locator(`${tid('build-log')}[data-state="done"]`).waitFor({ timeout });
  // The end of the stream reads the build again: the header shows how it ended.
  await page.locator(`${tid('build-header')}[data-build-id="${buildId}"][data-state="BUILT"]`).waitFor({
    timeout: 30_000,
  });
  const result = await header.getAttribute('data-result');
  assert.ok(result, 'a built build has a result');
  assert.equal(await page.locator(`${tid('build-result')}[data-result="${result}"]`).count(), 1);
  assert.ok(await follow.isVisible());

  const raw = page.locator(tid('build-log-raw'));
  const href = await raw.getAttribute('href');
  assert.equal(href, `/logs/${buildId}`);
  // Fetched by the page itself: with its session, as the reader's click would.
  const rawText = await page.evaluate(async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.text();
  }, href!);
  const shown = (await page.locator(tid('build-log-text')).textContent()) ?? '';
  assert.equal(shown.length, rawText.length, 'the page shows the whole log, nothing twice');
  assert.equal(shown, rawText);
  assert.equal(Number(await log.getAttribute('data-bytes')), Buffer.byteLength(rawText));
  return { state: 'BUILT', result, log: shown };
}
