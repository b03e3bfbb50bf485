import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CheckState, ConfigStatus, Configurable, LifecycleError } from './lifecycle.js';

class Thing extends Configurable {}

const state = (t: Thing) => `${t.status}/${t.checkState}`;

describe('the configuration lifecycle (mini-buildd’s StatusModel)', () => {
  it('goes removed → prepared → checked → active', () => {
    const t = new Thing();
    assert.equal(state(t), 'REMOVED/UNCHECKED');
    t.markPrepared();
    assert.equal(state(t), 'PREPARED/UNCHECKED');
    t.markCheckPassed(new Date('2026-01-01'));
    assert.equal(state(t), 'PREPARED/CHECKED');
    assert.deepEqual(t.checkedAt, new Date('2026-01-01'));
    t.activate();
    assert.equal(state(t), 'ACTIVE/CHECKED');
  });

  it('refuses to activate what is not prepared, or was changed since', () => {
    const t = new Thing();
    assert.throws(() => t.activate(), LifecycleError);
    t.markPrepared();
    t.markCheckPassed();
    t.activate();
    t.markChanged();
    assert.equal(state(t), 'PREPARED/CHANGED');
    assert.throws(() => t.activate(), /changed since it was prepared/);
  });

  it('activating an unchecked object makes it activate itself after a passing check', () => {
    const t = new Thing();
    t.markPrepared();
    t.activate();
    assert.equal(state(t), 'PREPARED/AUTO_REACTIVATE');
    assert.equal(t.markCheckPassed(), true);
    assert.equal(state(t), 'ACTIVE/CHECKED');
  });

  it('an active object whose check fails drops to prepared and comes back by itself', () => {
    const t = new Thing();
    t.markPrepared();
    t.markCheckPassed();
    t.activate();
    t.markCheckFailed('mirror unreachable');
    assert.equal(state(t), 'PREPARED/AUTO_REACTIVATE');
    assert.equal(t.problem, 'mirror unreachable');
    assert.equal(t.isActiveOrReactivating(), true);
    t.markCheckFailed('still unreachable');
    assert.equal(state(t), 'PREPARED/AUTO_REACTIVATE');
    assert.equal(t.markCheckPassed(), true);
    assert.equal(state(t), 'ACTIVE/CHECKED');
    assert.equal(t.problem, null);
  });

  it('a failing check of an inactive object just fails', () => {
    const t = new Thing();
    t.markPrepared();
    t.markCheckFailed('bad signature');
    assert.equal(state(t), 'PREPARED/FAILED');
    assert.equal(t.isActiveOrReactivating(), false);
  });

  it('deactivate stops auto-reactivation; remove resets everything', () => {
    const t = new Thing();
    t.markPrepared();
    t.markCheckPassed();
    t.activate();
    t.markCheckFailed('x');
    t.deactivate();
    assert.equal(state(t), 'PREPARED/FAILED');
    t.markRemoved();
    assert.equal(state(t), 'REMOVED/UNCHECKED');
    assert.equal(t.checkedAt, null);
  });

  it('changing a removed object keeps it removed', () => {
    const t = new Thing();
    t.markChanged();
    assert.equal(t.status, ConfigStatus.REMOVED);
    assert.equal(t.checkState, CheckState.UNCHECKED);
  });
});
