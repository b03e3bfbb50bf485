import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderCandidates, Turns, type Candidate } from './choose.js';

const c = (key: string, load: number): Candidate => ({ key, name: key, load });

describe('orderCandidates', () => {
  it('tries the lowest load first', () => {
    const order = orderCandidates([c('a', 0.5), c('b', 0), c('c', 2)], new Map());
    assert.deepEqual(
      order.map((x) => x.key),
      ['b', 'a', 'c'],
    );
  });

  it('lets builders of equal load take turns, none lost', () => {
    const turns = new Turns();
    const builders = [c('self', 0), c('http://grover:8066', 0), c('http://bert:8066', 0)];
    const chosen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const first = orderCandidates(builders, turns.lastChosen)[0]!;
      turns.chose(first.key);
      chosen.push(first.key);
    }
    assert.deepEqual(chosen, [
      'http://bert:8066',
      'http://grover:8066',
      'self',
      'http://bert:8066',
      'http://grover:8066',
      'self',
    ]);
  });

  it('takes turns only among equal loads: a lower load still comes first', () => {
    const turns = new Turns();
    turns.chose('self');
    const order = orderCandidates([c('self', 0), c('grover', 1)], turns.lastChosen);
    assert.equal(order[0]!.key, 'self');
  });

  it('leaves the list it was given as it was', () => {
    const given = [c('b', 1), c('a', 0)];
    orderCandidates(given, new Map());
    assert.deepEqual(
      given.map((x) => x.key),
      ['b', 'a'],
    );
  });
});
