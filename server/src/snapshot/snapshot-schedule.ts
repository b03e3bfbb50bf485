/**
 * Scheduled snapshots (mini-buildd's `cronjob_snapshots`, §6.7), as pure functions: which
 * distributions get one (the stable suites: not experimental, migrating nowhere), its name and when
 * it expires. Unlike mini-buildd, which keeps them for fixed times, a repository says how many of each
 * kind to keep; the expiry is set so that the run that makes the (N+1)th removes the oldest.
 */
import { SnapshotKind } from './snapshot.entity.js';

export type ScheduledKind = Exclude<SnapshotKind, SnapshotKind.MANUAL>;

/** graphile-worker crontab lines (UTC): Sunday, the 1st of the month, the 1st of January, early morning. */
export const SNAPSHOT_CRONTABS: Record<ScheduledKind, string> = {
  [SnapshotKind.WEEKLY]: '13 2 * * 0',
  [SnapshotKind.MONTHLY]: '23 2 1 * *',
  [SnapshotKind.YEARLY]: '33 2 1 1 *',
};

/** A run is never exactly on time: expiring a little early keeps the count right. */
const SLACK_MS = 6 * 3600 * 1000;

export interface ScheduleRepository {
  identity: string;
  /** How many to keep per kind (0: none). */
  keep: Record<ScheduledKind, number>;
  distributions: { name: string; stable: boolean; components: string[] }[];
}

export interface PlannedSnapshot {
  repository: string;
  distribution: string;
  name: string;
  components: string[];
  expiresAt: Date;
}

/** `weekly-2026-11-22`: the kind and the UTC day. */
export function scheduledName(kind: ScheduledKind, now: Date): string {
  return `${kind.toLowerCase()}-${now.toISOString().slice(0, 10)}`;
}

/** When a snapshot made `now` expires if `keep` of its kind are kept. */
export function expiryOf(kind: ScheduledKind, keep: number, now: Date): Date {
  const at = new Date(now);
  if (kind === SnapshotKind.WEEKLY) at.setUTCDate(at.getUTCDate() + 7 * keep);
  else if (kind === SnapshotKind.MONTHLY) at.setUTCMonth(at.getUTCMonth() + keep);
  else at.setUTCFullYear(at.getUTCFullYear() + keep);
  return new Date(at.getTime() - SLACK_MS);
}

/** The snapshots a run of `kind` makes now. */
export function plannedSnapshots(repos: ScheduleRepository[], kind: ScheduledKind, now: Date): PlannedSnapshot[] {
  return repos.flatMap((r) => {
    const keep = r.keep[kind];
    if (keep <= 0) return [];
    return r.distributions
      .filter((d) => d.stable)
      .map((d) => ({
        repository: r.identity,
        distribution: d.name,
        name: scheduledName(kind, now),
        components: d.components,
        expiresAt: expiryOf(kind, keep, now),
      }));
  });
}
