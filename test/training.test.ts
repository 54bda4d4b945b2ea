// Training end to end: determinism, quality on the synthetic data against its noise floor,
// a flat heap over 1,000 steps, and the per-batch / per-epoch callbacks.
import { describe, it, expect } from 'vitest';
import { createModel, generateSynthetic, type TwoTowerConfig } from '../src/index.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';

describe('training', () => {
  it('is bit-for-bit deterministic for a seed: identical weights after 100 Adam steps', async () => {
    const data = tinyBatch(100 * 16, 21);
    const run = async (seed: number) => {
      const model = await createModel(tinyConfig(seed), tinyFeatures());
      const result = model.fit(data, { epochs: 2, batchSize: 32, seed });
      expect(result.steps).toBe(100);
      const params = model.parameters();
      model.dispose();
      return params;
    };
    const a = await run(5),
      b = await run(5),
      c = await run(6);
    for (const name of Object.keys(a)) expect(b[name], name).toEqual(a[name]);
    expect(Object.keys(a).some((name) => a[name]!.some((x, i) => x !== c[name]![i]))).toBe(true);
  });

  it('reaches a test RMSE within 10% of the noise floor on the synthetic data', async () => {
    const data = generateSynthetic();
    const model = await createModel(data.suggestedConfig(), { userFeatures: data.userFeatures, itemFeatures: data.itemFeatures });
    const result = model.fit(data.train, { epochs: 12, batchSize: 512, learningRate: 0.003, validation: data.test });
    const { rmse } = model.evaluate(data.test);
    expect(result.history).toHaveLength(12);
    expect(result.history.at(-1)!.validationRmse).toBeCloseTo(rmse, 6);
    expect(result.history[11]!.loss).toBeLessThan(result.history[0]!.loss);
    expect(rmse).toBeLessThanOrEqual(1.1 * data.floorRmse);
    model.dispose();
  });

  it('keeps the heap flat over 1,000 training steps', async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    const data = tinyBatch(64 * 10, 2);
    model.fit(data, { epochs: 1, batchSize: 64 });
    const before = model.memory();
    model.fit(data, { epochs: 100, batchSize: 64 });
    const after = model.memory();
    expect(model.optimizerSteps).toBe(1010);
    expect(after.liveBlocks).toBe(before.liveBlocks);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.memoryBytes).toBe(before.memoryBytes);
    model.dispose();
    expect(model.memory().liveBlocks).toBe(0);
  });

  it('reports every batch and epoch, and stops when onEpochEnd returns false', async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    const data = tinyBatch(100, 3);
    const batches: number[] = [];
    const result = model.fit(data, {
      epochs: 5,
      batchSize: 30,
      onBatchEnd: (b) => batches.push(b.batch),
      onEpochEnd: (e) => e.epoch < 1,
    });
    expect(result.history.map((h) => h.epoch)).toEqual([0, 1]);
    expect(batches).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(result.steps).toBe(8);
    model.dispose();
  });

  it("predict equals the dot product of the towers' embeddings plus the biases", async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    model.fit(tinyBatch(200, 4), { epochs: 2, batchSize: 50 });
    const users = Int32Array.from([0, 3, 6]),
      items = Int32Array.from([8, 1, 4]);
    const predicted = model.rows.predict(users, items);
    const u = model.rows.userEmbeddings(users),
      v = model.rows.itemEmbeddings(items);
    const p = model.parameters();
    for (let r = 0; r < 3; r++) {
      let s = p['bias.global']![0]! + p['bias.user']![users[r]!]! + p['bias.item']![items[r]!]!;
      for (let c = 0; c < model.dim; c++) s += u[r * model.dim + c]! * v[r * model.dim + c]!;
      expect(predicted[r]).toBeCloseTo(s, 5);
    }
    expect(model.rows.userEmbeddings()).toHaveLength(7 * model.dim);
    model.dispose();
  });
});

describe('fit options', () => {
  const data = generateSynthetic({ users: 200, items: 100, ratingsPerUser: 50, seed: 8 });
  const make = () => createModel(data.suggestedConfig(8), { userFeatures: data.userFeatures, itemFeatures: data.itemFeatures });

  it('early stopping on a carved validation split stops, reports the best epoch and restores its weights', async () => {
    const model = await make();
    const weightsAfter: Record<string, Float32Array>[] = [];
    const result = model.fit(data.train, {
      epochs: 200,
      learningRate: 0.02,
      batchSize: 64,
      validationFraction: 0.2,
      earlyStopping: { patience: 2 },
      onEpochEnd: () => void weightsAfter.push(model.parameters()),
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.history.length).toBeLessThan(200);
    const rmses = result.history.map((h) => h.validationRmse!);
    expect(result.bestEpoch).toBe(rmses.indexOf(Math.min(...rmses)));
    expect(result.history.length - 1 - result.bestEpoch!).toBe(2);
    // The weights left in the model are the best epoch's, not the last epoch's.
    expect(model.parameters()).toEqual(weightsAfter[result.bestEpoch!]);
    expect(model.parameters()).not.toEqual(weightsAfter[weightsAfter.length - 1]);
    model.dispose();
  });

  it('early stopping without validation data is refused', async () => {
    const model = await make();
    expect(() => model.fit(data.train, { earlyStopping: {} })).toThrow(/earlyStopping needs validation data/);
    model.dispose();
  });

  it('a cosine schedule decays the step size: the last epoch moves the weights less than with a constant rate', async () => {
    const lastEpochDrift = async (schedule: { kind: 'constant' } | { kind: 'cosine'; final: number }) => {
      const model = await make();
      let before: Record<string, Float32Array> = {};
      let after: Record<string, Float32Array> = {};
      model.fit(data.train, {
        epochs: 4,
        batchSize: 128,
        learningRate: 0.003,
        schedule,
        onEpochEnd: (e) => {
          if (e.epoch === 2) before = model.parameters();
          if (e.epoch === 3) after = model.parameters();
        },
      });
      let d = 0;
      for (const name of Object.keys(before)) before[name]!.forEach((x, i) => (d += (x - after[name]![i]!) ** 2));
      model.dispose();
      return d;
    };
    const constant = await lastEpochDrift({ kind: 'constant' });
    expect(constant).toBeGreaterThan(0);
    expect(await lastEpochDrift({ kind: 'cosine', final: 0.01 })).toBeLessThan(0.5 * constant);
  });

  it('L2 on the tower outputs shrinks the embeddings', async () => {
    const norm = async (l2: number) => {
      const model = await make();
      model.fit(data.train, { epochs: 4, batchSize: 128, l2 });
      const e = model.rows.userEmbeddings();
      model.dispose();
      return e.reduce((s, x) => s + x * x, 0);
    };
    expect(await norm(0.5)).toBeLessThan(0.5 * (await norm(0)));
  });
});

describe('implicit feedback with repeated rows', () => {
  it('a repeated (user, item) counts as one positive: training equals that on the deduplicated rows', async () => {
    const cfg: TwoTowerConfig = {
      dim: 4,
      seed: 2,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: 6, dim: 4 }], project: false },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: 9, dim: 4 }], project: false },
    };
    const once = {
      users: Int32Array.of(0, 1, 2, 3, 4, 5),
      items: Int32Array.of(1, 2, 3, 4, 5, 6),
      ratings: new Float32Array(6).fill(1),
    };
    const repeated = {
      users: Int32Array.of(0, 1, 0, 2, 3, 4, 1, 5),
      items: Int32Array.of(1, 2, 1, 3, 4, 5, 2, 6),
      ratings: new Float32Array(8).fill(1),
    };
    const a = await createModel(cfg),
      b = await createModel(cfg);
    const options = { loss: 'bpr' as const, epochs: 2, batchSize: 3 };
    a.fit(once, options);
    b.fit(repeated, options);
    expect(b.parameters()).toEqual(a.parameters());
    a.dispose();
    b.dispose();
  });
});

describe('confidence weights', () => {
  const cfg: TwoTowerConfig = {
    dim: 4,
    seed: 3,
    user: { features: [{ kind: 'id', name: 'u', vocabSize: 6, dim: 4 }], project: false },
    item: { features: [{ kind: 'id', name: 'i', vocabSize: 9, dim: 4 }], project: false },
  };
  const data = {
    users: Int32Array.of(0, 1, 2, 3, 4, 5, 0, 1),
    items: Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    ratings: new Float32Array(8).fill(1),
    weights: Float32Array.of(3, 1, 10, 2, 1, 4, 0, 0),
  };

  it('rows of weight 0 are never trained on; draws are ∝ log(1 + w) and repeatable per seed', async () => {
    const a = await createModel(cfg),
      b = await createModel(cfg);
    const before = a.parameters()['item.i.embedding']!;
    a.fit(data, { epochs: 3, batchSize: 4 });
    b.fit(data, { epochs: 3, batchSize: 4 });
    const after = a.parameters()['item.i.embedding']!;
    // Squared error trains only the drawn rows: items 7 and 8 appear only in weight-0 rows and
    // keep their initial values exactly; item 3 (weight 10) moved.
    expect(after.subarray(7 * 4, 9 * 4)).toEqual(before.subarray(7 * 4, 9 * 4));
    expect(after.subarray(3 * 4, 4 * 4)).not.toEqual(before.subarray(3 * 4, 4 * 4));
    expect(b.parameters()).toEqual(a.parameters());
    a.dispose();
    b.dispose();
  });

  it('weights are checked: negative, non-finite, all zero or mis-sized weights are typed errors', async () => {
    const model = await createModel(cfg);
    for (const [weights, message] of [
      [Float32Array.of(1, 1, -1, 1, 1, 1, 1, 1), /train\.weights\[2\] is -1: weights must be finite and ≥ 0/],
      [Float32Array.of(1, NaN, 1, 1, 1, 1, 1, 1), /train\.weights\[1\] is NaN/],
      [new Float32Array(8), /train\.weights are all 0/],
      [new Float32Array(3).fill(1), /train\.weights must be a Float32Array of 8 values/],
    ] as const) {
      expect(() => model.fit({ ...data, weights }, { loss: 'bpr', epochs: 1 })).toThrow(message);
    }
    model.dispose();
  });
});
