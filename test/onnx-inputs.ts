// The inputs of an exported tower (src/api/onnx.ts) for some rows of its feature table, as plain
// arrays: an id's row, a category, numeric values, multi-hot sets padded with vocabSize and
// their weights. Wrapped into ort.Tensors in Node (test/onnx.test.ts) and in a page (test/browser.test.ts).
import type { FeatureSpec, FeatureTable, MultiHotColumn } from '../src/index.js';

export interface PlainInput {
  type: 'int64' | 'float32';
  data: number[];
  dims: number[];
}

export function towerInputs(
  specs: readonly FeatureSpec[],
  table: FeatureTable,
  rows: readonly number[],
): Record<string, PlainInput> {
  const out: Record<string, PlainInput> = {};
  const n = rows.length;
  for (const spec of specs) {
    const column = table.columns[spec.name];
    if (spec.kind === 'id') out[spec.name] = { type: 'int64', data: [...rows], dims: [n] };
    else if (spec.kind === 'categorical') {
      const c = column as Int32Array;
      out[spec.name] = { type: 'int64', data: rows.map((r) => c[r]!), dims: [n] };
    } else if (spec.kind === 'numeric') {
      const c = column as Float32Array;
      out[spec.name] = {
        type: 'float32',
        data: rows.flatMap((r) => Array.from(c.subarray(r * spec.size, (r + 1) * spec.size))),
        dims: [n, spec.size],
      };
    } else {
      const bag = column as MultiHotColumn;
      const length = Math.max(1, ...rows.map((r) => bag.offsets[r + 1]! - bag.offsets[r]!));
      const ids = new Array<number>(n * length).fill(spec.vocabSize),
        weights = new Array<number>(n * length).fill(0);
      rows.forEach((r, i) => {
        for (let q = bag.offsets[r]!; q < bag.offsets[r + 1]!; q++) {
          ids[i * length + q - bag.offsets[r]!] = bag.ids[q]!;
          weights[i * length + q - bag.offsets[r]!] = bag.weights ? bag.weights[q]! : 1;
        }
      });
      out[`${spec.name}_ids`] = { type: 'int64', data: ids, dims: [n, length] };
      if (spec.pooling !== 'attention') out[`${spec.name}_weights`] = { type: 'float32', data: weights, dims: [n, length] };
    }
  }
  return out;
}
