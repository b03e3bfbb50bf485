import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';

export const LOCK_FILE_NAME = 'debyard.lock';

export type InstanceLockErrorCode = 'INSTANCE_ALREADY_RUNNING' | 'INSTANCE_LOCK_FAILED';

export class InstanceLockError extends Error {
  override readonly name = 'InstanceLockError';
  constructor(
    readonly code: InstanceLockErrorCode,
    message: string,
    readonly dataDir: string,
    /** The pid of the running instance, when known. */
    readonly pid?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface InstanceLock {
  /** Gives the data directory free for another instance. Idempotent. */
  release(): Promise<void>;
}

/**
 * Makes this process the only debyard on `dataDir`, or throws an InstanceLockError naming the pid of
 * the one that already is.
 *
 * The lock is a flock(2) on `<dataDir>/debyard.lock`. The kernel drops it when the last descriptor of
 * the open file goes away, so a crashed (even SIGKILLed) daemon leaves nothing stale behind, and a
 * reused pid cannot fake a holder: the pid written into the file is only there for the message.
 * Node has no flock binding, so util-linux's flock(1) takes the lock on our descriptor, inherited as
 * fd 3; the lock belongs to the shared open file description and outlives that short-lived child.
 * Our descriptor is close-on-exec, so children such as the postmaster never inherit the lock.
 * (A unix socket as the lock would need a racy unlink of stale socket files and limit the path of
 * the data directory to about 93 bytes.)
 *
 * Call it after dropPrivileges(), so the lock file belongs to the daemon's user.
 */
export async function acquireInstanceLock(dataDir: string): Promise<InstanceLock> {
  const dir = path.resolve(dataDir);
  const lockPath = path.join(dir, LOCK_FILE_NAME);
  let fd: number;
  try {
    fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw new InstanceLockError(
      'INSTANCE_LOCK_FAILED',
      `cannot open the instance lock ${lockPath}: ${(err as Error).message}` +
        ((err as NodeJS.ErrnoException).code === 'EACCES' ? ' (it must belong to the user the daemon runs as)' : ''),
      dir,
      undefined,
      { cause: err },
    );
  }

  let exitCode: number;
  try {
    exitCode = await flockNonBlocking(fd);
  } catch (err) {
    fs.closeSync(fd);
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new InstanceLockError(
      'INSTANCE_LOCK_FAILED',
      missing
        ? 'cannot lock the data directory: flock(1) is missing; install the package util-linux'
        : `cannot lock ${lockPath}: ${(err as Error).message}`,
      dir,
      undefined,
      { cause: err },
    );
  }

  if (exitCode === 1) {
    fs.closeSync(fd);
    const pid = await readHolderPid(lockPath);
    const who = pid === undefined ? 'another debyard' : `another debyard (pid ${pid})`;
    throw new InstanceLockError(
      'INSTANCE_ALREADY_RUNNING',
      `${who} is already running with data directory ${dir}: stop it first, or use --data-dir for a second instance`,
      dir,
      pid,
    );
  }

  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, `${process.pid}\n`, 0);
  let held = true;
  return {
    async release() {
      if (!held) return;
      held = false;
      try {
        fs.ftruncateSync(fd, 0);
      } finally {
        fs.closeSync(fd); // drops the lock; the file stays, unlinking it would race with a waiting opener
      }
    },
  };
}

/**
 * Runs `flock --nonblock --exclusive 3` with `fd` as its fd 3; resolves to its exit code (1: held
 * elsewhere). child_process rather than execa, whose types do not allow a descriptor beyond stdio.
 */
function flockNonBlocking(fd: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['--nonblock', '--exclusive', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0 || code === 1) resolve(code);
      else reject(new Error(`flock ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${stderr.trim()}`));
    });
  });
}

/** The holder writes its pid just after it got the lock, so give it a moment. */
async function readHolderPid(lockPath: string): Promise<number | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const text = fs.readFileSync(lockPath, 'utf8').trim();
      if (/^\d+$/.test(text)) return Number(text);
    } catch {
      // The file is ours to read; if it is not, the message just lacks the pid.
      return undefined;
    }
    await sleep(25);
  }
  return undefined;
}
