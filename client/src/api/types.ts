// The console's view of the daemon's GraphQL types. They come from ../gql/schema.ts, generated from the
// committed schema.graphql (npm run codegen -w client); here they are narrowed to what the console's
// documents select, so a field the schema renames, retypes or drops fails the client's typecheck.
import type * as S from '../gql/schema';

/** ISO 8601 timestamp (`DateTimeISO` scalar). */
export type DateTimeISO = S.Scalars['DateTimeISO']['output'];

/**
 * Checks at compile time that a list names every member of the union T: a value the schema adds or
 * drops fails the build here, instead of leaving a filter or a menu without it.
 */
function everyOf<T extends string>() {
  return <const L extends readonly T[]>(
    list: L & ([T] extends [L[number]] ? unknown : { missing: Exclude<T, L[number]> }),
  ): L => list;
}

/** Every argument given (none left out or null): the console's requests. */
export type Given<T> = { [K in keyof T]-?: NonNullable<T[K]> };

export type {
  BuildResult,
  BuildState,
  CheckState,
  ChrootBackend,
  ConfigFieldType,
  ConfigKind,
  ConfigStatus,
  LifecycleAction,
  QaResult,
  Role,
  SetupResult,
  SetupState,
  StagingAction,
  UploadState,
} from '../gql/schema';

export const ROLES = everyOf<S.Role>()(['UPLOADER', 'STAFF', 'ADMIN']);

/** The event types the daemon sends. */
export type KnownEventType = S.EventType;
/** An event type as filters and payloads carry it: any string must render. */
export type EventType = KnownEventType | (string & {});

export type Status = S.Status;
export type DaemonEvent = S.Event;
export type User = Pick<S.User, 'id' | 'username' | 'role' | 'createdAt' | 'lastSignInAt'>;

export const CONFIG_KINDS = everyOf<S.ConfigKind>()([
  'DAEMON',
  'ARCHIVE',
  'APT_KEY',
  'SOURCE',
  'DISTRIBUTION',
  'LAYOUT',
  'REPOSITORY',
  'UPLOADER',
  'CHROOT',
  'REMOTE',
]);

/** A configuration field; `configKinds` describes fields without a value. */
export type ConfigField = Omit<S.ConfigField, 'value'> & Partial<Pick<S.ConfigField, 'value'>>;
export type ConfigKindInfo = Omit<S.ConfigKindInfo, 'fields'> & { fields: ConfigField[] };
export type ConfigObject = Omit<S.ConfigObject, 'fields'> & { fields: ConfigField[] };
export type FieldChange = S.FieldChangeInfo;
export type ConfigSetResult = Omit<S.ConfigSetResult, 'object'> & { object: ConfigObject };

export type SetupRepositoryInput = S.SetupRepositoryInput;
export type SetupInput = S.SetupInput;
export type SetupEntry = S.SetupEntry;
export type SetupReport = S.SetupReport;

export type ArchiveKey = S.ArchiveKey;

export const BUILD_STATES = everyOf<S.BuildState>()(['QUEUED', 'BUILDING', 'BUILT']);
export const BUILD_RESULTS = everyOf<S.BuildResult>()([
  'SUCCESSFUL',
  'FAILED',
  'GIVEN_BACK',
  'SKIPPED',
  'CANCELLED',
  'ERROR',
]);

/** A build as the builds pages show it; an upload's builds also say whether they may fail. */
export type Build = Omit<S.Build, 'optional'>;
export type BuildPage = Omit<S.BuildPage, 'nodes'> & { nodes: Build[] };

/** The filters of the builds list; absent means any. */
export type BuildFilter = Partial<
  Pick<S.QueryBuildsArgs, 'state' | 'result' | 'source' | 'distribution' | 'architecture'>
>;

export type BuilderSample = S.BuilderSample;
export type Builders = Omit<S.Builders, 'running' | 'workers'> & { running: Build[] };

/** A `debyard worker` process taking builds from this instance's queue. */
export type Worker = Pick<S.Worker, 'name' | 'host' | 'pid' | 'slots' | 'busy' | 'alive' | 'startedAt' | 'lastSeenAt'>;

/** A piece of a log: `text` starts at byte `offset`; the last one has `done`. */
export type LogChunk = S.LogChunk;

/** Another instance this one builds with, and what it last said (mini-buildd's Remote). */
export type Remote = Pick<
  S.Remote,
  | 'url'
  | 'status'
  | 'checkState'
  | 'checkedAt'
  | 'problem'
  | 'identity'
  | 'version'
  | 'load'
  | 'chroots'
  | 'builds'
  | 'packages'
  | 'seenAt'
>;

export const UPLOAD_STATES = everyOf<S.UploadState>()([
  'RECEIVED',
  'REJECTED',
  'PACKAGING',
  'INSTALLING',
  'INSTALLED',
  'FAILED',
]);
/** The pipeline's events: an upload's state changes (payload: upload, source, version, …). */
export const UPLOAD_EVENT_TYPES: string[] = [
  'REJECTED',
  'PACKAGING',
  'INSTALLING',
  'INSTALLED',
  'FAILED',
  'UPLOAD_RETRIED',
] satisfies KnownEventType[];

/** A build as an upload or the package tracker lists it. */
export type UploadBuild = S.Build;

/** What a port was made from, and who asked for it. */
export type PortOrigin = S.PortOrigin;

/** An upload as the lists show it (without its builds). */
export type Upload = Omit<S.Upload, 'builds'>;
export type UploadWithBuilds = S.Upload;

/** What a port will upload: the new version per target distribution. */
export type PortPlan = S.PortPlanResult;
export type PortRequest = Given<S.QueryPortPlanArgs>;

export type UploadPage = Omit<S.UploadPage, 'nodes'> & { nodes: Upload[] };
export type UploadFilter = Partial<Pick<S.QueryUploadsArgs, 'state' | 'source' | 'repository'>>;

export type PackageVersion = S.PackageVersion;
export type PackageSnapshotVersion = S.PackageSnapshotVersion;
export type BuildTime = S.BuildTime;
export type PackageTracker = Omit<S.PackageTracker, 'uploads'> & { uploads: Upload[] };
export type PackageSummary = S.PackageSummary;

/** What a migration, removal or restore asks for (`version` for migrate/remove, `rollback` for restore). */
export type StagingRequest = Pick<S.QueryStagingPlanArgs, 'action' | 'source' | 'distribution'> &
  Partial<Pick<S.QueryStagingPlanArgs, 'version' | 'full' | 'keepRollback' | 'rollback'>>;

export type BrokenPackage = S.BrokenPackage;
export type RepositoryChange = S.RepositoryChange;
export type BrowserEntry = S.BrowserEntry;
export type RepositoryBrowser = S.RepositoryBrowser;
export type DebdiffResult = S.DebdiffResult;
