import fs from 'node:fs';
import path from 'node:path';
import { execaSync } from 'execa';
import type { Logger } from '../log.js';

export type PrivilegeErrorCode =
  | 'USER_NOT_FOUND'
  | 'USER_IS_ROOT'
  | 'DATA_DIR_FOREIGN_OWNER'
  | 'DATA_DIR_NOT_DIRECTORY'
  | 'DATA_DIR_NOT_WRITABLE'
  | 'PRIVILEGE_DROP_FAILED';

/** A failure while preparing the data directory or switching to the daemon's system user. */
export class PrivilegeError extends Error {
  override readonly name = 'PrivilegeError';
  constructor(
    readonly code: PrivilegeErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

type ProcessWithInitgroups = NodeJS.Process & { initgroups(user: string, extraGroup: number): void };

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/**
 * Looks a user up through NSS (`getent passwd`, so LDAP/sssd users work too), falling back to
 * /etc/passwd where getent is missing. Node's os.userInfo() only knows the current user.
 */
export function lookupUser(name: string): PasswdEntry | undefined {
  // getent would treat a leading "-" as an option and an all-digit name as a uid.
  if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(name)) return undefined;
  let text: string;
  try {
    const result = execaSync('getent', ['passwd', name], { reject: false, stdin: 'ignore' });
    if (result.exitCode === 2) return undefined; // "key not found"
    if (result.exitCode !== 0)
      throw new Error(`getent passwd ${name} exited with ${result.exitCode}: ${result.stderr}`);
    text = result.stdout;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    text = fs.readFileSync('/etc/passwd', 'utf8');
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid, , home, shell] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined)
      return { name: user, uid: Number(uid), gid: Number(gid), home: home ?? '/', shell: shell ?? '' };
  }
  return undefined;
}

/**
 * Makes the process run as the daemon's system user. As root: prepares `dataDir` for that user,
 * then switches uid, gid and supplementary groups for good (there is no way back to root). As any
 * other user: only makes sure `dataDir` exists and is writable.
 */
export function dropPrivileges(opts: { user: string; dataDir: string; logger: Logger }): void {
  const dataDir = path.resolve(opts.dataDir);
  if (process.getuid?.() !== 0) {
    ensureWritableDataDir(dataDir);
    return;
  }

  const entry = lookupUser(opts.user);
  if (!entry)
    throw new PrivilegeError(
      'USER_NOT_FOUND',
      `system user "${opts.user}" does not exist: run \`npm start\` once as root (scripts/setup.sh creates it)`,
    );
  if (entry.uid === 0)
    throw new PrivilegeError(
      'USER_IS_ROOT',
      `user "${opts.user}" has uid 0: debyard must run as an unprivileged system user`,
    );

  prepareDataDir(dataDir, entry, opts.logger);

  try {
    // Order matters: groups and gid can only be changed while still root.
    // @types/node lacks initgroups, which Node has on POSIX; it keeps groups such as sbuild.
    (process as ProcessWithInitgroups).initgroups(entry.name, entry.gid);
    process.setgid!(entry.gid);
    process.setuid!(entry.uid);
  } catch (err) {
    throw new PrivilegeError(
      'PRIVILEGE_DROP_FAILED',
      `could not switch to user "${entry.name}": ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  process.env.HOME = entry.home;
  process.env.USER = entry.name;
  process.env.LOGNAME = entry.name;
  // A parent directory the user cannot traverse only shows now.
  ensureWritableDataDir(dataDir);
  process.chdir(dataDir);
  opts.logger.info(
    { user: entry.name, uid: entry.uid, gid: entry.gid, groups: process.getgroups?.(), dataDir },
    'dropped root privileges',
  );
}

/** Creates dataDir for the user, or takes over one that root owns; never touches anything below it. */
function prepareDataDir(dataDir: string, user: PasswdEntry, logger: Logger): void {
  let stat = statOrUndefined(dataDir);
  if (!stat) {
    // Missing parents are created root-owned (mode 0755), as any system directory would be.
    fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
    fs.mkdirSync(dataDir, { mode: 0o750 });
    logger.info({ dataDir }, 'created data directory');
    stat = fs.statSync(dataDir);
  }
  if (!stat.isDirectory())
    throw new PrivilegeError('DATA_DIR_NOT_DIRECTORY', `data directory ${dataDir} exists but is not a directory`);
  if (stat.uid !== 0 && stat.uid !== user.uid)
    throw new PrivilegeError(
      'DATA_DIR_FOREIGN_OWNER',
      `data directory ${dataDir} belongs to ${describeUid(stat.uid)}, not to "${user.name}": ` +
        `chown it to ${user.name}, or choose another one with --data-dir`,
    );
  if (stat.uid !== user.uid) fs.chownSync(dataDir, user.uid, user.gid);
  if ((stat.mode & 0o7777) !== 0o750) fs.chmodSync(dataDir, 0o750);
}

function ensureWritableDataDir(dataDir: string): void {
  const notWritable = (err: unknown) =>
    new PrivilegeError(
      'DATA_DIR_NOT_WRITABLE',
      `data directory ${dataDir} is not writable by ${describeUid(process.getuid?.() ?? -1)}: ` +
        'fix the owner and mode of it and its parents, or choose another one with --data-dir',
      { cause: err },
    );
  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw notWritable(err);
    if (code === 'EEXIST' || code === 'ENOTDIR')
      throw new PrivilegeError('DATA_DIR_NOT_DIRECTORY', `data directory ${dataDir} exists but is not a directory`, {
        cause: err,
      });
    throw new PrivilegeError(
      'DATA_DIR_NOT_WRITABLE',
      `cannot create data directory ${dataDir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (!fs.statSync(dataDir).isDirectory())
    throw new PrivilegeError('DATA_DIR_NOT_DIRECTORY', `data directory ${dataDir} exists but is not a directory`);
  try {
    fs.accessSync(dataDir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw notWritable(err);
  }
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function describeUid(uid: number): string {
  try {
    const text = fs.readFileSync('/etc/passwd', 'utf8');
    for (const line of text.split('\n')) {
      const [name, , u] = line.split(':');
      if (u !== undefined && Number(u) === uid) return `user "${name}" (uid ${uid})`;
    }
  } catch {
    // Only used to word a message; the uid alone will do.
  }
  return `uid ${uid}`;
}
