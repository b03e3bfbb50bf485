import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { createThrowawayUser, type ThrowawayUser } from '../daemon/throwaway-user.js';
import { ManagedPostgres } from './managed-postgres.js';
import { createLogger } from '../log.js';

const moduleUrl = new URL('./managed-postgres.js', import.meta.url).href;
const logUrl = new URL('../log.js', import.meta.url).href;
const pgUrl = import.meta.resolve('pg');
const isRoot = process.getuid?.() === 0;

/**
 * What a daemon does with the cluster, in a child process running as an unprivileged user (initdb
 * and pg_ctl refuse root). "cycle": start, query, stop twice. "hold": start, report, wait to be killed.
 */
const CHILD = `
  import { ManagedPostgres } from ${JSON.stringify(moduleUrl)};
  import { createLogger } from ${JSON.stringify(logUrl)};
  import pg from ${JSON.stringify(pgUrl)};
  const [mode, dataDir, socketDir] = process.argv.slice(1);
  const db = new ManagedPostgres({ dataDir, socketDir, logger: createLogger('warn') });
  const report = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
  try {
    await db.start();
    const client = new pg.Client({ connectionString: db.connectionString });
    await client.connect();
    const { rows } = await client.query(\`SELECT current_user AS user, current_database() AS db,
      inet_server_addr() AS addr, current_setting('server_encoding') AS encoding,
      current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync\`);
    await client.end();
    report({ ok: true, timings: db.lastStart, connectionString: db.connectionString, ...rows[0] });
    if (mode === 'hold') setInterval(() => {}, 1 << 30);
    else { await db.stop(); await db.stop(); }
  } catch (err) {
    report({ ok: false, code: err.code, message: err.message });
    process.exitCode = 1;
  }
`;

interface ChildReport {
  ok: boolean;
  code?: string;
  message?: string;
  timings?: { initdbMs?: number; startMs: number; totalMs: number };
  connectionString?: string;
  user?: string;
  db?: string;
  addr?: string | null;
  encoding?: string;
  listen?: string;
  fsync?: string;
}

describe('ManagedPostgres', () => {
  let user: ThrowawayUser | undefined;
  let base: string;
  const timings: string[] = [];

  before(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-pg-'));
    if (isRoot) {
      user = await createThrowawayUser('debyard-tpg');
      fs.chownSync(base, user.uid, user.gid);
    }
  });

  after(async () => {
    if (timings.length) console.log(`# ${timings.join(', ')}`);
    // A failed test may leave a postmaster behind; stop every one under base before removing it.
    for (const dir of fs.existsSync(base) ? fs.readdirSync(base) : []) {
      const pidFile = path.join(base, dir, 'postgres', 'postmaster.pid');
      const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
      if (pid > 0) killQuietly(pid, 'SIGQUIT');
    }
    fs.rmSync(base, { recursive: true, force: true });
    await user?.remove();
  });

  function dirsFor(name: string) {
    const data = path.join(base, name);
    return { data, dataDir: path.join(data, 'postgres'), socketDir: path.join(data, 'run') };
  }

  function spawnChild(mode: 'cycle' | 'hold', dataDir: string, socketDir: string): ResultPromise {
    return execa('node', ['--input-type=module', '-e', CHILD, mode, dataDir, socketDir], {
      reject: false,
      cwd: base,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
  }

  async function cycle(dataDir: string, socketDir: string): Promise<ChildReport & { stderr: string }> {
    const result = await spawnChild('cycle', dataDir, socketDir);
    const lastLine = String(result.stdout).trim().split('\n').pop() ?? '';
    assert.ok(lastLine.startsWith('{'), `no report from the child: ${result.stdout}\n${result.stderr}`);
    return { ...(JSON.parse(lastLine) as ChildReport), stderr: String(result.stderr) };
  }

  /** Starts a child that keeps the cluster running; resolves once it is up. Wrapped so it is not awaited. */
  async function hold(dataDir: string, socketDir: string): Promise<{ child: ResultPromise; report: ChildReport }> {
    const child = spawnChild('hold', dataDir, socketDir);
    const report = await new Promise<ChildReport>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString().trim().split('\n')[0]!)));
      child.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
    });
    return { child, report };
  }

  it('refuses to run as root', { skip: !isRoot && 'not root' }, async () => {
    const db = new ManagedPostgres({
      dataDir: path.join(base, 'root', 'postgres'),
      socketDir: path.join(base, 'root', 'run'),
      logger: createLogger('silent'),
    });
    await assert.rejects(db.start(), { code: 'PG_AS_ROOT', message: /cannot run as root/ });
  });

  it('creates the cluster on first start, listens only on its socket, and starts warm', async () => {
    const { dataDir, socketDir } = dirsFor('fresh');
    const cold = await cycle(dataDir, socketDir);
    assert.ok(cold.ok, cold.message);
    const osUser = user?.name ?? os.userInfo().username;
    assert.equal(cold.user, osUser);
    assert.equal(cold.db, 'debyard');
    assert.equal(cold.addr, null, 'connected over TCP');
    assert.equal(cold.listen, '');
    assert.equal(cold.encoding, 'UTF8');
    assert.equal(cold.fsync, 'on');
    assert.equal(cold.connectionString, `postgres://${osUser}@/debyard?host=${encodeURIComponent(socketDir)}`);
    assert.ok(cold.timings?.initdbMs !== undefined, 'the first start runs initdb');
    assert.equal((fs.statSync(socketDir).mode & 0o777).toString(8), '700');
    assert.ok(!fs.existsSync(path.join(dataDir, 'postmaster.pid')), 'stop() left the server running');
    assert.ok(!fs.existsSync(`${dataDir}.initdb`));
    assert.match(
      fs.readFileSync(path.join(dataDir, '..', 'log', 'postgres.log'), 'utf8'),
      /database system is shut down/,
    );

    const warm = await cycle(dataDir, socketDir);
    assert.ok(warm.ok, warm.message);
    assert.equal(warm.timings?.initdbMs, undefined);
    timings.push(
      `cold start ${ms(cold.timings!.totalMs)} (initdb ${ms(cold.timings!.initdbMs!)})`,
      `warm start ${ms(warm.timings!.totalMs)}`,
    );
  });

  it('stops the postmaster a SIGKILLed daemon left running, then starts again', async () => {
    const { dataDir, socketDir } = dirsFor('crash');
    const { child, report } = await hold(dataDir, socketDir);
    assert.ok(report.ok, report.message);
    const orphan = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    child.kill('SIGKILL');
    await child;
    assert.ok(isAlive(orphan), 'the postmaster was expected to outlive the daemon');

    const again = await cycle(dataDir, socketDir);
    assert.ok(again.ok, again.message);
    assert.match(again.stderr, /still running: stopping it/);
    assert.ok(!isAlive(orphan), `the old postmaster ${orphan} is still running`);
    timings.push(`start after crash ${ms(again.timings!.totalMs)}`);
  });

  it('starts despite a stale postmaster.pid, even when its pid now belongs to another live process', async () => {
    const { dataDir, socketDir } = dirsFor('stale');
    assert.ok((await cycle(dataDir, socketDir)).ok);
    const pidFile = path.join(dataDir, 'postmaster.pid');
    const staleLines = (pid: number) =>
      `${pid}\n${dataDir}\n1700000000\n5432\n${socketDir}\n\n  5432001     32768\nready   \n`;

    // A pid that is dead (beyond pid_max on any default system).
    fs.writeFileSync(pidFile, staleLines(4_194_303 + 1));
    if (user) fs.chownSync(pidFile, user.uid, user.gid);
    const dead = await cycle(dataDir, socketDir);
    assert.ok(dead.ok, dead.message);

    // The pid was reused by an unrelated process of the same user: postgres alone would refuse.
    const squatter = execa('sleep', ['60'], { reject: false, ...(user ? { uid: user.uid, gid: user.gid } : {}) });
    try {
      fs.writeFileSync(pidFile, staleLines(squatter.pid!));
      fs.writeFileSync(path.join(socketDir, '.s.PGSQL.5432.lock'), staleLines(squatter.pid!));
      if (user) {
        fs.chownSync(pidFile, user.uid, user.gid);
        fs.chownSync(path.join(socketDir, '.s.PGSQL.5432.lock'), user.uid, user.gid);
      }
      const reused = await cycle(dataDir, socketDir);
      assert.ok(reused.ok, reused.message);
      assert.ok(isAlive(squatter.pid!), 'the unrelated process was signalled');
    } finally {
      squatter.kill('SIGKILL');
      await squatter;
    }
  });

  it('puts the end of the server log into the error when the server does not start', async () => {
    const { dataDir, socketDir } = dirsFor('broken');
    assert.ok((await cycle(dataDir, socketDir)).ok);
    fs.appendFileSync(path.join(dataDir, 'postgresql.auto.conf'), "shared_buffers = 'lots'\n");
    const failed = await cycle(dataDir, socketDir);
    assert.equal(failed.ok, false);
    assert.equal(failed.code, 'PG_START_FAILED');
    assert.match(
      failed.message!,
      /last lines of .*postgres\.log:\n.*invalid value for parameter "shared_buffers": "lots"/s,
    );
  });

  it('refuses a socket directory whose socket path would be too long', async () => {
    const { dataDir } = dirsFor('long');
    const failed = await cycle(dataDir, path.join(base, 'x'.repeat(100)));
    assert.equal(failed.code, 'PG_SOCKET_PATH_TOO_LONG');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A stopped postmaster whose parent (init, in a container perhaps not a reaping one) has not reaped it yet.
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function ms(n: number): string {
  return `${Math.round(n)} ms`;
}
