import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '@debyard/server/dist/db/orm.js';
import { EventBus } from '@debyard/server/dist/events/event-bus.js';
import { type Event, EventType } from '@debyard/server/dist/events/event.entity.js';
import { EventStream } from '@debyard/server/dist/events/event-stream.js';
import { EventService } from '@debyard/server/dist/events/event.service.js';
import { createLogger } from '@debyard/server/dist/log.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from '../support/postgres.js';

const logger = createLogger('silent');

async function take(stream: AsyncIterator<Event>, n: number, timeoutMs = 5000): Promise<Event[]> {
  const out: Event[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const next = await Promise.race([
      stream.next(),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now()))),
    ]);
    if (next === 'timeout') throw new Error(`got ${out.length} of ${n} events before the timeout`);
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe('events: recorded in the transaction, replayed and streamed without gaps', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let events: EventService;
  let bus: EventBus;

  before(async () => {
    db = await createTestDatabase();
    orm = await openDatabase(db.url, logger);
    events = new EventService(orm);
    bus = new EventBus(db.url, orm, events, logger);
    await bus.start();
  });
  after(async () => {
    await bus?.close();
    await orm?.close();
    await db?.drop();
    await stopScratchCluster();
  });

  it('records nothing when the transaction rolls back', async () => {
    const before = await events.lastId();
    await assert.rejects(
      orm.em.fork().transactional(async (tx) => {
        await events.record(tx, EventType.ENGINE_STARTED, 'doomed');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await events.lastId(), before);
  });

  it('replays everything after `since`, then streams live ones, each once', async () => {
    const first = await events.record(orm.em.fork(), EventType.ENGINE_STARTED, 'one');
    await events.record(orm.em.fork(), EventType.ENGINE_STOPPED, 'two');
    const stream = new EventStream(bus, events, orm.em.fork(), String(BigInt(first.id) - 1n), () => true);
    const replayed = await take(stream, 2);
    assert.deepEqual(
      replayed.map((e) => e.summary),
      ['one', 'two'],
    );
    await events.record(orm.em.fork(), EventType.ENGINE_STARTED, 'three');
    const [live] = await take(stream, 1);
    assert.equal(live!.summary, 'three');
    await stream.return();
  });

  it('hands over from replay to live with no gap and no duplicate under concurrent writers', async () => {
    const since = await events.lastId();
    const writers = Array.from({ length: 4 }, (_, w) =>
      (async () => {
        for (let i = 0; i < 25; i++) await events.record(orm.em.fork(), EventType.FTP_UPLOAD, `w${w}-${i}`);
      })(),
    );
    // Subscribe while the writers are busy: part of the 100 comes from replay, part live.
    await new Promise((r) => setTimeout(r, 20));
    const stream = new EventStream(bus, events, orm.em.fork(), since, () => true);
    await Promise.all(writers);
    const got = await take(stream, 100);
    const ids = got.map((e) => BigInt(e.id));
    assert.equal(new Set(ids).size, 100, 'no duplicates');
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => (a < b ? -1 : 1)),
      'in id order',
    );
    assert.equal(new Set(got.map((e) => e.summary)).size, 100, 'every event once');
    await stream.return();
  });

  it('never lets a late commit of a lower id slip behind the cursor', async () => {
    const since = await events.lastId();
    const stream = new EventStream(bus, events, orm.em.fork(), since, () => true);
    let releaseSlow!: () => void;
    const slowHolds = new Promise<void>((r) => (releaseSlow = r));
    let slowRecorded!: () => void;
    const slowHasRecorded = new Promise<void>((r) => (slowRecorded = r));
    const slow = orm.em.fork().transactional(async (tx) => {
      await events.record(tx, EventType.ENGINE_STARTED, 'slow');
      slowRecorded();
      await slowHolds;
    });
    await slowHasRecorded;
    // The fast writer has to wait for the slow one's commit, so its id cannot overtake.
    const fast = events.record(orm.em.fork(), EventType.ENGINE_STOPPED, 'fast');
    await new Promise((r) => setTimeout(r, 100));
    releaseSlow();
    await Promise.all([slow, fast]);
    const got = await take(stream, 2);
    assert.deepEqual(
      got.map((e) => e.summary),
      ['slow', 'fast'],
    );
    await stream.return();
  });

  it('ends a waiting stream at once on return()', async () => {
    const stream = new EventStream(bus, events, orm.em.fork(), undefined, () => true);
    const pending = stream.next();
    await stream.return();
    assert.deepEqual(await pending, { done: true, value: undefined });
  });

  it('filters what the subscriber may not see but still advances past it', async () => {
    const since = await events.lastId();
    const stream = new EventStream(bus, events, orm.em.fork(), since, (e) => e.type !== EventType.USER_CREATED);
    await events.record(orm.em.fork(), EventType.USER_CREATED, 'secret');
    await events.record(orm.em.fork(), EventType.ENGINE_STARTED, 'public');
    const [got] = await take(stream, 1);
    assert.equal(got!.summary, 'public');
    await stream.return();
  });
});
