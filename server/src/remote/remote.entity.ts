import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Configurable } from '../lifecycle/lifecycle.js';
import type { InstanceStatus } from './wire.js';

/**
 * Another debyard (or mini-buildd 2.x) instance this one builds with (mini-buildd's Remote). Keyed by its
 * HTTP URL; what its `status` and `pub_key` said is kept here, refreshed on every check.
 */
@ObjectType({ implements: Configurable, description: 'Another debyard or mini-buildd instance to build with' })
@Entity({ tableName: 'remote' })
export class Remote extends Configurable {
  [OptionalProps]?:
    | 'status'
    | 'checkState'
    | 'checkedAt'
    | 'problem'
    | 'wakeCommand'
    | 'wakeAttempts'
    | 'wakeIntervalSeconds'
    | 'identity'
    | 'fingerprint'
    | 'armored'
    | 'version'
    | 'incomingUrl'
    | 'load'
    | 'chroots'
    | 'builds'
    | 'packages'
    | 'seenAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field({ description: 'Its HTTP URL, http(s)://host:port' })
  @Property({ type: 'text' })
  @Unique()
  url!: string;

  @Field(() => [String], { description: 'Command (argv) that wakes it when it does not answer, e.g. wakeonlan' })
  @Property({ type: 'json' })
  wakeCommand: string[] = [];

  @Field(() => Int, { description: 'How often to run the wake command before giving up' })
  @Property({ type: 'integer', default: 2 })
  wakeAttempts: number = 2;

  @Field(() => Int, { description: 'Seconds to wait after each wake command' })
  @Property({ type: 'integer', default: 5 })
  wakeIntervalSeconds: number = 5;

  @Field({ description: 'The identity its status reported' })
  @Property({ type: 'text', default: '' })
  identity: string = '';

  @Field({ description: 'Fingerprint of its instance key, fetched by prepare' })
  @Property({ type: 'text', default: '' })
  fingerprint: string = '';

  @Field({ description: 'Its ASCII-armored instance key, fetched by prepare' })
  @Property({ type: 'text', default: '' })
  armored: string = '';

  @Field({ description: 'The debyard or mini-buildd version it runs' })
  @Property({ type: 'text', default: '' })
  version: string = '';

  @Field({ description: 'Where it takes uploads (its FTP incoming)' })
  @Property({ type: 'text', default: '' })
  incomingUrl: string = '';

  @Field(() => Float, { nullable: true, description: 'Its load when last seen: busy slots / slots; -1 stopped' })
  @Property({ type: 'double', nullable: true })
  load: number | null = null;

  @Field(() => [String], { description: 'Its active chroots as codename:arch' })
  @Property({ type: 'json' })
  chroots: string[] = [];

  @Field(() => Int, { nullable: true, description: 'Builds queued or running there (debyard only)' })
  @Property({ type: 'integer', nullable: true })
  builds: number | null = null;

  @Field(() => Int, { nullable: true, description: 'Uploads being packaged there (debyard only)' })
  @Property({ type: 'integer', nullable: true })
  packages: number | null = null;

  @Field(() => Date, { nullable: true, description: 'When it last answered' })
  @Property({ type: 'timestamptz', nullable: true })
  seenAt: Date | null = null;

  /** Takes in what its `status` said. */
  recordStatus(status: InstanceStatus, now = new Date()): void {
    this.identity = status.identity;
    this.version = status.version;
    this.incomingUrl = status.incomingUrl;
    this.load = status.load;
    this.chroots = status.chroots;
    this.builds = status.builds;
    this.packages = status.packages;
    this.seenAt = now;
  }

  /** Removed: its key and what it said are dropped, so adding it again takes its key afresh. */
  forget(): void {
    this.recordKey('', '');
    Object.assign(this, {
      identity: '',
      version: '',
      incomingUrl: '',
      load: null,
      chroots: [],
      builds: null,
      packages: null,
    });
  }

  /** Takes in the key its `pub_key` gave. */
  recordKey(armored: string, fingerprint: string): void {
    this.armored = armored;
    this.fingerprint = fingerprint;
  }
}
