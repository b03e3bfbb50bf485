import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { opArgs, shiftOps, SourceListing, touchedBy } from './rollbacks.js';

const D = 'bookworm-test-testing';
const rb = (n: number) => `${D}-rollback${n}`;

describe('shiftOps: the rollback shift', () => {
  it('moves each rollback up one from the top down, rollback0 taking the distribution’s version', () => {
    const listing = new SourceListing([
      [D, '3'],
      [rb(0), '2'],
      [rb(1), '1'],
    ]);
    const ops = shiftOps(listing, D, 3, '4');
    assert.deepEqual(ops, [
      { op: 'copy', to: rb(2), from: rb(1), version: '1' },
      { op: 'copy', to: rb(1), from: rb(0), version: '2' },
      { op: 'copy', to: rb(0), from: D, version: '3' },
    ]);
    assert.deepEqual(listing.after(ops).entries(), [
      [D, '3'],
      [rb(0), '3'],
      [rb(1), '2'],
      [rb(2), '1'],
    ]);
    assert.deepEqual(touchedBy(ops), [rb(0), rb(1), rb(2)]);
  });

  it('drops the oldest when every rollback is taken', () => {
    const listing = new SourceListing([
      [D, '3'],
      [rb(0), '2'],
      [rb(1), '1'],
    ]);
    assert.deepEqual(listing.after(shiftOps(listing, D, 2)).entries(), [
      [D, '3'],
      [rb(0), '3'],
      [rb(1), '2'],
    ]);
  });

  it('does nothing for an empty distribution, no rollbacks, the incoming version, or a shift done before', () => {
    assert.deepEqual(shiftOps(new SourceListing([[rb(0), '1']]), D, 3), []);
    assert.deepEqual(shiftOps(new SourceListing([[D, '1']]), D, 0), []);
    assert.deepEqual(shiftOps(new SourceListing([[D, '2']]), D, 3, '2'), []);
    // A crash after the shift, before what came next: rollback0 holds the distribution's version already.
    const again = new SourceListing([
      [D, '2'],
      [rb(0), '2'],
      [rb(1), '1'],
    ]);
    assert.deepEqual(shiftOps(again, D, 3, '3'), []);
  });

  it('copies by version, never exporting', () => {
    assert.deepEqual(opArgs('hello', { op: 'copy', to: rb(0), from: D, version: '1:2' }), [
      '--export=silent-never',
      'copysrc',
      rb(0),
      D,
      'hello',
      '1:2',
    ]);
    assert.deepEqual(opArgs('hello', { op: 'remove', from: D, version: '2' }), [
      '--export=silent-never',
      'removesrc',
      D,
      'hello',
      '2',
    ]);
  });

  it('reads reprepro’s listing of one source', () => {
    const listing = SourceListing.of('hello', [
      { source: 'hello', version: '2', distribution: D, component: 'main' },
      { source: 'hello', version: '1', distribution: rb(0), component: 'main' },
      { source: 'other', version: '9', distribution: D, component: 'main' },
    ]);
    assert.equal(listing.versionIn(D), '2');
    assert.deepEqual(listing.holding('1'), [rb(0)]);
  });
});
