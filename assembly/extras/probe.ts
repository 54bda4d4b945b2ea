// What the compiled relaxed dot computes, read by test/int8-tiers.test.ts under each of V8's
// compiler tiers. Test-only: the shipped int8 scan checks its dot inline (score-int8.ts) and
// needs no probe; built into the extras module, never into the shipped kernels.

import { relaxedDot } from "../score-int8";

/**
 * Lane 0 of relaxed_dot_i8x16_i7x16_add_s(splat(a), splat(b), splat(c)), as the int8 scan
 * computes it: 4·a·b + c where the compiled code implements it as specified (b in [0, 127]);
 * the plain build computes that in i32.
 */
export function relaxed_dot_probe(a: i32, b: i32, c: i32): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return relaxedDot(a, b, c);
  return 4 * a * b + c;
}
