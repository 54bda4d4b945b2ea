// Dense layer Y = X·W + b and its backward pass. Shapes: X[m×k], W[k×n], b[n], Y[m×n], all
// row-major f32. Outputs never alias inputs. Each GEMM variant has its own blocked loop (gemm.ts).

import { gemm_nn, gemm_nt } from "./gemm";
import { at } from "./simd";

/** Y[m×n] = X[m×k]·W[k×n] + b[n]; pass b = 0 for no bias. */
export function dense_forward(y: usize, x: usize, w: usize, b: usize, m: i32, k: i32, n: i32): void {
  gemm_nn(y, x, w, b, m, k, n, k, 1, false);
}

/** dX[m×k] = dY[m×n]·Wᵀ (W is [k×n]). */
export function dense_backward_input(dx: usize, dy: usize, w: usize, m: i32, k: i32, n: i32): void {
  gemm_nt(dx, dy, w, m, k, n, k, false);
}

/**
 * dW[k×n] = Xᵀ·dY, or dW += Xᵀ·dY when `accumulate` (X is [m×k] with row stride ldx ≥ k, dY is
 * [m×n]). Rows of dW are independent: a thread may take rows [p0, p1) (dw + p0·n, x + p0,
 * k = p1 − p0, the same ldx).
 */
export function dense_backward_weight(dw: usize, x: usize, dy: usize, m: i32, k: i32, n: i32, ldx: i32,
                                      accumulate: bool): void {
  gemm_nn(dw, x, dy, 0, k, m, n, 1, ldx, accumulate);
}

/** db[n] = Σ_rows dY[m×n], or db += that sum when `accumulate`. */
export function bias_backward(db: usize, dy: usize, m: i32, n: i32, accumulate: bool): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    let s = accumulate ? v128.load(at(db, j)) : f32x4.splat(0);
    let p = at(dy, j);
    const step = <usize>n << 2;
    for (let i = 0; i < m; i++) { s = f32x4.add(s, v128.load(p)); p += step; }
    v128.store(at(db, j), s);
  }
  for (; j < n; j++) {
    let s: f32 = accumulate ? load<f32>(at(db, j)) : 0;
    for (let i = 0; i < m; i++) s += load<f32>(at(dy, i * n + j));
    store<f32>(at(db, j), s);
  }
}
