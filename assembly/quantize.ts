// Quantisation: f32 rows to one byte per value with one scale per row (x ≈ scale·q), the form
// the int8 item index stores and scores (score-int8.ts). Two forms:
//   - plain rows, in [−127, 127] (scale max|x|/127): queries, and the items of the plain SIMD build;
//   - 7-bit rows, in [−63, 63] (scale max|x|/63) stored plus 64, in [1, 127]: the items of the
//     relaxed build, the operand relaxed SIMD's i8 × i7 dot reads the same on every platform.

import { at } from "./simd";

/**
 * out[r, 0:dPad] = round(x[r, :] / scales[r]) as i8, scales[r] = max|x[r]| / 127 (1 for a zero
 * row); columns d … dPad−1 are zero. dPad is d rounded up to a multiple of 16.
 */
export function quantize_rows_i8(out: usize, scales: usize, x: usize, n: i32, d: i32, dPad: i32): void {
  quantize(out, scales, x, n, d, dPad, 127, 0);
}

/** Rows to bytes round(x / scale) + offset, scale = max|x| / limit (1 for a zero row); padding = offset. */
@inline function quantize(out: usize, scales: usize, x: usize, n: i32, d: i32, dPad: i32, limit: f32, offset: i32): void {
  for (let r = 0; r < n; r++) {
    const row = at(x, r * d);
    let m: f32 = 0;
    for (let c = 0; c < d; c++) m = max(m, abs(load<f32>(at(row, c))));
    const scale: f32 = m > 0 ? m / limit : 1;
    store<f32>(at(scales, r), scale);
    const dst = out + <usize>(r * dPad);
    const inv: f32 = 1 / scale;
    for (let c = 0; c < d; c++) store<i8>(dst + <usize>c, <i8>(<i32>nearest(load<f32>(at(row, c)) * inv) + offset));
    for (let c = d; c < dPad; c++) store<i8>(dst + <usize>c, <i8>offset);
  }
}

/**
 * The item index's rows: quantize_rows_i8's form (seven = 0), or 7-bit rows (seven = 1): values
 * in [−63, 63] (scale max|x|/63) stored plus 64, in [1, 127] (padding 64: the value 0), the form
 * relaxed_dot_i8x16_i7x16_add_s reads the same everywhere. score_topk_i8 takes the same flag.
 */
export function quantize_items_i8(out: usize, scales: usize, x: usize, n: i32, d: i32, dPad: i32, seven: i32): void {
  if (!seven) quantize(out, scales, x, n, d, dPad, 127, 0);
  else quantize(out, scales, x, n, d, dPad, 63, 64);
}
