/**
 * The keyring package `<identity>-archive-keyring` (mini-buildd's `keyring_packages`, §6.6): generated
 * from the instance key and the published distributions (keyring-package.ts), made into a source
 * package signed by the instance key and uploaded through the intake into every distribution whose
 * suite has `buildKeyringPackage` — checked, built and installed like any upload.
 *
 * Its version is `<stamp><the distribution's default version>` (e.g. `20261122035000~test12+1`), the
 * stamp taken when its content last changed (KeyringPackageState), so asking again without a change
 * uploads nothing. Once it has been asked for, a change of the key, a repository, layout or
 * distribution (their CONFIG_PREPARED / CHECKED / ACTIVATED events) queues a `keyring_package` job a
 * little later (debounced), which builds it again where its content changed.
 *
 * Once installed, it is migrated along the whole chain of its suite (unstable -> testing -> stable),
 * unless asked `withoutMigration`: the pipeline queues a `keyring_migrate` job with INSTALLED (see
 * keyring-migration.ts); a refused or failed migration is a MIGRATION_FAILED event, the upload stays.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { JobHelpers } from 'graphile-worker';
import type { EventBus } from '../events/event-bus.js';
import { EventType, type Event } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { addJob, TASKS } from '../jobs/queue.js';
import { ConfigKind } from '../lifecycle/config-kind.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { checkTarget, uploadTarget, versionRule } from '../port/port.js';
import { rebuildStamp } from '../port/port-version.js';
import { handOverSignedSource } from '../port/signed-upload.js';
import { SourceToolError } from '../port/source-tools.js';
import { publishedDistributions } from '../repository/repository.kind.js';
import { Repository } from '../repository/repository.entity.js';
import { StagingAction } from '../staging/plan.js';
import type { StagingService } from '../staging/staging.js';
import { loadEnvironment } from '../upload/checks.js';
import type { Intake } from '../upload/intake.js';
import { Upload, UploadState } from '../upload/upload.entity.js';
import { KEYRING_ORIGIN } from './keyring-migration.js';
import { KeyringPackageState } from './keyring-state.entity.js';
import {
  contentHash,
  keyringChangelog,
  keyringPackageFiles,
  keyringPackageName,
  type KeyringPackageInput,
} from './keyring-package.js';

/** A keyring package is not the place for lintian's opinions (mini-buildd builds its own the same way). */
const KEYRING_OPTIONS = ['lintian-mode=ignore'];
/** How long after a configuration change the rebuild waits for more changes. */
const DEBOUNCE_MS = 20_000;
const WATCHED_KINDS = new Set<string>([
  ConfigKind.DAEMON,
  ConfigKind.REPOSITORY,
  ConfigKind.LAYOUT,
  ConfigKind.DISTRIBUTION,
]);
const WATCHED_EVENTS = new Set<string>([
  EventType.CONFIG_PREPARED,
  EventType.CONFIG_CHECKED,
  EventType.CONFIG_ACTIVATED,
  EventType.CONFIG_DEACTIVATED,
  EventType.CONFIG_REMOVED,
]);

export enum KeyringTargetState {
  /** Uploaded now: see `upload`. */
  UPLOADED = 'UPLOADED',
  /** This version is in the repository already. */
  UP_TO_DATE = 'UP_TO_DATE',
  /** An upload of this version is under way. */
  PENDING = 'PENDING',
  /** The distribution cannot take it (inactive, a newer version there…): see `reason`. */
  REFUSED = 'REFUSED',
}

export interface KeyringTarget {
  distribution: string;
  version: string;
  state: KeyringTargetState;
  upload: Upload | null;
  reason: string | null;
}

export interface KeyringServiceOptions {
  orm: MikroORM;
  events: EventService;
  keys: InstanceKeyStore;
  intake: Intake;
  staging: StagingService;
  dataDir: string;
  logger: Logger;
  /** The public HTTP and FTP URLs, as the status reports them (they go into the package). */
  urls(): { http: string; ftp: string };
}

export class KeyringService {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: KeyringServiceOptions) {}

  /** graphile-worker tasks. */
  tasks() {
    return {
      [TASKS.KEYRING_PACKAGE]: () => this.refresh(),
      [TASKS.KEYRING_MIGRATE]: (payload: unknown, helpers: JobHelpers) => this.migrateAlong(payload, helpers),
    };
  }

  /**
   * Builds the keyring package into every distribution whose suite builds it (or those named), where
   * this version is not there yet; returns one row per distribution. Once installed, each is migrated
   * along the chain of its suite unless `withoutMigration`. Throws NOT_FOUND when no distribution
   * builds it, PORT_FAILED when making the source failed.
   */
  build(
    by: string,
    distributions?: string[] | null,
    opts: { withoutMigration?: boolean } = {},
  ): Promise<KeyringTarget[]> {
    return this.exclusive(() => this.buildNow(by, distributions ?? null, true, !opts.withoutMigration));
  }

  /**
   * The `keyring_migrate` job: migrates an installed keyring package along the whole chain of its
   * suite. Where it is already (a job run again) is fine; a refusal, or a failure on the last attempt,
   * is logged and recorded as MIGRATION_FAILED with the reason.
   */
  async migrateAlong(payload: unknown, helpers: Pick<JobHelpers, 'job'>): Promise<void> {
    const id = (payload as { upload?: unknown } | null)?.upload;
    if (!Number.isInteger(id)) throw new Error(`bad keyring migration payload ${JSON.stringify(payload)}`);
    const upload = await this.opts.orm.em.fork().findOne(Upload, id as number);
    if (!upload || upload.state !== UploadState.INSTALLED || !upload.source || !upload.targetDistribution) return;
    const { source, version, targetDistribution: distribution } = upload;
    const by = `keyring package (upload ${upload.id})`;
    try {
      const done = await this.opts.staging.apply(
        { action: StagingAction.MIGRATE, source, distribution, version, full: true },
        by,
      );
      this.opts.logger.info(
        { source, version, steps: done.steps, upload: upload.id },
        'keyring package migrated along',
      );
    } catch (err) {
      if (err instanceof DomainError && err.code === 'ALREADY_MIGRATED') return;
      const lastAttempt = helpers.job.attempts >= helpers.job.max_attempts;
      if (!(err instanceof DomainError) && !lastAttempt) throw err; // the database, reprepro: try again
      const reason = err instanceof DomainError ? err.message : `${(err as Error).message} (gave up)`;
      this.opts.logger.warn({ source, version, distribution, upload: upload.id, reason }, 'keyring migration failed');
      await this.opts.events.record(
        this.opts.orm.em.fork(),
        EventType.MIGRATION_FAILED,
        `migrating ${source} ${version} along from ${distribution} failed: ${reason}`,
        {
          source,
          version,
          distribution,
          upload: upload.id,
          by,
          code: err instanceof DomainError ? err.code : 'MIGRATION_FAILED',
          reason,
        },
      );
    }
  }

  /** The job: builds again where the content changed, once the package has been asked for at all. */
  refresh(): Promise<void> {
    return this.exclusive(async () => {
      const state = await this.opts.orm.em.fork().findOne(KeyringPackageState, 1);
      if (!state) return;
      const targets = await this.buildNow('configuration change', null, false, true);
      const made = targets.filter((t) => t.state === KeyringTargetState.UPLOADED);
      if (made.length)
        this.opts.logger.info({ uploads: made.map((t) => t.upload?.id) }, 'keyring package rebuilt after a change');
    });
  }

  /** Queues {@link refresh} after configuration events that may change what the package holds. */
  watch(bus: EventBus): () => void {
    return bus.subscribe((event: Event) => {
      if (!WATCHED_EVENTS.has(event.type) || !WATCHED_KINDS.has(String(event.payload.kind))) return;
      void this.queueRefresh().catch((err: unknown) =>
        this.opts.logger.warn({ err }, 'could not queue the keyring package rebuild'),
      );
    });
  }

  /** Queues the refresh job (one pending at most, moved back by each call). */
  async queueRefresh(delayMs = DEBOUNCE_MS): Promise<void> {
    await this.opts.orm.em
      .fork()
      .transactional((tx) =>
        addJob(
          tx,
          TASKS.KEYRING_PACKAGE,
          {},
          { jobKey: TASKS.KEYRING_PACKAGE, runAt: new Date(Date.now() + delayMs), maxAttempts: 3 },
        ),
      );
  }

  /** The distributions whose suite builds the keyring package: active, uploadable, sorted. */
  async targets(em: EntityManager = this.opts.orm.em.fork()): Promise<string[]> {
    const repos = await loadRepositories(em);
    return repos
      .filter((r) => r.status === ConfigStatus.ACTIVE)
      .flatMap((r) => {
        const builds = new Set(
          r.layout.suiteOptions
            .getItems()
            .filter((o) => o.buildKeyringPackage && o.uploadable)
            .map((o) => o.suite.name),
        );
        return publishedDistributions(r)
          .filter((p) => p.rollback === null && builds.has(p.suite))
          .map((p) => p.name);
      })
      .sort();
  }

  private async buildNow(
    by: string,
    only: string[] | null,
    explicit: boolean,
    migrateAlong: boolean,
  ): Promise<KeyringTarget[]> {
    const em = this.opts.orm.em.fork();
    const all = await this.targets(em);
    if (only) {
      const unknown = only.filter((d) => !all.includes(d));
      if (unknown.length)
        throw new DomainError(
          'DISTRIBUTION_UNKNOWN',
          `${unknown.join(', ')} ${unknown.length > 1 ? 'do' : 'does'} not build the keyring package: ` +
            (all.length ? `those that do are ${all.join(', ')}` : 'no active distribution does'),
        );
    }
    const names = only ?? all;
    if (!names.length) {
      if (!explicit) return [];
      throw new DomainError(
        'NOT_FOUND',
        'no active distribution builds the keyring package: set buildKeyringPackage on an uploadable suite of the layout',
      );
    }
    const input = await this.input(em);
    const files = keyringPackageFiles(input);
    const hash = contentHash(files);
    const now = new Date();
    let state = await em.findOne(KeyringPackageState, 1);
    if (!state) {
      state = em.create(KeyringPackageState, { contentHash: hash, versionStamp: rebuildStamp(now), changedAt: now });
    } else if (state.contentHash !== hash) state.changeTo(hash, rebuildStamp(now), now);
    await em.flush();

    const env = await loadEnvironment(em, {
      dataDir: this.opts.dataDir,
      keys: this.opts.keys,
      logger: this.opts.logger,
    });
    const source = keyringPackageName(input.identity);
    const results: KeyringTarget[] = [];
    for (const name of names) {
      let version = '';
      try {
        const to = uploadTarget(env, name);
        version = `${state.versionStamp}${versionRule(to, 'default')}`;
        await checkTarget(em, env, [], source, to, version, false);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        const pending = err.code === 'VERSION_EXISTS' && err.extensions.upload !== undefined;
        const there = err.code === 'VERSION_EXISTS' && !pending;
        results.push({
          distribution: name,
          version,
          state: pending
            ? KeyringTargetState.PENDING
            : there
              ? KeyringTargetState.UP_TO_DATE
              : KeyringTargetState.REFUSED,
          upload: null,
          reason: there ? null : err.message,
        });
        continue;
      }
      const id = await this.make(input, files, source, name, version, by, migrateAlong).catch((err: unknown) => {
        const reason = err instanceof SourceToolError || err instanceof DomainError ? err.message : String(err);
        throw new DomainError('PORT_FAILED', `making ${source} ${version} for ${name} failed: ${reason}`);
      });
      results.push({
        distribution: name,
        version,
        state: KeyringTargetState.UPLOADED,
        upload: await em.fork().findOneOrFail(Upload, id),
        reason: null,
      });
    }
    return results;
  }

  /** Writes the source tree into a port directory and hands it over signed; returns the Upload id. */
  private async make(
    input: KeyringPackageInput,
    files: ReturnType<typeof keyringPackageFiles>,
    source: string,
    distribution: string,
    version: string,
    by: string,
    migrateAlong: boolean,
  ): Promise<number> {
    const dir = await this.opts.intake.portDir();
    try {
      const tree = path.join(dir, source);
      for (const f of files) {
        const file = path.join(tree, f.path);
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, f.content, { mode: f.mode });
      }
      await fs.writeFile(
        path.join(tree, 'debian/changelog'),
        keyringChangelog(input, { version, distribution, options: KEYRING_OPTIONS, date: new Date() }),
      );
      const id = await handOverSignedSource(
        {
          dir,
          tree: source,
          source,
          version,
          distribution,
          origin: { from: KEYRING_ORIGIN, fromVersion: version, by, autoPortOf: null, migrateAlong },
        },
        {
          keys: this.opts.keys,
          intake: this.opts.intake,
          env: { email: input.maintainerEmail, fullName: input.maintainerName, home: dir },
        },
      );
      this.opts.logger.info({ source, version, distribution, upload: id, by }, 'keyring package handed over');
      return id;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** What the package is made of, now. */
  private async input(em: EntityManager): Promise<KeyringPackageInput> {
    const daemon = await em.findOne(DaemonConfig, 1);
    const key = await this.opts.keys.load();
    if (!daemon || !key) throw new DomainError('NOT_FOUND', 'the daemon has no key yet: prepare the daemon first');
    const urls = this.opts.urls();
    const repos = (await loadRepositories(em)).filter((r) => r.status !== ConfigStatus.REMOVED);
    return {
      identity: daemon.identity,
      maintainerName: `debyard archive ${daemon.identity}`,
      maintainerEmail: daemon.emailAddress,
      key: await this.opts.keys.binaryPublicKey(),
      keyFingerprint: key.fingerprint,
      httpUrl: urls.http,
      ftpUrl: urls.ftp || null,
      repositories: repos.map((r) => ({ identity: r.identity, distributions: publishedDistributions(r) })),
    };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

function loadRepositories(em: EntityManager): Promise<Repository[]> {
  return em.find(
    Repository,
    {},
    {
      populate: [
        'layout.suiteOptions.suite',
        'distributions.baseSource',
        'distributions.components',
        'distributions.architectureOptions.architecture',
      ],
      orderBy: { identity: 'asc' },
    },
  );
}
