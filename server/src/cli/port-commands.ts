import type { Command } from 'commander';
import { type ApiClient, EXIT } from './api-client.js';
import { follow } from './commands.js';
import type { ClientFactory } from './config-commands.js';
import { formatEvent, print, table, type EventRow } from './output.js';

const PORT_UPLOAD_FIELDS = 'id state source version distribution changesName port { from fromVersion by autoPortOf }';
const PLAN_FIELDS = 'source from fromVersion options rebuildStamp targets { distribution repository version rebuild }';
/** Where an upload ends. */
const SETTLED = new Set(['INSTALLED', 'FAILED', 'REJECTED']);

export interface PortPlanRow {
  source: string;
  from: string;
  fromVersion: string;
  options: string[];
  rebuildStamp: string;
  targets: { distribution: string; repository: string; version: string; rebuild: boolean }[];
}

export interface PortUploadRow {
  id: string;
  state: string;
  source: string | null;
  version: string | null;
  distribution: string | null;
  changesName: string;
  port: { from: string; fromVersion: string; by: string; autoPortOf: number | null } | null;
}

export function describePlan(plan: PortPlanRow): string {
  return [
    `${plan.source} ${plan.fromVersion} from ${plan.from} would be uploaded, signed by the instance key, with ${plan.options.map((o) => `MINI_BUILDD_OPTION: ${o}`).join(', ') || 'no upload options'}:`,
    table(
      ['DISTRIBUTION', 'VERSION', ''],
      plan.targets.map((t) => [t.distribution, t.version, t.rebuild ? 'rebuild' : 'port']),
    ),
  ].join('\n');
}

export function describePorts(uploads: PortUploadRow[]): string {
  const first = uploads[0];
  const head = first?.port
    ? `${first.source ?? ''} ${first.port.fromVersion} from ${first.port.from}, signed by the instance key:`
    : 'ported:';
  return [
    head,
    table(
      ['UPLOAD', 'DISTRIBUTION', 'VERSION', 'STATE'],
      uploads.map((u) => [u.id, u.distribution ?? '-', u.version ?? '-', u.state.toLowerCase()]),
    ),
  ].join('\n');
}

/**
 * Follows uploads by id through the event stream until each has settled (INSTALLED, FAILED or
 * REJECTED); the exit code is 0 only when every one was installed.
 */
export class UploadWaiter {
  private readonly outcome = new Map<string, string | null>();

  constructor(ids: string[]) {
    for (const id of ids) this.outcome.set(String(id), null);
  }

  /** Takes an event; returns whether it settled one of the uploads. */
  see(e: Pick<EventRow, 'type' | 'payload'>): boolean {
    const id = String(e.payload.upload ?? '');
    if (!SETTLED.has(e.type) || !this.outcome.has(id) || this.outcome.get(id) !== null) return false;
    this.outcome.set(id, e.type);
    return true;
  }

  get done(): boolean {
    return [...this.outcome.values()].every((v) => v !== null);
  }

  /** Upload id → INSTALLED, FAILED, REJECTED, or null while it is under way. */
  get outcomes(): Record<string, string | null> {
    return Object.fromEntries(this.outcome);
  }

  get exitCode(): number {
    return [...this.outcome.values()].every((v) => v === 'INSTALLED') ? EXIT.OK : EXIT.FAILED;
  }
}

export async function newestEventId(api: ApiClient): Promise<string> {
  const { events } = await api.request<{ events: { id: string }[] }>('{ events(limit: 1) { id } }');
  return events[0]?.id ?? '0';
}

const collect = (value: string, all: string[] | undefined) => [...(all ?? []), value];

/** Prints the new uploads, or (--wait) follows them from `cursor` until each has settled. */
export async function reportUploads(api: ApiClient, json: boolean, uploads: PortUploadRow[], cursor: string | null) {
  if (cursor === null) {
    print(json, uploads, () => describePorts(uploads));
    return;
  }
  if (!json) console.log(describePorts(uploads));
  const waiter = new UploadWaiter(uploads.map((u) => u.id));
  await follow(api, cursor, (e) => {
    if (waiter.see(e) && !json) console.log(formatEvent(e));
    return waiter.done;
  });
  if (json) print(json, { uploads: uploads.map((u) => u.id), outcomes: waiter.outcomes }, () => '');
  process.exitCode = waiter.exitCode;
}

/** `port`, `port-ext`: no-changes ports and rebuilds (staff). */
export function addPortCommands(program: Command, client: ClientFactory): void {
  program
    .command('port <source> <from> <to...>')
    .description(
      "no-changes port of SOURCE's version in FROM into each TO, its version rewritten by the suites' rules " +
        '(TO = FROM rebuilds it: +rebuilt<stamp>); signed by the instance key, then checked, built and installed ' +
        'like any upload (staff)',
    )
    .option('--version <version>', 'the version in FROM to port (default: the one there)')
    .option(
      '--option <key=value>',
      'an upload option for the new changelog entry, e.g. lintian-mode=errfail; repeat for more (default: lintian-mode=ignore)',
      collect,
    )
    .option('--dry-run', 'say what would be uploaded, and upload nothing')
    .option(
      '--wait',
      'then follow the new uploads until each is installed, failed or rejected: exit 1 unless all were installed',
    )
    .action(
      async (
        source: string,
        from: string,
        to: string[],
        opts: { version?: string; option?: string[]; dryRun?: boolean; wait?: boolean },
        cmd: Command,
      ) => {
        const { api, json } = client(cmd);
        const vars = {
          source,
          from,
          to,
          version: opts.version ?? null,
          options: opts.option ?? null,
        };
        const args = '$source: String!, $from: String!, $to: [String!]!, $version: String, $options: [String!]';
        const pass = 'source: $source, from: $from, to: $to, version: $version, options: $options';
        if (opts.dryRun) {
          const { portPlan } = await api.request<{ portPlan: PortPlanRow }>(
            `query(${args}) { portPlan(${pass}) { ${PLAN_FIELDS} } }`,
            vars,
          );
          print(json, portPlan, () => describePlan(portPlan));
          return;
        }
        // Taken before the port, so that no event of the new uploads can come before it.
        const cursor = opts.wait ? await newestEventId(api) : null;
        const { port: uploads } = await api.request<{ port: PortUploadRow[] }>(
          `mutation(${args}) { port(${pass}) { ${PORT_UPLOAD_FIELDS} } }`,
          vars,
        );
        await reportUploads(api, json, uploads, cursor);
      },
    );

  program
    .command('port-ext <dsc-url> <dist...>')
    .description(
      'external no-changes port of the .dsc at DSC-URL (http or https) into each DIST, version <dsc version>' +
        "<DIST's default version>; its signature must verify against the base source's keys and its origin's " +
        'developer keyrings (Debian: debian-keyring) unless --allow-unauthenticated; signed by the instance key, ' +
        'then checked, built and installed like any upload (staff)',
    )
    .option('-u, --allow-unauthenticated', 'port it even when its signature does not verify')
    .option(
      '--option <key=value>',
      'an upload option for the new changelog entry; repeat for more (default: lintian-mode=ignore)',
      collect,
    )
    .option(
      '--wait',
      'then follow the new uploads until each is installed, failed or rejected: exit 1 unless all were installed',
    )
    .action(
      async (
        dscUrl: string,
        to: string[],
        opts: { allowUnauthenticated?: boolean; option?: string[]; wait?: boolean },
        cmd: Command,
      ) => {
        const { api, json } = client(cmd);
        const cursor = opts.wait ? await newestEventId(api) : null;
        const { portExternal: uploads } = await api.request<{ portExternal: PortUploadRow[] }>(
          `mutation($dscUrl: String!, $to: [String!]!, $allowUnauthenticated: Boolean!, $options: [String!]) {
             portExternal(dscUrl: $dscUrl, to: $to, allowUnauthenticated: $allowUnauthenticated, options: $options) {
               ${PORT_UPLOAD_FIELDS} } }`,
          { dscUrl, to, allowUnauthenticated: opts.allowUnauthenticated ?? false, options: opts.option ?? null },
        );
        await reportUploads(api, json, uploads, cursor);
      },
    );
}
