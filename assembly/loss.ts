// The pair score s[r] = ⟨U[r], V[r]⟩ (+ biases), the training losses on it (squared error,
// logistic, BPR, in-batch softmax) and the L2 penalties, in the one argument order: outputs,
// inputs, sizes, scalar settings.

import { madd, hsum, at, dotTail, gradRow } from "./simd";
import { expFlushed4 } from "./exp";

/** s[r] = Σ_c U[r,c]·V[r,c] for r < n; U, V are [n×d]. */
export function rowwise_dot(s: usize, u: usize, v: usize, n: i32, d: i32): void {
  const d4 = d & ~3;
  for (let r = 0; r < n; r++) {
    const ur = at(u, r * d), vr = at(v, r * d);
    let acc = f32x4.splat(0);
    for (let c = 0; c < d4; c += 4) acc = madd(v128.load(at(ur, c)), v128.load(at(vr, c)), acc);
    // The canonical order (simd.ts): the tail summed on its own, then added once.
    store<f32>(at(s, r), d4 < d ? hsum(acc) + dotTail(ur, vr, d4, d) : hsum(acc));
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
export function embedding_l2(dtable: usize, table: usize, ids: usize, map: usize, n: i32, dim: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < n; r++) {
    const id = load<i32>(at(ids, r));
    const o = id * dim, go = gradRow(map, id) * dim;
    for (let c = 0; c < dim; c++) {
      const v = load<f32>(at(table, o + c));
      total += <f64>(v * v);
      store<f32>(at(dtable, go + c), load<f32>(at(dtable, go + c)) + scale * v);
    }
  }
  return total;
}

@inline function softplus(x: f32): f32 {
  // log(1 + eˣ) without overflow: x + log(1 + e⁻ˣ) for x > 0.
  return x > 0 ? x + Mathf.log(1 + Mathf.exp(-x)) : Mathf.log(1 + Mathf.exp(x));
}

@inline function sigmoid(x: f32): f32 {
  return x >= 0 ? 1 / (1 + Mathf.exp(-x)) : Mathf.exp(x) / (1 + Mathf.exp(x));
}

/**
 * Binary cross-entropy on logits s with labels y ∈ {0, 1}: L = mean(softplus(s) − y·s);
 * writes ds = (σ(s) − y)/n, returns L (f64).
 */
export function bce_loss(ds: usize, s: usize, y: usize, n: i32): f64 {
  let total: f64 = 0;
  const inv: f32 = <f32>1 / <f32>n;
  for (let r = 0; r < n; r++) {
    const x = load<f32>(at(s, r)), t = load<f32>(at(y, r));
    total += <f64>(softplus(x) - t * x);
    store<f32>(at(ds, r), (sigmoid(x) - t) * inv);
  }
  return total / <f64>n;
}

/**
 * BPR (Rendle et al.): scores s[0, n) of positives and s[n, 2n) of their sampled negatives;
 * L = mean softplus(−(s⁺ − s⁻)); writes ds for all 2n scores, returns L (f64).
 */
export function bpr_loss(ds: usize, s: usize, n: i32): f64 {
  let total: f64 = 0;
  const inv: f32 = <f32>1 / <f32>n;
  for (let r = 0; r < n; r++) {
    const x = load<f32>(at(s, r)) - load<f32>(at(s, r + n));
    total += <f64>softplus(-x);
    const g = sigmoid(-x) * inv;
    store<f32>(at(ds, r), -g);
    store<f32>(at(ds, r + n), g);
  }
  return total / <f64>n;
}

/**
 * In-batch sampled softmax over logits S[n×cols] = U·Vᵀ (row i: user i against every item of the
 * batch, then cols − n extra items, e.g. uniformly sampled ones; column i is its positive).
 * z_ij = S_ij/τ − logq[j] (logq = 0: no correction), where logq[j] is the log of item j's
 * sampling probability — subtracting it removes the popularity bias of in-batch negatives (Yi et
 * al., 2019). Columns j ≠ i whose item id equals item i's (ids = 0: no check; ids has cols
 * entries) are accidental hits and are masked out. For rows i in [row0, row0 + rows) it writes
 * row i's loss logsumexp_j z_ij − z_ii to losses[i] (f64; the batch loss is their mean, summed by
 * the caller in row order) and dS = (softmax(z) − onehot)/(n·τ) (masked entries 0; dS may alias
 * S). Rows are independent: threads may take row ranges of one batch.
 */
export function softmax_xent(dS: usize, S: usize, logq: usize, ids: usize, losses: usize, n: i32, cols: i32, row0: i32,
                             rows: i32, temperature: f32): void {
  const invT: f32 = <f32>1 / temperature;
  const scale: f32 = invT / <f32>n;
  const cols4 = cols & ~3;
  const vInvT = f32x4.splat(invT), vScale = f32x4.splat(scale), lanes = i32x4(0, 1, 2, 3), minusInf = f32x4.splat(-Infinity);
  for (let i = row0; i < row0 + rows; i++) {
    const row = at(S, i * cols), drow = at(dS, i * cols);
    const own = ids != 0 ? load<i32>(at(ids, i)) : -1;
    const zi = load<f32>(at(row, i)) * invT - (logq != 0 ? load<f32>(at(logq, i)) : 0);
    // Pass 1: the logits z (masked ones −∞) into drow, and their maximum. Four lanes at a time;
    // pmax keeps the running maximum where z is NaN, as the scalar z > m did.
    const vOwn = i32x4.splat(own), vi = i32x4.splat(i);
    let vm = minusInf;
    let j = 0;
    for (; j < cols4; j += 4) {
      let z = f32x4.mul(v128.load(at(row, j)), vInvT);
      if (logq != 0) z = f32x4.sub(z, v128.load(at(logq, j)));
      if (ids != 0) {
        const same = i32x4.eq(v128.load(at(ids, j)), vOwn);
        const self = i32x4.eq(i32x4.add(lanes, i32x4.splat(j)), vi);
        z = v128.bitselect(minusInf, z, v128.andnot(same, self));
      }
      v128.store(at(drow, j), z);
      vm = f32x4.pmax(vm, z);
    }
    const vm2 = f32x4.pmax(vm, v128.shuffle<f32>(vm, vm, 1, 0, 3, 2));
    let m: f32 = f32x4.extract_lane(f32x4.pmax(vm2, v128.shuffle<f32>(vm2, vm2, 2, 3, 0, 1)), 0);
    for (; j < cols; j++) {
      const masked = ids != 0 && j != i && load<i32>(at(ids, j)) == own;
      const z: f32 = masked ? -Infinity : load<f32>(at(row, j)) * invT - (logq != 0 ? load<f32>(at(logq, j)) : 0);
      store<f32>(at(drow, j), z);
      if (z > m) m = z;
    }
    // Pass 2: e^(z − m) (exp.ts; 0 for masked logits) and their sum.
    const vMax = f32x4.splat(m);
    let vsum = f32x4.splat(0);
    j = 0;
    for (; j < cols4; j += 4) {
      const e = expFlushed4(f32x4.sub(v128.load(at(drow, j)), vMax));
      v128.store(at(drow, j), e);
      vsum = f32x4.add(vsum, e);
    }
    let sum: f32 = hsum(vsum);
    for (; j < cols; j++) {
      const e = f32x4.extract_lane(expFlushed4(f32x4.splat(load<f32>(at(drow, j)) - m)), 0);
      store<f32>(at(drow, j), e);
      sum += e;
    }
    store<f64>(losses + (<usize>i << 3), <f64>(m + Mathf.log(sum) - zi));
    const ei = load<f32>(at(drow, i));
    // Pass 3: (softmax − onehot)·scale.
    const inv: f32 = 1 / sum;
    const vInv = f32x4.splat(inv);
    j = 0;
    for (; j < cols4; j += 4) v128.store(at(drow, j), f32x4.mul(f32x4.mul(v128.load(at(drow, j)), vInv), vScale));
    for (; j < cols; j++) store<f32>(at(drow, j), load<f32>(at(drow, j)) * inv * scale);
    store<f32>(at(drow, i), (ei * inv - 1) * scale);
  }
}

/**
 * Row-wise L2 normalisation of X[n×d]: norms[r] = max(‖X[r]‖, 1e-12), Y[r] = X[r]/norms[r]
 * (Y may alias X). The cosine losses read Y; l2_normalize_backward needs Y and norms.
 */
export function l2_normalize_rows(y: usize, norms: usize, x: usize, n: i32, d: i32): void {
  for (let r = 0; r < n; r++) {
    const o = r * d;
    let ss: f32 = 0;
    for (let c = 0; c < d; c++) {
      const v = load<f32>(at(x, o + c));
      ss += v * v;
    }
    const norm: f32 = max(Mathf.sqrt(ss), <f32>1e-12);
    store<f32>(at(norms, r), norm);
    const inv: f32 = 1 / norm;
    for (let c = 0; c < d; c++) store<f32>(at(y, o + c), load<f32>(at(x, o + c)) * inv);
  }
}

/** Through y = x/‖x‖: dX[r] = (dY[r] − Y[r]·⟨Y[r], dY[r]⟩)/norms[r]. dX may alias dY. */
export function l2_normalize_backward(dx: usize, dy: usize, y: usize, norms: usize, n: i32, d: i32): void {
  for (let r = 0; r < n; r++) {
    const o = r * d;
    let dot: f32 = 0;
    for (let c = 0; c < d; c++) dot += load<f32>(at(y, o + c)) * load<f32>(at(dy, o + c));
    const inv: f32 = 1 / load<f32>(at(norms, r));
    for (let c = 0; c < d; c++)
      store<f32>(at(dx, o + c), (load<f32>(at(dy, o + c)) - load<f32>(at(y, o + c)) * dot) * inv);
  }
}

/**
 * SimpleX's cosine contrastive loss (Mao et al., CIKM 2021) over cosines S[n×cols] (row i: user i
 * against every item of the batch, then cols − n extra items; column i is its positive): row i's
 * loss is (1 − S_ii) + (w/|N_i|)·Σ_{j∈N_i} max(0, S_ij − margin), N_i the columns j ≥ from, j ≠ i
 * (from = 0: in-batch and extra items; from = n: the extra ones only), less those whose item id equals item i's (ids = 0: no check; ids has cols entries). For rows i in
 * [row0, row0 + rows) it writes the loss to losses[i] (f64) and dS = dL_i/dS/n (the batch loss is
 * the rows' mean; dS may alias S). Rows are independent: threads may take row ranges.
 */
export function ccl_loss(dS: usize, S: usize, ids: usize, losses: usize, n: i32, cols: i32, from: i32, row0: i32, rows: i32,
                         margin: f32, weight: f32): void {
  const invN: f32 = <f32>1 / <f32>n;
  for (let i = row0; i < row0 + rows; i++) {
    const row = at(S, i * cols), drow = at(dS, i * cols);
    const own = ids != 0 ? load<i32>(at(ids, i)) : -1;
    let count = 0;
    for (let j = from; j < cols; j++) if (j != i && !(ids != 0 && load<i32>(at(ids, j)) == own)) count++;
    const scale: f32 = count > 0 ? weight / <f32>count : 0;
    let hinge: f64 = 0;
    const pos = load<f32>(at(row, i));
    for (let j = 0; j < cols; j++) {
      const s = load<f32>(at(row, j));
      let g: f32 = 0;
      if (j == i) g = -invN;
      else if (j >= from && !(ids != 0 && load<i32>(at(ids, j)) == own) && s > margin) {
        hinge += <f64>(s - margin);
        g = scale * invN;
      }
      store<f32>(at(drow, j), g);
    }
    store<f64>(losses + (<usize>i << 3), <f64>(1 - pos) + <f64>scale * hinge);
  }
}
