// Rows of a feature table picked out as columns of their own (the entities' rows in the order
// given): what addItems / update take for new entities, cut from a table built for them.
import type { FeatureColumn, FeatureTable, MultiHotColumn } from '../config/feature-table.js';

/** The columns of `table` restricted to `rows`, in that order (multi-hot weights kept). */
export function selectRows(table: FeatureTable, rows: readonly number[]): Record<string, FeatureColumn> {
  const out: Record<string, FeatureColumn> = Object.create(null) as Record<string, FeatureColumn>;
  for (const [name, column] of Object.entries(table.columns)) {
    if (column instanceof Int32Array || column instanceof Float32Array) {
      const size = column.length / table.count;
      const picked = column instanceof Int32Array ? new Int32Array(rows.length * size) : new Float32Array(rows.length * size);
      rows.forEach((r, i) => picked.set(column.subarray(r * size, (r + 1) * size), i * size));
      out[name] = picked;
    } else {
      const bag = column as MultiHotColumn;
      const offsets = new Int32Array(rows.length + 1);
      rows.forEach((r, i) => (offsets[i + 1] = offsets[i]! + bag.offsets[r + 1]! - bag.offsets[r]!));
      const ids = new Int32Array(offsets[rows.length]!);
      const weights = bag.weights ? new Float32Array(ids.length) : undefined;
      rows.forEach((r, i) => {
        ids.set(bag.ids.subarray(bag.offsets[r]!, bag.offsets[r + 1]!), offsets[i]!);
        weights?.set(bag.weights!.subarray(bag.offsets[r]!, bag.offsets[r + 1]!), offsets[i]!);
      });
      out[name] = weights ? { offsets, ids, weights } : { offsets, ids };
    }
  }
  return out;
}
