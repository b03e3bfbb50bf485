import type { Command } from 'commander';
import { Option } from 'commander';
import { type ApiClient, CliError, EXIT } from './api-client.js';
import type { ClientFactory } from './config-commands.js';
import { print, table } from './output.js';
import { retryUpload } from './package-commands.js';

const BUILD_FIELDS =
  'id source version distribution architecture archAll chroot state result failStage reason cancelRequestedBy queuedAt startedAt finishedAt sbuildSeconds qaSeconds lintian autopkgtest attempt builder sentTo requestedFrom resultSentAt testBuild requestedBy logUrl';

interface BuildRow {
  id: string;
  source: string;
  version: string;
  distribution: string;
  architecture: string;
  archAll: boolean;
  chroot: string;
  state: string;
  result: string | null;
  failStage: string | null;
  reason: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  sbuildSeconds: number | null;
  qaSeconds: number | null;
  lintian: string;
  autopkgtest: string;
  attempt: number;
  builder: string | null;
  sentTo: string | null;
  requestedFrom: string | null;
  resultSentAt: string | null;
  testBuild: boolean;
  logUrl: string;
}

const WORKER_FIELDS = 'name host pid slots busy alive startedAt lastSeenAt';

export interface WorkerRow {
  name: string;
  host: string;
  pid: number;
  slots: number;
  busy: number;
  alive: boolean;
  startedAt: string;
  lastSeenAt: string;
}

export function describeWorkers(rows: WorkerRow[]): string {
  if (!rows.length)
    return 'no workers (start one with `debyard worker --database URL --packager URL --token-file FILE`)';
  return table(
    ['NAME', 'HOST', 'PID', 'BUSY/SLOTS', 'HEALTH', 'LAST SEEN'],
    rows.map((w) => [w.name, w.host, w.pid, `${w.busy}/${w.slots}`, w.alive ? 'alive' : 'no heartbeat', w.lastSeenAt]),
  );
}

/** What a build ended as, for the exit code of `--wait`: 0 only for a successful (or skipped) build. */
function exitFor(build: BuildRow): number {
  return build.result === 'SUCCESSFUL' || build.result === 'SKIPPED' ? EXIT.OK : EXIT.FAILED;
}

function verdict(b: BuildRow): string {
  return b.state === 'BUILT' ? b.result!.toLowerCase().replace('_', '-') : b.state.toLowerCase();
}

function seconds(from: string | null, to: string | null): string {
  if (!from) return '-';
  const s = ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000;
  return `${s.toFixed(1)} s`;
}

function describeBuild(b: BuildRow): string {
  return [
    `build ${b.id}: ${b.source} ${b.version} for ${b.distribution} on ${b.architecture}${b.archAll ? ' (+all)' : ''}${b.testBuild ? ' (test build)' : ''}`,
    `  state:       ${verdict(b)}${b.failStage ? ` at ${b.failStage}` : ''}`,
    ...(b.reason ? [`  reason:      ${b.reason}`] : []),
    `  chroot:      ${b.chroot}${b.builder ? ` on ${b.builder}` : ''}${b.sentTo ? ` (${b.sentTo})` : ''}, attempt ${b.attempt}`,
    ...(b.requestedFrom
      ? [`  for:         ${b.requestedFrom}, result ${b.resultSentAt ? `sent ${b.resultSentAt}` : 'not sent yet'}`]
      : []),
    `  lintian:     ${b.lintian.toLowerCase().replace('_', ' ')}`,
    `  autopkgtest: ${b.autopkgtest.toLowerCase().replace('_', ' ')}`,
    `  queued:      ${b.queuedAt}`,
    `  waited:      ${seconds(b.queuedAt, b.startedAt ?? b.finishedAt)}`,
    `  took:        ${seconds(b.startedAt, b.finishedAt)}${b.sbuildSeconds != null ? ` (sbuild ${b.sbuildSeconds.toFixed(1)} s${b.qaSeconds != null ? `, QA ${b.qaSeconds.toFixed(1)} s` : ''})` : ''}`,
    `  log:         ${b.logUrl}`,
  ].join('\n');
}

function parseId(id: string): string {
  if (!/^\d{1,9}$/.test(id)) throw new CliError(`a build id is a whole number, not "${id}"`, EXIT.USAGE);
  return id;
}

async function getBuild(api: ApiClient, id: string): Promise<BuildRow> {
  const { build } = await api.request<{ build: BuildRow | null }>(
    `query($id: ID!) { build(id: $id) { ${BUILD_FIELDS} } }`,
    {
      id,
    },
  );
  if (!build) throw new CliError(`there is no build ${id}`, EXIT.FAILED, 'NOT_FOUND');
  return build;
}

/** Prints the log from `offset` until the build ends; returns the build as it ended. */
async function followLog(api: ApiClient, id: string, write: (text: string) => void): Promise<void> {
  let offset = 0;
  let done = false;
  let delay = 500;
  while (!done) {
    try {
      await api.subscribe<{ buildLog: { offset: number; text: string; done: boolean } }>(
        `subscription($id: ID!, $offset: Float) { buildLog(id: $id, offset: $offset) { offset text done } }`,
        { id, offset },
        ({ buildLog }) => {
          if (buildLog.offset === offset) {
            write(buildLog.text);
            offset += Buffer.byteLength(buildLog.text);
          }
          if (buildLog.done) done = true;
        },
      );
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT.UNREACHABLE) throw err;
      process.stderr.write(`debyard: ${err.message}; retrying in ${delay / 1000} s\n`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/** `builds`, `build`, `build-log`, `cancel`, `retry`, `test-build`, `builders`, `workers`. */
export function addBuildCommands(program: Command, client: ClientFactory): void {
  program
    .command('builds')
    .description('list builds, newest first')
    .addOption(new Option('--state <state>', 'only builds in this state').choices(['queued', 'building', 'built']))
    .addOption(
      new Option('--result <result>', 'only builds with this result').choices([
        'successful',
        'failed',
        'given-back',
        'skipped',
        'cancelled',
        'error',
      ]),
    )
    .option('--source <name>', 'only this source package')
    .option('--distribution <name>', 'only this distribution')
    .option('--arch <arch>', 'only this architecture')
    .option('-n, --limit <n>', 'how many', '30')
    .option('--before <id>', 'only builds older than this id (the next page)')
    .action(
      async (
        opts: {
          state?: string;
          result?: string;
          source?: string;
          distribution?: string;
          arch?: string;
          limit: string;
          before?: string;
        },
        cmd: Command,
      ) => {
        const { api, json } = client(cmd);
        const first = Number(opts.limit);
        if (!Number.isInteger(first) || first < 1 || first > 200)
          throw new CliError(`--limit must be a whole number from 1 to 200, not "${opts.limit}"`, EXIT.USAGE);
        const { builds } = await api.request<{ builds: { nodes: BuildRow[]; totalCount: number; hasMore: boolean } }>(
          `query($state: BuildState, $result: BuildResult, $source: String, $distribution: String, $architecture: String, $first: Int, $before: ID) {
             builds(state: $state, result: $result, source: $source, distribution: $distribution, architecture: $architecture, first: $first, before: $before) {
               totalCount hasMore nodes { ${BUILD_FIELDS} } } }`,
          {
            state: opts.state?.toUpperCase(),
            result: opts.result?.toUpperCase().replace('-', '_'),
            source: opts.source,
            distribution: opts.distribution,
            architecture: opts.arch,
            first,
            before: opts.before === undefined ? undefined : parseId(opts.before),
          },
        );
        print(json, builds, () =>
          builds.nodes.length
            ? table(
                ['ID', 'SOURCE', 'VERSION', 'DISTRIBUTION', 'ARCH', 'STATE', 'TOOK', 'QUEUED'],
                builds.nodes.map((b) => [
                  b.id,
                  b.source,
                  b.version,
                  b.distribution,
                  b.architecture,
                  verdict(b),
                  b.startedAt ? seconds(b.startedAt, b.finishedAt) : '-',
                  b.queuedAt,
                ]),
              ) + (builds.hasMore ? `\n(${builds.totalCount} in all; older: --before ${builds.nodes.at(-1)!.id})` : '')
            : 'no builds',
        );
      },
    );

  program
    .command('build <id>')
    .description('show one build: result, QA, times')
    .action(async (id: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const build = await getBuild(api, parseId(id));
      print(json, build, () => describeBuild(build));
    });

  program
    .command('build-log <id>')
    .description('print a build log; --follow streams it until the build ends')
    .option('-f, --follow', 'keep printing as the build writes, until it ends')
    .action(async (id: string, opts: { follow?: boolean }, cmd: Command) => {
      const { api } = client(cmd);
      parseId(id);
      if (opts.follow) {
        await followLog(api, id, (t) => process.stdout.write(t));
        return;
      }
      const res = await fetch(`${api.url}/logs/${id}`).catch(() => {
        throw new CliError(`cannot reach debyard at ${api.url}`, EXIT.UNREACHABLE);
      });
      if (res.status === 404) {
        await getBuild(api, id);
        throw new CliError(`build ${id} has no log yet (it is still queued)`, EXIT.FAILED);
      }
      process.stdout.write(await res.text());
    });

  for (const [name, field, what] of [
    ['cancel', 'cancelBuild', 'cancel a queued or running build (staff)'],
    ['retry', 'retryBuild', 'queue a finished build again (staff)'],
  ] as const) {
    const command = program
      .command(`${name} ${name === 'retry' ? '[id]' : '<id>'}`)
      .description(what)
      .action(async (id: string | undefined, opts: { upload?: string }, cmd: Command) => {
        const { api, json } = client(cmd);
        if (opts.upload !== undefined) {
          if (id !== undefined) throw new CliError('give a build id or --upload ID, not both', EXIT.USAGE);
          return retryUpload(api, json, opts.upload);
        }
        if (id === undefined) throw new CliError('give a build id, or --upload ID for an upload', EXIT.USAGE);
        const data = await api.request<Record<string, BuildRow>>(
          `mutation($id: ID!) { ${field}(id: $id) { ${BUILD_FIELDS} } }`,
          { id: parseId(id) },
        );
        const b = data[field]!;
        print(
          json,
          b,
          () =>
            `build ${b.id} (${b.source} ${b.version}, ${b.architecture}): ${name === 'cancel' ? (b.state === 'BUILT' ? 'cancelled' : 'cancelling') : 'queued again'}`,
        );
      });
    if (name === 'retry') command.option('--upload <id>', 'run a rejected or failed upload again, from its checks');
  }

  program
    .command('test-build <dsc>')
    .description(
      'build a source package without installing it, to check a chroot (admin); dsc: URL or path on the daemon’s host',
    )
    .requiredOption('-d, --distribution <name>', 'a codename (bookworm) or <codename>-<repo>-<suite>')
    .requiredOption('-a, --arch <arch>', 'the architecture to build on')
    .option('-f, --follow', 'stream the log until the build ends; exit 1 unless it succeeded')
    .action(async (dsc: string, opts: { distribution: string; arch: string; follow?: boolean }, cmd: Command) => {
      const { api, json } = client(cmd);
      const { testBuild } = await api.request<{ testBuild: BuildRow }>(
        `mutation($dsc: String!, $d: String!, $a: String!) { testBuild(dsc: $dsc, distribution: $d, architecture: $a) { ${BUILD_FIELDS} } }`,
        { dsc, d: opts.distribution, a: opts.arch },
      );
      if (!opts.follow) {
        print(
          json,
          testBuild,
          () =>
            `build ${testBuild.id} queued: ${testBuild.source} ${testBuild.version} on ${testBuild.architecture} (debyard build-log ${testBuild.id} --follow)`,
        );
        return;
      }
      await followLog(api, testBuild.id, (t) => (json ? undefined : process.stdout.write(t)));
      const ended = await getBuild(api, testBuild.id);
      print(json, ended, () => '\n' + describeBuild(ended));
      process.exitCode = exitFor(ended);
    });

  program
    .command('builders')
    .description('build slots, load and the queue')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { builders } = await api.request<{
        builders: { slots: number; busy: number; load: number; queued: number; running: BuildRow[] };
      }>(`{ builders { slots busy load queued running { ${BUILD_FIELDS} } } }`);
      print(json, builders, () =>
        [
          `slots ${builders.slots}, busy ${builders.busy}, load ${builders.load.toFixed(2)}, queued ${builders.queued}`,
          ...builders.running.map(
            (b) =>
              `  building ${b.id}: ${b.source} ${b.version} (${b.distribution}, ${b.architecture}) for ${seconds(b.startedAt, null)}`,
          ),
        ].join('\n'),
      );
    });

  program
    .command('workers')
    .description('`debyard worker` processes taking builds from the queue: their slots, what they run, their heartbeat')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { builders } = await api.request<{ builders: { workers: WorkerRow[] } }>(
        `{ builders { workers { ${WORKER_FIELDS} } } }`,
      );
      print(json, builders.workers, () => describeWorkers(builders.workers));
    });
}
