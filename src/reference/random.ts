// Twin of assembly/random.ts: seeded initial values, counter-based (Philox4x32-10), a value at
// (row, column) depending only on (seed, stream, row, column). The same f64 arithmetic step for
// step (our own logarithm and sine/cosine, from + − × ÷ and √), so the f64 values written here,
// rounded to f32, are the WASM kernels' bits exactly (the reference heap keeps them in f64).
import type { Floats } from '../backend/contract.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** The high 32 bits of the 64-bit product of two u32 values (exact: 16-bit halves). */
function mulhi(a: number, b: number): number {
  const bl = b & 0xffff,
    bh = b >>> 16;
  const low = a * bl, // < 2⁴⁸: exact
    high = a * bh; // < 2⁴⁸: exact
  // a·b = high·2¹⁶ + low; its high word:
  return (Math.floor(high / 65536) + Math.floor(((high % 65536) * 65536 + low) / 4294967296)) >>> 0;
}

/** Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1): four u32 words. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): [number, number, number, number] {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0),
      lo0 = Math.imul(M0, c0) >>> 0,
      hi1 = mulhi(M1, c2),
      lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;

/** √(−2 ln((w + 1)/2³²)), the Box–Muller radius, as assembly/random.ts computes it. */
function radius(w: number): number {
  let k: number, m: number;
  if (w === 0xffffffff) {
    k = 32;
    m = 1;
  } else {
    const n = w + 1;
    k = 31 - Math.clz32(n);
    m = ((n << (31 - k)) >>> 0) / 2147483648;
  }
  if (m > SQRT2) {
    m *= 0.5;
    k += 1;
  }
  const s = (m - 1) / (m + 1),
    z = s * s;
  let p = 1 / 13;
  p = p * z + 1 / 11;
  p = p * z + 1 / 9;
  p = p * z + 1 / 7;
  p = p * z + 1 / 5;
  p = p * z + 1 / 3;
  p = p * z + 1;
  const lnU = (k - 32) * LN2 + 2 * s * p;
  return Math.sqrt(-2 * lnU);
}

const OCTANT_STEP = 0.7853981633974483 / 536870912; // (π/4) / 2²⁹

/** [cos θ, sin θ] of θ = 2π·w/2³², as assembly/random.ts computes them. */
function angle(w: number): [number, number] {
  const q = w >>> 29,
    f = w & 0x1fffffff;
  const t = (q & 1 ? 0x20000000 - f : f) * OCTANT_STEP,
    z = t * t;
  let ps = 1 / 6227020800;
  ps = ps * -z + 1 / 39916800;
  ps = ps * -z + 1 / 362880;
  ps = ps * -z + 1 / 5040;
  ps = ps * -z + 1 / 120;
  ps = ps * -z + 1 / 6;
  ps = ps * -z + 1;
  const s = t * ps;
  let c = 1 / 87178291200;
  c = c * -z + 1 / 479001600;
  c = c * -z + 1 / 3628800;
  c = c * -z + 1 / 40320;
  c = c * -z + 1 / 720;
  c = c * -z + 1 / 24;
  c = c * -z + 1 / 2;
  c = c * -z + 1;
  switch (q) {
    case 0:
      return [c, s];
    case 1:
      return [s, c];
    case 2:
      return [-s, c];
    case 3:
      return [-c, s];
    case 4:
      return [-c, -s];
    case 5:
      return [-s, -c];
    case 6:
      return [s, -c];
    default:
      return [c, -s];
  }
}

/** out[r·cols + c] = std · N(seed, stream, row0 + r, c): random_normal_f32's twin (in f64). */
export function randomNormal(
  out: Floats,
  rows: number,
  cols: number,
  row0: number,
  seedLo: number,
  seedHi: number,
  stream: number,
  std: number,
): void {
  for (let r = 0; r < rows; r++) {
    const row = (row0 + r) >>> 0;
    for (let c = 0; c < cols; c += 4) {
      const w = philox4x32(c >>> 2, row, stream >>> 0, 0, seedLo >>> 0, seedHi >>> 0);
      for (let pair = 0; pair < 2 && c + 2 * pair < cols; pair++) {
        const rad = radius(w[2 * pair]!);
        const [cos, sin] = angle(w[2 * pair + 1]!);
        out[r * cols + c + 2 * pair] = std * (rad * cos);
        if (c + 2 * pair + 1 < cols) out[r * cols + c + 2 * pair + 1] = std * (rad * sin);
      }
    }
  }
}

/** out[r·cols + c] = limit · (2·U(seed, stream, row0 + r, c) − 1): random_uniform_f32's twin (in f64). */
export function randomUniform(
  out: Floats,
  rows: number,
  cols: number,
  row0: number,
  seedLo: number,
  seedHi: number,
  stream: number,
  limit: number,
): void {
  for (let r = 0; r < rows; r++) {
    const row = (row0 + r) >>> 0;
    for (let c = 0; c < cols; c += 4) {
      const w = philox4x32(c >>> 2, row, stream >>> 0, 0, seedLo >>> 0, seedHi >>> 0);
      for (let j = 0; j < 4 && c + j < cols; j++) out[r * cols + c + j] = limit * (w[j]! / 2147483648 - 1);
    }
  }
}
