import fs from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { type ApiClient, CliError, EXIT } from './api-client.js';
import { addChrootCommands } from './chroot-commands.js';
import { formatEvent, print, table, type EventRow } from './output.js';

export type ClientFactory = (cmd: Command) => { api: ApiClient; json: boolean };

const KINDS = [
  'daemon',
  'archive',
  'apt-key',
  'source',
  'distribution',
  'layout',
  'repository',
  'uploader',
  'chroot',
  'remote',
] as const;
const ACTIONS = ['prepare', 'check', 'activate', 'deactivate', 'remove', 'pca'] as const;
const OBJECT_FIELDS =
  'kind key description lifecycle status checkState checkedAt problem fields { name type value readOnly description }';

interface ConfigObjectRow {
  kind: string;
  key: string;
  description: string;
  lifecycle: boolean;
  status: string | null;
  checkState: string | null;
  checkedAt: string | null;
  problem: string | null;
  fields: { name: string; type: string; value: unknown; readOnly: boolean; description: string }[];
}

interface SetupEntryRow {
  kind: string;
  key: string;
  state: string;
  changes: { field: string; from: unknown; to: unknown }[];
  note: string | null;
  result: string | null;
  error: string | null;
}

const kindEnum = (kind: string) => kind.toUpperCase().replace('-', '_');

/** `field=value` pairs: JSON when the value parses as JSON, text otherwise; `field=@file` reads a file. */
export function parseAssignments(pairs: string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new CliError(`"${pair}" is not FIELD=VALUE`, EXIT.USAGE);
    const field = pair.slice(0, eq);
    let raw = pair.slice(eq + 1);
    if (raw.startsWith('@')) {
      try {
        raw = fs.readFileSync(raw.slice(1), 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${raw.slice(1)}: ${(err as Error).message}`, EXIT.USAGE);
      }
    }
    let value: unknown = raw;
    if (/^\s*[[{]|^(true|false|-?\d+)$/.test(raw)) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    values[field] = value;
  }
  return values;
}

function describeState(o: ConfigObjectRow): string {
  if (!o.lifecycle) return '-';
  return `${o.status?.toLowerCase()}/${o.checkState?.toLowerCase().replace('_', '-')}`;
}

function showObject(o: ConfigObjectRow): string {
  const lines = [`${o.kind.toLowerCase().replace('_', '-')} ${o.key}: ${o.description}`];
  if (o.lifecycle) lines.push(`  state: ${describeState(o)}${o.checkedAt ? ` (checked ${o.checkedAt})` : ''}`);
  if (o.problem) lines.push(`  problem: ${o.problem}`);
  for (const f of o.fields) {
    const v = typeof f.value === 'string' && f.value.includes('\n') ? '(multi-line text)' : JSON.stringify(f.value);
    lines.push(`  ${f.name}${f.readOnly ? ' (read-only)' : ''}: ${v}`);
  }
  return lines.join('\n');
}

/** `debyard setup`, `debyard config …`, `debyard sources-list`, `debyard dput-config`, `debyard key`. */
export function addConfigCommands(program: Command, client: ClientFactory): void {
  program
    .command('setup')
    .description('build or update a complete configuration; a dry run unless --apply')
    .option('--origin <origin>', 'Debian or Ubuntu', 'Debian')
    .option('--codename <codenames...>', 'codenames, e.g. bookworm (comma or space separated)')
    .option('--arch <archs...>', 'architectures (default: this machine’s)')
    .option('--mirror <url>', 'archive to use instead of the origin’s default')
    .option('--security-mirror <url>', 'security archive to use instead of the default')
    .option('--repository <specs...>', 'repositories as IDENTITY[:LAYOUT], default test')
    .option('--identity <identity>', 'this instance’s identity')
    .option('--email <address>', 'the instance key’s e-mail address')
    .option('--chroots', 'also make one build chroot per codename and architecture (about a minute each)')
    .addOption(
      new Option('--chroot-backend <backend>', 'how chroots are kept (with --chroots)')
        .choices(['schroot', 'unshare'])
        .default('schroot'),
    )
    .option('--apply', 'carry it out (prepare, check and activate everything)')
    .action(async (opts: Record<string, string | string[] | boolean | undefined>, cmd: Command) => {
      const { api, json } = client(cmd);
      const list = (v: unknown) =>
        Array.isArray(v) ? v.flatMap((x) => String(x).split(',')).filter(Boolean) : undefined;
      const codenames = list(opts.codename);
      if (!codenames?.length) throw new CliError('give at least one --codename, e.g. --codename bookworm', EXIT.USAGE);
      const input = {
        origin: opts.origin,
        codenames,
        architectures: list(opts.arch) ?? null,
        mirror: opts.mirror ?? null,
        securityMirror: opts.securityMirror ?? null,
        identity: opts.identity ?? null,
        emailAddress: opts.email ?? null,
        repositories:
          list(opts.repository)?.map((spec) => {
            const [identity, layout] = spec.split(':');
            return { identity, layout: layout ?? null };
          }) ?? null,
        chroots: Boolean(opts.chroots),
        chrootBackend: String(opts.chrootBackend ?? 'schroot').toUpperCase(),
      };
      const apply = Boolean(opts.apply);
      const query = `mutation($input: SetupInput!, $apply: Boolean!) { setup(input: $input, apply: $apply) {
        applied entries { kind key state note result error changes { field from to } } } }`;
      let stopProgress: (() => void) | undefined;
      if (apply && !json) stopProgress = await followConfigEvents(api);
      try {
        const { setup } = await api.request<{ setup: { applied: boolean; entries: SetupEntryRow[] } }>(query, {
          input,
          apply,
        });
        stopProgress?.();
        print(json, setup, () => renderSetup(setup.entries, setup.applied));
        if (setup.entries.some((e) => e.result === 'FAILED')) process.exitCode = EXIT.FAILED;
      } finally {
        stopProgress?.();
      }
    });

  const config = program.command('config').description('see and change the configuration');
  // `debyard chroot …` is `debyard config chroot …`, its actions showing the chroot's log as they run.
  const chroot = addChrootCommands(program, client);
  for (const entry of [...KINDS, 'chroot alias' as const]) {
    const kind = entry === 'chroot alias' ? 'chroot' : entry;
    const k =
      entry === 'chroot alias' ? chroot.command : config.command(kind).description(`${kind.replace('-', ' ')} objects`);
    k.command('list')
      .description(`list ${kind} objects`)
      .action(async (_o, cmd: Command) => {
        const { api, json } = client(cmd);
        const { configObjects } = await api.request<{ configObjects: ConfigObjectRow[] }>(
          `query($k: ConfigKind!) { configObjects(kind: $k) { ${OBJECT_FIELDS} } }`,
          { k: kindEnum(kind) },
        );
        print(json, configObjects, () =>
          configObjects.length
            ? table(
                ['KEY', 'STATE', 'DESCRIPTION'],
                configObjects.map((o) => [
                  o.key,
                  describeState(o),
                  o.problem ? `${o.description} — ${o.problem}` : o.description,
                ]),
              )
            : `no ${kind} objects yet: \`debyard setup\` creates a working configuration`,
        );
      });
    k.command('show <key>')
      .description(`show one ${kind} with all its fields`)
      .action(async (key: string, _o, cmd: Command) => {
        const { api, json } = client(cmd);
        const { configObject } = await api.request<{ configObject: ConfigObjectRow }>(
          `query($k: ConfigKind!, $key: String!) { configObject(kind: $k, key: $key) { ${OBJECT_FIELDS} } }`,
          { k: kindEnum(kind), key },
        );
        print(json, configObject, () => showObject(configObject));
      });
    for (const verb of ['set', 'create'] as const)
      k.command(verb === 'set' ? `set <key> <assignments...>` : `create <key> [assignments...]`)
        .description(
          verb === 'set'
            ? `change fields of a ${kind}: FIELD=VALUE (JSON or text; FIELD=@file reads a file)`
            : `create a ${kind} with the given fields`,
        )
        .action(async (key: string, assignments: string[] | undefined, _o, cmd: Command) => {
          const { api, json } = client(cmd);
          const { configSet } = await api.request<{
            configSet: { created: boolean; object: ConfigObjectRow; changes: { field: string }[] };
          }>(
            `mutation($k: ConfigKind!, $key: String!, $v: JSONObject!, $c: Boolean!) { configSet(kind: $k, key: $key, values: $v, create: $c) {
              created changes { field from to } object { ${OBJECT_FIELDS} } } }`,
            { k: kindEnum(kind), key, v: parseAssignments(assignments ?? []), c: verb === 'create' },
          );
          print(json, configSet, () =>
            configSet.created
              ? `${kind} ${configSet.object.key} created`
              : configSet.changes.length
                ? `${kind} ${configSet.object.key}: changed ${configSet.changes.map((c) => c.field).join(', ')}${configSet.object.lifecycle ? ` (now ${describeState(configSet.object)})` : ''}`
                : `${kind} ${configSet.object.key}: nothing changed`,
          );
        });
    for (const action of ACTIONS)
      k.command(`${action} <key>`)
        .description(action === 'pca' ? 'prepare, check and activate (dependencies first)' : `${action} a ${kind}`)
        .action(async (key: string, _o, cmd: Command) => {
          const { api, json } = client(cmd);
          const act = () =>
            api.request<{ configAction: ConfigObjectRow }>(
              `mutation($k: ConfigKind!, $key: String!, $a: LifecycleAction!) { configAction(kind: $k, key: $key, action: $a) { ${OBJECT_FIELDS} } }`,
              { k: kindEnum(kind), key, a: action.toUpperCase() },
            );
          const { configAction } = await (kind === 'chroot' && !json ? chroot.followDuring(api, key, act) : act());
          print(json, configAction, () => `${kind} ${configAction.key}: ${describeState(configAction)}`);
        });
  }

  program
    .command('sources-list')
    .description('apt sources for this instance’s repositories')
    .option('--codename <codenames...>')
    .option('--repository <repositories...>')
    .option('--suite <suites...>')
    .option('--rollbacks', 'include rollback distributions')
    .option('--with-sources', 'add deb-src')
    .addOption(
      new Option('--format <format>', 'one-line or deb822').choices(['one-line', 'deb822']).default('one-line'),
    )
    .action(async (opts: Record<string, string[] | string | boolean | undefined>, cmd: Command) => {
      const { api, json } = client(cmd);
      const { sourcesList } = await api.request<{ sourcesList: string }>(
        `query($f: SourcesListFormat!, $c: [String!], $r: [String!], $s: [String!], $rb: Boolean!, $ws: Boolean!) {
          sourcesList(format: $f, codenames: $c, repositories: $r, suites: $s, rollbacks: $rb, withSources: $ws) }`,
        {
          f: opts.format === 'deb822' ? 'DEB822' : 'ONE_LINE',
          c: opts.codename ?? null,
          r: opts.repository ?? null,
          s: opts.suite ?? null,
          rb: Boolean(opts.rollbacks),
          ws: Boolean(opts.withSources),
        },
      );
      if (json) print(true, { sourcesList }, () => '');
      else process.stdout.write(sourcesList || 'no repositories yet: run `debyard setup --apply`\n');
    });

  program
    .command('dput-config')
    .description('a dput.cf section for uploading to this instance')
    .action(async (_o, cmd: Command) => {
      const { api, json } = client(cmd);
      const { dputConfig } = await api.request<{ dputConfig: string }>('{ dputConfig }');
      if (json) print(true, { dputConfig }, () => '');
      else process.stdout.write(dputConfig);
    });

  program
    .command('key')
    .description('the archive key that signs the repositories (armored; --binary for a keyring file)')
    .option('--binary', 'write the binary keyring (for Signed-By) to standard output')
    .action(async (opts: { binary?: boolean }, cmd: Command) => {
      const { api, json } = client(cmd);
      const { archiveKey } = await api.request<{
        archiveKey: { fingerprint: string; armored: string; binaryUrl: string; keyringPath: string } | null;
      }>('{ archiveKey { fingerprint armored userIds binaryUrl armoredUrl keyringPath } }');
      if (!archiveKey) throw new CliError('this instance has no key yet: run `debyard setup --apply`', EXIT.FAILED);
      if (opts.binary) {
        const res = await fetch(`${api.url}/archive-keyring.gpg`);
        if (!res.ok) throw new CliError(`downloading the keyring failed: HTTP ${res.status}`, EXIT.FAILED);
        process.stdout.write(Buffer.from(await res.arrayBuffer()));
      } else print(json, archiveKey, () => archiveKey.armored.trimEnd());
    });
}

function renderSetup(entries: SetupEntryRow[], applied: boolean): string {
  const rows = entries.map((e) => [
    e.kind.toLowerCase().replace('_', '-'),
    e.key.length > 60 ? `${e.key.slice(0, 57)}...` : e.key,
    applied ? (e.result ?? '') : e.state,
    e.error ?? e.note ?? e.changes.map((c) => c.field).join(', '),
  ]);
  const failed = entries.filter((e) => e.result === 'FAILED').length;
  const pending = entries.filter((e) => e.state !== 'UNCHANGED' && e.state !== 'SKIPPED').length;
  const footer = applied
    ? failed
      ? `${failed} object(s) failed: see the errors above`
      : 'setup applied'
    : pending
      ? `${pending} object(s) to create or change: run again with --apply`
      : 'nothing to change';
  return `${table(['KIND', 'KEY', applied ? 'RESULT' : 'STATE', 'DETAILS'], rows)}\n${footer}`;
}

/** Prints configuration events while a long mutation runs; returns a function that stops. */
async function followConfigEvents(api: ApiClient): Promise<() => void> {
  const { events } = await api.request<{ events: EventRow[] }>(
    '{ events(limit: 1) { id type createdAt summary payload } }',
  );
  let stopped = false;
  const done = api
    .subscribe<{ events: EventRow }>(
      'subscription($since: ID) { events(since: $since) { id type createdAt summary payload } }',
      { since: events[0]?.id ?? '0' },
      ({ events: e }) => {
        if (!stopped && e.type.startsWith('CONFIG_')) process.stderr.write(`${formatEvent(e)}\n`);
      },
    )
    .catch(() => undefined);
  return () => {
    if (stopped) return;
    stopped = true;
    void done;
    api.closeSubscriptions();
  };
}
