/** A builder a build could go to: this instance or one of its remotes. */
export interface Candidate {
  /** `self`, or the remote's URL. */
  key: string;
  /** For people: the identity it reports. */
  name: string;
  /** Builds running and waiting there, per slot (its `status` load). */
  load: number;
}

/**
 * The order in which builders are tried: lowest load first; among equal loads, the one chosen longest
 * ago (never chosen first), so that equal builders take turns — mini-buildd keys its builders by load
 * and so keeps only one of each load. `lastChosen` holds a rising counter per key.
 */
export function orderCandidates<T extends Candidate>(candidates: T[], lastChosen: ReadonlyMap<string, number>): T[] {
  const turn = (c: Candidate) => lastChosen.get(c.key) ?? -1;
  return [...candidates].sort((a, b) => a.load - b.load || turn(a) - turn(b) || a.key.localeCompare(b.key));
}

/** Remembers whose turn it is: `chose` after a builder took a build. */
export class Turns {
  private readonly last = new Map<string, number>();
  private counter = 0;

  get lastChosen(): ReadonlyMap<string, number> {
    return this.last;
  }

  chose(key: string): void {
    this.last.set(key, ++this.counter);
  }
}
