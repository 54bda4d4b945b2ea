// exp on four f32 lanes at once: the in-batch softmax's B × B exponentials were a sixth of a
// softmax training step as scalar Mathf.exp calls. Cephes' expf (S. Moshier): x = n·ln2 + r with
// |r| ≤ ln2/2, a degree-6 polynomial for e^r, and 2^n built in the exponent bits. Relative error
// ≤ 2 ulp on [−87.3, 88.3]; below, the result is 0 (as e^−∞ = 0 for masked logits); NaN stays NaN.

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// ln 2 split in two so that n·C1 is exact in f32 (C1 has 9 significant bits).
// @ts-ignore: decorator
@inline const C1: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const C2: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const LO: f32 = -87.33654475; // ln(2^−126): below it e^x is subnormal; flushed to 0
// @ts-ignore: decorator
@inline const HI: f32 = 88.37626266;

/** e^x lane by lane. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const under = f32x4.lt(x, f32x4.splat(LO));
  const c = f32x4.min(x, f32x4.splat(HI));
  const n = f32x4.floor(f32x4.add(f32x4.mul(c, f32x4.splat(LOG2E)), f32x4.splat(0.5)));
  let r = f32x4.sub(c, f32x4.mul(n, f32x4.splat(C1)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(C2)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // 2^n in the exponent bits (n ≥ −126 here: smaller inputs are flushed below; NaN's n is
  // garbage, but p is NaN and stays so).
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, scale), under);
}
