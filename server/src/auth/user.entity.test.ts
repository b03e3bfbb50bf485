import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Role } from './role.js';
import { User, UserState } from './user.entity.js';

function user(state: UserState): User {
  return Object.assign(new User(), { username: 'zoe', role: Role.UPLOADER, state });
}

describe('a user’s state', () => {
  it('goes pending → active ⇄ deactivated through its intent methods', () => {
    const u = user(UserState.PENDING);
    assert.equal(u.inactiveReason, 'user zoe waits for approval');
    u.approve();
    assert.equal(u.isActive, true);
    assert.equal(u.inactiveReason, null);
    u.deactivate();
    assert.equal(u.inactiveReason, 'user zoe is deactivated');
    u.reactivate();
    assert.equal(u.state, UserState.ACTIVE);
  });

  it('refuses the steps that skip approval or approve twice, with USER_STATE', () => {
    assert.throws(() => user(UserState.PENDING).deactivate(), {
      code: 'USER_STATE',
      message: /reject the sign-up instead/,
    });
    assert.throws(() => user(UserState.PENDING).reactivate(), {
      code: 'USER_STATE',
      message: /approve the sign-up instead/,
    });
    assert.throws(() => user(UserState.ACTIVE).approve(), {
      code: 'USER_STATE',
      message: 'user zoe is ACTIVE, not waiting for approval',
    });
  });
});
