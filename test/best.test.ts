// recipe: 'best' (issue 23: 7): members of several seeds, each by the tuned recipe on one shared
// validation split, blended by weights chosen on that split into one model (combineModels).
import { describe, it, expect } from 'vitest';
import { train, trainBest, trainRecipe, recipeOptions, Vocabulary, TwoTowerError } from '../src/index.js';
import { trainAutoRec } from '../src/api/autorec.js';
import { Random } from '../src/util/random.js';

/** Ratings from planted 2-d tastes plus noise: 150 users × 20 of 80 items each. */
function plantedEvents(seed = 4) {
  const random = new Random(seed);
  const taste = (n: number) => Array.from({ length: n }, () => [random.normal(), random.normal()] as const);
  const users = taste(150),
    items = taste(80);
  const events: { user: string; item: string; rating: number }[] = [];
  users.forEach((u, a) => {
    const picked = new Set<number>();
    while (picked.size < 20) picked.add(Math.floor(random.next() * items.length));
    for (const b of picked) {
      const v = items[b]!;
      const r = 3 + 0.8 * (u[0] * v[0] + u[1] * v[1]) + 0.5 * random.normal();
      events.push({ user: `u${a}`, item: `i${b}`, rating: Math.min(5, Math.max(1, Math.round(r))) });
    }
  });
  return events;
}

function recipeData(events: ReturnType<typeof plantedEvents>) {
  const users = new Vocabulary(),
    items = new Vocabulary();
  const train = {
    users: Int32Array.from(events, (e) => users.add(e.user)),
    items: Int32Array.from(events, (e) => items.add(e.item)),
    ratings: Float32Array.from(events, (e) => e.rating),
  };
  return { train, users, items };
}

const quick = { epochs: 6, patience: 6, dim: 8, implicitDim: 0, tune: false, l2: 0.02 };

describe("recipe: 'best'", () => {
  it('blends its members on one validation split: the blend scores no worse there than their mean, as one model of their summed width', async () => {
    const result = await trainBest(recipeData(plantedEvents()), { ...recipeOptions('mse', quick), seeds: 3 });
    const towers = result.members.filter((m) => m.family === 'tower');
    expect(towers.map((m) => m.seed)).toEqual([1, 2, 3]);
    // The towers share equally; the autoencoder, when validation wants it, takes the rest.
    expect(result.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
    expect(new Set(result.weights.slice(0, 3)).size).toBe(1);
    // Three autoencoder members (autorecSeeds) of width 200 each, when validation blends them in.
    const autorecs = result.members.slice(3);
    expect(autorecs.map((m) => m.family)).toEqual(autorecs.length ? ['autorec', 'autorec', 'autorec'] : []);
    expect(result.model.dim).toBe(3 * 8 + 200 * autorecs.length);
    const each = result.members.map((m) => m.validationRmse!);
    // RMSE is convex in the predictions: the mean prediction's RMSE ≤ the members' mean RMSE.
    expect(result.validationRmse!).toBeLessThanOrEqual(each.reduce((s, x) => s + x, 0) / each.length + 1e-9);
    expect(result.model.metadata).toMatchObject({
      recipe: 'best',
      family: 'ensemble',
      ensemble: { members: result.members.length },
    });
    result.model.dispose();
  });

  it("train(events, { recipe: 'best' }) answers in the user's ids; seeds without best and unknown recipes are BAD_OPTION", async () => {
    const events = plantedEvents(5);
    const model = await train(events, { ...quick, recipe: 'best', seeds: 2, autorecSeeds: 1 });
    // Two towers of width 8, and the autoencoder's 200 when validation blends it in.
    expect([16, 216]).toContain(model.dim);
    const picks = model.recommend('u3', { k: 3 });
    expect(picks).toHaveLength(3);
    for (const p of picks) expect(p.id).toMatch(/^i\d+$/);
    model.dispose();
    for (const [options, message] of [
      [{ seeds: 2 }, /options\.seeds is for recipe: 'best'/],
      [{ autorecSeeds: 2 }, /options\.autorecSeeds is for recipe: 'best'/],
      [{ recipe: 'fast' }, /options\.recipe must be 'default' or 'best', got "fast"/],
      [{ recipe: 'best', seeds: 0 }, /options\.seeds must be an integer in \[1, 64\]/],
    ] as const) {
      const error = await train(events, { ...quick, ...(options as object) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TwoTowerError);
      expect((error as TwoTowerError).code).toBe('BAD_OPTION');
      expect((error as Error).message).toMatch(message);
    }
  });

  it('the autoencoder and the towers are validated on one split for one split seed, whatever their own seeds', async () => {
    const ds = recipeData(plantedEvents(6));
    const towers = await trainRecipe(ds, recipeOptions('mse', { ...quick, seed: 4, splitSeed: 11 }));
    const autorec = await trainAutoRec(ds, { seed: 9, splitSeed: 11, hidden: 8, epochs: 2 });
    expect(autorec.validation!.users).toEqual(towers.validation.users);
    expect(autorec.validation!.items).toEqual(towers.validation.items);
    // Its predictions there are what its validation RMSE was computed from.
    const se = autorec.validationPredictions!.reduce((s, p, r) => s + (p - autorec.validation!.ratings[r]!) ** 2, 0);
    expect(Math.sqrt(se / autorec.validation!.users.length)).toBeCloseTo(autorec.validationRmse!, 5);
    towers.model.dispose();
    autorec.model.dispose();
  });
});
