#!/usr/bin/env node
// Start-up benchmark: time from spawning `debyard serve` to its first answer to `status`, cold (a fresh
// data directory, so the managed PostgreSQL cluster is initialised from scratch) and warm (the same
// data directory again), and the idle memory of the daemon plus its managed database.
//
//   node bench/startup.mjs [--runs N] [--idle S] [--verbose]
//
// Targets (DESIGN.md / the issue): warm start under 3 s, daemon + database idle under 250 MB (judged
// on PSS). It prints ratios and exits 0 whatever they are; non-zero only if the daemon fails.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(REPO, 'server/dist/main.js');
const WARM_TARGET_S = 3;
const MEMORY_TARGET_MB = 250;
const POLL_MS = 10;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const STATUS_QUERY = '{ status { version identity engineRunning } }';

function parseArgs(argv) {
  const opts = { runs: 5, idle: 5, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`${arg} needs a non-negative number`);
      return v;
    };
    if (arg === '--runs') opts.runs = Math.floor(value());
    else if (arg === '--idle') opts.idle = value();
    else if (arg === '--verbose' || arg === '-v') opts.verbose = true;
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  return opts;
}

function usage(error) {
  const text =
    'usage: node bench/startup.mjs [--runs N] [--idle SECONDS] [--verbose]\n' +
    '  --runs N       warm runs after the one cold run (default 5)\n' +
    '  --idle S       seconds the daemon idles before its memory is read (default 5)\n' +
    '  --verbose      print the daemon log of every run with offsets from the spawn\n';
  if (error) {
    process.stderr.write(`${error}\n${text}`);
    process.exit(2);
  }
  process.stdout.write(text);
  process.exit(0);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nobody listens on right now (on the loopback interface). */
function freePort(port = 0) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: got } = server.address();
      server.close(() => resolve(got));
    });
  });
}

/** Ten consecutive free ports for FTP passive mode. */
async function passiveRange() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = 30_000 + Math.floor(Math.random() * 2000) * 10;
    const free = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        freePort(min + i).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (free.every(Boolean)) return `${min}-${min + 9}`;
  }
  throw new Error('found no run of 10 free ports for FTP passive mode');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;

// ---------------------------------------------------------------------------------------------------
// /proc: the daemon's process tree and the managed postmaster's, and their memory

function procStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

function alive(pid) {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** pid and every descendant of it. */
function processTree(root) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (!stat) continue;
    const pid = Number(entry);
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push(pid);
  }
  const out = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift();
    if (!alive(pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** The running postmaster of the cluster in pgDir, if any (pg_ctl daemonises it away from the daemon). */
function postmasterOf(pgDir) {
  let pid;
  try {
    pid = Number(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const d = argv.indexOf('-D');
    if (d >= 0 && path.resolve(argv[d + 1]) === path.resolve(pgDir)) return pid;
  } catch {
    // gone meanwhile
  }
  return undefined;
}

/** Rss and Pss in kB from /proc/PID/smaps_rollup (zero for a process that is gone). */
function memoryOf(pid) {
  const mem = { rss: 0, pss: 0 };
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    mem.rss = Number(/^Rss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
    mem.pss = Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
  } catch {
    // gone meanwhile
  }
  return mem;
}

function measureMemory(daemonPid, pgDir) {
  const sum = (pids) =>
    pids.map(memoryOf).reduce((a, m) => ({ rss: a.rss + m.rss, pss: a.pss + m.pss }), { rss: 0, pss: 0 });
  const daemonPids = processTree(daemonPid);
  const postmaster = postmasterOf(pgDir);
  const pgPids = postmaster ? processTree(postmaster).filter((p) => !daemonPids.includes(p)) : [];
  const daemon = sum(daemonPids);
  const database = sum(pgPids);
  return {
    daemon,
    database,
    total: { rss: daemon.rss + database.rss, pss: daemon.pss + database.pss },
    processes: { daemon: daemonPids.length, database: pgPids.length },
  };
}

// ---------------------------------------------------------------------------------------------------
// One daemon run

/** Everything started and not yet cleaned up, for the exit and signal paths. */
const live = { daemons: new Set(), dirs: new Set(), interrupted: false };

class Daemon {
  constructor(dataDir) {
    this.dataDir = dataDir;
    this.pgDir = path.join(dataDir, 'postgres');
    this.log = [];
    this.stderr = '';
  }

  async start() {
    if (live.interrupted) throw new Error('interrupted');
    const [http, ftp, passive] = [await freePort(), await freePort(), await passiveRange()];
    this.url = `http://127.0.0.1:${http}/graphql`;
    const env = { ...process.env, DEBYARD_LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    const args = [
      MAIN,
      'serve',
      '--data-dir',
      this.dataDir,
      '--http',
      `127.0.0.1:${http}`,
      '--ftp',
      `127.0.0.1:${ftp}`,
      '--ftp-passive-ports',
      passive,
    ];
    this.spawnedAt = Date.now();
    const t0 = performance.now();
    this.proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    live.daemons.add(this);
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    this.proc.once('error', (err) => (this.stderr += `spawn failed: ${err.message}\n`));
    let pending = '';
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (chunk) => {
      this.stderr += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        try {
          const entry = JSON.parse(line);
          this.log.push({ ...entry, offsetMs: entry.time - this.spawnedAt });
        } catch {
          this.log.push({ msg: line, offsetMs: Date.now() - this.spawnedAt });
        }
      }
    });
    let exited;
    void this.exited.then((e) => (exited = e));
    const deadline = t0 + START_TIMEOUT_MS;
    for (;;) {
      if (exited) throw this.failure(`exited (code ${exited.code}, signal ${exited.signal}) before answering status`);
      if (performance.now() > deadline) throw this.failure(`did not answer status within ${START_TIMEOUT_MS} ms`);
      const status = await this.status();
      if (status) {
        this.startMs = performance.now() - t0;
        this.statusAt = Date.now();
        this.statusAnswer = status;
        return this.startMs;
      }
      await sleep(POLL_MS);
    }
  }

  async status() {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: STATUS_QUERY }),
        signal: AbortSignal.timeout(2000),
      });
      if (!res.ok) return undefined;
      const body = await res.json();
      return body?.data?.status ?? undefined;
    } catch {
      return undefined;
    }
  }

  failure(what) {
    return new Error(`debyard serve ${what}; its output:\n${this.stderr}`);
  }

  /** SIGTERM and wait; SIGKILL (and the orphaned postmaster) only if it hangs. Returns exit and time. */
  async stop() {
    if (!this.proc) return undefined;
    const started = Date.now();
    const postmaster = postmasterOf(this.pgDir);
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (!result) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
    // The daemon stops its PostgreSQL; after a failure or a kill the postmaster may be left behind.
    const leftover = postmasterOf(this.pgDir) ?? (postmaster && alive(postmaster) ? postmaster : undefined);
    if (leftover) {
      process.kill(leftover, 'SIGQUIT');
      for (let i = 0; i < 100 && alive(leftover); i++) await sleep(50);
    }
    live.daemons.delete(this);
    return { code: result?.code ?? null, signal: result?.signal ?? 'SIGKILL', ms: Date.now() - started, leftover };
  }

  /** Log milestones as offsets from the spawn, for "where the time goes". */
  phases() {
    const at = (re) => this.log.find((e) => re.test(e.msg ?? ''))?.offsetMs;
    const first = this.log[0]?.offsetMs;
    const dbUp = at(/^PostgreSQL (cluster created and )?started/);
    const statusMs = this.statusAt - this.spawnedAt;
    return {
      'node start-up, module loading': first,
      'managed PostgreSQL': dbUp !== undefined && first !== undefined ? dbUp - first : undefined,
      'ORM, schema, HTTP up (to status)': dbUp !== undefined ? statusMs - dbUp : undefined,
      '"is ready" logged at': at(/is ready$/),
    };
  }

  printLog() {
    for (const e of this.log) {
      const { level: _l, time: _t, msg, offsetMs, ...rest } = e;
      const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
      console.log(`    +${String(offsetMs).padStart(5)} ms  ${msg}${extra}`);
    }
    console.log(`    +${String(this.statusAt - this.spawnedAt).padStart(5)} ms  (status answered)`);
  }
}

// ---------------------------------------------------------------------------------------------------

async function cleanup() {
  for (const d of [...live.daemons]) await d.stop().catch(() => undefined);
  for (const dir of [...live.dirs]) {
    fs.rmSync(dir, { recursive: true, force: true });
    live.dirs.delete(dir);
  }
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    live.interrupted = true;
    console.error(`\n${sig}: stopping the daemon and removing the data directory`);
    cleanup().finally(() => process.exit(130));
  });
}

async function run(label, dataDir, opts) {
  const daemon = new Daemon(dataDir);
  try {
    await daemon.start();
    await sleep(opts.idle * 1000);
    const memory = measureMemory(daemon.proc.pid, daemon.pgDir);
    const stopped = await daemon.stop();
    console.log(
      `${label.padEnd(7)} start to status ${secs(daemon.startMs)}  ` +
        `idle after ${opts.idle} s: PSS ${mb(memory.total.pss)} (daemon ${mb(memory.daemon.pss)}, ` +
        `database ${mb(memory.database.pss)} in ${memory.processes.database} processes), RSS ${mb(memory.total.rss)}  ` +
        `stop ${secs(stopped.ms)} exit ${stopped.code ?? stopped.signal}`,
    );
    if (daemon.statusAnswer.engineRunning !== true)
      console.log('        note: the first status answer had engineRunning false (HTTP is up before the engine)');
    if (memory.processes.database === 0)
      console.log('        note: no running postmaster found for the data directory');
    if (stopped.code !== 0)
      console.log(`        note: SIGTERM did not end with exit 0 (${stopped.code ?? stopped.signal})`);
    if (stopped.leftover) console.log(`        note: the postmaster (pid ${stopped.leftover}) outlived the daemon`);
    if (opts.verbose) daemon.printLog();
    return { startMs: daemon.startMs, memory, phases: daemon.phases(), daemon };
  } catch (err) {
    await daemon.stop().catch(() => undefined);
    throw err;
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: build the server first (npm run build -w server)`);
  // The daemon drops to the `debyard` user as root: the data directory's parent must be enterable.
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-bench-'));
  live.dirs.add(parent);
  fs.chmodSync(parent, 0o755);
  const dataDir = path.join(parent, 'data');

  console.log(
    `debyard start-up benchmark: 1 cold + ${opts.runs} warm runs, memory after ${opts.idle} s idle ` +
      `(${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}, node ${process.version})`,
  );
  const cold = await run('cold', dataDir, opts);
  const warm = [];
  for (let i = 1; i <= opts.runs; i++) warm.push(await run(`warm ${i}`, dataDir, opts));

  const all = [cold, ...warm];
  const memRuns = warm.length ? warm : all;
  const pss = median(memRuns.map((r) => r.memory.total.pss));
  const rss = median(memRuns.map((r) => r.memory.total.rss));
  const part = (name, kind) => mb(median(memRuns.map((r) => r.memory[name][kind])));

  console.log('\nwhere the time goes (from the daemon log timestamps):');
  const phaseNames = Object.keys(cold.phases);
  console.log(`  ${''.padEnd(34)}${'cold'.padStart(9)}${warm.length ? 'warm median'.padStart(14) : ''}`);
  for (const name of phaseNames) {
    const c = cold.phases[name];
    const w = warm.map((r) => r.phases[name]).filter((x) => x !== undefined);
    const fmt = (ms) => (ms === undefined ? '?' : `${Math.round(ms)} ms`);
    console.log(
      `  ${name.padEnd(34)}${fmt(c).padStart(9)}${warm.length ? fmt(w.length ? median(w) : undefined).padStart(14) : ''}`,
    );
  }

  console.log('');
  console.log(`cold start to status: ${secs(cold.startMs)}`);
  if (warm.length) {
    const starts = warm.map((r) => r.startMs);
    const med = median(starts);
    console.log(
      `warm start to status: median ${secs(med)} (max ${secs(Math.max(...starts))})  ` +
        `target ${WARM_TARGET_S} s  ratio ${(med / 1000 / WARM_TARGET_S).toFixed(2)}`,
    );
  }
  console.log(
    `idle memory (daemon + database): PSS ${mb(pss)}, RSS ${mb(rss)}  target ${MEMORY_TARGET_MB} MB  ` +
      `ratio ${(pss / 1024 / MEMORY_TARGET_MB).toFixed(2)}  ` +
      `(daemon PSS ${part('daemon', 'pss')} RSS ${part('daemon', 'rss')}, database PSS ${part('database', 'pss')} ` +
      `RSS ${part('database', 'rss')}; ${warm.length ? 'median of warm runs' : 'cold run'})`,
  );
}

main()
  .then(() => cleanup())
  .catch(async (err) => {
    console.error(`\nbenchmark failed: ${err.message}`);
    await cleanup();
    process.exit(1);
  });
