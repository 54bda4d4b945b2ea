// Training losses. A loss sees one batch after both towers ran: the embeddings U and V (n×d) and
// the pair scores s (⟨U, V⟩ plus biases). A 'pair' loss reads s and writes ds, and the trainer
// back-propagates through the dot product and the biases. A 'matrix' loss (in-batch softmax,
// which scores every user of the batch against every item of it) writes dU and dV itself.
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
}

export interface Loss {
  readonly name: LossName;
  readonly kind: 'pair' | 'matrix';
  /** Writes the gradients this loss owns and returns the batch's mean loss. */
  compute(batch: LossBatch): number;
}

export type LossName = 'mse';

/** Squared error on ratings: L = mean (s − y)². */
export const squaredError: Loss = {
  name: 'mse',
  kind: 'pair',
  compute: (b) => b.backend.kernels.mse_loss(b.dScores, b.scores, b.targets, b.n),
};

const losses: Record<LossName, Loss> = { mse: squaredError };

export function resolveLoss(name: string): Loss {
  const loss = losses[name as LossName];
  if (!loss) fail('BAD_OPTION', `unknown loss ${JSON.stringify(name)}; available: ${Object.keys(losses).join(', ')}`);
  return loss;
}
