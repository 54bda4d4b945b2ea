// The contract of a training loss: one module per loss (mse.ts, bce.ts, bpr.ts, softmax.ts),
// listed in index.ts. A loss says how a batch is laid out from its positives (what rows it
// needs, what the sampler stages), computes its value and the gradients it owns, and gives its
// name to the CLI. A 'pair' loss reads the pair scores s (⟨U, V⟩ plus biases) and writes ds;
// the trainer back-propagates through the dot product and the biases. A 'matrix' loss (the
// in-batch softmax, scoring every user of the batch against every item of it) writes dU and dV.
import type { Backend, RowCall } from '../../backend/contract.js';
import type { TwoTower } from '../../model/twotower.js';
import type { Interactions } from '../../data/interactions.js';
import type { Random } from '../../util/random.js';
import type { ImplicitSampler } from '../implicit-sampler.js';
import type { TrainScratch } from '../scratch.js';

/** The fit options a loss reads. */
export interface LossSettings {
  /** Sampled negatives per positive (bce). */
  negatives: number;
  /** Logit temperature τ (softmax). */
  temperature: number;
  /** Subtract log q from each item's logit (softmax). */
  logQCorrection: boolean;
  /** Mask other rows of the batch that hold the row's own positive item (softmax). */
  removeAccidentalHits: boolean;
  /** Items drawn uniformly per batch as extra negatives (softmax; 0 or absent: none). */
  uniformNegatives?: number;
  /** Margin m of the cosine contrastive loss: negatives with cosine above it are pushed down (ccl). */
  margin?: number;
  /** Weight w of the negatives' mean hinge against the positive's term (ccl). */
  negativeWeight?: number;
  /** The batch's other items are negatives (ccl; default true): false leaves only the extra items. */
  inBatchNegatives?: boolean;
}

/** One batch to lay out in the model's pair scratch (`core.pairs`): users, items, targets. */
export interface StageContext {
  core: TwoTower;
  /** The training interactions (positives only, for implicit losses). */
  train: Interactions;
  /** The same arrays uploaded to the heap (i32 users and items, float targets), for gather kernels. */
  heap: { users: number; items: number; targets: number };
  /** This batch's examples: rows of `train`, as a JS view and as i32 in the heap. */
  rows: Int32Array;
  rowsPtr: number;
  /** Negatives and log q (implicit losses only). */
  sampler: ImplicitSampler | null;
  random: Random;
  scratch: TrainScratch;
  settings: LossSettings;
}

/** One staged batch after both towers ran (byte addresses). */
export interface LossBatch {
  backend: Backend;
  /** Rows in the batch. */
  n: number;
  /** Embedding width. */
  dim: number;
  /** Item rows after the n paired ones (extra negatives of a 'matrix' loss, see Loss.extraItems). */
  extra: number;
  /** n×dim user embeddings, (n + extra)×dim item embeddings, n scores, n targets, n item indices. */
  user: number;
  item: number;
  scores: number;
  targets: number;
  items: number;
  /** Outputs: n score gradients ('pair'), or n×dim and (n + extra)×dim embedding gradients ('matrix'). */
  dScores: number;
  dUser: number;
  dItem: number;
  scratch: TrainScratch;
  settings: LossSettings;
  /** Runs a row-parallel kernel over [0, total) rows, split across the model's threads (model/row-split.ts). */
  byRows(total: number, make: (row0: number, rows: number) => RowCall): void;
}

export interface Loss {
  /** The name options and the CLI use. */
  readonly name: string;
  /** One line for help texts. */
  readonly summary: string;
  readonly kind: 'pair' | 'matrix';
  /** Implicit feedback: targets come from the loss (positives and sampled negatives), not ratings. */
  readonly implicit: boolean;
  /** Defaults the training recipe (CLI) uses with this loss, where they differ from its own. */
  readonly recipeDefaults?: { l2?: number };
  /** Batch rows per positive: the largest batch is batchSize × this. */
  rowsPerPositive(settings: LossSettings): number;
  /**
   * Item rows a batch stages after its paired rows (at pairs.items[n..]; a 'matrix' loss only):
   * they run through the item tower and get gradients like the batch's items. Default 0.
   */
  extraItems?(settings: LossSettings): number;
  /** Writes the batch for ctx.rows into the pair scratch; returns its row count. */
  stage(ctx: StageContext): number;
  /** Writes the gradients this loss owns and returns the batch's mean loss. */
  compute(batch: LossBatch): number;
}

/** Copies JS-side batch rows into the model's pair scratch. */
export function writePairs(core: TwoTower, users: Int32Array, items: Int32Array, targets: Float32Array, count: number): void {
  const be = core.backend,
    p = core.pairs;
  be.ints(p.users, count).set(users.subarray(0, count));
  be.ints(p.items, count).set(items.subarray(0, count));
  be.floats(p.targets, count).set(targets.subarray(0, count));
}

/**
 * Stages a matrix loss's batch: the rows' (user, item) pairs, then settings.uniformNegatives items
 * drawn uniformly (seeded by the fit's stream) as extra item rows after them (mixed negative
 * sampling). Returns the staging arrays (items holds positives then extras) and the row count.
 */
export function stagePositivesAndExtras(ctx: StageContext): {
  out: { users: Int32Array; items: Int32Array; targets: Float32Array };
  m: number;
  extra: number;
} {
  const { core, train, rows, sampler, random, settings } = ctx;
  const m = rows.length;
  const extra = settings.uniformNegatives ?? 0;
  const out = stagingRows(sampler!, m + extra);
  for (let r = 0; r < m; r++) {
    out.users[r] = train.users[rows[r]!]!;
    out.items[r] = train.items[rows[r]!]!;
  }
  for (let r = m; r < m + extra; r++) out.items[r] = random.int(core.itemCount);
  writePairs(core, out.users, out.items, out.targets, m);
  if (extra > 0) core.backend.ints(core.pairs.items, m + extra).set(out.items.subarray(0, m + extra));
  return { out, m, extra };
}

/** JS-side staging arrays of at least `n` rows, kept per sampler (no allocation per batch). */
const staging = new WeakMap<object, { users: Int32Array; items: Int32Array; targets: Float32Array }>();
export function stagingRows(owner: object, n: number): { users: Int32Array; items: Int32Array; targets: Float32Array } {
  let rows = staging.get(owner);
  if (!rows || rows.users.length < n) {
    rows = { users: new Int32Array(n), items: new Int32Array(n), targets: new Float32Array(n) };
    staging.set(owner, rows);
  }
  return rows;
}
