import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import {
  run,
  runMigrations,
  type JobHelpers,
  type Logger as WorkerLogger,
  type Runner,
  type TaskList,
} from 'graphile-worker';
import { Logger as GraphileLogger } from 'graphile-worker';
import { execa } from 'execa';
import pg from 'pg';
import pgConnectionString from 'pg-connection-string';
import type { EngineComponent } from '../engine/engine.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { ChrootBackend } from '../chroot/chroot.entity.js';
import { sessionsOf } from '../chroot/chroot-helper.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { addJob, removePendingJob, TASKS } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import { Build, BuildResult, BuildState, QaResult } from './build.entity.js';
import { planBuild, type PlanContext } from './build-plan.js';
import type { BuildSpec } from './build-spec.js';
import { fetchSource } from './dsc.js';
import { runAutopkgtest, runLintian } from './qa.js';
import { liveWorkers, WorkerProcess } from './worker-process.entity.js';
import { endBuildSteps, resultOf, sbuildArgs, startSbuild, type SbuildRun } from './sbuild.js';

/** A build is re-queued after a crash at most this often, then it fails with the reason. */
const MAX_ATTEMPTS = 3;
const LOG_FILE = 'build.log';

export interface BuildServiceOptions {
  orm: MikroORM;
  events: EventService;
  databaseUrl: string;
  dataDir: string;
  /** Names this builder in builds and logs. */
  builderName: string;
  plan: Omit<PlanContext, 'slots' | 'dataDir'>;
  logger: Logger;
  /** Ends stale chroot sessions and temporary build directories of this instance. */
  cleanupAfterCrash(): Promise<void>;
  /** Extra scheduled tasks (e.g. the daily chroot refresh), by name, with their crontab lines. */
  schedules?: { name: string; crontab: string; run(): Promise<void> }[];
}

interface Running {
  /** The schroot name or tarball it builds in. */
  chroot: string;
  run: SbuildRun | null;
  cancelledBy: string | null;
  /** The daemon is stopping: the build goes back to the queue. */
  requeue: boolean;
}

export interface BuildFilter {
  state?: BuildState | null;
  result?: BuildResult | null;
  source?: string | null;
  distribution?: string | null;
  architecture?: string | null;
}

export interface BuilderSample {
  at: Date;
  load: number;
  queued: number;
}

/**
 * The builder: builds are rows plus graphile-worker jobs queued in the same transaction, taken by a
 * worker pool with one slot per `maxParallelBuilds`. Each build runs sbuild in `<data>/builds/<id>/`,
 * then QA, and ends with a result and an event. Cancel, retry and crash recovery live here too.
 */
export class BuildService {
  private readonly pool: pg.Pool;
  private runner: Runner | null = null;
  private otherRunner: Runner | null = null;
  /** Tasks of the other parts of the engine (the upload pipeline), run on the second pool. */
  private otherTasks: TaskList = {};
  /** Pools of their own (mail), so that slow work there never holds a slot of uploads or builds. */
  private readonly ownPools: { tasks: TaskList; concurrency: number; cancel?: () => void; runner: Runner | null }[] =
    [];
  private slotCount = 1;
  private readonly running = new Map<number, Running>();
  /** Runs in the transaction that ends a build (the upload pipeline queues the install from there). */
  onFinished: ((tx: EntityManager, build: Build) => Promise<void>) | null = null;
  /**
   * Runs in the transaction that queues a build: returns true when it takes the build (to choose among
   * this instance and its remotes); otherwise the build is queued for a local slot.
   */
  onEnqueue: ((tx: EntityManager, build: Build) => Promise<boolean>) | null = null;

  constructor(private readonly opts: BuildServiceOptions) {
    const c = pgConnectionString.parse(opts.databaseUrl);
    this.pool = new pg.Pool({
      host: c.host ?? undefined,
      port: c.port ? Number(c.port) : undefined,
      user: c.user || undefined,
      password: c.password || undefined,
      database: c.database ?? undefined,
      // Each worker pool holds a LISTEN connection: builds, the rest, mail, deliveries, plus room for jobs.
      max: 8,
    });
    this.pool.on('error', (err) => opts.logger.warn({ err }, 'job queue connection failed'));
    // graphile-worker wants every pooled client's errors handled too (else it warns at start).
    this.pool.on('connect', (client) =>
      client.on('error', (err) => opts.logger.warn({ err }, 'job queue connection failed')),
    );
  }

  /** Adds tasks to the second worker pool (before the engine starts). */
  addTasks(tasks: TaskList): void {
    Object.assign(this.otherTasks, tasks);
  }

  /**
   * Adds a worker pool of its own for `tasks` (before the engine starts); `cancel` ends its running jobs
   * when the engine stops (the runner waits for them).
   */
  addPool(tasks: TaskList, concurrency: number, cancel?: () => void): void {
    this.ownPools.push({ tasks, concurrency, cancel, runner: null });
  }

  get slots(): number {
    return this.slotCount;
  }

  get busy(): number {
    return this.running.size;
  }

  /** Busy slots / slots, never above 1. */
  get load(): number {
    return Math.min(1, this.running.size / Math.max(1, this.slotCount));
  }

  buildDir(id: number): string {
    return path.join(this.opts.dataDir, 'builds', String(id));
  }

  logPath(id: number): string {
    return path.join(this.buildDir(id), LOG_FILE);
  }

  /**
   * Installs the queue's schema and recovers from a crash: jobs locked by a dead worker are unlocked,
   * builds left BUILDING go back to the queue (or fail after MAX_ATTEMPTS), leftover sbuild processes,
   * schroot sessions and temporary directories are removed. One daemon per database (the instance lock).
   */
  async init(): Promise<void> {
    await runMigrations({ pgPool: this.pool, logger: this.workerLogger() });
    const em = this.opts.orm.em.fork();
    // Jobs of live workers (`debyard worker`) stay theirs; the rest were this daemon's or a dead worker's.
    const live = await liveWorkers(em);
    await this.pool.query(
      `select graphile_worker.force_unlock_workers(array(select distinct locked_by from graphile_worker._private_jobs
          where locked_by is not null and not (locked_by = any($1::text[]))))`,
      [live.flatMap((w) => w.poolIds)],
    );
    // Builds sent to another instance go on there (the dispatcher watches them), and so do those of live workers.
    const stuck = await em.find(Build, {
      state: BuildState.BUILDING,
      sentTo: null,
      builder: { $nin: live.map((w) => w.name) },
    });
    for (const build of stuck) await killLeftover(build.pid, this.opts.logger);
    // A live worker on this host builds in the same chroots: its sessions would look like ours.
    const neighbour = live.find((w) => w.host === os.hostname());
    if (neighbour)
      this.opts.logger.info(
        { worker: neighbour.name },
        'a build worker runs on this host: schroot sessions and sbuild directories are not cleaned up now',
      );
    else
      await this.opts
        .cleanupAfterCrash()
        .catch((err) => this.opts.logger.warn({ err }, 'cleaning up after a crash failed'));
    for (const build of stuck)
      await this.requeueOrFail(build.id, 'the daemon stopped during the build (restart or crash)');
  }

  /** The worker pool, as a part of the engine: stopping it ends running builds and puts them back in the queue. */
  component(): EngineComponent {
    return {
      name: 'builders',
      start: async () => {
        const em = this.opts.orm.em.fork();
        const daemon = await em.findOne(DaemonConfig, 1);
        this.slotCount = Math.max(1, daemon?.maxParallelBuilds ?? 1);
        this.runner = await run({
          pgPool: this.pool,
          concurrency: this.slotCount,
          noHandleSignals: true,
          pollInterval: 2000,
          logger: this.workerLogger(),
          taskList: { [TASKS.BUILD]: (payload, helpers) => this.runJob(payload, helpers) },
        });
        // Everything else (uploads, installs, schedules) on its own pool: it never waits for a build slot.
        const schedules = this.opts.schedules ?? [];
        this.otherRunner = await run({
          pgPool: this.pool,
          concurrency: 2,
          noHandleSignals: true,
          pollInterval: 2000,
          logger: this.workerLogger(),
          taskList: {
            ...this.otherTasks,
            ...Object.fromEntries(schedules.map((s) => [s.name, () => s.run()])),
          },
          crontab: schedules.map((s) => `${s.crontab} ${s.name}`).join('\n'),
        });
        for (const pool of this.ownPools)
          pool.runner = await run({
            pgPool: this.pool,
            concurrency: pool.concurrency,
            noHandleSignals: true,
            pollInterval: 2000,
            logger: this.workerLogger(),
            taskList: pool.tasks,
          });
      },
      stop: async () => {
        for (const r of this.running.values()) {
          r.requeue = true;
          r.run?.cancel();
        }
        for (const pool of this.ownPools) pool.cancel?.();
        await Promise.all([
          this.runner?.stop(),
          this.otherRunner?.stop(),
          ...this.ownPools.map((p) => p.runner?.stop()),
        ]);
        this.runner = null;
        this.otherRunner = null;
        for (const pool of this.ownPools) pool.runner = null;
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * Queues a build of an administrator's .dsc (a URL or an absolute path on this host) for one
   * distribution and architecture; it is built, never installed. The source is fetched and checked
   * first: a bad .dsc is refused with nothing left behind.
   */
  async testBuild(dsc: string, distribution: string, architecture: string, by: string): Promise<Build> {
    const em = this.opts.orm.em.fork();
    const target = await planBuild(
      em,
      { ...this.opts.plan, dataDir: this.opts.dataDir, slots: this.slotCount },
      distribution,
      architecture,
    );
    const staging = path.join(this.opts.dataDir, 'builds', `.incoming-${randomBytes(6).toString('hex')}`);
    const fetched = await fetchSource(dsc, staging);
    try {
      if (!target.archAll && fetched.architectures.every((a) => a === 'all'))
        throw new DomainError(
          'BAD_USER_INPUT',
          `${fetched.source} ${fetched.version} is Architecture: all only, and ${target.distribution} builds arch-all packages on another architecture than ${architecture}`,
          { field: 'architecture' },
        );
      return await em.transactional(async (tx) => {
        const build = tx.create(Build, {
          source: fetched.source,
          version: fetched.version,
          distribution: target.distribution,
          architecture: target.architecture,
          archAll: target.archAll,
          chroot: target.chrootKey,
          testBuild: true,
          requestedBy: by,
          spec: { ...target.spec, dsc: '' },
        });
        await tx.flush();
        build.spec = { ...build.spec, dsc: path.join(this.buildDir(build.id), 'source', path.basename(fetched.dsc)) };
        await fs.mkdir(this.buildDir(build.id), { recursive: true });
        await fs.rename(staging, path.join(this.buildDir(build.id), 'source'));
        await this.enqueue(tx, build, `test build of ${describeBuild(build)} queued by ${by}`);
        return build;
      });
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }

  /** Cancels a queued build at once, or a running one by SIGTERM to sbuild (recorded as cancelled). */
  async cancel(id: number, by: string): Promise<Build> {
    const em = this.opts.orm.em.fork();
    const build = await this.require(em, id);
    if (build.state === BuildState.BUILT)
      throw new DomainError('BUILD_STATE', `build ${id} has already ended (${build.result}); nothing to cancel`);
    const running = this.running.get(id);
    if (running) {
      running.cancelledBy = by;
      build.cancelRequestedBy = by;
      await em.flush();
      running.run?.cancel();
      return build;
    }
    if (
      build.state === BuildState.BUILDING &&
      build.builder &&
      (await em.findOne(WorkerProcess, { name: build.builder }))
    ) {
      // The worker reads it with its next piece of log (every second), cancels sbuild and posts the result.
      build.cancelRequestedBy = by;
      await em.flush();
      return build;
    }
    if (build.sentTo && build.state === BuildState.BUILDING) {
      await em.transactional(async (tx) => {
        build.cancelRequestedBy = by;
        await this.finish(
          tx,
          build,
          BuildResult.CANCELLED,
          null,
          `cancelled by ${by} while it was building on ${build.builder ?? build.sentTo}; its result will be refused`,
        );
      });
      return build;
    }
    await em.transactional(async (tx) => {
      const removed = await removePendingJob(tx, jobKey(id));
      if (!removed && build.state === BuildState.BUILDING)
        throw new DomainError('BUILD_STATE', `build ${id} runs on another builder; try again in a moment`);
      build.cancelRequestedBy = by;
      await this.finish(tx, build, BuildResult.CANCELLED, null, `cancelled by ${by} before it started`);
    });
    return build;
  }

  /** Queues a finished build again, from scratch (attempt + 1). */
  async retry(id: number, by: string): Promise<Build> {
    const em = this.opts.orm.em.fork();
    const build = await this.require(em, id);
    if (build.state !== BuildState.BUILT)
      throw new DomainError(
        'BUILD_STATE',
        `build ${id} is ${build.state.toLowerCase()}; only a finished build can be retried`,
      );
    if (!(await fs.stat(build.spec.dsc).catch(() => null)))
      throw new DomainError('BUILD_STATE', `the source of build ${id} is gone (${build.spec.dsc}); upload it again`);
    await em.transactional(async (tx) => {
      Object.assign(build, {
        state: BuildState.QUEUED,
        result: null,
        failStage: null,
        reason: null,
        cancelRequestedBy: null,
        queuedAt: new Date(),
        startedAt: null,
        finishedAt: null,
        sbuildSeconds: null,
        qaSeconds: null,
        lintian: QaResult.NOT_RUN,
        autopkgtest: QaResult.NOT_RUN,
        attempt: build.attempt + 1,
        requestedBy: by,
      });
      await this.enqueue(tx, build, `${describeBuild(build)} queued again by ${by} (attempt ${build.attempt})`);
    });
    return build;
  }

  async list(
    em: EntityManager,
    filter: BuildFilter,
    first: number,
    before?: number,
  ): Promise<{ nodes: Build[]; totalCount: number }> {
    const where: Record<string, unknown> = {};
    for (const k of ['state', 'result', 'source', 'distribution', 'architecture'] as const)
      if (filter[k] != null && filter[k] !== '') where[k] = filter[k];
    const totalCount = await em.count(Build, where);
    if (before !== undefined) where.id = { $lt: before };
    const nodes = await em.find(Build, where, { orderBy: { id: 'desc' }, limit: first });
    return { nodes, totalCount };
  }

  async queuedCount(em: EntityManager): Promise<number> {
    return em.count(Build, { state: BuildState.QUEUED });
  }

  /** Load and queue length over the last `hours`, in 60 samples, from the builds' own times. */
  async history(em: EntityManager, hours: number): Promise<BuilderSample[]> {
    const rows = await em.getConnection().execute<{ at: Date; busy: string; queued: string }[]>(
      `select t as at,
              (select count(*) from build b where b.started_at <= t and coalesce(b.finished_at, 'infinity') > t) as busy,
              (select count(*) from build b where b.queued_at <= t
                  and coalesce(b.started_at, b.finished_at, 'infinity') > t) as queued
         from generate_series(now() - make_interval(hours => ?), now(), make_interval(hours => ?) / 59) as t`,
      [hours, hours],
    );
    return rows.map((r) => ({
      at: new Date(r.at),
      load: Math.min(1, Number(r.busy) / this.slotCount),
      queued: Number(r.queued),
    }));
  }

  private async require(em: EntityManager, id: number): Promise<Build> {
    const build = await em.findOne(Build, id);
    if (!build) throw new DomainError('NOT_FOUND', `there is no build ${id}`);
    return build;
  }

  /**
   * Adds the job in the caller's transaction, so the build and its job exist together or not at all:
   * the dispatcher's (onEnqueue) when it takes the build, else one for a local slot.
   */
  async enqueue(tx: EntityManager, build: Build, summary: string, type = EventType.BUILD_QUEUED): Promise<void> {
    await tx.flush();
    if (!(build.forPackager || build.testBuild) && (await this.onEnqueue?.(tx, build))) {
      await this.opts.events.record(tx, type, summary, buildEventPayload(build));
      return;
    }
    await this.enqueueLocal(tx, build);
    await this.opts.events.record(tx, type, summary, buildEventPayload(build));
  }

  /** Queues a build for a local slot, in the caller's transaction. */
  async enqueueLocal(tx: EntityManager, build: Build): Promise<void> {
    await tx.flush();
    await addJob(tx, TASKS.BUILD, { id: build.id }, { jobKey: jobKey(build.id), maxAttempts: MAX_ATTEMPTS + 2 });
  }

  /**
   * Builds waiting for or running in a local slot or a worker's, per slot: what `status` reports as load, so that
   * builds queued here count when another instance chooses a builder (unlike busy/slots, it can pass 1).
   */
  async queueLoad(em: EntityManager): Promise<number> {
    const [row] = await em.getConnection().execute<{ n: string }[]>(
      `select count(*) as n from graphile_worker._private_jobs j
         join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = ?`,
      [TASKS.BUILD],
    );
    // Live workers take from the same queue: their slots count.
    const workerSlots = (await liveWorkers(em)).reduce((n, w) => n + w.slots, 0);
    return Number(row?.n ?? 0) / Math.max(1, this.slotCount + workerSlots);
  }

  private async runJob(raw: unknown, helpers: JobHelpers): Promise<void> {
    const id = Number((raw as { id?: unknown }).id);
    const em = this.opts.orm.em.fork();
    const build = await em.findOne(Build, id);
    if (!build || build.state === BuildState.BUILT) return; // cancelled or finished meanwhile: nothing to do
    const slot: Running = { chroot: build.spec.chroot.name, run: null, cancelledBy: null, requeue: false };
    this.running.set(id, slot);
    const onAbort = () => {
      slot.requeue = true;
      slot.run?.cancel();
    };
    helpers.abortSignal.addEventListener('abort', onAbort);
    try {
      await this.build(em, build, slot);
    } catch (err) {
      if (slot.requeue) throw err; // the worker is shutting down: graphile-worker keeps the job for later
      this.opts.logger.error({ err, build: id }, 'build failed in the daemon');
      await em.transactional((tx) =>
        this.finish(
          tx,
          build,
          BuildResult.ERROR,
          'daemon',
          `the daemon could not run the build: ${(err as Error).message}`,
        ),
      );
    } finally {
      helpers.abortSignal.removeEventListener('abort', onAbort);
      this.running.delete(id);
    }
  }

  private async build(em: EntityManager, build: Build, slot: Running): Promise<void> {
    const dir = this.buildDir(build.id);
    const out = path.join(dir, 'out');
    await fs.rm(out, { recursive: true, force: true });
    await fs.mkdir(out, { recursive: true });
    const log = this.logPath(build.id);
    await fs.writeFile(
      log,
      `debyard: building ${build.source} ${build.version} for ${build.distribution} on ${build.architecture}` +
        `${build.archAll ? ' (with arch-all)' : ''} in ${build.chroot}, attempt ${build.attempt}, on ${this.opts.builderName}\n` +
        `debyard: sbuild ${sbuildArgs(build.spec).map(shellQuote).join(' ')}\n`,
    );
    await em.transactional(async (tx) => {
      build.state = BuildState.BUILDING;
      build.startedAt = new Date();
      build.builder = this.opts.builderName;
      await this.opts.events.record(
        tx,
        EventType.BUILD_STARTED,
        `building ${describeBuild(build)}`,
        buildEventPayload(build),
      );
    });

    await this.waitForChroot(em, build, slot, log);
    if (slot.requeue) {
      await this.requeueOrFail(build.id, 'the daemon is stopping', em);
      throw new Error('the daemon is stopping: the build goes back to the queue');
    }
    if (slot.cancelledBy) {
      await em.transactional((tx) =>
        this.finish(tx, build, BuildResult.CANCELLED, null, `cancelled by ${slot.cancelledBy} before sbuild started`),
      );
      return;
    }
    const sbuild = startSbuild(build.spec, { workDir: out, logFile: log });
    slot.run = sbuild;
    build.pid = sbuild.pid;
    await em.flush();
    await em.refresh(build);
    if (build.cancelRequestedBy && !slot.cancelledBy) {
      slot.cancelledBy = build.cancelRequestedBy;
      sbuild.cancel();
    }
    const outcome = await sbuild.result;
    build.pid = null;
    await this.endLeftSessions(build, log);
    if (slot.requeue && !slot.cancelledBy) {
      await this.requeueOrFail(build.id, 'the daemon is stopping', em);
      throw new Error('the daemon is stopping: the build goes back to the queue');
    }
    const mapped = resultOf(outcome, slot.cancelledBy !== null);
    let { result, failStage, reason } = mapped;
    build.sbuildSeconds = outcome.seconds;
    if (result === BuildResult.SUCCESSFUL && outcome.changesFile) {
      const qa = await runQa(build.spec, out, outcome.changesFile, log);
      Object.assign(build, { lintian: qa.lintian, autopkgtest: qa.autopkgtest, qaSeconds: qa.seconds });
      if (qa.failed) [result, failStage, reason] = [BuildResult.FAILED, qa.failed.stage, qa.failed.reason];
    }
    if (slot.cancelledBy) reason = `cancelled by ${slot.cancelledBy} while building`;
    await fs.appendFile(log, `\ndebyard: ${result}${failStage ? ` (${failStage})` : ''}: ${reason}\n`);
    await em.transactional((tx) => this.finish(tx, build, result, failStage, reason));
  }

  /**
   * sbuild leaves its schroot session behind when a TERM (a cancel, the parent-death signal) comes
   * while the session is being set up. Once no other build of this daemon uses the chroot (and it is
   * not being updated, and no build worker runs on this host), sessions of it are left-overs: they are
   * ended here.
   */
  private async endLeftSessions(build: Build, log: string): Promise<void> {
    const ref = build.spec.chroot;
    if (ref.backend !== ChrootBackend.SCHROOT) return;
    for (const [id, other] of this.running) if (id !== build.id && other.chroot === ref.name) return;
    const em = this.opts.orm.em.fork();
    if (await chrootPhase(em, build.chroot)) return;
    // A worker on this host builds in the same chroots: its sessions are not left-overs.
    if ((await liveWorkers(em)).some((w) => w.host === os.hostname())) return;
    for (const session of await sessionsOf(ref.name)) {
      const r = await execa('schroot', ['-e', '-f', '-c', `session:${session}`], { reject: false, cwd: '/' });
      await fs.appendFile(
        log,
        `debyard: ended the schroot session ${session} sbuild left behind (exit ${r.exitCode})\n`,
      );
    }
  }

  /** A chroot being created or updated is not built in (its base changes under the overlay): wait for it. */
  private async waitForChroot(em: EntityManager, build: Build, slot: Running, log: string): Promise<void> {
    for (let waited = 0; !slot.requeue && !slot.cancelledBy; waited++) {
      const phase = await chrootPhase(em, build.chroot);
      if (!phase) return;
      if (waited === 0)
        await fs.appendFile(log, `debyard: waiting until the chroot ${build.chroot} is no longer ${phase}\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Ends a build in the caller's transaction: its result, the event, and what the pipeline does next. */
  async finish(
    tx: EntityManager,
    build: Build,
    result: BuildResult,
    failStage: string | null,
    reason: string,
  ): Promise<void> {
    build.state = BuildState.BUILT;
    build.result = result;
    build.failStage = failStage;
    build.reason = reason;
    build.finishedAt = new Date();
    build.pid = null;
    const type = result === BuildResult.CANCELLED ? EventType.BUILD_CANCELLED : EventType.BUILD_FINISHED;
    await this.opts.events.record(tx, type, `${describeBuild(build)}: ${result.toLowerCase().replace('_', ' ')}`, {
      ...buildEventPayload(build),
      reason,
      failStage,
    });
    await tx.flush();
    await this.onFinished?.(tx, build);
  }

  /**
   * Puts a build that stopped running back in the queue (attempt + 1); ends it CANCELLED when a cancel
   * was asked for meanwhile, or ERROR after MAX_ATTEMPTS.
   */
  async requeueOrFail(id: number, why: string, em = this.opts.orm.em.fork()): Promise<void> {
    await em.transactional(async (tx) => {
      const build = await tx.findOneOrFail(Build, id);
      if (build.cancelRequestedBy || build.attempt >= MAX_ATTEMPTS) {
        await tx
          .getConnection()
          .execute(
            `delete from graphile_worker._private_jobs where key = ?`,
            [jobKey(id)],
            'all',
            tx.getTransactionContext(),
          );
        if (build.cancelRequestedBy)
          await this.finish(tx, build, BuildResult.CANCELLED, null, `cancelled by ${build.cancelRequestedBy}; ${why}`);
        else
          await this.finish(tx, build, BuildResult.ERROR, 'daemon', `${why}; given up after ${build.attempt} attempts`);
        return;
      }
      Object.assign(build, {
        state: BuildState.QUEUED,
        startedAt: null,
        pid: null,
        builder: null,
        attempt: build.attempt + 1,
      });
      await this.opts.events.record(tx, EventType.BUILD_REQUEUED, `${describeBuild(build)} queued again: ${why}`, {
        ...buildEventPayload(build),
        reason: why,
      });
    });
  }

  private workerLogger(): WorkerLogger {
    const log = this.opts.logger.child({ component: 'jobs' });
    return new GraphileLogger(() => (level, message, meta) => {
      const fn = level === 'error' ? log.error : level === 'warning' ? log.warn : log.debug;
      fn.call(log, meta ?? {}, message);
    });
  }
}

/** Lintian, then autopkgtest, after a successful sbuild, as the spec's modes say; `failed` when one fails the build. */
export async function runQa(
  spec: BuildSpec,
  out: string,
  changesFile: string,
  log: string,
): Promise<{
  lintian: QaResult;
  autopkgtest: QaResult;
  seconds: number;
  failed: { stage: string; reason: string } | null;
}> {
  const started = performance.now();
  const lintian = await runLintian(changesFile, spec.lintianMode, spec.lintianExtraOptions, log);
  const autopkgtest = await runAutopkgtest(spec, out, changesFile, log);
  const failed = lintian.failed
    ? { stage: 'lintian', reason: `lintian: ${lintian.result.toLowerCase()} (mode ${spec.lintianMode.toLowerCase()})` }
    : autopkgtest.failed
      ? {
          stage: 'autopkgtest',
          reason: `autopkgtest: ${autopkgtest.result.toLowerCase()} (mode ${spec.autopkgtestMode.toLowerCase()})`,
        }
      : null;
  return {
    lintian: lintian.result,
    autopkgtest: autopkgtest.result,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    failed,
  };
}

/** A word as a POSIX shell reads it back, so the logged command can be pasted (and parsed by bench/). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What a chroot (by key, `bookworm-amd64`) is busy with: creating, updating, removing; null when idle. */
async function chrootPhase(em: EntityManager, key: string): Promise<string | null> {
  const [row] = await em
    .getConnection()
    .execute<{ phase: string | null }[]>(
      `select c.phase from chroot c join source s on s.id = c.source_id where s.codename || '-' || c.architecture = ?`,
      [key],
    );
  return row?.phase ?? null;
}

function jobKey(id: number): string {
  return `build:${id}`;
}

export function describeBuild(build: Build): string {
  return `${build.source} ${build.version} (${build.distribution}, ${build.architecture}) #${build.id}`;
}

/** What every build event says of its build. */
export function buildEventPayload(build: Build): Record<string, unknown> {
  return {
    build: build.id,
    source: build.source,
    version: build.version,
    distribution: build.distribution,
    architecture: build.architecture,
    state: build.state,
    result: build.result,
    testBuild: build.testBuild,
  };
}

/** Ends an sbuild process group left by a crashed daemon (if setpriv's parent-death signal did not). */
async function killLeftover(pid: number | null, logger: Logger): Promise<void> {
  if (!pid) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('sbuild')) return;
  logger.warn({ pid }, 'ending an sbuild left by the previous daemon');
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!(await fs.stat(`/proc/${pid}`).catch(() => null))) return;
    if (i === 8) await endBuildSteps(pid); // as a cancel does: sbuild may be installing dependencies
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}
