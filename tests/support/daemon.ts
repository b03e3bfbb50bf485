import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { schrootPrefix } from '@debyard/server/dist/chroot/chroot-ops.js';
import { execa, type ResultPromise } from 'execa';
import { freePort } from './postgres.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const MAIN = path.join(REPO, 'server/dist/main.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface GraphQLResult<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export interface DaemonOptions {
  /** External database; without it the daemon runs its managed cluster in the data directory. */
  databaseUrl?: string;
  /** Reuse a data directory (to test restarts); a fresh one otherwise. */
  dataDir?: string;
  args?: string[];
  /** Fixed ports (to restart on the same URL); free ones otherwise. */
  httpPort?: number;
  ftpPort?: number;
}

/** Picks a run of free-looking ports for FTP passive mode; collisions are unlikely and fail loudly. */
function passiveRange(): string {
  const min = 30_000 + Math.floor(Math.random() * 2000) * 10;
  return `${min}-${min + 9}`;
}

/**
 * The real daemon as a child process (`debyard serve`), on free loopback ports, with its own data
 * directory. As root it drops to the `debyard` user exactly as in production.
 */
export class TestDaemon {
  private output = '';
  private exited: Promise<number | null>;

  private constructor(
    readonly proc: ResultPromise,
    readonly dataDir: string,
    readonly httpUrl: string,
    readonly ftpPort: number,
    readonly databaseUrl: string | undefined,
  ) {
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = proc.then(
      (r) => r.exitCode ?? null,
      (r: { exitCode?: number }) => r.exitCode ?? null,
    );
  }

  static async start(opts: DaemonOptions = {}): Promise<TestDaemon> {
    const dataDir = opts.dataDir ?? (await newDataDir());
    const http = opts.httpPort ?? (await freePort());
    const ftp = opts.ftpPort ?? (await freePort());
    const proc = execa(
      process.execPath,
      [
        MAIN,
        'serve',
        '--data-dir',
        dataDir,
        '--http',
        `127.0.0.1:${http}`,
        '--ftp',
        `127.0.0.1:${ftp}`,
        '--ftp-passive-ports',
        passiveRange(),
        ...(opts.args ?? []),
      ],
      {
        reject: false,
        env: { DATABASE_URL: opts.databaseUrl ?? '', DEBYARD_LOG_LEVEL: 'info' },
        stdin: 'ignore',
      },
    );
    const daemon = new TestDaemon(proc, dataDir, `http://127.0.0.1:${http}`, ftp, opts.databaseUrl);
    await daemon.waitReady();
    return daemon;
  }

  get httpPort(): number {
    return Number(new URL(this.httpUrl).port);
  }

  /** Everything the daemon printed so far (its JSON log). */
  get logs(): string {
    return this.output;
  }

  get adminToken(): Promise<string> {
    return fs.readFile(path.join(this.dataDir, 'admin.token'), 'utf8').then((t) => t.trim());
  }

  /**
   * Runs `debyard ARGS` against this daemon; as the local admin unless `token` says otherwise. The default
   * time limit is generous: a lifecycle action exports and signs every distribution of a repository (by-hash
   * included), which takes half a minute when two suites build packages on 2 cores at once.
   */
  async cli(
    args: string[],
    opts: { token?: string | null; input?: string; timeoutMs?: number } = {},
  ): Promise<CliResult> {
    const env: Record<string, string> = {
      DEBYARD_URL: this.httpUrl,
      DEBYARD_DATA_DIR: this.dataDir,
      DEBYARD_TOKEN: '',
    };
    if (opts.token === null) env.DEBYARD_DATA_DIR = '/nonexistent';
    else if (opts.token) env.DEBYARD_TOKEN = opts.token;
    const r = await execa(process.execPath, [MAIN, ...args], {
      reject: false,
      env,
      input: opts.input ?? '',
      timeout: opts.timeoutMs ?? 90_000,
    });
    const timedOut = r.timedOut ? `\n(debyard ${args.join(' ')} was stopped after ${opts.timeoutMs ?? 90_000} ms)` : '';
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) + timedOut };
  }

  /** POSTs a GraphQL document; `token` undefined means anonymous. */
  async gql<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    token?: string,
  ): Promise<GraphQLResult<T>> {
    const res = await fetch(`${this.httpUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, ...((await res.json()) as Omit<GraphQLResult<T>, 'status'>) };
  }

  /** Sends a signal and waits for the exit; returns the exit code and how long it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ exitCode: number | null; ms: number }> {
    const started = Date.now();
    this.proc.kill(signal);
    const exitCode = await this.exited;
    return { exitCode, ms: Date.now() - started };
  }

  /** Stops it (if running) and removes its data directory. */
  async dispose(): Promise<void> {
    if (this.proc.exitCode === null) await this.stop('SIGTERM');
    await removeSchrootLeftovers(this.dataDir);
    await fs.rm(path.dirname(this.dataDir), { recursive: true, force: true });
  }

  private async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => (done = true));
    while (!/"msg":"debyard [^"]+ is ready"/.test(this.output)) {
      if (done) throw new Error(`debyard serve exited before it was ready:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`debyard serve was not ready after ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A data directory path that does not exist yet, under a parent the daemon user can enter. */
export async function newDataDir(): Promise<string> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-e2e-'));
  await fs.chmod(parent, 0o755);
  return path.join(parent, 'data');
}

/** Waits until `check` returns a value (not undefined), polling. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Ends the schroot sessions and removes the schroot configurations of a test daemon's chroots (as
 * root), so that a test that failed before removing its chroot leaves nothing in /etc/schroot.
 */
async function removeSchrootLeftovers(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const prefix = schrootPrefix(dataDir);
  if (!/^debyard-[0-9a-f]{8}-$/.test(prefix)) return; // only a test instance's own, never the default's
  const sessions = String((await execa('schroot', ['-l', '--all-sessions'], { reject: false, cwd: '/' })).stdout);
  for (const line of sessions.split('\n'))
    if (line.startsWith(`session:${prefix}`))
      await execa('schroot', ['-e', '-f', '-c', line], { reject: false, cwd: '/' });
  const confDir = '/etc/schroot/chroot.d';
  for (const name of await fs.readdir(confDir).catch(() => [] as string[]))
    if (name.startsWith(prefix) && name.endsWith('.conf')) await fs.rm(path.join(confDir, name), { force: true });
}
