// What training needs in the WebAssembly heap beyond the model's values, estimated before
// anything is allocated: each group's optimizer state (by its optimizer), its gradient (full
// for a whole-group optimizer; for a sparse one a row map of 4 bytes a row and a compact
// gradient of the rows one batch touches), the uploaded data and the batch scratch. fit()
// checks the sum against the heap's limit (or options.memoryLimit) and refuses, naming the need
// and the remedies, rather than run into the wall halfway.
import { fail } from '../errors.js';
import { formatBytes } from '../backend/contract.js';
import type { ParamGroup } from '../model/parameters.js';
import type { GroupPlan } from './optimizers/index.js';

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
    `fit() needs ${formatBytes(total)} (${parts}) beside the ${formatBytes(held)} the heap holds, over ${limitName} of ${formatBytes(limit)}: train the largest tables with optimizers: { embeddings: 'rowwiseAdagrad' } (4 bytes a row of state instead of Adam's 8 a parameter), use a smaller dim, or fewer ids (hashed ids) (docs/limits.md)`,
  );
}
