/**
 * Snapshots of distributions (mini-buildd's `snapshot_create|ls|delete`, §3.6, §6.7): reprepro's
 * `gensnapshot` publishes the distribution's indices, frozen and signed, under
 * `dists/<distribution>/snapshots/<name>/` and keeps their packages in the pool; a Snapshot row says
 * who made it and when it expires. Apt follows one with the suite `<distribution>/snapshots/<name>`.
 *
 * Consistency: a snapshot is made inside the transaction that inserts its row (the unique
 * (distribution, name) makes a second one with the same name fail before reprepro runs), and the
 * event is written last, so a failure leaves neither. Deleting runs reprepro first (each step of it
 * can run again), then removes the row: a crash in between leaves a row whose delete can be repeated.
 */
import { UniqueConstraintViolationException, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { SNAPSHOT_NAME } from '../repository/reprepro.js';
import { publishedDistributions, repreproFor, type PublishedDistribution } from '../repository/repository.kind.js';
import { Repository } from '../repository/repository.entity.js';
import { Snapshot, SnapshotKind } from './snapshot.entity.js';
import {
  plannedSnapshots,
  SNAPSHOT_CRONTABS,
  type ScheduledKind,
  type ScheduleRepository,
} from './snapshot-schedule.js';

const MAX_NAME = 100;

export interface SnapshotServiceOptions {
  orm: MikroORM;
  events: EventService;
  keys: InstanceKeyStore;
  dataDir: string;
  logger: Logger;
}

export interface SnapshotFilter {
  repository?: string | null;
  distribution?: string | null;
}

export interface ScheduleRun {
  created: Snapshot[];
  deleted: Snapshot[];
}

export class SnapshotService {
  constructor(private readonly opts: SnapshotServiceOptions) {}

  /** The cron schedules: weekly, monthly and yearly snapshots of the stable suites. */
  schedules(): { name: string; crontab: string; run(): Promise<void> }[] {
    return (Object.keys(SNAPSHOT_CRONTABS) as ScheduledKind[]).map((kind) => ({
      name: `snapshots_${kind.toLowerCase()}`,
      crontab: SNAPSHOT_CRONTABS[kind],
      run: async () => {
        await this.runSchedule(kind);
      },
    }));
  }

  /** Snapshots, newest first. */
  list(filter: SnapshotFilter = {}, em: EntityManager = this.opts.orm.em.fork()): Promise<Snapshot[]> {
    return em.find(
      Snapshot,
      {
        ...(filter.repository ? { repository: filter.repository } : {}),
        ...(filter.distribution ? { distribution: filter.distribution } : {}),
      },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
  }

  /**
   * Makes snapshot `name` of `distribution`. Throws DomainError DISTRIBUTION_UNKNOWN (not a published
   * distribution), BAD_USER_INPUT (an unsafe name, an expiry in the past), ALREADY_EXISTS.
   */
  async create(
    distribution: string,
    name: string,
    by: string | null,
    opts: { kind?: SnapshotKind; expiresAt?: Date | null } = {},
  ): Promise<Snapshot> {
    checkName(name);
    if (opts.expiresAt && opts.expiresAt.getTime() <= Date.now())
      throw new DomainError('BAD_USER_INPUT', `the expiry ${opts.expiresAt.toISOString()} is in the past`, {
        field: 'expiresAt',
      });
    const em = this.opts.orm.em.fork();
    const { repo, published } = await this.published(em, distribution);
    const kind = opts.kind ?? SnapshotKind.MANUAL;
    const reprepro = repreproFor(this.context(em), repo);
    try {
      return await em.transactional(async (tx) => {
        const snapshot = tx.create(Snapshot, {
          repository: repo.identity,
          distribution: published.name,
          name,
          components: published.components,
          kind,
          expiresAt: opts.expiresAt ?? null,
          createdBy: by,
        });
        await tx.flush();
        await reprepro.gensnapshot(published.name, name);
        await this.opts.events.record(
          tx,
          EventType.SNAPSHOT_CREATED,
          `snapshot ${name} of ${published.name} created${by ? ` by ${by}` : ` (${kind.toLowerCase()})`}`,
          {
            repository: repo.identity,
            distribution: published.name,
            name,
            kind,
            expiresAt: snapshot.expiresAt?.toISOString() ?? null,
            by,
          },
        );
        return snapshot;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException)
        throw new DomainError(
          'ALREADY_EXISTS',
          `${published.name} has a snapshot named ${name} already: choose another name, or delete that one first`,
          { field: 'name' },
        );
      throw err;
    }
  }

  /** Deletes snapshot `name` of `distribution`; throws DomainError NOT_FOUND when there is none. */
  async delete(distribution: string, name: string, by: string | null, reason?: string): Promise<Snapshot> {
    const em = this.opts.orm.em.fork();
    const snapshot = await em.findOne(Snapshot, { distribution, name });
    if (!snapshot) {
      const others = (await this.list({ distribution }, em)).map((s) => s.name);
      throw new DomainError(
        'NOT_FOUND',
        `${distribution} has no snapshot named ${name}` +
          (others.length ? ` (it has ${others.join(', ')})` : ': it has none'),
        { field: 'name' },
      );
    }
    const repo = await em.findOne(Repository, { identity: snapshot.repository });
    if (repo) await repreproFor(this.context(em), repo).deleteSnapshot(distribution, name);
    await em.transactional(async (tx) => {
      await tx.nativeDelete(Snapshot, { id: snapshot.id });
      await this.opts.events.record(
        tx,
        EventType.SNAPSHOT_DELETED,
        `snapshot ${name} of ${distribution} deleted${by ? ` by ${by}` : ''}${reason ? ` (${reason})` : ''}`,
        { repository: snapshot.repository, distribution, name, kind: snapshot.kind, by, reason: reason ?? null },
      );
    });
    return snapshot;
  }

  /**
   * One run of a schedule: a snapshot of every stable suite of every active repository that keeps
   * snapshots of this kind (one a day at most: a name taken is skipped), then every snapshot that has
   * expired is deleted. A failure in one distribution is logged and does not stop the others.
   */
  async runSchedule(kind: ScheduledKind, now = new Date()): Promise<ScheduleRun> {
    const em = this.opts.orm.em.fork();
    const repos = await loadRepositories(em);
    const plan = plannedSnapshots(
      repos.filter((r) => r.status === ConfigStatus.ACTIVE).map(scheduleRepository),
      kind,
      now,
    );
    const run: ScheduleRun = { created: [], deleted: [] };
    for (const p of plan) {
      if (await em.fork().findOne(Snapshot, { distribution: p.distribution, name: p.name })) continue;
      try {
        run.created.push(await this.create(p.distribution, p.name, null, { kind, expiresAt: p.expiresAt }));
      } catch (err) {
        this.opts.logger.error({ err, distribution: p.distribution, name: p.name }, 'scheduled snapshot failed');
      }
    }
    const expired = await em.fork().find(Snapshot, { expiresAt: { $lte: now } }, { orderBy: { id: 'asc' } });
    for (const s of expired) {
      try {
        run.deleted.push(await this.delete(s.distribution, s.name, null, `expired ${s.expiresAt!.toISOString()}`));
      } catch (err) {
        this.opts.logger.error(
          { err, distribution: s.distribution, name: s.name },
          'deleting an expired snapshot failed',
        );
      }
    }
    this.opts.logger.info(
      { kind, created: run.created.map((s) => s.name), deleted: run.deleted.map((s) => s.name) },
      'snapshot schedule ran',
    );
    return run;
  }

  /** The repository and published distribution named `distribution`, or DISTRIBUTION_UNKNOWN. */
  private async published(
    em: EntityManager,
    distribution: string,
  ): Promise<{ repo: Repository; published: PublishedDistribution }> {
    const repos = (await loadRepositories(em)).filter((r) => r.status !== ConfigStatus.REMOVED);
    for (const repo of repos) {
      const published = publishedDistributions(repo).find((p) => p.name === distribution);
      if (published) return { repo, published };
    }
    const hint = repos.length
      ? `published distributions look like ${publishedDistributions(repos[0]!)[0]?.name ?? '<codename>-<repo>-<suite>'}`
      : 'no repository is prepared';
    throw new DomainError('DISTRIBUTION_UNKNOWN', `${distribution} is not a published distribution: ${hint}`, {
      field: 'distribution',
    });
  }

  private context(em: EntityManager) {
    return { em, keys: this.opts.keys, dataDir: this.opts.dataDir, logger: this.opts.logger };
  }
}

/** The apt line of a snapshot: `deb [signed-by=…] <url>/repositories/<repo>/ <dist>/snapshots/<name> <components>`. */
export function snapshotAptLine(s: Snapshot, baseUrl: string, signedBy: string): string {
  const url = `${baseUrl.replace(/\/+$/, '')}/repositories/${s.repository}/`;
  return `deb [signed-by=${signedBy}] ${url} ${s.distribution}/snapshots/${s.name} ${s.components.join(' ')}`;
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name) || name.length > MAX_NAME)
    throw new DomainError(
      'BAD_USER_INPUT',
      `"${name}" is not a snapshot name: use up to ${MAX_NAME} letters, digits and _.~+- starting with a letter or digit, e.g. release-1.0`,
      { field: 'name' },
    );
}

function scheduleRepository(r: Repository): ScheduleRepository {
  const stable = new Set(
    r.layout.suiteOptions
      .getItems()
      .filter((o) => !o.experimental && !o.migratesTo)
      .map((o) => o.suite.name),
  );
  return {
    identity: r.identity,
    keep: {
      [SnapshotKind.WEEKLY]: r.weeklySnapshots,
      [SnapshotKind.MONTHLY]: r.monthlySnapshots,
      [SnapshotKind.YEARLY]: r.yearlySnapshots,
    },
    distributions: publishedDistributions(r)
      .filter((p) => p.rollback === null)
      .map((p) => ({ name: p.name, stable: stable.has(p.suite), components: p.components })),
  };
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
