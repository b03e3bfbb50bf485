// Types of the daemon's GraphQL schema as the console uses them. They follow the contract until
// the server emits `schema.graphql`; then codegen can replace this file.

/** ISO 8601 timestamp (`DateTimeISO` scalar). */
export type DateTimeISO = string;

export const ROLES = ['UPLOADER', 'STAFF', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** Known event types; the server adds more over time, so any string must render. */
export type KnownEventType =
  | 'ENGINE_STARTED'
  | 'ENGINE_STOPPED'
  | 'FTP_UPLOAD'
  | 'DAEMON_STARTED'
  | 'DAEMON_STOPPED'
  | 'USER_CREATED'
  | 'USER_REMOVED'
  | 'TOKEN_CREATED'
  | 'TOKEN_REVOKED'
  | 'CONFIG_CREATED'
  | 'CONFIG_EDITED'
  | 'CONFIG_CHANGED'
  | 'CONFIG_PREPARED'
  | 'CONFIG_CHECKED'
  | 'CONFIG_FAILED'
  | 'CONFIG_ACTIVATED'
  | 'CONFIG_DEACTIVATED'
  | 'CONFIG_REMOVED'
  | 'SETUP_APPLIED'
  | 'BUILD_QUEUED'
  | 'BUILD_STARTED'
  | 'BUILD_FINISHED'
  | 'BUILD_CANCELLED'
  | 'BUILD_REQUEUED'
  | 'UPLOAD_RECEIVED'
  | 'UPLOAD_INCOMPLETE'
  | 'INCOMING_CLEANED'
  | 'REJECTED'
  | 'PACKAGING'
  | 'INSTALLING'
  | 'INSTALLED'
  | 'FAILED'
  | 'UPLOAD_RETRIED'
  | 'PORT_FAILED'
  | 'MIGRATED'
  | 'REMOVED'
  | 'RESTORED'
  | 'SNAPSHOT_CREATED'
  | 'SNAPSHOT_DELETED';
export type EventType = KnownEventType | (string & {});

export interface Status {
  version: string;
  identity: string;
  httpUrl: string;
  ftpUrl: string;
  engineRunning: boolean;
  load: number;
  uptimeSeconds: number;
  startedAt: DateTimeISO;
}

export interface DaemonEvent {
  id: string;
  type: EventType;
  createdAt: DateTimeISO;
  summary: string;
  payload: Record<string, unknown>;
}

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: DateTimeISO;
  lastSignInAt: DateTimeISO | null;
}

export const CONFIG_KINDS = [
  'DAEMON',
  'ARCHIVE',
  'APT_KEY',
  'SOURCE',
  'DISTRIBUTION',
  'LAYOUT',
  'REPOSITORY',
  'CHROOT',
] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

export type ConfigFieldType =
  'STRING' | 'TEXT' | 'BOOLEAN' | 'INT' | 'ENUM' | 'STRING_LIST' | 'REFERENCE' | 'REFERENCE_LIST' | 'JSON';

export type ConfigStatus = 'REMOVED' | 'PREPARED' | 'ACTIVE';
export type CheckState = 'UNCHECKED' | 'CHANGED' | 'FAILED' | 'AUTO_REACTIVATE' | 'CHECKED';
export type LifecycleAction = 'PREPARE' | 'CHECK' | 'ACTIVATE' | 'DEACTIVATE' | 'REMOVE' | 'PCA';

export interface ConfigField {
  name: string;
  type: ConfigFieldType;
  description: string;
  options: string[] | null;
  refKind: ConfigKind | null;
  readOnly: boolean;
  value?: unknown;
}

export interface ConfigKindInfo {
  kind: ConfigKind;
  lifecycle: boolean;
  fields: ConfigField[];
}

export interface ConfigObject {
  kind: ConfigKind;
  key: string;
  description: string;
  lifecycle: boolean;
  status: ConfigStatus | null;
  checkState: CheckState | null;
  checkedAt: DateTimeISO | null;
  problem: string | null;
  fields: ConfigField[];
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface ConfigSetResult {
  object: ConfigObject;
  changes: FieldChange[];
  created: boolean;
}

export type SetupState = 'MISSING' | 'UNCHANGED' | 'CHANGED' | 'FAILING' | 'SKIPPED';
export type SetupResult = 'CREATED' | 'UPDATED' | 'ACTIVATED' | 'UNCHANGED' | 'FAILED' | 'SKIPPED';

export interface SetupRepositoryInput {
  identity: string;
  layout?: string | null;
  codenames?: string[] | null;
}

export interface SetupInput {
  origin?: string | null;
  codenames: string[];
  architectures?: string[] | null;
  mirror?: string | null;
  securityMirror?: string | null;
  identity?: string | null;
  emailAddress?: string | null;
  repositories?: SetupRepositoryInput[] | null;
  chroots?: boolean | null;
  chrootBackend?: ChrootBackend | null;
}

export type ChrootBackend = 'SCHROOT' | 'UNSHARE';

export interface SetupEntry {
  kind: ConfigKind;
  key: string;
  state: SetupState;
  changes: FieldChange[];
  note: string | null;
  result: SetupResult | null;
  error: string | null;
}

export interface SetupReport {
  applied: boolean;
  entries: SetupEntry[];
}

export interface ArchiveKey {
  fingerprint: string;
  armored: string;
  userIds: string[];
  binaryUrl: string;
  armoredUrl: string;
  keyringPath: string;
}

export const BUILD_STATES = ['QUEUED', 'BUILDING', 'BUILT'] as const;
export type BuildState = (typeof BUILD_STATES)[number];
export const BUILD_RESULTS = ['SUCCESSFUL', 'FAILED', 'GIVEN_BACK', 'SKIPPED', 'CANCELLED', 'ERROR'] as const;
export type BuildResult = (typeof BUILD_RESULTS)[number];
export type QaResult = 'NOT_RUN' | 'PASS' | 'WARN' | 'FAIL' | 'ERROR';

export interface Build {
  id: string;
  source: string;
  version: string;
  distribution: string;
  architecture: string;
  archAll: boolean;
  chroot: string;
  state: BuildState;
  result: BuildResult | null;
  failStage: string | null;
  reason: string | null;
  cancelRequestedBy: string | null;
  queuedAt: DateTimeISO;
  startedAt: DateTimeISO | null;
  finishedAt: DateTimeISO | null;
  sbuildSeconds: number | null;
  qaSeconds: number | null;
  lintian: QaResult;
  autopkgtest: QaResult;
  attempt: number;
  builder: string | null;
  testBuild: boolean;
  requestedBy: string | null;
  logUrl: string;
}

export interface BuildPage {
  nodes: Build[];
  totalCount: number;
  hasMore: boolean;
}

/** The filters of the builds list; absent means any. */
export interface BuildFilter {
  state?: BuildState | null;
  result?: BuildResult | null;
  source?: string | null;
  distribution?: string | null;
  architecture?: string | null;
}

export interface BuilderSample {
  at: DateTimeISO;
  load: number;
  queued: number;
}

export interface Builders {
  slots: number;
  busy: number;
  load: number;
  queued: number;
  running: Build[];
  history: BuilderSample[];
}

/** A piece of a log: `text` starts at byte `offset`; the last one has `done`. */
export interface LogChunk {
  offset: number;
  text: string;
  done: boolean;
}

export const UPLOAD_STATES = ['RECEIVED', 'REJECTED', 'PACKAGING', 'INSTALLING', 'INSTALLED', 'FAILED'] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];
/** The pipeline's events: an upload's state changes (payload: upload, source, version, …). */
export const UPLOAD_EVENT_TYPES = ['REJECTED', 'PACKAGING', 'INSTALLING', 'INSTALLED', 'FAILED', 'UPLOAD_RETRIED'];

/** A build as an upload or the package tracker lists it. */
export type UploadBuild = Build & { optional: boolean };

/** What a port was made from, and who asked for it. */
export interface PortOrigin {
  from: string;
  fromVersion: string;
  by: string;
  autoPortOf: number | null;
}

export interface Upload {
  id: string;
  changesName: string;
  via: 'FTP' | 'HTTP' | 'PORT';
  remoteAddress: string | null;
  receivedAt: DateTimeISO;
  state: UploadState;
  source: string | null;
  version: string | null;
  distribution: string | null;
  targetDistribution: string | null;
  repository: string | null;
  changedBy: string | null;
  signedBy: string | null;
  uploader: string | null;
  rejectCode: string | null;
  reason: string | null;
  options: Record<string, unknown>;
  finishedAt: DateTimeISO | null;
  attempt: number;
  changesUrl: string;
  /** For a port (via PORT). */
  port: PortOrigin | null;
}

/** What a port will upload: the new version per target distribution. */
export interface PortPlan {
  source: string;
  from: string;
  fromVersion: string;
  options: string[];
  rebuildStamp: string;
  targets: { distribution: string; repository: string; version: string; rebuild: boolean }[];
}

export interface PortRequest {
  source: string;
  from: string;
  to: string[];
  version: string;
  options: string[];
}

export interface UploadWithBuilds extends Upload {
  builds: UploadBuild[];
}

export interface UploadPage {
  nodes: Upload[];
  totalCount: number;
  hasMore: boolean;
}

export interface UploadFilter {
  state?: UploadState | null;
  source?: string | null;
  repository?: string | null;
}

export interface PackageVersion {
  repository: string;
  distribution: string;
  version: string;
  component: string;
  /** N when the distribution is rollback N of its suite. */
  rollback: number | null;
}

/** One version of a source package in one snapshot of a distribution. */
export interface PackageSnapshotVersion {
  repository: string;
  /** The distribution it is a snapshot of. */
  distribution: string;
  snapshot: string;
  version: string;
  component: string;
}

export interface BuildTime {
  build: string;
  version: string;
  architecture: string;
  seconds: number;
  finishedAt: DateTimeISO;
}

export interface PackageTracker {
  source: string;
  versions: PackageVersion[];
  snapshots: PackageSnapshotVersion[];
  uploads: Upload[];
  builds: UploadBuild[];
  events: DaemonEvent[];
  buildTimes: BuildTime[];
}

export interface PackageSummary {
  source: string;
  latestVersion: string | null;
  lastUploadAt: DateTimeISO;
  lastState: UploadState;
  uploads: number;
}

export type StagingAction = 'MIGRATE' | 'REMOVE' | 'RESTORE';

/** What a migration, removal or restore asks for (`version` for migrate/remove, `rollback` for restore). */
export interface StagingRequest {
  action: StagingAction;
  source: string;
  distribution: string;
  version?: string | null;
  full?: boolean;
  keepRollback?: boolean;
  rollback?: number | null;
}

export interface BrokenPackage {
  package: string;
  version: string;
  architecture: string;
  distribution: string;
  reasons: string[];
  missing: string[];
}

export interface RepositoryChange {
  action: StagingAction;
  source: string;
  version: string;
  repository: string;
  distribution: string;
  steps: { from: string; to: string | null }[];
  changes: { distribution: string; before: string | null; after: string | null }[];
  summary: string[];
  dependencies: { checked: boolean; forced: boolean; against: string[]; broken: BrokenPackage[] } | null;
}

export interface BrowserEntry {
  source: string;
  codename: string;
  suite: string;
  distribution: string;
  version: string | null;
  rollbacks: { rollback: number; distribution: string; version: string }[];
  /** The snapshots of this distribution that hold the source, oldest first. */
  snapshots: { name: string; version: string }[];
}

export interface RepositoryBrowser {
  repository: string;
  codenames: string[];
  suites: { name: string; migratesTo: string | null; rollbacks: number; uploadable: boolean }[];
  entries: BrowserEntry[];
}

export interface DebdiffResult {
  repository: string;
  source: string;
  from: string;
  to: string;
  text: string;
  identical: boolean;
  truncated: boolean;
}
