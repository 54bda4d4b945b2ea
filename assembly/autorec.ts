// I-AutoRec (Sedhain et al. 2015), item-based: item i's input is its column of observed ratings
// r_{·i} over users. Encoder z_i = b + Σ_{u ∈ raters(i)} r_ui·V_u, hidden a_i = act(z_i) (sigmoid
// or tanh), decoder r̂_ui = W_u·a_i + c_u. V and W are users × h tables (row-major), b has h
// floats, c one float per user.
//
// The ratings come item by item, CSR style: item i's raters are rows [offsets[i], offsets[i+1])
// of `raters` (i32 user rows) and `ratings` (f32). Every sum over raters runs in CSR order, and
// every vector loop over h in lanes of four from column 0 with a scalar tail (h need not be a
// multiple of 4), so autorec_encode's a_i has the same bits as the a_i autorec_grad computes
// without leave-out.

import { at, madd, hsum, dotTail } from "./simd";
import { exp4 } from "./exp";

// The activation is computed four lanes at a time by one polynomial exp (exp4, exp.ts), also
// for the scalar tail (one lane of a splat), so a column's activation does not depend on whether
// it is in the tail. tanh(x) = 2·sigmoid(2x) − 1.
@inline function activateVec(x: v128, tanh: i32): v128 {
  const one = f32x4.splat(1);
  if (tanh != 0) {
    const s = f32x4.div(one, f32x4.add(one, exp4(f32x4.mul(x, f32x4.splat(-2)))));
    return f32x4.sub(f32x4.add(s, s), one);
  }
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

@inline function activate(x: f32, tanh: i32): f32 {
  return f32x4.extract_lane(activateVec(f32x4.splat(x), tanh), 0);
}

/** act'(z) written through a = act(z): sigmoid a(1 − a), tanh 1 − a². */
@inline function slope(a: f32, tanh: i32): f32 {
  return tanh != 0 ? <f32>1 - a * a : a * (<f32>1 - a);
}

@inline function slopeVec(a: v128, tanh: i32): v128 {
  const one = f32x4.splat(1);
  return tanh != 0 ? f32x4.sub(one, f32x4.mul(a, a)) : f32x4.mul(a, f32x4.sub(one, a));
}

/** a[0..h) = act(z[0..h) − r·v[0..h)) (r = 0: act(z)); a may alias z. */
@inline function activateRow(a: usize, z: usize, r: f32, v: usize, h: i32, tanh: i32): void {
  const h4 = h & ~3;
  const rv = f32x4.splat(r);
  let e = 0;
  for (; e < h4; e += 4)
    v128.store(at(a, e), activateVec(f32x4.sub(v128.load(at(z, e)), f32x4.mul(rv, v128.load(at(v, e)))), tanh));
  for (; e < h; e++) store<f32>(at(a, e), activate(load<f32>(at(z, e)) - r * load<f32>(at(v, e)), tanh));
}

/** z[0..h) = b + Σ_{j ∈ [lo, hi)} ratings[j] · V[raters[j]], in CSR order. */
@inline function encodeInto(z: usize, V: usize, b: usize, raters: usize, ratings: usize, lo: i32, hi: i32, h: i32): void {
  const h4 = h & ~3;
  const rowBytes = <usize>h << 2;
  memory.copy(z, b, rowBytes);
  for (let j = lo; j < hi; j++) {
    const row = V + <usize>load<i32>(at(raters, j)) * rowBytes;
    const r = load<f32>(at(ratings, j));
    const rv = f32x4.splat(r);
    let e = 0;
    for (; e < h4; e += 4) v128.store(at(z, e), madd(rv, v128.load(at(row, e)), v128.load(at(z, e))));
    for (; e < h; e++) store<f32>(at(z, e), load<f32>(at(z, e)) + r * load<f32>(at(row, e)));
  }
}

/** x·y over h columns in the canonical order (assembly/simd.ts). */
@inline function dot(x: usize, y: usize, h: i32): f32 {
  const h4 = h & ~3;
  let acc = f32x4.splat(0);
  for (let e = 0; e < h4; e += 4) acc = madd(v128.load(at(x, e)), v128.load(at(y, e)), acc);
  let s = hsum(acc);
  if (h4 < h) s += dotTail(x, y, h4, h);
  return s;
}

/** y[0..h) += s · x[0..h). */
@inline function axpy(y: usize, s: f32, x: usize, h: i32): void {
  const h4 = h & ~3;
  const sv = f32x4.splat(s);
  let e = 0;
  for (; e < h4; e += 4) v128.store(at(y, e), madd(sv, v128.load(at(x, e)), v128.load(at(y, e))));
  for (; e < h; e++) store<f32>(at(y, e), load<f32>(at(y, e)) + s * load<f32>(at(x, e)));
}

/**
 * The serving item vectors: out[i] = act(b + Σ_{u ∈ raters(i)} r_ui·V_u) for items i in [0, n)
 * (out: n × h, row-major; no leave-out). offsets has n + 1 entries. tanh: 0 sigmoid, 1 tanh.
 * out must not alias V or b.
 */
export function autorec_encode(out: usize, V: usize, b: usize, offsets: usize, raters: usize, ratings: usize,
                               n: i32, h: i32, tanh: i32): void {
  const rowBytes = <usize>h << 2;
  for (let i = 0; i < n; i++) {
    const z = out + <usize>i * rowBytes;
    encodeInto(z, V, b, raters, ratings, load<i32>(at(offsets, i)), load<i32>(at(offsets, i + 1)), h);
    activateRow(z, z, 0, z, h, tanh);
  }
}

/**
 * Loss and gradients of I-AutoRec over the items listed in `items` (n i32 item rows; offsets is
 * indexed by item row). For each rater u of item i the prediction is p = W_u·a + c_u with
 * a = act(z − r_ui·V_u) when leaveOut ≠ 0 (the scored rating left out of the encoder's input)
 * and a = act(z) otherwise. Returns Σ (p − r)² over the batch's ratings, as f64, unscaled; ADDS
 * the gradients of scale · Σ (p − r)² into dV (users × h), db (h), dW (users × h) and dc (users)
 * — the caller zeroes them. scratch: 4·h floats the kernel overwrites. tanh: 0 sigmoid, 1 tanh.
 * No output may alias an input.
 */
export function autorec_grad(dV: usize, db: usize, dW: usize, dc: usize, scratch: usize,
                             V: usize, b: usize, W: usize, c: usize,
                             offsets: usize, raters: usize, ratings: usize, items: usize,
                             n: i32, h: i32, leaveOut: i32, tanh: i32, scale: f64): f64 {
  const rowBytes = <usize>h << 2;
  const z = scratch, a = scratch + rowBytes, g = scratch + 2 * rowBytes, d = scratch + 3 * rowBytes;
  const two = <f32>(2 * scale);
  let loss: f64 = 0;
  for (let k = 0; k < n; k++) {
    const item = load<i32>(at(items, k));
    const lo = load<i32>(at(offsets, item)), hi = load<i32>(at(offsets, item + 1));
    if (lo == hi) continue;
    encodeInto(z, V, b, raters, ratings, lo, hi, h);
    memory.fill(g, 0, rowBytes);
    if (leaveOut == 0) activateRow(a, z, 0, z, h, tanh);
    for (let j = lo; j < hi; j++) {
      const u = load<i32>(at(raters, j));
      const r = load<f32>(at(ratings, j));
      const vRow = V + <usize>u * rowBytes, wRow = W + <usize>u * rowBytes;
      if (leaveOut != 0) activateRow(a, z, r, vRow, h, tanh);
      const err = dot(wRow, a, h) + load<f32>(at(c, u)) - r;
      loss += <f64>err * <f64>err;
      const ge = two * err;
      store<f32>(at(dc, u), load<f32>(at(dc, u)) + ge);
      axpy(dW + <usize>u * rowBytes, ge, a, h);
      if (leaveOut != 0) {
        // dz' = ge·W_u ⊙ act'(z'): it reaches every rater's V row through z, except u's own.
        const gv = f32x4.splat(ge);
        let e = 0;
        for (; e < (h & ~3); e += 4)
          v128.store(at(d, e), f32x4.mul(f32x4.mul(gv, v128.load(at(wRow, e))), slopeVec(v128.load(at(a, e)), tanh)));
        for (; e < h; e++) store<f32>(at(d, e), ge * load<f32>(at(wRow, e)) * slope(load<f32>(at(a, e)), tanh));
        axpy(g, 1, d, h);
        axpy(dV + <usize>u * rowBytes, -r, d, h);
      } else {
        axpy(g, ge, wRow, h);
      }
    }
    if (leaveOut == 0) for (let e = 0; e < h; e++) store<f32>(at(g, e), load<f32>(at(g, e)) * slope(load<f32>(at(a, e)), tanh));
    for (let j = lo; j < hi; j++) {
      axpy(dV + <usize>load<i32>(at(raters, j)) * rowBytes, load<f32>(at(ratings, j)), g, h);
    }
    axpy(db, 1, g, h);
  }
  return loss;
}
