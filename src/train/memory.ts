// What training needs in the WebAssembly heap beyond the model's values, estimated before
// anything is allocated: each group's optimizer state (by its optimizer), its gradient (full
// for a whole-group optimizer; for a sparse one a row map of 4 bytes a row and a compact
// gradient of the rows one batch touches), the uploaded data, the towers' activations and the
// batch scratch. fit() checks the sum against the heap's limit (or options.memoryLimit) and
// refuses, naming the need and the remedies, rather than run into the wall halfway; createModel
// checks the values and one serving chunk's activations the same way; modelMemory() tells users
// the same figures for a config.
import { fail } from '../errors.js';
import { formatBytes } from '../backend/contract.js';
import type { ParamGroup } from '../model/parameters.js';
import { TwoTower } from '../model/twotower.js';
import { planOptimizers, type GroupPlan, type OptimizerOptions } from './optimizers/index.js';
import { MAX_BATCH_ROWS } from './options.js';
import type { TwoTowerConfig } from '../config/model.js';
import { featureKind } from '../model/features/index.js';

/** Training's extra bytes for a set of plans, by use. */
export interface TrainingBytes {
  optimizerState: number;
  gradients: number;
}

/**
 * Bytes of optimizer state and gradients for these plans. `held(group, optimizer)` tells state
 * already allocated for that optimizer (kept from an earlier fit), which costs nothing new.
 * `batchRows` bounds a compact gradient's rows (a multi-hot table may touch more: it grows).
 */
export function trainingBytes(
  plans: readonly GroupPlan[],
  floatBytes: number,
  batchRows: number,
  held: (group: ParamGroup, optimizer: string) => boolean = () => false,
): TrainingBytes {
  let optimizerState = 0,
    gradients = 0;
  for (const { group, optimizer } of plans) {
    if (!held(group, optimizer.name))
      for (const floats of optimizer.state(group)) optimizerState += Math.max(4, floats) * floatBytes;
    gradients += optimizer.sparse
      ? group.rows * 4 + Math.min(group.rows, Math.max(64, batchRows)) * group.width * floatBytes
      : group.size * floatBytes;
  }
  return { optimizerState, gradients };
}

/** Throws OUT_OF_MEMORY when `need` more bytes beside `held` would pass `limit`. */
export function checkHeapRoom(need: Record<string, number>, held: number, limit: number, limitName: string): void {
  const total = Object.values(need).reduce((a, b) => a + b, 0);
  if (held + total <= limit) return;
  const parts = Object.entries(need)
    .filter(([, bytes]) => bytes > 0)
    .map(([what, bytes]) => `${what} ${formatBytes(bytes)}`)
    .join(', ');
  fail(
    'OUT_OF_MEMORY',
    `fit() needs ${formatBytes(total)} (${parts}) beside the ${formatBytes(held)} the heap holds, over ${limitName} of ${formatBytes(limit)}: train the largest tables with optimizers: { embeddings: 'rowwiseAdagrad' } (4 bytes a row of state instead of Adam's 8 a parameter), use a smaller dim, or fewer ids (hashed ids); for the activations and the batch scratch, a smaller batchSize or narrower hidden layers (docs/limits.md)`,
  );
}

/** Rows the model embeds or predicts at once when serving (the chunk of src/model/twotower.ts). */
export const SERVING_ROWS = 4096;

/**
 * Bytes of one row of both towers' scratch (src/model/tower.ts's reserve): each tower's input and
 * its gradient, every dense layer's output and its gradient, and an i32 for each feature that
 * keeps one per row. A batch of n rows (training) or a chunk (serving) takes n times this. The
 * config must be valid (validateConfig).
 */
export function activationBytesPerRow(config: TwoTowerConfig, floatBytes: number): number {
  let bytes = 0;
  for (const side of ['user', 'item'] as const) {
    const tower = config[side];
    let input = 0;
    for (const spec of tower.features) {
      const kind = featureKind(spec);
      input += kind.width(spec);
      if (kind.rowScratch) bytes += 4;
    }
    const widths = [...(tower.hidden ?? []), ...(tower.project !== false ? [config.dim] : [])];
    bytes += 2 * (input + widths.reduce((a, b) => a + b, 0)) * floatBytes;
  }
  return bytes;
}

/**
 * Throws OUT_OF_MEMORY, before the model is built, when its values and its towers' activations for
 * one chunk of SERVING_ROWS rows (what embedding or scoring needs at least) would pass `limit`
 * beside the `held` bytes. `valueBytes` are the parameter groups' bytes.
 */
export function checkModelRoom(
  config: TwoTowerConfig,
  valueBytes: number,
  floatBytes: number,
  held: number,
  limit: number,
): void {
  const perRow = activationBytesPerRow(config, floatBytes);
  const activations = SERVING_ROWS * perRow;
  if (held + valueBytes + activations <= limit) return;
  fail(
    'OUT_OF_MEMORY',
    `the model needs ${formatBytes(valueBytes + activations)} (its parameter values ${formatBytes(valueBytes)}, its towers' activations for a chunk of ${SERVING_ROWS} rows ${formatBytes(activations)}: ${formatBytes(perRow)} a row) beside the ${formatBytes(held)} the heap holds, over its ${formatBytes(limit)} limit: use narrower hidden layers, a smaller dim or fewer ids (hashed ids) (docs/limits.md)`,
  );
}

/** What a model of a config holds in the WebAssembly heap (see modelMemory). */
export interface ModelMemory {
  /** Trainable numbers. */
  parameters: number;
  /** Bytes of the parameter values: all a model holds when it is only served. */
  bytes: number;
  /**
   * Bytes fit() adds with the given optimizers: their state (kept after fit, so a later fit
   * continues it) and the gradients (full for whole-group optimizers; for sparse ones a row map
   * of 4 bytes a row and one batch's rows; freed after fit). The data (about 16 bytes an event)
   * and the batch scratch come on top.
   */
  training: {
    optimizerState: number;
    gradients: number;
    /** Bytes of both towers' activations and their gradients for one batch (`batchSize` rows, default 256). */
    activations: number;
    /** optimizerState + gradients + activations. */
    total: number;
  };
}

/**
 * What a model of this config needs (see ModelMemory), for the optimizers fit() would use;
 * throws BAD_CONFIG for an invalid config, BAD_OPTION for unknown optimizers, and
 * OUT_OF_MEMORY for a table that cannot be one 1 GiB allocator block. Allocates nothing.
 */
export function modelMemory(
  config: TwoTowerConfig,
  options: { optimizers?: OptimizerOptions; batchSize?: number } = {},
): ModelMemory {
  const groups = TwoTower.parameterGroups(config);
  const plans = planOptimizers(groups, options.optimizers, 1);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_ROWS)
    fail('BAD_OPTION', `modelMemory: options.batchSize must be an integer in [1, ${MAX_BATCH_ROWS}], got ${batchSize}`);
  const t = trainingBytes(plans, 4, batchSize);
  const activations = batchSize * activationBytesPerRow(config, 4);
  return {
    parameters: groups.reduce((sum, g) => sum + g.blocks.reduce((s, b) => s + b.size, 0), 0),
    bytes: groups.reduce((sum, g) => sum + g.size * 4, 0),
    training: { ...t, activations, total: t.optimizerState + t.gradients + activations },
  };
}
