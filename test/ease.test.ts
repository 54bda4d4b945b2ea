// EASE (assembly/ease.ts, src/reference/ease.ts, src/api/ease.ts): the kernels against their f64
// twins, the inverse's defining property, and the trained model as an ordinary two-tower Model
// whose every score is Σ_{j ∈ history} B_ji.
import { describe, it, expect, beforeAll } from 'vitest';
import type { WasmBackend } from '../src/wasm/load.js';
import type { Backend } from '../src/backend/contract.js';
import { ReferenceBackend } from '../src/reference/backend.js';
import { easeGram, spdInverse, easeWeights } from '../src/reference/ease.js';
import { wasmBuilds, Random, putFloats, putInts, getFloats, expectClose } from './helpers.js';

let builds: WasmBackend[] = [];
beforeAll(async () => {
  builds = await wasmBuilds();
});

/** Random CSR rows over m items: each user's items distinct, some users empty, one with every item. */
function users(random: Random, n: number, m: number): { offsets: Int32Array; ids: Int32Array; weights: Float32Array } {
  const offsets = new Int32Array(n + 1);
  const ids: number[] = [];
  for (let u = 0; u < n; u++) {
    const count = u % 5 === 0 ? 0 : u === 1 ? m : random.int(Math.min(m, 12) + 1);
    const all = Int32Array.from({ length: m }, (_, i) => i);
    random.shuffle(all);
    ids.push(...all.subarray(0, count));
    offsets[u + 1] = ids.length;
  }
  return { offsets, ids: Int32Array.from(ids), weights: Float32Array.from(ids, () => 0.5 + random.next()) };
}

/** A random symmetric positive-definite matrix: RᵀR/k + I (well conditioned), row-major. */
function spd(random: Random, n: number): Float64Array {
  const k = n + 3;
  const R = Float64Array.from({ length: k * n }, () => random.normal());
  const A = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += R[r * n + a]! * R[r * n + b]!;
      A[a * n + b] = s / k + (a === b ? 1 : 0);
    }
  return A;
}

function gramOn(be: Backend, p: ReturnType<typeof users>, n: number, m: number, weighted: boolean, prefill: Float64Array) {
  const G = putFloats(be, prefill);
  be.kernels.ease_gram(G, putInts(be, p.offsets), putInts(be, p.ids), weighted ? putFloats(be, p.weights) : 0, n, m);
  return getFloats(be, G, m * m);
}

function inverseOn(be: Backend, A: ArrayLike<number>, n: number, shift: number): { status: number; inverse: Float64Array } {
  const p = putFloats(be, A);
  const status = be.kernels.spd_inverse(p, n, shift);
  return { status, inverse: getFloats(be, p, n * n) };
}

function product(A: ArrayLike<number>, B: ArrayLike<number>, n: number): Float64Array {
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const a = A[i * n + k]!;
      for (let j = 0; j < n; j++) C[i * n + j]! += a * B[k * n + j]!;
    }
  return C;
}

const identity = (n: number) => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));

describe('EASE kernels', () => {
  it('ease_gram adds x_a·x_b for every ordered pair of each user’s items (empty users, a user with all items), on top of G', () => {
    const random = new Random(3);
    for (const [n, m] of [
      [1, 1],
      [7, 5],
      [23, 13],
      [40, 1],
    ] as const) {
      const p = users(random, n, m);
      const prefill = Float64Array.from({ length: m * m }, () => random.int(3));
      for (const weighted of [false, true]) {
        // Independent of the twin: the dense definition G += XᵀX over the rows' weights.
        const X = new Float64Array(n * m);
        for (let u = 0; u < n; u++)
          for (let q = p.offsets[u]!; q < p.offsets[u + 1]!; q++)
            X[u * m + p.ids[q]!] = weighted ? Math.fround(p.weights[q]!) : 1;
        const expected = Float64Array.from(prefill);
        for (let u = 0; u < n; u++)
          for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) expected[a * m + b]! += X[u * m + a]! * X[u * m + b]!;
        const twin = Float64Array.from(prefill);
        const w = Float64Array.from(p.weights, (x) => Math.fround(x));
        easeGram(twin, p.offsets, p.ids, weighted ? w : null, n, m);
        expectClose(twin, expected, 1e-12);
        // Counts are exact in f32; weighted sums agree within f32 rounding.
        for (const be of [...builds, new ReferenceBackend()])
          expectClose(gramOn(be, p, n, m, weighted, prefill), expected, weighted ? 1e-5 : 0);
      }
    }
  });

  it('spd_inverse: A·A⁻¹ = I (the twin to 1e-10, the kernels to f32 precision) on sizes 1 to 130 with a shift, and the kernels agree with the twin', () => {
    const random = new Random(5);
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 17, 31, 64, 130]) {
      const A = spd(random, n);
      const shift = n % 2 ? 0.5 : 0;
      const shifted = Float64Array.from(A, (x, i) => x + (i % (n + 1) === 0 ? shift : 0));
      const twin = Float64Array.from(A);
      expect(spdInverse(twin, n, shift)).toBe(0);
      expectClose(product(shifted, twin, n), identity(n), 1e-10);
      // The inverse is symmetric, written in full.
      for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) expect(twin[a * n + b]).toBeCloseTo(twin[b * n + a]!, 12);
      const f32 = Float32Array.from(A);
      for (const be of builds) {
        const { status, inverse } = inverseOn(be, f32, n, shift);
        expect(status).toBe(0);
        expectClose(product(shifted, inverse, n), identity(n), 2e-4);
        expectClose(inverse, twin, 1e-4, 1e-4);
        for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) expect(inverse[a * n + b]).toBe(inverse[b * n + a]);
      }
      const ref = new ReferenceBackend();
      expectClose(inverseOn(ref, A, n, shift).inverse, twin, 0);
    }
  });

  it('spd_inverse reads only the lower triangle, and says which pivot fails when the matrix is not positive definite', () => {
    const random = new Random(9);
    const n = 11;
    const A = spd(random, n);
    const garbage = Float32Array.from(A, (x, i) => (i % n > Math.floor(i / n) ? 1e6 * random.normal() : x));
    const clean = Float32Array.from(A);
    for (const be of builds) expect(inverseOn(be, garbage, n, 0).inverse).toEqual(inverseOn(be, clean, n, 0).inverse);
    // A zero row and column at index 6: pivot 6 is 0.
    const singular = Float64Array.from(A, (x, i) => (i % n === 6 || Math.floor(i / n) === 6 ? 0 : x));
    for (const be of [...builds, new ReferenceBackend()]) expect(inverseOn(be, singular, n, 0).status).toBe(7);
    expect(spdInverse(Float64Array.from(singular), n, 0)).toBe(7);
    // A shift makes it positive definite again.
    for (const be of builds) expect(inverseOn(be, singular, n, 1).status).toBe(0);
  });

  it('ease_weights: B_ij = −P_ij / P_jj off the diagonal, 0 on it', () => {
    const random = new Random(13);
    for (const m of [1, 2, 5, 18]) {
      const P = spd(random, m);
      const expected = Float64Array.from({ length: m * m }, (_, k) => {
        const i = Math.floor(k / m),
          j = k % m;
        return i === j ? 0 : -P[k]! / P[j * m + j]!;
      });
      const twin = Float64Array.from(P);
      easeWeights(twin, m);
      expectClose(twin, expected, 1e-15);
      for (const be of builds) {
        const p = putFloats(be, P);
        be.kernels.ease_weights(p, m);
        expectClose(getFloats(be, p, m * m), expected, 1e-6, 1e-6);
      }
    }
  });
});
