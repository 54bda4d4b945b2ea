// The whole model's gradient, checked two ways:
// 1. In f64 through the reference backend: analytic gradients of the batch loss with respect to
//    every parameter block (embeddings, dense weights and biases, the three bias terms) against
//    central finite differences (L(θ+h) − L(θ−h)) / 2h.
// 2. The WASM model's gradients against the reference's, from identical parameter values.
import { describe, it, expect } from 'vitest';
import { createModel, ReferenceBackend, type Model } from '../src/index.js';
import { squaredError } from '../src/train/losses/mse.js';
import { lossAndGradients } from '../src/train/step.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';
import { expectClose, core } from './helpers.js';

const H = 1e-6;

async function referenceModel(): Promise<Model> {
  return createModel(tinyConfig(), { backend: new ReferenceBackend(), ...tinyFeatures() });
}

function lossOf(model: Model, n: number): number {
  return lossAndGradients(core(model), n, squaredError);
}

describe('model gradients', () => {
  it('match central finite differences for every parameter block (f64 reference)', async () => {
    const model = await referenceModel();
    const batch = tinyBatch();
    const store = core(model).store;
    const n = core(model).stagePairs(batch.users, batch.items, batch.ratings);
    lossOf(model, n);
    const analytic = new Map(store.blocks.map((b) => [b.name, Float64Array.from(store.grads(b))]));
    let checked = 0;
    for (const block of store.blocks) {
      const values = () => store.values(block);
      const numeric: number[] = [];
      const expected: number[] = [];
      for (let i = 0; i < block.size; i++) {
        const original = values()[i]!;
        values()[i] = original + H;
        const up = lossOf(model, n);
        values()[i] = original - H;
        const down = lossOf(model, n);
        values()[i] = original;
        numeric.push((up - down) / (2 * H));
        expected.push(analytic.get(block.name)![i]!);
      }
      // f64 central differences at h = 1e-6 are good to ~1e-9; ReLU kinks would show as O(1) misses.
      expectClose(numeric, expected, 1e-7, 1e-6);
      checked += block.size;
      expect(
        expected.some((g) => g !== 0),
        `${block.name} gets some gradient`,
      ).toBe(true);
    }
    expect(store.blocks.map((b) => b.name)).toEqual([
      'user.user.embedding',
      'user.group.embedding',
      'user.seen.embedding',
      'user.dense0.weight',
      'user.dense0.bias',
      'user.dense1.weight',
      'user.dense1.bias',
      'user.dense2.weight',
      'user.dense2.bias',
      'item.item.embedding',
      'item.tags.embedding',
      'item.words.embedding',
      'item.history.embedding',
      'item.history.attention',
      'item.dense0.weight',
      'item.dense0.bias',
      'item.dense1.weight',
      'item.dense1.bias',
      'bias.global',
      'bias.user',
      'bias.item',
    ]);
    expect(checked).toBeGreaterThan(300);
  });

  it('are exactly 0 for id-embedding rows the batch does not touch', async () => {
    const model = await referenceModel();
    const batch = tinyBatch(3, 2);
    lossOf(model, core(model).stagePairs(batch.users, batch.items, batch.ratings));
    const store = core(model).store;
    for (const [table, used, dim] of [
      ['user.user.embedding', batch.users, 3],
      ['item.item.embedding', batch.items, 4],
    ] as const) {
      const grad = store.grads(store.find(table)!);
      const rows = Array.from({ length: grad.length / dim }, (_, r) => r);
      const unused = rows.filter((r) => !used.includes(r));
      expect(unused.length, `the batch leaves some rows of ${table} unused`).toBeGreaterThan(0);
      for (const r of unused)
        expect(Array.from(grad.subarray(r * dim, r * dim + dim)), `${table} row ${r}`).toEqual(new Array(dim).fill(0));
      for (const r of rows.filter((r) => used.includes(r)))
        expect(
          grad.subarray(r * dim, r * dim + dim).some((g) => g !== 0),
          `${table} row ${r}`,
        ).toBe(true);
    }
    model.dispose();
  });

  it.each(['simd', 'relaxed'] as const)(
    'of the WASM %s build equal the reference gradients from the same weights',
    async (build) => {
      const wasm = await createModel(tinyConfig(), { wasm: { build }, ...tinyFeatures() });
      const ref = await referenceModel();
      ref.setParameters(wasm.parameters());
      const batch = tinyBatch(37, 4);
      const lossWasm = lossOf(wasm, core(wasm).stagePairs(batch.users, batch.items, batch.ratings));
      const lossRef = lossOf(ref, core(ref).stagePairs(batch.users, batch.items, batch.ratings));
      expect(lossWasm).toBeCloseTo(lossRef, 4);
      const wasmStore = core(wasm).store,
        refStore = core(ref).store;
      for (const block of wasmStore.blocks) {
        expectClose(
          Float64Array.from(wasmStore.grads(block)),
          Float64Array.from(refStore.grads(refStore.find(block.name)!)),
          2e-5,
          2e-4,
        );
      }
      wasm.dispose();
    },
  );
});
