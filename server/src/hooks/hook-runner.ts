import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { FieldError, parseString } from '../lifecycle/config-kind.js';
import { checkFileName, containedPath } from '../util/paths.js';

/** After the time limit a hook's process group gets SIGTERM, and this long later SIGKILL. */
const KILL_GRACE_MS = 2000;
/** Output kept for the log and the HOOK_FAILED reason; a hook that writes more is cut off there. */
const MAX_OUTPUT_BYTES = 256 * 1024;
const REASON_OUTPUT_CHARS = 500;
/** Hooks get this environment and nothing of the daemon's (DATABASE_URL may hold a password). */
const HOOK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Why a hook was not run or did not succeed; the message is the reason recorded and logged. */
export class HookError extends Error {
  override readonly name = 'HookError';
}

/**
 * Checks the Daemon's `hooksDir` when it is set: empty (no hooks), or an absolute, normalised path to an
 * existing directory that neither group nor others can write (whoever can write there runs code as the
 * daemon user). Throws a FieldError naming the problem.
 */
export async function checkHooksDir(field: string, value: unknown): Promise<string> {
  const dir = parseString(field, value, { empty: true });
  if (!dir) return '';
  if (!path.isAbsolute(dir) || dir.includes('\0'))
    throw new FieldError(field, `"${dir}" is not an absolute path; e.g. /etc/debyard/hooks.d`);
  const normal = path.normalize(dir).replace(/(.)\/$/, '$1');
  if (normal !== dir) throw new FieldError(field, `write the path without "..", "." or doubled slashes: ${normal}`);
  const st = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw new FieldError(field, `${dir} cannot be read by the daemon (${err.code ?? err.message}); create it first`);
  });
  if (!st.isDirectory()) throw new FieldError(field, `${dir} is not a directory`);
  if (st.mode & 0o022)
    throw new FieldError(
      field,
      `${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}): anyone who can write there could run code as the daemon user; chmod go-w ${dir}`,
    );
  return dir;
}

/**
 * The hooks in `dir` to run for an event, sorted: names as mini-buildd takes them (`[!_.]*[!~]`, and no
 * dpkg or ucf leftovers) that pass `resolveHook`. Files that are not executable are left out quietly;
 * `refused` lists the others that fail a check, with the reason.
 */
export async function listHooks(
  dir: string,
): Promise<{ runnable: string[]; refused: { name: string; reason: string }[] }> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const runnable: string[] = [];
  const refused: { name: string; reason: string }[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!isHookName(entry.name) || !(entry.isFile() || entry.isSymbolicLink())) continue;
    try {
      await resolveHook(dir, entry.name);
      runnable.push(entry.name);
    } catch (err) {
      if (err instanceof NotExecutable) continue;
      refused.push({ name: entry.name, reason: (err as Error).message });
    }
  }
  return { runnable, refused };
}

function isHookName(name: string): boolean {
  try {
    checkFileName(name);
  } catch {
    return false;
  }
  return !name.endsWith('~') && !/\.(dpkg|ucf)-[a-z]+$/.test(name);
}

class NotExecutable extends HookError {}

/**
 * The file to execute for hook `name` in `dir`: a regular file, or a symbolic link to one inside `dir`
 * (never outside it), executable by the daemon and writable by nobody but its owner. Throws a HookError.
 */
export async function resolveHook(dir: string, name: string): Promise<string> {
  let full: string;
  try {
    full = containedPath(dir, checkFileName(name));
  } catch (err) {
    throw new HookError(`hook "${name}" refused: ${(err as Error).message}`);
  }
  const realDir = await fs.realpath(dir);
  const real = await fs.realpath(full).catch((err: NodeJS.ErrnoException) => {
    throw new HookError(`hook ${full} cannot be found (${err.code ?? err.message})`);
  });
  const rel = path.relative(realDir, real);
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new HookError(`hook ${full} refused: it is a link to ${real}, outside ${dir}`);
  const st = await fs.stat(real);
  if (!st.isFile()) throw new HookError(`hook ${full} refused: it is not a regular file`);
  if (st.mode & 0o022)
    throw new HookError(
      `hook ${full} refused: it is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod go-w it`,
    );
  await fs.access(real, fsc.X_OK).catch(() => {
    throw new NotExecutable(`hook ${full} is not executable by the daemon user`);
  });
  return real;
}

export interface HookRun {
  /** The resolved file (from resolveHook). */
  file: string;
  /** Written to the hook's stdin. */
  input: string;
  /** The hook's whole environment (PATH and LANG are added). */
  env: Record<string, string>;
  timeoutMs: number;
  cwd: string;
  /** Aborting kills the hook's process group at once (the engine stops). */
  signal?: AbortSignal;
}

/**
 * Runs one hook (an argv, never a shell) in a process group of its own; past the time limit the whole
 * group gets SIGTERM, then SIGKILL. Resolves with the output when it exits 0; throws a HookError that
 * says how it failed (exit code, signal or time limit, and the end of its output) otherwise. Whatever
 * the hook left running in its group is killed when it ends.
 */
export async function runHook(run: HookRun): Promise<{ output: string; ms: number }> {
  const started = Date.now();
  const child = execa(run.file, [], {
    input: run.input,
    env: { PATH: HOOK_PATH, LANG: 'C.UTF-8', ...run.env },
    extendEnv: false,
    cwd: run.cwd,
    detached: true,
    reject: false,
    all: true,
    maxBuffer: MAX_OUTPUT_BYTES,
    stripFinalNewline: true,
  });
  const pid = child.pid;
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const limitTimer = setTimeout(() => {
    timedOut = true;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
  }, run.timeoutMs);
  const abort = () => killGroup(pid, 'SIGKILL');
  run.signal?.addEventListener('abort', abort);
  const r = await child;
  run.signal?.removeEventListener('abort', abort);
  clearTimeout(limitTimer);
  clearTimeout(killTimer);
  killGroup(pid, 'SIGKILL');
  const ms = Date.now() - started;
  const output = String(r.all ?? '');
  const tail = output.length > REASON_OUTPUT_CHARS ? `…${output.slice(-REASON_OUTPUT_CHARS)}` : output;
  const said = tail.trim() ? `; its output ends: ${tail.trim()}` : '';
  if (run.signal?.aborted) throw new HookError(`${run.file} was killed: the engine stopped while it ran`);
  if (timedOut)
    throw new HookError(
      `${run.file} did not finish within ${run.timeoutMs / 1000} s and was killed with its process group${said}`,
    );
  if (r.isMaxBuffer)
    throw new HookError(`${run.file} wrote more than ${MAX_OUTPUT_BYTES} bytes of output and was stopped`);
  if (r.signal) throw new HookError(`${run.file} was killed by ${r.signal}${said}`);
  if (r.exitCode !== 0)
    throw new HookError(
      r.exitCode === undefined
        ? `${run.file} could not be started: ${r.message}`
        : `${run.file} exited with code ${r.exitCode}${said}`,
    );
  return { output, ms };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
