// Element-wise activations over n contiguous f32 values. Both kernels may run in place.

import { at } from "./simd";

/** y = max(x, 0). y may alias x. */
export function relu_forward(y: usize, x: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.max(v128.load(at(x, i)), zero));
  for (; i < n; i++) { const v = load<f32>(at(x, i)); store<f32>(at(y, i), v > 0 ? v : 0); }
}

/**
 * dX = dY where the activation's output y > 0, else 0 (the subgradient at 0 is taken as 0).
 * Reads the forward output, not its input: y > 0 exactly where x > 0. dX may alias dY.
 */
export function relu_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const mask = f32x4.gt(v128.load(at(y, i)), zero);
    v128.store(at(dx, i), v128.and(v128.load(at(dy, i)), mask));
  }
  for (; i < n; i++) store<f32>(at(dx, i), load<f32>(at(y, i)) > 0 ? load<f32>(at(dy, i)) : 0);
}

/** x = min(max(x, lo), hi) in place: predictions clamped into the rating range. */
export function clamp_f32(x: usize, n: i32, lo: f32, hi: f32): void {
  const l = f32x4.splat(lo), h = f32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(x, i), f32x4.min(f32x4.max(v128.load(at(x, i)), l), h));
  for (; i < n; i++) store<f32>(at(x, i), min(max(load<f32>(at(x, i)), lo), hi));
}
