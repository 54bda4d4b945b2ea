// One run of the int8 pass through a backend's kernels (quantize the queries and items, scan in
// two item ranges, finish), shared by the kernel-against-twin test and the compiler-tier test's
// child process.
import type { Backend } from '../src/backend/contract.js';
import { Random, randomFloats, randomExclusions, putFloats, putInts } from './helpers.js';

export interface Int8ScanShape {
  seed: number;
  b: number;
  n: number;
  d: number;
  m: number;
  /** 1: items as 7-bit rows stored plus 64 (the relaxed dot's form); 0: plain rows. */
  seven: 0 | 1;
  /** Excluded items per query (0: no exclusion lists). */
  excluded: number;
  /**
   * What the rows hold (default 'normal': Gaussian). 'spread': item rows scaled by 10^u, u in
   * [−3, 3], so a chunk's largest item scale is far above most rows' (the integer threshold of
   * score_topk_i8 is loosest there); 'ties': values from {−1, −½, 0, ½, 1}, so many items share
   * a score, across the m boundary too; 'negative': positive queries, negative items, so every
   * score is ≤ 0 and the heaps' thresholds stay ≤ 0.
   */
  values?: 'normal' | 'spread' | 'ties' | 'negative';
}

function rows(random: Random, count: number, d: number, values: Int8ScanShape['values'], side: 'q' | 'i'): Float32Array {
  const x = randomFloats(random, count * d);
  if (values === 'ties') return x.map(() => (random.int(5) - 2) / 2);
  if (values === 'negative') return x.map((v) => (side === 'q' ? 1 : -1) * (Math.abs(v) + 0.01));
  if (values === 'spread' && side === 'i')
    for (let r = 0; r < count; r++) {
      const f = 10 ** (6 * random.next() - 3);
      for (let c = 0; c < d; c++) x[r * d + c]! *= f;
    }
  return x;
}

export interface Int8ScanResult {
  indices: number[];
  scores: number[];
  /** The quantized item bytes, to compare the quantizers too. */
  itemBytes: number[];
}

export function runInt8Scan(B: Backend, shape: Int8ScanShape): Int8ScanResult {
  const { seed, b, n, d, m, seven, excluded } = shape;
  const random = new Random(seed);
  const dPad = Math.ceil(d / 16) * 16;
  const q = rows(random, b, d, shape.values, 'q'),
    items = rows(random, n, d, shape.values, 'i');
  const { offsets, ids } = randomExclusions(random, b, n, excluded);
  const pq = putFloats(B, q),
    pi = putFloats(B, items);
  const qq = B.alloc(b * dPad),
    qs = B.alloc(b * B.floatBytes),
    iq = B.alloc(n * dPad),
    is = B.alloc(n * B.floatBytes);
  B.kernels.quantize_rows_i8(qq, qs, pq, b, d, dPad);
  B.kernels.quantize_items_i8(iq, is, pi, n, d, dPad, seven);
  const outIdx = B.alloc(b * m * 4),
    outScore = B.alloc(b * m * B.floatBytes),
    counts = B.alloc(b * 4);
  const pOff = excluded > 0 ? putInts(B, offsets) : 0,
    pIds = excluded > 0 ? putInts(B, ids) : 0;
  B.kernels.topk_reset(counts, b);
  // Two ranges, as threads scan them: the second one's items are numbered from `half`.
  const half = Math.floor(n / 2);
  B.kernels.score_topk_i8(outIdx, outScore, counts, qq, qs, iq, is, pOff, pIds, b, half, dPad, m, 0, seven);
  B.kernels.score_topk_i8(
    outIdx,
    outScore,
    counts,
    qq,
    qs,
    iq + half * dPad,
    is + half * B.floatBytes,
    pOff,
    pIds,
    b,
    n - half,
    dPad,
    m,
    half,
    seven,
  );
  B.kernels.topk_finish(outIdx, outScore, counts, b, m);
  const result = {
    indices: Array.from(B.ints(outIdx, b * m)),
    scores: Array.from(B.floats(outScore, b * m)),
    itemBytes: Array.from(B.bytes(iq, n * dPad)),
  };
  for (const p of [pq, pi, qq, qs, iq, is, outIdx, outScore, counts]) B.free(p);
  if (pOff) [pOff, pIds].forEach((p) => B.free(p));
  return result;
}
