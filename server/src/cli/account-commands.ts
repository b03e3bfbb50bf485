import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, EXIT } from './api-client.js';
import type { ClientFactory } from './config-commands.js';
import { print, table } from './output.js';

const USER_FIELDS = 'id username role state email createdAt lastSignInAt hasPassword';
const KEY_FIELDS =
  'fingerprint username algorithm userIds expiresAt status checkState problem repositories usable armored';

interface UserRow {
  username: string;
  role: string;
  state: string;
  email: string | null;
  createdAt: string;
}

export interface KeyRow {
  fingerprint: string;
  username: string | null;
  algorithm: string;
  userIds: string[];
  expiresAt: string | null;
  status: string;
  checkState: string;
  problem: string | null;
  repositories: string[];
  usable: boolean;
  armored: string;
}

/** Reads a password: a line from standard input (piped), or prompted without echo. */
export type SecretReader = (prompt: string) => Promise<string>;

/**
 * Accounts and uploader keys: `debyard signup`, `debyard user approve|reject|requests|deactivate|activate|role`
 * (added to the existing `user` command) and `debyard key add|show|list|remove|activate|deactivate` (below the
 * existing `key`, which still prints the archive key).
 */
export function addAccountCommands(program: Command, client: ClientFactory, readSecret: SecretReader): void {
  program
    .command('signup <name>')
    .description('create your own uploader account (as the daemon’s sign-up policy allows)')
    .option('--email <address>', 'where your notifications go')
    .action(async (name: string, opts: { email?: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      const password = await readSecret(`Password for ${name}: `);
      const { signUp } = await api.request<{ signUp: UserRow }>(
        `mutation($u: String!, $p: String!, $e: String) { signUp(username: $u, password: $p, email: $e) { ${USER_FIELDS} } }`,
        { u: name, p: password, e: opts.email ?? null },
      );
      print(json, signUp, () =>
        signUp.state === 'PENDING'
          ? `signed up as ${name}: the staff approve new accounts; sign in once they have`
          : `signed up as ${name}: sign in to the console, or create a token with \`debyard token create\``,
      );
    });

  const user = subcommand(program, 'user');
  user
    .command('requests')
    .description('sign-ups that wait for approval (staff)')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { signUpRequests } = await api.request<{ signUpRequests: UserRow[] }>(
        `{ signUpRequests { ${USER_FIELDS} } }`,
      );
      print(json, signUpRequests, () =>
        signUpRequests.length
          ? table(
              ['USER', 'E-MAIL', 'SIGNED UP'],
              signUpRequests.map((u) => [u.username, u.email ?? '-', u.createdAt]),
            )
          : 'no sign-ups wait for approval',
      );
    });
  user
    .command('approve <name>')
    .description('approve a sign-up: the account becomes an active uploader (staff)')
    .action(async (name: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { approveUser } = await api.request<{ approveUser: UserRow }>(
        `mutation($u: String!) { approveUser(username: $u) { ${USER_FIELDS} } }`,
        { u: name },
      );
      print(json, approveUser, () => `${name} approved: an active uploader now`);
    });
  user
    .command('reject <name>')
    .description('reject a sign-up: the account is removed (staff)')
    .option('--reason <text>', 'why, for the audit log')
    .action(async (name: string, opts: { reason?: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      await api.request(`mutation($u: String!, $r: String) { rejectUser(username: $u, reason: $r) }`, {
        u: name,
        r: opts.reason ?? null,
      });
      print(json, { rejected: name }, () => `sign-up of ${name} rejected`);
    });
  for (const [command, active] of [
    ['deactivate', false],
    ['activate', true],
  ] as const)
    user
      .command(`${command} <name>`)
      .description(
        active
          ? 'activate a deactivated user again (admin)'
          : 'deactivate a user: no sign-in, tokens or uploads, at once (admin)',
      )
      .action(async (name: string, _opts, cmd: Command) => {
        const { api, json } = client(cmd);
        const { userSetActive } = await api.request<{ userSetActive: UserRow }>(
          `mutation($u: String!, $a: Boolean!) { userSetActive(username: $u, active: $a) { ${USER_FIELDS} } }`,
          { u: name, a: active },
        );
        print(json, userSetActive, () => `${name} ${active ? 'activated' : 'deactivated'}`);
      });
  user
    .command('role <name> <role>')
    .description('give a user another role: uploader, staff or admin (admin)')
    .action(async (name: string, role: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      if (!['uploader', 'staff', 'admin'].includes(role.toLowerCase()))
        throw new CliError(`"${role}" is not a role: use uploader, staff or admin`, EXIT.USAGE);
      const { userSetRole } = await api.request<{ userSetRole: UserRow }>(
        `mutation($u: String!, $r: Role!) { userSetRole(username: $u, role: $r) { ${USER_FIELDS} } }`,
        { u: name, r: role.toUpperCase() },
      );
      print(json, userSetRole, () => `${name} is ${userSetRole.role.toLowerCase()} now`);
    });

  const key = subcommand(program, 'key');
  key
    .command('add <file>')
    .description('add an armored OpenPGP public key to your profile (- reads standard input)')
    .action(async (file: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const armored = await readKeyFile(file);
      const { addKey } = await api.request<{ addKey: KeyRow }>(
        `mutation($a: String!) { addKey(armored: $a) { ${KEY_FIELDS} } }`,
        { a: armored },
      );
      print(
        json,
        addKey,
        () =>
          `key ${addKey.fingerprint} (${addKey.algorithm}) added and checked: the staff activate it for repositories`,
      );
    });
  key
    .command('show [fingerprint]')
    .description('your uploader keys, or one of them armored')
    .action(async (fingerprint: string | undefined, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { myKeys } = await api.request<{ myKeys: KeyRow[] }>(`{ myKeys { ${KEY_FIELDS} } }`);
      if (!fingerprint)
        return print(json, myKeys, () => keyTable(myKeys, 'no keys on your profile: debyard key add FILE'));
      const wanted = fingerprint.replace(/\s+/g, '').toUpperCase();
      const one = myKeys.find((k) => k.fingerprint === wanted);
      if (!one)
        throw new CliError(
          `there is no key ${wanted} on your profile: see \`debyard key show\``,
          EXIT.FAILED,
          'NOT_FOUND',
        );
      print(json, one, () =>
        [keyTable([one], ''), one.problem ? `problem: ${one.problem}` : '', one.armored.trimEnd()]
          .filter(Boolean)
          .join('\n'),
      );
    });
  key
    .command('list')
    .description('every uploader key, with its user and repositories (staff)')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { uploaderKeys } = await api.request<{ uploaderKeys: KeyRow[] }>(`{ uploaderKeys { ${KEY_FIELDS} } }`);
      print(json, uploaderKeys, () => keyTable(uploaderKeys, 'no uploader keys'));
    });
  key
    .command('remove <fingerprint>')
    .description('remove a key from your profile (staff: anybody’s); its uploads stop at once')
    .action(async (fingerprint: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      await api.request('mutation($f: String!) { removeKey(fingerprint: $f) }', { f: fingerprint });
      print(json, { removed: fingerprint }, () => `key ${fingerprint} removed`);
    });
  key
    .command('activate <fingerprint>')
    .description('grant a key repositories and activate it (staff)')
    .requiredOption(
      '--repository <identity>',
      'a repository it may upload to (repeat for more)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .action(async (fingerprint: string, opts: { repository: string[] }, cmd: Command) => {
      const { api, json } = client(cmd);
      const { activateKey } = await api.request<{ activateKey: KeyRow }>(
        `mutation($f: String!, $r: [String!]!) { activateKey(fingerprint: $f, repositories: $r) { ${KEY_FIELDS} } }`,
        { f: fingerprint, r: opts.repository },
      );
      print(
        json,
        activateKey,
        () =>
          `key ${activateKey.fingerprint} of ${activateKey.username} active for ${activateKey.repositories.join(', ')}`,
      );
    });
  key
    .command('deactivate <fingerprint>')
    .description('deactivate a key: its uploads are refused from now on (staff)')
    .action(async (fingerprint: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { deactivateKey } = await api.request<{ deactivateKey: KeyRow }>(
        `mutation($f: String!) { deactivateKey(fingerprint: $f) { ${KEY_FIELDS} } }`,
        { f: fingerprint },
      );
      print(json, deactivateKey, () => `key ${deactivateKey.fingerprint} deactivated`);
    });
}

function subcommand(program: Command, name: string): Command {
  const found = program.commands.find((c) => c.name() === name);
  if (!found) throw new Error(`the ${name} command must be added before the account commands`);
  return found;
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.USAGE);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A table of keys; "usable" says whether uploads signed by it go through now. */
export function keyTable(keys: KeyRow[], empty: string): string {
  if (!keys.length) return empty;
  return table(
    ['FINGERPRINT', 'USER', 'ALGORITHM', 'STATUS', 'CHECK', 'REPOSITORIES', 'USABLE'],
    keys.map((k) => [
      k.fingerprint,
      k.username ?? '-',
      k.algorithm,
      k.status.toLowerCase(),
      k.checkState.toLowerCase(),
      k.repositories.join(',') || '-',
      k.usable ? 'yes' : 'no',
    ]),
  );
}
