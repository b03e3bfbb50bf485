/*
 * Rollbacks (mini-buildd §3.7) as reprepro operations: every change of a source package in a
 * repository — an install, a migration, a removal, a restore — is planned as a list of `copysrc` and
 * `removesrc` operations over what reprepro lists, so that the plan a person confirms, the calls that
 * run and the versions that end up where can be derived from one another.
 */
import { parseListing, type Reprepro, type RepreproListing, type RepreproRunResult } from './reprepro.js';

/** A reprepro call inside `Reprepro.sequence`. */
export type RepreproExec = (args: string[]) => Promise<RepreproRunResult>;

/** One change of one distribution: copy `version` of the source from `from` into `to`, or remove it from `from`. */
export type RepreproOp =
  { op: 'copy'; to: string; from: string; version: string } | { op: 'remove'; from: string; version: string };

/** Which version of one source package each distribution holds (reprepro holds at most one). */
export class SourceListing {
  private readonly versions: Map<string, string>;

  constructor(entries: Iterable<readonly [string, string]> = []) {
    this.versions = new Map(entries);
  }

  static of(source: string, rows: RepreproListing[]): SourceListing {
    return new SourceListing(rows.filter((r) => r.source === source).map((r) => [r.distribution, r.version] as const));
  }

  /** `reprepro --type dsc lsbycomponent SOURCE` inside a sequence. */
  static async read(exec: RepreproExec, source: string): Promise<SourceListing> {
    return SourceListing.of(source, parseListing((await exec(['--type', 'dsc', 'lsbycomponent', source])).stdout));
  }

  versionIn(distribution: string): string | null {
    return this.versions.get(distribution) ?? null;
  }

  /** Every distribution holding `version`, in name order. */
  holding(version: string): string[] {
    return [...this.versions.entries()]
      .filter(([, v]) => v === version)
      .map(([d]) => d)
      .sort();
  }

  entries(): [string, string][] {
    return [...this.versions.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** What the listing becomes after `ops`. */
  after(ops: RepreproOp[]): SourceListing {
    const next = new SourceListing(this.versions);
    for (const o of ops) {
      if (o.op === 'copy') next.versions.set(o.to, o.version);
      else next.versions.delete(o.from);
    }
    return next;
  }
}

export function rollbackName(distribution: string, n: number): string {
  return `${distribution}-rollback${n}`;
}

/**
 * mini-buildd's rollback shift of `distribution` (which keeps `rollbacks` of them): rollback N-1
 * takes rollback N-2's version, …, rollback0 takes the distribution's, so rollback0 is the newest
 * previous version and the oldest falls off. Nothing when the distribution has no version of the
 * source, when it holds `incoming` already, or when rollback0 holds its version already: an
 * interrupted action run again never shifts twice.
 */
export function shiftOps(
  listing: SourceListing,
  distribution: string,
  rollbacks: number,
  incoming: string | null = null,
): RepreproOp[] {
  const current = listing.versionIn(distribution);
  if (rollbacks < 1 || current === null || current === incoming) return [];
  if (current === listing.versionIn(rollbackName(distribution, 0))) return [];
  const ops: RepreproOp[] = [];
  for (let r = rollbacks - 1; r >= 0; r--) {
    const from = r === 0 ? distribution : rollbackName(distribution, r - 1);
    const version = listing.versionIn(from);
    if (version !== null) ops.push({ op: 'copy', to: rollbackName(distribution, r), from, version });
  }
  return ops;
}

/** The reprepro arguments of one operation, without an export (the caller exports once at the end). */
export function opArgs(source: string, o: RepreproOp): string[] {
  return o.op === 'copy'
    ? ['--export=silent-never', 'copysrc', o.to, o.from, source, o.version]
    : ['--export=silent-never', 'removesrc', o.from, source, o.version];
}

/** Distributions whose indices `ops` change, for the one export at the end. */
export function touchedBy(ops: RepreproOp[]): string[] {
  return [...new Set(ops.map((o) => (o.op === 'copy' ? o.to : o.from)))].sort();
}

/**
 * Plans on a fresh listing inside the repository's lock (a change made meanwhile is seen, not undone),
 * runs the operations without exporting, then exports the distributions they touched once — also when
 * one fails, so that the indices show what reprepro's database holds; running it again goes on from
 * there.
 */
export function runPlanned<T extends { ops: RepreproOp[] }>(
  reprepro: Reprepro,
  source: string,
  plan: (listing: SourceListing) => T,
): Promise<T> {
  return reprepro.sequence(async (exec) => {
    const planned = plan(await SourceListing.read(exec, source));
    const touched = touchedBy(planned.ops);
    if (!touched.length) return planned;
    try {
      for (const o of planned.ops) await exec(opArgs(source, o));
    } catch (err) {
      await exec(['export', ...touched]).catch(() => undefined);
      throw err;
    }
    await exec(['export', ...touched]);
    return planned;
  });
}
