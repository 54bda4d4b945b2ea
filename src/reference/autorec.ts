// Reference twins of assembly/autorec.ts (I-AutoRec), written straight from the model's
// definition rather than from the kernel's loop structure: each scored rating's encoder input is
// summed afresh (leaving that rating out when asked) and its gradient sent back through every
// input it read. That costs O(raters² · h) per item instead of O(raters · h): a second opinion
// for tests, not a way to train.
import type { Floats } from '../backend/contract.js';

const activate = (x: number, tanh: boolean): number => (tanh ? Math.tanh(x) : 1 / (1 + Math.exp(-x)));
const slope = (a: number, tanh: boolean): number => (tanh ? 1 - a * a : a * (1 - a));

/** The encoder's hidden vector of item `item`, without the rater at CSR position `skip` (−1: none). */
function hidden(
  V: Floats,
  b: Floats,
  offsets: Int32Array,
  raters: Int32Array,
  ratings: Floats,
  item: number,
  skip: number,
  h: number,
  tanh: boolean,
): Float64Array {
  const z = Float64Array.from(b.subarray(0, h));
  for (let j = offsets[item]!; j < offsets[item + 1]!; j++) {
    if (j === skip) continue;
    const u = raters[j]!;
    for (let e = 0; e < h; e++) z[e] = z[e]! + ratings[j]! * V[u * h + e]!;
  }
  return z.map((x) => activate(x, tanh));
}

export function autorecEncode(
  out: Floats,
  V: Floats,
  b: Floats,
  offsets: Int32Array,
  raters: Int32Array,
  ratings: Floats,
  n: number,
  h: number,
  tanh: boolean,
): void {
  for (let i = 0; i < n; i++) out.set(hidden(V, b, offsets, raters, ratings, i, -1, h, tanh), i * h);
}

export function autorecGrad(
  dV: Floats,
  db: Floats,
  dW: Floats,
  dc: Floats,
  V: Floats,
  b: Floats,
  W: Floats,
  c: Floats,
  offsets: Int32Array,
  raters: Int32Array,
  ratings: Floats,
  items: Int32Array,
  n: number,
  h: number,
  leaveOut: boolean,
  tanh: boolean,
  scale: number,
): number {
  let loss = 0;
  for (let k = 0; k < n; k++) {
    const item = items[k]!;
    const lo = offsets[item]!,
      hi = offsets[item + 1]!;
    for (let j = lo; j < hi; j++) {
      const u = raters[j]!,
        r = ratings[j]!;
      const a = hidden(V, b, offsets, raters, ratings, item, leaveOut ? j : -1, h, tanh);
      let p = c[u]!;
      for (let e = 0; e < h; e++) p += W[u * h + e]! * a[e]!;
      const err = p - r;
      loss += err * err;
      const ge = 2 * scale * err;
      dc[u] = dc[u]! + ge;
      const dz = new Float64Array(h);
      for (let e = 0; e < h; e++) {
        dW[u * h + e] = dW[u * h + e]! + ge * a[e]!;
        dz[e] = ge * W[u * h + e]! * slope(a[e]!, tanh);
        db[e] = db[e]! + dz[e]!;
      }
      for (let q = lo; q < hi; q++) {
        if (leaveOut && q === j) continue;
        const v = raters[q]!;
        for (let e = 0; e < h; e++) dV[v * h + e] = dV[v * h + e]! + ratings[q]! * dz[e]!;
      }
    }
  }
  return loss;
}
