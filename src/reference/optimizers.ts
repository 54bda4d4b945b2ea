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

/** Lazy Adam over the listed rows of a table, then those rows of g zeroed (twin of adam_rows). */
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
  for (const row of rows) {
    const at = row * dim;
    adamUpdate(
      p.subarray(at, at + dim),
      g.subarray(at, at + dim),
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
    g.fill(0, at, at + dim);
  }
}

export function sgdUpdate(p: Floats, g: Floats, n: number, lr: number, decay: number): void {
  for (let i = 0; i < n; i++) p[i] = p[i]! * (1 - lr * decay) - lr * g[i]!;
}
