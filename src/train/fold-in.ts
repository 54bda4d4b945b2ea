// Fold-in: a user's embedding (and bias) solved in closed form against the fixed item tower, as
// one half-step of alternating least squares. For a rating model whose user tower is a plain id
// embedding (one id feature, no hidden layer, no projection), fit() minimises per rating
//   (g + b_u + b_j + ⟨u, v_j⟩ − r)² + l2·(‖u‖² + ‖v_j‖²) + biasL2·(b_u² + b_j²),
// so with the items fixed, user u's share is a ridge regression on its n ratings:
//   (AᵀA + n·diag(l2, …, l2, biasL2)) [u; b_u] = Aᵀ (r − g − b_j),   A's rows [v_j, 1].
// AᵀA and Aᵀy come from the dense_backward_weight kernel (Xᵀ·dY); the (d+1)² system is solved
// by Cholesky in f64 here. Nothing else of the model changes.
import { fail } from '../errors.js';
import type { TwoTower } from '../model/twotower.js';
import { csrGroup } from '../data/csr.js';

/** Why fold-in does not apply to this model, or null when it does. */
export function foldInBlocker(core: TwoTower): string | null {
  if (!core.trainedWith) return 'the model was never trained';
  if (core.trainedWith.implicit)
    return `it was trained for ranking ('${core.trainedWith.loss}'), and fold-in solves squared error on ratings`;
  const tower = core.userTower;
  if (tower.slots.length !== 1 || tower.idFeature === undefined || tower.layers.length !== 0)
    return 'its user tower is not a plain id embedding (one id feature, no hidden layer, project: false)';
  return null;
}

/** Solves the embedding (and bias) of every user row in `users` from its ratings, in place. */
export function foldInUsers(
  core: TwoTower,
  users: Int32Array,
  items: Int32Array,
  ratings: Float32Array,
  l2: number,
  biasL2: number,
): number {
  const blocker = foldInBlocker(core);
  if (blocker) fail('UNSUPPORTED', `foldIn: ${blocker}; use update() instead`);
  const be = core.backend;
  const f = be.floatBytes;
  const d = core.dim;
  const { global, user: ub, item: ib } = core.bias;
  const w = d + (ub ? 1 : 0);
  const n = users.length;
  const store = core.store;
  const g = global ? store.values(global)[0]! : 0;
  const itemBias = ib ? Float64Array.from(store.values(ib)) : null;
  const v = core.itemEmbeddings(items);
  // A = [v_j, 1] and y = r − g − b_j, one row per rating, grouped by user.
  const byUser = csrGroup(
    users,
    Int32Array.from({ length: n }, (_, i) => i),
    core.userCount,
  );
  const A = be.alloc(Math.max(1, n * w) * f),
    y = be.alloc(Math.max(1, n) * f),
    G = be.alloc(w * w * f),
    h = be.alloc(w * f);
  try {
    {
      const a = be.floats(A, n * w),
        t = be.floats(y, n);
      byUser.ids.forEach((i, q) => {
        a.set(v.subarray(i * d, i * d + d), q * w);
        if (ub) a[q * w + d] = 1;
        t[q] = ratings[i]! - g - (itemBias ? itemBias[items[i]!]! : 0);
      });
    }
    const table = tower0(core);
    let solved = 0;
    // Solved and written user by user, through the write path (a throw leaves the written rows: still a change).
    core.write((store) => {
      for (let u = 0; u < core.userCount; u++) {
        const [start, end] = [byUser.offsets[u]!, byUser.offsets[u + 1]!];
        const m = end - start;
        if (m === 0) continue;
        const x = solveRidge(be, A + start * w * f, y + start * f, m, w, d, l2, biasL2, { G, h });
        const row = store.writable(table);
        for (let c = 0; c < d; c++) row[u * d + c] = x[c]!;
        if (ub) store.writable(ub)[u] = x[d]!;
        solved++;
      }
    });
    return solved;
  } finally {
    for (const p of [A, y, G, h]) be.free(p);
  }
}

/** Heap scratch of solveRidge: G (w×w floats) and h (w floats). */
export interface RidgeScratch {
  G: number;
  h: number;
}

/**
 * One user's ridge solve: A (m×w rows [v_j, 1] or [v_j]) and y (m targets) in the heap, w = d or
 * d + 1 (with a user bias). Returns x = [u; b_u] in f64, minimising
 *   ‖A x − y‖² + m·(l2·‖u − prior‖² + biasL2·b_u²)
 * (prior 0 unless given: what foldIn solves). AᵀA and Aᵀy come from dense_backward_weight.
 */
export function solveRidge(
  be: TwoTower['backend'],
  A: number,
  y: number,
  m: number,
  w: number,
  d: number,
  l2: number,
  biasL2: number,
  scratch: RidgeScratch,
  prior?: ArrayLike<number>,
): Float64Array {
  const { G, h } = scratch;
  be.kernels.dense_backward_weight(G, A, A, m, w, w, w, 0);
  be.kernels.dense_backward_weight(h, A, y, m, w, 1, w, 0);
  const M = Float64Array.from(be.floats(G, w * w));
  const b = Float64Array.from(be.floats(h, w));
  // The ridge of fit()'s penalties; a hair more keeps a user with fewer ratings than dims solvable at l2 = 0.
  for (let c = 0; c < w; c++) M[c * w + c]! += m * (c < d ? l2 : biasL2) + 1e-6 * m;
  if (prior) for (let c = 0; c < d; c++) b[c]! += m * l2 * prior[c]!;
  return choleskySolve(M, b, w);
}

function tower0(core: TwoTower) {
  return core.userTower.slots[0]!.params.table!;
}

/** Solves M x = b for a symmetric positive definite w×w M (row-major), in f64. */
export function choleskySolve(M: Float64Array, b: Float64Array, w: number): Float64Array {
  const L = new Float64Array(w * w);
  for (let i = 0; i < w; i++) {
    for (let j = 0; j <= i; j++) {
      let s = M[i * w + j]!;
      for (let k = 0; k < j; k++) s -= L[i * w + k]! * L[j * w + k]!;
      if (i === j) {
        if (!(s > 0)) fail('DIVERGED', 'foldIn: the normal equations are not positive definite (non-finite item embeddings?)');
        L[i * w + i] = Math.sqrt(s);
      } else L[i * w + j] = s / L[j * w + j]!;
    }
  }
  const z = new Float64Array(w);
  for (let i = 0; i < w; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * w + k]! * z[k]!;
    z[i] = s / L[i * w + i]!;
  }
  const x = new Float64Array(w);
  for (let i = w - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < w; k++) s -= L[k * w + i]! * x[k]!;
    x[i] = s / L[i * w + i]!;
  }
  return x;
}
