// Starting rows for entities known only by their features (addItems' cold items). In a linear
// tower (one projection, no hidden layer) an entity's embedding is
//   v_j = x_side,j·W_side + e_j·W_id + r_j·W_sets + b,
// where a trained entity's id row e_j and interaction sets r_j (the users who rated it) carry
// what its features do not. A cold item has neither, so its embedding would miss that part
// entirely — a part the users' vectors were fitted against. Instead, the missing part
// m_j = e_j·W_id + r_j·W_sets and the score bias b_j of the trained entities are regressed on
// their side-feature columns (ridge least squares, [x_side, 1] → [m, b]), and each cold entity
// gets the predicted bias and the id row whose projection best gives its predicted m:
//   (W_id·W_idᵀ + εI) e = W_id·m̂ᵀ.
// Gram matrices come from the dense_backward_weight kernel; the small systems are solved here.
import type { TwoTower } from '../model/twotower.js';
import type { TowerSide } from '../config/model.js';
import { interactionSets } from '../model/interaction-sets.js';
import { featureKind } from '../model/features/index.js';
import { choleskySolve } from './fold-in.js';

/**
 * The features that are the graph's structure, not side features: the interaction sets and the
 * tied sets (a new entity has none of them; the regression reads them as missing, like the id).
 */
function structureSets(core: TwoTower, side: TowerSide): Set<string> {
  const tied = core.config[side].features.filter((f) => f.kind === 'multiHot' && f.tied).map((f) => f.name);
  return new Set([...interactionSets(core.config, side).map((s) => s.spec.name), ...tied]);
}

/** Why the regression does not apply (the mean rows stay), or null. */
export function coldRowsBlocker(core: TwoTower, side: TowerSide): string | null {
  const tower = core.tower(side);
  if (tower.layers.length !== 1 || tower.layers[0]!.relu) return 'the tower has hidden layers (or no projection)';
  if (tower.mixWidth !== tower.inputWidth) return "the tower sums its features (combine: 'sum')";
  if (!tower.idFeature) return 'the tower has no id feature';
  const sets = structureSets(core, side);
  if (!tower.slots.some((s) => s.spec.kind !== 'id' && !sets.has(s.spec.name))) return 'the tower reads no side features';
  return null;
}

/** Sets the id rows and biases of `cold` rows from the regression fitted on `warm` rows; false where it does not apply. */
export function regressColdRows(core: TwoTower, side: TowerSide, warm: number[], cold: number[]): boolean {
  if (coldRowsBlocker(core, side) !== null || warm.length === 0 || cold.length === 0) return false;
  const tower = core.tower(side);
  const be = core.backend;
  const f = be.floatBytes;
  const d = core.dim;
  const store = core.store;
  const layer = tower.layers[0]!;
  const sets = structureSets(core, side);
  const columns = (keep: (name: string, kind: string) => boolean) =>
    tower.slots.flatMap((s) =>
      keep(s.spec.name, s.spec.kind) ? Array.from({ length: featureKind(s.spec).width(s.spec) }, (_, i) => s.column + i) : [],
    );
  const sideCols = columns((name, kind) => kind !== 'id' && !sets.has(name));
  const missingCols = columns((name, kind) => kind === 'id' || sets.has(name));
  const idSlot = tower.slots.find((s) => s.spec.kind === 'id')!;
  const idCols = Array.from({ length: idSlot.spec.kind === 'id' ? idSlot.spec.dim : 0 }, (_, i) => idSlot.column + i);
  const W = store.values(layer.w).slice(); // inputWidth × d
  const biasBlock = core.bias[side];
  const bias = biasBlock ? store.values(biasBlock).slice() : null;

  const X = core.towerInputs(side, warm);
  const N = warm.length,
    s = sideCols.length + 1,
    t = d + (bias ? 1 : 0),
    k = missingCols.length;
  const take = (floats: number) => be.alloc(Math.max(4, floats) * f);
  const [xm, wm, M, phi, T, G, R] = [take(N * k), take(k * d), take(N * d), take(N * s), take(N * t), take(s * s), take(s * t)];
  try {
    // The missing part of every warm embedding: M = X_missing · W_missing (dense_forward, no bias).
    {
      const a = be.floats(xm, N * k),
        w = be.floats(wm, k * d);
      for (let j = 0; j < N; j++) missingCols.forEach((c, i) => (a[j * k + i] = X[j * tower.inputWidth + c]!));
      missingCols.forEach((c, i) => w.set(W.subarray(c * d, c * d + d), i * d));
    }
    be.kernels.dense_forward(M, xm, wm, 0, N, k, d);
    {
      const p = be.floats(phi, N * s),
        y = be.floats(T, N * t),
        m = be.floats(M, N * d);
      for (let j = 0; j < N; j++) {
        sideCols.forEach((c, i) => (p[j * s + i] = X[j * tower.inputWidth + c]!));
        p[j * s + s - 1] = 1;
        y.set(m.subarray(j * d, j * d + d), j * t);
        if (bias) y[j * t + d] = bias[warm[j]!]!;
      }
    }
    be.kernels.dense_backward_weight(G, phi, phi, N, s, s, s, 0);
    be.kernels.dense_backward_weight(R, phi, T, N, s, t, s, 0);
    const gram = Float64Array.from(be.floats(G, s * s));
    const rhs = Float64Array.from(be.floats(R, s * t));
    let trace = 0;
    for (let i = 0; i < s; i++) trace += gram[i * s + i]!;
    const ridge = (1e-3 * trace) / s + 1e-9;
    for (let i = 0; i < s; i++) gram[i * s + i]! += ridge;
    // B (s × t), one column at a time.
    const B = new Float64Array(s * t);
    for (let c = 0; c < t; c++) {
      const x = choleskySolve(
        gram,
        Float64Array.from({ length: s }, (_, i) => rhs[i * t + c]!),
        s,
      );
      for (let i = 0; i < s; i++) B[i * t + c] = x[i]!;
    }
    // e (W_id·W_idᵀ + εI) = m̂·W_idᵀ, the same matrix for every cold row.
    const q = idCols.length;
    const A = new Float64Array(q * q);
    for (let a = 0; a < q; a++)
      for (let b = 0; b < q; b++) {
        let sum = 0;
        for (let c = 0; c < d; c++) sum += W[idCols[a]! * d + c]! * W[idCols[b]! * d + c]!;
        A[a * q + b] = sum;
      }
    let traceA = 0;
    for (let a = 0; a < q; a++) traceA += A[a * q + a]!;
    for (let a = 0; a < q; a++) A[a * q + a]! += (1e-6 * traceA) / q + 1e-12;
    const Xc = core.towerInputs(side, cold);
    core.write((store) => {
      const table = store.writable(idSlot.params.table!);
      const newBias = biasBlock ? store.writable(biasBlock) : null;
      cold.forEach((row, r) => {
        const predicted = new Float64Array(t);
        for (let i = 0; i < s; i++) {
          const x = i < s - 1 ? Xc[r * tower.inputWidth + sideCols[i]!]! : 1;
          for (let c = 0; c < t; c++) predicted[c]! += x * B[i * t + c]!;
        }
        const rhsE = Float64Array.from({ length: q }, (_, a) => {
          let sum = 0;
          for (let c = 0; c < d; c++) sum += W[idCols[a]! * d + c]! * predicted[c]!;
          return sum;
        });
        const e = choleskySolve(A, rhsE, q);
        for (let a = 0; a < q; a++) table[row * q + a] = e[a]!;
        if (newBias) newBias[row] = predicted[d]!;
      });
    });
    return true;
  } finally {
    for (const p of [xm, wm, M, phi, T, G, R]) be.free(p);
  }
}
