import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../graphql/errors.js';
import { SourceListing } from '../repository/rollbacks.js';
import { planMigrate, planRemove, planRestore, type StagingDistribution, type StagingScope } from './plan.js';

const scope: StagingScope = {
  repository: 'test',
  codename: 'bookworm',
  suites: [
    { name: 'stable', migratesTo: null, rollbacks: 3 },
    { name: 'testing', migratesTo: 'stable', rollbacks: 2 },
    { name: 'unstable', migratesTo: 'testing', rollbacks: 0 },
  ],
};
const name = (suite: string, rollback: number | null = null) =>
  `bookworm-test-${suite}${rollback === null ? '' : `-rollback${rollback}`}`;
const at = (suite: string, rollback: number | null = null): StagingDistribution => ({
  suite,
  rollback,
  name: name(suite, rollback),
});
const listing = (rows: Record<string, string>) => new SourceListing(Object.entries(rows));

function refused(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DomainError, String(err));
    assert.equal(err.extensions.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('planMigrate', () => {
  it('copies the version from a suite to the one it migrates to, shifting what is there into rollback0', () => {
    const plan = planMigrate(scope, listing({ [name('unstable')]: '2', [name('testing')]: '1' }), {
      source: 'hello',
      from: at('unstable'),
    });
    assert.equal(plan.version, '2');
    assert.deepEqual(plan.steps, [{ from: name('unstable'), to: name('testing') }]);
    assert.deepEqual(plan.ops, [
      { op: 'copy', to: name('testing', 0), from: name('testing'), version: '1' },
      { op: 'copy', to: name('testing'), from: name('unstable'), version: '2' },
    ]);
    assert.deepEqual(plan.changes, [
      { distribution: name('testing'), before: '1', after: '2' },
      { distribution: name('testing', 0), before: null, after: '1' },
    ]);
    assert.deepEqual(plan.summary, [
      'hello 2 migrates from bookworm-test-unstable to bookworm-test-testing (and stays in unstable)',
      "testing's 1 becomes testing-rollback0",
    ]);
  });

  it('goes along the whole chain with full, skipping a suite that has the version already', () => {
    const plan = planMigrate(
      scope,
      listing({ [name('unstable')]: '2', [name('testing')]: '2', [name('stable')]: '1', [name('stable', 0)]: '0' }),
      { source: 'hello', from: at('unstable'), full: true },
    );
    assert.deepEqual(plan.steps, [{ from: name('testing'), to: name('stable') }]);
    assert.deepEqual(
      plan.changes.map((c) => [c.distribution, c.before, c.after]),
      [
        [name('stable'), '1', '2'],
        [name('stable', 0), '0', '1'],
        [name('stable', 1), null, '0'],
      ],
    );
    assert.match(plan.summary.at(-1)!, /testing already had 2/);
  });

  it('says so when rollback0 holds the target’s version already, and shifts nothing', () => {
    const plan = planMigrate(
      scope,
      listing({ [name('unstable')]: '2', [name('testing')]: '1', [name('testing', 0)]: '1' }),
      { source: 'hello', from: at('unstable') },
    );
    assert.deepEqual(plan.ops, [{ op: 'copy', to: name('testing'), from: name('unstable'), version: '2' }]);
    assert.ok(
      plan.summary.includes("testing's 1 stays in testing-rollback0, which holds it already"),
      plan.summary.join('\n'),
    );
  });

  it('refuses: a version not there, already migrated, a suite that migrates nowhere, a rollback, a lower version', () => {
    const l = listing({ [name('unstable')]: '2', [name('testing')]: '2', [name('stable')]: '3' });
    refused(
      () => planMigrate(scope, l, { source: 'hello', from: at('unstable'), version: '1' }),
      'SOURCE_NOT_FOUND',
      /hello 1 is not in bookworm-test-unstable: repository test has .*2 in bookworm-test-unstable/,
    );
    refused(
      () => planMigrate(scope, listing({}), { source: 'nope', from: at('unstable') }),
      'SOURCE_NOT_FOUND',
      /has no version of nope/,
    );
    refused(
      () => planMigrate(scope, l, { source: 'hello', from: at('unstable') }),
      'ALREADY_MIGRATED',
      /hello 2 is in bookworm-test-testing already/,
    );
    refused(
      () => planMigrate(scope, l, { source: 'hello', from: at('stable') }),
      'NO_MIGRATION_TARGET',
      /bookworm-test-stable migrates nowhere.*testing → stable, unstable → testing/,
    );
    refused(
      () => planMigrate(scope, l, { source: 'hello', from: at('testing', 0) }),
      'ROLLBACK_DISTRIBUTION',
      /debyard restore hello bookworm-test-testing 0/,
    );
    refused(
      () => planMigrate(scope, l, { source: 'hello', from: at('testing') }),
      'VERSION_LOWER',
      /bookworm-test-stable has hello 3, higher than 2/,
    );
    refused(
      () =>
        planMigrate(scope, listing({ [name('unstable')]: '2', [name('testing')]: '2', [name('stable')]: '2' }), {
          source: 'hello',
          from: at('unstable'),
          full: true,
        }),
      'ALREADY_MIGRATED',
      /in bookworm-test-testing and bookworm-test-stable already/,
    );
  });
});

describe('planRemove', () => {
  it('keeps the version as rollback0 by default, and says when it leaves the repository', () => {
    const plan = planRemove(scope, listing({ [name('stable')]: '2', [name('stable', 0)]: '1' }), {
      source: 'hello',
      from: at('stable'),
    });
    assert.deepEqual(
      plan.changes.map((c) => [c.distribution, c.before, c.after]),
      [
        [name('stable'), '2', null],
        [name('stable', 0), '1', '2'],
        [name('stable', 1), null, '1'],
      ],
    );
    assert.equal(plan.ops.at(-1)?.op, 'remove');
    assert.equal(plan.keptIn, name('stable', 0));
    const gone = planRemove(scope, listing({ [name('stable')]: '2' }), {
      source: 'hello',
      from: at('stable'),
      keepRollback: false,
    });
    assert.deepEqual(gone.ops, [{ op: 'remove', from: name('stable'), version: '2' }]);
    assert.equal(gone.keptIn, null);
    assert.match(gone.summary.at(-1)!, /hello 2 is then in no distribution of repository test/);
  });

  it('does not shift twice when a removal runs again after the shift', () => {
    const plan = planRemove(scope, listing({ [name('stable')]: '2', [name('stable', 0)]: '2' }), {
      source: 'hello',
      from: at('stable'),
    });
    assert.deepEqual(plan.ops, [{ op: 'remove', from: name('stable'), version: '2' }]);
  });

  it('from a rollback, moves the rollbacks above it down one', () => {
    const plan = planRemove(
      scope,
      listing({ [name('stable', 0)]: '3', [name('stable', 1)]: '2', [name('stable', 2)]: '1' }),
      { source: 'hello', from: at('stable', 1) },
    );
    assert.deepEqual(
      plan.changes.map((c) => [c.distribution, c.before, c.after]),
      [
        [name('stable', 1), '2', '1'],
        [name('stable', 2), '1', null],
      ],
    );
  });
});

describe('planRestore', () => {
  it('shifts what the distribution holds into rollback0 and copies the rollback’s version back', () => {
    const plan = planRestore(scope, listing({ [name('stable')]: '2', [name('stable', 0)]: '1' }), {
      source: 'hello',
      into: at('stable'),
      rollback: 0,
    });
    assert.deepEqual(plan.ops.at(-1), { op: 'copy', to: name('stable'), from: name('stable', 1), version: '1' });
    assert.deepEqual(
      plan.changes.map((c) => [c.distribution, c.before, c.after]),
      [
        [name('stable'), '2', '1'],
        [name('stable', 0), '1', '2'],
        [name('stable', 1), null, '1'],
      ],
    );
  });

  it('restores into an empty distribution without a shift', () => {
    const plan = planRestore(scope, listing({ [name('stable', 0)]: '1' }), {
      source: 'hello',
      into: at('stable'),
      rollback: 0,
    });
    assert.deepEqual(plan.ops, [{ op: 'copy', to: name('stable'), from: name('stable', 0), version: '1' }]);
  });

  it('refuses: out of range, empty, already there, a rollback as the distribution, the last rollback when all are taken', () => {
    const l = listing({ [name('stable')]: '2', [name('stable', 1)]: '1' });
    refused(
      () => planRestore(scope, l, { source: 'hello', into: at('stable'), rollback: 3 }),
      'ROLLBACK_OUT_OF_RANGE',
      /has rollbacks 0 to 2, not 3/,
    );
    refused(
      () => planRestore(scope, l, { source: 'hello', into: at('unstable'), rollback: 0 }),
      'ROLLBACK_OUT_OF_RANGE',
      /keeps no rollbacks/,
    );
    refused(
      () => planRestore(scope, l, { source: 'hello', into: at('stable'), rollback: 0 }),
      'ROLLBACK_EMPTY',
      /rollback0 holds no version of hello \(rollback1 has 1\)/,
    );
    refused(
      () =>
        planRestore(scope, listing({ [name('stable')]: '1', [name('stable', 0)]: '1' }), {
          source: 'hello',
          into: at('stable'),
          rollback: 0,
        }),
      'VERSION_EXISTS',
      /hello 1 is in bookworm-test-stable already/,
    );
    refused(
      () => planRestore(scope, l, { source: 'hello', into: at('stable', 1), rollback: 0 }),
      'ROLLBACK_DISTRIBUTION',
      /is a rollback distribution/,
    );
    refused(
      () =>
        planRestore(
          scope,
          listing({
            [name('stable')]: '4',
            [name('stable', 0)]: '3',
            [name('stable', 1)]: '2',
            [name('stable', 2)]: '1',
          }),
          { source: 'hello', into: at('stable'), rollback: 2 },
        ),
      'ROLLBACK_FULL',
      /push 1 out/,
    );
  });

  it('restores from the last rollback when the version is kept elsewhere too', () => {
    const plan = planRestore(
      scope,
      listing({
        [name('stable')]: '4',
        [name('stable', 0)]: '3',
        [name('stable', 1)]: '2',
        [name('stable', 2)]: '1',
        [name('testing')]: '1',
      }),
      { source: 'hello', into: at('stable'), rollback: 2 },
    );
    assert.deepEqual(plan.ops.at(-1), { op: 'copy', to: name('stable'), from: name('testing'), version: '1' });
  });
});
