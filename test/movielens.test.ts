// Accuracy on real data, so that it cannot silently regress: MovieLens 100K fold u1 with the
// CLI's default recipe must reach RMSE ≤ 0.945 on u1.test (biased SVD gets 0.954 there). The
// data is read from $TWOTOWER_DATA; with CI=true a missing folder fails instead of skipping.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { loadDataset, trainRecipe, RECIPE_DEFAULTS, recipeOptions } from '../src/node/index.js';
import { ML100K, HAVE_ML100K } from './data.js';

describe.skipIf(!HAVE_ML100K)('MovieLens 100K u1', () => {
  it('the default recipe reaches test RMSE ≤ 0.945', async () => {
    const ds = await loadDataset({ data: join(ML100K, 'u1.base'), test: join(ML100K, 'u1.test') });
    const { model, epochs } = await trainRecipe(ds, RECIPE_DEFAULTS);
    const { rmse, mae } = model.evaluate(ds.test!);
    // Ratings overfit within 2–5 epochs (docs/accuracy.md); seed 1 stops at 2 since 0.2's initial values.
    expect(epochs).toBeGreaterThanOrEqual(2);
    expect(rmse).toBeLessThanOrEqual(0.945);
    expect(mae).toBeLessThan(0.76);
    model.dispose();
  });
});

describe.skipIf(!HAVE_ML100K)('MovieLens 100K u1, implicit feedback', () => {
  it('the default softmax recipe reaches Recall@20 ≥ 0.45 (every u1.base rating a positive, u1.test the targets)', async () => {
    const ds = await loadDataset({ data: join(ML100K, 'u1.base'), test: join(ML100K, 'u1.test') });
    const { model } = await trainRecipe(ds, recipeOptions('softmax'));
    const m = model.rows.evaluateRanking(ds.test!, { ks: [10, 20], exclude: ds.train });
    expect(m.users).toBe(459);
    expect(m.recall[20]).toBeGreaterThanOrEqual(0.45);
    expect(m.ndcg[20]).toBeGreaterThan(0.4);
    model.dispose();
  });
});
