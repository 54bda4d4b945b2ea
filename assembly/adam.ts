// One fused, in-place Adam step (Kingma & Ba) with optional decoupled weight decay (AdamW,
// Loshchilov & Hutter), over n contiguous parameters with their gradients and moments:
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p·(1 − lr·decay) − lr · (m / bc1) / (√(v / bc2) + ε)
// bc1 = 1 − β1^t and bc2 = 1 − β2^t are computed once per step by the caller, in f64. The
// settings arrive as f64 and every derived constant (1 − β, lr/bc1, …) is formed in f64 before
// rounding to f32: 1 − β2 formed in f32 would lose five digits to cancellation.

import { at } from "./simd";

export function adam_update(p: usize, g: usize, m: usize, v: usize, n: i32,
                            lr: f64, beta1: f64, beta2: f64, eps: f64, decay: f64,
                            bc1: f64, bc2: f64): void {
  const sb1 = <f32>beta1, sc1 = <f32>(1 - beta1), sb2 = <f32>beta2, sc2 = <f32>(1 - beta2);
  const sStep = <f32>(lr / bc1), sInvBc2 = <f32>(1 / bc2), sEps = <f32>eps, sKeep = <f32>(1 - lr * decay);
  const b1 = f32x4.splat(sb1), c1 = f32x4.splat(sc1);
  const b2 = f32x4.splat(sb2), c2 = f32x4.splat(sc2);
  const step = f32x4.splat(sStep);
  const invBc2 = f32x4.splat(sInvBc2);
  const e = f32x4.splat(sEps);
  const keep = f32x4.splat(sKeep);
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
    const mi = sb1 * load<f32>(at(m, i)) + sc1 * gi;
    const vi = sb2 * load<f32>(at(v, i)) + sc2 * (gi * gi);
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    const denom = Mathf.sqrt(vi * sInvBc2) + sEps;
    store<f32>(at(p, i), load<f32>(at(p, i)) * sKeep - sStep * mi / denom);
  }
}

/**
 * Lazy Adam over the listed rows of an embedding table (row-major, `dim` floats per row): rows
 * holds `nrows` distinct i32 row indices; only those rows' values and moments change, by the
 * same update adam_update applies (bias corrections from the global step). g is the table's
 * compact gradient: its row i belongs to table row rows[i].
 */
export function adam_rows(p: usize, g: usize, m: usize, v: usize, rows: usize, nrows: i32, dim: i32,
                          lr: f64, beta1: f64, beta2: f64, eps: f64, decay: f64, bc1: f64, bc2: f64): void {
  const rowBytes = <usize>dim << 2;
  for (let i = 0; i < nrows; i++) {
    const off = <usize>load<i32>(rows + (<usize>i << 2)) * rowBytes;
    adam_update(p + off, g + <usize>i * rowBytes, m + off, v + off, dim, lr, beta1, beta2, eps, decay, bc1, bc2);
  }
}
