/*
 * Migrate, remove and restore (mini-buildd §3.7) planned over what reprepro lists, without touching
 * anything: the refusals, the reprepro operations and what each distribution holds afterwards. The
 * service plans once to show a person exactly what will happen and again inside the repository's
 * lock, on a fresh listing, to do it.
 */
import { DomainError } from '../graphql/errors.js';
import { rollbackName, shiftOps, type RepreproOp, type SourceListing } from '../repository/rollbacks.js';
import { compareVersions } from '../upload/debversion.js';

export enum StagingAction {
  MIGRATE = 'MIGRATE',
  REMOVE = 'REMOVE',
  RESTORE = 'RESTORE',
}

/** A suite of the repository's layout, as the plans need it. */
export interface SuiteRules {
  name: string;
  migratesTo: string | null;
  rollbacks: number;
}

/** One codename of one repository: its distributions are `<codename>-<repository>-<suite>[-rollback<n>]`. */
export interface StagingScope {
  repository: string;
  codename: string;
  suites: SuiteRules[];
}

/** A distribution name taken apart (see `locate` in the upload checks). */
export interface StagingDistribution {
  suite: string;
  rollback: number | null;
  name: string;
}

export interface DistributionChange {
  distribution: string;
  before: string | null;
  after: string | null;
}

export interface StagingStep {
  from: string;
  to: string | null;
}

export interface StagingPlan {
  action: StagingAction;
  source: string;
  version: string;
  repository: string;
  /** Migrate: where it comes from; remove: where it goes from; restore: where it goes back into. */
  distribution: string;
  /** Migrate: each suite it enters (from → to); remove: from → null; restore: the rollback → the distribution. */
  steps: StagingStep[];
  ops: RepreproOp[];
  /** Every distribution whose version changes, before and after. */
  changes: DistributionChange[];
  /** What happens, one sentence each, for a confirmation. */
  summary: string[];
  /** A removal: the rollback that keeps the removed version (null: none does). */
  keptIn?: string | null;
}

const suiteName = (scope: StagingScope, suite: string) => `${scope.codename}-${scope.repository}-${suite}`;

function rulesOf(scope: StagingScope, suite: string): SuiteRules {
  const rules = scope.suites.find((s) => s.name === suite);
  if (!rules) throw new Error(`suite ${suite} is not in the layout of repository ${scope.repository}`);
  return rules;
}

/** "testing", "testing-rollback0": a distribution as people say it, within one codename and repository. */
function short(scope: StagingScope, distribution: string): string {
  const prefix = `${scope.codename}-${scope.repository}-`;
  return distribution.startsWith(prefix) ? distribution.slice(prefix.length) : distribution;
}

function where(listing: SourceListing, source: string, repository: string): string {
  const rows = listing.entries();
  return rows.length
    ? `repository ${repository} has ${rows.map(([d, v]) => `${v} in ${d}`).join(', ')}`
    : `repository ${repository} has no version of ${source}`;
}

/** The version to act on in `distribution`: the one there, which `wanted` (if given) must be. */
function versionIn(
  listing: SourceListing,
  scope: StagingScope,
  source: string,
  distribution: string,
  wanted?: string | null,
) {
  const here = listing.versionIn(distribution);
  if (here === null || (wanted && compareVersions(here, wanted) !== 0))
    throw new DomainError(
      'SOURCE_NOT_FOUND',
      `${source}${wanted ? ` ${wanted}` : ''} is not in ${distribution}: ${where(listing, source, scope.repository)}`,
      { distribution },
    );
  return here;
}

function notRollback(d: StagingDistribution, what: string, instead: string): void {
  if (d.rollback !== null)
    throw new DomainError('ROLLBACK_DISTRIBUTION', `${d.name} is a rollback distribution: ${what}; ${instead}`, {
      distribution: d.name,
    });
}

/** Migration of a source version from a suite to the one it migrates to, or (`full`) along the whole chain. */
export function planMigrate(
  scope: StagingScope,
  listing: SourceListing,
  req: { source: string; from: StagingDistribution; version?: string | null; full?: boolean },
): StagingPlan {
  const { source, from } = req;
  notRollback(
    from,
    'nothing migrates from a rollback',
    `restore it with \`debyard restore ${source} ${from.name.replace(/-rollback\d+$/, '')} ${from.rollback}\``,
  );
  const first = rulesOf(scope, from.suite);
  if (!first.migratesTo)
    throw new DomainError(
      'NO_MIGRATION_TARGET',
      `${from.name} migrates nowhere: suite ${from.suite} of repository ${scope.repository}'s layout has no migratesTo` +
        (scope.suites.some((s) => s.migratesTo)
          ? ` (suites that migrate: ${scope.suites
              .filter((s) => s.migratesTo)
              .map((s) => `${s.name} → ${s.migratesTo}`)
              .join(', ')})`
          : ''),
      { distribution: from.name },
    );
  const version = versionIn(listing, scope, source, from.name, req.version);

  const steps: StagingStep[] = [];
  const ops: RepreproOp[] = [];
  const summary: string[] = [];
  let state = listing;
  let at: SuiteRules = first;
  const skipped: string[] = [];
  while (at.migratesTo) {
    const fromName = suiteName(scope, at.name);
    const target = rulesOf(scope, at.migratesTo);
    const to = suiteName(scope, target.name);
    const there = state.versionIn(to);
    if (there !== null && compareVersions(there, version) === 0) {
      if (!req.full)
        throw new DomainError('ALREADY_MIGRATED', `${source} ${version} is in ${to} already: nothing to migrate`, {
          distribution: to,
        });
      skipped.push(to);
    } else {
      if (there !== null && compareVersions(there, version) > 0)
        throw new DomainError(
          'VERSION_LOWER',
          `${to} has ${source} ${there}, higher than ${version}: a migration never lowers a version ` +
            `(to go back to an older version, restore it from a rollback of ${to})`,
          { distribution: to },
        );
      const shift = shiftOps(state, to, target.rollbacks, version);
      const copy: RepreproOp = { op: 'copy', to, from: fromName, version };
      summary.push(
        `${source} ${version} migrates from ${fromName} to ${to} (and stays in ${short(scope, fromName)})`,
        ...shiftSentences(scope, state, shift),
        ...alreadyKept(scope, state, to, target.rollbacks, shift),
        ...(there !== null && target.rollbacks === 0
          ? [`${short(scope, to)}'s ${there} is replaced (${target.name} keeps no rollbacks)`]
          : []),
      );
      ops.push(...shift, copy);
      steps.push({ from: fromName, to });
      state = state.after([...shift, copy]);
    }
    if (!req.full) break;
    at = target;
  }
  if (!steps.length)
    throw new DomainError(
      'ALREADY_MIGRATED',
      `${source} ${version} is in ${skipped.join(' and ')} already: nothing to migrate`,
      { distribution: skipped.at(-1) },
    );
  if (skipped.length) summary.push(`${skipped.map((d) => short(scope, d)).join(' and ')} already had ${version}`);
  return finish(scope, listing, {
    action: StagingAction.MIGRATE,
    source,
    version,
    distribution: from.name,
    steps,
    ops,
    summary,
  });
}

/**
 * Removal of a source from a distribution, its version kept as rollback0 (unless `keepRollback` is
 * false); from a rollback distribution, the rollbacks above it move down one.
 */
export function planRemove(
  scope: StagingScope,
  listing: SourceListing,
  req: { source: string; from: StagingDistribution; version?: string | null; keepRollback?: boolean },
): StagingPlan {
  const { source, from } = req;
  const version = versionIn(listing, scope, source, from.name, req.version);
  const summary = [`${source} ${version} is removed from ${from.name}`];
  const ops: RepreproOp[] = [];
  if (from.rollback !== null) {
    // mini-buildd: removesrc from rollback N, then the higher rollbacks move down.
    const base = suiteName(scope, from.suite);
    const rollbacks = rulesOf(scope, from.suite).rollbacks;
    let state = listing;
    for (let r = from.rollback; r < rollbacks; r++) {
      const here = rollbackName(base, r);
      const above = r + 1 < rollbacks ? rollbackName(base, r + 1) : null;
      const next = above === null ? null : listing.versionIn(above);
      const held = state.versionIn(here);
      let op: RepreproOp;
      if (above !== null && next !== null) {
        op = { op: 'copy', to: here, from: above, version: next };
        summary.push(`${short(scope, above)}'s ${next} moves down to ${short(scope, here)}`);
      } else if (held !== null) op = { op: 'remove', from: here, version: held };
      else continue;
      ops.push(op);
      state = state.after([op]);
    }
  } else {
    const rollbacks = rulesOf(scope, from.suite).rollbacks;
    if (req.keepRollback !== false) {
      const shift = shiftOps(listing, from.name, rollbacks);
      ops.push(...shift);
      summary.push(...shiftSentences(scope, listing, shift));
      if (rollbacks === 0) summary.push(`${from.suite} keeps no rollbacks: ${version} is not kept`);
      else if (!shift.length) summary.push(`${short(scope, rollbackName(from.name, 0))} holds ${version} already`);
    }
    ops.push({ op: 'remove', from: from.name, version });
  }
  const rollback0 = rollbackName(from.name, 0);
  return finish(scope, listing, {
    action: StagingAction.REMOVE,
    source,
    version,
    distribution: from.name,
    steps: [{ from: from.name, to: null }],
    ops,
    summary,
    keptIn: from.rollback === null && listing.after(ops).versionIn(rollback0) === version ? rollback0 : null,
  });
}

/**
 * Restore of rollback N of a distribution back into it. What the distribution holds now is shifted
 * into rollback0 first, as an install would: the restore can be undone the same way.
 */
export function planRestore(
  scope: StagingScope,
  listing: SourceListing,
  req: { source: string; into: StagingDistribution; rollback: number },
): StagingPlan {
  const { source, into } = req;
  notRollback(
    into,
    'a rollback is restored into its distribution',
    `\`debyard restore ${source} ${into.name.replace(/-rollback\d+$/, '')} ${into.rollback}\``,
  );
  const rollbacks = rulesOf(scope, into.suite).rollbacks;
  if (!Number.isInteger(req.rollback) || req.rollback < 0 || req.rollback >= rollbacks)
    throw new DomainError(
      'ROLLBACK_OUT_OF_RANGE',
      rollbacks === 0
        ? `${into.name} keeps no rollbacks (suite ${into.suite} has rollbacks: 0)`
        : `${into.name} has rollbacks 0 to ${rollbacks - 1}, not ${req.rollback}`,
      { distribution: into.name },
    );
  const from = rollbackName(into.name, req.rollback);
  const version = listing.versionIn(from);
  if (version === null) {
    const held = Array.from(
      { length: rollbacks },
      (_, r) => [r, listing.versionIn(rollbackName(into.name, r))] as const,
    )
      .filter(([, v]) => v !== null)
      .map(([r, v]) => `rollback${r} has ${v}`);
    throw new DomainError(
      'ROLLBACK_EMPTY',
      `${from} holds no version of ${source}` +
        (held.length ? ` (${held.join(', ')})` : ': none of its rollbacks does'),
      { distribution: from },
    );
  }
  const current = listing.versionIn(into.name);
  if (current !== null && compareVersions(current, version) === 0)
    throw new DomainError('VERSION_EXISTS', `${source} ${version} is in ${into.name} already: nothing to restore`, {
      distribution: into.name,
    });
  const shift = shiftOps(listing, into.name, rollbacks, version);
  const shifted = listing.after(shift);
  // Where the version is after the shift: its rollback moved up one, unless it was the last.
  const copyFrom = [from, rollbackName(into.name, req.rollback + 1), ...shifted.holding(version)].find(
    (d) => d !== into.name && shifted.versionIn(d) === version,
  );
  if (!copyFrom)
    throw new DomainError(
      'ROLLBACK_FULL',
      `${from} is ${into.name}'s last rollback and they are all taken: shifting ${current} into rollback0 would ` +
        `push ${version} out before it is restored. Restore from rollback${req.rollback} after ` +
        `\`debyard remove ${source} ${into.name} --no-rollback\` (${current} then leaves ${into.name} for good)`,
      { distribution: from },
    );
  return finish(scope, listing, {
    action: StagingAction.RESTORE,
    source,
    version,
    distribution: into.name,
    steps: [{ from, to: into.name }],
    ops: [...shift, { op: 'copy', to: into.name, from: copyFrom, version }],
    summary: [
      `${source} ${version} from ${from} goes back into ${into.name}` +
        (current !== null ? `, replacing ${current}` : ''),
      ...shiftSentences(scope, listing, shift),
      ...alreadyKept(scope, listing, into.name, rollbacks, shift),
    ],
  });
}

/** When no shift is due because rollback0 has the version already (say so: nothing is lost). */
function alreadyKept(
  scope: StagingScope,
  listing: SourceListing,
  distribution: string,
  rollbacks: number,
  shift: RepreproOp[],
): string[] {
  const current = listing.versionIn(distribution);
  const rollback0 = rollbackName(distribution, 0);
  return current !== null && rollbacks > 0 && !shift.length && listing.versionIn(rollback0) === current
    ? [`${short(scope, distribution)}'s ${current} stays in ${short(scope, rollback0)}, which holds it already`]
    : [];
}

/** "testing's 0.9 becomes testing-rollback0", one per operation of a shift. */
function shiftSentences(scope: StagingScope, before: SourceListing, shift: RepreproOp[]): string[] {
  // A shift runs from the top down; people read it from rollback0 up.
  return [...shift].reverse().flatMap((o) => {
    if (o.op !== 'copy') return [];
    const replaced = before.versionIn(o.to);
    const last = !shift.some((p) => p.op === 'copy' && p.from === o.to);
    return [
      `${short(scope, o.from)}'s ${o.version} becomes ${short(scope, o.to)}` +
        (replaced !== null && last ? ` (its ${replaced} drops out)` : ''),
    ];
  });
}

function finish(
  scope: StagingScope,
  listing: SourceListing,
  plan: Omit<StagingPlan, 'repository' | 'changes'>,
): StagingPlan {
  const after = listing.after(plan.ops);
  const names = [...new Set(plan.ops.map((o) => (o.op === 'copy' ? o.to : o.from)))].sort();
  const changes = names
    .map((distribution) => ({
      distribution,
      before: listing.versionIn(distribution),
      after: after.versionIn(distribution),
    }))
    .filter((c) => c.before !== c.after);
  const gone = [...new Set(listing.entries().map(([, v]) => v))].filter((v) => after.holding(v).length === 0);
  return {
    ...plan,
    repository: scope.repository,
    changes,
    summary: [
      ...plan.summary,
      ...gone.map(
        (v) =>
          `${plan.source} ${v} is then in no distribution of repository ${scope.repository} (its files leave the pool)`,
      ),
    ],
  };
}
