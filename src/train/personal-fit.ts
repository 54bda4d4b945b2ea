// One person's vector fitted against a frozen item tower (personalisation of retrieval models):
//   J(u) = mean over the person's items i of  −log softmax(z)_i  +  l2·‖u − prior‖²,
//   z_j = ⟨q, c_j⟩/τ − logq_j,   q = u (or [u, 1] where items carry a bias column),
// over the whole catalogue, or — for a large one — over the person's items and a seeded uniform
// sample of M others, each sampled logit corrected by logq_j = log(M/N′) (its inclusion
// probability, N′ the items that could be drawn), so that the sample's partition estimates the
// catalogue's. J is convex in u; it is minimised by a fixed number of damped Newton steps
// (d ≤ a few hundred, so the d×d system is cheap), which converge in a handful where gradient
// descent would need a tuned rate. Every product over items is a kernel: the scores
// (score_matrix), the softmax and its gradient (softmax_xent, one row per positive), the column
// sums (bias_backward), gradient and mean (dense_forward), the probability-weighted rows
// (embedding_bag with weights p) and the Hessian's Cᵀ·diag(p)·C (dense_backward_weight).
// Deterministic: the same inputs and seed give the same bits.
import type { Backend } from '../backend/contract.js';
import { Buffers } from '../backend/heap.js';
import { Random } from '../util/random.js';
import { choleskySolve } from './fold-in.js';

export interface SoftmaxFitInput {
  backend: Backend;
  /** Heap pointer of the catalogue's retrieval rows (rows × width floats). */
  items: number;
  rows: number;
  /** Floats per item row: d, or d + 1 with the item bias as the last column. */
  width: number;
  /** Dimensions fitted (the first d of the query; a last column, if any, stays 1). */
  d: number;
  /** The person's item rows, unique. */
  positives: readonly number[];
  /** Rows never in the softmax (the unknown-id row). */
  reserved: readonly number[];
  /** Penalty centre (d values). */
  prior: ArrayLike<number>;
  /** Where the steps start (d values). Default: the prior. */
  start?: ArrayLike<number>;
  l2: number;
  temperature: number;
  /** Newton steps at most. */
  steps: number;
  /** Catalogues with more drawable items than this are sampled. */
  sampleAbove: number;
  /** Negatives drawn when sampling. */
  samples: number;
  seed: number;
}

export interface SoftmaxFit {
  vector: Float64Array;
  /** J at the vector (the sampled objective when sampled). */
  loss: number;
  /** Newton steps taken. */
  steps: number;
  /** Softmax columns: the whole catalogue (less reserved rows), or positives + samples. */
  columns: number;
  sampled: boolean;
}

/** The softmax's columns: the positives first (row i's target is column i), then the others or a sample of them. */
function candidateRows(input: SoftmaxFitInput): { rows: Int32Array; logq: Float64Array; sampled: boolean } {
  const taken = new Set<number>([...input.positives, ...input.reserved]);
  const drawable = input.rows - taken.size;
  const n = input.positives.length;
  if (drawable <= input.sampleAbove) {
    const rows = new Int32Array(n + drawable);
    rows.set(input.positives);
    let c = n;
    for (let j = 0; j < input.rows; j++) if (!taken.has(j)) rows[c++] = j;
    return { rows, logq: new Float64Array(rows.length), sampled: false };
  }
  const m = Math.min(input.samples, drawable);
  const random = new Random(input.seed);
  const picked = new Set<number>();
  while (picked.size < m) {
    const j = random.int(input.rows);
    if (!taken.has(j)) picked.add(j);
  }
  const rows = Int32Array.from([...input.positives, ...[...picked].sort((a, b) => a - b)]);
  const logq = new Float64Array(rows.length).fill(Math.log(m / drawable), n);
  return { rows, logq, sampled: true };
}

/** Fits the person's vector: see the file's header. */
export function fitSoftmaxVector(input: SoftmaxFitInput): SoftmaxFit {
  const be = input.backend,
    k = be.kernels,
    f = be.floatBytes;
  const { width: D, d, l2, temperature: tau } = input;
  const n = input.positives.length;
  const { rows, logq, sampled } = candidateRows(input);
  const cols = rows.length;
  const buf = new Buffers(be);
  try {
    const C = buf.get('C', cols * D * f),
      S = buf.get('S', n * cols * f),
      dS = buf.get('dS', n * cols * f),
      lq = buf.get('logq', cols * f),
      losses = buf.get('losses', n * 8),
      q = buf.get('q', D * f),
      gz = buf.get('gz', cols * f),
      gq = buf.get('gq', D * f),
      p = buf.get('p', cols * f),
      mu = buf.get('mu', D * f),
      W = buf.get('W', cols * D * f),
      G = buf.get('G', D * D * f),
      idx = buf.get('idx', cols * 4),
      offsets = buf.get('offsets', (cols + 1) * 4);
    be.ints(idx, cols).set(rows);
    k.gather_rows(C, input.items, idx, cols, D, D);
    be.floats(lq, cols).set(logq);
    // embedding_bag as a row scaling: entity r owns the one id r, weighted p_r.
    be.ints(idx, cols).set(Int32Array.from({ length: cols }, (_, r) => r));
    be.ints(offsets, cols + 1).set(Int32Array.from({ length: cols + 1 }, (_, r) => r));
    const anyLogq = sampled ? lq : 0;

    const penalty = (u: Float64Array) => {
      let s = 0;
      for (let c = 0; c < d; c++) s += (u[c]! - input.prior[c]!) ** 2;
      return l2 * s;
    };
    /** Scores, softmax rows and J at u (dS and losses left for the gradient). */
    const objective = (u: Float64Array): number => {
      const view = be.floats(q, D);
      view.set(u);
      if (D > d) view[d] = 1;
      k.score_matrix(S, q, C, 1, cols, D);
      for (let i = 1; i < n; i++) k.copy_f32(S + i * cols * f, S, cols);
      k.softmax_xent(dS, S, anyLogq, 0, losses, n, cols, 0, n, tau);
      const l = new Float64Array(be.bytes(losses, 8 * n).buffer, losses, n);
      let total = 0;
      for (let i = 0; i < n; i++) total += l[i]!;
      return total / n + penalty(u);
    };

    let u = Float64Array.from(input.start ?? input.prior);
    let J = objective(u);
    let taken = 0;
    for (let step = 0; step < input.steps; step++) {
      // Gradient of the mean loss w.r.t. the scores (dS's rows summed), then w.r.t. q.
      k.bias_backward(gz, dS, n, cols, 0);
      k.dense_forward(gq, gz, C, 0, 1, cols, D);
      // The softmax probabilities: p = τ·Σ rows of dS + (1/n on each positive's column).
      const g = be.floats(gz, cols);
      const probs = new Float64Array(cols);
      for (let j = 0; j < cols; j++) probs[j] = tau * g[j]! + (j < n ? 1 / n : 0);
      be.floats(p, cols).set(probs);
      k.dense_forward(mu, p, C, 0, 1, cols, D);
      k.embedding_bag(W, C, offsets, idx, p, idx, 0, cols, D, D, 0);
      k.dense_backward_weight(G, C, W, cols, D, D, D, 0);
      const grad = be.floats(gq, D),
        m = be.floats(mu, D),
        H0 = be.floats(G, D * D);
      // H = (Cᵀdiag(p)C − μμᵀ)/τ² + 2·l2·I over the fitted d dimensions.
      const H = new Float64Array(d * d),
        b = new Float64Array(d);
      let trace = 0;
      for (let r = 0; r < d; r++) {
        b[r] = grad[r]! + 2 * l2 * (u[r]! - input.prior[r]!);
        for (let c = 0; c < d; c++) H[r * d + c] = (H0[r * D + c]! - m[r]! * m[c]!) / (tau * tau) + (r === c ? 2 * l2 : 0);
        trace += H[r * d + r]!;
      }
      // A hair of ridge relative to the curvature keeps the system positive definite at l2 = 0
      // (one item, or fewer items than dimensions, leaves directions without curvature).
      for (let r = 0; r < d; r++) H[r * d + r]! += 1e-7 * (1 + trace / d);
      const delta = choleskySolve(H, b, d);
      let norm = 0,
        size = 0;
      for (let c = 0; c < d; c++) {
        norm += delta[c]! ** 2;
        size += u[c]! ** 2;
      }
      // Damping: halve the step until J does not rise (at most 6 halvings; else the fit stops).
      let t = 1;
      let accepted = false;
      for (let half = 0; half <= 6; half++) {
        const next = u.map((x, c) => x - t * delta[c]!);
        const Jn = objective(next);
        if (Jn <= J) {
          u = next;
          J = Jn;
          accepted = true;
          break;
        }
        t /= 2;
      }
      taken++;
      if (!accepted || t * Math.sqrt(norm) <= 1e-6 * (1 + Math.sqrt(size))) break;
    }
    return { vector: u, loss: J, steps: taken, columns: cols, sampled };
  } finally {
    buf.free();
  }
}
