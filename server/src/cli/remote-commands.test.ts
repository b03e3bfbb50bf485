import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeRemotes, remoteState, type RemoteRow } from './remote-commands.js';

const grover: RemoteRow = {
  url: 'http://grover:8066',
  status: 'ACTIVE',
  checkState: 'CHECKED',
  checkedAt: '2026-11-22T07:00:00.000Z',
  problem: null,
  identity: 'grover',
  fingerprint: 'A'.repeat(40),
  version: '0.1.0',
  load: 0.5,
  chroots: ['bookworm:amd64', 'bookworm:i386'],
  builds: 1,
  packages: 0,
  seenAt: '2026-11-22T07:00:00.000Z',
  wakeCommand: [],
  wakeAttempts: 2,
  wakeIntervalSeconds: 5,
};

describe('debyard remote list', () => {
  it('names the state a person acts on', () => {
    assert.equal(remoteState(grover), 'active');
    assert.equal(remoteState({ status: 'PREPARED', checkState: 'AUTO_REACTIVATE' }), 'auto-reactivate');
    assert.equal(remoteState({ status: 'REMOVED', checkState: 'FAILED' }), 'removed (failed)');
  });

  it('shows load, chroots, when it was seen and why it fails', () => {
    const down = {
      ...grover,
      url: 'http://bert:8066',
      identity: 'bert',
      status: 'PREPARED',
      checkState: 'AUTO_REACTIVATE',
      load: -1,
      chroots: [],
      problem: 'cannot reach http://bert:8066: ECONNREFUSED',
    };
    const lines = describeRemotes([grover, down]).split('\n');
    assert.match(lines[0]!, /^URL\s+IDENTITY\s+STATE\s+LOAD\s+CHROOTS\s+SEEN\s+PROBLEM$/);
    assert.match(
      lines[1]!,
      /^http:\/\/grover:8066\s+grover\s+active\s+0\.50\s+bookworm:amd64 bookworm:i386\s+2026-11-22T07:00:00\.000Z/,
    );
    assert.match(
      lines[2]!,
      /^http:\/\/bert:8066\s+bert\s+auto-reactivate\s+stopped\s+-\s+.*cannot reach http:\/\/bert:8066: ECONNREFUSED$/,
    );
    assert.match(describeRemotes([]), /debyard remote add http:\/\/host:8066/);
  });
});
