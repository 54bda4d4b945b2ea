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

// The same arithmetic on four Philox counters (16 columns) at once: i32x4 lanes for the counters,
// f64x2 for the Box–Muller values (the same IEEE operations in the same order, so the same bits
// as the scalar path; never relaxed_madd here).

// The four words of the last philox4() call, one counter per lane.
let v0: v128 = i32x4.splat(0);
let v1: v128 = i32x4.splat(0);
let v2: v128 = i32x4.splat(0);
let v3: v128 = i32x4.splat(0);

/** The high 32 bits of each lane's u32 × m product. */
@inline function mulhi4(c: v128, m: v128): v128 {
  return v128.shuffle<u32>(i64x2.extmul_low_i32x4_u(c, m), i64x2.extmul_high_i32x4_u(c, m), 1, 3, 5, 7);
}

/** philox() of the counters (g + lane, c1, c2, 0), lane 0 … 3, into v0 … v3. */
@inline function philox4(g: u32, c1: u32, c2: u32, k0: u32, k1: u32): void {
  const m0 = i32x4.splat(<i32>M0),
    m1 = i32x4.splat(<i32>M1);
  let a = i32x4.add(i32x4.splat(g), i32x4(0, 1, 2, 3)),
    b = i32x4.splat(c1),
    c = i32x4.splat(c2),
    d = i32x4.splat(0);
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi4(a, m0),
      lo0 = i32x4.mul(a, m0),
      hi1 = mulhi4(c, m1),
      lo1 = i32x4.mul(c, m1);
    a = v128.xor(v128.xor(hi1, b), i32x4.splat(k0));
    b = lo1;
    c = v128.xor(v128.xor(hi0, d), i32x4.splat(k1));
    d = lo0;
    k0 += W0;
    k1 += W1;
  }
  v0 = a;
  v1 = b;
  v2 = c;
  v3 = d;
}

/** Lanes 0, 1 (half 0) or 2, 3 (half 1) of u32 lanes, as f64x2. */
@inline function halfF64(w: v128, half: i32): v128 {
  return f64x2.convert_low_i32x4_u(half == 0 ? w : v128.shuffle<u32>(w, w, 2, 3, 2, 3));
}

/** radius() of two u32 words w (as f64x2, exact). */
@inline function radius2(w: v128): v128 {
  const n = f64x2.add(w, f64x2.splat(1));
  const bits = n;
  // n = m·2^k exactly: m from the mantissa bits, k from the exponent bits (2⁵² + e − 2⁵² = e).
  let m = v128.or(v128.and(bits, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
  const e = v128.or(i64x2.shr_u(bits, 52), i64x2.splat(0x4330000000000000));
  let k = f64x2.sub(f64x2.sub(e, f64x2.splat(4503599627370496.0)), f64x2.splat(1023));
  const big = f64x2.gt(m, f64x2.splat(SQRT2));
  m = v128.bitselect(f64x2.mul(m, f64x2.splat(0.5)), m, big);
  k = f64x2.add(k, v128.and(big, f64x2.splat(1)));
  const one = f64x2.splat(1);
  const s = f64x2.div(f64x2.sub(m, one), f64x2.add(m, one)),
    z = f64x2.mul(s, s);
  let p = f64x2.splat(1.0 / 13.0);
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 11.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 9.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 7.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 5.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 3.0));
  p = f64x2.add(f64x2.mul(p, z), one);
  const lnU = f64x2.add(
    f64x2.mul(f64x2.sub(k, f64x2.splat(32)), f64x2.splat(LN2)),
    f64x2.mul(f64x2.mul(f64x2.splat(2), s), p),
  );
  return f64x2.sqrt(f64x2.mul(f64x2.splat(-2), lnU));
}

// cos θ and sin θ of the last angle2() call, as f64x2.
let cos2: v128 = f64x2.splat(0);
let sin2: v128 = f64x2.splat(0);

/** angle() of the u32 words w (lanes 0, 1 of `half`), into cos2, sin2. */
@inline function angle2(w: v128, half: i32): void {
  const q = i32x4.shr_u(w, 29),
    f = v128.and(w, i32x4.splat(0x1fffffff));
  const odd = i32x4.eq(v128.and(q, i32x4.splat(1)), i32x4.splat(1));
  const ti = v128.bitselect(i32x4.sub(i32x4.splat(0x20000000), f), f, odd);
  const t = f64x2.mul(halfF64(ti, half), f64x2.splat(OCTANT_STEP)),
    nz = f64x2.neg(f64x2.mul(t, t));
  let ps = f64x2.splat(1.0 / 6227020800.0);
  ps = f64x2.add(f64x2.mul(ps, nz), f64x2.splat(1.0 / 39916800.0));
  ps = f64x2.add(f64x2.mul(ps, nz), f64x2.splat(1.0 / 362880.0));
  ps = f64x2.add(f64x2.mul(ps, nz), f64x2.splat(1.0 / 5040.0));
  ps = f64x2.add(f64x2.mul(ps, nz), f64x2.splat(1.0 / 120.0));
  ps = f64x2.add(f64x2.mul(ps, nz), f64x2.splat(1.0 / 6.0));
  ps = f64x2.add(f64x2.mul(ps, nz), f64x2.splat(1.0));
  const s = f64x2.mul(t, ps);
  let c = f64x2.splat(1.0 / 87178291200.0);
  c = f64x2.add(f64x2.mul(c, nz), f64x2.splat(1.0 / 479001600.0));
  c = f64x2.add(f64x2.mul(c, nz), f64x2.splat(1.0 / 3628800.0));
  c = f64x2.add(f64x2.mul(c, nz), f64x2.splat(1.0 / 40320.0));
  c = f64x2.add(f64x2.mul(c, nz), f64x2.splat(1.0 / 720.0));
  c = f64x2.add(f64x2.mul(c, nz), f64x2.splat(1.0 / 24.0));
  c = f64x2.add(f64x2.mul(c, nz), f64x2.splat(1.0 / 2.0));
  c = f64x2.add(f64x2.mul(c, nz), f64x2.splat(1.0));
  // The octant's symmetry (see angle()): swap for q = 1, 2, 5, 6; cos negative for q = 2 … 5; sin for q ≥ 4.
  const qh = half == 0 ? q : v128.shuffle<u32>(q, q, 2, 3, 2, 3);
  const swap = i64x2.extend_low_i32x4_s(i32x4.ne(v128.and(i32x4.add(qh, i32x4.splat(1)), i32x4.splat(2)), i32x4.splat(0)));
  const cosNeg = i64x2.extend_low_i32x4_s(i32x4.ne(v128.and(i32x4.add(qh, i32x4.splat(2)), i32x4.splat(4)), i32x4.splat(0)));
  const sinNeg = i64x2.extend_low_i32x4_s(i32x4.ne(v128.and(qh, i32x4.splat(4)), i32x4.splat(0)));
  const sign = i64x2.splat(i64.MIN_VALUE);
  cos2 = v128.xor(v128.bitselect(s, c, swap), v128.and(cosNeg, sign));
  sin2 = v128.xor(v128.bitselect(c, s, swap), v128.and(sinNeg, sign));
}

/**
 * The 16 values of columns 4g … 4g+15 of a row (Philox counters g … g+3) at `at`, as the scalar
 * path writes them: lane j's pair (x0, x1) → columns 4(g+j), +1; (x2, x3) → +2, +3.
 */
@inline function normal16(at: usize, g: u32, row: u32, stream: u32, seedLo: u32, seedHi: u32, std: v128): void {
  philox4(g, row, stream, seedLo, seedHi);
  const a0 = v0, a1 = v1, b0 = v2, b1 = v3;
  for (let half = 0; half < 2; half++) {
    const ra = radius2(halfF64(a0, half));
    angle2(a1, half);
    const ac = f32x4.demote_f64x2_zero(f64x2.mul(std, f64x2.mul(ra, cos2))),
      as = f32x4.demote_f64x2_zero(f64x2.mul(std, f64x2.mul(ra, sin2)));
    const rb = radius2(halfF64(b0, half));
    angle2(b1, half);
    const bc = f32x4.demote_f64x2_zero(f64x2.mul(std, f64x2.mul(rb, cos2))),
      bs = f32x4.demote_f64x2_zero(f64x2.mul(std, f64x2.mul(rb, sin2)));
    const ta = v128.shuffle<f32>(ac, as, 0, 4, 1, 5),
      tb = v128.shuffle<f32>(bc, bs, 0, 4, 1, 5);
    v128.store(at + (<usize>half << 5), v128.shuffle<f32>(ta, tb, 0, 1, 4, 5));
    v128.store(at + (<usize>half << 5) + 16, v128.shuffle<f32>(ta, tb, 2, 3, 6, 7));
  }
}

/**
 * out[r·cols + c] = std · N(seed, stream, row0 + r, c) for r < rows, c < cols: rows × cols
 * row-major f32, standard normal values scaled by std (see the file's header). `seedLo`, `seedHi`:
 * the seed's low and high 32 bits; `stream` tells tables apart. Writes `out` only.
 */
export function random_normal_f32(out: usize, rows: i32, cols: i32, row0: i32, seedLo: u32, seedHi: u32, stream: u32, std: f64): void {
  const stdv = f64x2.splat(std);
  for (let r = 0; r < rows; r++) {
    const row = <u32>(row0 + r);
    const base = out + (<usize>r * <usize>cols << 2);
    let c = 0;
    for (; c + 16 <= cols; c += 16) normal16(base + (<usize>c << 2), <u32>c >>> 2, row, stream, seedLo, seedHi, stdv);
    for (; c < cols; c += 4) {
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
