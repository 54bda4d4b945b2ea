// Why the model scores a (user, item) pair as it does, in row indices. The score is
//   global bias + user bias + item bias + ⟨u, v⟩,   u = f_u(x_u), v = f_v(x_v),
// where x is a tower's input X0: every feature's columns side by side (an id's embedding row, a
// category's, a set's pooled vector, numbers). The dot product is split over the features of
// both towers by integrated gradients taken at X0 (ids have no meaningful baseline, their
// embeddings do: zero), along the straight path that scales both towers' inputs together from 0
// to x:
//   share(column i) = x_i · mean over α of ∂⟨f_u(αx_u), f_v(αx_v)⟩/∂x_i ,
// and the shares add up to ⟨u, v⟩ − ⟨f_u(0), f_v(0)⟩ (the "baseline": what the towers' dense
// biases alone give). For towers without hidden layers the integrand is linear in α and one
// midpoint step is exact: a user feature f and an item feature g then split their interaction
// ⟨u_f, v_g⟩ evenly (the Shapley value of the bilinear score). With hidden layers the mean is
// taken over `steps` midpoints and the completeness error says how far the shares miss.
//
// An interaction set the user tower reads (a history of items) is split further by item, with
// the item's embedding held fixed: a history item's share is its pooled weight times ⟨e_h, ḡ⟩
// (ḡ the path-averaged gradient of ⟨f_u(αx_u), v⟩ at the set's columns) — for a linear tower
// with sum pooling exactly what leaving the item out would take away.
import type { TwoTower } from '../model/twotower.js';
import type { Tower } from '../model/tower.js';
import type { FeatureKindName, TowerSide } from '../config/model.js';
import type { MultiHotColumn } from '../config/feature-table.js';
import type { Floats } from '../backend/contract.js';
import { fail } from '../errors.js';
import { checkIndices } from '../data/interactions.js';
import { interactionSets } from '../model/interaction-sets.js';
import { featureKind } from '../model/features/index.js';

/** One feature's share of a pair's dot product. */
export interface FeatureShare {
  side: TowerSide;
  feature: string;
  /** The feature's kind ('id': the entity's own learned embedding). */
  featureKind: FeatureKindName;
  contribution: number;
}

/** One item of a user's interaction set, and its share of the score (the scored item held fixed). */
export interface HistoryShare {
  /** Item row. */
  item: number;
  /** Its weight in the pooled set (1/n for a mean, the attention weight, its own weight for a sum). */
  weight: number;
  contribution: number;
}

/** A pair's score, decomposed (see the file's header for the method). */
export interface PairExplanation {
  user: number;
  item: number;
  /** global + user bias + item bias + dot: the unclamped score. */
  score: number;
  biases: { global: number; user: number; item: number };
  /** ⟨u, v⟩. */
  dot: number;
  /** ⟨f_u(0), f_v(0)⟩: the towers' dense biases alone (0 for towers without a projection). */
  baseline: number;
  /** Every feature of both towers (user tower first, in config order); they sum to dot − baseline. */
  features: FeatureShare[];
  /** Per interaction set of the user tower: its items' shares, largest first. */
  sets: { feature: string; items: HistoryShare[] }[];
  /** 'exact' for towers without hidden layers, else 'integrated-gradients'. */
  method: 'exact' | 'integrated-gradients';
  /** Path points averaged (1 when exact). */
  steps: number;
  /** |Σ feature shares + baseline − dot|: 0 up to rounding when exact. */
  completenessError: number;
}

export interface ExplainOptions {
  /** Path points of integrated gradients for towers with hidden layers. Default 64. */
  steps?: number;
}

const linearTower = (t: Tower) => t.layers.every((l) => !l.relu);

/** Midpoints of `steps` equal parts of [0, 1]. */
const alphas = (steps: number) => Array.from({ length: steps }, (_, s) => (s + 0.5) / steps);

/** Explains the score of each (users[p], items[p]) pair. */
export function explainPairs(
  core: TwoTower,
  users: ArrayLike<number>,
  items: ArrayLike<number>,
  options: ExplainOptions = {},
): PairExplanation[] {
  core.ensureReady();
  if (users.length !== items.length)
    fail('DIMENSION_MISMATCH', `explain: users has ${users.length} entries but items has ${items.length}`);
  checkIndices(users, core.userCount, 'explain: users', 'user');
  checkIndices(items, core.itemCount, 'explain: items', 'item');
  const steps = options.steps ?? 64;
  if (!Number.isInteger(steps) || steps < 1 || steps > 4096)
    fail('BAD_OPTION', `explain: steps must be an integer in [1, 4096], got ${steps}`);
  const P = users.length;
  if (P === 0) return [];
  const be = core.backend;
  const store = core.store;
  const d = core.dim;
  const U = core.userTower,
    V = core.itemTower;
  const exact = linearTower(U) && linearTower(V);
  const S = exact ? 1 : steps;
  const userSteps = linearTower(U) ? 1 : steps;
  const R = P * Math.max(S, userSteps);

  // Inputs and embeddings at α = 1.
  core.stagePairs(users, items);
  U.reserve(Math.max(R, P));
  V.reserve(Math.max(R, P));
  const xu = be.floats(U.encode(store, core.pairs.users, P, core.pairs.items), P * U.inputWidth).slice();
  const xv = be.floats(V.encode(store, core.pairs.items, P), P * V.inputWidth).slice();
  const u = be.floats(U.runLayers(store, P), P * d).slice();
  const v = be.floats(V.runLayers(store, P), P * d).slice();

  // The baseline: both towers at all-zero inputs.
  be.kernels.zero_f32(U.inputs, U.inputWidth);
  be.kernels.zero_f32(V.inputs, V.inputWidth);
  const u0 = be.floats(U.runLayers(store, 1), d).slice();
  const v0 = be.floats(V.runLayers(store, 1), d).slice();
  const baseline = dot(u0, 0, v0, 0, d);

  const scratch = [be.alloc(R * d * be.floatBytes), be.alloc(R * d * be.floatBytes)] as const;
  try {
    // Joint path: both towers' inputs scaled by α; each tower's output gradient is the other's output.
    const pathInputs = (t: Tower, x: Floats, rows: number, count: number) => {
      const view = be.floats(t.inputs, rows * count * t.inputWidth);
      const a = alphas(count);
      for (let p = 0; p < rows; p++)
        for (let s = 0; s < count; s++)
          for (let i = 0; i < t.inputWidth; i++) view[(p * count + s) * t.inputWidth + i] = a[s]! * x[p * t.inputWidth + i]!;
    };
    const meanGradient = (t: Tower, dX: number, rows: number, count: number): Float64Array => {
      const g = be.floats(dX, rows * count * t.inputWidth);
      const out = new Float64Array(rows * t.inputWidth);
      for (let p = 0; p < rows; p++)
        for (let s = 0; s < count; s++)
          for (let i = 0; i < t.inputWidth; i++) out[p * t.inputWidth + i]! += g[(p * count + s) * t.inputWidth + i]! / count;
      return out;
    };
    const rows = P * S;
    pathInputs(U, xu, P, S);
    pathInputs(V, xv, P, S);
    be.kernels.copy_f32(scratch[0], V.runLayers(store, rows), rows * d);
    be.kernels.copy_f32(scratch[1], U.runLayers(store, rows), rows * d);
    const gu = meanGradient(U, U.inputGradient(store, rows, scratch[0]), P, S);
    const gv = meanGradient(V, V.inputGradient(store, rows, scratch[1]), P, S);

    // User-side path for interaction sets: the user's inputs scaled, the item's embedding fixed.
    const sets = interactionSets(core.config, 'user');
    let gUser: Float64Array | null = null;
    if (sets.length > 0) {
      pathInputs(U, xu, P, userSteps);
      U.runLayers(store, P * userSteps);
      const fixed = be.floats(scratch[0], P * userSteps * d);
      for (let p = 0; p < P; p++)
        for (let s = 0; s < userSteps; s++) fixed.set(v.subarray(p * d, p * d + d), (p * userSteps + s) * d);
      gUser = meanGradient(U, U.inputGradient(store, P * userSteps, scratch[0]), P, userSteps);
    }

    const { global, user: ub, item: ib } = core.bias;
    const out: PairExplanation[] = [];
    for (let p = 0; p < P; p++) {
      const features: FeatureShare[] = [];
      let total = 0;
      for (const [side, t, x, g] of [
        ['user', U, xu, gu],
        ['item', V, xv, gv],
      ] as const) {
        for (const slot of t.slots) {
          const width = featureKind(slot.spec).width(slot.spec);
          let share = 0;
          for (let i = slot.column; i < slot.column + width; i++) share += x[p * t.inputWidth + i]! * g[p * t.inputWidth + i]!;
          features.push({ side, feature: slot.spec.name, featureKind: slot.spec.kind, contribution: share });
          total += share;
        }
      }
      const d0 = dot(u, p * d, v, p * d, d);
      const biases = {
        global: global ? store.values(global)[0]! : 0,
        user: ub ? store.values(ub)[users[p]!]! : 0,
        item: ib ? store.values(ib)[items[p]!]! : 0,
      };
      out.push({
        user: users[p]!,
        item: items[p]!,
        score: biases.global + biases.user + biases.item + d0,
        biases,
        dot: d0,
        baseline,
        features,
        sets: gUser
          ? sets.map(({ spec }) => ({ feature: spec.name, items: setShares(core, spec.name, users[p]!, items[p]!, gUser!, p) }))
          : [],
        method: exact ? 'exact' : 'integrated-gradients',
        steps: S,
        completenessError: Math.abs(total + baseline - d0),
      });
    }
    return out;
  } finally {
    for (const ptr of scratch) be.free(ptr);
  }
}

function dot(a: Floats, i: number, b: Floats, j: number, n: number): number {
  let s = 0;
  for (let c = 0; c < n; c++) s += a[i + c]! * b[j + c]!;
  return s;
}

/**
 * The items of user row `user`'s set `name` with their pooled weights and shares ⟨w_h e_h, ḡ⟩,
 * ḡ being the user-side path gradient at the set's columns (row p of `g`). Repeated items are
 * merged; largest share first.
 */
function setShares(core: TwoTower, name: string, user: number, scored: number, g: Float64Array, p: number): HistoryShare[] {
  const U = core.userTower;
  const slot = U.slots.find((s) => s.spec.name === name)!;
  const spec = slot.spec;
  if (spec.kind !== 'multiHot') return [];
  const column = U.table?.columns[name] as MultiHotColumn | undefined;
  if (!column) return [];
  const table = core.store.values(slot.params.table!);
  const dim = spec.dim;
  const positions: number[] = [];
  for (let q = column.offsets[user]!; q < column.offsets[user + 1]!; q++)
    if (!spec.excludeScoredItem || column.ids[q] !== scored) positions.push(q);
  if (positions.length === 0) return [];
  const at = p * U.inputWidth + slot.column;
  const weights = positions.map((q) => column.weights?.[q] ?? 1);
  if (spec.pooling === 'attention') {
    const a = core.store.values(slot.params.attention!);
    const logits = positions.map((q) => dot(a, 0, table, column.ids[q]! * dim, dim));
    const top = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - top));
    const sum = e.reduce((x, y) => x + y, 0);
    e.forEach((x, i) => (weights[i] = x / sum));
  } else if (spec.pooling !== 'sum') weights.forEach((w, i) => (weights[i] = w / positions.length));
  const byItem = new Map<number, HistoryShare>();
  positions.forEach((q, i) => {
    const item = column.ids[q]!;
    let share = 0;
    for (let c = 0; c < dim; c++) share += table[item * dim + c]! * g[at + c]!;
    const entry = byItem.get(item) ?? { item, weight: 0, contribution: 0 };
    entry.weight += weights[i]!;
    entry.contribution += weights[i]! * share;
    byItem.set(item, entry);
  });
  return [...byItem.values()].sort((a, b) => b.contribution - a.contribution || a.item - b.item);
}
