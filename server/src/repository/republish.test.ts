import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dueForResigning } from './republish.js';

const release = (validUntil?: string) =>
  [
    'Codename: bookworm-test-unstable',
    'Date: Sun, 01 Mar 2026 12:00:00 UTC',
    ...(validUntil ? [`Valid-Until: ${validUntil}`] : []),
    'SHA256:',
    ` ${'0'.repeat(64)} 0 main/binary-amd64/Packages`,
    '',
  ].join('\n');

describe('dueForResigning', () => {
  const now = new Date(Date.UTC(2026, 2, 4, 12));

  test('signs again once less than half of the validity is left', () => {
    // Valid for 7 days from 1 March: on 4 March 12:00, 4 days are left (more than 3.5).
    assert.equal(dueForResigning(release('Sun, 08 Mar 2026 12:00:00 UTC'), 7, now), false);
    // Three days left: due.
    assert.equal(dueForResigning(release('Sat, 07 Mar 2026 12:00:00 UTC'), 7, now), true);
    // Already run out: due.
    assert.equal(dueForResigning(release('Mon, 02 Mar 2026 12:00:00 UTC'), 7, now), true);
  });

  test('a Release without Valid-Until is due when the repository wants one, never otherwise', () => {
    assert.equal(dueForResigning(release(), 7, now), true);
    assert.equal(dueForResigning(release(), 0, now), false);
    assert.equal(dueForResigning(release('Mon, 02 Mar 2026 12:00:00 UTC'), 0, now), false);
  });

  test('a distribution that was never exported is not due (an export brings it)', () => {
    assert.equal(dueForResigning(null, 7, now), false);
  });
});
