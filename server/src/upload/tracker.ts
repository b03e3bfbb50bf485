/*
 * The package tracker: everything known about one source package, from the repositories (reprepro),
 * the uploads and builds tables and the event log. Read-only; nothing here changes state.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Build, BuildResult, BuildState } from '../build/build.entity.js';
import { Event, EventType } from '../events/event.entity.js';
import { isStaffOnly } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import type { KindContext } from '../lifecycle/config-kind.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import { Repository } from '../repository/repository.entity.js';
import { repreproFor } from '../repository/repository.kind.js';
import { Upload, UploadState } from './upload.entity.js';

/** Debian's source package names (Policy 5.6.1), as the tracker accepts them. */
const SOURCE_NAME = /^[a-z0-9][a-z0-9.+-]+$/;
const STAFF_ONLY_TYPES = Object.values(EventType).filter(isStaffOnly);

export const TRACKER_LIMITS = { uploads: 200, builds: 500, events: 100, buildTimes: 500, packages: 200 } as const;

/** Throws BAD_USER_INPUT unless `source` is a source package name. */
export function checkSourceName(source: string): string {
  if (!SOURCE_NAME.test(source) || source.length > 100)
    throw new DomainError(
      'BAD_USER_INPUT',
      `"${source}" is not a source package name: lower-case letters, digits, ".", "+" and "-", at least two characters, starting with a letter or digit`,
    );
  return source;
}

export interface TrackedVersion {
  repository: string;
  distribution: string;
  version: string;
  component: string;
  /** N for `<distribution>-rollbackN`, null for the distribution itself. */
  rollback: number | null;
}

/** The rollback number of `<codename>-<repo>-<suite>-rollback<N>`, or null. */
export function rollbackOf(distribution: string): number | null {
  const m = /-rollback(\d+)$/.exec(distribution);
  return m ? Number(m[1]) : null;
}

/**
 * The versions of `source` in every distribution of every repository that has been prepared (a
 * repository never prepared has no reprepro database to ask). A repository whose reprepro fails is
 * left out and logged, so one broken repository does not hide the others.
 */
export async function trackedVersions(ctx: KindContext, source: string): Promise<TrackedVersion[]> {
  const repositories = await ctx.em.find(
    Repository,
    { status: { $ne: ConfigStatus.REMOVED } },
    { orderBy: { identity: 'asc' } },
  );
  const rows: TrackedVersion[] = [];
  for (const repo of repositories) {
    const reprepro = repreproFor(ctx, repo);
    if (!fs.existsSync(path.join(reprepro.basedir, 'conf', 'distributions'))) continue;
    try {
      for (const row of await reprepro.ls(source))
        rows.push({
          repository: repo.identity,
          distribution: row.distribution,
          version: row.version,
          component: row.component,
          rollback: rollbackOf(row.distribution),
        });
    } catch (err) {
      ctx.logger.warn({ err, repository: repo.identity, source }, 'reprepro ls failed; the tracker leaves it out');
    }
  }
  return rows.sort(
    // A distribution, then its rollbacks in order (rollback2 before rollback10).
    (a, b) =>
      a.repository.localeCompare(b.repository, 'en') ||
      a.distribution.localeCompare(b.distribution, 'en', { numeric: true }),
  );
}

export function sourceUploads(em: EntityManager, source: string, first: number): Promise<Upload[]> {
  return em.find(Upload, { source }, { orderBy: { id: 'desc' }, limit: first });
}

export function sourceBuilds(em: EntityManager, source: string, first: number): Promise<Build[]> {
  return em.find(Build, { source }, { orderBy: { id: 'desc' }, limit: first });
}

/** Events whose payload names `source`, newest first; audit events only for staff. */
export function sourceEvents(em: EntityManager, source: string, staff: boolean, limit: number): Promise<Event[]> {
  return em.find(
    Event,
    { payload: { source }, ...(staff ? {} : { type: { $nin: STAFF_ONLY_TYPES } }) },
    { orderBy: { id: 'desc' }, limit },
  );
}

export interface BuildTimeSample {
  build: number;
  version: string;
  architecture: string;
  seconds: number;
  finishedAt: Date;
}

/**
 * How long the successful builds of `source` took, oldest first: sbuild's own wall time, or start to
 * finish where sbuild did not report it. Test builds are left out: they are not versions of the package.
 */
export async function buildTimes(em: EntityManager, source: string, limit: number): Promise<BuildTimeSample[]> {
  const builds = await em.find(
    Build,
    { source, state: BuildState.BUILT, result: BuildResult.SUCCESSFUL, testBuild: false },
    { orderBy: { finishedAt: 'desc', id: 'desc' }, limit },
  );
  const samples: BuildTimeSample[] = [];
  for (const b of builds.reverse()) {
    if (!b.finishedAt) continue;
    const seconds = b.sbuildSeconds ?? (b.startedAt ? (b.finishedAt.getTime() - b.startedAt.getTime()) / 1000 : null);
    if (seconds === null) continue;
    samples.push({ build: b.id, version: b.version, architecture: b.architecture, seconds, finishedAt: b.finishedAt });
  }
  return samples;
}

export interface PackageSummaryRow {
  source: string;
  latestVersion: string | null;
  lastUploadAt: Date;
  lastState: UploadState;
  uploads: number;
}

/** Every source package that was ever uploaded, most recently uploaded first; `search` matches part of the name. */
export async function packageSummaries(
  em: EntityManager,
  opts: { search?: string | null; first: number },
): Promise<PackageSummaryRow[]> {
  const search = opts.search?.trim().toLowerCase() ?? '';
  const rows = (await em.execute(
    `select * from (
       select distinct on (source) source, version, received_at, state, count(*) over (partition by source) as uploads
       from upload
       where source is not null${search ? ' and strpos(source, ?) > 0' : ''}
       order by source, id desc
     ) latest
     order by received_at desc, source
     limit ?`,
    search ? [search, opts.first] : [opts.first],
  )) as {
    source: string;
    version: string | null;
    received_at: Date | string;
    state: UploadState;
    uploads: string | number;
  }[];
  return rows.map((r) => ({
    source: r.source,
    latestVersion: r.version,
    lastUploadAt: new Date(r.received_at),
    lastState: r.state,
    uploads: Number(r.uploads),
  }));
}
