// The registry of training losses: one module each. Adding a loss adds one line here; options
// validation, the CLI's --loss choices and its help come from this table.
import { fail } from '../../errors.js';
import type { Loss } from './loss.js';
import { squaredError } from './mse.js';
import { binaryCrossEntropy } from './bce.js';
import { bpr } from './bpr.js';
import { inBatchSoftmax } from './softmax.js';
import { cosineContrastive } from './ccl.js';

export const LOSSES = {
  mse: squaredError,
  bce: binaryCrossEntropy,
  bpr,
  softmax: inBatchSoftmax,
  ccl: cosineContrastive,
} as const satisfies Record<string, Loss>;

/** The name of a built-in loss. */
export type LossName = keyof typeof LOSSES;

export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

export function resolveLoss(name: string): Loss {
  if (!Object.hasOwn(LOSSES, name))
    fail('BAD_OPTION', `unknown loss ${JSON.stringify(name)}; available: ${LOSS_NAMES.join(', ')}`);
  return LOSSES[name as LossName];
}

export type { Loss, LossBatch, LossSettings, StageContext } from './loss.js';
