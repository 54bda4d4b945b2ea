// Ensembles as one two-tower model (issue 23: 2): combineModels' result scores every pair as the
// weighted sum of its members' scores, whatever the members' towers (hidden layers, projections,
// plain factorisation with attention pooling, numeric inputs), and stays an ordinary model:
// recommend, model files and ONNX work on it unchanged.
import { describe, it, expect } from 'vitest';
import { expectOnnxTowerMatches } from './onnx-session.js';
import { createModel, loadModel, combineModels, TwoTowerError, type Model, type TwoTowerConfig } from '../src/index.js';
import { tinyConfig, tinyFeatures, tinyBatch, USERS, ITEMS } from './fixtures.js';

/** Every (user, item) row pair. */
function allPairs(users: number, items: number) {
  const u = new Int32Array(users * items),
    i = new Int32Array(users * items);
  for (let p = 0; p < users * items; p++) {
    u[p] = Math.floor(p / items);
    i[p] = p % items;
  }
  return { u, i };
}

/** Largest |combined − Σ w_k member_k| over every pair, relative to max(1, |expected|). */
function blendError(combined: Model, members: Model[], weights: number[]): number {
  const { u, i } = allPairs(combined.userCount, combined.itemCount);
  const got = combined.rows.predict(u, i);
  const each = members.map((m) => m.rows.predict(u, i));
  let worst = 0;
  got.forEach((g, p) => {
    const want = each.reduce((s, e, k) => s + weights[k]! * e[p]!, 0);
    worst = Math.max(worst, Math.abs(g - want) / Math.max(1, Math.abs(want)));
  });
  return worst;
}

async function trainedTiny(seed: number): Promise<Model> {
  const model = await createModel(tinyConfig(seed), tinyFeatures());
  model.fit(tinyBatch(60, seed), { epochs: 2, batchSize: 16, seed });
  return model;
}

/** Plain factorisation towers (no projection): ids, plus attention pooling on the user side. */
function plainConfig(seed: number, dim: number): TwoTowerConfig {
  return {
    dim,
    user: {
      features: [
        { kind: 'id', name: 'user', vocabSize: USERS, dim: dim - 2 },
        { kind: 'multiHot', name: 'seen', vocabSize: ITEMS, dim: 2, pooling: 'attention' },
      ],
      project: false,
    },
    item: { features: [{ kind: 'id', name: 'item', vocabSize: ITEMS, dim }], project: false },
    bias: { item: true },
    seed,
    embeddingInitStd: 0.3,
  };
}

const plainFeatures = () => ({ userFeatures: { count: USERS, columns: { seen: tinyFeatures().userFeatures.columns.seen! } } });

describe('combineModels', () => {
  it('scores every pair as the weighted sum of its members (hidden layers, projections, every feature kind)', async () => {
    const members = await Promise.all([3, 4, 5].map(trainedTiny));
    const weights = [0.5, 0.3, 0.2];
    const combined = await combineModels(members, { weights });
    expect(combined.dim).toBe(15);
    expect(combined.config.user.hidden).toEqual([18, 15]);
    expect(blendError(combined, members, weights)).toBeLessThan(1e-5);
    expect(combined.metadata.ensemble).toMatchObject({ members: 3, weights, dims: [5, 5, 5] });
    for (const m of [...members, combined]) m.dispose();
  });

  it('keeps plain factorisation plain (scaled tables, attention rescaled) and mixes it with a projecting member exactly', async () => {
    const a = await createModel(plainConfig(1, 4), plainFeatures());
    const b = await createModel(plainConfig(2, 6), plainFeatures());
    // Attention vectors start at zero (the mean); give them values so their rescaling matters.
    for (const m of [a, b]) m.setParameters({ 'user.seen.attention': [0.7, -1.3] });
    const plain = await combineModels([a, b]);
    expect(plain.config.user.project).toBe(false);
    expect(plain.dim).toBe(10);
    expect(blendError(plain, [a, b], [0.5, 0.5])).toBeLessThan(1e-5);
    // A projecting member (one linear layer over id + numeric inputs) joins through identity blocks.
    const projecting = await createModel(
      {
        dim: 3,
        user: {
          features: [
            { kind: 'id', name: 'user', vocabSize: USERS, dim: 2 },
            { kind: 'numeric', name: 'score', size: 2 },
          ],
        },
        item: { features: [{ kind: 'id', name: 'item', vocabSize: ITEMS, dim: 3 }], project: false },
        bias: { global: true, user: true },
        seed: 9,
        embeddingInitStd: 0.3,
      },
      { userFeatures: { count: USERS, columns: { score: tinyFeatures().userFeatures.columns.score! } } },
    );
    const mixed = await combineModels([a, projecting], { weights: [2, 0.25] });
    expect(mixed.config.user.project).not.toBe(false);
    expect(blendError(mixed, [a, projecting], [2, 0.25])).toBeLessThan(1e-5);
    for (const m of [a, b, projecting, plain, mixed]) m.dispose();
  });

  it('is an ordinary model: its file loads back with the same scores, and its ONNX towers give its embeddings', async () => {
    const members = await Promise.all([3, 4].map(trainedTiny));
    const combined = await combineModels(members);
    const again = await loadModel(combined.toBytes());
    expect(blendError(again, [combined], [1])).toBe(0);
    await expectOnnxTowerMatches(combined, 'item');
    await expectOnnxTowerMatches(combined, 'user');
    for (const m of [...members, combined, again]) m.dispose();
  });

  it('refuses members that cannot be one model, and bad weights, naming the problem', async () => {
    const tiny = await trainedTiny(3);
    const plain = await createModel(plainConfig(1, 4), plainFeatures());
    const other = await createModel(
      { ...plainConfig(1, 4), item: { features: [{ kind: 'id', name: 'item', vocabSize: ITEMS + 1, dim: 4 }], project: false } },
      plainFeatures(),
    );
    const fails = async (run: () => Promise<unknown>, code: string, message: RegExp) => {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TwoTowerError);
      expect((error as TwoTowerError).code).toBe(code);
      expect((error as Error).message).toMatch(message);
    };
    await fails(() => combineModels([]), 'BAD_INPUT', /non-empty array/);
    await fails(() => combineModels([plain, {} as Model]), 'BAD_INPUT', /members\[1\] is not a Model/);
    await fails(() => combineModels([plain, other]), 'DIMENSION_MISMATCH', /model 2 has 7 users × 10 items/);
    await fails(() => combineModels([tiny, plain]), 'BAD_CONFIG', /model 2's user tower has 0 hidden layers, model 1's 2/);
    await fails(
      () => combineModels([plain, plain], { weights: [1, -1] }),
      'BAD_OPTION',
      /weights\[1\] must be a finite number > 0/,
    );
    await fails(() => combineModels([plain, plain], { weights: [1] }), 'BAD_OPTION', /1 values for 2 models/);
    for (const m of [tiny, plain, other]) m.dispose();
  });

  it("update() trains a combined model as one, with its first fit()-trained member's settings", async () => {
    const { train } = await import('../src/index.js');
    const events = Array.from({ length: 600 }, (_, i) => ({ user: `u${i % 40}`, item: `m${(i * 7) % 30}`, rating: 1 + (i % 5) }));
    const members = await Promise.all([1, 2].map((seed) => train(events, { seed, epochs: 2, tune: false })));
    const combined = await combineModels(members);
    const before = combined.predict('u1', 'm3');
    const result = combined.update([{ user: 'u1', item: 'm3', rating: 5 }]);
    expect(result.fit.history.length).toBeGreaterThan(0);
    expect(combined.predict('u1', 'm3')).not.toBe(before);
    for (const m of [...members, combined]) m.dispose();
  });
});
