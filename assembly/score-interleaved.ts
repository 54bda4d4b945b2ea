// The lone query's scan: score_topk over a second copy of the items laid out by dimension in
// blocks of eight. A lone query reads every item once and does little arithmetic per byte, so
// it is bounded by how the reads are issued: the row kernel reads four rows at once and reduces
// each item's accumulator with shuffles; this one reads one contiguous stream.
//
// LAYOUT (interleave_items): items in blocks of eight (the last one padded with zeros, never
// offered); block g holds, for each column c in [0, d), the eight items' column c: 8 floats,
// items 8g … 8g+3 then 8g+4 … 8g+7. A block takes 8·d floats, so item range [j, …) with j a
// multiple of 8 starts j·d floats in, as in the row layout. Memory: ⌈n/8⌉·8·d·4 bytes.
//
// THE SAME BITS AS score_topk (the canonical order of simd.ts). The row kernel's accumulator of
// item i holds in lane l the products of columns l, l+4, l+8, … summed in order; here vector
// a_l holds that same lane for four items (lane i = item i), fed one column at a time by a
// broadcast of the query's column e+l: the same multiply-adds in the same order, lane by lane.
// Then (a₀ + a₁) + (a₂ + a₃) is, lane by lane, the canonical horizontal sum, with no shuffle;
// the leftover columns (d not a multiple of 4) are summed lane-wise in order from 0 with
// separate multiplies and adds, as dotTail does, and added once. Eight accumulators per block
// (two groups of four items), so the multiply-adds' latency never limits the stream.

import { madd, at } from "./simd";
import { offer4, threshold } from "./score";

/** Items per cache chunk (as score_topk: 256 KB stays in L2 while every query passes). */
const CHUNK_BYTES: i32 = 256 * 1024;

/**
 * out[⌈n/8⌉·8 × d] = items[n × d] (row-major) in the interleaved layout above; padding zero.
 * Must not alias.
 */
export function interleave_items(out: usize, items: usize, n: i32, d: i32): void {
  const blocks = (n + 7) >> 3;
  for (let g = 0; g < blocks; g++) {
    const dst = out + ((<usize>g * <usize>d) << 5);
    for (let i = 0; i < 8; i++) {
      const j = (g << 3) + i;
      if (j < n) {
        const src = items + ((<usize>j * <usize>d) << 2);
        for (let c = 0; c < d; c++) store<f32>(dst + ((<usize>c << 5) | (<usize>i << 2)), load<f32>(at(src, c)));
      } else {
        for (let c = 0; c < d; c++) store<f32>(dst + ((<usize>c << 5) | (<usize>i << 2)), 0);
      }
    }
  }
}

/**
 * score_topk's contract (outIdx/outScore rows b×k as heaps, counts, exclusions, itemBase,
 * ties) over items [0, n) in the interleaved layout (items8, from interleave_items; n need not
 * be a multiple of 8: the padded lanes are never offered). Scores have score_topk's bits.
 */
export function score_topk_il(outIdx: usize, outScore: usize, counts: usize, queries: usize, items8: usize,
                              exOffsets: usize, exIds: usize, b: i32, n: i32, d: i32, k: i32, itemBase: i32): void {
  if (k <= 0 || n <= 0) return;
  const rowBytes = <usize>d << 2;
  const blockBytes = <usize>d << 5;
  const d4 = d & ~3;
  const chunk = max(8, (CHUNK_BYTES / max(1, d * 4)) & ~7);
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const c1 = min(n, c0 + chunk);
    for (let q = 0; q < b; q++) {
      const x = queries + <usize>q * rowBytes;
      const hv = at(outScore, q * k), hi = at(outIdx, q * k);
      let t = threshold(hv, counts, q, k);
      for (let j = c0; j < c1; j += 8) {
        const p = items8 + (<usize>(j >> 3)) * blockBytes;
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
        for (let e = 0; e < d4; e += 4) {
          const y = p + (<usize>e << 5), xe = x + (<usize>e << 2);
          const u0 = v128.load32_splat(xe), u1 = v128.load32_splat(xe, 4);
          const u2 = v128.load32_splat(xe, 8), u3 = v128.load32_splat(xe, 12);
          a0 = madd(u0, v128.load(y), a0); b0 = madd(u0, v128.load(y, 16), b0);
          a1 = madd(u1, v128.load(y, 32), a1); b1 = madd(u1, v128.load(y, 48), b1);
          a2 = madd(u2, v128.load(y, 64), a2); b2 = madd(u2, v128.load(y, 80), b2);
          a3 = madd(u3, v128.load(y, 96), a3); b3 = madd(u3, v128.load(y, 112), b3);
        }
        let w0 = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
        let w1 = f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3));
        if (d4 < d) {
          let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
          for (let c = d4; c < d; c++) {
            const y = p + (<usize>c << 5);
            const u = v128.load32_splat(at(x, c));
            s0 = f32x4.add(s0, f32x4.mul(u, v128.load(y)));
            s1 = f32x4.add(s1, f32x4.mul(u, v128.load(y, 16)));
          }
          w0 = f32x4.add(w0, s0);
          w1 = f32x4.add(w1, s1);
        }
        // Lanes that reach the threshold, items beyond n (the padded block) left out; the four
        // lower items are offered before the four upper ones: ascending, as score_topk.
        const left = c1 - j;
        const mask0 = i32x4.bitmask(f32x4.ge(w0, f32x4.splat(t))) & (left >= 4 ? 15 : (1 << left) - 1);
        if (mask0 != 0) t = offer4(w0, mask0, hv, hi, counts, q, k, itemBase + j, exOffsets, exIds);
        const mask1 = i32x4.bitmask(f32x4.ge(w1, f32x4.splat(t))) & (left >= 8 ? 15 : left <= 4 ? 0 : (1 << (left - 4)) - 1);
        if (mask1 != 0) t = offer4(w1, mask1, hv, hi, counts, q, k, itemBase + j + 4, exOffsets, exIds);
      }
    }
  }
}
