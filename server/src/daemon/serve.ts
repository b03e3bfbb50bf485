import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthService } from '../auth/auth.service.js';
import { BuildService } from '../build/build.service.js';
import { UploadPipeline } from '../upload/pipeline.js';
import { PortService } from '../port/port.js';
import { Notifier } from '../notify/notifier.js';
import { UploaderKeyService } from '../uploader/uploader-key.service.js';
import { SubscriptionService } from '../notify/subscription.service.js';
import { EventHooks } from '../hooks/event-hooks.js';
import { WebhookDelivery } from '../hooks/webhook-delivery.js';
import { WebhookService } from '../hooks/webhook.service.js';
import { StagingService } from '../staging/staging.js';
import { KeyringService } from '../keyring/keyring.service.js';
import { SnapshotService } from '../snapshot/snapshot.service.js';
import { cleanupAfterCrash, chrootLogPath, clearChrootPhases, refreshActiveChroots } from '../chroot/chroot-ops.js';
import type { HostPort, ServeConfig } from '../config/config.js';
import { ManagedPostgres } from '../db/managed-postgres.js';
import { openDatabase } from '../db/orm.js';
import { Engine } from '../engine/engine.js';
import { configKinds } from '../lifecycle/kinds.js';
import { ConfigService } from '../lifecycle/config.service.js';
import { recheckComponent } from '../lifecycle/recheck.js';
import { LifecycleService } from '../lifecycle/lifecycle.service.js';
import { InstanceKeyStore } from '../pgp/instance-key.js';
import { MirrorService } from '../repository/mirror.js';
import { republishRepositories } from '../repository/republish.js';
import { RemoteBuilds } from '../remote/remote-builds.js';
import { RemoteService } from '../remote/remote.service.js';
import { SetupService } from '../setup/setup.service.js';
import { EventBus } from '../events/event-bus.js';
import { EventType } from '../events/event.entity.js';
import { EventService } from '../events/event.service.js';
import { Ftpd, type FtpSession } from '../ftp/ftpd.js';
import type { Services } from '../graphql/context.js';
import { buildDebyardSchema } from '../graphql/schema.js';
import { HttpServer } from '../http/http-server.js';
import type { Logger } from '../log.js';
import type { Status } from '../status/status.js';
import { httpUploadRouter } from '../upload/http-upload.js';
import { DatabaseIntakeStore, Intake } from '../upload/intake.js';
import { UploadVia } from '../upload/upload.entity.js';
import { VERSION } from '../version.js';
import { acquireInstanceLock } from './instance-lock.js';
import { dropPrivileges } from './privileges.js';
import { WorkerBuilds } from '../build/worker-builds.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONSOLE_DIR = path.resolve(here, '../../../client/dist');
/** SIGTERM to exit must stay under 5 s; each shutdown step gets at most this long. */
const STEP_TIMEOUT_MS = 2500;

/**
 * Runs the daemon until SIGTERM or SIGINT: drops to the daemon user, takes the data directory, starts
 * the database, HTTP and the engine, and takes them down again in reverse order.
 */
export async function serve(config: ServeConfig, logger: Logger): Promise<void> {
  dropPrivileges({ user: config.user, dataDir: config.dataDir, logger });
  const stopping = new Promise<NodeJS.Signals>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve(sig));
  });
  const lock = await acquireInstanceLock(config.dataDir);
  const teardown: { name: string; run: () => Promise<unknown> }[] = [{ name: 'lock', run: () => lock.release() }];
  const onStop = (name: string, run: () => Promise<unknown>) => teardown.unshift({ name, run });
  try {
    const incomingDir = path.join(config.dataDir, 'incoming');
    await fs.mkdir(incomingDir, { recursive: true, mode: 0o750 });

    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pg = new ManagedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        socketDir: path.join(config.dataDir, 'run'),
        logger,
      });
      await pg.start();
      onStop('database', () => pg.stop());
      databaseUrl = pg.connectionString;
    }
    const orm = await openDatabase(databaseUrl, logger).catch((err: Error) => {
      throw new DaemonStartError(
        'DATABASE_UNAVAILABLE',
        config.databaseUrl
          ? `cannot use the database at DATABASE_URL=${redact(config.databaseUrl)}: ${err.message}; check that the server runs and the URL is right, or unset DATABASE_URL to use the managed database`
          : `cannot use the managed database in ${config.dataDir}/postgres: ${err.message}`,
      );
    });
    onStop('orm', () => orm.close());
    const events = new EventService(orm);
    const bus = new EventBus(databaseUrl, orm, events, logger);
    await bus.start();
    onStop('event bus', () => bus.close());
    const auth = new AuthService(orm, events, logger);
    await auth.ensureLocalAdmin(config.dataDir);
    const keys = new InstanceKeyStore({
      keysDir: path.join(config.dataDir, 'keys'),
      logger: logger.child({ component: 'keys' }),
    });
    const urls = { http: '', ftp: '' };
    const lifecycle = new LifecycleService(
      configKinds,
      orm,
      events,
      keys,
      config.dataDir,
      logger.child({ component: 'config' }),
      () => urls.http,
    );
    const configService = new ConfigService(orm, events, lifecycle);
    const setup = new SetupService(orm, events, configService, { identity: config.identity });

    const republishContext = { keys, dataDir: config.dataDir, logger: logger.child({ component: 'repositories' }) };
    const plan = { keys, loopbackHttpUrl: '' };
    const snapshots = new SnapshotService({
      orm,
      events,
      keys,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'snapshots' }),
    });
    const builds = new BuildService({
      orm,
      events,
      databaseUrl,
      dataDir: config.dataDir,
      builderName: `${config.identity}@${os.hostname()}`,
      plan,
      logger: logger.child({ component: 'builders' }),
      cleanupAfterCrash: () => cleanupAfterCrash(config.dataDir, logger.child({ component: 'chroots' })),
      schedules: [
        {
          name: 'refresh_chroots',
          crontab: '17 4 * * *',
          run: () => refreshActiveChroots(lifecycle, null),
        },
        {
          // Valid-Until runs out unless signed again; daily would do, hourly keeps a short validity safe.
          name: 'republish_repositories',
          crontab: '41 * * * *',
          run: async () => void (await republishRepositories(orm, republishContext)),
        },
        ...snapshots.schedules(),
      ],
    });
    onStop('job queue', () => builds.close());
    const remoteBuilds = new RemoteBuilds({
      orm,
      events,
      builds,
      keys,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'remote builds' }),
      self: () => ({
        identity: config.identity,
        url: urls.http,
        incomingUrl: urls.ftp || publicUrl('ftp', config.ftp) + '/',
      }),
      loopbackHttpUrl: () => plan.loopbackHttpUrl,
    });
    const uploads = new UploadPipeline({
      orm,
      events,
      builds,
      keys,
      dataDir: config.dataDir,
      plan,
      logger: logger.child({ component: 'uploads' }),
      transfers: remoteBuilds,
    });
    builds.onFinished = async (tx, build) => {
      await uploads.buildFinished(tx, build);
      await remoteBuilds.buildFinished(tx, build);
    };
    builds.onEnqueue = (tx, build) => remoteBuilds.route(tx, build);
    const workerBuilds = new WorkerBuilds({
      orm,
      events,
      builds,
      logger: logger.child({ component: 'build workers' }),
      authenticate: (em, secret) => auth.authenticate(em, secret),
      loopbackHttpUrl: () => plan.loopbackHttpUrl,
    });
    builds.addTasks(remoteBuilds.tasks());
    builds.addTasks(uploads.tasks());
    await clearChrootPhases(orm.em.fork());
    await builds.init();
    const intake = new Intake({
      dataDir: config.dataDir,
      store: new DatabaseIntakeStore(orm, events),
      logger: logger.child({ component: 'intake' }),
    });
    // Before FTP or HTTP take uploads: a crash may have left incoming and spool half done.
    await intake.recover();
    const ports = new PortService({
      orm,
      events,
      keys,
      intake,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'ports' }),
    });
    builds.addTasks(ports.tasks());
    const staging = new StagingService({
      orm,
      events,
      keys,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'staging' }),
    });

    const notifier = new Notifier({
      orm,
      events,
      logger: logger.child({ component: 'mail' }),
      baseUrl: () => urls.http,
    });
    events.onRecord(notifier.hook);
    // One slot of its own: a slow or hanging smarthost never holds up uploads or builds.
    builds.addPool(notifier.tasks(), 1);
    const hooks = new EventHooks({
      orm,
      events,
      logger: logger.child({ component: 'hooks' }),
      baseUrl: () => urls.http,
    });
    events.onRecord(hooks.hook);
    const webhookDelivery = new WebhookDelivery({ orm, events, logger: logger.child({ component: 'webhooks' }) });
    events.onRecord(webhookDelivery.hook);
    // Hooks and webhooks share a pool of two slots: each attempt is time-limited, and none waits for mail,
    // an upload or a build (nor they for it).
    builds.addPool({ ...hooks.tasks(), ...webhookDelivery.tasks() }, 2, () => hooks.cancelRunning());

    const keyring = new KeyringService({
      orm,
      events,
      keys,
      intake,
      staging,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'keyring' }),
      urls: () => ({ http: urls.http, ftp: urls.ftp || publicUrl('ftp', config.ftp) + '/' }),
    });
    builds.addTasks(keyring.tasks());
    const unwatchKeyring = keyring.watch(bus);
    onStop('keyring watch', async () => unwatchKeyring());
    const startedAt = new Date();
    const remotes: RemoteService = new RemoteService({
      orm,
      keys,
      lifecycle,
      checkIntervalMs: config.remoteCheckIntervalMs,
      self: () => ({
        version: VERSION,
        identity: config.identity,
        url: urls.http,
        incomingUrl: urls.ftp || publicUrl('ftp', config.ftp) + '/',
        running: engine.isRunning,
      }),
      load: (em) => builds.queueLoad(em),
      afterCheck: () => remoteBuilds.recoverLost(),
      logger: logger.child({ component: 'remotes' }),
    });
    builds.addTasks(remotes.tasks());
    const ftpd = new Ftpd({
      host: config.ftp.host,
      port: config.ftp.port,
      incomingDir,
      sessionDirs: true,
      passivePorts: config.ftpPassivePorts,
      maxFileSize: config.ftpMaxFileSize,
      idleTimeoutMs: config.ftpIdleTimeoutMs,
      logger: logger.child({ component: 'ftp' }),
      onSessionEnd: async (session) => {
        await recordUploads(events, orm.em.fork(), session);
        const dir = session.dir ?? incomingDir;
        const complete = session.files
          .filter((f) => f.complete)
          .map((f) => ({ name: f.name, path: path.join(dir, f.name), size: f.size }));
        if (session.dir) await intake.handOverSession(session.dir, complete, session.remoteAddress);
        else await intake.handOver(complete, UploadVia.FTP, session.remoteAddress);
      },
    });
    const engine: Engine = new Engine(
      [
        // First in, last out: FTP sessions that end while the engine stops are still handed over.
        { name: 'intake', start: async () => intake.start(), stop: () => intake.stop() },
        {
          name: 'ftp',
          start: async () => {
            await ftpd.start();
            urls.ftp = ftpd.url.replace(/\/\/(0\.0\.0\.0|\[::\]|::)(?=:)/, `//${os.hostname()}`) + '/';
          },
          stop: () => ftpd.stop(),
        },
        recheckComponent(lifecycle, config.recheckIntervalMs, logger.child({ component: 'config' })),
        builds.component(),
        remotes.component(),
        remoteBuilds.component(),
        workerBuilds.component(),
      ],
      orm,
      events,
      logger,
    );
    const services: Services = {
      auth,
      events,
      bus,
      engine,
      config: configService,
      keys,
      setup,
      builds,
      uploads,
      ports,
      subscriptions: new SubscriptionService(events),
      webhooks: new WebhookService(events),
      uploaderKeys: new UploaderKeyService(orm, configService, events),
      staging,
      mirror: new MirrorService({
        keys,
        dataDir: config.dataDir,
        logger: logger.child({ component: 'mirror' }),
      }),
      keyring,
      snapshots,
      remotes,
      dataDir: config.dataDir,
      status: (): Status => ({
        version: VERSION,
        identity: config.identity,
        httpUrl: urls.http,
        ftpUrl: urls.ftp || publicUrl('ftp', config.ftp) + '/',
        engineRunning: engine.isRunning,
        load: builds.load,
        uptimeSeconds: (Date.now() - startedAt.getTime()) / 1000,
        startedAt,
      }),
    };
    const http = new HttpServer({
      listen: config.http,
      schema: await buildDebyardSchema(),
      orm,
      services,
      consoleDir: CONSOLE_DIR,
      repositoriesDir: path.join(config.dataDir, 'repositories'),
      logs: { buildLog: (id) => builds.logPath(id), chrootLog: (key) => chrootLogPath(config.dataDir, key) },
      spoolDir: path.join(config.dataDir, 'spool'),
      keys,
      remoteApi: remotes.router(),
      workerApi: workerBuilds.router(),
      buildsDir: remoteBuilds.buildsDirRouter(),
      upload: httpUploadRouter({
        intake,
        maxFileSize: config.ftpMaxFileSize,
        logger: logger.child({ component: 'http-upload' }),
      }),
      logger: logger.child({ component: 'http' }),
    });
    const bound = await http.start();
    urls.http = publicUrl('http', bound);
    plan.loopbackHttpUrl = loopbackUrl(bound);
    onStop('http', () => http.stop());
    // Before the engine installs anything: what a previous version published, or what ran out while
    // the daemon was stopped, is published again.
    await republishRepositories(orm, republishContext);
    await engine.start(null);
    onStop('engine', () => engine.stop(null));
    // The URLs may differ from the last run: the keyring package holds them (a no-op until first built).
    await keyring.queueRefresh();
    onStop('event', () =>
      events.record(orm.em.fork(), EventType.DAEMON_STOPPED, `debyard ${config.identity} stopped`, {}),
    );
    await events.record(orm.em.fork(), EventType.DAEMON_STARTED, `debyard ${config.identity} ${VERSION} started`, {
      version: VERSION,
      httpUrl: urls.http,
      ftpUrl: urls.ftp,
    });
    logger.info(
      {
        http: urls.http,
        ftp: urls.ftp,
        dataDir: config.dataDir,
        database: config.databaseUrl ? 'external' : 'managed',
      },
      `debyard ${config.identity} is ready`,
    );
    const signal = await stopping;
    logger.info({ signal }, 'shutting down');
  } finally {
    for (const step of teardown) {
      await withTimeout(step.run(), STEP_TIMEOUT_MS).catch((err) =>
        logger.error({ err, step: step.name }, 'shutdown step failed'),
      );
    }
  }
}

async function recordUploads(
  events: EventService,
  em: Parameters<EventService['record']>[0],
  session: FtpSession,
): Promise<void> {
  await em.transactional(async (tx) => {
    for (const file of session.files) {
      const summary = file.complete
        ? `received ${file.name} (${file.size} bytes) from ${session.remoteAddress}`
        : `incomplete upload of ${file.name} from ${session.remoteAddress}: ${file.reason ?? 'unknown reason'}`;
      await events.record(tx, EventType.FTP_UPLOAD, summary, {
        file: file.name,
        size: file.size,
        complete: file.complete,
        reason: file.reason ?? null,
        remoteAddress: session.remoteAddress,
        session: session.id,
      });
    }
  });
}

/** Why the daemon could not start, with a stable code for scripts. */
export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

function publicUrl(scheme: 'http' | 'ftp', at: HostPort): string {
  const wildcard = at.host === '0.0.0.0' || at.host === '::';
  const host = wildcard ? os.hostname() : at.host.includes(':') ? `[${at.host}]` : at.host;
  return `${scheme}://${host}:${at.port}`;
}

/** How builds on this host reach the daemon's own repositories (schroot and unshare share the host network). */
function loopbackUrl(at: HostPort): string {
  const wildcard = at.host === '0.0.0.0' || at.host === '::';
  const host = wildcard ? '127.0.0.1' : at.host.includes(':') ? `[${at.host}]` : at.host;
  return `http://${host}:${at.port}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
