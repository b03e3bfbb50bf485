/**
 * `debyard worker`: a build worker on another host (issue 8, part 4). It shares the packager's
 * PostgreSQL and takes `build` jobs from the packager's graphile-worker queue with its own slots, so
 * a build goes to whichever builder (the packager's slots or a worker's) is free first. It needs the
 * packager's chroots under the same names (a schroot chroot of that name, or the tarball at that path).
 *
 * Per build: start it over the packager's HTTP (the packager marks it BUILDING on this worker), fetch
 * its source and apt keys, run sbuild and QA in `<data-dir>/builds/<id>`, send the log as it grows
 * (every second; the answer carries a cancel), upload the result files and post the result. Calls to
 * the packager are retried while it is down (a restart), up to {@link PACKAGER_PATIENCE_MS}.
 *
 * The worker keeps its `worker_process` row fresh every {@link HEARTBEAT_MS}: a worker killed
 * mid-build stops doing so, and the packager's sweep puts its builds back in the queue. A clean stop
 * (SIGTERM) cancels running builds, hands them back to the queue and deletes the row.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { Logger as GraphileLogger, run, type JobHelpers, type Runner, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import type { Logger } from '../log.js';
import { TASKS } from '../jobs/queue.js';
import { BuildResult, QaResult } from './build.entity.js';
import type { BuildSpec } from './build-spec.js';
import { runQa, shellQuote } from './build.service.js';
import { resultOf, sbuildArgs, startSbuild, type SbuildRun } from './sbuild.js';
import type { WorkerBuildResult, WorkerBuildStart } from './worker-builds.js';
import { WORKER_API_PATH } from './worker-builds.js';

const HEARTBEAT_MS = 5000;
const LOG_INTERVAL_MS = 1000;
/** How long a call to the packager is retried while it does not answer (it restarts). */
const PACKAGER_PATIENCE_MS = 10 * 60_000;

export interface WorkerOptions {
  databaseUrl: string;
  /** The packager's HTTP base URL, e.g. http://ernie:8066. */
  packagerUrl: string;
  /** An ADMIN token of the packager. */
  token: string;
  dataDir: string;
  slots: number;
  name: string;
  logger: Logger;
}

/** The packager said no: the build is not (or no longer) this worker's. */
export class PackagerRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Slot {
  run: SbuildRun | null;
  cancelledBy: string | null;
  /** The worker is stopping: the build goes back to the queue. */
  requeue: boolean;
}

export class BuildWorker {
  private readonly pool: pg.Pool;
  private runner: Runner | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly poolIds = new Set<string>();
  private readonly running = new Map<number, Slot>();
  private readonly base: string;

  constructor(private readonly opts: WorkerOptions) {
    this.pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 4 });
    this.pool.on('error', (err) => opts.logger.warn({ err }, 'database connection failed'));
    // graphile-worker wants every pooled client's errors handled too.
    this.pool.on('connect', (client) =>
      client.on('error', (err) => opts.logger.warn({ err }, 'database connection failed')),
    );
    this.base = opts.packagerUrl.replace(/\/+$/, '') + WORKER_API_PATH;
  }

  async start(): Promise<void> {
    const { opts } = this;
    const [other] = (
      await this.pool.query<{ host: string; pid: number }>(
        `select host, pid from worker_process where name = $1 and last_seen_at > now() - interval '30 seconds'
            and not (host = $2 and pid = $3)`,
        [opts.name, os.hostname(), process.pid],
      )
    ).rows;
    if (other)
      throw new Error(
        `a worker named ${opts.name} runs on ${other.host} (pid ${other.pid}); give this one another --name`,
      );
    await this.beat();
    const events: WorkerEvents = new EventEmitter() as WorkerEvents;
    // graphile-worker 0.17 locks jobs by the pool's id (not the single worker's): that is what the
    // packager releases when this process dies.
    events.on('pool:create', ({ workerPool }) => {
      this.poolIds.add(workerPool.id);
      void this.beat().catch((err) => this.opts.logger.warn({ err }, 'the heartbeat failed'));
    });
    const log = opts.logger.child({ component: 'jobs' });
    this.runner = await run({
      pgPool: this.pool,
      concurrency: opts.slots,
      noHandleSignals: true,
      pollInterval: 2000,
      events,
      logger: new GraphileLogger(() => (level, message, meta) => {
        const fn = level === 'error' ? log.error : level === 'warning' ? log.warn : log.debug;
        fn.call(log, meta ?? {}, message);
      }),
      taskList: { [TASKS.BUILD]: (payload, helpers) => this.runJob(payload, helpers) },
    });
    await this.beat();
    this.heartbeat = setInterval(
      () => void this.beat().catch((err) => opts.logger.warn({ err }, 'the heartbeat failed')),
      HEARTBEAT_MS,
    );
    opts.logger.info({ name: opts.name, slots: opts.slots, packager: opts.packagerUrl }, 'the worker takes builds');
  }

  /** Cancels running builds (they go back to the queue), stops taking jobs and deletes its row. */
  async stop(): Promise<void> {
    for (const slot of this.running.values()) {
      slot.requeue = true;
      slot.run?.cancel();
    }
    await this.runner?.stop();
    this.runner = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.pool.query(`delete from worker_process where name = $1`, [this.opts.name]).catch(() => undefined);
    await this.pool.end();
  }

  /** Resolves when the runner ends (it only does through stop()). */
  get promise(): Promise<void> {
    return this.runner?.promise ?? Promise.resolve();
  }

  private async beat(): Promise<void> {
    await this.pool.query(
      `insert into worker_process (name, host, pid, slots, pool_ids, started_at, last_seen_at)
            values ($1, $2, $3, $4, $5::json, now(), now())
       on conflict (name) do update set host = excluded.host, pid = excluded.pid, slots = excluded.slots,
            pool_ids = excluded.pool_ids, last_seen_at = now(),
            started_at = case when worker_process.pid = excluded.pid and worker_process.host = excluded.host
                              then worker_process.started_at else now() end`,
      [this.opts.name, os.hostname(), process.pid, this.opts.slots, JSON.stringify([...this.poolIds])],
    );
  }

  private async runJob(raw: unknown, helpers: JobHelpers): Promise<void> {
    const id = Number((raw as { id?: unknown }).id);
    let start: WorkerBuildStart;
    try {
      start = await this.call<WorkerBuildStart>('POST', `/builds/${id}/start`, { worker: this.opts.name });
    } catch (err) {
      if (err instanceof PackagerRefusal && err.status === 409) return; // ended or cancelled meanwhile
      throw err;
    }
    const slot: Slot = { run: null, cancelledBy: null, requeue: false };
    this.running.set(id, slot);
    const onAbort = () => {
      slot.requeue = true;
      slot.run?.cancel();
    };
    helpers.abortSignal.addEventListener('abort', onAbort);
    const dir = path.join(this.opts.dataDir, 'builds', String(id));
    try {
      await this.build(start, slot, dir);
    } finally {
      helpers.abortSignal.removeEventListener('abort', onAbort);
      this.running.delete(id);
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  private async build(start: WorkerBuildStart, slot: Slot, dir: string): Promise<void> {
    const { id } = start;
    const worker = this.opts.name;
    await fsp.rm(dir, { recursive: true, force: true });
    const sourceDir = path.join(dir, 'source');
    const out = path.join(dir, 'out');
    const keyDir = path.join(dir, 'keys');
    for (const d of [sourceDir, out, keyDir]) await fsp.mkdir(d, { recursive: true });
    for (const file of start.sources)
      await this.download(`/builds/${id}/source/${encodeURIComponent(file)}`, path.join(sourceDir, file));
    const keyPaths = new Map<string, string>();
    for (const [i, [original, armored]] of Object.entries(start.keys).entries()) {
      const file = path.join(keyDir, `key-${i}.asc`);
      await fsp.writeFile(file, armored);
      keyPaths.set(original, file);
    }
    const packager = this.opts.packagerUrl.replace(/\/+$/, '');
    const spec: BuildSpec = {
      ...start.spec,
      dsc: path.join(sourceDir, path.basename(start.spec.dsc)),
      extraRepositories: start.spec.extraRepositories.map((r) => ({
        line: start.loopbackUrl ? r.line.split(start.loopbackUrl).join(packager) : r.line,
        keyFile: r.keyFile ? (keyPaths.get(r.keyFile) ?? '') : '',
      })),
      extraKeys: (start.spec.extraKeys ?? []).map((k) => keyPaths.get(k) ?? k),
    };
    const log = path.join(dir, 'build.log');
    await fsp.writeFile(
      log,
      `debyard: building ${start.source} ${start.version} for ${start.distribution} on ${start.architecture}` +
        `${start.archAll ? ' (with arch-all)' : ''} in ${start.chroot}, attempt ${start.attempt}, on the worker ${worker} (${os.hostname()})\n` +
        `debyard: sbuild ${sbuildArgs(spec).map(shellQuote).join(' ')}\n`,
    );

    // The log goes to the packager while the build runs; its answer says whether to cancel.
    let sent = 0;
    let sending: Promise<void> = Promise.resolve();
    const sendLog = () =>
      (sending = sending.then(async () => {
        // Sent every second even when the log did not grow (a long, quiet step): the answer carries a cancel.
        const size = (await fsp.stat(log)).size;
        const fd = await fsp.open(log, 'r');
        const chunk = Buffer.alloc(Math.max(0, Math.min(size - sent, 4 << 20)));
        try {
          await fd.read(chunk, 0, chunk.length, sent);
        } finally {
          await fd.close();
        }
        const answer = await this.call<{ size: number; cancel: string | null }>(
          'POST',
          `/builds/${id}/log?worker=${encodeURIComponent(worker)}&offset=${sent}`,
          chunk,
        );
        sent = answer.size;
        if (answer.cancel && !slot.cancelledBy) {
          slot.cancelledBy = answer.cancel;
          slot.run?.cancel();
        }
      }));
    const pump = setInterval(
      () =>
        void sendLog().catch((err) =>
          this.opts.logger.warn({ err: (err as Error).message, build: id }, 'sending the log failed'),
        ),
      LOG_INTERVAL_MS,
    );
    let result: WorkerBuildResult;
    try {
      await sendLog();
      if (slot.cancelledBy) throw new Cancelled();
      const sbuild = startSbuild(spec, { workDir: out, logFile: log });
      slot.run = sbuild;
      if (slot.requeue || slot.cancelledBy) sbuild.cancel();
      const outcome = await sbuild.result;
      if (slot.requeue && !slot.cancelledBy) {
        clearInterval(pump);
        await sendLog().catch(() => undefined);
        await this.call('POST', `/builds/${id}/requeue`, { worker, why: `the worker ${worker} is stopping` });
        throw new Error('the worker is stopping: the build goes back to the queue');
      }
      let { result: r, failStage, reason } = resultOf(outcome, slot.cancelledBy !== null);
      result = {
        worker,
        result: r,
        failStage,
        reason,
        sbuildSeconds: outcome.seconds,
        qaSeconds: null,
        lintian: QaResult.NOT_RUN,
        autopkgtest: QaResult.NOT_RUN,
      };
      if (r === BuildResult.SUCCESSFUL && outcome.changesFile) {
        const qa = await runQa(spec, out, outcome.changesFile, log);
        Object.assign(result, { lintian: qa.lintian, autopkgtest: qa.autopkgtest, qaSeconds: qa.seconds });
        if (qa.failed) [r, failStage, reason] = [BuildResult.FAILED, qa.failed.stage, qa.failed.reason];
      }
      if (slot.cancelledBy) reason = `cancelled by ${slot.cancelledBy} while building on the worker ${worker}`;
      Object.assign(result, { result: r, failStage, reason });
      await fsp.appendFile(log, `\ndebyard: ${r}${failStage ? ` (${failStage})` : ''}: ${reason}\n`);
    } catch (err) {
      if (!(err instanceof Cancelled)) throw err;
      result = {
        worker,
        result: BuildResult.CANCELLED,
        failStage: null,
        reason: `cancelled by ${slot.cancelledBy} before sbuild started`,
        sbuildSeconds: null,
        qaSeconds: null,
        lintian: QaResult.NOT_RUN,
        autopkgtest: QaResult.NOT_RUN,
      };
    } finally {
      clearInterval(pump);
    }
    await sendLog();
    if (result.result === BuildResult.SUCCESSFUL || result.result === BuildResult.FAILED)
      for (const entry of await fsp.readdir(out, { withFileTypes: true }))
        if (entry.isFile() && !entry.name.startsWith('.'))
          await this.upload(
            `/builds/${id}/out/${encodeURIComponent(entry.name)}?worker=${encodeURIComponent(worker)}`,
            path.join(out, entry.name),
          );
    await this.call('POST', `/builds/${id}/result`, result);
  }

  /** A call to the packager's worker API, retried while the packager does not answer. */
  private async call<T>(method: string, route: string, body?: object | Buffer): Promise<T> {
    const res = await this.fetch(route, () => ({
      method,
      headers: {
        authorization: `Bearer ${this.opts.token}`,
        'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json',
      },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    }));
    return (await res.json()) as T;
  }

  private async download(route: string, file: string): Promise<void> {
    const res = await this.fetch(route, () => ({ headers: { authorization: `Bearer ${this.opts.token}` } }));
    await fsp.writeFile(file, Buffer.from(await res.arrayBuffer()));
  }

  private async upload(route: string, file: string): Promise<void> {
    await this.fetch(route, () => ({
      method: 'PUT',
      headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(fs.createReadStream(file)) as ReadableStream,
      duplex: 'half',
    }));
  }

  /** fetch with retries on network errors and 5xx; a 4xx is the packager's refusal (PackagerRefusal). */
  private async fetch(route: string, init: () => RequestInit & { duplex?: 'half' }): Promise<Response> {
    const until = Date.now() + PACKAGER_PATIENCE_MS;
    for (let wait = 500; ; wait = Math.min(wait * 2, 10_000)) {
      let problem: string;
      try {
        const res = await fetch(this.base + route, init());
        if (res.ok) return res;
        const text = await res.text();
        let parsed: { code?: string; message?: string } = {};
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          // not the API's JSON: a proxy, say
        }
        if (res.status < 500) throw new PackagerRefusal(res.status, parsed.code ?? 'REFUSED', parsed.message ?? text);
        problem = `${res.status} ${parsed.message ?? text}`;
      } catch (err) {
        if (err instanceof PackagerRefusal) throw err;
        problem = (err as Error).message;
      }
      if (Date.now() > until)
        throw new Error(`the packager (${this.opts.packagerUrl}) did not answer ${route}: ${problem}`);
      this.opts.logger.warn({ route, problem }, 'the packager did not answer; trying again');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

class Cancelled extends Error {}
