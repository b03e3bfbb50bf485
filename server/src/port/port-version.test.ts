import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, isValidVersion } from '../upload/debversion.js';
import { internalPortVersion, internalRebuildVersion, rebuildStamp, type PortRules } from './port-version.js';

// The Default layout for repository test: bookworm is 12, bullseye 11.
const UNSTABLE_12 = { regex: '~test12\\+[1-9]', default: '~test12+1' };
const EXPERIMENTAL_12 = { regex: '~test12\\+0', default: '~test12+0' };
const UNSTABLE_11 = { regex: '~test11\\+[1-9]', default: '~test11+1' };
const EXPERIMENTAL_11 = { regex: '~test11\\+0', default: '~test11+0' };

const rules = (from: { regex: string }, to: { regex: string; default: string }): PortRules => ({
  fromRegex: from.regex,
  toDefault: to.default,
  toRegex: to.regex,
});

describe('internal port versions', () => {
  const table: [string, PortRules, string, string][] = [
    ['1.2.3-1~test12+1', rules(UNSTABLE_12, UNSTABLE_11), '1.2.3-1~test11+1', 'across codenames'],
    ['1.2.3-1~test12+4', rules(UNSTABLE_12, UNSTABLE_11), '1.2.3-1~test11+4', 'the revision carries over'],
    ['1.2.3-1~test12+4fud15', rules(UNSTABLE_12, UNSTABLE_11), '1.2.3-1~test11+4fud15', 'what follows stays'],
    ['1.2.3-1~test11+2', rules(UNSTABLE_11, UNSTABLE_12), '1.2.3-1~test12+2', 'upwards'],
    ['1.0~test12+1', rules(UNSTABLE_12, EXPERIMENTAL_12), '1.0~test12+0', 'to experimental: +0'],
    ['1.0~test12+3fix1', rules(UNSTABLE_12, EXPERIMENTAL_12), '1.0~test12+0fix1', 'to experimental, suffix kept'],
    ['1.0~test12+0', rules(EXPERIMENTAL_12, UNSTABLE_12), '1.0~test12+1', 'from experimental'],
    ['1.0~test12+0exp2', rules(EXPERIMENTAL_12, EXPERIMENTAL_11), '1.0~test11+0exp2', 'experimental to experimental'],
    ['1.2.3-1', rules(UNSTABLE_12, UNSTABLE_11), '1.2.3-1~test11+1', 'no match: the default is appended'],
    ['1.2.3-1', { fromRegex: '.*', toDefault: '~port+1', toRegex: '.*' }, '1.2.3-1~port+1', 'no rule (mini-buildd)'],
    [
      '1.0~test12+1~test12+2',
      rules(UNSTABLE_12, UNSTABLE_11),
      '1.0~test12+1~test11+2',
      'only the rightmost match is replaced',
    ],
    ['2:1.0-1~test12+1', rules(UNSTABLE_12, UNSTABLE_11), '2:1.0-1~test11+1', 'the epoch stays'],
  ];
  for (const [version, r, expected, what] of table)
    it(`${what}: ${version} → ${expected}`, () => {
      const ported = internalPortVersion(version, r);
      assert.equal(ported, expected);
      assert.ok(isValidVersion(ported));
      assert.ok(new RegExp(r.toRegex).test(ported), 'it follows the to-rule');
    });
});

describe('internal rebuild versions', () => {
  it('appends +rebuilt<stamp>, and a second rebuild replaces the stamp; each is greater than the one before', () => {
    const first = internalRebuildVersion('1.0~test12+1', '20250102030405');
    assert.equal(first, '1.0~test12+1+rebuilt20250102030405');
    const second = internalRebuildVersion(first, '20250102030406');
    assert.equal(second, '1.0~test12+1+rebuilt20250102030406');
    assert.ok(compareVersions('1.0~test12+1', first) < 0);
    assert.ok(compareVersions(first, second) < 0);
    assert.ok(new RegExp(UNSTABLE_12.regex).test(second), 'a rebuild keeps the suite rule');
  });

  it('stamps in UTC, to the second', () => {
    assert.equal(rebuildStamp(new Date('2025-01-02T03:04:05.678Z')), '20250102030405');
    assert.throws(() => internalRebuildVersion('1.0', '2025'), /not a rebuild stamp/);
  });
});
