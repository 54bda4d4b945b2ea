// The pair score s[r] = ⟨U[r], V[r]⟩ (+ biases) and pointwise losses on it. Future losses
// (logistic, BPR, in-batch softmax) live here too and share the same argument order.

import { madd, hsum, at } from "./simd";

/** s[r] = Σ_c U[r,c]·V[r,c] for r < n; U, V are [n×d]. */
export function rowwise_dot(s: usize, u: usize, v: usize, n: i32, d: i32): void {
  const d4 = d & ~3;
  for (let r = 0; r < n; r++) {
    const ur = at(u, r * d), vr = at(v, r * d);
    let acc = f32x4.splat(0);
    for (let c = 0; c < d4; c += 4) acc = madd(v128.load(at(ur, c)), v128.load(at(vr, c)), acc);
    let t = hsum(acc);
    for (let c = d4; c < d; c++) t += load<f32>(at(ur, c)) * load<f32>(at(vr, c));
    store<f32>(at(s, r), t);
  }
}

/** dU[r] = ds[r]·V[r], dV[r] = ds[r]·U[r]. dU, dV must not alias U or V. */
export function rowwise_dot_backward(du: usize, dv: usize, ds: usize, u: usize, v: usize, n: i32, d: i32): void {
  for (let r = 0; r < n; r++) {
    const g = load<f32>(at(ds, r));
    const gv = f32x4.splat(g);
    const o = r * d;
    let c = 0;
    for (; c + 4 <= d; c += 4) {
      v128.store(at(du, o + c), f32x4.mul(gv, v128.load(at(v, o + c))));
      v128.store(at(dv, o + c), f32x4.mul(gv, v128.load(at(u, o + c))));
    }
    for (; c < d; c++) {
      store<f32>(at(du, o + c), g * load<f32>(at(v, o + c)));
      store<f32>(at(dv, o + c), g * load<f32>(at(u, o + c)));
    }
  }
}

/**
 * s[r] += g[0] + ub[uids[r]] + ib[iids[r]]: global, user and item biases. A zero pointer
 * leaves that term out (the id pointer beside it is then ignored).
 */
export function add_pair_bias(s: usize, g: usize, ub: usize, uids: usize, ib: usize, iids: usize, n: i32): void {
  const g0: f32 = g != 0 ? load<f32>(g) : 0;
  for (let r = 0; r < n; r++) {
    let t = load<f32>(at(s, r)) + g0;
    if (ub != 0) t += load<f32>(at(ub, load<i32>(at(uids, r))));
    if (ib != 0) t += load<f32>(at(ib, load<i32>(at(iids, r))));
    store<f32>(at(s, r), t);
  }
}

/**
 * Mean squared error L = (1/n)·Σ (s − y)² over n predictions; writes dL/ds = 2(s − y)/n to ds
 * (ds may alias s) and returns L, summed in f64.
 */
export function mse_loss(ds: usize, s: usize, y: usize, n: i32): f64 {
  let total: f64 = 0;
  const scale: f32 = <f32>2 / <f32>n;
  for (let r = 0; r < n; r++) {
    const e = load<f32>(at(s, r)) - load<f32>(at(y, r));
    total += <f64>e * <f64>e;
    store<f32>(at(ds, r), e * scale);
  }
  return total / <f64>n;
}

/**
 * L2 penalty on n contiguous values: dx += scale·x, returns Σ x² (f64). With scale = 2λ/batch
 * this adds the gradient of (λ/batch)·Σ‖u‖² — per-occurrence regularisation of tower outputs.
 */
export function l2_penalty(dx: usize, x: usize, n: i32, scale: f32): f64 {
  const s = f32x4.splat(scale);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const xi = v128.load(at(x, i));
    acc = madd(xi, xi, acc);
    v128.store(at(dx, i), madd(s, xi, v128.load(at(dx, i))));
  }
  let total: f64 = <f64>hsum(acc);
  for (; i < n; i++) {
    const xi = load<f32>(at(x, i));
    total += <f64>(xi * xi);
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + scale * xi);
  }
  return total;
}

/**
 * L2 penalty on the table rows a batch used, once per occurrence: dTable[ids[r]] += scale·table[ids[r]];
 * returns Σ over rows of ‖table[ids[r]]‖² (f64). For bias tables dim = 1.
 */
export function embedding_l2(dtable: usize, table: usize, ids: usize, n: i32, dim: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < n; r++) {
    const o = load<i32>(at(ids, r)) * dim;
    for (let c = 0; c < dim; c++) {
      const v = load<f32>(at(table, o + c));
      total += <f64>(v * v);
      store<f32>(at(dtable, o + c), load<f32>(at(dtable, o + c)) + scale * v);
    }
  }
  return total;
}
