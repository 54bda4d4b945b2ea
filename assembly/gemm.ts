// Blocked f32 matrix products shared by the dense layer and scoring. Two shapes cover every
// product the forward and backward passes need, each with its own register blocking (a generic
// GEMM that transposes on the fly is what makes TensorFlow.js's backward pass slow):
//
//   gemm_nn: C[rows×n] (=|+=) op(A)[rows×inner] · B[inner×n]  (+ bias[n])
//            op(A)(r, t) = A[r·aRow + t·aInner], so the same loop serves X·W (aRow = k, aInner = 1)
//            and Xᵀ·dY (aRow = 1, aInner = k). Blocking: 4 rows × 8 columns = 8 accumulators.
//   gemm_nt: C[m×r] = A[m×n] · B[r×n]ᵀ, rows of A dotted with rows of B (dY·Wᵀ, queries·itemsᵀ).
//            Blocking: 2 rows of A × 4 rows of B, each loaded vector used twice or four times.
//
// All matrices are row-major f32; pointers are byte addresses; C never aliases A or B.

import { madd, hsum, at, dotTail } from "./simd";

@inline function initAcc(c: usize, bias: usize, accumulate: bool, j: i32): v128 {
  if (accumulate) return v128.load(at(c, j));
  if (bias != 0) return v128.load(at(bias, j));
  return f32x4.splat(0);
}

@inline function initScalar(c: usize, bias: usize, accumulate: bool, j: i32): f32 {
  if (accumulate) return load<f32>(at(c, j));
  if (bias != 0) return load<f32>(at(bias, j));
  return 0;
}

/** Four output rows starting at row `r`. */
function nnRows4(c: usize, a: usize, b: usize, bias: usize, r: i32, inner: i32, n: i32,
                 aRow: i32, aInner: i32, accumulate: bool): void {
  const a0 = a + (<usize>(r * aRow) << 2);
  const a1 = a0 + (<usize>aRow << 2);
  const a2 = a1 + (<usize>aRow << 2);
  const a3 = a2 + (<usize>aRow << 2);
  const c0 = c + (<usize>(r * n) << 2);
  const c1 = c0 + (<usize>n << 2);
  const c2 = c1 + (<usize>n << 2);
  const c3 = c2 + (<usize>n << 2);
  const aStep = <usize>aInner << 2;
  const bStep = <usize>n << 2;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    let s00 = initAcc(c0, bias, accumulate, j), s01 = initAcc(c0, bias, accumulate, j + 4);
    let s10 = initAcc(c1, bias, accumulate, j), s11 = initAcc(c1, bias, accumulate, j + 4);
    let s20 = initAcc(c2, bias, accumulate, j), s21 = initAcc(c2, bias, accumulate, j + 4);
    let s30 = initAcc(c3, bias, accumulate, j), s31 = initAcc(c3, bias, accumulate, j + 4);
    let bp = at(b, j);
    let off: usize = 0;
    for (let t = 0; t < inner; t++) {
      const b0 = v128.load(bp);
      const b1 = v128.load(bp, 16);
      const x0 = v128.load32_splat(a0 + off);
      const x1 = v128.load32_splat(a1 + off);
      const x2 = v128.load32_splat(a2 + off);
      const x3 = v128.load32_splat(a3 + off);
      s00 = madd(x0, b0, s00); s01 = madd(x0, b1, s01);
      s10 = madd(x1, b0, s10); s11 = madd(x1, b1, s11);
      s20 = madd(x2, b0, s20); s21 = madd(x2, b1, s21);
      s30 = madd(x3, b0, s30); s31 = madd(x3, b1, s31);
      bp += bStep;
      off += aStep;
    }
    v128.store(at(c0, j), s00); v128.store(at(c0, j + 4), s01);
    v128.store(at(c1, j), s10); v128.store(at(c1, j + 4), s11);
    v128.store(at(c2, j), s20); v128.store(at(c2, j + 4), s21);
    v128.store(at(c3, j), s30); v128.store(at(c3, j + 4), s31);
  }
  for (; j + 4 <= n; j += 4) {
    let s0 = initAcc(c0, bias, accumulate, j), s1 = initAcc(c1, bias, accumulate, j);
    let s2 = initAcc(c2, bias, accumulate, j), s3 = initAcc(c3, bias, accumulate, j);
    let bp = at(b, j);
    let off: usize = 0;
    for (let t = 0; t < inner; t++) {
      const b0 = v128.load(bp);
      s0 = madd(v128.load32_splat(a0 + off), b0, s0);
      s1 = madd(v128.load32_splat(a1 + off), b0, s1);
      s2 = madd(v128.load32_splat(a2 + off), b0, s2);
      s3 = madd(v128.load32_splat(a3 + off), b0, s3);
      bp += bStep;
      off += aStep;
    }
    v128.store(at(c0, j), s0); v128.store(at(c1, j), s1);
    v128.store(at(c2, j), s2); v128.store(at(c3, j), s3);
  }
  for (; j < n; j++) {
    let s0 = initScalar(c0, bias, accumulate, j), s1 = initScalar(c1, bias, accumulate, j);
    let s2 = initScalar(c2, bias, accumulate, j), s3 = initScalar(c3, bias, accumulate, j);
    let bp = at(b, j);
    let off: usize = 0;
    for (let t = 0; t < inner; t++) {
      const bv = load<f32>(bp);
      s0 += load<f32>(a0 + off) * bv;
      s1 += load<f32>(a1 + off) * bv;
      s2 += load<f32>(a2 + off) * bv;
      s3 += load<f32>(a3 + off) * bv;
      bp += bStep;
      off += aStep;
    }
    store<f32>(at(c0, j), s0); store<f32>(at(c1, j), s1);
    store<f32>(at(c2, j), s2); store<f32>(at(c3, j), s3);
  }
}

/** One output row `r`. */
function nnRows1(c: usize, a: usize, b: usize, bias: usize, r: i32, inner: i32, n: i32,
                 aRow: i32, aInner: i32, accumulate: bool): void {
  const a0 = a + (<usize>(r * aRow) << 2);
  const c0 = c + (<usize>(r * n) << 2);
  const aStep = <usize>aInner << 2;
  const bStep = <usize>n << 2;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    let s0 = initAcc(c0, bias, accumulate, j), s1 = initAcc(c0, bias, accumulate, j + 4);
    let bp = at(b, j);
    let off: usize = 0;
    for (let t = 0; t < inner; t++) {
      const x0 = v128.load32_splat(a0 + off);
      s0 = madd(x0, v128.load(bp), s0);
      s1 = madd(x0, v128.load(bp, 16), s1);
      bp += bStep;
      off += aStep;
    }
    v128.store(at(c0, j), s0); v128.store(at(c0, j + 4), s1);
  }
  for (; j + 4 <= n; j += 4) {
    let s0 = initAcc(c0, bias, accumulate, j);
    let bp = at(b, j);
    let off: usize = 0;
    for (let t = 0; t < inner; t++) {
      s0 = madd(v128.load32_splat(a0 + off), v128.load(bp), s0);
      bp += bStep;
      off += aStep;
    }
    v128.store(at(c0, j), s0);
  }
  for (; j < n; j++) {
    let s0 = initScalar(c0, bias, accumulate, j);
    let bp = at(b, j);
    let off: usize = 0;
    for (let t = 0; t < inner; t++) {
      s0 += load<f32>(a0 + off) * load<f32>(bp);
      bp += bStep;
      off += aStep;
    }
    store<f32>(at(c0, j), s0);
  }
}

/**
 * C[rows×n] = op(A)[rows×inner]·B[inner×n] (+ bias[n] when bias ≠ 0), or C += op(A)·B when
 * `accumulate`. op(A)(r, t) = A[r·aRow + t·aInner] (element strides).
 */
export function gemm_nn(c: usize, a: usize, b: usize, bias: usize, rows: i32, inner: i32, n: i32,
                        aRow: i32, aInner: i32, accumulate: bool): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) nnRows4(c, a, b, bias, r, inner, n, aRow, aInner, accumulate);
  for (; r < rows; r++) nnRows1(c, a, b, bias, r, inner, n, aRow, aInner, accumulate);
}

/**
 * C[m×r] = A[m×n]·B[r×n]ᵀ, or C += A·Bᵀ when `accumulate`. C has row stride `ldc` elements
 * (≥ r), so a caller can fill a block of columns of a wider matrix.
 */
export function gemm_nt(c: usize, a: usize, b: usize, m: i32, r: i32, n: i32, ldc: i32,
                        accumulate: bool): void {
  const n4 = n & ~3;
  const rowBytes = <usize>n << 2;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const x0 = a + <usize>i * rowBytes;
    const x1 = x0 + rowBytes;
    const c0 = c + (<usize>(i * ldc) << 2);
    const c1 = c0 + (<usize>ldc << 2);
    let q = 0;
    for (; q + 4 <= r; q += 4) {
      const y0 = b + <usize>q * rowBytes;
      const y1 = y0 + rowBytes;
      const y2 = y1 + rowBytes;
      const y3 = y2 + rowBytes;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
      for (let j = 0; j < n4; j += 4) {
        const o = <usize>j << 2;
        const u0 = v128.load(x0 + o), u1 = v128.load(x1 + o);
        const v0 = v128.load(y0 + o), v1 = v128.load(y1 + o);
        const v2 = v128.load(y2 + o), v3 = v128.load(y3 + o);
        s00 = madd(u0, v0, s00); s01 = madd(u0, v1, s01); s02 = madd(u0, v2, s02); s03 = madd(u0, v3, s03);
        s10 = madd(u1, v0, s10); s11 = madd(u1, v1, s11); s12 = madd(u1, v2, s12); s13 = madd(u1, v3, s13);
      }
      let r00 = hsum(s00) + dotTail(x0, y0, n4, n), r01 = hsum(s01) + dotTail(x0, y1, n4, n);
      let r02 = hsum(s02) + dotTail(x0, y2, n4, n), r03 = hsum(s03) + dotTail(x0, y3, n4, n);
      let r10 = hsum(s10) + dotTail(x1, y0, n4, n), r11 = hsum(s11) + dotTail(x1, y1, n4, n);
      let r12 = hsum(s12) + dotTail(x1, y2, n4, n), r13 = hsum(s13) + dotTail(x1, y3, n4, n);
      if (accumulate) {
        r00 += load<f32>(at(c0, q)); r01 += load<f32>(at(c0, q + 1));
        r02 += load<f32>(at(c0, q + 2)); r03 += load<f32>(at(c0, q + 3));
        r10 += load<f32>(at(c1, q)); r11 += load<f32>(at(c1, q + 1));
        r12 += load<f32>(at(c1, q + 2)); r13 += load<f32>(at(c1, q + 3));
      }
      store<f32>(at(c0, q), r00); store<f32>(at(c0, q + 1), r01);
      store<f32>(at(c0, q + 2), r02); store<f32>(at(c0, q + 3), r03);
      store<f32>(at(c1, q), r10); store<f32>(at(c1, q + 1), r11);
      store<f32>(at(c1, q + 2), r12); store<f32>(at(c1, q + 3), r13);
    }
    for (; q < r; q++) {
      const y0 = b + <usize>q * rowBytes;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
      for (let j = 0; j < n4; j += 4) {
        const o = <usize>j << 2;
        const v0 = v128.load(y0 + o);
        s0 = madd(v128.load(x0 + o), v0, s0);
        s1 = madd(v128.load(x1 + o), v0, s1);
      }
      let r0 = hsum(s0) + dotTail(x0, y0, n4, n), r1 = hsum(s1) + dotTail(x1, y0, n4, n);
      if (accumulate) { r0 += load<f32>(at(c0, q)); r1 += load<f32>(at(c1, q)); }
      store<f32>(at(c0, q), r0); store<f32>(at(c1, q), r1);
    }
  }
  for (; i < m; i++) {
    const x0 = a + <usize>i * rowBytes;
    const c0 = c + (<usize>(i * ldc) << 2);
    let q = 0;
    for (; q + 4 <= r; q += 4) {
      const y0 = b + <usize>q * rowBytes;
      const y1 = y0 + rowBytes;
      const y2 = y1 + rowBytes;
      const y3 = y2 + rowBytes;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let j = 0; j < n4; j += 4) {
        const o = <usize>j << 2;
        const u0 = v128.load(x0 + o);
        s0 = madd(u0, v128.load(y0 + o), s0); s1 = madd(u0, v128.load(y1 + o), s1);
        s2 = madd(u0, v128.load(y2 + o), s2); s3 = madd(u0, v128.load(y3 + o), s3);
      }
      let r0 = hsum(s0) + dotTail(x0, y0, n4, n), r1 = hsum(s1) + dotTail(x0, y1, n4, n);
      let r2 = hsum(s2) + dotTail(x0, y2, n4, n), r3 = hsum(s3) + dotTail(x0, y3, n4, n);
      if (accumulate) {
        r0 += load<f32>(at(c0, q)); r1 += load<f32>(at(c0, q + 1));
        r2 += load<f32>(at(c0, q + 2)); r3 += load<f32>(at(c0, q + 3));
      }
      store<f32>(at(c0, q), r0); store<f32>(at(c0, q + 1), r1);
      store<f32>(at(c0, q + 2), r2); store<f32>(at(c0, q + 3), r3);
    }
    for (; q < r; q++) {
      const y0 = b + <usize>q * rowBytes;
      let s0 = f32x4.splat(0);
      for (let j = 0; j < n4; j += 4) {
        const o = <usize>j << 2;
        s0 = madd(v128.load(x0 + o), v128.load(y0 + o), s0);
      }
      let r0 = hsum(s0) + dotTail(x0, y0, n4, n);
      if (accumulate) r0 += load<f32>(at(c0, q));
      store<f32>(at(c0, q), r0);
    }
  }
}
