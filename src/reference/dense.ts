// Reference twins of assembly/dense.ts and assembly/score.ts: the plain loops the kernels must
// agree with. Same argument order and shapes; arrays instead of pointers. Arithmetic happens in
// f64 (JavaScript numbers) and is stored in the arrays' own precision.
import type { Floats } from '../backend/contract.js';

export function denseForward(y: Floats, x: Floats, w: Floats, b: Floats | null, m: number, k: number, n: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = b ? b[j]! : 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * w[p * n + j]!;
      y[i * n + j] = s;
    }
  }
}

export function denseBackwardInput(dx: Floats, dy: Floats, w: Floats, m: number, k: number, n: number): void {
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += dy[i * n + j]! * w[p * n + j]!;
      dx[i * k + p] = s;
    }
  }
}

export function denseBackwardWeight(
  dw: Floats,
  x: Floats,
  dy: Floats,
  m: number,
  k: number,
  n: number,
  ldx: number,
  accumulate: boolean,
): void {
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? dw[p * n + j]! : 0;
      for (let i = 0; i < m; i++) s += x[i * ldx + p]! * dy[i * n + j]!;
      dw[p * n + j] = s;
    }
  }
}

export function biasBackward(db: Floats, dy: Floats, m: number, n: number, accumulate: boolean): void {
  for (let j = 0; j < n; j++) {
    let s = accumulate ? db[j]! : 0;
    for (let i = 0; i < m; i++) s += dy[i * n + j]!;
    db[j] = s;
  }
}

export function scoreMatrix(s: Floats, q: Floats, items: Floats, b: number, n: number, d: number): void {
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let c = 0; c < d; c++) t += q[i * d + c]! * items[j * d + c]!;
      s[i * n + j] = t;
    }
  }
}
