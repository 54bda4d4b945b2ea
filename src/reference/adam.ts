// Reference twin of assembly/adam.ts (AdamW form: decay applied to p before the Adam step).
import type { Floats } from '../wasm/backend.js';

export function adamUpdate(p: Floats, g: Floats, m: Floats, v: Floats, n: number, lr: number, beta1: number,
  beta2: number, eps: number, decay: number, bc1: number, bc2: number): void {
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    m[i] = beta1 * m[i]! + (1 - beta1) * gi;
    v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
    const denom = Math.sqrt(v[i]! / bc2) + eps;
    p[i] = p[i]! * (1 - lr * decay) - (lr / bc1) * m[i]! / denom;
  }
}
