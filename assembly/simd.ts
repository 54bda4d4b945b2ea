// Shared SIMD helpers. `madd` is a fused multiply-add in the relaxed build (one rounding, and
// one instruction where the host has FMA) and a separate multiply then add in the plain build.
// Tests compare both builds against the TypeScript reference within a float tolerance, so the
// difference in rounding is expected and bounded.

@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four lanes of an f32x4. */
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

/** Byte address of element `i` of an f32/i32 array at `ptr`. */
@inline export function at(ptr: usize, i: i32): usize {
  return ptr + (<usize>i << 2);
}
