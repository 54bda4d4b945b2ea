// The whole model's gradient, checked two ways:
// 1. In f64 through the reference backend: analytic gradients of the batch loss with respect to
//    every parameter block (embeddings, dense weights and biases, the three bias terms) against
//    central finite differences (L(θ+h) − L(θ−h)) / 2h.
// 2. The WASM model's gradients against the reference's, from identical parameter values.
import { describe, it, expect } from 'vitest';
import { createModel, ReferenceBackend, type Model } from '../src/index.js';
import { squaredError } from '../src/train/losses.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';
import { expectClose } from './helpers.js';

const H = 1e-6;

async function referenceModel(): Promise<Model> {
  return createModel(tinyConfig(), { backend: new ReferenceBackend(), ...tinyFeatures() });
}

function lossOf(model: Model, n: number): number {
  return model.lossAndGradients(n, squaredError);
}

describe('model gradients', () => {
  it('match central finite differences for every parameter block (f64 reference)', async () => {
    const model = await referenceModel();
    const batch = tinyBatch();
    const n = model.stagePairs(batch.users, batch.items, batch.ratings);
    lossOf(model, n);
    const analytic = new Map(model.store.blocks.map((b) => [b.name, Float64Array.from(model.store.grads(b))]));
    // A batch of random ids leaves some embedding rows unused: their gradient must be exactly 0.
    let checked = 0;
    for (const block of model.store.blocks) {
      const values = () => model.store.values(block);
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
      expect(expected.some((g) => g !== 0), `${block.name} gets some gradient`).toBe(true);
    }
    expect(model.store.blocks.map((b) => b.name)).toEqual([
      'user.user.embedding', 'user.group.embedding', 'user.seen.embedding', 'user.dense0.weight', 'user.dense0.bias', 'user.dense1.weight',
      'user.dense1.bias', 'user.dense2.weight', 'user.dense2.bias', 'item.item.embedding', 'item.tags.embedding',
      'item.words.embedding', 'item.history.embedding', 'item.history.attention', 'item.dense0.weight', 'item.dense0.bias', 'item.dense1.weight', 'item.dense1.bias',
      'bias.global', 'bias.user', 'bias.item',
    ]);
    expect(checked).toBeGreaterThan(300);
  });

  it.each(['simd', 'relaxed'] as const)('of the WASM %s build equal the reference gradients from the same weights', async (build) => {
    const wasm = await createModel(tinyConfig(), { wasm: { build }, ...tinyFeatures() });
    const ref = await referenceModel();
    for (const block of wasm.store.blocks) ref.store.values(ref.store.find(block.name)!).set(wasm.store.values(block));
    const batch = tinyBatch(37, 4);
    const lossWasm = lossOf(wasm, wasm.stagePairs(batch.users, batch.items, batch.ratings));
    const lossRef = lossOf(ref, ref.stagePairs(batch.users, batch.items, batch.ratings));
    expect(lossWasm).toBeCloseTo(lossRef, 4);
    for (const block of wasm.store.blocks) {
      expectClose(Float64Array.from(wasm.store.grads(block)), Float64Array.from(ref.store.grads(ref.store.find(block.name)!)), 2e-5, 2e-4);
    }
    wasm.dispose();
  });
});
