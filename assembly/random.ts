// Seeded initial values, counter-based: the value at (row, column) of a table depends only on
// (seed, stream, row, column), never on the order rows are drawn in, so any split of the rows
// (chunks, threads) and any table height give the same bits. The generator is Philox4x32-10
// (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the Random123
// known-answer vectors hold): counter (column >> 2, row, stream, 0), key (seed low 32 bits,
// seed high 32 bits), four 32-bit words per call for columns 4g … 4g+3.
//
// Normal values by Box–Muller on the word pairs (w0, w1) → columns 4g, 4g+1 and (w2, w3) →
// 4g+2, 4g+3: r = √(−2 ln u), u = (w0 + 1)/2³² ∈ (0, 1]; angle θ = 2π·w1/2³², as cos → the even
// column, sin → the odd one. The logarithm and the sine/cosine are our own, in f64 from + − × ÷
// and √ only (each IEEE-rounded the same way in WASM and JavaScript), so that the TypeScript twin
// (src/reference/random.ts) computes the same f64 and, rounded to f32, the same bits.
//   ln: n = w0 + 1 = m·2^k with m ∈ [√½, √2) taken exactly from the integer; ln m = 2·atanh(s),
//       s = (m − 1)/(m + 1), |s| ≤ 0.1716, its series to s¹³ (relative error < 1e-10).
//   sin, cos: the top 3 bits of w1 pick the octant, the other 29 give t ∈ [0, π/4] (measured
//       back from the octant's end in odd octants); Taylor series to t¹³ and t¹⁴ (error < 3e-14),
//       then the octant's symmetry.
// Values are drawn from ±6.66 standard deviations at most (u ≥ 2⁻³²).

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

// The four words of the last philox() call (globals: kernels allocate nothing).
let x0: u32 = 0;
let x1: u32 = 0;
let x2: u32 = 0;
let x3: u32 = 0;

/** Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1), into x0 … x3. */
@inline function philox(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  for (let r = 0; r < 10; r++) {
    const p0 = M0 * <u64>c0,
      p1 = M1 * <u64>c2;
    const hi0 = <u32>(p0 >>> 32),
      lo0 = <u32>p0,
      hi1 = <u32>(p1 >>> 32),
      lo1 = <u32>p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  x0 = c0;
  x1 = c1;
  x2 = c2;
  x3 = c3;
}

const LN2: f64 = 0.6931471805599453;
const SQRT2: f64 = 1.4142135623730951;

/** √(−2 ln((w + 1)/2³²)), the Box–Muller radius. */
@inline function radius(w: u32): f64 {
  let k: i32, m: f64;
  if (w == 0xffffffff) {
    k = 32;
    m = 1;
  } else {
    const n = w + 1;
    k = 31 - <i32>clz<u32>(n);
    m = <f64>(n << (31 - k)) / 2147483648.0;
  }
  if (m > SQRT2) {
    m *= 0.5;
    k += 1;
  }
  const s = (m - 1) / (m + 1),
    z = s * s;
  let p: f64 = 1.0 / 13.0;
  p = p * z + 1.0 / 11.0;
  p = p * z + 1.0 / 9.0;
  p = p * z + 1.0 / 7.0;
  p = p * z + 1.0 / 5.0;
  p = p * z + 1.0 / 3.0;
  p = p * z + 1.0;
  const lnU = <f64>(k - 32) * LN2 + 2 * s * p;
  return Math.sqrt(-2 * lnU);
}

const OCTANT_STEP: f64 = 0.7853981633974483 / 536870912.0; // (π/4) / 2²⁹

// cos θ and sin θ of the last angle() call.
let cosA: f64 = 0;
let sinA: f64 = 0;

/** cos and sin of θ = 2π·w/2³², into cosA, sinA. */
@inline function angle(w: u32): void {
  const q = w >>> 29,
    f = w & 0x1fffffff;
  const t = <f64>(q & 1 ? 0x20000000 - f : f) * OCTANT_STEP,
    z = t * t;
  let ps: f64 = 1.0 / 6227020800.0;
  ps = ps * -z + 1.0 / 39916800.0;
  ps = ps * -z + 1.0 / 362880.0;
  ps = ps * -z + 1.0 / 5040.0;
  ps = ps * -z + 1.0 / 120.0;
  ps = ps * -z + 1.0 / 6.0;
  ps = ps * -z + 1.0;
  const s = t * ps;
  let pc: f64 = 1.0 / 87178291200.0;
  pc = pc * -z + 1.0 / 479001600.0;
  pc = pc * -z + 1.0 / 3628800.0;
  pc = pc * -z + 1.0 / 40320.0;
  pc = pc * -z + 1.0 / 720.0;
  pc = pc * -z + 1.0 / 24.0;
  pc = pc * -z + 1.0 / 2.0;
  pc = pc * -z + 1.0;
  const c = pc;
  // θ = q·π/4 + t (even q) or (q + 1)·π/4 − t (odd q).
  switch (q) {
    case 0: cosA = c; sinA = s; break;
    case 1: cosA = s; sinA = c; break;
    case 2: cosA = -s; sinA = c; break;
    case 3: cosA = -c; sinA = s; break;
    case 4: cosA = -c; sinA = -s; break;
    case 5: cosA = -s; sinA = -c; break;
    case 6: cosA = s; sinA = -c; break;
    default: cosA = c; sinA = -s; break;
  }
}

/**
 * out[r·cols + c] = std · N(seed, stream, row0 + r, c) for r < rows, c < cols: rows × cols
 * row-major f32, standard normal values scaled by std (see the file's header). `seedLo`, `seedHi`:
 * the seed's low and high 32 bits; `stream` tells tables apart. Writes `out` only.
 */
export function random_normal_f32(out: usize, rows: i32, cols: i32, row0: i32, seedLo: u32, seedHi: u32, stream: u32, std: f64): void {
  for (let r = 0; r < rows; r++) {
    const row = <u32>(row0 + r);
    const base = out + (<usize>r * <usize>cols << 2);
    for (let c = 0; c < cols; c += 4) {
      philox(<u32>c >>> 2, row, stream, 0, seedLo, seedHi);
      const w2 = x2, w3 = x3;
      let rad = radius(x0);
      angle(x1);
      const left = cols - c;
      store<f32>(base + (<usize>c << 2), <f32>(std * (rad * cosA)));
      if (left > 1) store<f32>(base + (<usize>(c + 1) << 2), <f32>(std * (rad * sinA)));
      if (left > 2) {
        rad = radius(w2);
        angle(w3);
        store<f32>(base + (<usize>(c + 2) << 2), <f32>(std * (rad * cosA)));
        if (left > 3) store<f32>(base + (<usize>(c + 3) << 2), <f32>(std * (rad * sinA)));
      }
    }
  }
}

/**
 * out[r·cols + c] = limit · (2·U(seed, stream, row0 + r, c) − 1) for r < rows, c < cols: uniform
 * in [−limit, limit), U = w/2³² with w the Philox word of column c (same counter and key as
 * random_normal_f32). Writes `out` only.
 */
export function random_uniform_f32(out: usize, rows: i32, cols: i32, row0: i32, seedLo: u32, seedHi: u32, stream: u32, limit: f64): void {
  for (let r = 0; r < rows; r++) {
    const row = <u32>(row0 + r);
    const base = out + (<usize>r * <usize>cols << 2);
    for (let c = 0; c < cols; c += 4) {
      philox(<u32>c >>> 2, row, stream, 0, seedLo, seedHi);
      const left = cols - c;
      store<f32>(base + (<usize>c << 2), <f32>(limit * (<f64>x0 / 2147483648.0 - 1)));
      if (left > 1) store<f32>(base + (<usize>(c + 1) << 2), <f32>(limit * (<f64>x1 / 2147483648.0 - 1)));
      if (left > 2) store<f32>(base + (<usize>(c + 2) << 2), <f32>(limit * (<f64>x2 / 2147483648.0 - 1)));
      if (left > 3) store<f32>(base + (<usize>(c + 3) << 2), <f32>(limit * (<f64>x3 / 2147483648.0 - 1)));
    }
  }
}
