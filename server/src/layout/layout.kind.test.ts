import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAYOUT_PRESETS, layoutValues } from '../setup/layouts.js';
import { expandVersionRule, parseSuites } from './layout.kind.js';

describe('layout suites', () => {
  it('accepts every preset', () => {
    for (const p of LAYOUT_PRESETS) assert.equal(parseSuites(layoutValues(p).suites).length, p.suites.length);
  });

  const bad: [string, unknown, RegExp][] = [
    ['a suite migrating to itself', [{ name: 'unstable', migratesTo: 'unstable' }], /unstable migrates to itself/],
    ['a missing target', [{ name: 'unstable', migratesTo: 'testing' }], /testing, which is not in the layout/],
    [
      'an uploadable target',
      [{ name: 'unstable', migratesTo: 'testing' }, { name: 'testing' }],
      /testing, which is uploadable/,
    ],
    [
      'a migration circle',
      [
        { name: 'a', uploadable: false, migratesTo: 'b' },
        { name: 'b', uploadable: false, migratesTo: 'a' },
      ],
      /go round in a circle/,
    ],
    [
      'an experimental suite that migrates',
      [
        { name: 'x', experimental: true, migratesTo: 'y' },
        { name: 'y', uploadable: false },
      ],
      /must not migrate/,
    ],
    [
      'a keyring suite not uploadable',
      [{ name: 'x', uploadable: false, buildKeyringPackage: true }],
      /must be uploadable/,
    ],
    ['a bad name', [{ name: 'Unstable' }], /lower-case letters only/],
    ['duplicates', [{ name: 'a' }, { name: 'a' }], /listed twice/],
    ['an unknown option', [{ name: 'a', rollback: 3 }], /unknown suite option rollback/],
    ['negative rollbacks', [{ name: 'a', rollbacks: -1 }], /rollbacks must be a whole number/],
    ['nothing', [], /non-empty list/],
    ['not JSON', '[{', /JSON list of suites/],
  ];
  for (const [what, suites, message] of bad)
    it(`refuses ${what}`, () => assert.throws(() => parseSuites(suites), message));

  it('expands the version placeholders', () => {
    assert.equal(expandVersionRule('~%IDENTITY%%CODEVERSION%+1', 'test', '12'), '~test12+1');
    assert.match('1.0-1~test12+1', new RegExp(expandVersionRule('~%IDENTITY%%CODEVERSION%\\+[1-9]', 'test', '12')));
  });
});
