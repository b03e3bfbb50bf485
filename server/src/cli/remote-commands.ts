import type { Command } from 'commander';
import { CliError, EXIT, type ApiClient } from './api-client.js';
import type { ClientFactory } from './config-commands.js';
import { print, table } from './output.js';

const FIELDS =
  'url status checkState checkedAt problem identity fingerprint version load chroots builds packages seenAt wakeCommand wakeAttempts wakeIntervalSeconds';

export interface RemoteRow {
  url: string;
  status: string;
  checkState: string;
  checkedAt: string | null;
  problem: string | null;
  identity: string;
  fingerprint: string;
  version: string;
  load: number | null;
  chroots: string[];
  builds: number | null;
  packages: number | null;
  seenAt: string | null;
  wakeCommand: string[];
  wakeAttempts: number;
  wakeIntervalSeconds: number;
}

/** active, auto-reactivate (down, coming back by itself), prepared, removed. */
export function remoteState(r: Pick<RemoteRow, 'status' | 'checkState'>): string {
  if (r.checkState === 'AUTO_REACTIVATE') return 'auto-reactivate';
  return (
    r.status.toLowerCase() +
    (r.checkState === 'FAILED' || r.checkState === 'CHANGED' ? ` (${r.checkState.toLowerCase()})` : '')
  );
}

export function describeRemotes(rows: RemoteRow[]): string {
  if (!rows.length) return 'no remotes (add one with `debyard remote add http://host:8066`)';
  return table(
    ['URL', 'IDENTITY', 'STATE', 'LOAD', 'CHROOTS', 'SEEN', 'PROBLEM'],
    rows.map((r) => [
      r.url,
      r.identity || '-',
      remoteState(r),
      r.load === null ? '-' : r.load < 0 ? 'stopped' : r.load.toFixed(2),
      r.chroots.join(' ') || '-',
      r.seenAt ?? 'never',
      r.problem ?? '',
    ]),
  );
}

function describeRemote(r: RemoteRow): string {
  return `remote ${r.url}${r.identity ? ` (${r.identity})` : ''}: ${remoteState(r)}${r.problem ? ` — ${r.problem}` : ''}`;
}

async function action(api: ApiClient, url: string, act: string): Promise<void> {
  await api.request(
    `mutation($key: String!, $a: LifecycleAction!) { configAction(kind: REMOTE, key: $key, action: $a) { key } }`,
    { key: url, a: act },
  );
}

async function fetchRemote(api: ApiClient, url: string): Promise<RemoteRow> {
  const { remotes } = await api.request<{ remotes: RemoteRow[] }>(`{ remotes { ${FIELDS} } }`);
  const hit = remotes.find((r) => r.url === url || r.url === url.replace(/\/+$/, '').toLowerCase());
  if (!hit) throw new CliError(`there is no remote ${url}: see \`debyard remote list\``, EXIT.FAILED, 'NOT_FOUND');
  return hit;
}

/** `remote add|check|remove|wake|list`: other instances to build with (mini-buildd's Remotes). */
export function addRemoteCommands(program: Command, client: ClientFactory): void {
  const remote = program
    .command('remote')
    .description(
      'remotes: other debyard or mini-buildd instances to build with (add/remove: admin; check, wake: staff)',
    );

  remote
    .command('add <url>')
    .description(
      'add (or re-add) a remote, fetch its status and key, check it and activate it; until it lists us too it waits in auto-reactivate',
    )
    .option(
      '--wake-command <argv...>',
      'run this (absolute path, no shell) when it does not answer, e.g. /usr/bin/wakeonlan MAC',
    )
    .option('--wake-attempts <n>', 'how often to run the wake command')
    .option('--wake-interval <seconds>', 'how long to wait after each wake command')
    .action(
      async (
        url: string,
        opts: { wakeCommand?: string[]; wakeAttempts?: string; wakeInterval?: string },
        cmd: Command,
      ) => {
        const { api, json } = client(cmd);
        const values: Record<string, unknown> = {};
        if (opts.wakeCommand) values.wakeCommand = opts.wakeCommand;
        if (opts.wakeAttempts !== undefined) values.wakeAttempts = opts.wakeAttempts;
        if (opts.wakeInterval !== undefined) values.wakeIntervalSeconds = opts.wakeInterval;
        const { configSet } = await api.request<{ configSet: { object: { key: string } } }>(
          `mutation($key: String!, $v: JSONObject!) { configSet(kind: REMOTE, key: $key, values: $v, create: true) { object { key } } }`,
          { key: url, v: values },
        );
        const key = configSet.object.key;
        await action(api, key, 'PREPARE');
        let checkFailure: CliError | null = null;
        try {
          await action(api, key, 'CHECK');
        } catch (err) {
          if (!(err instanceof CliError) || err.code !== 'CHECK_FAILED') throw err;
          checkFailure = err;
        }
        // As in mini-buildd: a remote that fails its check is activated to come back by itself.
        await action(api, key, 'ACTIVATE');
        const r = await fetchRemote(api, key);
        print(json, r, () =>
          checkFailure
            ? `${describeRemote(r)}\nit becomes active by itself once its check passes (e.g. when it has added us too)`
            : describeRemote(r),
        );
      },
    );

  remote
    .command('check <url>')
    .description('check it now: status, a signed handshake both ways, that it lists us, its load and chroots (staff)')
    .action(async (url: string, _opts: unknown, cmd: Command) => {
      const { api, json } = client(cmd);
      await action(api, url, 'CHECK');
      const r = await fetchRemote(api, url);
      print(json, r, () => describeRemote(r));
    });

  remote
    .command('remove <url>')
    .description('stop building with it and forget its key (staff)')
    .action(async (url: string, _opts: unknown, cmd: Command) => {
      const { api, json } = client(cmd);
      await action(api, url, 'REMOVE');
      const r = await fetchRemote(api, url);
      print(json, r, () => describeRemote(r));
    });

  remote
    .command('wake <url>')
    .description('ask for its status, running its wake command while it does not answer (staff)')
    .action(async (url: string, _opts: unknown, cmd: Command) => {
      const { api, json } = client(cmd);
      const { wakeRemote: r } = await api.request<{ wakeRemote: RemoteRow }>(
        `mutation($u: String!) { wakeRemote(url: $u) { ${FIELDS} } }`,
        { u: url },
      );
      print(json, r, () => `${describeRemote(r)}; load ${r.load ?? '-'}, chroots ${r.chroots.join(' ') || 'none'}`);
    });

  remote
    .command('list')
    .description('remotes with their state, load, chroots and when they were last seen')
    .action(async (_opts: unknown, cmd: Command) => {
      const { api, json } = client(cmd);
      const { remotes } = await api.request<{ remotes: RemoteRow[] }>(`{ remotes { ${FIELDS} } }`);
      print(json, remotes, () => describeRemotes(remotes));
    });
}
