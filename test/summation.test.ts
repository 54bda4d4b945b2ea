// One summation order (DESIGN.md; the definition is in assembly/simd.ts). The property: the f32
// score of a (query, item) pair has the same bits wherever it is computed — the query scored
// alone (b = 1, the lone-query path) or in a batch of 2, 3, 5 or 8 at any position (pairs of
// queries, and the odd one out on the lone path); the item in a block of four or in the tail of
// a scan, at any offset or in any order; the scan split over 2 threads or run on 1; the int8
// index's exact re-scoring pass; score_matrix (gemm_nt) and rowwise_dot. Otherwise a user's
// top-k could depend on which other users share the batch.
//
// Random Gaussian floats, not small integers (their dot products are exact in any order and
// would hide rounding); widths odd and even, below, at and around the vector width. Both builds:
// each against itself across paths; the plain SIMD build (multiply, then add, each rounded to
// f32) also against the canonical order replayed in TypeScript with Math.fround at every step.
// The relaxed build fuses the lane multiply-adds, so it has its own (equally canonical) bits.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { loadWasmBackend, type WasmBackend } from '../src/wasm/load.js';
import type { Scorer } from '../src/rank/scorer.js';

const DIMS = [1, 3, 4, 7, 16, 63, 64, 65];
/** Queries per test: batches are drawn from these. */
const B = 8;
/** Items: five blocks of four and a tail of three. */
const N = 23;
const BATCH_SIZES = [2, 3, 5, 8];

/** Seeded uniform [0, 1) (mulberry32), standard normals (Box–Muller) and shuffles. */
class Random {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  shuffled(values: number[]): number[] {
    const a = values.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

function gaussian(random: Random, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => random.normal());
}

/** The canonical order of assembly/simd.ts in f32 arithmetic, every product and sum rounded. */
function canonicalDot(x: Float32Array, xo: number, y: Float32Array, yo: number, d: number): number {
  const f = Math.fround;
  const d4 = d & ~3;
  const acc = [0, 0, 0, 0];
  for (let e = 0; e < d4; e += 4) {
    for (let l = 0; l < 4; l++) acc[l] = f(acc[l]! + f(x[xo + e + l]! * y[yo + e + l]!));
  }
  let h = f(f(acc[0]! + acc[1]!) + f(acc[2]! + acc[3]!));
  if (d4 < d) {
    let t = 0;
    for (let j = d4; j < d; j++) t = f(t + f(x[xo + j]! * y[yo + j]!));
    h = f(h + t);
  }
  return h;
}

/** A left-to-right f32 sum: another order, to show the data tells orders apart. */
function sequentialDot(x: Float32Array, xo: number, y: Float32Array, yo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s = Math.fround(s + Math.fround(x[xo + j]! * y[yo + j]!));
  return s;
}

/** Every (query, item) score of a b×n table, by a per-pair formula. */
function tableOf(dot: typeof canonicalDot, q: Float32Array, items: Float32Array, b: number, n: number, d: number): Float32Array {
  const t = new Float32Array(b * n);
  for (let i = 0; i < b; i++) for (let j = 0; j < n; j++) t[i * n + j] = dot(q, i * d, items, j * d, d);
  return t;
}

/**
 * Asserts two score tables are equal bit for bit (NaN marks a pair that was never scored, and
 * fails too); reports the first few differing pairs with their bits.
 */
function expectSameBits(got: Float32Array, want: Float32Array, n: number, label: string): void {
  expect(got.length, label).toBe(want.length);
  const gb = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const wb = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    if (gb[i] !== wb[i] || Number.isNaN(got[i]!)) {
      if (bad.length < 5) {
        bad.push(
          `(query ${Math.floor(i / n)}, item ${i % n}): ${got[i]} [0x${gb[i]!.toString(16)}] vs ${want[i]} [0x${wb[i]!.toString(16)}]`,
        );
      } else {
        bad.push('');
      }
    }
  }
  if (bad.length > 0) expect.fail(`${label}: ${bad.length} pairs differ, e.g. ${bad.filter(Boolean).join('; ')}`);
}

/** Allocations on one backend, freed together. */
class Heap {
  private readonly ptrs: number[] = [];
  constructor(readonly be: WasmBackend) {}
  floats(values: ArrayLike<number>): number {
    const p = this.alloc(values.length * 4);
    this.be.floats(p, values.length).set(values);
    return p;
  }
  ints(values: ArrayLike<number>): number {
    const p = this.alloc(values.length * 4);
    this.be.ints(p, values.length).set(values);
    return p;
  }
  alloc(bytes: number): number {
    const p = this.be.alloc(Math.max(16, bytes));
    this.ptrs.push(p);
    return p;
  }
  free(): void {
    for (const p of this.ptrs.splice(0)) this.be.free(p);
  }
}

/**
 * Scores queries (b rows) against items rows [from, from + n) of `items` with score_topk and
 * k = n, so every pair comes back; the items are passed from row `from` with itemBase = from,
 * so the same item falls at a different place in the scan's blocks. Writes each returned score
 * into table[query row · width + item index]; `rows` maps the batch rows to table rows and
 * `ids` maps the scanned item indices to table columns (identity when absent).
 */
function scanInto(
  be: WasmBackend,
  table: Float32Array,
  width: number,
  q: Float32Array,
  rows: number[],
  items: Float32Array,
  from: number,
  n: number,
  d: number,
  ids?: Int32Array,
): void {
  const heap = new Heap(be);
  const b = rows.length,
    k = n;
  const batch = new Float32Array(b * d);
  rows.forEach((r, i) => batch.set(q.subarray(r * d, r * d + d), i * d));
  const pq = heap.floats(batch),
    pItems = heap.floats(items);
  const outIdx = heap.alloc(b * k * 4),
    outScore = heap.alloc(b * k * 4),
    counts = heap.alloc(b * 4);
  const K = be.kernels;
  K.topk_reset(counts, b);
  K.score_topk(outIdx, outScore, counts, pq, pItems + from * d * 4, 0, 0, b, n, d, k, from);
  K.topk_finish(outIdx, outScore, counts, b, k);
  const idx = be.ints(outIdx, b * k),
    score = be.floats(outScore, b * k);
  for (let i = 0; i < b; i++) {
    const seen = new Set<number>();
    for (let c = 0; c < k; c++) {
      const j = idx[i * k + c]!;
      expect(j >= from && j < from + n, `item index ${j} outside [${from}, ${from + n})`).toBe(true);
      seen.add(j);
      table[rows[i]! * width + (ids ? ids[j]! : j)] = score[i * k + c]!;
    }
    expect(seen.size, 'k = n returns every item once').toBe(n);
  }
  heap.free();
}

const nanTable = (b: number, n: number) => new Float32Array(b * n).fill(NaN);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The reference table of a build: each query scored alone (b = 1) against all N items. */
function aloneTable(be: WasmBackend, q: Float32Array, items: Float32Array, d: number, b = B, n = N): Float32Array {
  const t = nanTable(b, n);
  for (let i = 0; i < b; i++) scanInto(be, t, n, q, [i], items, 0, n, d);
  return t;
}

describe.each(['simd', 'relaxed'] as const)('one summation order, %s build', (build) => {
  let be: WasmBackend;
  beforeAll(async () => {
    be = await loadWasmBackend({ build });
  });

  describe.each(DIMS)('d = %i', (d) => {
    const random = new Random(1000 + d);
    const q = gaussian(random, B * d),
      items = gaussian(random, N * d);
    let alone: Float32Array;
    beforeAll(() => {
      alone = aloneTable(be, q, items, d);
    });

    if (build === 'simd') {
      it('a query scored alone equals the canonical order replayed in f32 (TypeScript, Math.fround)', () => {
        expectSameBits(alone, tableOf(canonicalDot, q, items, B, N, d), N, 'alone vs TypeScript canonical');
      });
    }

    if (d >= 16) {
      it('the data tells summation orders apart (a left-to-right f32 sum differs somewhere)', () => {
        const other = tableOf(sequentialDot, q, items, B, N, d);
        let differ = 0;
        for (let i = 0; i < other.length; i++) if (!Object.is(other[i], alone[i])) differ++;
        expect(differ).toBeGreaterThan(0);
      });
    }

    it('alone (b = 1) equals in batches of 2, 3, 5 and 8, at every position in the batch', () => {
      for (const size of BATCH_SIZES) {
        for (let start = 0; start < B; start++) {
          // Query (start + i) % B at position i: over all starts, each query takes every position;
          // with an odd size the last one is scored on the lone-query path.
          const rows = range(size).map((i) => (start + i) % B);
          const t = nanTable(B, N);
          scanInto(be, t, N, q, rows, items, 0, N, d);
          rows.forEach((r, i) =>
            expectSameBits(
              t.subarray(r * N, r * N + N),
              alone.slice(r * N, r * N + N),
              N,
              `query ${r} at position ${i} of a batch of ${size}`,
            ),
          );
        }
      }
    });

    it('an item scores the same in a block of four and in the tail, at any offset and in any order', () => {
      for (const rows of [range(B), [0, 1, 2], [5]]) {
        for (let from = 0; from < 4; from++) {
          // Scanning rows [from, N) with itemBase = from shifts every item by one place in the
          // blocks: each item sits in a block of four in some scans and in the tail in others.
          for (const end of [N, N - 1, N - 3]) {
            const t = nanTable(B, N);
            scanInto(be, t, N, q, rows, items, from, end - from, d);
            for (const r of rows) {
              expectSameBits(
                t.subarray(r * N + from, r * N + end),
                alone.slice(r * N + from, r * N + end),
                N,
                `query ${r}, items [${from}, ${end}) of ${N}`,
              );
            }
          }
        }
        // The items in a shuffled order: each lands in another block or in the tail.
        const perm = Int32Array.from(random.shuffled(range(N)));
        const shuffled = new Float32Array(N * d);
        perm.forEach((src, i) => shuffled.set(items.subarray(src * d, src * d + d), i * d));
        const t = nanTable(B, N);
        scanInto(be, t, N, q, rows, shuffled, 0, N, d, perm);
        for (const r of rows)
          expectSameBits(t.subarray(r * N, r * N + N), alone.slice(r * N, r * N + N), N, `query ${r}, shuffled items`);
      }
    });

    it("score_rescore (the int8 index's exact pass) equals score_topk, in any candidate order", () => {
      const heap = new Heap(be);
      const m = N + 2,
        k = N;
      // Each query's candidates: every item, shuffled, and two empty (−1) slots.
      const cand = new Int32Array(B * m);
      for (let i = 0; i < B; i++) {
        cand.set(random.shuffled([...range(N), -1, -1]), i * m);
      }
      const pq = heap.floats(q),
        pItems = heap.floats(items),
        pCand = heap.ints(cand);
      const outIdx = heap.alloc(B * k * 4),
        outScore = heap.alloc(B * k * 4),
        counts = heap.alloc(B * 4);
      be.kernels.score_rescore(outIdx, outScore, counts, pq, pItems, pCand, B, m, d, k);
      be.kernels.topk_finish(outIdx, outScore, counts, B, k);
      const t = nanTable(B, N),
        idx = be.ints(outIdx, B * k),
        score = be.floats(outScore, B * k);
      for (let i = 0; i < B * k; i++) t[Math.floor(i / k) * N + idx[i]!] = score[i]!;
      heap.free();
      expectSameBits(t, alone, N, 'score_rescore vs score_topk alone');
    });

    it('score_matrix (gemm_nt) equals score_topk', () => {
      for (const b of [B, 1, 3]) {
        const heap = new Heap(be);
        const ps = heap.alloc(b * N * 4),
          pq = heap.floats(q.subarray(0, b * d)),
          pItems = heap.floats(items);
        be.kernels.score_matrix(ps, pq, pItems, b, N, d);
        const t = Float32Array.from(be.floats(ps, b * N));
        heap.free();
        expectSameBits(t, alone.slice(0, b * N), N, `score_matrix, b = ${b}`);
      }
    });

    it('rowwise_dot equals score_topk', () => {
      const heap = new Heap(be);
      const u = new Float32Array(B * N * d),
        v = new Float32Array(B * N * d);
      for (let i = 0; i < B; i++) {
        for (let j = 0; j < N; j++) {
          u.set(q.subarray(i * d, i * d + d), (i * N + j) * d);
          v.set(items.subarray(j * d, j * d + d), (i * N + j) * d);
        }
      }
      const ps = heap.alloc(B * N * 4),
        pu = heap.floats(u),
        pv = heap.floats(v);
      be.kernels.rowwise_dot(ps, pu, pv, B * N, d);
      const t = Float32Array.from(be.floats(ps, B * N));
      heap.free();
      expectSameBits(t, alone, N, 'rowwise_dot');
    });
  });
});

// The threads build is another module (shared memory) and splits the scan by item range, each
// worker with its own blocks and tail; createScorer is the way users reach it.
describe.each(['simd', 'relaxed'] as const)('one summation order across threads, %s build', (build) => {
  let be: WasmBackend;
  let one: Scorer, two: Scorer, int8: Scorer;
  beforeAll(async () => {
    const { createScorer } = await import('../src/node/index.js');
    be = await loadWasmBackend({ build });
    one = await createScorer({ threads: 1, wasm: { build } });
    two = await createScorer({ threads: 2, wasm: { build } });
    int8 = await createScorer({ threads: 2, quantize: 'int8', wasm: { build } });
  });
  afterAll(() => {
    one?.close();
    two?.close();
    int8?.close();
  });

  it('the 2-thread pool really runs two threads', () => {
    expect(two.threads).toBe(2);
    expect(int8.threads).toBe(2);
  });

  // 203 items: two threads scan [0, 104) and [104, 203), the second ending in a tail of three.
  const n = 203,
    b = 5;
  it.each(DIMS)('d = %i: 2 threads, 1 thread, int8 re-scoring and the kernel alone agree bit for bit', (d) => {
    const random = new Random(2000 + d);
    const q = gaussian(random, b * d),
      items = gaussian(random, n * d);
    const alone = aloneTable(be, q, items, d, b, n);
    if (build === 'simd') expectSameBits(alone, tableOf(canonicalDot, q, items, b, n, d), n, 'alone vs TypeScript canonical');
    for (const [name, scorer] of [
      ['1 thread', one],
      ['2 threads', two],
    ] as const) {
      const got = scorer.topK(q, items, d, n);
      const t = nanTable(b, n);
      for (let i = 0; i < b * n; i++) t[Math.floor(i / n) * n + got.indices[i]!] = got.scores[i]!;
      expectSameBits(t, alone, n, name);
    }
    // int8: the items found are re-scored exactly; each returned score is that pair's score.
    const k = 10,
      got = int8.topK(q, items, d, k);
    expect(Math.min(...got.indices)).toBeGreaterThanOrEqual(0);
    const want = Float32Array.from(got.indices, (j, i) => alone[Math.floor(i / k) * n + j]!);
    expectSameBits(got.scores, want, k, 'int8 index, re-scored (row = query, column = rank)');
  });
});
