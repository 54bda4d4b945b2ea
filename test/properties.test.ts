// Properties checked on many generated cases (fast-check): the fused top-k equals a full sort
// for any shapes, k and exclusions; splits partition the data.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { createScorer, kFold, type Scorer } from '../src/index.js';
import { scoreTopK } from '../src/reference/score.js';

let scorer: Scorer;
beforeAll(async () => {
  scorer = await createScorer();
});

describe('properties', () => {
  it('top-k of small-integer embeddings equals the full sort (ties to the lower index, exclusions skipped, rows padded)', () => {
    const shape = fc.record({
      b: fc.integer({ min: 1, max: 6 }),
      n: fc.integer({ min: 1, max: 70 }),
      d: fc.integer({ min: 1, max: 19 }),
      k: fc.integer({ min: 1, max: 80 }),
    });
    fc.assert(
      fc.property(
        shape.chain((s) =>
          fc.record({
            s: fc.constant(s),
            q: fc.array(fc.integer({ min: -2, max: 2 }), { minLength: s.b * s.d, maxLength: s.b * s.d }),
            items: fc.array(fc.integer({ min: -2, max: 2 }), { minLength: s.n * s.d, maxLength: s.n * s.d }),
            ex: fc.array(fc.uniqueArray(fc.integer({ min: 0, max: s.n - 1 }), { maxLength: s.n }), {
              minLength: s.b,
              maxLength: s.b,
            }),
          }),
        ),
        ({ s, q, items, ex }) => {
          const offsets = new Int32Array(s.b + 1);
          ex.forEach((l, r) => (offsets[r + 1] = offsets[r]! + l.length));
          const exclude = { offsets, ids: Int32Array.from(ex.flat()) };
          const got = scorer.topK(Float32Array.from(q), Float32Array.from(items), s.d, s.k, { exclude });
          const indices = new Int32Array(s.b * s.k),
            scores = new Float64Array(s.b * s.k);
          scoreTopK(indices, scores, Float32Array.from(q), Float32Array.from(items), s.b, s.n, s.d, s.k, offsets, exclude.ids);
          expect(got.indices).toEqual(indices);
          expect(got.scores).toEqual(Float32Array.from(scores));
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  it('k-fold test sets partition the rows for any size and k', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 7 }), fc.integer({ min: 7, max: 200 }), fc.integer(), (k, n, seed) => {
        const data = {
          users: Int32Array.from({ length: n }, (_, i) => i),
          items: new Int32Array(n),
          ratings: new Float32Array(n),
        };
        const folds = kFold(data, k, seed);
        const seen = folds.flatMap((f) => Array.from(f.test.users)).sort((a, b) => a - b);
        expect(seen).toEqual(Array.from(data.users));
        for (const f of folds) expect(f.train.users.length + f.test.users.length).toBe(n);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});
