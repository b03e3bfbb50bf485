import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT } from './api-client.js';
import { describePlan, describePorts, UploadWaiter } from './port-commands.js';

describe('debyard port', () => {
  it('--wait settles each new upload once, by its id, and exits 0 only when all were installed', () => {
    const waiter = new UploadWaiter(['7', '8']);
    assert.equal(waiter.see({ type: 'PACKAGING', payload: { upload: 7 } }), false);
    assert.equal(waiter.see({ type: 'INSTALLED', payload: { upload: 6 } }), false, 'another upload');
    assert.equal(waiter.see({ type: 'INSTALLED', payload: { upload: 7 } }), true);
    assert.equal(waiter.see({ type: 'FAILED', payload: { upload: 7 } }), false, 'settled already');
    assert.equal(waiter.done, false);
    assert.equal(waiter.see({ type: 'REJECTED', payload: { upload: 8 } }), true);
    assert.equal(waiter.done, true);
    assert.deepEqual(waiter.outcomes, { 7: 'INSTALLED', 8: 'REJECTED' });
    assert.equal(waiter.exitCode, EXIT.FAILED);

    const good = new UploadWaiter(['9']);
    good.see({ type: 'INSTALLED', payload: { upload: 9 } });
    assert.equal(good.exitCode, EXIT.OK);
  });

  it('says what a plan would upload and what a port made', () => {
    const plan = describePlan({
      source: 'hello',
      from: 'bookworm-test-unstable',
      fromVersion: '1.0~test12+1',
      options: ['lintian-mode=ignore'],
      rebuildStamp: '20250102030405',
      targets: [
        { distribution: 'bookworm-test-experimental', repository: 'test', version: '1.0~test12+0', rebuild: false },
        {
          distribution: 'bookworm-test-unstable',
          repository: 'test',
          version: '1.0~test12+1+rebuilt20250102030405',
          rebuild: true,
        },
      ],
    });
    assert.match(plan, /^hello 1\.0~test12\+1 from bookworm-test-unstable would be uploaded.*lintian-mode=ignore/);
    assert.match(plan, /bookworm-test-experimental\s+1\.0~test12\+0\s+port/);
    assert.match(plan, /bookworm-test-unstable\s+1\.0~test12\+1\+rebuilt20250102030405\s+rebuild/);
    const made = describePorts([
      {
        id: '7',
        state: 'RECEIVED',
        source: 'hello',
        version: '1.0~test12+0',
        distribution: 'bookworm-test-experimental',
        changesName: 'hello_1.0~test12+0_source.changes',
        port: { from: 'bookworm-test-unstable', fromVersion: '1.0~test12+1', by: 'admin', autoPortOf: null },
      },
    ]);
    assert.match(made, /^hello 1\.0~test12\+1 from bookworm-test-unstable, signed by the instance key:/);
    assert.match(made, /7\s+bookworm-test-experimental\s+1\.0~test12\+0\s+received/);
  });
});
