import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

/** What happened. Types only ever get added: clients must render types they do not know. */
export enum EventType {
  DAEMON_STARTED = 'DAEMON_STARTED',
  DAEMON_STOPPED = 'DAEMON_STOPPED',
  ENGINE_STARTED = 'ENGINE_STARTED',
  ENGINE_STOPPED = 'ENGINE_STOPPED',
  FTP_UPLOAD = 'FTP_UPLOAD',
  /** A .changes and its files went from incoming into spool: an Upload in state RECEIVED. */
  UPLOAD_RECEIVED = 'UPLOAD_RECEIVED',
  /** A .changes whose listed files did not all arrive; it and the files that did were removed. */
  UPLOAD_INCOMPLETE = 'UPLOAD_INCOMPLETE',
  /** Files removed from incoming: unclaimed by any .changes, or cut off by a crash. */
  INCOMING_CLEANED = 'INCOMING_CLEANED',
  USER_CREATED = 'USER_CREATED',
  USER_CHANGED = 'USER_CHANGED',
  USER_REMOVED = 'USER_REMOVED',
  /** Somebody created their own account (active at once, or waiting for approval). */
  USER_SIGNED_UP = 'USER_SIGNED_UP',
  /** Staff approved a sign-up: the account is active. */
  USER_APPROVED = 'USER_APPROVED',
  /** Staff rejected a sign-up: the account is gone and its name free again. */
  USER_REJECTED = 'USER_REJECTED',
  TOKEN_CREATED = 'TOKEN_CREATED',
  TOKEN_REVOKED = 'TOKEN_REVOKED',
  CONFIG_CREATED = 'CONFIG_CREATED',
  CONFIG_EDITED = 'CONFIG_EDITED',
  CONFIG_CHANGED = 'CONFIG_CHANGED',
  CONFIG_PREPARED = 'CONFIG_PREPARED',
  CONFIG_CHECKED = 'CONFIG_CHECKED',
  CONFIG_FAILED = 'CONFIG_FAILED',
  CONFIG_ACTIVATED = 'CONFIG_ACTIVATED',
  CONFIG_DEACTIVATED = 'CONFIG_DEACTIVATED',
  CONFIG_REMOVED = 'CONFIG_REMOVED',
  SETUP_APPLIED = 'SETUP_APPLIED',
  BUILD_QUEUED = 'BUILD_QUEUED',
  BUILD_STARTED = 'BUILD_STARTED',
  BUILD_FINISHED = 'BUILD_FINISHED',
  BUILD_CANCELLED = 'BUILD_CANCELLED',
  BUILD_REQUEUED = 'BUILD_REQUEUED',
  REJECTED = 'REJECTED',
  PACKAGING = 'PACKAGING',
  INSTALLING = 'INSTALLING',
  INSTALLED = 'INSTALLED',
  FAILED = 'FAILED',
  UPLOAD_RETRIED = 'UPLOAD_RETRIED',
  /** A port could not be made (an auto-port, or a tool failed); the upload it came from is untouched. */
  PORT_FAILED = 'PORT_FAILED',
  /** A user subscribed to a source and/or distribution's notifications, or ended a subscription. */
  SUBSCRIBED = 'SUBSCRIBED',
  UNSUBSCRIBED = 'UNSUBSCRIBED',
  /** A notification mail could not be sent after all its attempts. */
  MAIL_FAILED = 'MAIL_FAILED',
  /** A source version was copied to the suite its suite migrates to (one event per suite it entered). */
  MIGRATED = 'MIGRATED',
  /** A migration debyard made by itself (the keyring package's along its chain) was refused or failed. */
  MIGRATION_FAILED = 'MIGRATION_FAILED',
  /** A source version was removed from a distribution (kept as rollback0 unless told otherwise). */
  REMOVED = 'REMOVED',
  /** A rollback was copied back into its distribution. */
  RESTORED = 'RESTORED',
  /** A snapshot of a distribution was made (by a person or a schedule). */
  SNAPSHOT_CREATED = 'SNAPSHOT_CREATED',
  /** A snapshot was deleted (by a person, or because it expired). */
  SNAPSHOT_DELETED = 'SNAPSHOT_DELETED',
  /** An event hook (an executable in the Daemon's hooksDir) failed on its last attempt. Never delivered itself. */
  HOOK_FAILED = 'HOOK_FAILED',
  /** An administrator added, removed, switched on or switched off an outgoing webhook. */
  WEBHOOK_ADDED = 'WEBHOOK_ADDED',
  WEBHOOK_REMOVED = 'WEBHOOK_REMOVED',
  WEBHOOK_CHANGED = 'WEBHOOK_CHANGED',
  /** A webhook delivery failed for good (refused with 4xx, or its last attempt). Never delivered itself. */
  WEBHOOK_FAILED = 'WEBHOOK_FAILED',
}
registerEnumType(EventType, { name: 'EventType', description: 'What an event reports' });

export type EventPayload = Record<string, unknown>;

/**
 * One state change, written in the same transaction as the change itself. Ids are monotonic in commit
 * order (see EventService.record), so `id > since` is a complete replay cursor.
 */
@ObjectType({ description: 'Something that happened in this debyard instance' })
@Entity({ tableName: 'event' })
export class Event {
  @Field(() => ID)
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  // Plain text rather than a checked enum: every later capability adds event types.
  @Field(() => EventType)
  @Property({ type: 'text' })
  @Index()
  type!: EventType;

  @Field(() => Date)
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Field({ description: 'One line for people: what happened, to what' })
  @Property({ type: 'text' })
  summary!: string;

  @Field(() => GraphQLJSONObject)
  @Property({ type: 'jsonb' })
  payload!: EventPayload;
}
