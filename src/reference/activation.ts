// Reference twins of assembly/activation.ts.
import type { Floats } from '../backend/contract.js';

export function reluForward(y: Floats, x: Floats, n: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i]! > 0 ? x[i]! : 0;
}

export function reluBackward(dx: Floats, dy: Floats, y: Floats, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
}

export function clampValues(x: Floats, n: number, lo: number, hi: number): void {
  for (let i = 0; i < n; i++) x[i] = Math.min(Math.max(x[i]!, lo), hi);
}
