// The int8 pass of the item index: like score_topk (score.ts), but over rows quantized by
// quantize.ts and scored with integer SIMD dot products, four times less memory traffic than f32
// for the same rows; it keeps more candidates than asked for, which score_rescore (score.ts)
// re-ranks exactly in f32. Integer sums are exact, so the blocking below changes no result: any
// order of the adds gives the same approximate score.
//   - Plain SIMD build: queries and items in [−127, 127]; per 16 bytes both halves widened to
//     i16 (shared by the block's queries or items once compiled) and two i32x4.dot_i16x8_s: about
//     six instructions per 16 products, where i16x8.extmul_low/high repeated the widening for
//     every pair (eleven).
//   - Relaxed build: items quantized to [−63, 63] and stored plus 64, in [0, 127], so that
//     relaxed SIMD's i8 × i7 dot (whose second operand must lie in [0, 127] to mean the same on
//     every platform) can score them; the query's 64·Σq is
//     subtracted afterwards, as XNNPACK does. Used as i16x8.relaxed_dot_i8x16_i7x16_s plus a
//     pairwise widening by i32x4.dot_i16x8_s with a splat of ones the scan keeps in a register:
//     V8 then emits pmaddubsw, pmaddwd, paddd (extadd_pairwise, used before, reloaded its
//     constant's address before each pmaddwd: four instructions), where the fused i32x4 form
//     rebuilds the constant each time (five instructions) and is wrong in V8's baseline tier
//     (Liftoff, which runs a function's first calls: 4·a·b + c gives 8·a·b). The scan still checks its dot inline, in the code of the
//     same compiled function, and uses the integer dot above on the same 7-bit rows where it is
//     wrong. The integer sums are exact either way, so every tier gives the same candidates
//     (test/int8-tiers.test.ts).

import { at } from "./simd";
import { offer, offerAbove, threshold } from "./score";

/**
 * Lane 0 of the relaxed dot (acc + ⟨a, b⟩ as dotAdd computes it) over splat(a), splat(b),
 * splat(c): 4·a·b + c where the compiled code implements it as specified (b in [0, 127]).
 * Relaxed build only; exported for the test-only probe (assembly/extras/probe.ts).
 */
@inline export function relaxedDot(a: i32, b: i32, c: i32): i32 {
  return i32x4.extract_lane(dotAdd<u8>(i8x16.splat(<i8>a), i8x16.splat(<i8>b), i32x4.splat(c), i16x8.splat(1)), 0);
}

/**
 * acc + ⟨a, b⟩ over 16 bytes, in i32 lanes (see the file's header): DOT = u8 for the relaxed dot,
 * i8 for the integer one. `ones` is i16x8.splat(1), held by the caller in a register: the
 * pairwise widening is i32x4.dot_i16x8_s(x, ones) (one pmaddwd, the same sums as
 * extadd_pairwise_i16x8_s, for which V8 reloads its constant's address before every use).
 */
@inline function dotAdd<DOT>(a: v128, b: v128, acc: v128, ones: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && !isSigned<DOT>()) return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), ones));
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a), i16x8.extend_low_i8x16_s(b));
  const hi = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a), i16x8.extend_high_i8x16_s(b));
  return i32x4.add(acc, i32x4.add(lo, hi));
}

/** What 7-bit rows' stored +64 adds to a query's dot products: 64·Σq (0 for plain rows: SEVEN = i8). */
@inline function offsetOf<SEVEN>(x: usize, dPad: i32): i32 {
  if (isSigned<SEVEN>()) return 0;
  let s = 0;
  for (let e = 0; e < dPad; e++) s += <i32>load<i8>(x + <usize>e);
  return s << 6;
}

/**
 * [Σa, Σb, Σc, Σd] of four i32x4 (exact: integer adds, in any order). Only unpack shuffles
 * (lanes 0,4,1,5 / 2,6,3,7 / 0,1,4,5 / 2,3,6,7: one punpck each on x86); the 0,4,2,6 form
 * used before costs V8 several instructions, and this reduction runs once per block: it took
 * about a sixth of the scan (Node 24, d = 64).
 */
@inline function isum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

/**
 * The integer threshold of the per-block rejection: a raw integer sum (dot product plus the
 * rows' offset `off`) not above it cannot give an approximate score sq·is·(raw − off) that
 * reaches t, for any item scale is ≤ isMax (the largest scale of the chunk), so the block is
 * dropped without converting or scaling. Conservative: the bound t/(sq·isMax) is computed in
 * f64 and lowered by 2⁻²⁰ of itself, which covers the two f32 roundings of sq·is·x; a block
 * that passes is scored in f32 exactly as before, so the candidates do not change. t ≤ 0 (or
 * −∞, a heap not full) gives i32.MIN_VALUE: every block passes.
 */
@inline function intThreshold(t: f32, sq: f32, isMax: f32, off: i32): i32 {
  if (!(t > 0)) return i32.MIN_VALUE;
  const bound = min(<f64>t / (<f64>sq * <f64>isMax) * (1 - 1.0 / 1048576), 1073741824.0);
  return <i32>floor(bound) + off - 1;
}

/** The largest of scales[c0 … c1) (c1 − c0 a multiple of 4 plus a tail). */
@inline function maxScale(scales: usize, c0: i32, c1: i32): f32 {
  let v = f32x4.splat(0);
  let j = c0;
  for (; j + 4 <= c1; j += 4) v = f32x4.max(v, v128.load(at(scales, j)));
  let m = max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
  for (; j < c1; j++) m = max(m, load<f32>(at(scales, j)));
  return m;
}

@inline function isum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/**
 * The int8 pass of the fused top-k: like score_topk, but the scores are the approximations
 * qs[q]·is[j]·⟨qq[q], iq[j]⟩ over rows of dPad bytes (iq written by quantize_items_i8, qq by
 * quantize_rows_i8); it keeps the best m candidates per query (m somewhat above the k asked for)
 * for score_rescore to re-rank exactly. Register blocks of 2 queries × 4 items: each item's 16
 * bytes are loaded once for two queries, eight independent accumulators.
 */
export function score_topk_i8(outIdx: usize, outScore: usize, counts: usize, qq: usize, qscales: usize, iq: usize,
                              iscales: usize, exOffsets: usize, exIds: usize, b: i32, n: i32, dPad: i32, m: i32,
                              itemBase: i32, seven: i32): void {
  if (m <= 0 || n <= 0) return;
  if (!seven) {
    scanI8<i8, i8>(outIdx, outScore, counts, qq, qscales, iq, iscales, exOffsets, exIds, b, n, dPad, m, itemBase);
    return;
  }
  if (ASC_FEATURE_RELAXED_SIMD) {
    // The check is inlined here, so it is compiled by the tier that compiles this scan (see the
    // header); dPad's low bit only keeps the compiler from folding it.
    const a = (dPad & 1) - 3;
    if (relaxedDot(a, 5, 10) == 20 * a + 10) {
      scanI8<u8, u8>(outIdx, outScore, counts, qq, qscales, iq, iscales, exOffsets, exIds, b, n, dPad, m, itemBase);
      return;
    }
  }
  scanI8<u8, i8>(outIdx, outScore, counts, qq, qscales, iq, iscales, exOffsets, exIds, b, n, dPad, m, itemBase);
}

/** score_topk_i8's scan (each block: the integer sums, the integer threshold, and only for a
 *  block that passes it the f32 scores and the heap), compiled once per row form (SEVEN: u8 for 7-bit rows stored +64, i8
 *  for plain ones) and kind of dot product (DOT: see dotAdd). */
function scanI8<SEVEN, DOT>(outIdx: usize, outScore: usize, counts: usize, qq: usize, qscales: usize, iq: usize,
                       iscales: usize, exOffsets: usize, exIds: usize, b: i32, n: i32, dPad: i32, m: i32,
                       itemBase: i32): void {
  const chunk = max(4, ((256 * 1024) / max(16, dPad)) & ~3);
  const stride = <usize>dPad;
  // A splat of a value known only at run time, so that it is built once and kept in a register.
  const ones = i16x8.splat(<i16>((dPad >>> 31) ^ 1));
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const c1 = min(n, c0 + chunk);
    const isMax = b >= 2 ? maxScale(iscales, c0, c1) : <f32>0;
    let q = 0;
    for (; q + 2 <= b; q += 2) {
      const x0 = qq + <usize>(q * dPad), x1 = x0 + stride;
      const o0 = i32x4.splat(offsetOf<SEVEN>(x0, dPad)), o1 = i32x4.splat(offsetOf<SEVEN>(x1, dPad));
      const sq0 = f32x4.splat(load<f32>(at(qscales, q))), sq1 = f32x4.splat(load<f32>(at(qscales, q + 1)));
      const hv0 = at(outScore, q * m), hi0 = at(outIdx, q * m);
      const hv1 = hv0 + (<usize>m << 2), hi1 = hi0 + (<usize>m << 2);
      let t0 = threshold(hv0, counts, q, m), t1 = threshold(hv1, counts, q + 1, m);
      const s0 = f32x4.extract_lane(sq0, 0), s1 = f32x4.extract_lane(sq1, 0);
      const f0 = i32x4.extract_lane(o0, 0), f1 = i32x4.extract_lane(o1, 0);
      let h0 = intThreshold(t0, s0, isMax, f0), h1 = intThreshold(t1, s1, isMax, f1);
      let j = c0;
      for (; j + 4 <= c1; j += 4) {
        const y0 = iq + <usize>j * stride, y1 = y0 + stride, y2 = y1 + stride, y3 = y2 + stride;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
        for (let e = 0; e < dPad; e += 16) {
          const o = <usize>e;
          const u0 = v128.load(x0 + o), u1 = v128.load(x1 + o);
          const v0 = v128.load(y0 + o);
          a0 = dotAdd<DOT>(u0, v0, a0, ones); b0 = dotAdd<DOT>(u1, v0, b0, ones);
          const v1 = v128.load(y1 + o);
          a1 = dotAdd<DOT>(u0, v1, a1, ones); b1 = dotAdd<DOT>(u1, v1, b1, ones);
          const v2 = v128.load(y2 + o);
          a2 = dotAdd<DOT>(u0, v2, a2, ones); b2 = dotAdd<DOT>(u1, v2, b2, ones);
          const v3 = v128.load(y3 + o);
          a3 = dotAdd<DOT>(u0, v3, a3, ones); b3 = dotAdd<DOT>(u1, v3, b3, ones);
        }
        const r0 = isum4(a0, a1, a2, a3), r1 = isum4(b0, b1, b2, b3);
        if (i32x4.bitmask(i32x4.gt_s(r0, i32x4.splat(h0)))) {
          const w0 = f32x4.mul(f32x4.mul(sq0, v128.load(at(iscales, j))), f32x4.convert_i32x4_s(i32x4.sub(r0, o0)));
          const t = offerAbove(w0, t0, hv0, hi0, counts, q, m, itemBase + j, exOffsets, exIds);
          if (t != t0) { t0 = t; h0 = intThreshold(t0, s0, isMax, f0); }
        }
        if (i32x4.bitmask(i32x4.gt_s(r1, i32x4.splat(h1)))) {
          const w1 = f32x4.mul(f32x4.mul(sq1, v128.load(at(iscales, j))), f32x4.convert_i32x4_s(i32x4.sub(r1, o1)));
          const t = offerAbove(w1, t1, hv1, hi1, counts, q + 1, m, itemBase + j, exOffsets, exIds);
          if (t != t1) { t1 = t; h1 = intThreshold(t1, s1, isMax, f1); }
        }
      }
      for (; j < c1; j++) {
        const y0 = iq + <usize>j * stride;
        let a0 = i32x4.splat(0), b0 = i32x4.splat(0);
        for (let e = 0; e < dPad; e += 16) {
          const v0 = v128.load(y0 + <usize>e);
          a0 = dotAdd<DOT>(v128.load(x0 + <usize>e), v0, a0, ones);
          b0 = dotAdd<DOT>(v128.load(x1 + <usize>e), v0, b0, ones);
        }
        const is = load<f32>(at(iscales, j));
        const r0 = f32x4.extract_lane(sq0, 0) * is * <f32>(isum(a0) - i32x4.extract_lane(o0, 0));
        const r1 = f32x4.extract_lane(sq1, 0) * is * <f32>(isum(b0) - i32x4.extract_lane(o1, 0));
        if (r0 >= t0) t0 = offer(hv0, hi0, counts, q, m, r0, itemBase + j, exOffsets, exIds);
        if (r1 >= t1) t1 = offer(hv1, hi1, counts, q + 1, m, r1, itemBase + j, exOffsets, exIds);
      }
    }
    for (; q < b; q++) {
      const x = qq + <usize>(q * dPad);
      const off = offsetOf<SEVEN>(x, dPad);
      const sq = load<f32>(at(qscales, q));
      const hv = at(outScore, q * m), hi = at(outIdx, q * m);
      let t = threshold(hv, counts, q, m);
      let j = c0;
      for (; j + 4 <= c1; j += 4) {
        const y0 = iq + <usize>j * stride, y1 = y0 + stride, y2 = y1 + stride, y3 = y2 + stride;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        for (let e = 0; e < dPad; e += 16) {
          const o = <usize>e;
          const u = v128.load(x + o);
          a0 = dotAdd<DOT>(u, v128.load(y0 + o), a0, ones);
          a1 = dotAdd<DOT>(u, v128.load(y1 + o), a1, ones);
          a2 = dotAdd<DOT>(u, v128.load(y2 + o), a2, ones);
          a3 = dotAdd<DOT>(u, v128.load(y3 + o), a3, ones);
        }
        // A lone query streams the items: no integer threshold here (the chunk's scale
        // maximum it needs cost a lone query more than it saved).
        const w = f32x4.mul(f32x4.mul(f32x4.splat(sq), v128.load(at(iscales, j))), f32x4.convert_i32x4_s(i32x4.sub(isum4(a0, a1, a2, a3), i32x4.splat(off))));
        t = offerAbove(w, t, hv, hi, counts, q, m, itemBase + j, exOffsets, exIds);
      }
      for (; j < c1; j++) {
        const y0 = iq + <usize>j * stride;
        let a0 = i32x4.splat(0);
        for (let e = 0; e < dPad; e += 16) a0 = dotAdd<DOT>(v128.load(x + <usize>e), v128.load(y0 + <usize>e), a0, ones);
        const r0 = sq * load<f32>(at(iscales, j)) * <f32>(isum(a0) - off);
        if (r0 >= t) t = offer(hv, hi, counts, q, m, r0, itemBase + j, exOffsets, exIds);
      }
    }
  }
}
