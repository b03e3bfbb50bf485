import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/postgresql';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Upload } from '../upload/upload.entity.js';
import type { BuildSpec } from './build-spec.js';

/** queued → building → built. */
export enum BuildState {
  QUEUED = 'QUEUED',
  BUILDING = 'BUILDING',
  BUILT = 'BUILT',
}
registerEnumType(BuildState, { name: 'BuildState', description: 'queued → building → built' });

/** How a built build ended (sbuild's Status, plus what the daemon itself knows). */
export enum BuildResult {
  /** sbuild `Status: successful` and QA within its modes. */
  SUCCESSFUL = 'SUCCESSFUL',
  /** sbuild `Status: attempted` (FTBFS), or QA failed in errfail/warnfail mode. */
  FAILED = 'FAILED',
  /** sbuild `Status: given-back`: build dependencies not installable, or a temporary problem. */
  GIVEN_BACK = 'GIVEN_BACK',
  /** sbuild `Status: skipped`: nothing to build for this architecture. */
  SKIPPED = 'SKIPPED',
  /** Cancelled by a person; sbuild's own status would look like a failed build. */
  CANCELLED = 'CANCELLED',
  /** sbuild `Status: failed` (session or configuration problems) or a problem of the daemon's. */
  ERROR = 'ERROR',
}
registerEnumType(BuildResult, { name: 'BuildResult' });

/** The outcome of one QA check (lintian, autopkgtest). */
export enum QaResult {
  /** The distribution's mode is DISABLED, or the build never got that far. */
  NOT_RUN = 'NOT_RUN',
  PASS = 'PASS',
  /** Warnings only (lintian), or tests skipped / none (autopkgtest). */
  WARN = 'WARN',
  FAIL = 'FAIL',
  /** The tool itself failed (testbed problem, crash). */
  ERROR = 'ERROR',
}
registerEnumType(QaResult, { name: 'QaResult' });

/**
 * One source package built for one architecture in one distribution. Everything sbuild needs is frozen
 * into `spec` when the build is queued, so later configuration changes never touch a queued or running
 * build. Files live under `<data>/builds/<id>/`.
 */
@ObjectType({ description: 'One source package built for one architecture' })
@Entity({ tableName: 'build' })
@Index({ properties: ['state', 'id'] })
export class Build {
  [OptionalProps]?:
    | 'state'
    | 'result'
    | 'failStage'
    | 'reason'
    | 'cancelRequestedBy'
    | 'queuedAt'
    | 'startedAt'
    | 'finishedAt'
    | 'sbuildSeconds'
    | 'qaSeconds'
    | 'lintian'
    | 'autopkgtest'
    | 'attempt'
    | 'pid'
    | 'builder'
    | 'testBuild'
    | 'requestedBy'
    | 'upload'
    | 'optional'
    | 'sentTo'
    | 'timecode'
    | 'forPackager'
    | 'resultSentAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field({ description: 'Source package name' })
  @Property({ type: 'text' })
  @Index()
  source!: string;

  @Field()
  @Property({ type: 'text' })
  version!: string;

  @Field({ description: 'The distribution written into the .changes, e.g. bookworm-test-unstable' })
  @Property({ type: 'text' })
  distribution!: string;

  @Field({ description: 'Host architecture of the build' })
  @Property({ type: 'text' })
  architecture!: string;

  @Field({ description: 'Architecture-independent packages are built here too' })
  @Property({ type: 'boolean' })
  archAll!: boolean;

  @Field({ description: 'The chroot it builds in, e.g. bookworm-amd64' })
  @Property({ type: 'text' })
  chroot!: string;

  @Field(() => BuildState)
  @Enum({ items: () => BuildState, type: 'text' })
  state: BuildState = BuildState.QUEUED;

  @Field(() => BuildResult, { nullable: true })
  @Enum({ items: () => BuildResult, type: 'text', nullable: true })
  result: BuildResult | null = null;

  @Field(() => String, { nullable: true, description: 'sbuild’s Fail-Stage, or lintian/autopkgtest' })
  @Property({ type: 'text', nullable: true })
  failStage: string | null = null;

  @Field(() => String, { nullable: true, description: 'Why it ended as it did, for people' })
  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  cancelRequestedBy: string | null = null;

  @Field(() => Date)
  @Property({ type: 'timestamptz' })
  queuedAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  startedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;

  @Field(() => Number, { nullable: true, description: 'sbuild’s own wall time in seconds' })
  @Property({ type: 'double', nullable: true })
  sbuildSeconds: number | null = null;

  @Field(() => Number, { nullable: true, description: 'Wall time of lintian and autopkgtest after sbuild, in seconds' })
  @Property({ type: 'double', nullable: true })
  qaSeconds: number | null = null;

  @Field(() => QaResult)
  @Enum({ items: () => QaResult, type: 'text' })
  lintian: QaResult = QaResult.NOT_RUN;

  @Field(() => QaResult)
  @Enum({ items: () => QaResult, type: 'text' })
  autopkgtest: QaResult = QaResult.NOT_RUN;

  @Field(() => Int, { description: 'Starts at 1; a retry or a restart during the build adds one' })
  @Property({ type: 'integer' })
  attempt: number = 1;

  /** The sbuild process group while building, for cleaning up after a crash. */
  @Property({ type: 'integer', nullable: true })
  pid: number | null = null;

  @Field(() => String, { nullable: true, description: 'Which builder ran it' })
  @Property({ type: 'text', nullable: true })
  builder: string | null = null;

  @Field({ description: 'An administrator’s test build: built, never installed' })
  @Property({ type: 'boolean' })
  testBuild: boolean = false;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  requestedBy: string | null = null;

  /** The upload this build belongs to; null for test builds. */
  @ManyToOne(() => Upload, { nullable: true, deleteRule: 'cascade' })
  @Index()
  upload: Rel<Upload> | null = null;

  @Field({ description: 'A failure here does not fail the upload (an optional architecture)' })
  @Property({ type: 'boolean' })
  optional: boolean = false;

  @Property({ type: 'jsonb' })
  spec!: BuildSpec;

  /** Packager side: the remote (its HTTP URL) the build request went to; null while local or undecided. */
  @Field(() => String, {
    nullable: true,
    description: 'The other instance it was sent to (its URL), for a remote build',
  })
  @Property({ type: 'text', nullable: true })
  sentTo: string | null = null;

  /** The X-Mini-Buildd-Timecode of the build request that runs now (either side); a result must echo it. */
  @Property({ type: 'text', nullable: true })
  @Index()
  timecode: string | null = null;

  /** Builder side: the instance that asked for this build, where the result goes. */
  @Property({ type: 'jsonb', nullable: true })
  forPackager: ForPackager | null = null;

  /** Builder side: when the signed result reached the packager's incoming. */
  @Field(() => Date, { nullable: true, description: 'When its result was delivered to the instance that asked for it' })
  @Property({ type: 'timestamptz', nullable: true })
  resultSentAt: Date | null = null;

  @Field(() => String, { nullable: true, description: 'The other instance (its URL) that asked for this build' })
  get requestedFrom(): string | null {
    return this.forPackager?.packager ?? null;
  }
}

/** Where a build another instance asked for reports back (from its build request). */
export interface ForPackager {
  /** Its HTTP URL. */
  packager: string;
  /** Its identity, as its remote row here says. */
  identity: string;
  /** Its FTP incoming, where the result goes. */
  uploadTo: string;
  /** The build log's path both sides name it by (X-Mini-Buildd-Buildlog). */
  buildlog: string;
}
