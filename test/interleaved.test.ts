// The lone query's kernel, score_topk_il, over the interleaved item layout (interleave_items,
// assembly/score-interleaved.ts): against its TypeScript twin (scores within a tolerance, indices
// exactly), and against score_topk over the row layout, bit for bit (the canonical summation
// order of assembly/simd.ts), in both builds, on odd shapes (n not a multiple of 8, d not a
// multiple of 4), with exclusions, itemBase, ranges split at multiples of 8 and many ties.
import { describe, it, expect, beforeAll } from 'vitest';
import type { WasmBackend } from '../src/wasm/load.js';
import type { Backend } from '../src/backend/contract.js';
import { ReferenceBackend } from '../src/reference/backend.js';
import { interleaveItems, interleavedOffset } from '../src/reference/score.js';
import { interleaveByDefault } from '../src/rank/scan.js';
import { createScorer } from '../src/node/index.js';
import { createIndex, createModel, generateSynthetic } from '../src/node/index.js';
import { core, wasmBuilds, Random, randomFloats, putFloats, putInts, expectClose, randomExclusions } from './helpers.js';

let builds: WasmBackend[] = [];
beforeAll(async () => {
  builds = await wasmBuilds();
});

type Layout = 'rows' | 'interleaved';

/**
 * Top k of b queries against n items on backend `be`, scanned in the given layout as item ranges
 * cut at `splits` (multiples of 8), each range passed from its first item with itemBase = start.
 */
function scan(
  be: Backend,
  layout: Layout,
  queries: Float32Array,
  items: Float32Array,
  b: number,
  n: number,
  d: number,
  k: number,
  ex?: { offsets: Int32Array; ids: Int32Array },
  splits: number[] = [],
) {
  const K = be.kernels;
  const ptrs: number[] = [];
  const keep = (p: number) => (ptrs.push(p), p);
  const pq = keep(putFloats(be, queries)),
    pRows = keep(putFloats(be, items));
  let pItems = pRows;
  if (layout === 'interleaved') {
    pItems = keep(be.alloc(Math.ceil(n / 8) * 8 * d * be.floatBytes));
    K.interleave_items(pItems, pRows, n, d);
  }
  const exOffsets = ex ? keep(putInts(be, ex.offsets)) : 0,
    exIds = ex ? keep(putInts(be, ex.ids)) : 0;
  const outIdx = keep(be.alloc(b * k * 4)),
    outScore = keep(be.alloc(b * k * be.floatBytes)),
    counts = keep(be.alloc(b * 4));
  K.topk_reset(counts, b);
  const cuts = [0, ...splits.filter((s) => s < n), n];
  for (let r = 0; r + 1 < cuts.length; r++) {
    const start = cuts[r]!,
      len = cuts[r + 1]! - start;
    const kernel = layout === 'rows' ? K.score_topk : K.score_topk_il;
    kernel(outIdx, outScore, counts, pq, pItems + start * d * be.floatBytes, exOffsets, exIds, b, len, d, k, start);
  }
  K.topk_finish(outIdx, outScore, counts, b, k);
  const result = { indices: Int32Array.from(be.ints(outIdx, b * k)), scores: Float32Array.from(be.floats(outScore, b * k)) };
  for (const p of ptrs) be.free(p);
  return result;
}

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

const NS = [1, 3, 5, 8, 17, 63, 130];
const DS = [1, 3, 4, 5, 7, 17, 64, 65];

describe('interleave_items', () => {
  it('puts item j column c at block ⌊j/8⌋, column c, lane j mod 8, padding zero (kernel = twin)', () => {
    const random = new Random(7);
    for (const n of NS)
      for (const d of [1, 3, 5, 64]) {
        const items = randomFloats(random, n * d);
        const want = new Float32Array(Math.ceil(n / 8) * 8 * d);
        interleaveItems(want, items, n, d);
        for (let j = 0; j < n; j++) for (let c = 0; c < d; c++) expect(want[interleavedOffset(j, c, d)]).toBe(items[j * d + c]);
        for (const be of builds) {
          const src = putFloats(be, items),
            out = be.alloc(want.length * 4);
          be.floats(out, want.length).fill(NaN);
          be.kernels.interleave_items(out, src, n, d);
          expect(Array.from(be.floats(out, want.length))).toEqual(Array.from(want));
          be.free(src);
          be.free(out);
        }
      }
  });
});

describe.each(['simd', 'relaxed'] as const)('score_topk_il, %s build', (kind) => {
  const be = () => builds.find((b) => b.kind === kind)!;

  it('keeps the twin’s items with its scores (odd shapes, exclusions, ranges split at multiples of 8)', () => {
    const random = new Random(11);
    const twin = new ReferenceBackend();
    for (const n of NS)
      for (const d of DS)
        for (const k of [1, 5, n + 2]) {
          const b = 1 + random.int(3);
          const queries = randomFloats(random, b * d),
            items = randomFloats(random, n * d);
          const ex = n > 4 ? randomExclusions(random, b, n, 3) : undefined;
          const splits = n > 16 ? [8 * (1 + random.int(Math.floor(n / 8)))] : [];
          const got = scan(be(), 'interleaved', queries, items, b, n, d, k, ex, splits);
          const want = scan(twin, 'interleaved', queries, items, b, n, d, k, ex);
          expect(Array.from(got.indices), `n=${n} d=${d} k=${k}`).toEqual(Array.from(want.indices));
          // Short rows are padded with −∞ (index −1, compared above): the finite scores within a tolerance.
          const finite = (x: Float32Array) => x.map((v) => (Number.isFinite(v) ? v : 0));
          expectClose(finite(got.scores), finite(want.scores), 2e-6 * Math.sqrt(d) + 1e-6);
        }
  });

  it('gives score_topk’s results bit for bit: scores, order and ties, alone or in ranges', () => {
    const random = new Random(12);
    for (const n of NS)
      for (const d of DS)
        for (const ties of [false, true]) {
          const b = 1 + random.int(2),
            k = Math.min(n, 1 + random.int(12));
          // Ties: values in {−1, 0, 1}, so many items share a score, across the k boundary too.
          const draw = (m: number) =>
            ties ? Float32Array.from({ length: m }, () => random.int(3) - 1) : randomFloats(random, m);
          const queries = draw(b * d),
            items = draw(n * d);
          const ex = n > 4 && random.int(2) === 0 ? randomExclusions(random, b, n, 2) : undefined;
          const rows = scan(be(), 'rows', queries, items, b, n, d, k, ex);
          const il = scan(be(), 'interleaved', queries, items, b, n, d, k, ex);
          const split = scan(be(), 'interleaved', queries, items, b, n, d, k, ex, [8, 24, 64]);
          const what = `n=${n} d=${d} k=${k}${ties ? ' ties' : ''}`;
          for (const other of [il, split]) {
            expect(Array.from(other.indices), what).toEqual(Array.from(rows.indices));
            expect(bits(other.scores), what).toEqual(bits(rows.scores));
          }
        }
  });
});

describe('the lone query path (ScorerOptions.interleave, IndexOptions.interleave)', () => {
  const n = 1003,
    d = 65,
    k = 10;
  const random = new Random(13);
  const items = randomFloats(random, n * d);
  const queries = randomFloats(random, 3 * d);

  it('scans the interleaved copy for lone queries on 1 and 2 threads, with the row scan’s results bit for bit', async () => {
    const rows = await createScorer({ interleave: false });
    rows.setItems(items, d);
    for (const threads of [1, 2]) {
      // On by default only where it measured faster (V8 13+): asked for here.
      const scorer = await createScorer({ threads, interleave: true });
      expect(scorer.threads).toBe(threads);
      scorer.setItems(items, d);
      expect(scorer.interleavedBytes).toBe(0);
      // A batch scans the rows and builds nothing.
      const batch = scorer.topK(queries, null, d, k);
      expect(scorer.interleavedBytes).toBe(0);
      for (let q = 0; q < 3; q++) {
        const one = queries.slice(q * d, q * d + d);
        const ex = { offsets: Int32Array.of(0, 3), ids: Int32Array.of(batch.indices[q * k]!, 500, 1002) };
        for (const options of [{}, { exclude: ex }]) {
          const got = scorer.topK(one, null, d, k, options),
            want = rows.topK(one, null, d, k, options);
          expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
          expect(bits(got.scores)).toEqual(bits(want.scores));
        }
        expect(Array.from(scorer.topK(one, null, d, k).indices)).toEqual(Array.from(batch.indices.subarray(q * k, q * k + k)));
      }
      expect(scorer.interleavedBytes).toBe(1008 * d * 4);
      // New items drop the copy; items passed on a call never build one.
      scorer.topK(queries.subarray(0, d), items, d, k);
      expect(scorer.interleavedBytes).toBe(0);
      scorer.close();
    }
    expect(rows.interleavedBytes).toBe(0);
    rows.close();
  });

  it('is off for int8 scorers and with interleave: false; createIndex passes the option on', async () => {
    const int8 = await createScorer({ quantize: 'int8' });
    int8.setItems(items, d);
    int8.topK(queries.subarray(0, d), null, d, k);
    expect(int8.interleavedBytes).toBe(0);
    int8.close();
    for (const interleave of [true, false]) {
      const index = await createIndex({ dim: d, interleave });
      index.add(Array.from({ length: n }, (_, j) => items.subarray(j * d, j * d + d)));
      index.search(queries.subarray(0, d), k);
      expect(index.interleavedBytes).toBe(interleave ? 1008 * d * 4 : 0);
      index.close();
    }
    await expect(createScorer({ interleave: 'yes' as never })).rejects.toThrow(/interleave must be a boolean/);
  });

  it('is on by default where it measured faster: V8 13 and later, and engines that do not say', async () => {
    const v8 = Number.parseInt(process.versions.v8, 10);
    expect(interleaveByDefault()).toBe(v8 >= 13);
    const scorer = await createScorer();
    scorer.setItems(items, d);
    scorer.topK(queries.subarray(0, d), null, d, k);
    expect(scorer.interleavedBytes).toBe(v8 >= 13 ? 1008 * d * 4 : 0);
    scorer.close();
  });
});

describe('model.recommend for one user', () => {
  it('equals its row of a batch recommend, bit for bit, before and after the model changes (the copy is rebuilt)', async () => {
    // Node 24 (V8 13+) scans the interleaved copy for one user; earlier versions scan the rows.
    const model = await createModel({
      dim: 5,
      seed: 4,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: 6, dim: 5 }], hidden: [] },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: 37, dim: 5 }], hidden: [] },
      bias: { item: true },
    });
    const data = generateSynthetic({ users: 6, items: 37, ratingsPerUser: 8, seed: 2 });
    model.fit(
      { users: data.train.users.map((u) => u % 6), items: data.train.items.map((i) => i % 37), ratings: data.train.ratings },
      { epochs: 1 },
    );
    const users = [0, 1, 2, 3, 4, 5];
    // The copy lives with recommend's cached item index: 40 items (37 rounded up to 8) × 6
    // columns (5 and the bias) × 4 bytes more on the heap, where it is built.
    const backend = core(model).backend;
    model.rows.recommend(users, { k: 3 });
    const live = backend.stats().liveBytes;
    model.rows.recommend([0], { k: 3 });
    expect(backend.stats().liveBytes - live).toBe(interleaveByDefault() ? 40 * 6 * 4 : 0);
    for (const change of [false, true]) {
      if (change) {
        const bias = model.parameters()['bias.item']!;
        bias[36] = bias[36]! + 0.5;
        model.setParameters({ 'bias.item': bias });
      }
      for (const options of [
        { k: 7, excludeSeen: false },
        { k: 40, excludeSeen: false, exclude: [3, 36] },
      ]) {
        const batch = model.rows.recommend(users, options);
        const k = options.k;
        for (const u of users) {
          const one = model.rows.recommend([u], options);
          expect(Array.from(one.indices)).toEqual(Array.from(batch.indices.subarray(u * k, u * k + k)));
          expect(bits(one.scores)).toEqual(bits(batch.scores.subarray(u * k, u * k + k)));
        }
      }
    }
  });
});
