import type { EntityManager } from '@mikro-orm/postgresql';
import type { Event } from './event.entity.js';
import type { EventBus } from './event-bus.js';
import type { EventService } from './event.service.js';

const REPLAY_PAGE = 500;

/**
 * An async iterator over events: first every event after `since` from the database, then live ones
 * from the bus. It subscribes to the bus before it reads the database and passes each id once, so there
 * is neither a gap nor a duplicate at the hand-over. `return()` ends it at once, even while it waits.
 */
export class EventStream implements AsyncIterableIterator<Event> {
  private readonly live: Event[] = [];
  /** Still reading the database (only when a `since` cursor was given). */
  private replaying: boolean;
  private replayed: Event[] = [];
  private cursor: bigint;
  private wake: (() => void) | undefined;
  private done = false;
  private readonly unsubscribe: () => void;

  constructor(
    bus: EventBus,
    private readonly events: EventService,
    private readonly em: EntityManager,
    since: string | undefined,
    private readonly visible: (event: Event) => boolean,
  ) {
    this.unsubscribe = bus.subscribe((event) => {
      this.live.push(event);
      this.wake?.();
    });
    this.cursor = BigInt(since ?? bus.lastDeliveredId);
    this.replaying = since !== undefined;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Event> {
    return this;
  }

  async next(): Promise<IteratorResult<Event>> {
    for (;;) {
      if (this.done) return { done: true, value: undefined };
      const event = (await this.nextReplayed()) ?? this.live.shift();
      if (event) {
        const id = BigInt(event.id);
        if (id <= this.cursor) continue;
        this.cursor = id;
        if (this.visible(event)) return { done: false, value: event };
        continue;
      }
      if (this.done) continue;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  async return(): Promise<IteratorResult<Event>> {
    this.done = true;
    this.unsubscribe();
    this.wake?.();
    return { done: true, value: undefined };
  }

  /** Pages through the database until it has caught up with everything committed. */
  private async nextReplayed(): Promise<Event | undefined> {
    if (this.replayed.length === 0 && this.replaying) {
      this.replayed = await this.events.after(this.em, this.cursor.toString(), REPLAY_PAGE);
      this.em.clear();
      this.replaying = this.replayed.length === REPLAY_PAGE;
    }
    return this.replayed.shift();
  }
}
