// e^x on four f32 lanes at once, for the autoencoder's activations and the in-batch softmax
// (whose B × B exponentials, as scalar Mathf.exp calls, were a sixth of a softmax step).
// Cephes' expf (S. Moshier): exp(x) = 2^n · e^f with |f| ≤ ln2/2, a degree-6 polynomial for
// e^f, and 2^n built in the exponent bits; relative error ≈ 2e-7. The input is clamped to
// [−87, 87], so the result is finite and positive for any finite x; NaN stays NaN. A caller
// that needs e^−∞ = 0 (masked logits) flushes below −87 itself.

/** e^x lane by lane, x clamped to [−87, 87]. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const xc = f32x4.min(f32x4.max(x, f32x4.splat(-87)), f32x4.splat(87));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504089)));
  const f = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(f, f)), f), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** e^x lane by lane with e^x = 0 below −87 (e^−87 ≈ 1.6e-38: nothing beside a softmax's maximum term, 1). */
// @ts-ignore: decorator
@inline export function expFlushed4(x: v128): v128 {
  return v128.andnot(exp4(x), f32x4.lt(x, f32x4.splat(-87)));
}
