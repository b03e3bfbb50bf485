import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstArg, idArg, toPage } from './paging.js';

describe('paging', () => {
  it('cuts the one extra node off and says more follow', () => {
    assert.deepEqual(toPage([5, 4, 3], 2, 9), { nodes: [5, 4], totalCount: 9, hasMore: true });
    assert.deepEqual(toPage([5, 4], 2, 2), { nodes: [5, 4], totalCount: 2, hasMore: false });
  });

  it('checks first against the maximum', () => {
    assert.equal(firstArg(200), 200);
    assert.throws(() => firstArg(0), /first must be between 1 and 200, not 0/);
    assert.throws(() => firstArg(11, 10), /first must be between 1 and 10, not 11/);
  });

  it('parses numeric ids and names the kind when one is not', () => {
    assert.equal(idArg('a build', '42'), 42);
    assert.throws(() => idArg('an upload', '4x'), /an upload id is a whole number, not "4x"/);
    assert.throws(() => idArg('a build', '1234567890'), /a build id is a whole number/);
  });
});
