// Plain stochastic gradient descent with optional decoupled weight decay, in place over n
// contiguous parameters: p ← p·(1 − lr·decay) − lr·g. No state. The settings arrive as f64 and
// are rounded to f32 once.

import { at } from "./simd";

export function sgd_update(p: usize, g: usize, n: i32, lr: f64, decay: f64): void {
  const sLr = <f32>lr, sKeep = <f32>(1 - lr * decay);
  const step = f32x4.splat(sLr), keep = f32x4.splat(sKeep);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(at(p, i), f32x4.sub(f32x4.mul(v128.load(at(p, i)), keep), f32x4.mul(step, v128.load(at(g, i)))));
  }
  for (; i < n; i++) store<f32>(at(p, i), load<f32>(at(p, i)) * sKeep - sLr * load<f32>(at(g, i)));
}
