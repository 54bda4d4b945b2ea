// One training step's arithmetic on the rows staged in the model's pair scratch: zero the
// gradients (full ones whole; compact ones on the rows the batch touches), run both towers, the
// loss, the penalties and backward (gradients land in the parameter store), then one optimizer
// call per parameter group.
import type { TwoTower } from '../model/twotower.js';
import type { Loss, LossSettings } from './losses/index.js';
import type { GroupPlan, OptimizerSettings } from './optimizers/index.js';
import { fail } from '../errors.js';
import { TrainScratch } from './scratch.js';
import { TouchedRows } from './touched-rows.js';

/** Penalties added to the training loss (0 turns one off). */
export interface Regularization {
  /** λ of the per-example penalty λ·(‖u‖² + ‖v‖²) on both towers' output embeddings. */
  l2: number;
  /** λ of the per-example penalty λ·(b_u² + b_i²) on the user and item biases. */
  biasL2: number;
}

export const NO_REGULARIZATION: Regularization = { l2: 0, biasL2: 0 };

export const DEFAULT_LOSS_SETTINGS: LossSettings = {
  negatives: 4,
  temperature: 1,
  logQCorrection: false,
  removeAccidentalHits: false,
  uniformNegatives: 0,
};

/**
 * Zeroes the gradients, then runs forward, the loss and backward on the n staged rows. Returns
 * the batch objective, the mean loss plus the L2 penalties; when it is not finite, backward is
 * skipped and the caller decides what to do. A store without gradients gets full ones.
 */
export function lossAndGradients(
  core: TwoTower,
  n: number,
  loss: Loss,
  reg: Regularization = NO_REGULARIZATION,
  settings: LossSettings = DEFAULT_LOSS_SETTINGS,
): number {
  const k = core.backend.kernels;
  const p = core.pairs;
  const store = core.store;
  const scratch = TrainScratch.of(core);
  // Extra item rows (a matrix loss's sampled negatives) follow the n paired ones.
  const extra = loss.kind === 'matrix' ? (loss.extraItems?.(settings) ?? 0) : 0;
  scratch.reserve(n, n + extra);
  const dim = core.dim;
  if (!store.hasGradients) store.useGradients();
  if (store.zeroGradients()) TouchedRows.of(core).prepare(n, n + extra);
  const { user, item } = core.forwardPairs(n, extra);
  const value = loss.compute({
    backend: core.backend,
    n,
    extra,
    dim,
    user,
    item,
    scores: p.scores,
    targets: p.targets,
    items: p.items,
    dScores: scratch.dScores,
    dUser: scratch.dUser,
    dItem: scratch.dItem,
    scratch,
    settings,
    byRows: core.byRows,
  });
  if (!Number.isFinite(value)) return value;
  const { global, user: ub, item: ib } = core.bias;
  if (loss.kind === 'pair') {
    k.rowwise_dot_backward(scratch.dUser, scratch.dItem, scratch.dScores, user, item, n, dim);
    if (global) k.bias_backward(store.gradPtr(global), scratch.dScores, n, 1, 1);
    if (ub) k.embedding_scatter_add(store.gradPtr(ub), scratch.dScores, p.users, store.rowMap(ub), n, 1, 1);
    if (ib) k.embedding_scatter_add(store.gradPtr(ib), scratch.dScores, p.items, store.rowMap(ib), n, 1, 1);
  }
  // Per-occurrence L2: each example adds λ(‖u‖² + ‖v‖²) and λ_b(b_u² + b_i²) to the batch-mean loss.
  let penalty = 0;
  if (reg.l2 > 0) {
    penalty += (reg.l2 * k.l2_penalty(scratch.dUser, user, n * dim, (2 * reg.l2) / n)) / n;
    penalty += (reg.l2 * k.l2_penalty(scratch.dItem, item, n * dim, (2 * reg.l2) / n)) / n;
  }
  if (reg.biasL2 > 0) {
    const scale = (2 * reg.biasL2) / n;
    if (ub)
      penalty += (reg.biasL2 * k.embedding_l2(store.gradPtr(ub), store.ptr(ub), p.users, store.rowMap(ub), n, 1, scale)) / n;
    if (ib)
      penalty += (reg.biasL2 * k.embedding_l2(store.gradPtr(ib), store.ptr(ib), p.items, store.rowMap(ib), n, 1, scale)) / n;
  }
  core.userTower.backward(store, p.users, n, scratch.dUser);
  core.itemTower.backward(store, p.items, n + extra, scratch.dItem);
  return value + penalty;
}

/**
 * Readies the store for training with these plans: every group's optimizer state (kept from an
 * earlier fit with the same optimizer) and its gradient (compact for sparse optimizers).
 */
export function prepareGroups(core: TwoTower, plans: readonly GroupPlan[]): void {
  const store = core.store;
  for (const plan of plans) store.useState(plan.group, plan.optimizer.name, plan.optimizer.state(plan.group));
  const sparse = new Set(plans.filter((p) => p.optimizer.sparse).map((p) => p.group));
  store.useGradients((group) => sparse.has(group));
}

/**
 * Takes optimizer step number core.optimizerSteps + 1 on every group, each with its own
 * optimizer, from the gradients of the last lossAndGradients (sparse ones on the rows it touched).
 */
export function optimizerStep(core: TwoTower, plans: readonly GroupPlan[], settings: OptimizerSettings): void {
  const touched = TouchedRows.of(core);
  const own = groupSettings.get(plans) ?? plans.map(() => ({ ...settings }));
  groupSettings.set(plans, own);
  // Through the write path: what was derived from the parameters (recommend's item index) is
  // stale afterwards, also for a recommend() called from a fit() callback.
  core.write((store) => {
    core.optimizerSteps += 1;
    plans.forEach((plan, i) => {
      if (plan.optimizer.sparse && !store.isCompact(plan.group))
        fail(
          'INTERNAL',
          `optimizerStep: "${plan.group.name}" has no compact gradient for ${plan.optimizer.name} (call prepareGroups)`,
        );
      const mine = Object.assign(own[i]!, settings);
      mine.learningRate = settings.learningRate * plan.rateFactor;
      plan.optimizer.step(
        core.backend,
        plan.group,
        store.writablePointers(plan.group),
        core.optimizerSteps,
        mine,
        plan.optimizer.sparse ? touched.rows(plan.group) : undefined,
        core.byRows,
      );
    });
  });
}

/** One reusable settings object per group of a plan (a step allocates nothing). */
const groupSettings = new WeakMap<readonly GroupPlan[], OptimizerSettings[]>();
