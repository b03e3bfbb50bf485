import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Event, EventType, type EventPayload } from './event.entity.js';

export const EVENT_CHANNEL = 'debyard_event';
/** pg_advisory_xact_lock key that serialises event writers (ASCII "dyev"). */
const EVENT_WRITER_LOCK = 0x64796576;

/** Audit events are for staff: they name users and tokens. Pipeline events are public, as in mini-buildd. */
const STAFF_ONLY = new Set<EventType>([
  EventType.USER_CREATED,
  EventType.USER_CHANGED,
  EventType.USER_REMOVED,
  EventType.TOKEN_CREATED,
  EventType.TOKEN_REVOKED,
  EventType.SUBSCRIBED,
  EventType.UNSUBSCRIBED,
  EventType.MAIL_FAILED,
  EventType.HOOK_FAILED,
  EventType.WEBHOOK_ADDED,
  EventType.WEBHOOK_REMOVED,
  EventType.WEBHOOK_CHANGED,
  EventType.WEBHOOK_FAILED,
]);

export function isStaffOnly(type: EventType): boolean {
  return STAFF_ONLY.has(type);
}

/** Runs in the transaction that records `event`: what it does commits, or rolls back, with the event. */
export type RecordHook = (tx: EntityManager, event: Event) => Promise<void>;

export class EventService {
  private readonly hooks: RecordHook[] = [];

  constructor(private readonly orm: MikroORM) {}

  /** Adds a hook every `record` runs (e.g. the notifier queueing its mail job). */
  onRecord(hook: RecordHook): void {
    this.hooks.push(hook);
  }

  /**
   * Writes an event in the transaction of `em` (opening one if there is none) and notifies listeners on
   * commit. Event writers are serialised by an advisory lock held until commit, so ids become visible in
   * id order and `id > cursor` never skips an event that commits late. Call it as the last step of a
   * transaction to keep that lock short.
   */
  async record(em: EntityManager, type: EventType, summary: string, payload: EventPayload = {}): Promise<Event> {
    if (!em.isInTransaction()) return em.transactional((tx) => this.record(tx, type, summary, payload));
    await em.execute('select pg_advisory_xact_lock(?)', [EVENT_WRITER_LOCK]);
    const [row] = (await em.execute(
      'insert into event (type, summary, payload) values (?, ?, ?::jsonb) returning id, created_at',
      [type, summary, JSON.stringify(payload)],
    )) as { id: string; created_at: Date }[];
    await em.execute('select pg_notify(?, ?)', [EVENT_CHANNEL, String(row!.id)]);
    const event = Object.assign(new Event(), {
      id: String(row!.id),
      type,
      summary,
      payload,
      createdAt: row!.created_at,
    });
    for (const hook of this.hooks) await hook(em, event);
    return event;
  }

  /** Up to `limit` events between the cursors: newest first, or oldest first when `after` is given. */
  async list(
    em: EntityManager,
    opts: { before?: string; after?: string; limit: number; includeStaffOnly: boolean },
  ): Promise<Event[]> {
    const id = {
      ...(opts.before ? { $lt: opts.before } : {}),
      ...(opts.after ? { $gt: opts.after } : {}),
    };
    return em.find(
      Event,
      {
        ...(opts.before || opts.after ? { id } : {}),
        ...(opts.includeStaffOnly ? {} : { type: { $nin: [...STAFF_ONLY] } }),
      },
      { orderBy: { id: opts.after ? 'asc' : 'desc' }, limit: opts.limit },
    );
  }

  /** Oldest first, events after `after`, one page. */
  async after(em: EntityManager, after: string, limit: number): Promise<Event[]> {
    return em.find(Event, { id: { $gt: after } }, { orderBy: { id: 'asc' }, limit });
  }

  async lastId(): Promise<string> {
    const [row] = (await this.orm.em.fork().execute('select coalesce(max(id), 0) as id from event')) as {
      id: string;
    }[];
    return String(row!.id);
  }
}
