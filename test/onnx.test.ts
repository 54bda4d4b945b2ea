// ONNX export of the towers: ONNX Runtime (onnxruntime-node) computes the package's embeddings
// and biases from the exported graph, for a model with every feature kind (id, categorical,
// numeric, multi-hot with mean, sum and attention pooling), hidden layers and all three biases,
// after training moved every parameter. The file also decodes with onnx-proto (the writer's
// protobuf is well-formed and says opset 13).
import { describe, it, expect, beforeAll } from 'vitest';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { createModel, type Model, type FeatureTable, type MultiHotColumn } from '../src/index.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';

let model: Model;
let features: { userFeatures: FeatureTable; itemFeatures: FeatureTable };
beforeAll(async () => {
  features = tinyFeatures();
  model = await createModel(tinyConfig(), features);
  model.fit(tinyBatch(300, 4), { epochs: 3, learningRate: 0.02 });
});

/** The ONNX inputs of `rows` of a tower, from its feature table (multi-hot sets padded with vocabSize). */
function feeds(side: 'user' | 'item', rows: number[]): Record<string, ort.Tensor> {
  const config = side === 'user' ? model.config.user : model.config.item;
  const table = side === 'user' ? features.userFeatures : features.itemFeatures;
  const out: Record<string, ort.Tensor> = {};
  const n = rows.length;
  for (const spec of config.features) {
    const column = table.columns[spec.name];
    if (spec.kind === 'id') {
      out[spec.name] = new ort.Tensor('int64', BigInt64Array.from(rows, BigInt), [n]);
    } else if (spec.kind === 'categorical') {
      const c = column as Int32Array;
      out[spec.name] = new ort.Tensor(
        'int64',
        BigInt64Array.from(rows, (r) => BigInt(c[r]!)),
        [n],
      );
    } else if (spec.kind === 'numeric') {
      const c = column as Float32Array;
      out[spec.name] = new ort.Tensor(
        'float32',
        Float32Array.from(rows.flatMap((r) => Array.from(c.subarray(r * spec.size, (r + 1) * spec.size)))),
        [n, spec.size],
      );
    } else {
      const bag = column as MultiHotColumn;
      const length = Math.max(1, ...rows.map((r) => bag.offsets[r + 1]! - bag.offsets[r]!));
      const ids = new BigInt64Array(n * length).fill(BigInt(spec.vocabSize));
      const weights = new Float32Array(n * length);
      rows.forEach((r, i) => {
        for (let q = bag.offsets[r]!; q < bag.offsets[r + 1]!; q++) {
          ids[i * length + q - bag.offsets[r]!] = BigInt(bag.ids[q]!);
          weights[i * length + q - bag.offsets[r]!] = bag.weights ? bag.weights[q]! : 1;
        }
      });
      out[`${spec.name}_ids`] = new ort.Tensor('int64', ids, [n, length]);
      if (spec.pooling !== 'attention') out[`${spec.name}_weights`] = new ort.Tensor('float32', weights, [n, length]);
    }
  }
  return out;
}

describe('toOnnx', () => {
  it.each(['user', 'item'] as const)(
    'the %s tower in ONNX Runtime gives the package’s embeddings and biases (every feature kind)',
    async (side) => {
      const bytes = model.toOnnx({ tower: side });
      const session = await ort.InferenceSession.create(bytes);
      const count = side === 'user' ? model.userCount : model.itemCount;
      const rows = Array.from({ length: count }, (_, i) => i);
      const result = await session.run(feeds(side, rows));
      const got = result.embedding!.data as Float32Array;
      const want = side === 'user' ? model.userEmbeddings() : model.itemEmbeddings();
      expect(result.embedding!.dims).toEqual([count, model.dim]);
      let worst = 0;
      want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i]! - w) / Math.max(1, Math.abs(w)))));
      expect(worst).toBeLessThan(1e-5);
      // The bias output: users get the global bias plus their own, items their own.
      const p = model.parameters();
      const bias = result.bias!.data as Float32Array;
      rows.forEach((r) => {
        const expected = side === 'user' ? p['bias.global']![0]! + p['bias.user']![r]! : p['bias.item']![r]!;
        expect(bias[r]).toBeCloseTo(expected, 6);
      });
      await session.release();
    },
  );

  it('writes well-formed protobuf: onnx-proto decodes it, opset 13, the documented inputs and outputs', () => {
    type Decoded = { opsetImport: { version: number }[]; graph: { input: { name: string }[]; output: { name: string }[] } };
    const { onnx } = onnxProto as unknown as { onnx: { ModelProto: { decode(b: Uint8Array): Decoded } } };
    const decoded = onnx.ModelProto.decode(model.toOnnx({ tower: 'item' }));
    expect(Number(decoded.opsetImport[0]!.version)).toBe(13);
    expect(decoded.graph.input.map((i) => i.name)).toEqual([
      'item',
      'tags_ids',
      'tags_weights',
      'words_ids',
      'words_weights',
      'history_ids',
    ]);
    expect(decoded.graph.output.map((o) => o.name)).toEqual(['embedding', 'bias']);
    expect(() => model.toOnnx({ tower: 'both' as 'user' })).toThrow(/tower must be 'user' or 'item', got "both"/);
  });
});
