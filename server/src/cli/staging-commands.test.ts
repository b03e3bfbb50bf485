import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeChange, type RepositoryChangeRow } from './staging-commands.js';

const change: RepositoryChangeRow = {
  action: 'MIGRATE',
  source: 'hello',
  version: '2',
  repository: 'test',
  distribution: 'bookworm-test-unstable',
  steps: [{ from: 'bookworm-test-unstable', to: 'bookworm-test-testing' }],
  changes: [
    { distribution: 'bookworm-test-testing', before: '1', after: '2' },
    { distribution: 'bookworm-test-testing-rollback0', before: null, after: '1' },
  ],
  summary: [
    'hello 2 migrates from bookworm-test-unstable to bookworm-test-testing',
    "testing's 1 becomes testing-rollback0",
  ],
  dependencies: { checked: true, forced: false, against: ['Debian:bookworm'], broken: [] },
};

describe('describeChange', () => {
  it('says what happens, the dependency check, and each distribution before and after', () => {
    assert.equal(
      describeChange(change, true),
      [
        'done:',
        '  hello 2 migrates from bookworm-test-unstable to bookworm-test-testing',
        "  testing's 1 becomes testing-rollback0",
        'dependency check: satisfied (with Debian:bookworm)',
        '',
        'DISTRIBUTION                     BEFORE  AFTER',
        'bookworm-test-testing            1       2',
        'bookworm-test-testing-rollback0  -       1',
      ].join('\n'),
    );
  });

  it('names the broken packages of a dry run, and a forced one', () => {
    const broken = {
      ...change,
      dependencies: {
        checked: true,
        forced: false,
        against: [],
        broken: [{ package: 'uses-hello', version: '2', architecture: 'all', reasons: ['hello-c'] }],
      },
    };
    const text = describeChange(broken, false);
    assert.match(text, /^would do \(dry run, nothing changed\):/);
    assert.match(text, /dependency check: unsatisfied\n {2}uses-hello 2 \(all\): hello-c/);
    const forced = { ...change, dependencies: { checked: false, forced: true, against: [], broken: [] } };
    assert.match(describeChange(forced, true), /dependency check: skipped \(forced\)/);
  });
});
