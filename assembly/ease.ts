// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): the item-item
// weights B = I − P·diag(1/diag(P)), B_ii = 0, with P = (XᵀX + λI)⁻¹ for the users × items
// interaction matrix X. Three kernels: the Gram matrix XᵀX from CSR user rows, the in-place
// inverse of a symmetric positive-definite matrix (Cholesky, triangular inverse, LᵀL product:
// LAPACK's potrf / trtri / lauum, each in a row-oriented form so that every inner loop runs over
// contiguous memory), and P → B. All matrices are m×m f32, row-major. Dot products run in lanes
// of four from column 0 with a scalar tail; row-block loops treat four rows at once, sharing each
// load of the row they read (results agree with the f64 twins within f32 rounding).

import { at, madd, hsum, dotTail } from "./simd";

/**
 * G[a·m + b] += x_a·x_b for every ordered pair (a, b) of entries of each of the n CSR rows
 * (row u: entries [offsets[u], offsets[u+1]) of `ids`, item indices in [0, m), and of `weights`,
 * f32, or 1 each when weights = 0). Accumulates into G (m×m); a pair of the same entry adds x_a²
 * to the diagonal. A row that lists an item twice adds its pairs twice: give each item once.
 */
export function ease_gram(G: usize, offsets: usize, ids: usize, weights: usize, n: i32, m: i32): void {
  for (let u = 0; u < n; u++) {
    const lo = load<i32>(at(offsets, u)),
      hi = load<i32>(at(offsets, u + 1));
    for (let p = lo; p < hi; p++) {
      const a = load<i32>(at(ids, p));
      const wa: f32 = weights != 0 ? load<f32>(at(weights, p)) : 1;
      const row = at(G, a * m);
      for (let q = lo; q < hi; q++) {
        const b = load<i32>(at(ids, q));
        const wb: f32 = weights != 0 ? load<f32>(at(weights, q)) : 1;
        store<f32>(at(row, b), load<f32>(at(row, b)) + wa * wb);
      }
    }
  }
}

/** Σ x[e]·y[e] for e in [0, len): lanes of four, then the tail. */
@inline function dot(x: usize, y: usize, len: i32): f32 {
  const n4 = len & ~3;
  let acc = f32x4.splat(0);
  for (let e = 0; e < n4; e += 4) acc = madd(v128.load(at(x, e)), v128.load(at(y, e)), acc);
  return hsum(acc) + dotTail(x, y, n4, len);
}

/** y[e] += c·x[e] for e in [0, len). */
@inline function axpy(y: usize, c: f32, x: usize, len: i32): void {
  const n4 = len & ~3;
  const cv = f32x4.splat(c);
  for (let e = 0; e < n4; e += 4) v128.store(at(y, e), madd(cv, v128.load(at(x, e)), v128.load(at(y, e))));
  for (let e = n4; e < len; e++) store<f32>(at(y, e), load<f32>(at(y, e)) + c * load<f32>(at(x, e)));
}

/**
 * Inverts S = A + shift·I in place, A (n×n, row-major) symmetric positive definite once shifted;
 * only A's lower triangle (with the diagonal) is read, and all of A is written: A ← S⁻¹ (full,
 * symmetric). Returns 0, or i + 1 when the i-th pivot of the Cholesky factorisation is not
 * positive (S is not positive definite; A then holds partial results). About n³/2
 * multiply-adds: L Lᵀ = S (n³/6), L ← L⁻¹ (n³/6), A ← L⁻ᵀL⁻¹ (n³/6), each in place.
 */
export function spd_inverse(A: usize, n: i32, shift: f64): i32 {
  const ld = n;
  if (shift != 0) for (let i = 0; i < n; i++) store<f32>(at(A, i * ld + i), load<f32>(at(A, i * ld + i)) + <f32>shift);
  // 1. Cholesky, row by row: L_ij = (S_ij − L_i[0:j]·L_j[0:j]) / L_jj; four rows share each L_j.
  for (let i0 = 0; i0 < n; i0 += 4) {
    const rows = min(4, n - i0);
    if (rows == 4) {
      const r0 = at(A, i0 * ld),
        r1 = at(A, (i0 + 1) * ld),
        r2 = at(A, (i0 + 2) * ld),
        r3 = at(A, (i0 + 3) * ld);
      for (let j = 0; j < i0; j++) {
        const rj = at(A, j * ld);
        const j4 = j & ~3;
        let a0 = f32x4.splat(0),
          a1 = f32x4.splat(0),
          a2 = f32x4.splat(0),
          a3 = f32x4.splat(0);
        for (let e = 0; e < j4; e += 4) {
          const v = v128.load(at(rj, e));
          a0 = madd(v128.load(at(r0, e)), v, a0);
          a1 = madd(v128.load(at(r1, e)), v, a1);
          a2 = madd(v128.load(at(r2, e)), v, a2);
          a3 = madd(v128.load(at(r3, e)), v, a3);
        }
        const d = load<f32>(at(rj, j));
        store<f32>(at(r0, j), (load<f32>(at(r0, j)) - (hsum(a0) + dotTail(r0, rj, j4, j))) / d);
        store<f32>(at(r1, j), (load<f32>(at(r1, j)) - (hsum(a1) + dotTail(r1, rj, j4, j))) / d);
        store<f32>(at(r2, j), (load<f32>(at(r2, j)) - (hsum(a2) + dotTail(r2, rj, j4, j))) / d);
        store<f32>(at(r3, j), (load<f32>(at(r3, j)) - (hsum(a3) + dotTail(r3, rj, j4, j))) / d);
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const ri = at(A, (i0 + r) * ld);
        for (let j = 0; j < i0; j++) {
          const rj = at(A, j * ld);
          store<f32>(at(ri, j), (load<f32>(at(ri, j)) - dot(ri, rj, j)) / load<f32>(at(rj, j)));
        }
      }
    }
    for (let i = i0; i < i0 + rows; i++) {
      const ri = at(A, i * ld);
      for (let j = i0; j < i; j++) {
        const rj = at(A, j * ld);
        store<f32>(at(ri, j), (load<f32>(at(ri, j)) - dot(ri, rj, j)) / load<f32>(at(rj, j)));
      }
      const d = load<f32>(at(ri, i)) - dot(ri, ri, i);
      if (!(d > 0)) return i + 1;
      store<f32>(at(ri, i), sqrt<f32>(d));
    }
  }
  // 2. X = L⁻¹ in place, row by row: X_i· = −(1/L_ii) Σ_{k<i} L_ik X_k·. Row i accumulates in
  //    place: at step k its entry k (L_ik, not yet overwritten) is read and becomes the
  //    accumulator of column k; entries beyond k still hold L_i·. Four rows share each X_k.
  for (let i0 = 0; i0 < n; i0 += 4) {
    const rows = min(4, n - i0);
    if (rows == 4) {
      const r0 = at(A, i0 * ld),
        r1 = at(A, (i0 + 1) * ld),
        r2 = at(A, (i0 + 2) * ld),
        r3 = at(A, (i0 + 3) * ld);
      for (let k = 0; k < i0; k++) {
        const rk = at(A, k * ld);
        const c0 = f32x4.splat(load<f32>(at(r0, k))),
          c1 = f32x4.splat(load<f32>(at(r1, k))),
          c2 = f32x4.splat(load<f32>(at(r2, k))),
          c3 = f32x4.splat(load<f32>(at(r3, k)));
        store<f32>(at(r0, k), 0);
        store<f32>(at(r1, k), 0);
        store<f32>(at(r2, k), 0);
        store<f32>(at(r3, k), 0);
        const len = k + 1;
        const n4 = len & ~3;
        for (let e = 0; e < n4; e += 4) {
          const x = v128.load(at(rk, e));
          v128.store(at(r0, e), madd(c0, x, v128.load(at(r0, e))));
          v128.store(at(r1, e), madd(c1, x, v128.load(at(r1, e))));
          v128.store(at(r2, e), madd(c2, x, v128.load(at(r2, e))));
          v128.store(at(r3, e), madd(c3, x, v128.load(at(r3, e))));
        }
        for (let e = n4; e < len; e++) {
          const x = load<f32>(at(rk, e));
          store<f32>(at(r0, e), load<f32>(at(r0, e)) + f32x4.extract_lane(c0, 0) * x);
          store<f32>(at(r1, e), load<f32>(at(r1, e)) + f32x4.extract_lane(c1, 0) * x);
          store<f32>(at(r2, e), load<f32>(at(r2, e)) + f32x4.extract_lane(c2, 0) * x);
          store<f32>(at(r3, e), load<f32>(at(r3, e)) + f32x4.extract_lane(c3, 0) * x);
        }
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const ri = at(A, (i0 + r) * ld);
        for (let k = 0; k < i0; k++) {
          const c = load<f32>(at(ri, k));
          store<f32>(at(ri, k), 0);
          axpy(ri, c, at(A, k * ld), k + 1);
        }
      }
    }
    for (let i = i0; i < i0 + rows; i++) {
      const ri = at(A, i * ld);
      for (let k = i0; k < i; k++) {
        const c = load<f32>(at(ri, k));
        store<f32>(at(ri, k), 0);
        axpy(ri, c, at(A, k * ld), k + 1);
      }
      const inv = <f32>1 / load<f32>(at(ri, i));
      const minus = f32x4.splat(-inv);
      const i4 = i & ~3;
      for (let e = 0; e < i4; e += 4) v128.store(at(ri, e), f32x4.mul(v128.load(at(ri, e)), minus));
      for (let e = i4; e < i; e++) store<f32>(at(ri, e), load<f32>(at(ri, e)) * -inv);
      store<f32>(at(ri, i), inv);
    }
  }
  // 3. P = XᵀX in the lower triangle, row by row in increasing order:
  //    P_a[0..a] = Σ_{k ≥ a} X_ka · X_k[0..a]. Rows k > a still hold X when row a is written.
  //    In a block of four rows, the terms of the block's own rows come first (in increasing row
  //    order, before those rows change); the rows below the block are then shared by all four.
  for (let a0 = 0; a0 < n; a0 += 4) {
    const rows = min(4, n - a0);
    for (let a = a0; a < a0 + rows; a++) {
      const ra = at(A, a * ld);
      const s = load<f32>(at(ra, a));
      const sv = f32x4.splat(s);
      const len = a + 1;
      const n4 = len & ~3;
      for (let e = 0; e < n4; e += 4) v128.store(at(ra, e), f32x4.mul(v128.load(at(ra, e)), sv));
      for (let e = n4; e < len; e++) store<f32>(at(ra, e), load<f32>(at(ra, e)) * s);
      for (let k = a + 1; k < a0 + rows; k++) {
        const rk = at(A, k * ld);
        axpy(ra, load<f32>(at(rk, a)), rk, len);
      }
    }
    if (rows == 4) {
      const r0 = at(A, a0 * ld),
        r1 = at(A, (a0 + 1) * ld),
        r2 = at(A, (a0 + 2) * ld),
        r3 = at(A, (a0 + 3) * ld);
      const n4 = a0; // a multiple of four: columns [0, a0) in lanes, [a0, a_r] per row below
      for (let k = a0 + 4; k < n; k++) {
        const rk = at(A, k * ld);
        const x0 = load<f32>(at(rk, a0)),
          x1 = load<f32>(at(rk, a0 + 1)),
          x2 = load<f32>(at(rk, a0 + 2)),
          x3 = load<f32>(at(rk, a0 + 3));
        const c0 = f32x4.splat(x0),
          c1 = f32x4.splat(x1),
          c2 = f32x4.splat(x2),
          c3 = f32x4.splat(x3);
        for (let e = 0; e < n4; e += 4) {
          const x = v128.load(at(rk, e));
          v128.store(at(r0, e), madd(c0, x, v128.load(at(r0, e))));
          v128.store(at(r1, e), madd(c1, x, v128.load(at(r1, e))));
          v128.store(at(r2, e), madd(c2, x, v128.load(at(r2, e))));
          v128.store(at(r3, e), madd(c3, x, v128.load(at(r3, e))));
        }
        for (let e = a0; e <= a0 + 3; e++) {
          const x = load<f32>(at(rk, e));
          if (e <= a0) store<f32>(at(r0, e), load<f32>(at(r0, e)) + x0 * x);
          if (e <= a0 + 1) store<f32>(at(r1, e), load<f32>(at(r1, e)) + x1 * x);
          if (e <= a0 + 2) store<f32>(at(r2, e), load<f32>(at(r2, e)) + x2 * x);
          store<f32>(at(r3, e), load<f32>(at(r3, e)) + x3 * x);
        }
      }
    } else {
      for (let a = a0; a < a0 + rows; a++) {
        const ra = at(A, a * ld);
        for (let k = a0 + rows; k < n; k++) {
          const rk = at(A, k * ld);
          axpy(ra, load<f32>(at(rk, a)), rk, a + 1);
        }
      }
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) store<f32>(at(A, b * ld + a), load<f32>(at(A, a * ld + b)));
  return 0;
}

/**
 * EASE's weights from P = (XᵀX + λI)⁻¹ (m×m, symmetric), in place: B_ij = −P_ij / P_jj for
 * i ≠ j, B_ii = 0. Row j of B is then what item j adds to a user's scores: score(u, i) =
 * Σ_{j ∈ items of u} B_ji.
 */
export function ease_weights(P: usize, m: i32): void {
  for (let i = 0; i < m; i++) {
    const ri = at(P, i * m);
    for (let j = 0; j < m; j++) if (j != i) store<f32>(at(ri, j), -load<f32>(at(ri, j)) / load<f32>(at(P, j * m + j)));
  }
  for (let i = 0; i < m; i++) store<f32>(at(P, i * m + i), 0);
}

/**
 * The denoising linear autoencoder's weights (DLAE, Steck 2020, "Autoencoders that don't overfit
 * towards the Identity") from P = (XᵀX + diag(Λ))⁻¹ (m×m, symmetric) and the per-item penalty
 * Λ (m floats), in place: B = I − P·diag(Λ), i.e. B_ij = δ_ij − P_ij·Λ_j, which is
 * (XᵀX + diag(Λ))⁻¹·XᵀX. Unlike EASE the diagonal is kept: the dropout-shaped penalty
 * Λ_j = λ + p/(1−p)·(XᵀX)_jj already keeps B from the identity. Row j of B is what item j adds to
 * a user's scores.
 */
export function dlae_weights(P: usize, penalty: usize, m: i32): void {
  for (let i = 0; i < m; i++) {
    const ri = at(P, i * m);
    for (let j = 0; j < m; j++) {
      const b = -load<f32>(at(ri, j)) * load<f32>(at(penalty, j));
      store<f32>(at(ri, j), i == j ? 1 + b : b);
    }
  }
}
