// Top-k results as the package returns them, and the one place rows are padded to k.

export interface TopKResult {
  /** B×k item indices, best first; −1 where fewer than k items remain. */
  indices: Int32Array;
  /** B×k scores matching indices; −∞ where the index is −1. */
  scores: Float32Array;
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
