// The vector index speaks ids: add and remove vectors under the caller's ids, search with
// exclusions and filters by id; results are { id, score }, equal to a brute-force ranking, on one
// or two threads; plain arrays are accepted; unknown ids are typed errors.
import { describe, it, expect } from 'vitest';
import { createIndex } from '../src/node/index.js';
import { TwoTowerError } from '../src/index.js';
import { Random, randomFloats } from './helpers.js';

function brute(vectors: Map<string, Float32Array>, query: Float32Array, k: number, skip = new Set<string>()) {
  const scored = [...vectors]
    .filter(([id]) => !skip.has(id))
    .map(([id, v]) => {
      let s = 0;
      for (let c = 0; c < v.length; c++) s = Math.fround(s + Math.fround(v[c]! * query[c]!));
      return { id, s };
    });
  return scored
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}

describe('createIndex', () => {
  it.each([1, 2])('threads %i: add, search, remove, re-add — results match a brute-force ranking', async (threads) => {
    const random = new Random(4);
    const dim = 12;
    const index = await createIndex({ dim, threads });
    expect(index.threads).toBe(threads);
    expect(index.requestedThreads).toBe(threads);
    expect(index.threadsNote).toBeUndefined();
    const vectors = new Map<string, Float32Array>();
    const ids = Array.from({ length: 300 }, (_, i) => `doc-${i}`);
    const data = randomFloats(random, ids.length * dim);
    ids.forEach((id, i) => vectors.set(id, data.slice(i * dim, (i + 1) * dim)));
    index.add(data, ids);
    const query = randomFloats(random, dim);
    const hits = index.search(query, 8)[0]!;
    expect(hits.map((h) => h.id)).toEqual(brute(vectors, query, 8));
    // Remove the best five; they are gone, and the rest keep their order.
    index.remove(hits.slice(0, 5).map((h) => h.id as string));
    for (const h of hits.slice(0, 5)) vectors.delete(h.id as string);
    expect(index.size).toBe(295);
    expect(index.search(query, 8)[0]!.map((h) => h.id)).toEqual(brute(vectors, query, 8));
    // Exclusions and filters by id.
    const top = index.search(query, 3)[0]!.map((h) => h.id as string);
    expect(index.search(query, 3, { exclude: [top[0]!] })[0]!.map((h) => h.id)).toEqual(
      brute(vectors, query, 3, new Set([top[0]!])),
    );
    const odd = index.search(query, 4, { filter: (id) => Number(String(id).slice(4)) % 2 === 1 })[0]!;
    for (const h of odd) expect(Number(String(h.id).slice(4)) % 2).toBe(1);
    expect(
      index
        .search(query, 5, { filter: ['doc-10', 'doc-11'] })[0]!
        .map((h) => h.id)
        .sort(),
    ).toEqual(['doc-10', 'doc-11']);
    index.close();
  });

  it('accepts plain arrays and rows, numbers ids by default, and replaces a re-added id', async () => {
    const index = await createIndex({ dim: 2 });
    index.add([
      [1, 0],
      [0, 1],
      [0.5, 0.5],
    ]);
    expect(index.size).toBe(3);
    expect(index.search([1, 0], 2)[0]!.map((h) => h.id)).toEqual([0, 2]);
    index.add([[-1, 0]], [0]);
    expect(index.size).toBe(3);
    expect(Array.from(index.get(0))).toEqual([-1, 0]);
    expect(
      index
        .search(
          [
            [1, 0],
            [0, 1],
          ],
          1,
        )
        .map((r) => r[0]!.id),
    ).toEqual([2, 1]);
    index.close();
  });

  it('default ids are never reused: after a remove, an add without ids takes new numbers and replaces nothing', async () => {
    const index = await createIndex({ dim: 2 });
    index.add([
      [1, 0],
      [0, 1],
      [0.5, 0.5],
    ]);
    index.remove([0]);
    index.add([[-1, -1]]);
    // Today's ids are 1, 2 and the new one: 3 (never 2 again, which would overwrite [0.5, 0.5]).
    expect(index.size).toBe(3);
    expect(Array.from(index.get(2))).toEqual([0.5, 0.5]);
    expect(Array.from(index.get(3))).toEqual([-1, -1]);
    // Removing the last id does not hand it out again either.
    index.remove([3]);
    index.add([[2, 2]]);
    expect(Array.from(index.get(4))).toEqual([2, 2]);
    expect(() => index.get(3)).toThrow(/id 3 is not in the index/);
    // Numbers given explicitly count too: defaults continue past the largest one ever used.
    index.add([[3, 3]], [10]);
    index.add([[4, 4]], ['eleven']);
    index.add([
      [5, 5],
      [6, 6],
    ]);
    expect(Array.from(index.get(11))).toEqual([5, 5]);
    expect(Array.from(index.get(12))).toEqual([6, 6]);
    expect(Array.from(index.get(10))).toEqual([3, 3]);
    expect(index.size).toBe(7);
    // Past the largest safe integer no default id is exact: a typed error, and nothing changes.
    index.add([[7, 7]], [Number.MAX_SAFE_INTEGER]);
    expect(() => index.add([[8, 8]])).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT', message: expect.stringMatching(/give ids/) }),
    );
    expect(index.size).toBe(8);
    index.close();
  });

  it('an explicit id already in the index is replaced in place: one entry, the new vector, its old rank among ties', async () => {
    const index = await createIndex({ dim: 2 });
    index.add(
      [
        [1, 0],
        [1, 0],
        [1, 0],
      ],
      ['a', 7, 'c'],
    );
    index.add(
      [
        [1, 0],
        [0, 1],
      ],
      [7, 'a'],
    );
    expect(index.size).toBe(3);
    expect(Array.from(index.get('a'))).toEqual([0, 1]);
    // 7 and 'c' tie: 7 was added first and keeps that place.
    expect(index.search([1, 0], 3)[0]!.map((h) => h.id)).toEqual([7, 'c', 'a']);
    index.close();
  });

  it('bad input is a typed error that changes nothing', async () => {
    const index = await createIndex({ dim: 3 });
    index.add([1, 2, 3, 4, 5, 6], ['a', 'b']);
    const expectCode = (act: () => unknown, code: string) => {
      try {
        act();
        expect.fail('should throw');
      } catch (e) {
        expect(e).toBeInstanceOf(TwoTowerError);
        expect((e as TwoTowerError).code).toBe(code);
      }
    };
    expectCode(() => index.add([1, 2], ['c']), 'DIMENSION_MISMATCH');
    expectCode(() => index.add([1, 2, NaN], ['c']), 'BAD_INPUT');
    expectCode(() => index.remove(['a', 'zzz']), 'UNKNOWN_ID');
    expectCode(() => index.search([1, 2, 3], 2, { exclude: ['nope'] }), 'UNKNOWN_ID');
    expectCode(() => index.search([1, 2, 3], 1e9), 'BAD_OPTION');
    expect(index.size).toBe(2);
    expect(index.search([1, 1, 1], 2)[0]!.map((h) => h.id)).toEqual(['b', 'a']);
    index.close();
  });
});
