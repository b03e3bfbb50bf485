import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import type { Event } from './event.entity.js';
import { EVENT_CHANNEL, type EventService } from './event.service.js';

const PAGE = 500;
const RECONNECT_DELAY_MS = 1000;

export type EventListener = (event: Event) => void;

/**
 * Delivers committed events to in-process listeners in id order, exactly once each. One LISTEN
 * connection wakes it; every wake (and every reconnect, where notifications may have been missed) reads
 * all rows after the last delivered id, so a lost notification only delays delivery.
 */
export class EventBus {
  private client: pg.Client | undefined;
  private delivered = '0';
  private readonly listeners = new Set<EventListener>();
  private fetching: Promise<void> = Promise.resolve();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly orm: MikroORM,
    private readonly events: EventService,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.delivered = await this.events.lastId();
    await this.connect();
  }

  /** The id of the newest event handed to listeners. */
  get lastDeliveredId(): string {
    return this.delivered;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.listeners.clear();
    await this.fetching;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', () => this.poll());
    client.on('error', (err) => {
      this.logger.warn({ err }, 'event listener connection failed; reconnecting');
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    await client.connect();
    await client.query(`LISTEN ${EVENT_CHANNEL}`);
    this.client = client;
    this.poll();
  }

  private reconnect(client: pg.Client): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.scheduleConnect();
  }

  private scheduleConnect(): void {
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.connect().catch((err) => {
        this.logger.warn({ err }, 'event listener reconnect failed; retrying');
        this.scheduleConnect();
      });
    }, RECONNECT_DELAY_MS);
  }

  private poll(): void {
    this.fetching = this.fetching
      .then(() => this.deliverNew())
      .catch((err) => this.logger.error({ err }, 'reading new events failed'));
  }

  private async deliverNew(): Promise<void> {
    const em = this.orm.em.fork();
    for (;;) {
      const page = await this.events.after(em, this.delivered, PAGE);
      for (const event of page) {
        this.delivered = event.id;
        for (const listener of this.listeners) {
          try {
            listener(event);
          } catch (err) {
            this.logger.error({ err }, 'event listener failed');
          }
        }
      }
      em.clear();
      if (page.length < PAGE || this.closed) return;
    }
  }
}
