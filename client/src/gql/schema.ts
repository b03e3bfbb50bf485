// Generated from schema.graphql by client/scripts/codegen.mjs (npm run codegen -w client). Do not edit.

export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar.This scalar is serialized to a string in ISO 8601 format and parsed from a string in ISO 8601 format. */
  DateTimeISO: { input: string; output: string; }
  /** The `JSONObject` scalar type represents JSON objects as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf). */
  JSONObject: { input: Record<string, unknown>; output: Record<string, unknown>; }
  /** The `JSON` scalar type represents JSON values as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf). */
  JSON: { input: unknown; output: unknown; }
};

export type Query = {
  /** The signed-in user, or null */
  me: Maybe<User>;
  /** Whether people may sign up here (anonymous) */
  signUpPolicy: SignUpPolicy;
  /** Sign-ups that wait for approval, oldest first */
  signUpRequests: Array<User>;
  users: Array<User>;
  /** Your API tokens; an administrator sees everybody’s */
  tokens: Array<ApiToken>;
  /** Builds, newest first, filtered; page with before = the last id seen */
  builds: BuildPage;
  build: Maybe<Build>;
  builders: Builders;
  /** The package tracker of one source package; a package never uploaded has an empty one */
  package: PackageTracker;
  /** Source packages uploaded here, most recently uploaded first */
  packages: Array<PackageSummary>;
  /** Uploads, newest first, filtered; page with before = the last id seen */
  uploads: UploadPage;
  upload: Maybe<Upload>;
  /** What port would upload (the new version per target), refused with the same codes as port; changes nothing */
  portPlan: PortPlanResult;
  /** The distributions a port can go to: every uploadable suite of every active distribution */
  portTargets: Array<Scalars['String']['output']>;
  /** What migrate, remove or restore would do, refused with the same codes; changes nothing. checkDependencies also runs a migration’s dependency check */
  stagingPlan: RepositoryChange;
  /** Every source package of a repository with versions, rollbacks and the snapshots holding it */
  repositoryBrowser: RepositoryBrowser;
  /** debdiff between two versions of a source in a repository (default: the first that has both) */
  debdiff: DebdiffResult;
  /** Null until the daemon is configured */
  keyringPackage: Maybe<KeyringPackage>;
  /** Snapshots, newest first */
  snapshots: Array<Snapshot>;
  /** Events, newest first; with `after`, oldest first from there */
  events: Array<Event>;
  /** Every kind of configuration object and its fields */
  configKinds: Array<ConfigKindInfo>;
  configObjects: Array<ConfigObject>;
  configObject: ConfigObject;
  /** apt sources for the prepared repositories */
  sourcesList: Scalars['String']['output'];
  /** Null until the daemon is prepared */
  archiveKey: Maybe<ArchiveKey>;
  /** A dput.cf section for uploading here */
  dputConfig: Scalars['String']['output'];
  /** The remotes this instance builds with, and what they last said */
  remotes: Array<Remote>;
  status: Status;
  /** Your notification subscriptions; an administrator may name another user */
  subscriptions: Array<PackageSubscription>;
  /** The outgoing webhooks */
  webhooks: Array<Webhook>;
  /** The uploader keys on your profile */
  myKeys: Array<Uploader>;
  /** Every uploader key, with its user, state and repositories */
  uploaderKeys: Array<Uploader>;
};


export type QueryBuildsArgs = {
  before: InputMaybe<Scalars['ID']['input']>;
  first?: Scalars['Int']['input'];
  architecture: InputMaybe<Scalars['String']['input']>;
  distribution: InputMaybe<Scalars['String']['input']>;
  source: InputMaybe<Scalars['String']['input']>;
  result: InputMaybe<BuildResult>;
  state: InputMaybe<BuildState>;
};


export type QueryBuildArgs = {
  id: Scalars['ID']['input'];
};


export type QueryPackageArgs = {
  source: Scalars['String']['input'];
};


export type QueryPackagesArgs = {
  first?: Scalars['Int']['input'];
  search: InputMaybe<Scalars['String']['input']>;
};


export type QueryUploadsArgs = {
  before: InputMaybe<Scalars['ID']['input']>;
  first?: Scalars['Int']['input'];
  repository: InputMaybe<Scalars['String']['input']>;
  source: InputMaybe<Scalars['String']['input']>;
  state: InputMaybe<UploadState>;
};


export type QueryUploadArgs = {
  id: Scalars['ID']['input'];
};


export type QueryPortPlanArgs = {
  options: InputMaybe<Array<Scalars['String']['input']>>;
  version: InputMaybe<Scalars['String']['input']>;
  to: Array<Scalars['String']['input']>;
  from: Scalars['String']['input'];
  source: Scalars['String']['input'];
};


export type QueryStagingPlanArgs = {
  checkDependencies?: Scalars['Boolean']['input'];
  rollback: InputMaybe<Scalars['Int']['input']>;
  keepRollback?: Scalars['Boolean']['input'];
  full?: Scalars['Boolean']['input'];
  version: InputMaybe<Scalars['String']['input']>;
  distribution: Scalars['String']['input'];
  source: Scalars['String']['input'];
  action: StagingAction;
};


export type QueryRepositoryBrowserArgs = {
  repository: Scalars['String']['input'];
};


export type QueryDebdiffArgs = {
  repository: InputMaybe<Scalars['String']['input']>;
  to: Scalars['String']['input'];
  from: Scalars['String']['input'];
  source: Scalars['String']['input'];
};


export type QuerySnapshotsArgs = {
  distribution: InputMaybe<Scalars['String']['input']>;
  repository: InputMaybe<Scalars['String']['input']>;
};


export type QueryEventsArgs = {
  limit?: Scalars['Int']['input'];
  after: InputMaybe<Scalars['ID']['input']>;
  before: InputMaybe<Scalars['ID']['input']>;
};


export type QueryConfigObjectsArgs = {
  kind: ConfigKind;
};


export type QueryConfigObjectArgs = {
  key: Scalars['String']['input'];
  kind: ConfigKind;
};


export type QuerySourcesListArgs = {
  withSources?: Scalars['Boolean']['input'];
  rollbacks?: Scalars['Boolean']['input'];
  suites: InputMaybe<Array<Scalars['String']['input']>>;
  repositories: InputMaybe<Array<Scalars['String']['input']>>;
  codenames: InputMaybe<Array<Scalars['String']['input']>>;
  format?: SourcesListFormat;
};


export type QuerySubscriptionsArgs = {
  username: InputMaybe<Scalars['String']['input']>;
};

/** A person or robot that signs in or holds API tokens */
export type User = {
  id: Scalars['ID']['output'];
  username: Scalars['String']['output'];
  role: Role;
  state: UserState;
  /** Where notifications of the user’s subscriptions go */
  email: Maybe<Scalars['String']['output']>;
  createdAt: Scalars['DateTimeISO']['output'];
  lastSignInAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** Whether the user can sign in with a password */
  hasPassword: Scalars['Boolean']['output'];
};

/** What a user may do: each role includes the ones before it */
export type Role =
  | 'UPLOADER'
  | 'STAFF'
  | 'ADMIN';

/** PENDING (signed up) → ACTIVE ⇄ DEACTIVATED */
export type UserState =
  | 'PENDING'
  | 'ACTIVE'
  | 'DEACTIVATED';

/** CLOSED, APPROVAL (staff approve new accounts) or OPEN */
export type SignUpPolicy =
  | 'CLOSED'
  | 'APPROVAL'
  | 'OPEN';

/** An API token; the secret itself is shown only when it is created */
export type ApiToken = {
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  createdAt: Scalars['DateTimeISO']['output'];
  expiresAt: Maybe<Scalars['DateTimeISO']['output']>;
  lastUsedAt: Maybe<Scalars['DateTimeISO']['output']>;
  revokedAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** The user the token acts as */
  username: Scalars['String']['output'];
};

/** A page of builds, newest first */
export type BuildPage = {
  nodes: Array<Build>;
  /** Builds matching the filter, on all pages */
  totalCount: Scalars['Int']['output'];
  /** Older builds follow: ask again with before = the last id */
  hasMore: Scalars['Boolean']['output'];
};

/** One source package built for one architecture */
export type Build = {
  id: Scalars['ID']['output'];
  /** Source package name */
  source: Scalars['String']['output'];
  version: Scalars['String']['output'];
  /** The distribution written into the .changes, e.g. bookworm-test-unstable */
  distribution: Scalars['String']['output'];
  /** Host architecture of the build */
  architecture: Scalars['String']['output'];
  /** Architecture-independent packages are built here too */
  archAll: Scalars['Boolean']['output'];
  /** The chroot it builds in, e.g. bookworm-amd64 */
  chroot: Scalars['String']['output'];
  state: BuildState;
  result: Maybe<BuildResult>;
  /** sbuild’s Fail-Stage, or lintian/autopkgtest */
  failStage: Maybe<Scalars['String']['output']>;
  /** Why it ended as it did, for people */
  reason: Maybe<Scalars['String']['output']>;
  cancelRequestedBy: Maybe<Scalars['String']['output']>;
  queuedAt: Scalars['DateTimeISO']['output'];
  startedAt: Maybe<Scalars['DateTimeISO']['output']>;
  finishedAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** sbuild’s own wall time in seconds */
  sbuildSeconds: Maybe<Scalars['Float']['output']>;
  /** Wall time of lintian and autopkgtest after sbuild, in seconds */
  qaSeconds: Maybe<Scalars['Float']['output']>;
  lintian: QaResult;
  autopkgtest: QaResult;
  /** Starts at 1; a retry or a restart during the build adds one */
  attempt: Scalars['Int']['output'];
  /** Which builder ran it */
  builder: Maybe<Scalars['String']['output']>;
  /** An administrator’s test build: built, never installed */
  testBuild: Scalars['Boolean']['output'];
  requestedBy: Maybe<Scalars['String']['output']>;
  /** A failure here does not fail the upload (an optional architecture) */
  optional: Scalars['Boolean']['output'];
  /** The other instance it was sent to (its URL), for a remote build */
  sentTo: Maybe<Scalars['String']['output']>;
  /** When its result was delivered to the instance that asked for it */
  resultSentAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** The other instance (its URL) that asked for this build */
  requestedFrom: Maybe<Scalars['String']['output']>;
  /** The build log as plain text (supports Range) */
  logUrl: Scalars['String']['output'];
};

/** queued → building → built */
export type BuildState =
  | 'QUEUED'
  | 'BUILDING'
  | 'BUILT';

export type BuildResult =
  | 'SUCCESSFUL'
  | 'FAILED'
  | 'GIVEN_BACK'
  | 'SKIPPED'
  | 'CANCELLED'
  | 'ERROR';

export type QaResult =
  | 'NOT_RUN'
  | 'PASS'
  | 'WARN'
  | 'FAIL'
  | 'ERROR';

/** This instance’s builder: slots, load, queue */
export type Builders = {
  /** Build slots (the daemon’s maxParallelBuilds, applied when the engine starts) */
  slots: Scalars['Int']['output'];
  busy: Scalars['Int']['output'];
  /** busy / slots, never above 1 */
  load: Scalars['Float']['output'];
  queued: Scalars['Int']['output'];
  running: Array<Build>;
  /** `debyard worker` processes taking builds from this instance’s queue */
  workers: Array<Worker>;
  /** Load and queue length over the last hours, 60 samples */
  history: Array<BuilderSample>;
};


/** This instance’s builder: slots, load, queue */
export type BuildersHistoryArgs = {
  hours?: Scalars['Int']['input'];
};

/** A `debyard worker` process taking builds from this instance’s queue */
export type Worker = {
  /** Its --name; the builder of the builds it runs */
  name: Scalars['String']['output'];
  /** The host it runs on */
  host: Scalars['String']['output'];
  pid: Scalars['Int']['output'];
  /** Builds it runs at a time */
  slots: Scalars['Int']['output'];
  startedAt: Scalars['DateTimeISO']['output'];
  /** Its last heartbeat (every 5 s while it runs) */
  lastSeenAt: Scalars['DateTimeISO']['output'];
  /** Its builds running now */
  busy: Scalars['Int']['output'];
  /** Seen within 30 s; a dead worker's builds go back to the queue and its row goes */
  alive: Scalars['Boolean']['output'];
};

/** Load and queue length at one moment */
export type BuilderSample = {
  at: Scalars['DateTimeISO']['output'];
  /** Busy slots / slots */
  load: Scalars['Float']['output'];
  queued: Scalars['Int']['output'];
};

/** Everything about one source package (as Debian’s package tracker): versions per repository and distribution, uploads, builds, events */
export type PackageTracker = {
  source: Scalars['String']['output'];
  /** Its versions in every distribution of every prepared repository (reprepro) */
  versions: Array<PackageVersion>;
  /** The snapshots that hold it, with the version each holds (per repository and distribution, oldest first) */
  snapshots: Array<PackageSnapshotVersion>;
  /** Its uploads, newest first */
  uploads: Array<Upload>;
  /** Its builds (test builds included), newest first */
  builds: Array<Build>;
  /** Events about it, newest first (the last 100) */
  events: Array<Event>;
  /** How long its successful builds took, oldest first (test builds left out) */
  buildTimes: Array<BuildTime>;
};


/** Everything about one source package (as Debian’s package tracker): versions per repository and distribution, uploads, builds, events */
export type PackageTrackerUploadsArgs = {
  first?: Scalars['Int']['input'];
};


/** Everything about one source package (as Debian’s package tracker): versions per repository and distribution, uploads, builds, events */
export type PackageTrackerBuildsArgs = {
  first?: Scalars['Int']['input'];
};

/** One version of a source package in one distribution of one repository */
export type PackageVersion = {
  /** Repository identity */
  repository: Scalars['String']['output'];
  /** <codename>-<repo>-<suite>[-rollback<n>] */
  distribution: Scalars['String']['output'];
  version: Scalars['String']['output'];
  component: Scalars['String']['output'];
  /** N when the distribution is rollback N of its suite */
  rollback: Maybe<Scalars['Int']['output']>;
};

/** One version of a source package in one snapshot of a distribution */
export type PackageSnapshotVersion = {
  /** Repository identity */
  repository: Scalars['String']['output'];
  /** The distribution it is a snapshot of: <codename>-<repo>-<suite> */
  distribution: Scalars['String']['output'];
  /** The snapshot’s name (apt suite <distribution>/snapshots/<name>) */
  snapshot: Scalars['String']['output'];
  version: Scalars['String']['output'];
  component: Scalars['String']['output'];
};

/** A source upload (.changes) and what became of it */
export type Upload = {
  id: Scalars['ID']['output'];
  /** The .changes file name */
  changesName: Scalars['String']['output'];
  via: UploadVia;
  remoteAddress: Maybe<Scalars['String']['output']>;
  receivedAt: Scalars['DateTimeISO']['output'];
  state: UploadState;
  source: Maybe<Scalars['String']['output']>;
  version: Maybe<Scalars['String']['output']>;
  /** The Distribution field as uploaded (maybe a meta-distribution) */
  distribution: Maybe<Scalars['String']['output']>;
  /** <codename>-<repo>-<suite> it goes into */
  targetDistribution: Maybe<Scalars['String']['output']>;
  /** Repository identity */
  repository: Maybe<Scalars['String']['output']>;
  changedBy: Maybe<Scalars['String']['output']>;
  /** Fingerprint of the key that signed the .changes */
  signedBy: Maybe<Scalars['String']['output']>;
  /** Who that key belongs to (uploader, repository key, instance) */
  uploader: Maybe<Scalars['String']['output']>;
  /** Stable code of the check that rejected it */
  rejectCode: Maybe<Scalars['String']['output']>;
  /** Why it was rejected or failed, for people */
  reason: Maybe<Scalars['String']['output']>;
  /** Upload options from the top changelog entry */
  options: Scalars['JSONObject']['output'];
  finishedAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** A retry adds one */
  attempt: Scalars['Int']['output'];
  /** For a port (via PORT): what it was made from */
  port: Maybe<PortOrigin>;
  /** Its builds, one per architecture */
  builds: Array<Build>;
  /** The .changes as uploaded */
  changesUrl: Scalars['String']['output'];
};

export type UploadVia =
  | 'FTP'
  | 'HTTP'
  | 'PORT';

export type UploadState =
  | 'RECEIVED'
  | 'REJECTED'
  | 'PACKAGING'
  | 'INSTALLING'
  | 'INSTALLED'
  | 'FAILED';

/** What a port was made from, and who asked for it */
export type PortOrigin = {
  /** The distribution it was taken from; for an external port, the .dsc URL */
  from: Scalars['String']['output'];
  /** The version it was made from */
  fromVersion: Scalars['String']['output'];
  /** Who asked: a user name, or "auto-ports of upload <id>" */
  by: Scalars['String']['output'];
  /** The upload whose auto-ports option made it */
  autoPortOf: Maybe<Scalars['Int']['output']>;
  /** The keyring package: migrated along the whole chain of its suite once installed */
  migrateAlong: Maybe<Scalars['Boolean']['output']>;
};

/** Something that happened in this debyard instance */
export type Event = {
  id: Scalars['ID']['output'];
  type: EventType;
  createdAt: Scalars['DateTimeISO']['output'];
  /** One line for people: what happened, to what */
  summary: Scalars['String']['output'];
  payload: Scalars['JSONObject']['output'];
};

/** What an event reports */
export type EventType =
  | 'DAEMON_STARTED'
  | 'DAEMON_STOPPED'
  | 'ENGINE_STARTED'
  | 'ENGINE_STOPPED'
  | 'FTP_UPLOAD'
  | 'UPLOAD_RECEIVED'
  | 'UPLOAD_INCOMPLETE'
  | 'INCOMING_CLEANED'
  | 'USER_CREATED'
  | 'USER_CHANGED'
  | 'USER_REMOVED'
  | 'USER_SIGNED_UP'
  | 'USER_APPROVED'
  | 'USER_REJECTED'
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
  | 'REJECTED'
  | 'PACKAGING'
  | 'INSTALLING'
  | 'INSTALLED'
  | 'FAILED'
  | 'UPLOAD_RETRIED'
  | 'PORT_FAILED'
  | 'SUBSCRIBED'
  | 'UNSUBSCRIBED'
  | 'MAIL_FAILED'
  | 'MIGRATED'
  | 'MIGRATION_FAILED'
  | 'REMOVED'
  | 'RESTORED'
  | 'SNAPSHOT_CREATED'
  | 'SNAPSHOT_DELETED'
  | 'HOOK_FAILED'
  | 'WEBHOOK_ADDED'
  | 'WEBHOOK_REMOVED'
  | 'WEBHOOK_CHANGED'
  | 'WEBHOOK_FAILED';

/** How long one successful build took */
export type BuildTime = {
  build: Scalars['ID']['output'];
  version: Scalars['String']['output'];
  architecture: Scalars['String']['output'];
  /** sbuild’s wall time, or start to finish */
  seconds: Scalars['Float']['output'];
  finishedAt: Scalars['DateTimeISO']['output'];
};

/** A source package that was uploaded here */
export type PackageSummary = {
  source: Scalars['String']['output'];
  /** The version of its newest upload (null if that was rejected unread) */
  latestVersion: Maybe<Scalars['String']['output']>;
  lastUploadAt: Scalars['DateTimeISO']['output'];
  /** What became of its newest upload */
  lastState: UploadState;
  /** How many uploads it had */
  uploads: Scalars['Int']['output'];
};

/** A page of uploads, newest first */
export type UploadPage = {
  nodes: Array<Upload>;
  totalCount: Scalars['Int']['output'];
  /** Older uploads follow: ask again with before = the last id */
  hasMore: Scalars['Boolean']['output'];
};

/** What a port will upload, signed by the instance key */
export type PortPlanResult = {
  source: Scalars['String']['output'];
  /** The from-distribution (a meta-distribution resolved) */
  from: Scalars['String']['output'];
  /** The version taken from it */
  fromVersion: Scalars['String']['output'];
  /** The upload options of the new changelog entry (key=value) */
  options: Array<Scalars['String']['output']>;
  /** The time stamp of rebuilds (UTC, YYYYmmddHHMMSS); give it to port to make exactly these */
  rebuildStamp: Scalars['String']['output'];
  targets: Array<PortTarget>;
};

/** One distribution a port goes to, and the version it will have there */
export type PortTarget = {
  /** <codename>-<repo>-<suite> */
  distribution: Scalars['String']['output'];
  /** Repository identity */
  repository: Scalars['String']['output'];
  version: Scalars['String']['output'];
  /** A rebuild in the from-distribution (+rebuilt<stamp>) rather than a port */
  rebuild: Scalars['Boolean']['output'];
};

/** What a migration, removal or restore does (or did), distribution by distribution */
export type RepositoryChange = {
  action: StagingAction;
  source: Scalars['String']['output'];
  version: Scalars['String']['output'];
  /** Repository identity */
  repository: Scalars['String']['output'];
  /** Migrate: where it comes from; remove: where it leaves; restore: where it goes back into */
  distribution: Scalars['String']['output'];
  steps: Array<StagingStep>;
  /** Every distribution whose version changes */
  changes: Array<DistributionChange>;
  /** What happens, one sentence each */
  summary: Array<Scalars['String']['output']>;
  /** Migrations: the dependency check */
  dependencies: Maybe<DependencyCheck>;
};

/** Migrate, remove or restore */
export type StagingAction =
  | 'MIGRATE'
  | 'REMOVE'
  | 'RESTORE';

/** A suite the source enters (a migration), leaves (a removal) or returns to (a restore) */
export type StagingStep = {
  from: Scalars['String']['output'];
  /** Null for a removal */
  to: Maybe<Scalars['String']['output']>;
};

/** One distribution whose version of the source changes */
export type DistributionChange = {
  distribution: Scalars['String']['output'];
  /** Null: it had none */
  before: Maybe<Scalars['String']['output']>;
  /** Null: it has none afterwards */
  after: Maybe<Scalars['String']['output']>;
};

/** The dependency check of a migration (dose-distcheck) */
export type DependencyCheck = {
  /** False when it was skipped */
  checked: Scalars['Boolean']['output'];
  /** Skipped because the migration was forced */
  forced: Scalars['Boolean']['output'];
  /** The base distribution and extra sources it was checked with */
  against: Array<Scalars['String']['output']>;
  broken: Array<BrokenPackage>;
};

/** A binary package that could not be installed in the target */
export type BrokenPackage = {
  package: Scalars['String']['output'];
  version: Scalars['String']['output'];
  architecture: Scalars['String']['output'];
  /** The target it was checked against */
  distribution: Scalars['String']['output'];
  /** What is missing or in conflict */
  reasons: Array<Scalars['String']['output']>;
  /** The names of the unsatisfied dependencies */
  missing: Array<Scalars['String']['output']>;
};

/** Every source package of a repository, as published: codename × suite × package */
export type RepositoryBrowser = {
  repository: Scalars['String']['output'];
  codenames: Array<Scalars['String']['output']>;
  /** Along the migrations (unstable, testing, stable), experimental suites last */
  suites: Array<BrowserSuite>;
  entries: Array<BrowserEntry>;
};

/** A suite of the repository’s layout */
export type BrowserSuite = {
  name: Scalars['String']['output'];
  migratesTo: Maybe<Scalars['String']['output']>;
  rollbacks: Scalars['Int']['output'];
  uploadable: Scalars['Boolean']['output'];
};

/** A source in one suite of one codename: the version there, its rollbacks and the snapshots holding it */
export type BrowserEntry = {
  source: Scalars['String']['output'];
  codename: Scalars['String']['output'];
  suite: Scalars['String']['output'];
  /** <codename>-<repo>-<suite> */
  distribution: Scalars['String']['output'];
  /** Null: only its rollbacks or snapshots hold it */
  version: Maybe<Scalars['String']['output']>;
  rollbacks: Array<BrowserRollback>;
  /** Oldest first */
  snapshots: Array<BrowserSnapshot>;
};

/** A rollback of a suite holding a version of the source */
export type BrowserRollback = {
  rollback: Scalars['Int']['output'];
  distribution: Scalars['String']['output'];
  version: Scalars['String']['output'];
};

/** A snapshot of the distribution that holds the source */
export type BrowserSnapshot = {
  /** The snapshot’s name (apt suite <distribution>/snapshots/<name>) */
  name: Scalars['String']['output'];
  version: Scalars['String']['output'];
};

/** debdiff between two versions of a source in a repository */
export type DebdiffResult = {
  repository: Scalars['String']['output'];
  source: Scalars['String']['output'];
  from: Scalars['String']['output'];
  to: Scalars['String']['output'];
  /** debdiff’s output */
  text: Scalars['String']['output'];
  /** debdiff found no differences */
  identical: Scalars['Boolean']['output'];
  /** The text was cut at 1 MiB */
  truncated: Scalars['Boolean']['output'];
};

/** The <identity>-archive-keyring package: the archive key and apt sources for clients */
export type KeyringPackage = {
  name: Scalars['String']['output'];
  /** The distributions whose suite builds it */
  distributions: Array<Scalars['String']['output']>;
  /** The time stamp its versions start with (UTC YYYYmmddHHMMSS); null until it was first built */
  versionStamp: Maybe<Scalars['String']['output']>;
  /** When its content last changed */
  changedAt: Maybe<Scalars['DateTimeISO']['output']>;
};

/** A named, frozen state of one distribution that apt can follow */
export type Snapshot = {
  id: Scalars['ID']['output'];
  /** Repository identity */
  repository: Scalars['String']['output'];
  /** <codename>-<repo>-<suite> */
  distribution: Scalars['String']['output'];
  name: Scalars['String']['output'];
  /** The components it has (those of the distribution when it was made) */
  components: Array<Scalars['String']['output']>;
  kind: SnapshotKind;
  createdAt: Scalars['DateTimeISO']['output'];
  /** When the schedule deletes it; null: kept until deleted */
  expiresAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** A user name; null for a scheduled snapshot */
  createdBy: Maybe<Scalars['String']['output']>;
  /** The apt line that follows it: deb [signed-by=…] <url>/repositories/<repo>/ <dist>/snapshots/<name> … */
  aptLine: Scalars['String']['output'];
};

/** Who made a snapshot */
export type SnapshotKind =
  | 'MANUAL'
  | 'WEEKLY'
  | 'MONTHLY'
  | 'YEARLY';

/** A kind of configuration object and its fields */
export type ConfigKindInfo = {
  kind: ConfigKind;
  /** Whether it has the prepare/check/activate lifecycle */
  lifecycle: Scalars['Boolean']['output'];
  fields: Array<ConfigField>;
};

/** A kind of configuration object */
export type ConfigKind =
  | 'DAEMON'
  | 'ARCHIVE'
  | 'APT_KEY'
  | 'SOURCE'
  | 'DISTRIBUTION'
  | 'LAYOUT'
  | 'REPOSITORY'
  | 'UPLOADER'
  | 'CHROOT'
  | 'REMOTE';

/** One field of a configuration object, with what a form needs to edit it */
export type ConfigField = {
  name: Scalars['String']['output'];
  type: ConfigFieldType;
  description: Scalars['String']['output'];
  /** Allowed values of an ENUM */
  options: Maybe<Array<Scalars['String']['output']>>;
  /** What a REFERENCE points to */
  refKind: Maybe<ConfigKind>;
  readOnly: Scalars['Boolean']['output'];
  value: Maybe<Scalars['JSON']['output']>;
};

export type ConfigFieldType =
  | 'STRING'
  | 'TEXT'
  | 'BOOLEAN'
  | 'INT'
  | 'ENUM'
  | 'STRING_LIST'
  | 'REFERENCE'
  | 'REFERENCE_LIST'
  | 'JSON';

/** A configuration object: its state and all its fields */
export type ConfigObject = {
  kind: ConfigKind;
  /** How it is named: an archive URL, Debian:bookworm, a repository identity … */
  key: Scalars['String']['output'];
  description: Scalars['String']['output'];
  lifecycle: Scalars['Boolean']['output'];
  status: Maybe<ConfigStatus>;
  checkState: Maybe<CheckState>;
  checkedAt: Maybe<Scalars['DateTimeISO']['output']>;
  problem: Maybe<Scalars['String']['output']>;
  fields: Array<ConfigField>;
};

/** removed → prepared → active */
export type ConfigStatus =
  | 'REMOVED'
  | 'PREPARED'
  | 'ACTIVE';

/** The outcome of the last check */
export type CheckState =
  | 'UNCHECKED'
  | 'CHANGED'
  | 'FAILED'
  | 'AUTO_REACTIVATE'
  | 'CHECKED';

/** one-line `deb` entries or deb822 .sources */
export type SourcesListFormat =
  | 'ONE_LINE'
  | 'DEB822';

/** The key that signs this instance’s repositories */
export type ArchiveKey = {
  fingerprint: Scalars['String']['output'];
  /** ASCII-armored public key */
  armored: Scalars['String']['output'];
  userIds: Array<Scalars['String']['output']>;
  /** Download as a binary keyring for Signed-By */
  binaryUrl: Scalars['String']['output'];
  /** Download armored */
  armoredUrl: Scalars['String']['output'];
  /** Where the apt lines expect it */
  keyringPath: Scalars['String']['output'];
};

/** Another debyard or mini-buildd instance to build with */
export type Remote = Configurable & {
  status: ConfigStatus;
  checkState: CheckState;
  /** When the last check passed */
  checkedAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** Why the last prepare or check failed */
  problem: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** Its HTTP URL, http(s)://host:port */
  url: Scalars['String']['output'];
  /** Command (argv) that wakes it when it does not answer, e.g. wakeonlan */
  wakeCommand: Array<Scalars['String']['output']>;
  /** How often to run the wake command before giving up */
  wakeAttempts: Scalars['Int']['output'];
  /** Seconds to wait after each wake command */
  wakeIntervalSeconds: Scalars['Int']['output'];
  /** The identity its status reported */
  identity: Scalars['String']['output'];
  /** Fingerprint of its instance key, fetched by prepare */
  fingerprint: Scalars['String']['output'];
  /** Its ASCII-armored instance key, fetched by prepare */
  armored: Scalars['String']['output'];
  /** The debyard or mini-buildd version it runs */
  version: Scalars['String']['output'];
  /** Where it takes uploads (its FTP incoming) */
  incomingUrl: Scalars['String']['output'];
  /** Its load when last seen: busy slots / slots; -1 stopped */
  load: Maybe<Scalars['Float']['output']>;
  /** Its active chroots as codename:arch */
  chroots: Array<Scalars['String']['output']>;
  /** Builds queued or running there (debyard only) */
  builds: Maybe<Scalars['Int']['output']>;
  /** Uploads being packaged there (debyard only) */
  packages: Maybe<Scalars['Int']['output']>;
  /** When it last answered */
  seenAt: Maybe<Scalars['DateTimeISO']['output']>;
};

/** A configuration object with mini-buildd’s lifecycle */
export type Configurable = {
  status: ConfigStatus;
  checkState: CheckState;
  /** When the last check passed */
  checkedAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** Why the last prepare or check failed */
  problem: Maybe<Scalars['String']['output']>;
};

/** What this debyard instance is and how busy it is */
export type Status = {
  version: Scalars['String']['output'];
  /** The instance identity; it names the archive and its keyring package */
  identity: Scalars['String']['output'];
  /** Base URL of the web console, the API and the repositories */
  httpUrl: Scalars['String']['output'];
  /** Where dput uploads go */
  ftpUrl: Scalars['String']['output'];
  /** Whether incoming, packaging and building run (HTTP always does) */
  engineRunning: Scalars['Boolean']['output'];
  /** Busy build slots divided by slots, 0 to 1 */
  load: Scalars['Float']['output'];
  uptimeSeconds: Scalars['Float']['output'];
  startedAt: Scalars['DateTimeISO']['output'];
};

/** Mail about a source package and/or distribution (null: all) to a user */
export type PackageSubscription = {
  id: Scalars['ID']['output'];
  createdAt: Scalars['DateTimeISO']['output'];
  /** Whose subscription it is */
  username: Scalars['String']['output'];
  /** The source package; null: every source */
  source: Maybe<Scalars['String']['output']>;
  /** The distribution; null: every distribution */
  distribution: Maybe<Scalars['String']['output']>;
};

/** An outgoing webhook: events POSTed as JSON, signed with HMAC-SHA256 (administrators) */
export type Webhook = {
  id: Scalars['ID']['output'];
  /** Where events are POSTed (http or https) */
  url: Scalars['String']['output'];
  /** Always ***: the secret is never shown */
  secret: Scalars['String']['output'];
  /** The event types it gets; empty: every type */
  eventTypes: Array<EventType>;
  /** Inactive webhooks get nothing (their queued deliveries are dropped) */
  active: Scalars['Boolean']['output'];
  createdAt: Scalars['DateTimeISO']['output'];
  /** The administrator who added it */
  createdBy: Scalars['String']['output'];
  /** When the last delivery was tried */
  lastAttemptAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** Whether the last delivery was accepted (2xx) */
  lastOk: Maybe<Scalars['Boolean']['output']>;
  /** How the last delivery went, e.g. "HTTP 503 (attempt 1 of 20)" */
  lastResult: Maybe<Scalars['String']['output']>;
};

/** A user’s upload key and the repositories it may upload to */
export type Uploader = Configurable & {
  status: ConfigStatus;
  checkState: CheckState;
  /** When the last check passed */
  checkedAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** Why the last prepare or check failed */
  problem: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** 40 hex digits */
  fingerprint: Scalars['String']['output'];
  /** ASCII-armored public key */
  armored: Scalars['String']['output'];
  userIds: Array<Scalars['String']['output']>;
  /** e.g. ed25519 or rsa4096 */
  algorithm: Scalars['String']['output'];
  expiresAt: Maybe<Scalars['DateTimeISO']['output']>;
  /** The user the key belongs to */
  username: Maybe<Scalars['String']['output']>;
  /** The repositories it may upload to (staff grant them) */
  repositories: Array<Scalars['String']['output']>;
  /** Whether uploads signed by it are accepted now: active, its user active, repositories granted */
  usable: Scalars['Boolean']['output'];
};

export type Mutation = {
  /** Signs in with a password and sets the console’s session cookie */
  signIn: User;
  /** Creates your own uploader account: ACTIVE when sign-up is OPEN, PENDING (staff approve it) under APPROVAL. Refused: SIGN_UP_CLOSED, ALREADY_EXISTS (the name is taken), BAD_USER_INPUT (extensions.field: username, password, email) */
  signUp: User;
  /** Approves a sign-up: the account becomes an active uploader */
  approveUser: User;
  /** Rejects a sign-up: the account is removed and its name free again */
  rejectUser: Scalars['Boolean']['output'];
  /** Deactivates a user (no sign-in, no token, no upload, at once) or activates them again */
  userSetActive: User;
  /** Gives a user another role; the last active administrator keeps theirs */
  userSetRole: User;
  /** Ends this session (or revokes the token used for the request) */
  signOut: Scalars['Boolean']['output'];
  userAdd: User;
  /** Sets a password: your own, or anybody’s as an administrator */
  userSetPassword: User;
  /** Sets where notifications go: your own address, or anybody’s as an administrator */
  userSetEmail: User;
  userRemove: Scalars['Boolean']['output'];
  tokenCreate: CreatedToken;
  tokenRevoke: ApiToken;
  /** Cancels a queued or running build; it ends as CANCELLED */
  cancelBuild: Build;
  /** Queues a finished build again */
  retryBuild: Build;
  /** Builds a source package without installing it, to check a chroot: dsc is an http(s) URL or an absolute path on the daemon’s host; distribution is a codename or <codename>-<repo>-<suite> */
  testBuild: Build;
  /** Runs a rejected or failed upload again, from its checks */
  retryUpload: Upload;
  /** No-changes port of a source version from one distribution to others (or a rebuild in the same one): one upload per target, signed by the instance key, through the normal checks, builds and install. Refused with the upload checks’ codes (DISTRIBUTION_UNKNOWN, SUITE_NOT_UPLOADABLE, VERSION_EXISTS, …) or SOURCE_NOT_FOUND before anything is made */
  port: Array<Upload>;
  /** External no-changes port of a .dsc from an http(s) URL (mini-buildd’s port_ext): its signature verified against the target distributions’ base sources and their origin’s developer keyrings unless allowUnauthenticated, then one upload per target with version <dsc Version><target default version>, signed by the instance key. Refused before anything is uploaded (DSC_NOT_FOUND, DSC_INVALID, SOURCE_FILE_MISSING, CHECKSUM_MISMATCH, DSC_SIGNATURE, the upload checks’ codes) */
  portExternal: Array<Upload>;
  /** Copies a source version from a suite to the one it migrates to (full: along the whole chain), shifting what is there into rollback0; refused when the binary packages’ dependencies cannot be satisfied there (DEPENDENCIES_UNSATISFIED) unless forced, and with SOURCE_NOT_FOUND, ALREADY_MIGRATED, NO_MIGRATION_TARGET, ROLLBACK_DISTRIBUTION, VERSION_LOWER */
  migrate: RepositoryChange;
  /** Removes a source from a distribution, keeping its version as rollback0 (unless keepRollback is false); from a rollback distribution, the rollbacks above move down one. Refused with SOURCE_NOT_FOUND */
  remove: RepositoryChange;
  /** Copies rollback N of a distribution back into it; what it holds goes into rollback0 first. Refused with ROLLBACK_OUT_OF_RANGE, ROLLBACK_EMPTY, VERSION_EXISTS, ROLLBACK_DISTRIBUTION, ROLLBACK_FULL */
  restore: RepositoryChange;
  /** Builds <identity>-archive-keyring (the archive key, deb822 .sources per distribution with Signed-By, a dput-ng profile) into every distribution whose suite builds it, or those named: signed by the instance key, then checked, built and installed like any upload. Where its version is there already, nothing is uploaded (UP_TO_DATE); once installed, it is migrated along the whole chain of its suite (unstable -> testing -> stable) unless withoutMigration. From now on it is rebuilt (and migrated along) by itself when the key or the repositories change */
  buildKeyringPackages: Array<KeyringTarget>;
  /** Freezes a distribution as snapshot NAME (reprepro gensnapshot): apt can follow it as <dist>/snapshots/<name> and its packages stay until it is deleted. Refused: DISTRIBUTION_UNKNOWN, BAD_USER_INPUT (name), ALREADY_EXISTS */
  createSnapshot: Snapshot;
  /** Deletes a snapshot and the packages only it kept (NOT_FOUND when there is none) */
  deleteSnapshot: Snapshot;
  /** Runs a snapshot schedule now, as its cron job does: a snapshot of each stable suite of the repositories that keep that kind, then the expired snapshots are deleted */
  runSnapshotSchedule: SnapshotScheduleRun;
  /** Creates (with create: true) or edits an object; invalid values are refused with the field named */
  configSet: ConfigSetResult;
  /** Runs a lifecycle action; dependencies are handled first */
  configAction: ConfigObject;
  /** Writes a complete, signed copy of a repository, or of chosen codenames, suites and architectures of it, into a directory on the daemon’s host that can be copied to any web space (dists with by-hash, the pool files they need). The directory must be new, empty or an earlier mirror, which is updated. Refused with BAD_USER_INPUT (extensions.field), NOT_FOUND, LIFECYCLE, UNKNOWN_DISTRIBUTION, UNKNOWN_ARCHITECTURE or MIRROR_DIRECTORY_IN_USE before anything is written */
  mirrorRepository: MirrorResult;
  /** Asks a remote for its status, running its wake command while it does not answer (mini-buildd’s wake) */
  wakeRemote: Remote;
  /** Builds or updates a complete configuration. A dry run unless apply is true; applying is idempotent and prepares, checks and activates everything */
  setup: SetupReport;
  /** Starts incoming and processing (HTTP always runs) */
  engineStart: Status;
  /** Stops incoming and processing; HTTP keeps serving */
  engineStop: Status;
  /** Mail about a source and/or distribution (left out: all) to your e-mail address */
  subscribe: PackageSubscription;
  /** Ends a subscription: yours, or anybody’s as an administrator */
  unsubscribe: PackageSubscription;
  /** Adds a webhook: each event (of the chosen types) POSTed as signed JSON */
  addWebhook: Webhook;
  /** Removes a webhook; its queued deliveries are dropped */
  removeWebhook: Webhook;
  /** Switches a webhook on or off */
  setWebhookActive: Webhook;
  /** POSTs a signed PING to a webhook now and says how it went */
  testWebhook: WebhookTestResult;
  /** Adds an armored OpenPGP public key to your profile, prepared and checked; usable once staff activate it. Refused: KEY_INVALID, KEY_EXPIRED, KEY_REVOKED, KEY_WEAK (RSA below 2048 bits, DSA …), ALREADY_EXISTS */
  addKey: Uploader;
  /** Removes a key from your profile (staff: anybody’s); its uploads stop at once */
  removeKey: Scalars['Boolean']['output'];
  /** Grants a key these repositories and activates it; its user must be active (else USER_STATE) */
  activateKey: Uploader;
  /** Deactivates a key: uploads signed by it are refused from now on */
  deactivateKey: Uploader;
};


export type MutationSignInArgs = {
  password: Scalars['String']['input'];
  username: Scalars['String']['input'];
};


export type MutationSignUpArgs = {
  email: InputMaybe<Scalars['String']['input']>;
  password: Scalars['String']['input'];
  username: Scalars['String']['input'];
};


export type MutationApproveUserArgs = {
  username: Scalars['String']['input'];
};


export type MutationRejectUserArgs = {
  reason: InputMaybe<Scalars['String']['input']>;
  username: Scalars['String']['input'];
};


export type MutationUserSetActiveArgs = {
  active: Scalars['Boolean']['input'];
  username: Scalars['String']['input'];
};


export type MutationUserSetRoleArgs = {
  role: Role;
  username: Scalars['String']['input'];
};


export type MutationUserAddArgs = {
  password: InputMaybe<Scalars['String']['input']>;
  role: Role;
  username: Scalars['String']['input'];
};


export type MutationUserSetPasswordArgs = {
  password: Scalars['String']['input'];
  username: Scalars['String']['input'];
};


export type MutationUserSetEmailArgs = {
  email: InputMaybe<Scalars['String']['input']>;
  username: Scalars['String']['input'];
};


export type MutationUserRemoveArgs = {
  username: Scalars['String']['input'];
};


export type MutationTokenCreateArgs = {
  username: InputMaybe<Scalars['String']['input']>;
  expiresInDays: InputMaybe<Scalars['Int']['input']>;
  name: Scalars['String']['input'];
};


export type MutationTokenRevokeArgs = {
  id: Scalars['ID']['input'];
};


export type MutationCancelBuildArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRetryBuildArgs = {
  id: Scalars['ID']['input'];
};


export type MutationTestBuildArgs = {
  architecture: Scalars['String']['input'];
  distribution: Scalars['String']['input'];
  dsc: Scalars['String']['input'];
};


export type MutationRetryUploadArgs = {
  id: Scalars['ID']['input'];
};


export type MutationPortArgs = {
  rebuildStamp: InputMaybe<Scalars['String']['input']>;
  options: InputMaybe<Array<Scalars['String']['input']>>;
  version: InputMaybe<Scalars['String']['input']>;
  to: Array<Scalars['String']['input']>;
  from: Scalars['String']['input'];
  source: Scalars['String']['input'];
};


export type MutationPortExternalArgs = {
  options: InputMaybe<Array<Scalars['String']['input']>>;
  allowUnauthenticated?: Scalars['Boolean']['input'];
  to: Array<Scalars['String']['input']>;
  dscUrl: Scalars['String']['input'];
};


export type MutationMigrateArgs = {
  force?: Scalars['Boolean']['input'];
  full?: Scalars['Boolean']['input'];
  version: InputMaybe<Scalars['String']['input']>;
  distribution: Scalars['String']['input'];
  source: Scalars['String']['input'];
};


export type MutationRemoveArgs = {
  keepRollback?: Scalars['Boolean']['input'];
  version: InputMaybe<Scalars['String']['input']>;
  distribution: Scalars['String']['input'];
  source: Scalars['String']['input'];
};


export type MutationRestoreArgs = {
  rollback: Scalars['Int']['input'];
  distribution: Scalars['String']['input'];
  source: Scalars['String']['input'];
};


export type MutationBuildKeyringPackagesArgs = {
  withoutMigration?: Scalars['Boolean']['input'];
  distributions: InputMaybe<Array<Scalars['String']['input']>>;
};


export type MutationCreateSnapshotArgs = {
  expiresAt: InputMaybe<Scalars['DateTimeISO']['input']>;
  name: Scalars['String']['input'];
  distribution: Scalars['String']['input'];
};


export type MutationDeleteSnapshotArgs = {
  name: Scalars['String']['input'];
  distribution: Scalars['String']['input'];
};


export type MutationRunSnapshotScheduleArgs = {
  kind: SnapshotKind;
};


export type MutationConfigSetArgs = {
  create?: Scalars['Boolean']['input'];
  values: Scalars['JSONObject']['input'];
  key: Scalars['String']['input'];
  kind: ConfigKind;
};


export type MutationConfigActionArgs = {
  action: LifecycleAction;
  key: Scalars['String']['input'];
  kind: ConfigKind;
};


export type MutationMirrorRepositoryArgs = {
  rollbacks?: Scalars['Int']['input'];
  architectures: InputMaybe<Array<Scalars['String']['input']>>;
  suites: InputMaybe<Array<Scalars['String']['input']>>;
  codenames: InputMaybe<Array<Scalars['String']['input']>>;
  directory: Scalars['String']['input'];
  repository: Scalars['String']['input'];
};


export type MutationWakeRemoteArgs = {
  url: Scalars['String']['input'];
};


export type MutationSetupArgs = {
  apply?: Scalars['Boolean']['input'];
  input: SetupInput;
};


export type MutationSubscribeArgs = {
  username: InputMaybe<Scalars['String']['input']>;
  distribution: InputMaybe<Scalars['String']['input']>;
  source: InputMaybe<Scalars['String']['input']>;
};


export type MutationUnsubscribeArgs = {
  id: Scalars['ID']['input'];
};


export type MutationAddWebhookArgs = {
  input: WebhookInput;
};


export type MutationRemoveWebhookArgs = {
  id: Scalars['ID']['input'];
};


export type MutationSetWebhookActiveArgs = {
  active: Scalars['Boolean']['input'];
  id: Scalars['ID']['input'];
};


export type MutationTestWebhookArgs = {
  id: Scalars['ID']['input'];
};


export type MutationAddKeyArgs = {
  armored: Scalars['String']['input'];
};


export type MutationRemoveKeyArgs = {
  fingerprint: Scalars['String']['input'];
};


export type MutationActivateKeyArgs = {
  repositories: Array<Scalars['String']['input']>;
  fingerprint: Scalars['String']['input'];
};


export type MutationDeactivateKeyArgs = {
  fingerprint: Scalars['String']['input'];
};

/** A new API token and its secret, which is shown only this once */
export type CreatedToken = {
  token: ApiToken;
  /** Pass it as `Authorization: Bearer <secret>`, or to the CLI as --token / DEBYARD_TOKEN */
  secret: Scalars['String']['output'];
};

/** The keyring package in one distribution */
export type KeyringTarget = {
  /** <codename>-<repo>-<suite> */
  distribution: Scalars['String']['output'];
  /** The version it has (or would have) there; empty when refused before */
  version: Scalars['String']['output'];
  state: KeyringTargetState;
  /** The new upload, when UPLOADED */
  upload: Maybe<Upload>;
  /** Why, when PENDING or REFUSED */
  reason: Maybe<Scalars['String']['output']>;
};

/** What building the keyring package did in one distribution */
export type KeyringTargetState =
  | 'UPLOADED'
  | 'UP_TO_DATE'
  | 'PENDING'
  | 'REFUSED';

/** What one run of a snapshot schedule did */
export type SnapshotScheduleRun = {
  created: Array<Snapshot>;
  /** The snapshots that had expired */
  deleted: Array<Snapshot>;
};

/** The object after an edit and what the edit changed */
export type ConfigSetResult = {
  object: ConfigObject;
  changes: Array<FieldChangeInfo>;
  created: Scalars['Boolean']['output'];
};

export type FieldChangeInfo = {
  field: Scalars['String']['output'];
  from: Maybe<Scalars['JSON']['output']>;
  to: Maybe<Scalars['JSON']['output']>;
};

/** prepare, check, activate, deactivate, remove, or PCA (prepare + check + activate) */
export type LifecycleAction =
  | 'PREPARE'
  | 'CHECK'
  | 'ACTIVATE'
  | 'DEACTIVATE'
  | 'REMOVE'
  | 'PCA';

/** A signed copy of a repository written into a directory (mirrorRepository) */
export type MirrorResult = {
  repository: Scalars['String']['output'];
  /** The directory, as the daemon resolved it */
  directory: Scalars['String']['output'];
  /** The distributions copied (<codename>-<repo>-<suite>[-rollback<n>]) */
  distributions: Array<Scalars['String']['output']>;
  /** The binary architectures copied (sources always are) */
  architectures: Array<Scalars['String']['output']>;
  /** Distributions whose Release lists fewer indices than the original, signed again with the instance key */
  resigned: Array<Scalars['String']['output']>;
  /** Pool files the copied indices need */
  poolFiles: Scalars['Int']['output'];
  /** Bytes in the copy (pool and dists) */
  bytes: Scalars['Float']['output'];
  seconds: Scalars['Float']['output'];
};

/** Per object: what setup found and, when applied, what it did */
export type SetupReport = {
  applied: Scalars['Boolean']['output'];
  entries: Array<SetupEntry>;
};

export type SetupEntry = {
  kind: ConfigKind;
  key: Scalars['String']['output'];
  state: SetupState;
  changes: Array<FieldChangeInfo>;
  note: Maybe<Scalars['String']['output']>;
  /** Only when applied */
  result: Maybe<SetupResult>;
  error: Maybe<Scalars['String']['output']>;
};

/** What setup finds for an object */
export type SetupState =
  | 'MISSING'
  | 'UNCHANGED'
  | 'CHANGED'
  | 'FAILING'
  | 'SKIPPED';

/** What applying setup did to an object */
export type SetupResult =
  | 'CREATED'
  | 'UPDATED'
  | 'ACTIVATED'
  | 'UNCHANGED'
  | 'FAILED'
  | 'SKIPPED';

/** The choices setup builds a configuration from */
export type SetupInput = {
  /** Debian (default) or Ubuntu */
  origin?: InputMaybe<Scalars['String']['input']>;
  codenames: Array<Scalars['String']['input']>;
  /** Default: this machine’s architecture */
  architectures?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Replaces the origin’s default archive */
  mirror?: InputMaybe<Scalars['String']['input']>;
  /** Replaces the security archive */
  securityMirror?: InputMaybe<Scalars['String']['input']>;
  identity?: InputMaybe<Scalars['String']['input']>;
  emailAddress?: InputMaybe<Scalars['String']['input']>;
  /** Default: one repository "test" */
  repositories?: InputMaybe<Array<SetupRepositoryInput>>;
  /** Also one build chroot per codename and architecture (takes about a minute each) */
  chroots?: InputMaybe<Scalars['Boolean']['input']>;
  /** How the chroots are kept; default SCHROOT */
  chrootBackend?: InputMaybe<ChrootBackend>;
};

/** A repository setup creates or updates */
export type SetupRepositoryInput = {
  /** e.g. test (accepts unsigned uploads) or debdev (Debian Developer layout) */
  identity: Scalars['String']['input'];
  /** Default, Default (no rollbacks) or Debian Developer */
  layout?: InputMaybe<Scalars['String']['input']>;
  /** Default: all codenames */
  codenames?: InputMaybe<Array<Scalars['String']['input']>>;
};

export type ChrootBackend =
  | 'SCHROOT'
  | 'UNSHARE';

/** A new outgoing webhook */
export type WebhookInput = {
  /** http(s) URL the events are POSTed to */
  url: Scalars['String']['input'];
  /** HMAC-SHA256 key, 16 to 256 printable ASCII characters; never shown again */
  secret: Scalars['String']['input'];
  /** Event types to deliver (e.g. INSTALLED, FAILED); left out or empty: every type */
  eventTypes?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Deliver at once (default true) */
  active?: InputMaybe<Scalars['Boolean']['input']>;
};

/** How a test delivery went */
export type WebhookTestResult = {
  /** The target answered 2xx */
  ok: Scalars['Boolean']['output'];
  /** The HTTP status; null when there was no answer */
  status: Maybe<Scalars['Int']['output']>;
  /** For people: "HTTP 200 in 12 ms", "connection refused (ECONNREFUSED)", … */
  message: Scalars['String']['output'];
  ms: Scalars['Int']['output'];
};

export type Subscription = {
  /** The build log from offset (bytes), then live until the build ends; the last chunk has done: true */
  buildLog: LogChunk;
  /** What creating or refreshing a chroot printed, from offset, then live until it is idle */
  chrootLog: LogChunk;
  /** Every event after `since` (omit it for new events only), then live ones: no gap and no duplicate, so a client that reconnects with the last id it saw misses nothing */
  events: Event;
};


export type SubscriptionBuildLogArgs = {
  offset: InputMaybe<Scalars['Float']['input']>;
  id: Scalars['ID']['input'];
};


export type SubscriptionChrootLogArgs = {
  offset: InputMaybe<Scalars['Float']['input']>;
  key: Scalars['String']['input'];
};


export type SubscriptionEventsArgs = {
  since: InputMaybe<Scalars['ID']['input']>;
};

/** A piece of a log; the last one of a finished log has done: true */
export type LogChunk = {
  /** Byte offset of text in the log file */
  offset: Scalars['Float']['output'];
  /** The bytes from offset on, as UTF-8 (a character split across chunks is kept whole) */
  text: Scalars['String']['output'];
  /** The log is complete: nothing will follow */
  done: Scalars['Boolean']['output'];
};
