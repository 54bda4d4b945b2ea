// The fused score + top-k kernel and the public scorer, against the twin (a full sort): ties go
// to the lower index, exclusions are skipped, short rows are padded; int8 recall; bad input.
import { describe, it, expect, beforeAll } from 'vitest';
import { createScorer, type Scorer } from '../src/index.js';
import { scoreTopK } from '../src/reference/score.js';
import { Random, randomFloats, randomExclusions, expectClose } from './helpers.js';

/** Small integers: every dot product is exact in f32 and f64, and ties are everywhere. */
function integerMatrix(random: Random, rows: number, d: number, range = 2): Float32Array {
  return Float32Array.from({ length: rows * d }, () => random.int(2 * range + 1) - range);
}

function expected(q: Float32Array, items: Float32Array, d: number, k: number, ex?: { offsets: Int32Array; ids: Int32Array }) {
  const b = q.length / d,
    n = items.length / d;
  const indices = new Int32Array(b * k),
    scores = new Float64Array(b * k);
  scoreTopK(indices, scores, q, items, b, n, d, k, ex?.offsets ?? null, ex?.ids ?? null);
  return { indices, scores: Float32Array.from(scores) };
}

describe.each(['simd', 'relaxed'] as const)('fused top-k, %s build', (build) => {
  let scorer: Scorer;
  beforeAll(async () => {
    scorer = await createScorer({ wasm: { build } });
  });

  it('equals the full sort on odd shapes, with and without exclusions (exact integer scores)', () => {
    const random = new Random(1);
    for (const b of [1, 2, 3, 5])
      for (const n of [1, 3, 5, 17, 63, 130, 1031])
        for (const d of [1, 3, 4, 17])
          for (const k of [1, 3, 10, 200]) {
            const q = integerMatrix(random, b, d),
              items = integerMatrix(random, n, d);
            const ex = randomExclusions(random, b, n, 3);
            for (const exclude of [undefined, ex]) {
              const got = scorer.topK(q, items, d, k, exclude ? { exclude } : {});
              const want = expected(q, items, d, k, exclude);
              expect(got.indices, `b${b} n${n} d${d} k${k}`).toEqual(want.indices);
              expect(got.scores).toEqual(want.scores);
            }
          }
  });

  it('all-equal scores: the k lowest indices, in order', () => {
    const items = new Float32Array(50 * 4).fill(1);
    const got = scorer.topK(Float32Array.of(1, 1, 1, 1), items, 4, 5);
    expect(Array.from(got.indices)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(got.scores)).toEqual([4, 4, 4, 4, 4]);
  });

  it('ties across the k boundary keep the lower indices', () => {
    // Scores by item: 3, 1, 2, 2, 2, 0, 2 → top 3 = item 0 (3), then the 2s at 2 and 3.
    const items = Float32Array.of(3, 1, 2, 2, 2, 0, 2);
    const got = scorer.topK(Float32Array.of(1), items, 1, 3);
    expect(Array.from(got.indices)).toEqual([0, 2, 3]);
  });

  it('k ≥ n returns every item then pads with −1 and −∞', () => {
    const got = scorer.topK(Float32Array.of(1, 0), Float32Array.of(1, 0, 3, 0, 2, 0), 2, 5);
    expect(Array.from(got.indices)).toEqual([1, 2, 0, -1, -1]);
    expect(Array.from(got.scores)).toEqual([3, 2, 1, -Infinity, -Infinity]);
  });

  it('exclusions that remove every item leave an empty (padded) row; the other query is unaffected', () => {
    const items = Float32Array.of(1, 2, 3);
    const exclude = { offsets: Int32Array.of(0, 3, 3), ids: Int32Array.of(2, 0, 1) };
    const got = scorer.topK(Float32Array.of(1, 1), items, 1, 2, { exclude });
    expect(Array.from(got.indices)).toEqual([-1, -1, 2, 1]);
  });

  it('random float embeddings: same scores as the twin within f32 tolerance, and each index has its score', () => {
    const random = new Random(3);
    const d = 64,
      n = 5000,
      b = 9,
      k = 10;
    const q = randomFloats(random, b * d),
      items = randomFloats(random, n * d);
    const got = scorer.topK(q, items, d, k);
    const want = expected(q, items, d, k);
    expectClose(got.scores, want.scores, 1e-4);
    for (let r = 0; r < b * k; r++) {
      const j = got.indices[r]!,
        qi = Math.floor(r / k);
      let s = 0;
      for (let c = 0; c < d; c++) s += q[qi * d + c]! * items[j * d + c]!;
      expect(Math.abs(s - got.scores[r]!)).toBeLessThan(1e-4);
    }
  });

  it('items set once are reused, and give the same result as passing them', () => {
    const random = new Random(4);
    const items = randomFloats(random, 300 * 8),
      q = randomFloats(random, 3 * 8);
    scorer.setItems(items, 8);
    expect(scorer.topK(q, null, 8, 7)).toEqual(scorer.topK(q, items, 8, 7));
  });
});

describe('int8 index', () => {
  it('recall@10 against exact ≥ 0.99 on 100,000 random items, with exclusions honoured', async () => {
    const random = new Random(5);
    const d = 64,
      n = 100_000,
      b = 32,
      k = 10;
    const items = randomFloats(random, n * d),
      q = randomFloats(random, b * d);
    const exact = await createScorer(),
      int8 = await createScorer({ quantize: 'int8' });
    exact.setItems(items, d);
    int8.setItems(items, d);
    const exclude = randomExclusions(random, b, n, 50);
    const want = exact.topK(q, null, d, k, { exclude }),
      got = int8.topK(q, null, d, k, { exclude });
    let hits = 0;
    for (let r = 0; r < b; r++) {
      const truth = new Set(want.indices.subarray(r * k, r * k + k));
      for (const j of got.indices.subarray(r * k, r * k + k)) hits += truth.has(j) ? 1 : 0;
      const skipped = new Set(exclude.ids.subarray(exclude.offsets[r]!, exclude.offsets[r + 1]!));
      for (const j of got.indices.subarray(r * k, r * k + k)) expect(skipped.has(j)).toBe(false);
    }
    expect(hits / (b * k)).toBeGreaterThanOrEqual(0.99);
    // Re-scored exactly: the scores of the items found are their f32 scores.
    for (let r = 0; r < b * k; r++) {
      const pos = Array.from(want.indices.subarray(Math.floor(r / k) * k, Math.floor(r / k) * k + k)).indexOf(got.indices[r]!);
      if (pos >= 0) expect(got.scores[r]).toBe(want.scores[Math.floor(r / k) * k + pos]);
    }
    exact.close();
    int8.close();
  });
});

describe('scorer bad input: a clear error, and the scorer still works afterwards', () => {
  let scorer: Scorer;
  const items = Float32Array.of(1, 0, 0, 1, 1, 1);
  beforeAll(async () => {
    scorer = await createScorer();
  });
  const cases: [string, () => unknown, RegExp][] = [
    ['k = 0', () => scorer.topK(Float32Array.of(1, 0), items, 2, 0), /k must be an integer ≥ 1, got 0/],
    ['k < 0', () => scorer.topK(Float32Array.of(1, 0), items, 2, -3), /k must be an integer ≥ 1, got -3/],
    [
      'dimension mismatch',
      () => scorer.topK(Float32Array.of(1, 0, 2), items, 2, 1),
      /queries has 3 values, not a multiple of dim 2/,
    ],
    ['NaN in queries', () => scorer.topK(Float32Array.of(1, NaN), items, 2, 1), /queries\[1\] is NaN \(row 0\)/],
    [
      'Infinity in items',
      () => scorer.topK(Float32Array.of(1, 0), Float32Array.of(1, 0, Infinity, 1), 2, 1),
      /items\[2\] is Infinity \(row 1\)/,
    ],
    [
      'offsets not monotone',
      () =>
        scorer.topK(Float32Array.of(1, 0, 0, 1), items, 2, 1, {
          exclude: { offsets: Int32Array.of(0, 2, 1), ids: Int32Array.of(0) },
        }),
      /exclude\.offsets must not decrease: offsets\[2\] = 1 < offsets\[1\] = 2/,
    ],
    [
      'ids out of range',
      () => scorer.topK(Float32Array.of(1, 0), items, 2, 1, { exclude: { offsets: Int32Array.of(0, 1), ids: Int32Array.of(3) } }),
      /exclude\.ids\[0\] = 3 is not an item index \(there are 3 items\)/,
    ],
  ];
  it.each(cases)('%s', (_label, run, message) => {
    expect(run).toThrow(message);
    expect(Array.from(scorer.topK(Float32Array.of(1, 1), items, 2, 2).indices)).toEqual([2, 0]);
  });
});

describe('threads', () => {
  it('a 2-thread pool over shared memory returns exactly what one thread returns (f32 and int8, with exclusions)', async () => {
    const { createScorer: createNodeScorer } = await import('../src/node/index.js');
    const random = new Random(8);
    const d = 24,
      n = 20_011,
      b = 7,
      k = 12;
    const items = randomFloats(random, n * d),
      q = randomFloats(random, b * d);
    const exclude = randomExclusions(random, b, n, 30);
    for (const quantize of [undefined, 'int8'] as const) {
      const one = await createNodeScorer({ quantize }),
        two = await createNodeScorer({ threads: 2, quantize });
      expect(one.threads).toBe(1);
      expect(two.threads).toBe(2);
      for (const ex of [undefined, exclude]) {
        expect(two.topK(q, items, d, k, ex ? { exclude: ex } : {})).toEqual(one.topK(q, items, d, k, ex ? { exclude: ex } : {}));
      }
      // Usable after a rejected call, and k beyond the catalogue pads the same way.
      expect(() => two.topK(q, items, d, 0)).toThrow(/k must be an integer ≥ 1/);
      const small = items.subarray(0, 5 * d);
      expect(two.topK(q, small, d, 8)).toEqual(one.topK(q, small, d, 8));
      // Two parts of 68 and 62 items, fewer than the heaps hold (int8: 76 candidates for k = 12;
      // k = 100): the merge reads the parts' heaps with their empty slots marked.
      const mid = items.subarray(0, 130 * d);
      for (const kk of [12, 100]) expect(two.topK(q, mid, d, kk)).toEqual(one.topK(q, mid, d, kk));
      one.close();
      two.close();
    }
  });
});
