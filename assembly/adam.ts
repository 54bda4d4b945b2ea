// One fused, in-place Adam step (Kingma & Ba) with optional decoupled weight decay (AdamW,
// Loshchilov & Hutter), over n contiguous parameters with their gradients and moments:
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p·(1 − lr·decay) − lr · (m / bc1) / (√(v / bc2) + ε)
// bc1 = 1 − β1^t and bc2 = 1 − β2^t are computed once per step by the caller, in f64.

import { at } from "./simd";

export function adam_update(p: usize, g: usize, m: usize, v: usize, n: i32,
                            lr: f32, beta1: f32, beta2: f32, eps: f32, decay: f32,
                            bc1: f32, bc2: f32): void {
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(1 - beta2);
  const step = f32x4.splat(lr / bc1);
  const invBc2 = f32x4.splat(1 / bc2);
  const e = f32x4.splat(eps);
  const keep = f32x4.splat(1 - lr * decay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const gi = v128.load(at(g, i));
    const mi = f32x4.add(f32x4.mul(b1, v128.load(at(m, i))), f32x4.mul(c1, gi));
    const vi = f32x4.add(f32x4.mul(b2, v128.load(at(v, i))), f32x4.mul(c2, f32x4.mul(gi, gi)));
    v128.store(at(m, i), mi);
    v128.store(at(v, i), vi);
    const denom = f32x4.add(f32x4.sqrt(f32x4.mul(vi, invBc2)), e);
    const pi = f32x4.mul(v128.load(at(p, i)), keep);
    v128.store(at(p, i), f32x4.sub(pi, f32x4.div(f32x4.mul(step, mi), denom)));
  }
  for (; i < n; i++) {
    const gi = load<f32>(at(g, i));
    const mi = beta1 * load<f32>(at(m, i)) + (1 - beta1) * gi;
    const vi = beta2 * load<f32>(at(v, i)) + (1 - beta2) * gi * gi;
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    const denom = Mathf.sqrt(vi * (1 / bc2)) + eps;
    store<f32>(at(p, i), load<f32>(at(p, i)) * (1 - lr * decay) - (lr / bc1) * mi / denom);
  }
}
