// One ranked id: `{ id, score }`, the shape of every id-level result (recommend, recommendFromHistory,
// similarItems; VectorIndex.search's hits have the same fields). `item` is the 0.1 name of `id`, kept
// for one minor version as a prototype getter: not an own property, so console.log, JSON and
// structured clones (postMessage) carry `{ id, score }` only, while old code reading `.item` on a
// result still works (and is warned once per process).

import { warnDeprecated } from '../util/deprecation.js';

/** A ranked id and its score (callers may add optional fields, e.g. a recommendation's `reasons`). */
export class Ranked<I = string | number> {
  constructor(
    /** The ranked id. */
    public id: I,
    /** Its score: higher ranks first. */
    public score: number,
  ) {}

  /** @deprecated Use `id` (the 0.1 name; goes in the next minor version, and reading it warns once). */
  get item(): I {
    warnDeprecated('Recommendation.item', 'use .id');
    return this.id;
  }

  /** Node's console.log and util.inspect show the plain `{ id, score, … }`, without the class name. */
  [Symbol.for('nodejs.util.inspect.custom')](): object {
    return { ...this };
  }
}
