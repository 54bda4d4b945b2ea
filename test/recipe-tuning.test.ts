// The recipe's penalty search (RecipeOptions.tune) chooses by phase 1's validation split alone:
// on ratings that are biases plus planted noise (nothing for the embeddings to learn), a large
// output penalty is best on validation and is chosen; the data's test fold is never read.
import { describe, it, expect, vi } from 'vitest';
import { Model } from '../src/index.js';
import { internals } from '../src/api/model.js';
import { csrRow } from '../src/data/csr.js';
import { trainRecipe, recipeOptions, TwoTowerError, type RecipeData, type RecipeEpoch } from '../src/index.js';
import { noisyRatings } from './noisy-ratings.js';

/** The data with a test fold that throws when anything reads it (as the CLI's Dataset carries one). */
function withUnreadableTest(ds: RecipeData): RecipeData {
  return Object.defineProperty({ ...ds }, 'test', {
    enumerable: true,
    get() {
      throw new Error('the search read the test fold');
    },
  });
}

// A learning rate high enough that a weak penalty overfits the noise within an epoch or two.
const quick = { epochs: 12, patience: 2, dim: 16, implicitDim: 8, batchSize: 128, learningRate: 0.03 };

describe('trainRecipe with tune', () => {
  it('chooses the penalty with the best validation RMSE (a large one on planted noise) and refits with it', async () => {
    const ds = withUnreadableTest(noisyRatings(200, 60, 10, 1, 7));
    const seen: RecipeEpoch[] = [];
    const result = await trainRecipe(
      ds,
      recipeOptions('mse', { ...quick, l2Grid: [0.001, 1], onEpochEnd: (info) => void seen.push(info) }),
    );
    const candidates = result.candidates!;
    expect(candidates.map((c) => c.l2)).toEqual([0.001, 1]);
    for (const c of candidates) expect(c.validationRmse).toBeGreaterThan(0);
    const best = candidates.reduce((x, y) => (y.validationRmse! < x.validationRmse! ? y : x));
    expect(best.l2).toBe(1);
    expect(result.l2).toBe(1);
    expect(result.epochs).toBe(best.epochs);
    expect(result.final).toBeDefined();
    // Each phase-1 run says its penalty; the refit trains with the chosen one only.
    expect(new Set(seen.filter((e) => e.phase === 1).map((e) => e.l2))).toEqual(new Set([0.001, 1]));
    expect(new Set(seen.filter((e) => e.phase === 2).map((e) => e.l2))).toEqual(new Set([1]));
    // The search's figure is the chosen run's best epoch on the validation split.
    const at = result.search.history[result.search.bestEpoch!]!;
    expect(at.validationRmse).toBe(best.validationRmse);
    result.model.dispose();
  });

  it('walks the ladder from l2 toward the better neighbour while validation improves', async () => {
    // Five ratings per user: too few for the embeddings to fit anything but the noise.
    const ds = withUnreadableTest(noisyRatings(200, 60, 5, 1, 11));
    const result = await trainRecipe(ds, recipeOptions('mse', { ...quick, l2: 0.2, tune: true, refit: false }));
    const candidates = result.candidates!;
    const tried = candidates.map((c) => c.l2);
    // l2 first, then its neighbours on the ladder l2 × [0.1, 0.25, 0.5, 1, 2.5, 5, 10].
    expect(tried.slice(0, 3)).toEqual([0.2, 0.1, 0.5]);
    // Planted noise: more penalty is better, so the walk goes up (1, then 2 if 1 improved on 0.5)
    // and stops at the first step that does not improve.
    expect(tried.slice(3)).toEqual([1, 2].slice(0, tried.length - 3));
    expect(tried.length).toBeGreaterThan(3);
    const rmse = candidates.map((c) => c.validationRmse!);
    for (let i = 3; i < tried.length - 1; i++) expect(rmse[i]!).toBeLessThan(rmse[i - 1]!);
    expect(Math.min(...rmse)).toBe(rmse[tried.indexOf(result.l2)]);
    expect(result.l2).toBeGreaterThanOrEqual(1);
    expect(result.final).toBeUndefined();
    result.model.dispose();
  });

  it('without tune trains at l2 alone; implicit losses do not tune by default; a bad grid is BAD_OPTION', async () => {
    const ds = noisyRatings(40, 30, 10, 1, 3);
    const plain = await trainRecipe(ds, recipeOptions('mse', { ...quick, epochs: 2, tune: false, l2: 0.3 }));
    expect(plain.candidates).toBeUndefined();
    expect(plain.l2).toBe(0.3);
    plain.model.dispose();
    expect(recipeOptions('softmax').tune).toBe(false);
    expect(recipeOptions('mse').tune).toBe(true);
    // A penalty given is used as is, unless tune is asked for too.
    expect(recipeOptions('mse', { l2: 0.05 }).tune).toBe(false);
    expect(recipeOptions('mse', { l2: 0.05, tune: true }).tune).toBe(true);
    const error = await trainRecipe(ds, recipeOptions('mse', { ...quick, l2Grid: [0.1, -1] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TwoTowerError);
    expect((error as TwoTowerError).code).toBe('BAD_OPTION');
    expect((error as TwoTowerError).message).toMatch(/l2Grid\[1\]/);
  });

  it("phase 1's interaction sets read only the 90% it trains on: no validation pair is in its user's rated set or its item's raters", async () => {
    const ds = noisyRatings(120, 40, 12, 1, 5);
    const sets: { rated: ReturnType<typeof csrRow>[]; raters: ReturnType<typeof csrRow>[] }[] = [];
    const realFit = Model.prototype.fit;
    const spy = vi.spyOn(Model.prototype, 'fit').mockImplementation(function (this: Model, ...args: Parameters<Model['fit']>) {
      const core = internals(this);
      const read = (table: typeof core.userTower.table, name: string) => {
        const column = table!.columns[name] as { offsets: Int32Array; ids: Int32Array };
        return Array.from({ length: table!.count }, (_, r) => csrRow(column, r));
      };
      sets.length = 0;
      sets.push({ rated: read(core.userTower.table, 'rated'), raters: read(core.itemTower.table, 'raters') });
      return realFit.apply(this, args);
    });
    try {
      const seenByPhase: (typeof sets)[] = [];
      const result = await trainRecipe(
        ds,
        recipeOptions('mse', {
          ...quick,
          epochs: 2,
          tune: false,
          onEpochEnd: (e) => void (e.epoch === 0 && seenByPhase.push([...sets])),
        }),
      );
      const [phase1, phase2] = seenByPhase.map((x) => x[0]!);
      const { users, items } = result.validation;
      expect(users.length).toBe(Math.round(ds.train.users.length * 0.1));
      for (let r = 0; r < users.length; r++) {
        expect(Array.from(phase1!.rated[users[r]!]!)).not.toContain(items[r]);
        expect(Array.from(phase1!.raters[items[r]!]!)).not.toContain(users[r]);
        // The refit (and the model served) reads every training pair.
        expect(Array.from(phase2!.rated[users[r]!]!)).toContain(items[r]);
      }
      // The validation predictions are the phase-1 model's, on exactly those rows.
      const se = result.validationPredictions.reduce((s, p, r) => s + (p - result.validation.ratings[r]!) ** 2, 0);
      expect(Math.sqrt(se / users.length)).toBeCloseTo(result.search.history[result.search.bestEpoch!]!.validationRmse!, 5);
      result.model.dispose();
    } finally {
      spy.mockRestore();
    }
  });

  it('keepSearchModel keeps the chosen phase-1 model: its predictions on the validation split are validationPredictions, and the refit model is another', async () => {
    const ds = noisyRatings(80, 30, 10, 1, 6);
    const result = await trainRecipe(ds, recipeOptions('mse', { ...quick, epochs: 3, tune: false, keepSearchModel: true }));
    const { users, items } = result.validation;
    expect(result.searchModel).toBeDefined();
    expect(result.searchModel!.rows.predict(users, items)).toEqual(result.validationPredictions);
    expect(result.model.rows.predict(users, items)).not.toEqual(result.validationPredictions);
    result.searchModel!.dispose();
    result.model.dispose();
  });
});
