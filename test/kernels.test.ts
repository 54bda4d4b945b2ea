// Every WASM kernel, in both builds, against its TypeScript twin on seeded random inputs whose
// sizes include every SIMD tail (1, 3, 5, 17, 63, 130). The twin runs in f64; the kernels in f32,
// so results agree within a tolerance that grows with the length of the sums.
import { describe, it, expect, beforeAll } from 'vitest';
import type { WasmBackend } from '../src/wasm/load.js';
import * as ref from '../src/reference/dense.js';
import * as act from '../src/reference/activation.js';
import * as emb from '../src/reference/embedding.js';
import * as loss from '../src/reference/loss.js';
import { ReferenceBackend } from '../src/reference/backend.js';
import {
  wasmBuilds,
  ODD_SIZES,
  Random,
  randomFloats,
  randomInts,
  putFloats,
  putInts,
  getFloats,
  expectClose,
  f64,
} from './helpers.js';
import { runInt8Scan } from './int8-scan.js';
import { loadExtraKernels } from './extra-kernels.js';

let builds: WasmBackend[] = [];
beforeAll(async () => {
  builds = await wasmBuilds();
});

/** A random permutation of 0..n−1: a row map that gives every table row a compact row of its own. */
const permutation = (random: Random, n: number) => {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  random.shuffle(p);
  return p;
};

/** Tolerance for a sum of `terms` products of unit-scale values computed in f32. */
const tol = (terms: number) => 2e-6 * Math.sqrt(terms) + 1e-6;

describe.each(['simd', 'relaxed'] as const)('%s build', (kind) => {
  const be = () => builds.find((b) => b.kind === kind)!;

  it('is the build it claims: the relaxed build fuses multiply-add (one rounding), the plain build rounds twice', () => {
    // x·w = 1 + 2⁻¹¹ + 2⁻²⁴ is not an f32: rounded first (plain SIMD) it is 1 + 2⁻¹¹, and adding
    // the bias −(1 + 2⁻¹¹) gives 0; fused (relaxed_madd on an FMA host, as here) it gives 2⁻²⁴.
    const B = be();
    const x = Math.fround(1 + 2 ** -12),
      bias = -(1 + 2 ** -11);
    const [px, pw, pb, py] = [putFloats(B, [x]), putFloats(B, [x, x, x, x]), putFloats(B, [bias, bias, bias, bias]), B.alloc(16)];
    B.kernels.dense_forward(py, px, pw, pb, 1, 1, 4);
    expect(Array.from(getFloats(B, py, 4))).toEqual(new Array(4).fill(kind === 'relaxed' ? 2 ** -24 : 0));
    [px, pw, pb, py].forEach((p) => B.free(p));
  });

  it('dense_forward matches X·W + b, with and without bias, on odd shapes', () => {
    const random = new Random(1);
    for (const m of ODD_SIZES)
      for (const k of [1, 5, 17, 63])
        for (const n of [1, 3, 8, 13, 130]) {
          const x = randomFloats(random, m * k),
            w = randomFloats(random, k * n),
            b = randomFloats(random, n);
          for (const withBias of [true, false]) {
            const expected = new Float64Array(m * n);
            ref.denseForward(expected, f64(x), f64(w), withBias ? f64(b) : null, m, k, n);
            const B = be();
            const [px, pw, pb, py] = [putFloats(B, x), putFloats(B, w), putFloats(B, b), B.alloc(m * n * 4)];
            B.kernels.dense_forward(py, px, pw, withBias ? pb : 0, m, k, n);
            expectClose(getFloats(B, py, m * n), expected, tol(k));
            [px, pw, pb, py].forEach((p) => B.free(p));
          }
        }
  });

  it('dense_backward_input matches dY·Wᵀ on odd shapes', () => {
    const random = new Random(2);
    for (const m of ODD_SIZES)
      for (const k of [1, 3, 5, 17, 63])
        for (const n of [1, 4, 7, 17, 130]) {
          const dy = randomFloats(random, m * n),
            w = randomFloats(random, k * n);
          const expected = new Float64Array(m * k);
          ref.denseBackwardInput(expected, f64(dy), f64(w), m, k, n);
          const B = be();
          const [pdy, pw, pdx] = [putFloats(B, dy), putFloats(B, w), B.alloc(m * k * 4)];
          B.kernels.dense_backward_input(pdx, pdy, pw, m, k, n);
          expectClose(getFloats(B, pdx, m * k), expected, tol(n));
          [pdy, pw, pdx].forEach((p) => B.free(p));
        }
  });

  it('dense_backward_weight matches Xᵀ·dY, overwriting and accumulating, with X of row stride ≥ k', () => {
    const random = new Random(3);
    for (const m of ODD_SIZES)
      for (const k of [1, 3, 5, 17])
        for (const n of [1, 4, 9, 17, 130]) {
          // Odd m: X is the first k columns of a wider matrix (a thread's block of dW rows).
          const ldx = m % 2 ? k + 3 : k;
          const x = randomFloats(random, m * ldx),
            dy = randomFloats(random, m * n),
            start = randomFloats(random, k * n);
          for (const accumulate of [false, true]) {
            const expected = f64(start);
            ref.denseBackwardWeight(expected, f64(x), f64(dy), m, k, n, ldx, accumulate);
            const B = be();
            const [px, pdy, pdw] = [putFloats(B, x), putFloats(B, dy), putFloats(B, start)];
            B.kernels.dense_backward_weight(pdw, px, pdy, m, k, n, ldx, accumulate ? 1 : 0);
            expectClose(getFloats(B, pdw, k * n), expected, tol(m + 1));
            [px, pdy, pdw].forEach((p) => B.free(p));
          }
        }
  });

  it('bias_backward matches column sums', () => {
    const random = new Random(4);
    for (const m of ODD_SIZES)
      for (const n of ODD_SIZES)
        for (const accumulate of [false, true]) {
          const dy = randomFloats(random, m * n),
            start = randomFloats(random, n);
          const expected = f64(start);
          ref.biasBackward(expected, f64(dy), m, n, accumulate);
          const B = be();
          const [pdy, pdb] = [putFloats(B, dy), putFloats(B, start)];
          B.kernels.bias_backward(pdb, pdy, m, n, accumulate ? 1 : 0);
          expectClose(getFloats(B, pdb, n), expected, tol(m + 1));
          [pdy, pdb].forEach((p) => B.free(p));
        }
  });

  it('relu forward and backward match exactly, in place too', () => {
    const random = new Random(5);
    for (const n of ODD_SIZES) {
      const x = randomFloats(random, n),
        dy = randomFloats(random, n);
      const y = new Float64Array(n),
        dx = new Float64Array(n);
      act.reluForward(y, f64(x), n);
      act.reluBackward(dx, f64(dy), y, n);
      const B = be();
      const [px, pdy] = [putFloats(B, x), putFloats(B, dy)];
      B.kernels.relu_forward(px, px, n);
      expect(getFloats(B, px, n)).toEqual(y);
      B.kernels.relu_backward(pdy, pdy, px, n);
      expect(getFloats(B, pdy, n)).toEqual(dx);
      [px, pdy].forEach((p) => B.free(p));
    }
  });

  it('embedding gather and scatter-add match, with strided output and repeated ids', () => {
    const random = new Random(6);
    for (const n of ODD_SIZES)
      for (const dim of [1, 3, 4, 17]) {
        const vocab = 7,
          ld = dim + 5;
        const table = randomFloats(random, vocab * dim),
          ids = randomInts(random, n, vocab);
        const out0 = randomFloats(random, n * ld),
          dout = randomFloats(random, n * ld),
          dt0 = randomFloats(random, vocab * dim);
        const expOut = f64(out0),
          expDt = f64(dt0);
        // Odd sizes scatter through a row map (a compact gradient: table row → its own row).
        const map = n % 2 ? permutation(random, vocab) : null;
        emb.embeddingGather(expOut, f64(table), ids, n, dim, ld);
        emb.embeddingScatterAdd(expDt, f64(dout), ids, map, n, dim, ld);
        const B = be();
        const pmap = map ? putInts(B, map) : 0;
        const [pt, pids, pout, pdout, pdt] = [
          putFloats(B, table),
          putInts(B, ids),
          putFloats(B, out0),
          putFloats(B, dout),
          putFloats(B, dt0),
        ];
        B.kernels.embedding_gather(pout, pt, pids, n, dim, ld);
        B.kernels.embedding_scatter_add(pdt, pdout, pids, pmap, n, dim, ld);
        expect(getFloats(B, pout, n * ld)).toEqual(expOut);
        expectClose(getFloats(B, pdt, vocab * dim), expDt, tol(n + 1));
        if (map) {
          // Through the map, row ids[r]'s gradient lands in row map[ids[r]]: the unmapped result, permuted.
          const plain = f64(dt0);
          emb.embeddingScatterAdd(plain, f64(dout), ids, null, n, dim, ld);
          for (let row = 0; row < vocab; row++)
            for (let c = 0; c < dim; c++)
              expect(expDt[map[row]! * dim + c]).toBeCloseTo(
                plain[row * dim + c]! + dt0[map[row]! * dim + c]! - dt0[row * dim + c]!,
                10,
              );
        }
        [pt, pids, pout, pdout, pdt, pmap].forEach((p) => p && B.free(p));
      }
  });

  it('embedding_bag and its scatter match for mean and sum pooling, weights, empty sets and a skipped id per row', () => {
    const random = new Random(7);
    for (const entities of [1, 5, 17])
      for (const dim of [1, 3, 8, 13, 16, 21, 33])
        for (const mean of [true, false])
          for (const weighted of [false, true]) {
            const vocab = 11,
              ld = dim + 2,
              n = 9;
            const counts = Array.from({ length: entities }, (_, e) => (e % 4 === 3 ? 0 : 1 + random.int(4)));
            const offsets = new Int32Array(entities + 1);
            counts.forEach((c, e) => (offsets[e + 1] = offsets[e]! + c));
            const ids = randomInts(random, offsets[entities]!, vocab);
            const weights = randomFloats(random, ids.length);
            const rows = randomInts(random, n, entities);
            const table = randomFloats(random, vocab * dim),
              dout = randomFloats(random, n * ld);
            const expOut = new Float64Array(n * ld),
              expDt = new Float64Array(vocab * dim);
            // Rows skip one of their ids half the time (the item being scored), −1 (none) otherwise.
            const skip = Int32Array.from(rows, (e, r) => (r % 2 && offsets[e + 1]! > offsets[e]! ? ids[offsets[e]!]! : -1));
            emb.embeddingBag(expOut, f64(table), offsets, ids, weighted ? f64(weights) : null, rows, skip, n, dim, ld, mean);
            const map = weighted ? permutation(random, vocab) : null;
            emb.embeddingBagScatterAdd(
              expDt,
              f64(dout),
              offsets,
              ids,
              weighted ? f64(weights) : null,
              rows,
              skip,
              map,
              n,
              dim,
              ld,
              mean,
            );
            const B = be();
            const ptrs = [
              putFloats(B, table),
              putInts(B, offsets),
              putInts(B, ids),
              putFloats(B, weights),
              putInts(B, rows),
              putFloats(B, new Float32Array(n * ld)),
              putFloats(B, dout),
              putFloats(B, new Float32Array(vocab * dim)),
              putInts(B, skip),
              map ? putInts(B, map) : putInts(B, new Int32Array(1)),
            ];
            const [pt, po, pids, pw, prows, pout, pdout, pdt, pskip, pmap] = ptrs as [
              number,
              number,
              number,
              number,
              number,
              number,
              number,
              number,
              number,
              number,
            ];
            B.kernels.embedding_bag(pout, pt, po, pids, weighted ? pw : 0, prows, pskip, n, dim, ld, mean ? 1 : 0);
            B.kernels.embedding_bag_scatter_add(
              pdt,
              pdout,
              po,
              pids,
              weighted ? pw : 0,
              prows,
              pskip,
              map ? pmap : 0,
              n,
              dim,
              ld,
              mean ? 1 : 0,
            );
            expectClose(getFloats(B, pout, n * ld), expOut, tol(8));
            expectClose(getFloats(B, pdt, vocab * dim), expDt, tol(32));
            ptrs.forEach((p) => B.free(p));
          }
  });

  it('gather_rows and gather_32 copy exactly', () => {
    const random = new Random(8);
    for (const n of ODD_SIZES)
      for (const width of [1, 2, 5]) {
        const count = 9,
          ld = width + 3;
        const src = randomFloats(random, count * width),
          rows = randomInts(random, n, count);
        const expected = new Float64Array(n * ld),
          gathered = new Int32Array(n);
        emb.gatherRows(expected, f64(src), rows, n, width, ld);
        const column = randomInts(random, count, 1000);
        emb.gather(gathered, column, rows, n);
        const B = be();
        const [ps, pr, pout, pc, pg] = [
          putFloats(B, src),
          putInts(B, rows),
          putFloats(B, new Float32Array(n * ld)),
          putInts(B, column),
          B.alloc(n * 4),
        ];
        B.kernels.gather_rows(pout, ps, pr, n, width, ld);
        B.kernels.gather_i32(pg, pc, pr, n);
        expect(getFloats(B, pout, n * ld)).toEqual(expected);
        expect(Int32Array.from(B.ints(pg, n))).toEqual(gathered);
        [ps, pr, pout, pc, pg].forEach((p) => B.free(p));
      }
  });

  it('rowwise dot, its backward, pair biases and mse match', () => {
    const random = new Random(9);
    for (const n of ODD_SIZES)
      for (const d of [1, 3, 4, 17, 64]) {
        const u = randomFloats(random, n * d),
          v = randomFloats(random, n * d),
          y = randomFloats(random, n);
        const ub = randomFloats(random, 6),
          ib = randomFloats(random, 5),
          g = randomFloats(random, 1);
        const uids = randomInts(random, n, 6),
          iids = randomInts(random, n, 5);
        const s = new Float64Array(n),
          ds = new Float64Array(n),
          du = new Float64Array(n * d),
          dv = new Float64Array(n * d);
        loss.rowwiseDot(s, f64(u), f64(v), n, d);
        loss.addPairBias(s, f64(g), f64(ub), uids, f64(ib), iids, n);
        const expectedLoss = loss.mseLoss(ds, s, f64(y), n);
        loss.rowwiseDotBackward(du, dv, ds, f64(u), f64(v), n, d);
        const B = be();
        const ptrs = [
          putFloats(B, u),
          putFloats(B, v),
          putFloats(B, y),
          putFloats(B, ub),
          putFloats(B, ib),
          putFloats(B, g),
          putInts(B, uids),
          putInts(B, iids),
          B.alloc(n * 4),
          B.alloc(n * 4),
          B.alloc(n * d * 4),
          B.alloc(n * d * 4),
        ];
        const [pu, pv, py, pub, pib, pg, puids, piids, ps, pds, pdu, pdv] = ptrs as number[] as [
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
        ];
        B.kernels.rowwise_dot(ps, pu, pv, n, d);
        B.kernels.add_pair_bias(ps, pg, pub, puids, pib, piids, n);
        expectClose(getFloats(B, ps, n), s, tol(d + 3));
        const value = B.kernels.mse_loss(pds, ps, py, n);
        expect(value).toBeCloseTo(expectedLoss, 4);
        expectClose(getFloats(B, pds, n), ds, tol(d + 3) * 4);
        B.kernels.rowwise_dot_backward(pdu, pdv, pds, pu, pv, n, d);
        expectClose(getFloats(B, pdu, n * d), du, tol(d + 3) * 8);
        expectClose(getFloats(B, pdv, n * d), dv, tol(d + 3) * 8);
        ptrs.forEach((p) => B.free(p));
      }
  });

  it('add_pair_bias leaves out terms whose pointer is 0', () => {
    const B = be();
    const ps = putFloats(B, [1, 2]),
      pg = putFloats(B, [0.5]),
      pub = putFloats(B, [10, 20]),
      pids = putInts(B, [1, 0]);
    B.kernels.add_pair_bias(ps, 0, pub, pids, 0, 0, 2);
    expect(Array.from(B.floats(ps, 2))).toEqual([21, 12]);
    B.kernels.add_pair_bias(ps, pg, 0, 0, 0, 0, 2);
    expect(Array.from(B.floats(ps, 2))).toEqual([21.5, 12.5]);
    [ps, pg, pub, pids].forEach((p) => B.free(p));
  });

  it('score_matrix matches Q·Itemsᵀ on odd shapes', () => {
    const random = new Random(10);
    for (const b of [1, 2, 3, 5, 17])
      for (const n of ODD_SIZES)
        for (const d of [1, 3, 16, 17, 64]) {
          const q = randomFloats(random, b * d),
            items = randomFloats(random, n * d);
          const expected = new Float64Array(b * n);
          ref.scoreMatrix(expected, f64(q), f64(items), b, n, d);
          const B = be();
          const [pq, pi, ps] = [putFloats(B, q), putFloats(B, items), B.alloc(b * n * 4)];
          B.kernels.score_matrix(ps, pq, pi, b, n, d);
          expectClose(getFloats(B, ps, b * n), expected, tol(d));
          [pq, pi, ps].forEach((p) => B.free(p));
        }
  });

  it('count_nonfinite, zero_f32 and copy_f32 behave', () => {
    const B = be();
    const p = putFloats(B, [1, NaN, Infinity, -Infinity, 0, 3]);
    expect(B.kernels.count_nonfinite(p, 6)).toBe(3);
    const q = B.alloc(24);
    B.kernels.copy_f32(q, p, 6);
    expect(Array.from(B.floats(q, 6))).toEqual([1, NaN, Infinity, -Infinity, 0, 3]);
    B.kernels.zero_f32(p, 6);
    expect(B.kernels.count_nonfinite(p, 6)).toBe(0);
    expect(Array.from(B.floats(p, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    [p, q].forEach((x) => B.free(x));
  });

  it('the bandwidth floors (extras module): stream_sum and stream_sum_i8 sum every value once (every tail length)', async () => {
    const X = await loadExtraKernels(kind);
    const random = new Random(8);
    for (const n of [...ODD_SIZES, 31, 32, 33, 127, 128, 129, 1000]) {
      const x = randomFloats(random, n);
      const p = X.alloc(n * 4);
      X.floats(p, n).set(x);
      expect(Math.abs(X.kernels.stream_sum(p, n) - x.reduce((a, b) => a + b, 0))).toBeLessThan(tol(n) * 4);
      const bytes = Int8Array.from({ length: n }, () => random.int(255) - 127);
      const pb = X.alloc(n);
      X.bytes(pb, n).set(new Uint8Array(bytes.buffer));
      expect(X.kernels.stream_sum_i8(pb, n)).toBe(bytes.reduce((a, b) => a + b, 0));
      [p, pb].forEach((ptr) => X.free(ptr));
    }
  });

  it('count_nonfinite counts NaN and ±∞ in every lane and tail position (vectorised) as its twin does', () => {
    const B = be();
    const twin = new ReferenceBackend();
    const random = new Random(12);
    for (const n of [...ODD_SIZES, 8, 9, 16, 31, 1000]) {
      const x = randomFloats(random, n);
      for (let i = 0; i < n; i++) if (random.next() < 0.2) x[i] = [NaN, Infinity, -Infinity][random.int(3)]!;
      const [p, q] = [putFloats(B, x), putFloats(twin, x)];
      expect(B.kernels.count_nonfinite(p, n)).toBe(twin.kernels.count_nonfinite(q, n));
      B.free(p);
      twin.free(q);
    }
  });

  it("score_topk_i8 keeps the twin's candidates with its scores, bit for bit, for plain and 7-bit rows (odd shapes, exclusions, two ranges)", () => {
    const B = be();
    const twin = new ReferenceBackend();
    let seed = 30;
    for (const seven of [0, 1] as const)
      for (const b of [1, 2, 3, 5])
        for (const [n, d] of [
          [1, 1],
          [7, 3],
          [130, 17],
          [517, 64],
          [33, 130],
        ] as const) {
          const shape = { seed: seed++, b, n, d, m: 9, seven, excluded: n > 20 ? 4 : 0 };
          const got = runInt8Scan(B, shape),
            want = runInt8Scan(twin, shape);
          expect(got.itemBytes, `quantized items, ${JSON.stringify(shape)}`).toEqual(want.itemBytes);
          expect(got.indices, `candidates, ${JSON.stringify(shape)}`).toEqual(want.indices);
          expect(got.scores, `scores, ${JSON.stringify(shape)}`).toEqual(want.scores);
        }
  });

  it("score_topk_i8 with its per-chunk integer threshold keeps the twin's candidates: several chunks, spread scales, ties, scores ≤ 0, m above n", () => {
    const B = be();
    const twin = new ReferenceBackend();
    let seed = 90;
    for (const seven of [0, 1] as const)
      for (const values of ['spread', 'ties', 'negative', 'normal'] as const)
        for (const [b, n, d, m] of [
          [3, 5003, 64, 9],
          [2, 4101, 130, 1],
          [1, 2050, 17, 40],
          [5, 37, 33, 50],
        ] as const) {
          const shape = { seed: seed++, b, n, d, m, seven, excluded: values === 'ties' ? 6 : 0, values };
          const got = runInt8Scan(B, shape),
            want = runInt8Scan(twin, shape);
          expect(got.indices, `candidates, ${JSON.stringify(shape)}`).toEqual(want.indices);
          expect(got.scores, `scores, ${JSON.stringify(shape)}`).toEqual(want.scores);
        }
  });

  it("stores the int8 index as 7-bit rows in the relaxed build (the relaxed dot's form), plain rows in the plain build", () => {
    expect(be().int8Seven).toBe(kind === 'relaxed' ? 1 : 0);
  });

  it('frees every block it allocates (heap ledger returns to zero)', () => {
    expect(be().stats().liveBlocks).toBe(0);
  });
});

describe('relaxed build', () => {
  it('fuses multiply-add: a·a + c rounds once, unlike the plain build', () => {
    // a = 1 + 2⁻¹², a² = 1 + 2⁻¹¹ + 2⁻²⁴ exactly; f32 cannot hold the 2⁻²⁴, so a separate
    // multiply rounds it away and a² − (1 + 2⁻¹¹) gives 0, while a fused multiply-add keeps it.
    const a = 1 + 2 ** -12;
    const c = -(1 + 2 ** -11);
    const got = builds.map((B) => {
      const x = putFloats(B, [a]),
        dy = putFloats(B, [a, a, a, a]),
        dw = putFloats(B, [c, c, c, c]);
      // dW[1×4] += Xᵀ·dY with m = k = 1: one madd per lane in the vector path.
      B.kernels.dense_backward_weight(dw, x, dy, 1, 1, 4, 1, 1);
      const out = Array.from(B.floats(dw, 4));
      [x, dy, dw].forEach((p) => B.free(p));
      return [B.kind, out] as const;
    });
    expect(got[0]).toEqual(['simd', [0, 0, 0, 0]]);
    expect(got[1]).toEqual(['relaxed', [2 ** -24, 2 ** -24, 2 ** -24, 2 ** -24]]);
  });
});

describe('attention pooling', () => {
  it('forward and backward match the twin, for both builds, with empty sets and a non-zero query', async () => {
    const { embeddingBagAttention, embeddingBagAttentionBackward } = await import('../src/reference/embedding.js');
    for (const B of builds) {
      const random = new Random(17);
      for (const dim of [1, 3, 8, 13]) {
        const vocab = 9,
          entities = 6,
          n = 10,
          ld = dim + 3;
        const counts = [2, 0, 5, 1, 3, 4];
        const offsets = new Int32Array(entities + 1);
        counts.forEach((c, e) => (offsets[e + 1] = offsets[e]! + c));
        const ids = randomInts(random, offsets[entities]!, vocab),
          rows = randomInts(random, n, entities);
        const table = randomFloats(random, vocab * dim),
          query = randomFloats(random, dim),
          dout = randomFloats(random, n * ld);
        const out = new Float64Array(n * ld),
          dt = new Float64Array(vocab * dim),
          dq = new Float64Array(dim);
        embeddingBagAttention(out, f64(table), offsets, ids, rows, n, dim, ld, f64(query));
        const map = n % 2 ? permutation(random, vocab) : null;
        embeddingBagAttentionBackward(dt, dq, f64(dout), f64(table), offsets, ids, rows, map, n, dim, ld, f64(query));
        const ptrs = [
          putFloats(B, table),
          putInts(B, offsets),
          putInts(B, ids),
          putInts(B, rows),
          putFloats(B, query),
          putFloats(B, new Float32Array(n * ld)),
          putFloats(B, dout),
          putFloats(B, new Float32Array(vocab * dim)),
          putFloats(B, new Float32Array(dim)),
          map ? putInts(B, map) : putInts(B, new Int32Array(1)),
        ];
        const [pt, po, pids, prows, pq, pout, pdout, pdt, pdq, pmap] = ptrs as [
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
        ];
        B.kernels.embedding_bag_attention(pout, pt, po, pids, prows, n, dim, ld, pq);
        B.kernels.embedding_bag_attention_backward(pdt, pdq, pdout, pt, po, pids, prows, map ? pmap : 0, n, dim, ld, pq);
        expectClose(getFloats(B, pout, n * ld), out, 1e-5);
        expectClose(getFloats(B, pdt, vocab * dim), dt, 1e-4);
        expectClose(getFloats(B, pdq, dim), dq, 1e-4);
        ptrs.forEach((p) => B.free(p));
      }
    }
  });
});

describe('scan_fields (the loading fast path)', () => {
  it('matches its twin on random text: fields, numbers, line ends, capacity limits and incomplete lines', async () => {
    const { scanFields } = await import('../src/reference/parse.js');
    const random = new Random(21);
    const alphabet = '0123456789012345678900.,,,--\r\n\n\na +e';
    for (const be of builds) {
      for (let trial = 0; trial < 300; trial++) {
        const len = random.int(120);
        const text = Uint8Array.from({ length: len }, () => alphabet.charCodeAt(random.int(alphabet.length)));
        const from = len > 0 && trial % 7 === 0 ? random.int(len) : 0;
        const final = trial % 2 === 0;
        const maxRows = 1 + random.int(12),
          maxFields = 1 + random.int(40);
        const want = {
          rowFields: new Int32Array(maxRows + 1),
          starts: new Int32Array(maxFields),
          ends: new Int32Array(maxFields),
          integers: new Float64Array(maxFields),
          decimals: new Float64Array(maxFields),
        };
        const r = scanFields(
          text,
          len,
          from,
          44,
          final,
          want.rowFields,
          want.starts,
          want.ends,
          want.integers,
          want.decimals,
          maxRows,
          maxFields,
        );
        const pText = be.alloc(Math.max(1, len));
        be.bytes(pText, len).set(text);
        const ptrs = [4 * (maxRows + 1), 4 * maxFields, 4 * maxFields, 8 * maxFields, 8 * maxFields, 4].map((b) => be.alloc(b));
        const [pRows, pStarts, pEnds, pInts, pDecs, pConsumed] = ptrs as [number, number, number, number, number, number];
        const rows = be.kernels.scan_fields(
          pText,
          len,
          from,
          44,
          final ? 1 : 0,
          pRows,
          pStarts,
          pEnds,
          pInts,
          pDecs,
          maxRows,
          maxFields,
          pConsumed,
        );
        const where = `trial ${trial}: ${JSON.stringify(String.fromCharCode(...text))} from ${from}, final ${final}, ${maxRows} rows, ${maxFields} fields`;
        expect(rows, where).toBe(r.rows);
        expect(be.ints(pConsumed, 1)[0], where).toBe(r.consumed);
        const fields = want.rowFields[rows]!;
        expect(Array.from(be.ints(pRows, rows + 1)), where).toEqual(Array.from(want.rowFields.subarray(0, rows + 1)));
        expect(Array.from(be.ints(pStarts, fields)), where).toEqual(Array.from(want.starts.subarray(0, fields)));
        expect(Array.from(be.ints(pEnds, fields)), where).toEqual(Array.from(want.ends.subarray(0, fields)));
        const f64At = (p: number) => Array.from(new Float64Array(be.bytes(p, 8).buffer, p, fields));
        expect(f64At(pInts), where).toEqual(Array.from(want.integers.subarray(0, fields)));
        expect(f64At(pDecs), where).toEqual(Array.from(want.decimals.subarray(0, fields)));
        [pText, ...ptrs].forEach((p) => be.free(p));
      }
    }
  });

  it('reads numbers exactly as Number() does', async () => {
    const { fieldNumbers } = await import('../src/reference/parse.js');
    const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    const random = new Random(4);
    const cases = [
      '0',
      '7',
      '007',
      '-0',
      '4.5',
      '.5',
      '5.',
      '-12.375',
      '123456789012345',
      '1234567890123456',
      '0.1',
      '3.14159265358979',
    ];
    for (let i = 0; i < 2000; i++) cases.push((random.next() * 10 ** random.int(12)).toFixed(random.int(8)));
    for (const s of cases) {
      const { integer, decimal } = fieldNumbers(bytes(s), 0, s.length);
      const digits = s.replace(/[-.]/g, '').length;
      const plainDecimal = /^-?(\d+(\.\d+)?|\.\d+)$/.test(s) && digits <= 15;
      expect(decimal, s).toBe(plainDecimal ? Number(s) : NaN);
      expect(integer, s).toBe(/^(0|[1-9]\d{0,14})$/.test(s) ? Number(s) : -1);
    }
  });
});
