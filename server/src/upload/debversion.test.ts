import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { compareVersions, isValidVersion, parseVersion, withoutEpoch } from './debversion.js';

// [a, b]: a < b, as dpkg orders them.
const ASCENDING: [string, string][] = [
  ['1.0', '1.1'],
  ['1.0~rc1', '1.0'],
  ['1.0~~', '1.0~'],
  ['1.0~', '1.0'],
  ['1.0', '1.0a'],
  ['1.0a', '1.0+'],
  ['1.0-1', '1.0-1+b1'],
  ['1.0-1~test12+1', '1.0-1'],
  ['1.0-1~test12+1', '1.0-1~test12+2'],
  ['1.0-1~test12+9', '1.0-1~test12+10'],
  ['1.0-1~test12+0', '1.0-1~test12+1'],
  ['1.0-1~test12+1', '1.0-1~testSID+1'],
  ['9.9', '1:0.1'],
  ['1:1.0', '2:0.1'],
  ['1.2.3', '1.10'],
  ['1.0', '1.0.0'],
  ['1.0-1', '1.0-2'],
  ['1.0', '1.0-0.1'],
  ['1.0-9', '1.0-10'],
  ['2.0-1', '10.0-1'],
  ['1.01', '1.2'],
  ['1.0a', '1.0b'],
  ['1.0Z', '1.0a'],
  ['1.0-1a', '1.0-1.1'],
  ['20240623085744~test12+1', '20240624000000~test12+1'],
  ['1.99999999999999999999', '1.100000000000000000000'],
];
const EQUAL: [string, string][] = [
  ['1.0', '1.0'],
  ['0:1.0', '1.0'],
  ['1.01', '1.1'],
  ['1.0-01', '1.0-1'],
  ['1.0-0', '1.0'],
];

describe('compareVersions', () => {
  for (const [a, b] of ASCENDING)
    it(`${a} < ${b}`, () => {
      assert.equal(compareVersions(a, b), -1);
      assert.equal(compareVersions(b, a), 1);
    });
  for (const [a, b] of EQUAL) it(`${a} = ${b}`, () => assert.equal(compareVersions(a, b), 0));

  it('agrees with dpkg --compare-versions on every pair', async () => {
    for (const [a, b] of [...ASCENDING, ...EQUAL]) {
      const lt = await execa('dpkg', ['--compare-versions', a, 'lt', b], { reject: false });
      const eq = await execa('dpkg', ['--compare-versions', a, 'eq', b], { reject: false });
      const dpkg = lt.exitCode === 0 ? -1 : eq.exitCode === 0 ? 0 : 1;
      assert.equal(compareVersions(a, b), dpkg, `${a} vs ${b}`);
    }
  });

  it('throws for invalid versions', () => assert.throws(() => compareVersions('a1', '1'), /invalid version "a1"/));
});

describe('parseVersion', () => {
  it('splits epoch, upstream and revision at the last dash', () =>
    assert.deepEqual(parseVersion('2:1.0-rc1-3~bpo12+1'), { epoch: 2, upstream: '1.0-rc1', revision: '3~bpo12+1' }));
  it('native versions have no revision', () =>
    assert.deepEqual(parseVersion('1.0~test12+1'), { epoch: 0, upstream: '1.0~test12+1', revision: '' }));
  for (const bad of ['', 'a1.0', '1.0-', '1.0_1', '1.0 1', ':1.0', 'x:1.0', '1:'])
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(isValidVersion(bad), false));
  it('withoutEpoch', () => {
    assert.equal(withoutEpoch('1:1.0-1'), '1.0-1');
    assert.equal(withoutEpoch('1.0-1'), '1.0-1');
  });
});
