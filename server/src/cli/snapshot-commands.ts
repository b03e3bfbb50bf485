import type { Command } from 'commander';
import { CliError, EXIT } from './api-client.js';
import type { ClientFactory } from './config-commands.js';
import { print, table } from './output.js';

const FIELDS = 'id repository distribution name kind components createdAt expiresAt createdBy aptLine';

export interface SnapshotRow {
  id: string;
  repository: string;
  distribution: string;
  name: string;
  kind: string;
  components: string[];
  createdAt: string;
  expiresAt: string | null;
  createdBy: string | null;
  aptLine: string;
}

export function describeSnapshots(rows: SnapshotRow[]): string {
  if (!rows.length) return 'no snapshots';
  return table(
    ['DISTRIBUTION', 'NAME', 'KIND', 'CREATED', 'EXPIRES', 'BY'],
    rows.map((s) => [
      s.distribution,
      s.name,
      s.kind.toLowerCase(),
      s.createdAt,
      s.expiresAt ?? 'never',
      s.createdBy ?? 'schedule',
    ]),
  );
}

/** `snapshot create|ls|delete|run`: frozen states of distributions that apt can follow. */
export function addSnapshotCommands(program: Command, client: ClientFactory): void {
  const snapshot = program
    .command('snapshot')
    .description('snapshots of distributions: create, ls, delete (admin), run a schedule (admin)');

  snapshot
    .command('create <distribution> <name>')
    .description('freeze DISTRIBUTION as snapshot NAME (reprepro gensnapshot) and print its apt line (admin)')
    .option('--expires-in-days <days>', 'delete it with the first schedule run after that many days')
    .action(async (distribution: string, name: string, opts: { expiresInDays?: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      let expiresAt: string | null = null;
      if (opts.expiresInDays !== undefined) {
        const days = Number(opts.expiresInDays);
        if (!Number.isInteger(days) || days < 1 || days > 36500)
          throw new CliError(
            `--expires-in-days must be a whole number from 1, not "${opts.expiresInDays}"`,
            EXIT.USAGE,
          );
        expiresAt = new Date(Date.now() + days * 86400_000).toISOString();
      }
      const { createSnapshot: s } = await api.request<{ createSnapshot: SnapshotRow }>(
        `mutation($d: String!, $n: String!, $e: DateTimeISO) {
           createSnapshot(distribution: $d, name: $n, expiresAt: $e) { ${FIELDS} } }`,
        { d: distribution, n: name, e: expiresAt },
      );
      print(json, s, () => `snapshot ${s.name} of ${s.distribution} created; apt line:\n${s.aptLine}`);
    });

  snapshot
    .command('ls [distribution]')
    .description('list snapshots, newest first (of one distribution, or all)')
    .option('--repository <identity>', 'only those of this repository')
    .option('--apt', 'print their apt lines instead')
    .action(async (distribution: string | undefined, opts: { repository?: string; apt?: boolean }, cmd: Command) => {
      const { api, json } = client(cmd);
      const { snapshots } = await api.request<{ snapshots: SnapshotRow[] }>(
        `query($d: String, $r: String) { snapshots(distribution: $d, repository: $r) { ${FIELDS} } }`,
        { d: distribution ?? null, r: opts.repository ?? null },
      );
      print(json, snapshots, () =>
        opts.apt ? snapshots.map((s) => s.aptLine).join('\n') : describeSnapshots(snapshots),
      );
    });

  snapshot
    .command('delete <distribution> <name>')
    .description('delete a snapshot and the packages only it kept (admin)')
    .action(async (distribution: string, name: string, _opts: unknown, cmd: Command) => {
      const { api, json } = client(cmd);
      const { deleteSnapshot: s } = await api.request<{ deleteSnapshot: SnapshotRow }>(
        `mutation($d: String!, $n: String!) { deleteSnapshot(distribution: $d, name: $n) { ${FIELDS} } }`,
        { d: distribution, n: name },
      );
      print(json, s, () => `snapshot ${s.name} of ${s.distribution} deleted`);
    });

  snapshot
    .command('run <schedule>')
    .description(
      'run the weekly, monthly or yearly schedule now: a snapshot of every stable suite, then delete expired ones (admin)',
    )
    .action(async (schedule: string, _opts: unknown, cmd: Command) => {
      const kind = schedule.toUpperCase();
      if (!['WEEKLY', 'MONTHLY', 'YEARLY'].includes(kind))
        throw new CliError(`the schedule is weekly, monthly or yearly, not "${schedule}"`, EXIT.USAGE);
      const { api, json } = client(cmd);
      const { runSnapshotSchedule: run } = await api.request<{
        runSnapshotSchedule: { created: SnapshotRow[]; deleted: SnapshotRow[] };
      }>(
        `mutation($k: SnapshotKind!) { runSnapshotSchedule(kind: $k) { created { ${FIELDS} } deleted { ${FIELDS} } } }`,
        { k: kind },
      );
      print(json, run, () =>
        [
          `created: ${run.created.map((s) => `${s.distribution}/snapshots/${s.name}`).join(', ') || 'none'}`,
          `deleted: ${run.deleted.map((s) => `${s.distribution}/snapshots/${s.name}`).join(', ') || 'none'}`,
        ].join('\n'),
      );
    });
}
