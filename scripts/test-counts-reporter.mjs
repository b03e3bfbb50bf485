// A node:test reporter that counts what ran and writes one JSON object at the end, for
// scripts/run-tests.mjs to print as its closing "N passed, N failed, N skipped" line.
// Suites are not counted (their tests are), except a suite that fails on its own account
// (a throwing describe body, a failing hook). A file that fails to load arrives as a failed test.
export default async function* countTests(source) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    const { data } = event;
    if (event.type === 'test:pass') {
      if (data.details?.type === 'suite') continue;
      if (data.skip !== undefined || data.todo !== undefined) counts.skipped++;
      else counts.passed++;
    } else if (event.type === 'test:fail') {
      if (data.todo !== undefined) counts.skipped++;
      else if (data.details?.type !== 'suite' || data.details?.error?.failureType !== 'subtestsFailed') counts.failed++;
    }
  }
  yield `${JSON.stringify(counts)}\n`;
}
