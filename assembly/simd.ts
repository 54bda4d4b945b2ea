// Shared SIMD helpers. `madd` is a fused multiply-add in the relaxed build (one rounding, and
// one instruction where the host has FMA) and a separate multiply then add in the plain build.
// Tests compare both builds against the TypeScript reference within a float tolerance, so the
// difference in rounding is expected and bounded.

@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four lanes of an f32x4, as (v0 + v1) + (v2 + v3): the same order as reduce4, so
 *  a score computed alone equals the one computed in a block of four, bit for bit. */
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 1, 0, 3, 2));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0);
}

/** Byte address of element `i` of an f32/i32 array at `ptr`. */
@inline export function at(ptr: usize, i: i32): usize {
  return ptr + (<usize>i << 2);
}

/** [Σa, Σb, Σc, Σd]: four horizontal sums at once (6 shuffles, 3 adds instead of 4 × hsum). */
@inline export function reduce4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 2, 6), v128.shuffle<f32>(a, b, 1, 5, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 2, 6), v128.shuffle<f32>(c, d, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** Σ x[j]·y[j] for j in [from, n), in order: the scalar tail after a vector loop. */
@inline export function dotTail(x: usize, y: usize, from: i32, n: i32): f32 {
  let s: f32 = 0;
  for (let j = from; j < n; j++) s += load<f32>(at(x, j)) * load<f32>(at(y, j));
  return s;
}
