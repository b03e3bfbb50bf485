/**
 * The packager's side of `debyard worker` (issue 8, part 4): build workers on other hosts share this
 * instance's PostgreSQL and take `build` jobs from its queue with their own slots. What they need of a
 * build (its spec, source and apt keys) and what they give back (the live log, the result files, the
 * result) goes over this instance's HTTP, under {@link WORKER_API_PATH}, with an ADMIN token.
 *
 * The packager owns the build rows: a worker asks to start a build, appends to its log, uploads its
 * files and posts its result, and the packager writes the row, the events and the next pipeline step
 * (the same `finish` as for a local build). Workers write their own `worker_process` row; a row not seen
 * for {@link WORKER_DEAD_AFTER_S} seconds is a dead worker: its builds go back to the queue and its job
 * locks are released (graphile-worker would otherwise keep them for four hours).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Principal } from '../auth/auth.service.js';
import { Role, roleIncludes } from '../auth/role.js';
import type { EngineComponent } from '../engine/engine.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import type { Logger } from '../log.js';
import { Build, BuildResult, BuildState, QaResult } from './build.entity.js';
import type { BuildSpec } from './build-spec.js';
import { buildEventPayload, describeBuild, type BuildService } from './build.service.js';
import { WORKER_DEAD_AFTER_S, WorkerProcess } from './worker-process.entity.js';

export const WORKER_API_PATH = '/api/worker';
const SWEEP_INTERVAL_MS = 10_000;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9.+~_-]*$/;

/** What a worker gets when it starts a build. */
export interface WorkerBuildStart {
  id: number;
  source: string;
  version: string;
  distribution: string;
  architecture: string;
  archAll: boolean;
  chroot: string;
  attempt: number;
  /** The spec as the packager froze it: its paths are the packager's (see `sources`, `keys`). */
  spec: BuildSpec;
  /** File names of the source package, to fetch from `builds/<id>/source/<name>`. */
  sources: string[];
  /** The armored keys the spec names (its extraRepositories' keyFile and extraKeys), by path. */
  keys: Record<string, string>;
  /** The URL prefix the spec's own apt sources use; a worker puts the packager's URL in its place. */
  loopbackUrl: string;
}

/** What a worker posts at the end of a build. */
export interface WorkerBuildResult {
  worker: string;
  result: BuildResult;
  failStage: string | null;
  reason: string;
  sbuildSeconds: number | null;
  qaSeconds: number | null;
  lintian: QaResult;
  autopkgtest: QaResult;
}

export interface WorkerBuildsOptions {
  orm: MikroORM;
  events: EventService;
  builds: BuildService;
  logger: Logger;
  authenticate(em: EntityManager, secret: string): Promise<Principal>;
  loopbackHttpUrl(): string;
}

/** A refusal a worker can act on: HTTP status, code and message. */
class WorkerApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class WorkerBuilds {
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly opts: WorkerBuildsOptions) {}

  /** The sweep for dead workers, as a part of the engine. */
  component(): EngineComponent {
    return {
      name: 'build workers',
      start: async () => {
        await this.sweep();
        this.sweeper = setInterval(
          () => void this.sweep().catch((err) => this.opts.logger.warn({ err }, 'sweeping dead workers failed')),
          SWEEP_INTERVAL_MS,
        );
      },
      stop: async () => {
        if (this.sweeper) clearInterval(this.sweeper);
        this.sweeper = null;
      },
    };
  }

  /**
   * Workers not seen for WORKER_DEAD_AFTER_S: their running builds go back to the queue (or end as
   * cancelled when a cancel was asked), then their job locks are released so any builder takes them.
   */
  async sweep(): Promise<void> {
    const em = this.opts.orm.em.fork();
    const cutoff = new Date(Date.now() - WORKER_DEAD_AFTER_S * 1000);
    const dead = await em.find(WorkerProcess, { lastSeenAt: { $lte: cutoff } });
    for (const worker of dead) {
      const why = `the worker ${worker.name} (${worker.host}, pid ${worker.pid}) stopped answering during the build`;
      const builds = await em.find(Build, { state: BuildState.BUILDING, sentTo: null, builder: worker.name });
      for (const build of builds) await this.opts.builds.requeueOrFail(build.id, why);
      // (A JSON array: knex would spread a JS array into a list.)
      await em
        .getConnection()
        .execute(`select graphile_worker.force_unlock_workers(array(select jsonb_array_elements_text(?::jsonb)))`, [
          JSON.stringify(worker.poolIds),
        ]);
      // Unless it came back meanwhile (a fresh heartbeat).
      await em.nativeDelete(WorkerProcess, { name: worker.name, lastSeenAt: { $lte: cutoff } });
      this.opts.logger.warn({ worker: worker.name, builds: builds.map((b) => b.id) }, 'a build worker died');
    }
  }

  /** The HTTP API workers use (mounted at WORKER_API_PATH). */
  router(): Router {
    const router = express.Router();
    router.use(
      (req, res, next) =>
        void this.authorize(req).then(
          () => next(),
          (err) => this.fail(res, err),
        ),
    );
    const handle =
      (fn: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, _next: NextFunction) =>
        void Promise.resolve()
          .then(() => fn(req, res))
          .then(
            (body) => {
              if (!res.headersSent) res.json(body ?? {});
            },
            (err) => this.fail(res, err),
          );
    router.post(
      '/builds/:id/start',
      express.json(),
      handle((req) => this.start(buildId(req), workerName(req.body?.worker))),
    );
    router.get(
      '/builds/:id/source/:file',
      handle(async (req, res) => {
        const file = fileName(String(req.params.file));
        const dir = path.join(this.opts.builds.buildDir(buildId(req)), 'source');
        await fsp.access(path.join(dir, file)).catch(() => {
          throw new WorkerApiError(404, 'NOT_FOUND', `build ${req.params.id} has no source file ${file}`);
        });
        await new Promise<void>((resolve, reject) =>
          res.sendFile(file, { root: dir, dotfiles: 'deny' }, (err) => (err ? reject(err) : resolve())),
        );
      }),
    );
    router.post(
      '/builds/:id/log',
      express.raw({ type: () => true, limit: '16mb' }),
      handle((req) =>
        this.appendLog(buildId(req), workerName(req.query.worker), Number(req.query.offset), req.body as Buffer),
      ),
    );
    router.put(
      '/builds/:id/out/:file',
      handle(async (req) => {
        const id = buildId(req);
        const file = fileName(String(req.params.file));
        await this.running(this.opts.orm.em.fork(), id, workerName(req.query.worker));
        const out = path.join(this.opts.builds.buildDir(id), 'out');
        await fsp.mkdir(out, { recursive: true });
        const tmp = path.join(out, `.${file}.part`);
        await pipeline(req, fs.createWriteStream(tmp));
        await fsp.rename(tmp, path.join(out, file));
        return { stored: file };
      }),
    );
    router.post(
      '/builds/:id/result',
      express.json(),
      handle((req) => this.result(buildId(req), req.body as WorkerBuildResult)),
    );
    router.post(
      '/builds/:id/requeue',
      express.json(),
      handle(async (req) => {
        const id = buildId(req);
        await this.running(this.opts.orm.em.fork(), id, workerName(req.body?.worker));
        await this.opts.builds.requeueOrFail(id, String(req.body?.why ?? 'the worker stopped'));
        return { requeued: id };
      }),
    );
    return router;
  }

  private async authorize(req: Request): Promise<void> {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m)
      throw new WorkerApiError(401, 'UNAUTHENTICATED', 'a worker needs an ADMIN token: Authorization: Bearer <token>');
    let principal: Principal;
    try {
      principal = await this.opts.authenticate(this.opts.orm.em.fork(), m[1]!);
    } catch (err) {
      if (err instanceof DomainError) throw new WorkerApiError(401, err.code, err.message);
      throw err;
    }
    if (!roleIncludes(principal.user.role, Role.ADMIN))
      throw new WorkerApiError(
        403,
        'FORBIDDEN',
        `a worker needs an ADMIN token; ${principal.user.username} is ${principal.user.role}`,
      );
  }

  private fail(res: Response, err: unknown): void {
    if (res.headersSent) return void res.end();
    if (err instanceof WorkerApiError)
      return void res.status(err.status).json({ code: err.code, message: err.message });
    this.opts.logger.error({ err }, 'a worker request failed');
    res.status(500).json({ code: 'INTERNAL', message: (err as Error).message });
  }

  /** A worker takes a queued build: it is BUILDING there from now on. */
  private async start(id: number, worker: string): Promise<WorkerBuildStart> {
    const em = this.opts.orm.em.fork();
    const build = await em.transactional(async (tx) => {
      const b = await tx.findOne(Build, id);
      if (!b) throw new WorkerApiError(404, 'NOT_FOUND', `there is no build ${id}`);
      if (b.state === BuildState.BUILT)
        throw new WorkerApiError(409, 'BUILD_STATE', `build ${id} has ended (${b.result}); nothing to build`);
      if (b.state === BuildState.BUILDING && b.builder !== worker)
        throw new WorkerApiError(409, 'BUILD_STATE', `build ${id} is building on ${b.builder}`);
      if (b.cancelRequestedBy) {
        await this.opts.builds.finish(
          tx,
          b,
          BuildResult.CANCELLED,
          null,
          `cancelled by ${b.cancelRequestedBy} before it started`,
        );
        throw new WorkerApiError(409, 'BUILD_STATE', `build ${id} was cancelled`);
      }
      b.state = BuildState.BUILDING;
      b.startedAt = new Date();
      b.builder = worker;
      await this.opts.events.record(
        tx,
        EventType.BUILD_STARTED,
        `building ${describeBuild(b)} on the worker ${worker}`,
        {
          ...buildEventPayload(b),
          builder: worker,
        },
      );
      return b;
    });
    const dir = this.opts.builds.buildDir(id);
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(this.opts.builds.logPath(id), '');
    await fsp.rm(path.join(dir, 'out'), { recursive: true, force: true });
    const spec = build.spec;
    const keyFiles = [...spec.extraRepositories.map((r) => r.keyFile), ...(spec.extraKeys ?? [])].filter(Boolean);
    const keys: Record<string, string> = {};
    for (const file of keyFiles) keys[file] = await fsp.readFile(file, 'utf8');
    const sources = (await fsp.readdir(path.join(dir, 'source'), { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name);
    return {
      id,
      source: build.source,
      version: build.version,
      distribution: build.distribution,
      architecture: build.architecture,
      archAll: build.archAll,
      chroot: build.chroot,
      attempt: build.attempt,
      spec,
      sources,
      keys,
      loopbackUrl: this.opts.loopbackHttpUrl(),
    };
  }

  /** The build, checked to be running on `worker`. */
  private async running(em: EntityManager, id: number, worker: string): Promise<Build> {
    const b = await em.findOne(Build, id);
    if (!b) throw new WorkerApiError(404, 'NOT_FOUND', `there is no build ${id}`);
    if (b.state !== BuildState.BUILDING)
      throw new WorkerApiError(
        409,
        'BUILD_STATE',
        `build ${id} is ${b.state.toLowerCase()}${b.result ? ` (${b.result})` : ''}, not building`,
      );
    if (b.builder !== worker)
      throw new WorkerApiError(409, 'BUILD_STATE', `build ${id} is building on ${b.builder}, not on ${worker}`);
    return b;
  }

  /**
   * Appends what the worker's log holds from `offset` on (a resend of bytes already here is skipped).
   * Answers with the cancel, if one was asked for.
   */
  private async appendLog(
    id: number,
    worker: string,
    offset: number,
    chunk: Buffer,
  ): Promise<{ size: number; cancel: string | null }> {
    const b = await this.running(this.opts.orm.em.fork(), id, worker);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new WorkerApiError(400, 'BAD_USER_INPUT', 'offset must be a byte offset into the log');
    const file = this.opts.builds.logPath(id);
    const size = (await fsp.stat(file).catch(() => ({ size: 0 }))).size;
    if (offset > size)
      throw new WorkerApiError(
        409,
        'LOG_GAP',
        `the log of build ${id} has ${size} bytes; send from there, not ${offset}`,
      );
    const fresh = Buffer.isBuffer(chunk) ? chunk.subarray(size - offset) : Buffer.alloc(0);
    if (fresh.length > 0) await fsp.appendFile(file, fresh);
    return { size: size + fresh.length, cancel: b.cancelRequestedBy };
  }

  /** The worker's result: the build ends here as a local one does, and the pipeline goes on. */
  private async result(id: number, body: WorkerBuildResult): Promise<{ result: BuildResult }> {
    const worker = workerName(body?.worker);
    if (!Object.values(BuildResult).includes(body.result))
      throw new WorkerApiError(400, 'BAD_USER_INPUT', `result must be one of ${Object.values(BuildResult).join(', ')}`);
    for (const qa of [body.lintian, body.autopkgtest])
      if (!Object.values(QaResult).includes(qa))
        throw new WorkerApiError(
          400,
          'BAD_USER_INPUT',
          `a QA result must be one of ${Object.values(QaResult).join(', ')}`,
        );
    await this.opts.orm.em.fork().transactional(async (tx) => {
      const b = await this.running(tx, id, worker);
      b.sbuildSeconds = numberOrNull(body.sbuildSeconds);
      b.qaSeconds = numberOrNull(body.qaSeconds);
      b.lintian = body.lintian;
      b.autopkgtest = body.autopkgtest;
      await this.opts.builds.finish(tx, b, body.result, body.failStage ?? null, String(body.reason ?? ''));
    });
    return { result: body.result };
  }
}

function buildId(req: Request): number {
  const id = String(req.params.id ?? '');
  if (!/^\d{1,9}$/.test(id)) throw new WorkerApiError(404, 'NOT_FOUND', `there is no build ${id}`);
  return Number(id);
}

function workerName(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/.test(value))
    throw new WorkerApiError(400, 'BAD_USER_INPUT', 'worker must be the worker’s name (letters, digits, . _ @ -)');
  return value;
}

function fileName(value: string | undefined): string {
  if (!value || !FILE_NAME.test(value) || value.includes('..'))
    throw new WorkerApiError(400, 'BAD_USER_INPUT', `not a file name of a build: ${value}`);
  return value;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
