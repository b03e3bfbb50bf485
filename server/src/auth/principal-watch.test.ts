import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Event } from '../events/event.entity.js';
import type { EventBus } from '../events/event-bus.js';
import { createLogger } from '../log.js';
import type { AuthService, Principal } from './auth.service.js';
import { PrincipalWatch } from './principal-watch.js';

/** A watch over fakes: `reasons` says what invalidReason answers per token id. */
function setUp(sweepMs = 60_000) {
  const reasons = new Map<number, string>();
  const asked: number[] = [];
  let listener: ((e: Event) => void) | undefined;
  const auth = {
    invalidReason: async (_em: unknown, p: Principal) => {
      asked.push(p.token.id);
      return reasons.get(p.token.id) ?? null;
    },
  } as unknown as AuthService;
  const orm = { em: { fork: () => ({}) } } as unknown as MikroORM;
  const bus = { subscribe: (l: (e: Event) => void) => ((listener = l), () => (listener = undefined)) };
  const watch = new PrincipalWatch(auth, orm, createLogger('silent'), sweepMs);
  watch.start(bus as unknown as EventBus);
  const principal = (id: number, expiresAt: Date | null = null) =>
    ({ user: { username: `u${id}` }, token: { id, expiresAt } }) as unknown as Principal;
  const emit = (type: string) => listener?.({ type } as Event);
  return { watch, reasons, asked, emit, principal };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('PrincipalWatch', () => {
  it('ends only the connections whose access ended, once, on a user or token event', async () => {
    const { watch, reasons, asked, emit, principal } = setUp();
    const ended: string[] = [];
    watch.watch(principal(1), (r) => ended.push(`1: ${r}`));
    watch.watch(principal(2), (r) => ended.push(`2: ${r}`));
    emit('UPLOAD_ACCEPTED');
    await tick();
    assert.deepEqual(asked, [], 'pipeline events do not re-check anybody');
    reasons.set(1, 'the token was revoked');
    emit('TOKEN_REVOKED');
    await tick();
    emit('USER_CHANGED');
    await tick();
    assert.deepEqual(ended, ['1: the token was revoked']);
    assert.deepEqual(asked, [1, 2, 2]);
    watch.stop();
  });

  it('looks again at the token’s expiry, and by the sweep for revocations without an event', async () => {
    const { watch, reasons, principal } = setUp(50);
    const ended: string[] = [];
    reasons.set(3, 'the token expired');
    watch.watch(principal(3, new Date(Date.now() + 30)), (r) => ended.push(r));
    await tick(60);
    assert.deepEqual(ended, ['the token expired']);
    const unwatch = watch.watch(principal(4), (r) => ended.push(r));
    watch.watch(principal(5), (r) => ended.push(r));
    unwatch();
    reasons.set(4, 'the session was revoked');
    reasons.set(5, 'the session was revoked');
    await tick(120);
    assert.deepEqual(ended, ['the token expired', 'the session was revoked']);
    watch.stop();
  });
});
