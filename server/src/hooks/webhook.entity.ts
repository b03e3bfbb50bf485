import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType } from 'type-graphql';
import { EventType } from '../events/event.entity.js';
import { REDACTED } from '../notify/smtp-url.js';

/**
 * An outgoing webhook: every event, or those of the chosen types, POSTed to `url` as JSON signed with
 * HMAC-SHA256 under `secret`. The secret never leaves the daemon except as that signature.
 */
@ObjectType({ description: 'An outgoing webhook: events POSTed as JSON, signed with HMAC-SHA256 (administrators)' })
@Entity({ tableName: 'webhook' })
export class Webhook {
  [OptionalProps]?: 'createdAt' | 'active' | 'eventTypes' | 'lastAttemptAt' | 'lastOk' | 'lastResult' | 'secretShown';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field({ description: 'Where events are POSTed (http or https)' })
  @Property({ type: 'text', unique: true })
  url!: string;

  /** The HMAC key: never a GraphQL field as it is. */
  @Property({ type: 'text' })
  secret!: string;

  @Field(() => String, { name: 'secret', description: 'Always ***: the secret is never shown' })
  get secretShown(): string {
    return REDACTED;
  }

  @Field(() => [EventType], { description: 'The event types it gets; empty: every type' })
  @Property({ type: 'json', default: '[]' })
  eventTypes: EventType[] = [];

  @Field({ description: 'Inactive webhooks get nothing (their queued deliveries are dropped)' })
  @Property({ type: 'boolean', default: true })
  active: boolean = true;

  @Field(() => Date)
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Field({ description: 'The administrator who added it' })
  @Property({ type: 'text' })
  createdBy!: string;

  @Field(() => Date, { nullable: true, description: 'When the last delivery was tried' })
  @Property({ type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null = null;

  @Field(() => Boolean, { nullable: true, description: 'Whether the last delivery was accepted (2xx)' })
  @Property({ type: 'boolean', nullable: true })
  lastOk: boolean | null = null;

  @Field(() => String, { nullable: true, description: 'How the last delivery went, e.g. "HTTP 503 (attempt 1 of 20)"' })
  @Property({ type: 'text', nullable: true })
  lastResult: string | null = null;

  describe(): string {
    return `webhook ${this.id} (${this.url})`;
  }
}
