// Training losses. A loss sees one batch after both towers ran: the embeddings U and V and the
// pair scores s (⟨U, V⟩ plus biases). A 'pair' loss reads s and writes ds, and the trainer
// back-propagates through the dot product and the biases. A 'matrix' loss (in-batch softmax,
// which scores every user of the batch against every item of it) writes dU and dV itself.
//
// How a batch is laid out depends on the loss (`rowsPerPositive`): mse one row per rating; bce
// the positive then its sampled negatives (labels 1, 0, …); bpr the n positives then their n
// negatives; softmax the n positives only (the other items of the batch are the negatives).
import type { Backend } from '../wasm/backend.js';
import { fail } from '../errors.js';

export interface LossBatch {
  backend: Backend;
  /** Rows in the batch. */
  n: number;
  /** Embedding width. */
  dim: number;
  /** n×dim user embeddings, n×dim item embeddings, n scores, n targets (byte addresses). */
  user: number;
  item: number;
  scores: number;
  targets: number;
  /** Outputs: n score gradients ('pair'), or n×dim embedding gradients ('matrix'). */
  dScores: number;
  dUser: number;
  dItem: number;
  /** 'matrix' losses: n×n scratch, per-row log sampling probabilities (0: none), item ids (0: no hit removal). */
  matrix: number;
  logq: number;
  ids: number;
  temperature: number;
}

export type LossName = 'mse' | 'bce' | 'bpr' | 'softmax';

export interface Loss {
  readonly name: LossName;
  readonly kind: 'pair' | 'matrix';
  /** Implicit feedback: targets come from the loss (positives and sampled negatives), not ratings. */
  readonly implicit: boolean;
  /** Writes the gradients this loss owns and returns the batch's mean loss. */
  compute(batch: LossBatch): number;
}

/** Squared error on ratings: L = mean (s − y)². */
export const squaredError: Loss = {
  name: 'mse', kind: 'pair', implicit: false,
  compute: (b) => b.backend.kernels.mse_loss(b.dScores, b.scores, b.targets, b.n),
};

/** Binary cross-entropy on positives (label 1) and sampled negatives (label 0). */
export const binaryCrossEntropy: Loss = {
  name: 'bce', kind: 'pair', implicit: true,
  compute: (b) => b.backend.kernels.bce_loss(b.dScores, b.scores, b.targets, b.n),
};

/** Bayesian personalised ranking: each positive against one sampled negative. */
export const bpr: Loss = {
  name: 'bpr', kind: 'pair', implicit: true,
  compute: (b) => b.backend.kernels.bpr_loss(b.dScores, b.scores, b.n / 2),
};

/**
 * In-batch sampled softmax: every user of the batch against every positive item of the batch,
 * logits ⟨u_i, v_j⟩/τ − log q_j, accidental hits masked. dU = dS·V, dV = dSᵀ·U.
 */
export const inBatchSoftmax: Loss = {
  name: 'softmax', kind: 'matrix', implicit: true,
  compute: (b) => {
    const k = b.backend.kernels;
    k.score_matrix(b.matrix, b.user, b.item, b.n, b.n, b.dim);
    const value = k.softmax_xent(b.matrix, b.matrix, b.logq, b.ids, b.n, b.temperature);
    k.dense_forward(b.dUser, b.matrix, b.item, 0, b.n, b.n, b.dim);
    k.dense_backward_weight(b.dItem, b.matrix, b.user, b.n, b.n, b.dim, 0);
    return value;
  },
};

const losses: Record<LossName, Loss> = { mse: squaredError, bce: binaryCrossEntropy, bpr, softmax: inBatchSoftmax };

export function resolveLoss(name: string): Loss {
  const loss = losses[name as LossName];
  if (!loss) fail('BAD_OPTION', `unknown loss ${JSON.stringify(name)}; available: ${Object.keys(losses).join(', ')}`);
  return loss;
}
