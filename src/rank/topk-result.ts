// Top-k results as the package returns them, the bound on their size, and the one place rows
// are padded to k.
import { fail } from '../errors.js';

export interface TopKResult {
  /** B×k item indices, best first; −1 where fewer than k items remain. */
  indices: Int32Array;
  /** B×k scores matching indices; −∞ where the index is −1. */
  scores: Float32Array;
}

/**
 * Most result entries (rows × k) one call may return: 2²⁴ entries are 128 MiB of indices and
 * scores, and the heap needs as much again while the scan runs. A k or a batch from a request
 * cannot take the process down.
 */
export const MAX_RESULT_ENTRIES = 2 ** 24;

/** Throws BAD_OPTION unless `k` is an integer ≥ 1 and `rows × k` stays within MAX_RESULT_ENTRIES. */
export function checkK(k: number, rows: number, where: string): void {
  if (!Number.isInteger(k) || k < 1) fail('BAD_OPTION', `${where}: k must be an integer ≥ 1, got ${k}`);
  if (rows * k > MAX_RESULT_ENTRIES) {
    fail(
      'BAD_OPTION',
      `${where}: ${rows.toLocaleString('en-US')} rows × k ${k.toLocaleString('en-US')} = ${(rows * k).toLocaleString('en-US')} result entries, over the limit of ${MAX_RESULT_ENTRIES.toLocaleString('en-US')} per call: ask for a smaller k, or fewer rows per call (docs/limits.md)`,
    );
  }
}

/**
 * Rows of width `have` widened to width `k` (k ≥ have), padded with −1 / −∞; `mapIndex` maps
 * each kept index (e.g. a position in an allow-list back to the item index).
 */
export function padRows(
  indices: ArrayLike<number>,
  scores: ArrayLike<number>,
  rows: number,
  have: number,
  k: number,
  mapIndex?: (j: number) => number,
): TopKResult {
  const out: TopKResult = { indices: new Int32Array(rows * k).fill(-1), scores: new Float32Array(rows * k).fill(-Infinity) };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < have; c++) {
      const j = indices[r * have + c]!;
      if (j < 0) continue;
      out.indices[r * k + c] = mapIndex ? mapIndex(j) : j;
      out.scores[r * k + c] = scores[r * have + c]!;
    }
  }
  return out;
}
