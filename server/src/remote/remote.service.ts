import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type Response, type Router } from 'express';
import type * as openpgp from 'openpgp';
import { Build, BuildState } from '../build/build.entity.js';
import { Chroot } from '../chroot/chroot.entity.js';
import type { EngineComponent } from '../engine/engine.js';
import { DomainError } from '../graphql/errors.js';
import { addJob } from '../jobs/queue.js';
import { ConfigKind } from '../lifecycle/config-kind.js';
import { CheckState, ConfigStatus } from '../lifecycle/lifecycle.js';
import type { LifecycleService } from '../lifecycle/lifecycle.service.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { SignatureError, readArmoredKeys } from '../pgp/verify.js';
import { Upload, UploadState } from '../upload/upload.entity.js';
import { statusWaking } from './remote-ops.js';
import { Remote } from './remote.entity.js';
import { RemoteError, problem, statusToWire, verifyHandshakeRequest, type InstanceStatus } from './wire.js';

export const REMOTE_CHECK_TASK = 'remote_check';

export interface RemoteServiceOptions {
  orm: MikroORM;
  keys: InstanceKeyStore;
  lifecycle: LifecycleService;
  /** How often active and auto-reactivating remotes are checked. */
  checkIntervalMs: number;
  /** What `status` reports about this instance besides the database's part. */
  self(): { version: string; identity: string; url: string; incomingUrl: string; running: boolean };
  /** Builds running and waiting here, per slot: what other instances choose builders by. */
  load(em: EntityManager): Promise<number>;
  logger: Logger;
  /** After each scheduled check (remote builds take back what went to remotes that are gone). */
  afterCheck?: () => Promise<void>;
}

/**
 * Remotes at run time: answers other instances' `status`, `pub_key` and `handshake` calls, checks our
 * remotes on a schedule (a down one drops to auto-reactivate and comes back by itself) and wakes them.
 */
export class RemoteService {
  constructor(private readonly opts: RemoteServiceOptions) {}

  /** This instance's `status`: load -1 while the engine is stopped, as mini-buildd says. */
  async instanceStatus(em: EntityManager): Promise<InstanceStatus> {
    const self = this.opts.self();
    const chroots = await em.find(Chroot, { status: ConfigStatus.ACTIVE }, { populate: ['source'] });
    const remotes = await em.find(
      Remote,
      { $or: [{ status: ConfigStatus.ACTIVE }, { checkState: CheckState.AUTO_REACTIVATE }] },
      { orderBy: { url: 'asc' } },
    );
    return {
      version: self.version,
      identity: self.identity,
      url: self.url,
      incomingUrl: self.incomingUrl,
      load: self.running ? await this.opts.load(em) : -1,
      chroots: chroots.map((c) => `${c.codename}:${c.architecture}`).sort(),
      remotes: remotes.map((r) => r.url),
      builds: await em.count(Build, { state: { $in: [BuildState.QUEUED, BuildState.BUILDING] } }),
      packages: await em.count(Upload, { state: { $in: [UploadState.PACKAGING, UploadState.INSTALLING] } }),
    };
  }

  /**
   * Answers a handshake: the message must be signed by the key of one of our remotes (any that was
   * prepared); we sign its text back with the instance key.
   */
  async answerHandshake(em: EntityManager, signed: string): Promise<string> {
    const remotes = await em.find(Remote, { status: { $ne: ConfigStatus.REMOVED }, armored: { $ne: '' } });
    const keys: openpgp.PublicKey[] = [];
    for (const r of remotes) keys.push(...(await readArmoredKeys(r.armored, r.url)));
    if (!keys.length)
      throw new SignatureError('NO_KEYS', 'handshake: this instance has no remotes: add the caller as a remote first');
    const text = await verifyHandshakeRequest(signed, keys);
    return this.opts.keys.signCleartext(text);
  }

  /** GET /mini_buildd/api/{status,pub_key,handshake}/ in mini-buildd's wire format. */
  router(): Router {
    const router = express.Router();
    const send = (res: Response, status: number, body: unknown): void => {
      res
        .status(status)
        .type(status < 400 ? 'application/json' : 'application/problem+json')
        .send(JSON.stringify(body));
    };
    const handle = (work: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response) =>
      void work(req, res).catch((err: unknown) => {
        this.opts.logger.error({ err, path: req.path }, 'remote API call failed');
        send(res, 500, problem(500, 'Internal Server Error', 'the call failed; see the daemon log'));
      });
    router.get(
      '/status',
      handle(async (_req, res) => send(res, 200, statusToWire(await this.instanceStatus(this.opts.orm.em.fork())))),
    );
    router.get(
      '/pub_key',
      handle(async (_req, res) => {
        const key = await this.opts.keys.armoredPublicKey().catch(() => null);
        if (!key)
          return void send(
            res,
            503,
            problem(503, 'Service Unavailable', 'this instance has no key yet: prepare its daemon'),
          );
        send(res, 200, key);
      }),
    );
    router.get(
      '/handshake',
      handle(async (req, res) => {
        const signed = req.query.signed_message;
        if (typeof signed !== 'string' || !signed)
          return void send(res, 400, problem(400, 'Bad Request', 'handshake needs signed_message'));
        try {
          send(res, 200, await this.answerHandshake(this.opts.orm.em.fork(), signed));
        } catch (err) {
          if (!(err instanceof SignatureError)) throw err;
          this.opts.logger.warn({ code: err.code, reason: err.message, from: req.ip }, 'refused a handshake');
          const unknown = err.code === 'UNKNOWN_KEY' || err.code === 'NO_KEYS';
          send(
            res,
            unknown ? 401 : 400,
            problem(unknown ? 401 : 400, unknown ? 'Unauthorized' : 'Bad Request', err.message),
          );
        }
      }),
    );
    router.all('/{*rest}', (req, res) =>
      send(
        res,
        404,
        problem(
          404,
          'Not Found',
          `no API call ${req.path}: debyard answers status, pub_key and handshake here; use /graphql for the rest`,
        ),
      ),
    );
    return router;
  }

  /**
   * mini-buildd's `wake`: asks for its status, running its wake command while it does not answer (up to
   * its attempts), and keeps what it said.
   */
  async wake(url: string): Promise<Remote> {
    const em = this.opts.orm.em.fork();
    const r = (await this.opts.lifecycle.require(em, ConfigKind.REMOTE, url)) as Remote;
    try {
      r.recordStatus(await statusWaking(r, this.opts.logger));
    } catch (err) {
      if (err instanceof RemoteError) throw new DomainError(err.code, err.message, { url: r.url });
      throw err;
    }
    await em.flush();
    return r;
  }

  /** Checks every active and auto-reactivating remote once. */
  async checkAll(): Promise<void> {
    const em = this.opts.orm.em.fork();
    const remotes = await em.find(Remote, {
      $or: [{ status: ConfigStatus.ACTIVE }, { checkState: CheckState.AUTO_REACTIVATE }],
    });
    for (const r of remotes) await this.opts.lifecycle.recheck(ConfigKind.REMOTE, r.url);
  }

  private async queueCheck(delayMs: number): Promise<void> {
    await this.opts.orm.em
      .fork()
      .transactional((tx) =>
        addJob(
          tx,
          REMOTE_CHECK_TASK,
          {},
          { jobKey: REMOTE_CHECK_TASK, maxAttempts: 1, runAt: new Date(Date.now() + delayMs) },
        ),
      );
  }

  /** The graphile-worker task: checks the remotes, then queues itself again after the interval. */
  tasks() {
    return {
      [REMOTE_CHECK_TASK]: async () => {
        try {
          await this.checkAll();
          await this.opts.afterCheck?.();
        } catch (err) {
          this.opts.logger.error({ err }, 'checking the remotes failed');
        } finally {
          await this.queueCheck(this.opts.checkIntervalMs);
        }
      },
    };
  }

  /** Part of the engine: starting it queues the first check (the job then keeps itself going). */
  component(): EngineComponent {
    return { name: 'remote checks', start: () => this.queueCheck(0), stop: async () => undefined };
  }
}
