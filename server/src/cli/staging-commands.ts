import type { Command } from 'commander';
import { CliError, EXIT } from './api-client.js';
import type { ClientFactory } from './config-commands.js';
import { print, table } from './output.js';

const CHANGE_FIELDS =
  'action source version repository distribution steps { from to } changes { distribution before after } summary ' +
  'dependencies { checked forced against broken { package version architecture distribution reasons missing } }';

export interface RepositoryChangeRow {
  action: string;
  source: string;
  version: string;
  repository: string;
  distribution: string;
  steps: { from: string; to: string | null }[];
  changes: { distribution: string; before: string | null; after: string | null }[];
  summary: string[];
  dependencies: {
    checked: boolean;
    forced: boolean;
    against: string[];
    broken: { package: string; version: string; architecture: string; reasons: string[] }[];
  } | null;
}

/** What a migration, removal or restore does (`done`) or would do: its sentences, then each distribution before and after. */
export function describeChange(c: RepositoryChangeRow, done: boolean): string {
  const deps = c.dependencies;
  const check = !deps
    ? []
    : deps.forced
      ? ['dependency check: skipped (forced)']
      : deps.broken.length
        ? [
            'dependency check: unsatisfied',
            ...deps.broken.map((b) => `  ${b.package} ${b.version} (${b.architecture}): ${b.reasons.join(', ')}`),
          ]
        : [`dependency check: satisfied (with ${deps.against.join(', ') || 'no base distribution'})`];
  return [
    done ? 'done:' : 'would do (dry run, nothing changed):',
    ...c.summary.map((s) => `  ${s}`),
    ...check,
    '',
    table(
      ['DISTRIBUTION', 'BEFORE', 'AFTER'],
      c.changes.map((x) => [x.distribution, x.before ?? '-', x.after ?? '-']),
    ),
  ].join('\n');
}

function rollbackNumber(value: string): number {
  if (!/^\d{1,3}$/.test(value))
    throw new CliError(`ROLLBACK_N is a whole number (0 is rollback0), not "${value}"`, EXIT.USAGE);
  return Number(value);
}

/** `migrate`, `remove`, `restore` (staff) and `debdiff`. */
export function addStagingCommands(program: Command, client: ClientFactory): void {
  const change = async (
    cmd: Command,
    action: 'MIGRATE' | 'REMOVE' | 'RESTORE',
    dryRun: boolean | undefined,
    vars: Record<string, unknown>,
    mutation: string,
    args: string,
  ) => {
    const { api, json } = client(cmd);
    if (dryRun) {
      const { stagingPlan } = await api.request<{ stagingPlan: RepositoryChangeRow }>(
        `query(${args}, $checkDependencies: Boolean!) { stagingPlan(action: ${action}, ${pass(args)}, checkDependencies: $checkDependencies) { ${CHANGE_FIELDS} } }`,
        { ...vars, checkDependencies: action === 'MIGRATE' && vars.force !== true },
      );
      print(json, stagingPlan, () => describeChange(stagingPlan, false));
      return;
    }
    const data = await api.request<Record<string, RepositoryChangeRow>>(
      `mutation(${args}${action === 'MIGRATE' ? ', $force: Boolean!' : ''}) { ${mutation}(${pass(args)}${action === 'MIGRATE' ? ', force: $force' : ''}) { ${CHANGE_FIELDS} } }`,
      vars,
    );
    const result = data[mutation]!;
    print(json, result, () => describeChange(result, true));
  };

  program
    .command('migrate <source> <distribution>')
    .description(
      "copy SOURCE's version in DISTRIBUTION to the suite it migrates to (--full: along the whole chain, " +
        'unstable → testing → stable); what is there becomes rollback0. Refused when the binary packages’ ' +
        'dependencies cannot be satisfied there, unless --force (staff)',
    )
    .option('--version <version>', 'the version in DISTRIBUTION (default: the one there)')
    .option('--full', 'migrate along the whole chain')
    .option('--force', 'skip the dependency check')
    .option('--dry-run', 'say what would happen (and whether the dependencies are satisfied), change nothing')
    .action(
      async (
        source: string,
        distribution: string,
        opts: { version?: string; full?: boolean; force?: boolean; dryRun?: boolean },
        cmd: Command,
      ) => {
        const vars = { source, distribution, version: opts.version ?? null, full: !!opts.full, force: !!opts.force };
        await change(
          cmd,
          'MIGRATE',
          opts.dryRun,
          vars,
          'migrate',
          '$source: String!, $distribution: String!, $version: String, $full: Boolean!',
        );
      },
    );

  program
    .command('remove <source> <distribution>')
    .description(
      'remove SOURCE from DISTRIBUTION, keeping its version as rollback0 (from a rollback distribution, the ' +
        'rollbacks above it move down) (staff)',
    )
    .option('--version <version>', 'the version in DISTRIBUTION (default: the one there)')
    .option('--no-rollback', 'do not keep it as rollback0')
    .option('--dry-run', 'say what would happen, change nothing')
    .action(
      async (
        source: string,
        distribution: string,
        opts: { version?: string; rollback: boolean; dryRun?: boolean },
        cmd: Command,
      ) => {
        await change(
          cmd,
          'REMOVE',
          opts.dryRun,
          { source, distribution, version: opts.version ?? null, keepRollback: opts.rollback },
          'remove',
          '$source: String!, $distribution: String!, $version: String, $keepRollback: Boolean!',
        );
      },
    );

  program
    .command('restore <source> <distribution> <rollback-n>')
    .description(
      "copy SOURCE's version in rollback N of DISTRIBUTION back into it; what it holds becomes rollback0 (staff)",
    )
    .option('--dry-run', 'say what would happen, change nothing')
    .action(async (source: string, distribution: string, n: string, opts: { dryRun?: boolean }, cmd: Command) => {
      await change(
        cmd,
        'RESTORE',
        opts.dryRun,
        { source, distribution, rollback: rollbackNumber(n) },
        'restore',
        '$source: String!, $distribution: String!, $rollback: Int!',
      );
    });

  program
    .command('debdiff <source> <from-version> <to-version>')
    .description('debdiff between two versions of a source package in a repository')
    .option('--repository <identity>', 'the repository (default: the first that has both)')
    .action(async (source: string, from: string, to: string, opts: { repository?: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      const { debdiff } = await api.request<{
        debdiff: { repository: string; text: string; identical: boolean; truncated: boolean };
      }>(
        'query($s: String!, $from: String!, $to: String!, $r: String) { debdiff(source: $s, from: $from, to: $to, repository: $r) { repository source from to text identical truncated } }',
        { s: source, from, to, r: opts.repository ?? null },
      );
      print(json, debdiff, () =>
        debdiff.identical
          ? `${source} ${from} and ${to} in repository ${debdiff.repository} are identical`
          : debdiff.text.trimEnd() + (debdiff.truncated ? '\n[… cut at 1 MiB]' : ''),
      );
    });
}

/** `$a: T, $b: U` → `a: $a, b: $b`. */
function pass(args: string): string {
  return [...args.matchAll(/\$(\w+)/g)].map((m) => `${m[1]}: $${m[1]}`).join(', ');
}
