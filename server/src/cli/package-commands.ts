import type { Command } from 'commander';
import { Option } from 'commander';
import { type ApiClient, CliError, EXIT } from './api-client.js';
import type { ClientFactory } from './config-commands.js';
import { print, table } from './output.js';

const UPLOAD_FIELDS =
  'id changesName via remoteAddress receivedAt state source version distribution targetDistribution repository changedBy signedBy uploader rejectCode reason options finishedAt attempt changesUrl';
const UPLOAD_BUILD_FIELDS =
  'id source version distribution architecture state result failStage reason lintian autopkgtest startedAt finishedAt sbuildSeconds attempt optional testBuild logUrl';
const UPLOAD_STATES = ['received', 'rejected', 'packaging', 'installing', 'installed', 'failed'] as const;

export interface PackageVersionRow {
  repository: string;
  distribution: string;
  version: string;
  component: string;
  rollback?: number | null;
}

export interface SnapshotVersionRow {
  repository: string;
  distribution: string;
  snapshot: string;
  version: string;
  component: string;
}

export interface UploadBuildRow {
  id: string;
  source: string;
  version: string;
  distribution: string;
  architecture: string;
  state: string;
  result: string | null;
  failStage: string | null;
  reason: string | null;
  lintian: string;
  autopkgtest: string;
  startedAt: string | null;
  finishedAt: string | null;
  sbuildSeconds: number | null;
  attempt: number;
  optional: boolean;
  testBuild: boolean;
  logUrl: string;
}

export interface UploadRow {
  id: string;
  changesName: string;
  via: string;
  remoteAddress: string | null;
  receivedAt: string;
  state: string;
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
  finishedAt: string | null;
  attempt: number;
  changesUrl: string;
  builds?: UploadBuildRow[];
}

interface TrackerRow {
  source: string;
  versions: PackageVersionRow[];
  snapshots: SnapshotVersionRow[];
  uploads: UploadRow[];
  builds: UploadBuildRow[];
}

const lower = (value: string): string => value.toLowerCase().replace(/_/g, '-');

/** "rejected (BAD_SIGNATURE)", "installed". */
export function uploadState(u: Pick<UploadRow, 'state' | 'rejectCode'>): string {
  return `${lower(u.state)}${u.rejectCode ? ` (${u.rejectCode})` : ''}`;
}

/** "successful", "building", "failed at build". */
export function buildVerdict(b: Pick<UploadBuildRow, 'state' | 'result' | 'failStage'>): string {
  const verdict = b.state === 'BUILT' && b.result ? lower(b.result) : lower(b.state);
  return b.failStage ? `${verdict} at ${b.failStage}` : verdict;
}

function took(b: Pick<UploadBuildRow, 'sbuildSeconds' | 'startedAt' | 'finishedAt'>): string {
  const seconds =
    b.sbuildSeconds ??
    (b.startedAt && b.finishedAt ? (Date.parse(b.finishedAt) - Date.parse(b.startedAt)) / 1000 : null);
  return seconds === null ? '-' : `${seconds.toFixed(1)} s`;
}

export function versionsTable(source: string, versions: PackageVersionRow[]): string {
  if (!versions.length) return `${source} is in no repository`;
  // Rollbacks get a column of their own, so they never read as the version a suite has.
  const rollbacks = versions.some((v) => v.rollback != null);
  return table(
    ['REPOSITORY', 'DISTRIBUTION', 'VERSION', 'COMPONENT', ...(rollbacks ? ['ROLLBACK'] : [])],
    versions.map((v) => [
      v.repository,
      v.distribution,
      v.version,
      v.component,
      ...(rollbacks
        ? [v.rollback == null ? '' : `rollback ${v.rollback} of ${v.distribution.replace(/-rollback\d+$/, '')}`]
        : []),
    ]),
  );
}

/** The versions table, then the snapshots that hold the source (if any). */
export function versionsAndSnapshots(source: string, versions: PackageVersionRow[], snapshots: SnapshotVersionRow[]) {
  const table_ = versionsTable(source, versions);
  if (!snapshots.length) return table_;
  return [
    table_,
    '',
    'in snapshots:',
    table(
      ['REPOSITORY', 'DISTRIBUTION', 'SNAPSHOT', 'VERSION', 'COMPONENT'],
      snapshots.map((s) => [s.repository, s.distribution, s.snapshot, s.version, s.component]),
    ),
  ].join('\n');
}

export function uploadsTable(uploads: UploadRow[]): string {
  return table(
    ['ID', 'SOURCE', 'VERSION', 'DISTRIBUTION', 'STATE', 'RECEIVED'],
    uploads.map((u) => [u.id, u.source ?? '-', u.version ?? '-', u.distribution ?? '-', uploadState(u), u.receivedAt]),
  );
}

export function buildsTable(builds: UploadBuildRow[]): string {
  return table(
    ['ID', 'VERSION', 'DISTRIBUTION', 'ARCH', 'RESULT', 'LINTIAN', 'AUTOPKGTEST', 'TOOK'],
    builds.map((b) => [
      b.id,
      b.version,
      b.distribution,
      b.architecture + (b.optional ? ' (optional)' : '') + (b.testBuild ? ' (test)' : ''),
      buildVerdict(b),
      lower(b.lintian),
      lower(b.autopkgtest),
      took(b),
    ]),
  );
}

/** The newest build per distribution and architecture, from builds listed newest first. */
export function latestPerArchitecture(builds: UploadBuildRow[]): UploadBuildRow[] {
  const seen = new Set<string>();
  return builds.filter((b) => {
    const key = `${b.distribution} ${b.architecture}`;
    if (b.testBuild || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function describeUpload(u: UploadRow): string {
  const what = u.source ? `${u.source} ${u.version ?? ''}`.trim() : u.changesName;
  const lines = [
    `upload ${u.id}: ${what}${u.distribution ? ` for ${u.distribution}` : ''}`,
    `  state:     ${uploadState(u)}${u.attempt > 1 ? `, attempt ${u.attempt}` : ''}`,
    ...(u.reason ? [`  reason:    ${u.reason}`] : []),
    ...(u.targetDistribution ? [`  into:      ${u.targetDistribution} (repository ${u.repository ?? '-'})`] : []),
    ...(u.changedBy ? [`  changed by: ${u.changedBy}`] : []),
    ...(u.signedBy ? [`  signed by: ${u.signedBy}${u.uploader ? ` (${u.uploader})` : ''}`] : []),
    `  received:  ${u.receivedAt} via ${u.via.toLowerCase()}${u.remoteAddress ? ` from ${u.remoteAddress}` : ''}`,
    ...(u.finishedAt ? [`  finished:  ${u.finishedAt}`] : []),
    ...(Object.keys(u.options).length ? [`  options:   ${JSON.stringify(u.options)}`] : []),
    `  changes:   ${u.changesUrl}`,
  ];
  if (u.builds?.length) lines.push('', buildsTable(u.builds));
  return lines.join('\n');
}

export function describeTracker(t: TrackerRow): string {
  const latest = latestPerArchitecture(t.builds);
  return [
    `${t.source}`,
    '',
    versionsAndSnapshots(t.source, t.versions, t.snapshots),
    '',
    t.uploads.length ? `uploads (newest first):\n${uploadsTable(t.uploads)}` : 'no uploads',
    ...t.uploads
      .filter((u) => u.reason && (u.state === 'REJECTED' || u.state === 'FAILED'))
      .slice(0, 3)
      .map((u) => `  upload ${u.id}: ${u.reason}`),
    '',
    latest.length ? `builds (the newest per distribution and architecture):\n${buildsTable(latest)}` : 'no builds',
  ].join('\n');
}

function parseUploadId(id: string): string {
  if (!/^\d{1,9}$/.test(id)) throw new CliError(`an upload id is a whole number, not "${id}"`, EXIT.USAGE);
  return id;
}

function checkSource(source: string): string {
  if (!/^[a-z0-9][a-z0-9.+-]+$/.test(source))
    throw new CliError(`"${source}" is not a source package name`, EXIT.USAGE);
  return source;
}

async function tracker(api: ApiClient, source: string, fields: string): Promise<TrackerRow> {
  const { package: found } = await api.request<{ package: TrackerRow }>(
    `query($s: String!) { package(source: $s) { source ${fields} } }`,
    { s: checkSource(source) },
  );
  return found;
}

/** `retryUpload`, for `debyard retry --upload ID`. */
export async function retryUpload(api: ApiClient, json: boolean, id: string): Promise<void> {
  const { retryUpload: u } = await api.request<{ retryUpload: UploadRow }>(
    `mutation($id: ID!) { retryUpload(id: $id) { ${UPLOAD_FIELDS} } }`,
    { id: parseUploadId(id) },
  );
  print(
    json,
    u,
    () =>
      `upload ${u.id} (${u.source ?? u.changesName}${u.version ? ` ${u.version}` : ''}): checked again, attempt ${u.attempt} (debyard events --follow --source ${u.source ?? '…'} --exit-on INSTALLED,FAILED,REJECTED)`,
  );
}

/** `ls`, `show`, `uploads`, `upload`. */
export function addPackageCommands(program: Command, client: ClientFactory): void {
  program
    .command('ls <source>')
    .description(
      'the versions of a source package in every distribution of every repository, and the snapshots that hold ' +
        'it (--json: the versions only; `show --json` has both)',
    )
    .action(async (source: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const t = await tracker(
        api,
        source,
        'versions { repository distribution version component rollback } ' +
          'snapshots { repository distribution snapshot version component }',
      );
      print(json, t.versions, () => versionsAndSnapshots(t.source, t.versions, t.snapshots));
    });

  program
    .command('show <source>')
    .description(
      'a source package: versions, the snapshots that hold it, recent uploads (with why they failed), builds per architecture',
    )
    .option('-n, --limit <n>', 'how many uploads', '10')
    .action(async (source: string, opts: { limit: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      const first = Number(opts.limit);
      if (!Number.isInteger(first) || first < 1 || first > 200)
        throw new CliError(`--limit must be a whole number from 1 to 200, not "${opts.limit}"`, EXIT.USAGE);
      const { package: t } = await api.request<{ package: TrackerRow }>(
        `query($s: String!, $first: Int!) { package(source: $s) {
           source
           versions { repository distribution version component rollback }
           snapshots { repository distribution snapshot version component }
           uploads(first: $first) { ${UPLOAD_FIELDS} }
           builds(first: 200) { ${UPLOAD_BUILD_FIELDS} } } }`,
        { s: checkSource(source), first },
      );
      print(json, t, () => describeTracker(t));
    });

  program
    .command('uploads')
    .description('list uploads, newest first')
    .addOption(new Option('--state <state>', 'only uploads in this state').choices(UPLOAD_STATES))
    .option('--source <name>', 'only this source package')
    .option('--repository <identity>', 'only uploads into this repository')
    .option('-n, --limit <n>', 'how many', '30')
    .option('--before <id>', 'only uploads older than this id (the next page)')
    .action(
      async (
        opts: { state?: string; source?: string; repository?: string; limit: string; before?: string },
        cmd: Command,
      ) => {
        const { api, json } = client(cmd);
        const first = Number(opts.limit);
        if (!Number.isInteger(first) || first < 1 || first > 200)
          throw new CliError(`--limit must be a whole number from 1 to 200, not "${opts.limit}"`, EXIT.USAGE);
        const { uploads } = await api.request<{
          uploads: { nodes: UploadRow[]; totalCount: number; hasMore: boolean };
        }>(
          `query($state: UploadState, $source: String, $repository: String, $first: Int, $before: ID) {
             uploads(state: $state, source: $source, repository: $repository, first: $first, before: $before) {
               totalCount hasMore nodes { ${UPLOAD_FIELDS} } } }`,
          {
            state: opts.state?.toUpperCase(),
            source: opts.source,
            repository: opts.repository,
            first,
            before: opts.before === undefined ? undefined : parseUploadId(opts.before),
          },
        );
        print(json, uploads, () =>
          uploads.nodes.length
            ? uploadsTable(uploads.nodes) +
              (uploads.hasMore ? `\n(${uploads.totalCount} in all; older: --before ${uploads.nodes.at(-1)!.id})` : '')
            : 'no uploads',
        );
      },
    );

  program
    .command('upload <id>')
    .description('show one upload: its state, why it was rejected or failed, its builds')
    .action(async (id: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { upload } = await api.request<{ upload: UploadRow | null }>(
        `query($id: ID!) { upload(id: $id) { ${UPLOAD_FIELDS} builds { ${UPLOAD_BUILD_FIELDS} } } }`,
        { id: parseUploadId(id) },
      );
      if (!upload) throw new CliError(`there is no upload ${id}`, EXIT.FAILED, 'NOT_FOUND');
      print(json, upload, () => describeUpload(upload));
    });
}
