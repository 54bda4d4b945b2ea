// ONNX export of the towers: ONNX Runtime (onnxruntime-node) computes the package's embeddings
// and biases from the exported graph, for a model with every feature kind (id, categorical,
// numeric, multi-hot with mean, sum and attention pooling), hidden layers and all three biases,
// after training moved every parameter. The file also decodes with onnx-proto (the writer's
// protobuf is well-formed and says opset 13).
import { describe, it, expect, beforeAll } from 'vitest';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { createModel, train, type Model, type FeatureTable } from '../src/index.js';
import type { OnnxInput } from '../src/api/onnx.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';
import { join } from 'node:path';
import { loadDataset, trainRecipe, recipeOptions, RECIPE_DEFAULTS } from '../src/node/index.js';
import { ML100K, HAVE_ML100K } from './data.js';

let model: Model;
let features: { userFeatures: FeatureTable; itemFeatures: FeatureTable };
beforeAll(async () => {
  features = tinyFeatures();
  model = await createModel(tinyConfig(), features);
  model.fit(tinyBatch(300, 4), { epochs: 3, learningRate: 0.02 });
});

/** The ONNX inputs of `rows` of a tower (model.onnxInputs), as ort.Tensors. */
function feeds(side: 'user' | 'item', rows: number[], of: Model = model): Record<string, ort.Tensor> {
  return tensors(of.onnxInputs({ tower: side, rows }));
}

/** model.onnxInputs' typed arrays as ort.Tensors. */
function tensors(inputs: Record<string, OnnxInput>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(inputs).map(([name, x]) => [name, new ort.Tensor(x.type, x.data, x.dims)]));
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
      const want = side === 'user' ? model.rows.userEmbeddings() : model.rows.itemEmbeddings();
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

describe('model.onnxInputs', () => {
  it('builds a tower’s inputs for given ids: ORT gives the package’s embeddings, interaction sets weighted 1/√n', async () => {
    const events = Array.from({ length: 600 }, (_, i) => ({ user: `u${i % 37}`, item: `sku-${(i * 13) % 53}`, time: i }));
    // The implicit feature (the items a user had, the users an item had, each weighted 1/√n) and a mean-pooled history.
    const m = await train(events, { epochs: 2, implicitDim: 8, history: 5, seed: 3 });
    for (const side of ['user', 'item'] as const) {
      const ids = side === 'user' ? ['u5', 'u0', 'u36', 'u5'] : ['sku-0', 'sku-52', 'sku-13'];
      const vocab = side === 'user' ? m.vocabularies.users! : m.vocabularies.items!;
      const rows = ids.map((id) => vocab.lookup(id));
      const inputs = m.onnxInputs({ tower: side, ids });
      const set = side === 'user' ? 'rated' : 'raters';
      expect(inputs[`${set}_weights`]!.type).toBe('float32');
      expect(inputs[side]).toEqual({ type: 'int64', data: BigInt64Array.from(rows, BigInt), dims: [ids.length] });
      const session = await ort.InferenceSession.create(m.toOnnx({ tower: side }));
      const want = side === 'user' ? m.rows.userEmbeddings(rows) : m.rows.itemEmbeddings(rows);
      const got = (await session.run(tensors(inputs))).embedding!.data as Float32Array;
      want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThan(1e-5 * Math.max(1, Math.abs(w))));
      // The same rows by index give the same inputs.
      expect(m.onnxInputs({ tower: side, rows })).toEqual(inputs);
      // Weights of 1 (what docs/serving.md used to say) do not give the tower's embedding.
      const ones = inputs[`${set}_weights`]!.data as Float32Array;
      const weighted = Float32Array.from(ones);
      ones.forEach((w, i) => (ones[i] = w > 0 ? 1 : 0));
      const wrong = (await session.run(tensors(inputs))).embedding!.data as Float32Array;
      expect(Math.max(...want.map((w, i) => Math.abs(wrong[i]! - w)))).toBeGreaterThan(1e-3);
      ones.set(weighted);
      await session.release();
    }
    expect(() => m.onnxInputs({ tower: 'user', ids: ['nobody'] })).toThrow(/user "nobody" is not in the model's vocabulary/);
    expect(() => m.onnxInputs({ tower: 'both' as 'user', ids: ['u1'] })).toThrow(/tower must be 'user' or 'item'/);
    expect(() => m.onnxInputs({ tower: 'item', rows: [m.itemCount] })).toThrow(`row ${m.itemCount} is not an item row`);
    m.dispose();
  });
});

/** The largest relative difference between ONNX Runtime's and the package's embeddings of a tower, and ORT's outputs. */
async function compare(of: Model, side: 'user' | 'item') {
  const session = await ort.InferenceSession.create(of.toOnnx({ tower: side }));
  const count = side === 'user' ? of.userCount : of.itemCount;
  const rows = Array.from({ length: count }, (_, i) => i);
  const result = await session.run(feeds(side, rows, of));
  await session.release();
  const got = result.embedding!.data as Float32Array;
  const want = side === 'user' ? of.rows.userEmbeddings() : of.rows.itemEmbeddings();
  let worst = 0;
  want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i]! - w) / Math.max(1, Math.abs(w)))));
  return { worst, embeddings: got, bias: result.bias?.data as Float32Array | undefined };
}

describe.skipIf(!HAVE_ML100K)('toOnnx on MovieLens 100K models', () => {
  it.each([
    ['the rating recipe (side features, the implicit feature, biases)', RECIPE_DEFAULTS],
    ['the retrieval recipe with a history feature, mean pooling', recipeOptions('softmax', { history: 20 })],
    [
      'the retrieval recipe with a history feature, attention pooling',
      recipeOptions('softmax', { history: 20, historyPooling: 'attention' }),
    ],
  ] as const)('%s: ORT embeddings within 1e-5, and their top-10 for 100 users is recommend()’s', async (_label, options) => {
    const ds = await loadDataset({ data: join(ML100K, 'u1.base'), test: join(ML100K, 'u1.test') });
    const { model: m } = await trainRecipe(ds, { ...options, epochs: 2, refit: false });
    const users = await compare(m, 'user'),
      items = await compare(m, 'item');
    console.log(`${_label}: largest relative difference ${Math.max(users.worst, items.worst).toExponential(2)}`);
    expect(users.worst).toBeLessThan(1e-5);
    expect(items.worst).toBeLessThan(1e-5);
    // Scores from the ONNX outputs alone: ⟨u, v⟩ + the user's bias output + the item's.
    const d = m.dim,
      nItems = m.itemCount;
    for (let user = 1; user <= 100; user++) {
      const scores = Float64Array.from({ length: nItems }, (_, i) => {
        let s = (users.bias?.[user] ?? 0) + (items.bias?.[i] ?? 0);
        for (let c = 0; c < d; c++) s += users.embeddings[user * d + c]! * items.embeddings[i * d + c]!;
        return i === 0 ? -Infinity : s; // row 0 is the unknown item, never recommended
      });
      const onnxTop = Array.from(scores.keys())
        .sort((a, b) => scores[b]! - scores[a]! || a - b)
        .slice(0, 10);
      const rec = m.rows.recommend(Int32Array.of(user), { k: 10, excludeSeen: false });
      const ranked = Array.from(rec.indices.subarray(0, 10));
      // The same list; where float rounding swaps two items, their scores tie within 1e-5.
      ranked.forEach((item, r) => expect(Math.abs(scores[item]! - scores[onnxTop[r]!]!)).toBeLessThan(1e-5));
    }
    m.dispose();
  });
});
