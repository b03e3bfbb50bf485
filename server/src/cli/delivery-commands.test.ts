import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeKeyringTargets } from './keyring-commands.js';
import { describeSnapshots, type SnapshotRow } from './snapshot-commands.js';

describe('debyard keyring-package and snapshot output', () => {
  it('lists the keyring package per distribution: the upload, up to date, or why not', () => {
    const text = describeKeyringTargets('vm-archive-keyring', [
      {
        distribution: 'bookworm-test-unstable',
        version: '20261122035000~test12+1',
        state: 'UPLOADED',
        upload: { id: '12', state: 'RECEIVED' },
        reason: null,
      },
      {
        distribution: 'bookworm-x-unstable',
        version: '20261122035000~x12+1',
        state: 'UP_TO_DATE',
        upload: null,
        reason: null,
      },
      { distribution: 'trixie-test-unstable', version: '', state: 'REFUSED', upload: null, reason: 'inactive' },
    ]);
    assert.match(text, /^vm-archive-keyring, signed by the instance key:$/m);
    assert.match(text, /^bookworm-test-unstable\s+20261122035000~test12\+1\s+uploaded\s+12$/m);
    assert.match(text, /^bookworm-x-unstable\s+20261122035000~x12\+1\s+up to date\s+-$/m);
    assert.match(text, /^trixie-test-unstable\s+-\s+refused\s+inactive$/m);
  });

  it('lists snapshots with their kind, expiry and maker', () => {
    const row = (over: Partial<SnapshotRow>): SnapshotRow => ({
      id: '1',
      repository: 'test',
      distribution: 'bookworm-test-stable',
      name: 'weekly-2026-11-22',
      kind: 'WEEKLY',
      components: ['main'],
      createdAt: '2026-11-22T02:13:00.000Z',
      expiresAt: '2026-12-19T20:13:00.000Z',
      createdBy: null,
      aptLine: '',
      ...over,
    });
    const text = describeSnapshots([
      row({}),
      row({ name: 'release-1', kind: 'MANUAL', expiresAt: null, createdBy: 'admin' }),
    ]);
    assert.match(
      text,
      /^bookworm-test-stable\s+weekly-2026-11-22\s+weekly\s+\S+\s+2026-12-19T20:13:00\.000Z\s+schedule$/m,
    );
    assert.match(text, /^bookworm-test-stable\s+release-1\s+manual\s+\S+\s+never\s+admin$/m);
    assert.equal(describeSnapshots([]), 'no snapshots');
  });
});
