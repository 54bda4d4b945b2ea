// Shared SIMD helpers. `madd` is a fused multiply-add in the relaxed build (one rounding, and
// one instruction where the host has FMA) and a separate multiply then add in the plain build.
// Tests compare both builds against the TypeScript reference within a float tolerance, so the
// difference in rounding between the builds is expected and bounded.
//
// THE CANONICAL SUMMATION ORDER. Every kernel that computes a dot product x·y of two rows of
// length d that is a score (score_topk in any block or tail, score_rescore, score_matrix via
// gemm_nt, rowwise_dot) computes it in exactly this order, so the f32 result has the same bits
// wherever it is computed (alone or in a batch, in a block of four items or in the tail, on any
// thread, in the int8 re-scoring pass). With d4 = d & ~3:
//   1. one f32x4 accumulator per (x, y) pair, starting at +0; for e = 0, 4, 8, … < d4, in
//      that order: acc = madd(x[e … e+3], y[e … e+3], acc). Lane l thus sums the products of
//      columns l, l+4, l+8, … in order. Never split a pair over two accumulators (even/odd
//      vectors), never reorder e: to get more independent chains, score more pairs at once.
//   2. h = (acc0 + acc1) + (acc2 + acc3): hsum(acc), or one lane of reduce4 (bit-equal).
//   3. if d4 < d: h + dotTail(x, y, d4, d), the leftover columns' products summed in order
//      from column d4 starting at 0, that sum then added to h once. (Adding an empty tail, 0,
//      changes nothing: a sum that starts at +0 is never −0 under round-to-nearest.)
// In the plain build every product and sum is rounded to f32 (test/summation.test.ts replays
// this order in TypeScript with Math.fround and expects the same bits); in the relaxed build
// the lane multiply-adds are fused, the scalar tail is not.

@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four lanes of an f32x4, as (v0 + v1) + (v2 + v3): step 2 of the canonical order,
 *  the same as each lane of reduce4, so a score computed alone equals the one computed in a
 *  block of four, bit for bit. */
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 1, 0, 3, 2));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0);
}

/** Byte address of element `i` of an f32/i32 array at `ptr`. */
@inline export function at(ptr: usize, i: i32): usize {
  return ptr + (<usize>i << 2);
}

/** [Σa, Σb, Σc, Σd]: four horizontal sums at once (6 shuffles, 3 adds instead of 4 × hsum).
 *  Each lane is (v0 + v1) + (v2 + v3) of its vector, bit-equal to hsum (canonical step 2). */
@inline export function reduce4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 2, 6), v128.shuffle<f32>(a, b, 1, 5, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 2, 6), v128.shuffle<f32>(c, d, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** Σ x[j]·y[j] for j in [from, n), in order from 0: the scalar tail after a vector loop
 *  (canonical step 3; the caller adds the result to the reduced vector sum). */
@inline export function dotTail(x: usize, y: usize, from: i32, n: i32): f32 {
  let s: f32 = 0;
  for (let j = from; j < n; j++) s += load<f32>(at(x, j)) * load<f32>(at(y, j));
  return s;
}

/**
 * The gradient row of table row `id`: the row itself, or with a row map (map ≠ 0, an i32 per
 * table row) the compact row map[id]: a sparse optimizer's gradient holds only the rows a batch
 * touches, numbered in the order they were listed.
 */
@inline export function gradRow(map: usize, id: i32): i32 {
  return map != 0 ? load<i32>(map + (<usize>id << 2)) : id;
}
