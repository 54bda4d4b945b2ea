// Reference twins of the optimizer kernels: assembly/adam.ts (AdamW form: decay applied to p
// before the Adam step) and assembly/sgd.ts.
import type { Floats } from '../backend/contract.js';

export function adamUpdate(
  p: Floats,
  g: Floats,
  m: Floats,
  v: Floats,
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  decay: number,
  bc1: number,
  bc2: number,
): void {
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    m[i] = beta1 * m[i]! + (1 - beta1) * gi;
    v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
    const denom = Math.sqrt(v[i]! / bc2) + eps;
    p[i] = p[i]! * (1 - lr * decay) - ((lr / bc1) * m[i]!) / denom;
  }
}

/** Lazy Adam over the listed rows of a table, g the compact gradient (its row i is table row rows[i]); twin of adam_rows. */
export function adamRows(
  p: Floats,
  g: Floats,
  m: Floats,
  v: Floats,
  rows: Int32Array,
  dim: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  decay: number,
  bc1: number,
  bc2: number,
): void {
  rows.forEach((row, i) => {
    const at = row * dim;
    adamUpdate(
      p.subarray(at, at + dim),
      g.subarray(i * dim, (i + 1) * dim),
      m.subarray(at, at + dim),
      v.subarray(at, at + dim),
      dim,
      lr,
      beta1,
      beta2,
      eps,
      decay,
      bc1,
      bc2,
    );
  });
}

/** Row-wise Adagrad: one accumulator per table row, fed the row's mean squared gradient (twin of adagrad_rows). */
export function adagradRows(
  p: Floats,
  g: Floats,
  acc: Floats,
  rows: Int32Array,
  dim: number,
  lr: number,
  eps: number,
  decay: number,
): void {
  rows.forEach((row, i) => {
    let squares = 0;
    for (let c = 0; c < dim; c++) squares += g[i * dim + c]! ** 2;
    acc[row] = acc[row]! + squares / dim;
    const step = lr / (Math.sqrt(acc[row]!) + eps);
    for (let c = 0; c < dim; c++) p[row * dim + c] = p[row * dim + c]! * (1 - lr * decay) - step * g[i * dim + c]!;
  });
}

export function sgdUpdate(p: Floats, g: Floats, n: number, lr: number, decay: number): void {
  for (let i = 0; i < n; i++) p[i] = p[i]! * (1 - lr * decay) - lr * g[i]!;
}
