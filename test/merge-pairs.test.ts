// mergeDuplicatePairs (implicit losses: one positive per user and item) against the plain
// definition: the first row of each pair kept in order, the highest rating, weights summed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mergeDuplicatePairs } from '../src/train/prepare.js';
import type { Interactions } from '../src/data/interactions.js';

/** The definition, by a Map from "user,item" to the pair's first row. */
function mergeByMap(data: Interactions): Interactions {
  const first = new Map<string, number>();
  const keep: number[] = [];
  const rating = Float32Array.from(data.ratings);
  const weight = data.weights ? Float32Array.from(data.weights) : undefined;
  data.users.forEach((u, r) => {
    const key = `${u},${data.items[r]}`;
    const at = first.get(key);
    if (at === undefined) {
      first.set(key, r);
      keep.push(r);
    } else {
      rating[at] = Math.max(rating[at]!, rating[r]!);
      if (weight) weight[at]! += weight[r]!;
    }
  });
  return {
    users: Int32Array.from(keep, (r) => data.users[r]!),
    items: Int32Array.from(keep, (r) => data.items[r]!),
    ratings: Float32Array.from(keep, (r) => rating[r]!),
    ...(weight ? { weights: Float32Array.from(keep, (r) => weight[r]!) } : {}),
  };
}

describe('mergeDuplicatePairs', () => {
  it('keeps each pair’s first row in order, with the highest rating and the summed weights, as the definition does', () => {
    const rows = fc.array(
      fc.record({
        user: fc.integer({ min: 0, max: 6 }),
        item: fc.integer({ min: 0, max: 9 }),
        rating: fc.integer({ min: 0, max: 5 }),
        weight: fc.integer({ min: 0, max: 4 }),
      }),
      { minLength: 1, maxLength: 60 },
    );
    fc.assert(
      fc.property(rows, fc.boolean(), (list, weighted) => {
        const data: Interactions = {
          users: Int32Array.from(list, (x) => x.user),
          items: Int32Array.from(list, (x) => x.item),
          ratings: Float32Array.from(list, (x) => x.rating),
          ...(weighted ? { weights: Float32Array.from(list, (x) => x.weight / 4) } : {}),
        };
        expect(mergeDuplicatePairs(data)).toEqual(mergeByMap(data));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('returns the same object when no pair repeats (no copy)', () => {
    const data: Interactions = {
      users: Int32Array.of(0, 0, 1, 2),
      items: Int32Array.of(0, 1, 0, 0),
      ratings: new Float32Array(4),
    };
    expect(mergeDuplicatePairs(data)).toBe(data);
  });

  it('merges pairs of large ids (past 2³¹ as user × items + item)', () => {
    const data: Interactions = {
      users: Int32Array.of(3_000_000, 5, 3_000_000),
      items: Int32Array.of(2_000_000, 2_000_000, 2_000_000),
      ratings: Float32Array.of(1, 2, 4),
    };
    expect(mergeDuplicatePairs(data)).toEqual({
      users: Int32Array.of(3_000_000, 5),
      items: Int32Array.of(2_000_000, 2_000_000),
      ratings: Float32Array.of(4, 2),
    });
  });
});
