// Reference twins of assembly/loss.ts.
import type { Floats } from '../backend/contract.js';
import { gradRow } from './embedding.js';

export function rowwiseDot(s: Floats, u: Floats, v: Floats, n: number, d: number): void {
  for (let r = 0; r < n; r++) {
    let t = 0;
    for (let c = 0; c < d; c++) t += u[r * d + c]! * v[r * d + c]!;
    s[r] = t;
  }
}

export function rowwiseDotBackward(du: Floats, dv: Floats, ds: Floats, u: Floats, v: Floats, n: number, d: number): void {
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) {
      du[r * d + c] = ds[r]! * v[r * d + c]!;
      dv[r * d + c] = ds[r]! * u[r * d + c]!;
    }
  }
}

export function addPairBias(
  s: Floats,
  g: Floats | null,
  ub: Floats | null,
  uids: Int32Array | null,
  ib: Floats | null,
  iids: Int32Array | null,
  n: number,
): void {
  for (let r = 0; r < n; r++) {
    let t = s[r]! + (g ? g[0]! : 0);
    if (ub) t += ub[uids![r]!]!;
    if (ib) t += ib[iids![r]!]!;
    s[r] = t;
  }
}

export function mseLoss(ds: Floats, s: Floats, y: Floats, n: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const e = s[r]! - y[r]!;
    total += e * e;
    ds[r] = (2 * e) / n;
  }
  return total / n;
}

export function l2Penalty(dx: Floats, x: Floats, n: number, scale: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += x[i]! * x[i]!;
    dx[i] = dx[i]! + scale * x[i]!;
  }
  return total;
}

export function embeddingL2(
  dtable: Floats,
  table: Floats,
  ids: Int32Array,
  map: Int32Array | null,
  n: number,
  dim: number,
  scale: number,
): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < dim; c++) {
      const j = ids[r]! * dim + c,
        gj = gradRow(map, ids[r]!) * dim + c;
      total += table[j]! * table[j]!;
      dtable[gj] = dtable[gj]! + scale * table[j]!;
    }
  }
  return total;
}

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function bceLoss(ds: Floats, s: Floats, y: Floats, n: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += softplus(s[r]!) - y[r]! * s[r]!;
    ds[r] = (sigmoid(s[r]!) - y[r]!) / n;
  }
  return total / n;
}

export function bprLoss(ds: Floats, s: Floats, n: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const x = s[r]! - s[r + n]!;
    total += softplus(-x);
    ds[r] = -sigmoid(-x) / n;
    ds[r + n] = sigmoid(-x) / n;
  }
  return total / n;
}

/** Twin of softmax_xent: rows [row0, row0 + rows) of the in-batch softmax over n×cols logits, each row's loss into losses[i]. */
export function softmaxXent(
  dS: Floats,
  S: Floats,
  logq: Floats | null,
  ids: Int32Array | null,
  losses: Float64Array,
  n: number,
  cols: number,
  row0: number,
  rows: number,
  temperature: number,
): void {
  for (let i = row0; i < row0 + rows; i++) {
    const z = Array.from({ length: cols }, (_, j) =>
      ids && j !== i && ids[j] === ids[i] ? -Infinity : S[i * cols + j]! / temperature - (logq ? logq[j]! : 0),
    );
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    losses[i] = m + Math.log(sum) - z[i]!;
    for (let j = 0; j < cols; j++) dS[i * cols + j] = (e[j]! / sum - (i === j ? 1 : 0)) / (n * temperature);
  }
}

/** Twin of l2_normalize_rows: norms[r] = max(‖X[r]‖, 1e-12), Y[r] = X[r]/norms[r]. */
export function l2NormalizeRows(y: Floats, norms: Floats, x: Floats, n: number, d: number): void {
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let c = 0; c < d; c++) ss += x[r * d + c]! * x[r * d + c]!;
    const norm = Math.max(Math.sqrt(ss), 1e-12);
    norms[r] = norm;
    for (let c = 0; c < d; c++) y[r * d + c] = x[r * d + c]! / norm;
  }
}

/** Twin of l2_normalize_backward: dX[r] = (dY[r] − Y[r]·⟨Y[r], dY[r]⟩)/norms[r] (dX may alias dY). */
export function l2NormalizeBackward(dx: Floats, dy: Floats, y: Floats, norms: Floats, n: number, d: number): void {
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let c = 0; c < d; c++) dot += y[r * d + c]! * dy[r * d + c]!;
    for (let c = 0; c < d; c++) dx[r * d + c] = (dy[r * d + c]! - y[r * d + c]! * dot) / norms[r]!;
  }
}

/** Twin of ccl_loss: rows [row0, row0 + rows) of the cosine contrastive loss over n×cols cosines. */
export function cclLoss(
  dS: Floats,
  S: Floats,
  ids: Int32Array | null,
  losses: Float64Array,
  n: number,
  cols: number,
  from: number,
  row0: number,
  rows: number,
  margin: number,
  weight: number,
): void {
  for (let i = row0; i < row0 + rows; i++) {
    const negative = (j: number) => j >= from && j !== i && !(ids && ids[j] === ids[i]);
    let count = 0;
    for (let j = 0; j < cols; j++) if (negative(j)) count++;
    const scale = count > 0 ? weight / count : 0;
    let hinge = 0;
    const pos = S[i * cols + i]!;
    for (let j = 0; j < cols; j++) {
      const s = S[i * cols + j]!;
      let g = 0;
      if (j === i) g = -1 / n;
      else if (negative(j) && s > margin) {
        hinge += s - margin;
        g = scale / n;
      }
      dS[i * cols + j] = g;
    }
    losses[i] = 1 - pos + scale * hinge;
  }
}
