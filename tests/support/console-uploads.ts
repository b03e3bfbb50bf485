// Browser checks of the console's upload and package tracker pages, shared by the console's own test
// (empty states) and by the upload suites that run real uploads (they call `checkUploadPage` and
// `checkTrackerPage` with what they uploaded).
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

import { tid } from './browser.js';

export { tid };

export interface UploadPageExpectation {
  /** The state to wait for (the page follows the upload live), e.g. INSTALLED or REJECTED. */
  state: string;
  /** Part of the reason shown (REJECTED and FAILED show it prominently), or a pattern for it. */
  reason?: string | RegExp;
  /** The reject code shown next to it. */
  rejectCode?: string;
}

export interface UploadPageOutcome {
  state: string;
  reason: string | null;
  rejectCode: string | null;
  /** The builds as the page lists them, each with the link to its (live) log page. */
  builds: { id: string; architecture: string; state: string; result: string | null; href: string }[];
}

/**
 * Opens /uploads/<id>, waits until it shows `expected.state` (live: it may still be on its way), and
 * checks the reason and reject code are on screen when it was REJECTED or FAILED. Returns what it shows.
 */
export async function checkUploadPage(
  page: Page,
  baseUrl: string,
  uploadId: string,
  expected: UploadPageExpectation,
  opts: { timeoutMs?: number } = {},
): Promise<UploadPageOutcome> {
  const timeout = opts.timeoutMs ?? 600_000;
  await page.goto(`${baseUrl}/uploads/${uploadId}`);
  await page.locator(`${tid('upload-header')}[data-upload-id="${uploadId}"]`).waitFor();
  await page
    .locator(`${tid('upload-header')}[data-upload-id="${uploadId}"][data-state="${expected.state}"]`)
    .waitFor({ timeout });
  await page.locator(`${tid('upload-state')}[data-state="${expected.state}"]`).waitFor();

  const failed = expected.state === 'REJECTED' || expected.state === 'FAILED';
  const problem = page.locator(tid('upload-problem'));
  assert.equal(await problem.count(), failed ? 1 : 0, `the problem box shows exactly for REJECTED and FAILED`);
  const reasonBox = page.locator(tid('upload-reason'));
  const reason = (await reasonBox.count()) ? ((await reasonBox.textContent()) ?? '').trim() : null;
  const codeBox = page.locator(tid('upload-reject-code'));
  const rejectCode = (await codeBox.count()) ? await codeBox.getAttribute('data-code') : null;
  if (expected.reason !== undefined) {
    assert.ok(reason, 'the page shows a reason');
    if (typeof expected.reason === 'string') assert.ok(reason.includes(expected.reason), `reason: ${reason}`);
    else assert.match(reason, expected.reason);
  }
  if (expected.rejectCode !== undefined) assert.equal(rejectCode, expected.rejectCode);
  if (failed) assert.ok(await problem.isVisible(), 'the reason is in view');

  const rows = page.locator(tid('upload-build-row'));
  const builds: UploadPageOutcome['builds'] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    builds.push({
      id: (await row.getAttribute('data-build-id'))!,
      architecture: (await row.getAttribute('data-architecture'))!,
      state: (await row.getAttribute('data-state'))!,
      result: await row.getAttribute('data-result'),
      href: (await row.locator(tid('upload-build-link')).getAttribute('href'))!,
    });
  }
  for (const b of builds) assert.equal(b.href, `/builds/${b.id}`, 'each build links to its log page');
  return { state: expected.state, reason, rejectCode, builds };
}

export interface TrackerPageExpectation {
  /** Versions that must be listed (the page follows the package live, so they may still come). */
  versions: { distribution: string; version: string; repository?: string }[];
}

export interface TrackerPageOutcome {
  versions: { repository: string; distribution: string; version: string }[];
  uploads: { id: string; state: string }[];
  builds: { id: string; architecture: string; version: string; state: string; result: string | null }[];
  /** Series of the build time chart: architecture and how many versions it has a point for. */
  buildTimes: { architecture: string; points: number }[];
  events: { id: string; type: string }[];
}

/**
 * Opens /packages/<source>, waits until every expected version is listed, and reads the page:
 * versions, uploads, the newest build per version and architecture, the chart's series and the
 * history.
 */
export async function checkTrackerPage(
  page: Page,
  baseUrl: string,
  source: string,
  expected: TrackerPageExpectation,
  opts: { timeoutMs?: number } = {},
): Promise<TrackerPageOutcome> {
  const timeout = opts.timeoutMs ?? 120_000;
  await page.goto(`${baseUrl}/packages/${encodeURIComponent(source)}`);
  await page.locator(`${tid('package-title')}[data-source="${source}"]`).waitFor();
  await page
    .locator(`${tid('package-versions')}, ${tid('package-versions-empty')}`)
    .first()
    .waitFor();
  for (const v of expected.versions) {
    const repository = v.repository ? `[data-repository="${v.repository}"]` : '';
    await page
      .locator(
        `${tid('package-version')}[data-distribution="${v.distribution}"][data-version="${v.version}"]${repository}`,
      )
      .waitFor({ timeout });
  }
  const attrs = async <K extends string>(selector: string, names: readonly K[]) => {
    const found = page.locator(selector);
    const out: Record<K, string | null>[] = [];
    for (let i = 0; i < (await found.count()); i++) {
      const row = {} as Record<K, string | null>;
      for (const n of names) row[n] = await found.nth(i).getAttribute(`data-${n}`);
      out.push(row);
    }
    return out;
  };
  const versions = (await attrs(tid('package-version'), ['repository', 'distribution', 'version'] as const)).map(
    (v) => ({ repository: v.repository!, distribution: v.distribution!, version: v.version! }),
  );
  const uploads = (await attrs(tid('upload-row'), ['upload-id', 'state'] as const)).map((u) => ({
    id: u['upload-id']!,
    state: u.state!,
  }));
  const builds = (
    await attrs(tid('package-build-cell'), ['build-id', 'architecture', 'version', 'state', 'result'] as const)
  ).map((b) => ({
    id: b['build-id']!,
    architecture: b.architecture!,
    version: b.version!,
    state: b.state!,
    result: b.result,
  }));
  const buildTimes = (await attrs(tid('package-build-times-series'), ['architecture', 'points'] as const)).map((s) => ({
    architecture: s.architecture!,
    points: Number(s.points),
  }));
  const events = (
    await attrs(`${tid('package-events')} ${tid('event-item')}`, ['event-id', 'event-type'] as const)
  ).map((e) => ({ id: e['event-id']!, type: e['event-type']! }));
  return { versions, uploads, builds, buildTimes, events };
}

/** Opens /uploads (with `?state=`), and lists the rows shown: id, state, source. */
export async function openUploadsPage(
  page: Page,
  baseUrl: string,
  state?: string,
): Promise<{ id: string; state: string; source: string | null }[]> {
  await page.goto(`${baseUrl}/uploads${state ? `?state=${state}` : ''}`);
  await page
    .locator(`${tid('uploads-list')}, ${tid('uploads-empty')}`)
    .first()
    .waitFor();
  const rows = page.locator(tid('upload-row'));
  const out = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    out.push({
      id: (await row.getAttribute('data-upload-id'))!,
      state: (await row.getAttribute('data-state'))!,
      source: await row.getAttribute('data-source'),
    });
  }
  return out;
}
