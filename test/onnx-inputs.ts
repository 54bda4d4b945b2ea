// The inputs of an exported tower for some rows of a feature table as plain arrays (JSON), for a
// page that wraps them into onnxruntime-web Tensors (test/browser.test.ts). The library builds
// them (featureInputs in src/api/onnx.ts, model.onnxInputs for a model's own rows): this only
// turns its typed arrays into numbers.
import type { FeatureSpec, FeatureTable } from '../src/index.js';
import { featureInputs } from '../src/api/onnx.js';

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
  for (const [name, x] of Object.entries(featureInputs(specs, table, rows)))
    out[name] = { type: x.type, data: Array.from(x.data as ArrayLike<number | bigint>, Number), dims: x.dims };
  return out;
}
