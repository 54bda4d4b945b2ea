// Serving bundles (Model.toBundle / loadBundle, issue 24: 4): what a device needs to rank and
// personalise, without optimizer state or training data. Each test states the property it checks:
// the bundle's scores are the model's (exactly with f32 item vectors, top-10 within int8 rounding
// with int8), it is small beside the model file, it keeps vocabularies and labels, it refuses to
// train, and corrupted or foreign bytes fail with a typed error.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { createModel, generateSynthetic, loadBundle, loadModel, train, TwoTowerError, type Model } from '../src/index.js';
import { loadDataset, trainRecipe, RECIPE_DEFAULTS, recipeOptions } from '../src/node/index.js';
import { ML100K, HAVE_ML100K } from './data.js';

/** Mean |top-10 of a ∩ top-10 of b| over users, for models answering in the same ids. */
function overlap(a: Model, b: Model, users: readonly (string | number)[]): number {
  let sum = 0;
  for (const u of users) {
    const x = a.recommend(u, { k: 10 }).map((r) => r.id);
    const y = new Set(b.recommend(u, { k: 10 }).map((r) => r.id));
    sum += x.filter((id) => y.has(id)).length;
  }
  return sum / users.length;
}

const code = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof TwoTowerError ? error.code : 'not a TwoTowerError';
  }
  return undefined;
};

describe('a serving bundle of a small trained model', () => {
  let model: Model;
  const events = Array.from({ length: 600 }, (_, i) => ({
    user: `u${i % 40}`,
    item: `m${(i * 7 + Math.floor(i / 40)) % 60}`,
    rating: 1 + (i % 5),
  }));
  beforeAll(async () => {
    model = await train(events, { epochs: 4, labels: { items: { m1: 'One', m2: 'Two' }, users: [['u1', 'Ann']] } });
    expect(model.labels.items.size).toBe(2);
  });
  afterAll(() => model.dispose());

  it('with f32 items and every user, recommends exactly what the model recommends (ids, scores, labels)', async () => {
    // As a Node Buffer inside a larger pool, as readFileSync may give it.
    const bytes = model.toBundle({ items: 'f32', users: true });
    const pooled = Buffer.alloc(bytes.length + 8);
    pooled.set(bytes, 8);
    const bundle = await loadBundle(pooled.subarray(8));
    for (const u of ['u0', 'u1', 'u17', 'u39']) {
      const a = model.recommend(u, { k: 10 }),
        b = bundle.recommend(u, { k: 10 });
      expect(b.map((r) => r.id)).toEqual(a.map((r) => r.id));
      b.forEach((r, i) => expect(r.score).toBeCloseTo(a[i]!.score, 4));
      expect(b.map((r) => r.label)).toEqual(a.map((r) => r.label));
    }
    expect(bundle.label('u1', { side: 'user' })).toBe('Ann');
    expect(bundle.servingOnly).toBe(true);
    expect(model.servingOnly).toBe(false);
    bundle.dispose();
  });

  it('by default keeps no per-user rows: one user row, no training items, no user labels; item labels and vocabulary stay', async () => {
    const bundle = await loadBundle(model.toBundle());
    expect(bundle.userCount).toBe(1);
    expect(bundle.itemCount).toBe(model.itemCount);
    expect(bundle.hasTrainingHistory).toBe(false);
    expect(bundle.labels.users.size).toBe(0);
    expect(bundle.label('m1')).toBe('One');
    expect(bundle.vocabularies.items!.keys()).toEqual(model.vocabularies.items!.keys());
    expect(code(() => bundle.recommend('u1'))).toBe('UNKNOWN_ID');
    expect(bundle.metadata.bundle).toEqual({ items: 'int8', users: false });
    expect(bundle.trainedWith).toEqual(model.trainedWith);
    bundle.dispose();
  });

  it('cannot be trained: fit, update and addItems throw SERVING_ONLY, and the bundle still ranks afterwards', async () => {
    const bundle = await loadBundle(model.toBundle({ users: true }));
    expect(code(() => bundle.update([{ user: 'u1', item: 'm3', rating: 5 }]))).toBe('SERVING_ONLY');
    expect(
      code(() => bundle.fit({ users: new Int32Array([1]), items: new Int32Array([1]), ratings: new Float32Array([5]) })),
    ).toBe('SERVING_ONLY');
    expect(code(() => bundle.addItems({ ids: ['new'], columns: {} }))).toBe('SERVING_ONLY');
    expect(bundle.recommend('u1', { k: 3 })).toHaveLength(3);
    bundle.dispose();
  });

  it('a model file is not a bundle, a bundle is not a model file, and a flipped byte is caught', async () => {
    const bytes = model.toBundle();
    await expect(loadBundle(model.toBytes())).rejects.toMatchObject({ code: 'BAD_MODEL_FILE', message: /loadModel/ });
    await expect(loadModel(bytes)).rejects.toMatchObject({ code: 'BAD_MODEL_FILE' });
    const flipped = bytes.slice();
    flipped[40] = flipped[40]! ^ 1;
    await expect(loadBundle(flipped)).rejects.toMatchObject({ code: 'BAD_MODEL_FILE', message: /checksum/ });
    await expect(loadBundle(bytes.subarray(0, bytes.length - 9))).rejects.toMatchObject({ code: 'BAD_MODEL_FILE' });
    expect(code(() => model.toBundle({ items: 'f16' as 'f32' }))).toBe('BAD_OPTION');
    expect(code(() => model.toBundle({ user: true } as never))).toBe('BAD_OPTION');
  });
});

describe('graph-aware towers (tied sets)', () => {
  it('a user set tied to the item id table gets its own copy of it: the f32 bundle ranks exactly as the model; other users’ rows need users: true', async () => {
    const events = Array.from({ length: 800 }, (_, i) => ({ user: `u${i % 40}`, item: `m${(i * 7 + Math.floor(i / 40)) % 50}` }));
    for (const graph of [1, 2] as const) {
      const model = await train(events, { epochs: 2, graph });
      const bundle = await loadBundle(model.toBundle({ items: 'f32', users: true }));
      for (const u of ['u0', 'u7', 'u33']) {
        const a = model.recommend(u, { k: 10 }),
          b = bundle.recommend(u, { k: 10 });
        expect(b.map((r) => r.id)).toEqual(a.map((r) => r.id));
        b.forEach((r, i) => expect(r.score).toBeCloseTo(a[i]!.score, 4));
      }
      expect(code(() => model.toBundle())).toBe(graph === 2 ? 'UNSUPPORTED' : undefined);
      bundle.dispose();
      model.dispose();
    }
  });
});

describe('a 100k-item synthetic model', () => {
  it('int8 bundle ≤ 0.35 × the model file (no optimizer state); f32 top-10 identical; int8 overlap ≥ 9.5/10', async () => {
    const data = generateSynthetic({ users: 300, items: 100_000, ratingsPerUser: 40, seed: 7 });
    const model = await createModel({
      dim: 32,
      user: { features: [{ kind: 'id', name: 'user', vocabSize: 300, dim: 32 }], project: false },
      item: { features: [{ kind: 'id', name: 'item', vocabSize: 100_000, dim: 32 }], project: false },
      bias: { global: true, user: true, item: true },
    });
    model.fit(data.train, { epochs: 2, batchSize: 1024, learningRate: 0.02 });
    const file = model.toBytes({ optimizerState: false }).length;
    const int8 = model.toBundle();
    const ratio = int8.length / file;
    console.log(`100k items: model file ${file} bytes, int8 bundle ${int8.length} (${ratio.toFixed(3)} ×)`);
    expect(ratio).toBeLessThanOrEqual(0.35);
    const users = Array.from({ length: 60 }, (_, u) => u * 5);
    const f32 = await loadBundle(model.toBundle({ items: 'f32', users: true }));
    expect(overlap(model, f32, users)).toBe(10);
    const q = await loadBundle(model.toBundle({ users: true }));
    expect(overlap(model, q, users)).toBeGreaterThanOrEqual(9.5);
    for (const m of [model, f32, q]) m.dispose();
  });
});

describe.skipIf(!HAVE_ML100K)('MovieLens 100K u1 (the default recipes, few epochs)', () => {
  for (const loss of ['mse', 'softmax'] as const) {
    it(`${loss}: int8 bundle ≤ 0.35 × the model file; f32 top-10 identical, int8 ≥ 9.5/10 over 300 users; titles kept`, async () => {
      const ds = await loadDataset({ data: join(ML100K, 'u1.base') });
      const options = loss === 'mse' ? { ...RECIPE_DEFAULTS, tune: false } : recipeOptions('softmax');
      const { model } = await trainRecipe(ds, { ...options, epochs: 4 });
      model.setLabels(ds.labels!);
      const file = model.toBytes({ optimizerState: false }).length;
      const int8 = model.toBundle();
      console.log(`ML-100K ${loss}: model file ${file} bytes, int8 bundle ${int8.length} (${(int8.length / file).toFixed(3)} ×)`);
      expect(int8.length / file).toBeLessThanOrEqual(0.35);
      const users = ds.users.keys().slice(0, 300);
      const f32 = await loadBundle(model.toBundle({ items: 'f32', users: true }));
      expect(overlap(model, f32, users)).toBe(10);
      const q = await loadBundle(model.toBundle({ users: true }));
      const o = overlap(model, q, users);
      console.log(`ML-100K ${loss}: int8 top-10 overlap ${o.toFixed(3)}`);
      expect(o).toBeGreaterThanOrEqual(9.5);
      const slim = await loadBundle(int8);
      expect(slim.label('50')).toBe('Star Wars (1977)');
      for (const m of [model, f32, q, slim]) m.dispose();
    });
  }
});
