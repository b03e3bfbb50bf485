import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import pg from 'pg';
import type { Logger } from '../log.js';

const PG_ROOT = '/usr/lib/postgresql';
const DATABASE = 'debyard';
const SOCKET_NAME = '.s.PGSQL.5432';
const MAX_SOCKET_PATH = 107; // sun_path is 108 bytes including the terminating NUL
const CONFIG_FILE = 'debyard.conf';
const INCLUDE_LINE = `include = '${CONFIG_FILE}'`;
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
const PG_CTL_TIMEOUT_S = '60';

export type ManagedPostgresErrorCode =
  | 'PG_AS_ROOT'
  | 'PG_NOT_INSTALLED'
  | 'PG_VERSION_NOT_INSTALLED'
  | 'PG_UNSAFE_PATH'
  | 'PG_SOCKET_PATH_TOO_LONG'
  | 'PG_SOCKET_DIR_IN_USE'
  | 'PG_DATA_DIR_INVALID'
  | 'PG_INITDB_FAILED'
  | 'PG_START_FAILED'
  | 'PG_STOP_FAILED';

export class ManagedPostgresError extends Error {
  override readonly name = 'ManagedPostgresError';
  constructor(
    readonly code: ManagedPostgresErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface ManagedPostgresOptions {
  /** The cluster's data directory, `<data>/postgres`. Its parent must exist or be creatable. */
  dataDir: string;
  /** Where the unix socket goes; short, since `<socketDir>/.s.PGSQL.5432` must fit in 107 bytes. */
  socketDir: string;
  logger: Logger;
}

export interface StartTimings {
  /** initdb, when this start created the cluster. */
  initdbMs?: number;
  /** pg_ctl start until it accepts connections. */
  startMs: number;
  /** The whole of start(), including crash recovery and creating the database. */
  totalMs: number;
}

/**
 * debyard's own PostgreSQL cluster for the zero-config case (no DATABASE_URL): created with the
 * distribution's initdb on first use, started and stopped with the daemon, reachable only through a
 * unix socket with peer authentication. It runs as the current user, which must not be root.
 *
 * Settings live in `<dataDir>/debyard.conf`, rewritten at every start and included at the end of
 * postgresql.conf; `ALTER SYSTEM` (postgresql.auto.conf) still overrides them.
 */
export class ManagedPostgres {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  /** How long the last successful start() took. */
  lastStart?: StartTimings;

  private readonly logger: Logger;
  private running = false;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private binDir?: string;

  constructor(opts: ManagedPostgresOptions) {
    this.dataDir = path.resolve(opts.dataDir);
    this.socketDir = path.resolve(opts.socketDir);
    this.logFile = path.join(path.dirname(this.dataDir), 'log', 'postgres.log');
    this.logger = opts.logger.child({ component: 'postgres' });
  }

  /** `postgres://<os user>@/debyard?host=<socketDir>`; peer authentication needs no password. */
  get connectionString(): string {
    return `postgres://${encodeURIComponent(currentUserName())}@/${DATABASE}?host=${encodeURIComponent(this.socketDir)}`;
  }

  /** Creates the cluster if needed, starts it (stopping one a crashed daemon left behind) and creates the database. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Fast shutdown (open transactions are rolled back). Idempotent. */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    if (!this.running) return;
    this.stopping ??= this.doStop().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private async doStart(): Promise<void> {
    const t0 = performance.now();
    if (process.getuid?.() === 0)
      throw new ManagedPostgresError(
        'PG_AS_ROOT',
        'the managed PostgreSQL cannot run as root (initdb and pg_ctl refuse to): ' +
          'start debyard as root only so that it drops to its system user first, or run it as that user',
      );
    const user = currentUserName();
    // pg_ctl hands -D and -l to /bin/sh inside double quotes.
    for (const p of [this.dataDir, this.logFile])
      if (/["$`\\\n]/.test(p))
        throw new ManagedPostgresError(
          'PG_UNSAFE_PATH',
          `${p} contains one of " $ \` \\ or a newline, which pg_ctl cannot pass on`,
        );
    const socketPath = path.join(this.socketDir, SOCKET_NAME);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH)
      throw new ManagedPostgresError(
        'PG_SOCKET_PATH_TOO_LONG',
        `the PostgreSQL socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes: use a shorter data directory`,
      );

    const clusterVersion = readClusterVersion(this.dataDir);
    this.binDir = findBinDir(clusterVersion);
    prepareDirectories(this.dataDir, this.socketDir, this.logFile);
    rotateLog(this.logFile);

    let initdbMs: number | undefined;
    if (clusterVersion === undefined) {
      const t = performance.now();
      await this.initdb(user);
      initdbMs = performance.now() - t;
    }
    this.writeConfig();
    await this.recoverFromCrash();

    const tStart = performance.now();
    const logOffset = fileSize(this.logFile);
    // listen_addresses is in debyard.conf too; on the command line no edit of a file can undo it.
    const result = await this.pgCtl([
      'start',
      '-w',
      '-t',
      PG_CTL_TIMEOUT_S,
      '-l',
      this.logFile,
      '-o',
      "-c listen_addresses=''",
    ]);
    if (result.exitCode !== 0)
      throw new ManagedPostgresError(
        'PG_START_FAILED',
        `PostgreSQL did not start (pg_ctl: ${oneLine(result.all)}); last lines of ${this.logFile}:\n${logTail(this.logFile, logOffset)}`,
      );
    this.running = true;
    try {
      await this.ensureDatabase(user);
    } catch (err) {
      await this.doStop().catch(() => undefined);
      throw new ManagedPostgresError(
        'PG_START_FAILED',
        `PostgreSQL started but the database "${DATABASE}" is not usable: ${(err as Error).message}; last lines of ${this.logFile}:\n${logTail(this.logFile, logOffset)}`,
        { cause: err },
      );
    }
    const startMs = performance.now() - tStart;
    this.lastStart = { initdbMs, startMs, totalMs: performance.now() - t0 };
    this.logger.info(
      { binDir: this.binDir, socketDir: this.socketDir, ...roundAll(this.lastStart) },
      initdbMs === undefined ? 'PostgreSQL started' : 'PostgreSQL cluster created and started',
    );
  }

  private async doStop(): Promise<void> {
    const logOffset = fileSize(this.logFile);
    const result = await this.pgCtl(['stop', '-m', 'fast', '-w', '-t', PG_CTL_TIMEOUT_S]);
    if (result.exitCode !== 0 && this.postmasterPid() !== undefined)
      throw new ManagedPostgresError(
        'PG_STOP_FAILED',
        `PostgreSQL did not stop (pg_ctl: ${oneLine(result.all)}); last lines of ${this.logFile}:\n${logTail(this.logFile, logOffset)}`,
      );
    this.running = false;
    this.logger.info('PostgreSQL stopped');
  }

  /**
   * initdb into a sibling directory and rename it into place, so a daemon killed during initdb leaves
   * no half-made cluster behind that would look like a real one.
   */
  private async initdb(user: string): Promise<void> {
    const existing = fs.readdirSync(this.dataDir, { withFileTypes: true });
    if (existing.length > 0)
      throw new ManagedPostgresError(
        'PG_DATA_DIR_INVALID',
        `${this.dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): move it away and start again`,
      );
    const tmp = `${this.dataDir}.initdb`;
    fs.rmSync(tmp, { recursive: true, force: true });
    this.logger.info({ dataDir: this.dataDir }, 'creating the PostgreSQL cluster');
    const result = await execa(
      path.join(this.binDir!, 'initdb'),
      [
        '-D',
        tmp,
        '-U',
        user,
        '--auth-local=peer',
        '--auth-host=reject',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '--no-instructions',
      ],
      { ...this.execOptions(), reject: false, all: true },
    );
    if (result.exitCode !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new ManagedPostgresError(
        'PG_INITDB_FAILED',
        `initdb failed (exit ${result.exitCode}):\n${tail(result.all ?? '', 20)}`,
      );
    }
    fs.appendFileSync(
      path.join(tmp, 'postgresql.conf'),
      `\n# debyard's settings, rewritten at every start\n${INCLUDE_LINE}\n`,
    );
    fs.renameSync(tmp, this.dataDir); // replaces the empty directory
  }

  private writeConfig(): void {
    const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
    const settings = [
      '# Written by debyard at every start; use ALTER SYSTEM to override.',
      "listen_addresses = ''",
      `unix_socket_directories = ${quote(this.socketDir)}`,
      'unix_socket_permissions = 0700',
      `cluster_name = ${quote(DATABASE)}`,
      // A small daemon: the ORM pool, the job queue's pool and a listener or two.
      'max_connections = 40',
      'shared_buffers = 32MB',
      'max_parallel_workers_per_gather = 0',
      'jit = off',
      'max_wal_size = 256MB',
      "log_line_prefix = '%m [%p] %q%u@%d '",
    ];
    fs.writeFileSync(path.join(this.dataDir, CONFIG_FILE), settings.join('\n') + '\n', { mode: 0o600 });
    const confPath = path.join(this.dataDir, 'postgresql.conf');
    if (!fs.readFileSync(confPath, 'utf8').split('\n').includes(INCLUDE_LINE))
      fs.appendFileSync(confPath, `\n${INCLUDE_LINE}\n`);
  }

  /**
   * pg_ctl daemonises the postmaster, so a daemon killed with SIGKILL leaves it running, re-parented to
   * init. Stop such a postmaster, and clear lock files whose pid is dead or now someone else's: the
   * postmaster itself refuses to start while the recorded pid is alive, even when it was reused.
   */
  private async recoverFromCrash(): Promise<void> {
    const pid = this.postmasterPid();
    if (pid !== undefined) {
      if (isPostmasterOf(pid, this.dataDir)) {
        this.logger.warn({ pid }, 'a PostgreSQL server from an earlier run is still running: stopping it');
        const logOffset = fileSize(this.logFile);
        const result = await this.pgCtl(['stop', '-m', 'fast', '-w', '-t', PG_CTL_TIMEOUT_S]);
        if (result.exitCode !== 0 && isPostmasterOf(pid, this.dataDir))
          throw new ManagedPostgresError(
            'PG_STOP_FAILED',
            `the PostgreSQL server left by an earlier run (pid ${pid}) did not stop (pg_ctl: ${oneLine(result.all)}); ` +
              `last lines of ${this.logFile}:\n${logTail(this.logFile, logOffset)}`,
          );
      } else {
        this.logger.info({ pid }, 'removing the stale postmaster.pid of an earlier run');
        fs.rmSync(path.join(this.dataDir, 'postmaster.pid'), { force: true });
      }
    }
    const socketLock = path.join(this.socketDir, `${SOCKET_NAME}.lock`);
    const socketPid = readLockFilePid(socketLock);
    if (socketPid === undefined) return;
    if (isPostmaster(socketPid))
      throw new ManagedPostgresError(
        'PG_SOCKET_DIR_IN_USE',
        `another PostgreSQL server (pid ${socketPid}) uses the socket directory ${this.socketDir}: give debyard a directory of its own`,
      );
    fs.rmSync(socketLock, { force: true });
    fs.rmSync(path.join(this.socketDir, SOCKET_NAME), { force: true });
  }

  private async ensureDatabase(user: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new pg.Client({ host: this.socketDir, user, database: 'postgres' });
      try {
        await client.connect();
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
        if (rowCount === 0) {
          await client.query(`CREATE DATABASE ${DATABASE}`);
          this.logger.info(`created the database "${DATABASE}"`);
        }
        return;
      } catch (err) {
        // 57P03: still starting up; ENOENT/ECONNREFUSED: socket not there yet. pg_ctl -w makes both rare.
        const code = (err as { code?: string }).code;
        const transient = code === '57P03' || code === 'ENOENT' || code === 'ECONNREFUSED';
        if (!transient || Date.now() > deadline) throw err;
        await sleep(50);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  private postmasterPid(): number | undefined {
    return readLockFilePid(path.join(this.dataDir, 'postmaster.pid'));
  }

  private pgCtl(args: string[]) {
    return execa(path.join(this.binDir!, 'pg_ctl'), ['-D', this.dataDir, ...args], {
      ...this.execOptions(),
      reject: false,
      all: true,
    });
  }

  /** A clean environment: a stray LANG with an ungenerated locale makes initdb fail. */
  private execOptions() {
    const env: Record<string, string> = {
      PATH: `${this.binDir}:/usr/bin:/bin`,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HOME: process.env.HOME ?? os.homedir(),
      USER: currentUserName(),
    };
    if (process.env.TZ) env.TZ = process.env.TZ;
    return { env, extendEnv: false, cwd: path.dirname(this.dataDir), stdin: 'ignore' as const };
  }
}

function currentUserName(): string {
  try {
    return os.userInfo().username;
  } catch (err) {
    throw new ManagedPostgresError(
      'PG_AS_ROOT',
      `uid ${process.getuid?.()} has no user name (no passwd entry), which the managed PostgreSQL needs for peer authentication`,
      { cause: err },
    );
  }
}

/** The major version that created the cluster, or undefined if there is none yet. */
function readClusterVersion(dataDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The newest installed server, or the one matching an existing cluster (a major upgrade needs pg_upgrade). */
function findBinDir(clusterVersion: string | undefined): string {
  let versions: string[] = [];
  try {
    versions = fs
      .readdirSync(PG_ROOT)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .filter((v) => ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(PG_ROOT, v, 'bin', b))))
      .sort((a, b) => Number(b) - Number(a));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (versions.length === 0)
    throw new ManagedPostgresError(
      'PG_NOT_INSTALLED',
      `no PostgreSQL server found in ${PG_ROOT}/*/bin: install the package postgresql (apt-get install postgresql), ` +
        'or set DATABASE_URL to use an existing server',
    );
  if (clusterVersion === undefined) return path.join(PG_ROOT, versions[0]!, 'bin');
  if (!versions.includes(clusterVersion))
    throw new ManagedPostgresError(
      'PG_VERSION_NOT_INSTALLED',
      `debyard's database was created by PostgreSQL ${clusterVersion}, but only ${versions.join(', ')} is installed: ` +
        `install postgresql-${clusterVersion}, or upgrade the cluster with pg_upgrade`,
    );
  return path.join(PG_ROOT, clusterVersion, 'bin');
}

function prepareDirectories(dataDir: string, socketDir: string, logFile: string): void {
  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o750 });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.dirname(logFile), { recursive: true, mode: 0o750 });
  fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  // Peer authentication decides who is who; the directory mode keeps everyone else off the socket.
  const stat = fs.statSync(socketDir);
  if (stat.uid !== process.getuid?.())
    throw new ManagedPostgresError(
      'PG_SOCKET_DIR_IN_USE',
      `the socket directory ${socketDir} belongs to uid ${stat.uid}, not to us`,
    );
  if ((stat.mode & 0o777) !== 0o700) fs.chmodSync(socketDir, 0o700);
}

function rotateLog(logFile: string): void {
  if (fileSize(logFile) > LOG_ROTATE_BYTES) fs.renameSync(logFile, `${logFile}.1`);
}

/** The pid on the first line of postmaster.pid or a socket lock file. */
function readLockFilePid(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number(text.split('\n')[0]?.trim());
  // An empty or garbled file (crash while it was written) is as stale as one with a dead pid.
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

/** Whether `pid` runs a postgres binary; /proc/<pid>/exe is only readable for our own processes. */
function isPostmaster(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    const exe = fs.readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
    return path.basename(exe) === 'postgres';
  } catch {
    return false; // gone, or not ours
  }
}

/** The postmaster chdirs into its data directory, which identifies it even after pid reuse. */
function isPostmasterOf(pid: number, dataDir: string): boolean {
  if (!isPostmaster(pid)) return false;
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(dataDir);
  } catch {
    return false;
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The log lines written since `offset` (at most the last 20), or the last 20 if there are none. */
function logTail(file: string, offset: number): string {
  let text = '';
  try {
    const all = fs.readFileSync(file);
    text = all.subarray(offset).toString('utf8').trim() || all.toString('utf8');
  } catch {
    return '(no log)';
  }
  return tail(text, 20) || '(empty log)';
}

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function oneLine(text: string | undefined): string {
  return (text ?? '').trim().replace(/\s*\n\s*/g, '; ') || 'no output';
}

function roundAll(t: StartTimings): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v === undefined ? undefined : Math.round(v)]));
}
