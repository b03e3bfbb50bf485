import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

/** received → (rejected | packaging → installing → installed | failed). */
export enum UploadState {
  /** In spool/, waiting for its checks. */
  RECEIVED = 'RECEIVED',
  /** A check failed: `rejectCode` and `reason` say which and why. Nothing was built or installed. */
  REJECTED = 'REJECTED',
  /** Checked; its builds (one per architecture) are queued or running. */
  PACKAGING = 'PACKAGING',
  /** Every build is in; reprepro is installing it. */
  INSTALLING = 'INSTALLING',
  INSTALLED = 'INSTALLED',
  /** A mandatory architecture failed, QA failed, or the install failed; the repository is as before. */
  FAILED = 'FAILED',
}
registerEnumType(UploadState, { name: 'UploadState' });

/** How an upload arrived. */
export interface UploadFileRecord {
  name: string;
  size: number;
  sha256: string;
}

export enum UploadVia {
  FTP = 'FTP',
  HTTP = 'HTTP',
  /** Made by debyard itself: a no-changes port or rebuild, signed by the instance key. */
  PORT = 'PORT',
}
registerEnumType(UploadVia, { name: 'UploadVia' });

/** Where a port came from and who asked for it. */
@ObjectType({ description: 'What a port was made from, and who asked for it' })
export class PortOrigin {
  @Field({ description: 'The distribution it was taken from; for an external port, the .dsc URL' })
  from!: string;

  @Field({ description: 'The version it was made from' })
  fromVersion!: string;

  @Field({ description: 'Who asked: a user name, or "auto-ports of upload <id>"' })
  by!: string;

  @Field(() => Int, { nullable: true, description: 'The upload whose auto-ports option made it' })
  autoPortOf!: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'The keyring package: migrated along the whole chain of its suite once installed',
  })
  migrateAlong?: boolean | null;
}

/**
 * One `.changes` and its files, accepted from incoming into `<data>/spool/<id>/` and followed to
 * INSTALLED, FAILED or REJECTED (mini-buildd's Upload and Package in one: one source version heading
 * into one distribution). Fields from the .changes are null until the checks have read them.
 */
@ObjectType({ description: 'A source upload (.changes) and what became of it' })
@Entity({ tableName: 'upload' })
@Index({ properties: ['state', 'id'] })
export class Upload {
  [OptionalProps]?:
    | 'state'
    | 'receivedAt'
    | 'source'
    | 'version'
    | 'distribution'
    | 'targetDistribution'
    | 'repository'
    | 'changedBy'
    | 'signedBy'
    | 'uploader'
    | 'rejectCode'
    | 'reason'
    | 'options'
    | 'files'
    | 'finishedAt'
    | 'attempt'
    | 'remoteAddress'
    | 'port';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field({ description: 'The .changes file name' })
  @Property({ type: 'text' })
  changesName!: string;

  /** Absolute path of the spool directory holding the .changes and its files. */
  @Property({ type: 'text' })
  spoolDir!: string;

  @Field(() => UploadVia)
  @Enum({ items: () => UploadVia, type: 'text' })
  via!: UploadVia;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  remoteAddress: string | null = null;

  @Field(() => Date)
  @Property({ type: 'timestamptz' })
  receivedAt: Date = new Date();

  /** SHA-256 of the .changes as received: a signed .changes seen before is a replay. */
  @Property({ type: 'text' })
  @Index()
  changesSha256!: string;

  @Field(() => UploadState)
  @Enum({ items: () => UploadState, type: 'text' })
  state: UploadState = UploadState.RECEIVED;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  @Index()
  source: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  version: string | null = null;

  @Field(() => String, {
    nullable: true,
    description: 'The Distribution field as uploaded (maybe a meta-distribution)',
  })
  @Property({ type: 'text', nullable: true })
  distribution: string | null = null;

  @Field(() => String, { nullable: true, description: '<codename>-<repo>-<suite> it goes into' })
  @Property({ type: 'text', nullable: true })
  targetDistribution: string | null = null;

  @Field(() => String, { nullable: true, description: 'Repository identity' })
  @Property({ type: 'text', nullable: true })
  repository: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  changedBy: string | null = null;

  @Field(() => String, { nullable: true, description: 'Fingerprint of the key that signed the .changes' })
  @Property({ type: 'text', nullable: true })
  signedBy: string | null = null;

  @Field(() => String, { nullable: true, description: 'Who that key belongs to (uploader, repository key, instance)' })
  @Property({ type: 'text', nullable: true })
  uploader: string | null = null;

  @Field(() => String, { nullable: true, description: 'Stable code of the check that rejected it' })
  @Property({ type: 'text', nullable: true })
  rejectCode: string | null = null;

  @Field(() => String, { nullable: true, description: 'Why it was rejected or failed, for people' })
  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @Field(() => GraphQLJSONObject, { description: 'Upload options from the top changelog entry' })
  @Property({ type: 'jsonb' })
  options: Record<string, unknown> = {};

  /** The files the .changes lists, as checked: an upload in flight owns these names in the pool. */
  @Property({ type: 'jsonb', default: '[]' })
  files: UploadFileRecord[] = [];

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;

  @Field(() => Int, { description: 'A retry adds one' })
  @Property({ type: 'integer' })
  attempt: number = 1;

  @Field(() => PortOrigin, { nullable: true, description: 'For a port (via PORT): what it was made from' })
  @Property({ type: 'jsonb', nullable: true })
  port: PortOrigin | null = null;
}
