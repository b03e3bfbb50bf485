import readline from 'node:readline';
import { Command, Option } from 'commander';
import { ApiClient, CliError, EXIT, resolveToken } from './api-client.js';
import { exitCodeFor, parseEventTypes, shows, type EventWatch } from './event-watch.js';
import { formatEvent, print, table, type EventRow } from './output.js';

interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

const STATUS_FIELDS = 'version identity httpUrl ftpUrl engineRunning load uptimeSeconds startedAt';
const EVENT_FIELDS = 'id type createdAt summary payload';
const USER_FIELDS = 'id username role email createdAt lastSignInAt hasPassword';
const TOKEN_FIELDS = 'id name username createdAt expiresAt lastUsedAt revokedAt';

/** Adds the client commands (everything but `serve`) to the program. */
export function addClientCommands(program: Command): void {
  program
    .addOption(new Option('--url <url>', 'where the daemon is').env('DEBYARD_URL').default('http://localhost:8066'))
    .addOption(
      new Option('--token <token>', 'API token (default: <data-dir>/admin.token when readable)').env('DEBYARD_TOKEN'),
    )
    .option('--json', 'print JSON for scripts');

  program
    .command('status')
    .description('show what this instance is and how busy it is')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { status } = await api.request<{ status: Record<string, unknown> }>(`{ status { ${STATUS_FIELDS} } }`);
      print(json, status, () =>
        [
          `debyard ${String(status.identity)} ${String(status.version)}`,
          `  http:    ${String(status.httpUrl)}`,
          `  ftp:     ${String(status.ftpUrl)}`,
          `  engine:  ${status.engineRunning ? 'running' : 'stopped'}`,
          `  load:    ${Number(status.load).toFixed(2)}`,
          `  uptime:  ${duration(Number(status.uptimeSeconds))}`,
        ].join('\n'),
      );
    });

  const engine = program.command('engine').description('start or stop incoming and processing (admin)');
  for (const action of ['start', 'stop'] as const) {
    engine
      .command(action)
      .description(`${action} the engine; HTTP keeps serving`)
      .action(async (_opts, cmd: Command) => {
        const { api, json } = client(cmd);
        const field = action === 'start' ? 'engineStart' : 'engineStop';
        const data = await api.request<Record<string, { engineRunning: boolean }>>(
          `mutation { ${field} { ${STATUS_FIELDS} } }`,
        );
        print(json, data[field], () => `engine ${data[field]!.engineRunning ? 'running' : 'stopped'}`);
      });
  }

  program
    .command('events')
    .description('show recent events; --follow streams new ones as they happen')
    .option('-f, --follow', 'keep streaming new events (reconnects without losing any)')
    .option('--since <id>', 'every event after this id (then follow, with --follow)')
    .option('-n, --limit <n>', 'how many recent events to show first', '20')
    .option('--source <name>', 'only events about this source package')
    .option('--type <types>', 'only these event types, comma-separated (BUILD_* for all BUILD_ ones)')
    .option(
      '--exit-on <types>',
      'follow until an event of one of these types (for --source) arrives: exit 1 if it is FAILED or REJECTED, else 0; only events after --since (or after start) count',
    )
    .action(
      async (
        opts: { follow?: boolean; since?: string; limit: string; source?: string; type?: string; exitOn?: string },
        cmd: Command,
      ) => {
        const { api, json } = client(cmd);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 0 || limit > 500)
          throw new CliError(`--limit must be a whole number from 0 to 500, not "${opts.limit}"`, EXIT.USAGE);
        const known = opts.type || opts.exitOn ? await eventTypes(api) : null;
        const watch: EventWatch = {
          source: opts.source,
          types: opts.type ? parseEventTypes('--type', opts.type, known) : undefined,
          exitOn: opts.exitOn ? parseEventTypes('--exit-on', opts.exitOn, known) : undefined,
        };
        const write = (e: EventRow) => console.log(json ? JSON.stringify(e) : formatEvent(e));
        const history = (e: EventRow) => {
          if (shows(watch, e)) write(e);
        };
        // Returns true when the event ends the command (--exit-on).
        const live = (e: EventRow): boolean => {
          const code = exitCodeFor(watch, e);
          if (shows(watch, e) || code !== null) write(e);
          if (code === null) return false;
          process.exitCode = code;
          return true;
        };
        let cursor = opts.since;
        if (cursor === undefined) {
          // Recent events are history: with --exit-on, an old INSTALLED must not end the wait.
          const { events } = await api.request<{ events: EventRow[] }>(
            `query($limit: Int!) { events(limit: $limit) { ${EVENT_FIELDS} } }`,
            { limit: Math.max(limit, 1) },
          );
          events.slice(0, limit).reverse().forEach(history);
          cursor = events[0]?.id ?? '0';
        }
        if (!opts.follow && !watch.exitOn) {
          if (opts.since !== undefined) await printSince(api, opts.since, history);
          return;
        }
        await follow(api, cursor, live);
      },
    );

  const user = program.command('user').description('manage users (admin)');
  user
    .command('list')
    .description('list users')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { users } = await api.request<{ users: Record<string, unknown>[] }>(`{ users { ${USER_FIELDS} } }`);
      print(json, users, () =>
        table(
          ['USER', 'ROLE', 'PASSWORD', 'LAST SIGN-IN'],
          users.map((u) => [u.username, u.role, u.hasPassword ? 'set' : '-', u.lastSignInAt ?? '-']),
        ),
      );
    });
  user
    .command('add <name>')
    .description('create a user')
    .addOption(
      new Option('--role <role>', 'what the user may do').choices(['admin', 'staff', 'uploader']).makeOptionMandatory(),
    )
    .option('--password-stdin', 'read a password from standard input (otherwise the user signs in by token only)')
    .action(async (name: string, opts: { role: string; passwordStdin?: boolean }, cmd: Command) => {
      const { api, json } = client(cmd);
      const password = opts.passwordStdin ? await readSecret('Password: ') : null;
      const { userAdd } = await api.request<{ userAdd: Record<string, unknown> }>(
        `mutation($u: String!, $r: Role!, $p: String) { userAdd(username: $u, role: $r, password: $p) { ${USER_FIELDS} } }`,
        { u: name, r: opts.role.toUpperCase(), p: password },
      );
      print(json, userAdd, () => `user ${name} created (${String(userAdd.role).toLowerCase()})`);
    });
  user
    .command('passwd <name>')
    .description('set a password (read from standard input or prompted)')
    .action(async (name: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const password = await readSecret(`New password for ${name}: `);
      const data = await api.request<{ userSetPassword: Record<string, unknown> }>(
        `mutation($u: String!, $p: String!) { userSetPassword(username: $u, password: $p) { ${USER_FIELDS} } }`,
        { u: name, p: password },
      );
      print(json, data.userSetPassword, () => `password of ${name} set`);
    });
  user
    .command('email <name> [address]')
    .description('set where a user’s notifications go (yours, or anybody’s as an admin); no address: none')
    .action(async (name: string, address: string | undefined, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const data = await api.request<{ userSetEmail: Record<string, unknown> }>(
        `mutation($u: String!, $e: String) { userSetEmail(username: $u, email: $e) { ${USER_FIELDS} } }`,
        { u: name, e: address ?? null },
      );
      print(json, data.userSetEmail, () => `e-mail address of ${name} ${address ? `set to ${address}` : 'removed'}`);
    });
  user
    .command('remove <name>')
    .description('remove a user and their tokens')
    .action(async (name: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      await api.request(`mutation($u: String!) { userRemove(username: $u) }`, { u: name });
      print(json, { removed: name }, () => `user ${name} removed`);
    });

  const token = program.command('token').description('manage API tokens');
  token
    .command('list')
    .description('list your tokens (an admin sees all)')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { tokens } = await api.request<{ tokens: Record<string, unknown>[] }>(`{ tokens { ${TOKEN_FIELDS} } }`);
      print(json, tokens, () =>
        table(
          ['ID', 'NAME', 'USER', 'EXPIRES', 'LAST USED', 'STATE'],
          tokens.map((t) => [
            t.id,
            t.name,
            t.username,
            t.expiresAt ?? 'never',
            t.lastUsedAt ?? '-',
            t.revokedAt ? 'revoked' : 'active',
          ]),
        ),
      );
    });
  token
    .command('create')
    .description('create a token; its secret is printed once')
    .option('--name <name>', 'what the token is for', 'cli')
    .option('--expires-in-days <days>', 'expiry (default: never)')
    .option('--for <user>', 'create it for another user (admin)')
    .action(async (opts: { name: string; expiresInDays?: string; for?: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      const days = opts.expiresInDays === undefined ? null : Number(opts.expiresInDays);
      if (days !== null && !Number.isInteger(days))
        throw new CliError(`--expires-in-days must be a whole number, not "${opts.expiresInDays}"`, EXIT.USAGE);
      const { tokenCreate } = await api.request<{
        tokenCreate: { secret: string; token: Record<string, unknown> };
      }>(
        `mutation($n: String!, $d: Int, $u: String) { tokenCreate(name: $n, expiresInDays: $d, username: $u) { secret token { ${TOKEN_FIELDS} } } }`,
        { n: opts.name, d: days, u: opts.for ?? null },
      );
      print(json, tokenCreate, () => tokenCreate.secret);
    });
  token
    .command('revoke <id>')
    .description('revoke a token at once')
    .action(async (id: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { tokenRevoke } = await api.request<{ tokenRevoke: Record<string, unknown> }>(
        `mutation($id: ID!) { tokenRevoke(id: $id) { ${TOKEN_FIELDS} } }`,
        { id },
      );
      print(json, tokenRevoke, () => `token ${id} (${String(tokenRevoke.name)}) revoked`);
    });
}

/** The API client and output mode for a command, from the global options. */
export function client(cmd: Command): { api: ApiClient; json: boolean } {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const fromEnv = cmd.getOptionValueSourceWithGlobals('token') === 'env' && Boolean(opts.token);
  const credentials = fromEnv ? { token: opts.token!, source: 'DEBYARD_TOKEN' } : resolveToken(opts.token);
  return { api: new ApiClient(opts.url, credentials), json: Boolean(opts.json) };
}

async function printSince(api: ApiClient, since: string, show: (e: EventRow) => void): Promise<void> {
  for (let after = since; ;) {
    const { events } = await api.request<{ events: EventRow[] }>(
      `query($after: ID!) { events(after: $after, limit: 500) { ${EVENT_FIELDS} } }`,
      { after },
    );
    events.forEach(show);
    if (events.length < 500) return;
    after = events[events.length - 1]!.id;
  }
}

/**
 * Streams events after `cursor` until `show` returns true; on a lost connection it reconnects from the
 * last id it saw.
 */
export async function follow(api: ApiClient, cursor: string, show: (e: EventRow) => boolean): Promise<void> {
  let since = cursor;
  let delay = 500;
  let done = false;
  for (;;) {
    try {
      await api.subscribe<{ events: EventRow }>(
        `subscription($since: ID) { events(since: $since) { ${EVENT_FIELDS} } }`,
        { since },
        ({ events }) => {
          if (done) return;
          since = events.id;
          delay = 500;
          if (show(events)) {
            done = true;
            api.closeSubscriptions();
          }
        },
      );
    } catch (err) {
      if (done) return;
      if (!(err instanceof CliError) || err.exitCode !== EXIT.UNREACHABLE) throw err;
      process.stderr.write(`debyard: ${err.message}; retrying in ${delay / 1000} s\n`);
    }
    if (done) return;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}

/** The event types the daemon knows, from its schema; null when it does not answer introspection. */
async function eventTypes(api: ApiClient): Promise<string[] | null> {
  try {
    const { __type } = await api.request<{ __type: { enumValues: { name: string }[] } | null }>(
      '{ __type(name: "EventType") { enumValues { name } } }',
    );
    return __type?.enumValues.map((v) => v.name) ?? null;
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.FAILED) return null;
    throw err;
  }
}

function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h ${m}m` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s % 60}s`;
}

/** Reads one line: from a pipe as is, from a terminal without echo. */
export async function readSecret(prompt: string, what = 'password'): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) {
    process.stderr.write(prompt);
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  }
  try {
    for await (const line of rl) return line;
    throw new CliError(`no ${what} on standard input`, EXIT.USAGE);
  } finally {
    rl.close();
    if (process.stdin.isTTY) process.stderr.write('\n');
  }
}
