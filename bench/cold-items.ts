// Cold items on MovieLens 100K u1: 10% of the items (seeded) are held out of training entirely —
// their ratings in u1.base and their id rows — and added afterwards by model.addItems() from
// their side features alone (genres, year, title words, from u.item). On u1.test's ratings of
// those items: RMSE, and Recall@20 ranking only the cold items for each test user (items the user
// rated in u1.base left out); against baselines that know nothing of the items' ratings (each
// user's mean rating; a genre-popularity ranking: an item scored by the mean training popularity
// of the warm items of its genres), and against the same items when trained normally (the full
// u1.base, the same recipe).
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset } from '../src/node/dataset.js';
import { trainRecipe, recipeOptions } from '../src/node/index.js';
import { Vocabulary, type Model, type MultiHotColumn } from '../src/index.js';
import type { RatingsData } from '../src/data/ratings.js';
import { Random } from '../src/util/random.js';
import { dataDir } from './movielens.js';
import { selectRows } from '../src/data/feature-rows.js';

export interface ColdItemsResult {
  task: 'rating' | 'retrieval';
  coldItems: number;
  testRatings: number;
  rankedUsers: number;
  cold: { rmse: number; recall20: number; seconds: number };
  trainedNormally: { rmse: number; recall20: number };
  baseline: { userMeanRmse: number; genrePopularityRecall20: number; randomRecall20: number };
}

function subset(data: RatingsData, keep: (r: number) => boolean, itemRow: (j: number) => number): RatingsData {
  const rows = Array.from(data.users, (_, r) => r).filter(keep);
  return {
    users: Int32Array.from(rows, (r) => data.users[r]!),
    items: Int32Array.from(rows, (r) => itemRow(data.items[r]!)),
    ratings: Float32Array.from(rows, (r) => data.ratings[r]!),
    ...(data.timestamps ? { timestamps: Float64Array.from(rows, (r) => data.timestamps![r]!) } : {}),
  };
}

/** Recall@20 per test user over the cold items, scored by `score(userRow, coldIndex)`. */
function recallOverCold(
  test: { user: number; cold: number }[],
  excluded: Map<number, Set<number>>,
  coldCount: number,
  score: (user: number, cold: number) => number,
): { recall: number; users: number } {
  const relevant = new Map<number, Set<number>>();
  for (const t of test) (relevant.get(t.user) ?? relevant.set(t.user, new Set()).get(t.user)!).add(t.cold);
  let total = 0;
  for (const [user, wanted] of relevant) {
    const skip = excluded.get(user) ?? new Set();
    const ranked = Array.from({ length: coldCount }, (_, c) => c)
      .filter((c) => !skip.has(c))
      .map((c) => ({ c, s: score(user, c) }))
      .sort((a, b) => b.s - a.s || a.c - b.c)
      .slice(0, 20);
    total += ranked.filter((x) => wanted.has(x.c)).length / wanted.size;
  }
  return { recall: total / relevant.size, users: relevant.size };
}

export async function coldItems(
  task: 'rating' | 'retrieval' = 'rating',
  fraction = 0.1,
  seed = 1,
): Promise<ColdItemsResult | null> {
  const dir = dataDir();
  if (!existsSync(join(dir, 'u1.base'))) return null;
  const ds = await loadDataset({ data: join(dir, 'u1.base'), test: join(dir, 'u1.test') });
  if (!ds.itemSide) throw new Error('cold items: u.item not found beside u1.base');
  const items = ds.items.size; // row 0: the unknown item
  const random = new Random(seed);
  const shuffled = Int32Array.from({ length: items - 1 }, (_, i) => i + 1);
  random.shuffle(shuffled);
  const order = Array.from(shuffled);
  const coldRows = order.slice(0, Math.round(fraction * (items - 1))).sort((a, b) => a - b);
  const isCold = new Set(coldRows);
  const warmRows = [0, ...order.slice(coldRows.length).sort((a, b) => a - b)];
  const warmIndex = new Map(warmRows.map((r, i) => [r, i]));
  const coldIndex = new Map(coldRows.map((r, i) => [r, i]));

  // The data without the cold items: a vocabulary and item features of the warm items only.
  const warmVocab = new Vocabulary();
  for (const r of warmRows.slice(1)) warmVocab.add(ds.items.key(r)!);
  warmVocab.freeze();
  const train = subset(
    ds.train,
    (r) => !isCold.has(ds.train.items[r]!),
    (j) => warmIndex.get(j)!,
  );
  const itemSide = {
    features: ds.itemSide.features,
    encoding: ds.itemSide.encoding,
    table: { count: warmRows.length, columns: selectRows(ds.itemSide.table, warmRows) },
  };
  // Retrieval: the softmax recipe, with the side features it leaves out by default (the cold items need them).
  const options = task === 'rating' ? recipeOptions('mse') : recipeOptions('softmax', { sideFeatures: true });
  const started = performance.now();
  const cold = (await trainRecipe({ train, users: ds.users, items: warmVocab, userSide: ds.userSide, itemSide }, options)).model;
  cold.addItems({ ids: coldRows.map((r) => ds.items.key(r)!), columns: selectRows(ds.itemSide.table, coldRows) });
  const coldSeconds = (performance.now() - started) / 1000;
  const normal = (await trainRecipe(ds, options)).model;

  // u1.test's ratings of cold items; what each user rated in u1.base among them (left out of rankings).
  const test: { user: number; cold: number; item: string; rating: number }[] = [];
  ds.test!.users.forEach((u, r) => {
    const j = ds.test!.items[r]!;
    if (isCold.has(j)) test.push({ user: u, cold: coldIndex.get(j)!, item: ds.items.key(j)!, rating: ds.test!.ratings[r]! });
  });
  const excluded = new Map<number, Set<number>>();
  ds.train.users.forEach((u, r) => {
    const j = ds.train.items[r]!;
    if (isCold.has(j)) (excluded.get(u) ?? excluded.set(u, new Set()).get(u)!).add(coldIndex.get(j)!);
  });
  const rowIn = (model: Model, key: string) => model.vocabularies.items!.lookup(key);
  const predictions = (model: Model) =>
    model.rows.predict(
      test.map((t) => t.user),
      test.map((t) => rowIn(model, t.item)),
    );
  const rmseOf = (p: ArrayLike<number>) => Math.sqrt(test.reduce((s, t, i) => s + (p[i]! - t.rating) ** 2, 0) / test.length);
  const scorer = (model: Model) => {
    const rows = coldRows.map((r) => rowIn(model, ds.items.key(r)!));
    const cache = new Map<number, Float32Array>();
    return (user: number, c: number) => {
      if (!cache.has(user)) cache.set(user, model.rows.predict(new Int32Array(rows.length).fill(user), rows));
      return cache.get(user)![c]!;
    };
  };
  // Baselines: each user's mean training rating; genre popularity (mean count of the warm items per genre).
  const sums = new Float64Array(ds.users.size),
    counts = new Float64Array(ds.users.size);
  train.users.forEach((u, r) => {
    sums[u] = sums[u]! + train.ratings[r]!;
    counts[u] = counts[u]! + 1;
  });
  const globalMean = train.ratings.reduce((a, b) => a + b, 0) / train.ratings.length;
  const userMean = test.map((t) => (counts[t.user]! > 0 ? sums[t.user]! / counts[t.user]! : globalMean));
  const genres = ds.itemSide.table.columns.genres as MultiHotColumn;
  const popularity = new Float64Array(items);
  ds.train.items.forEach((j) => {
    if (!isCold.has(j)) popularity[j] = popularity[j]! + 1;
  });
  const genreMean = new Map<number, { sum: number; n: number }>();
  for (const j of warmRows.slice(1))
    for (let q = genres.offsets[j]!; q < genres.offsets[j + 1]!; q++) {
      const g = genreMean.get(genres.ids[q]!) ?? { sum: 0, n: 0 };
      g.sum += popularity[j]!;
      g.n += 1;
      genreMean.set(genres.ids[q]!, g);
    }
  const genreScore = coldRows.map((j) => {
    let s = 0,
      n = 0;
    for (let q = genres.offsets[j]!; q < genres.offsets[j + 1]!; q++) {
      const g = genreMean.get(genres.ids[q]!);
      if (!g) continue;
      s += g.sum / g.n;
      n += 1;
    }
    return n ? s / n : 0;
  });
  const coldRecall = recallOverCold(test, excluded, coldRows.length, scorer(cold));
  const result: ColdItemsResult = {
    task,
    coldItems: coldRows.length,
    testRatings: test.length,
    rankedUsers: coldRecall.users,
    cold: { rmse: rmseOf(predictions(cold)), recall20: coldRecall.recall, seconds: coldSeconds },
    trainedNormally: {
      rmse: rmseOf(predictions(normal)),
      recall20: recallOverCold(test, excluded, coldRows.length, scorer(normal)).recall,
    },
    baseline: {
      userMeanRmse: rmseOf(userMean),
      genrePopularityRecall20: recallOverCold(test, excluded, coldRows.length, (_, c) => genreScore[c]!).recall,
      randomRecall20: 0,
    },
  };
  // A random ranking's expected Recall@20: 20 / candidates per user, averaged.
  {
    const users = new Set(test.map((t) => t.user));
    let total = 0;
    for (const u of users) total += Math.min(1, 20 / (coldRows.length - (excluded.get(u)?.size ?? 0)));
    result.baseline.randomRecall20 = total / users.size;
  }
  cold.dispose();
  normal.dispose();
  return result;
}

export function coldItemsTable(r: ColdItemsResult): string {
  const rmse = (x: number) => (r.task === 'rating' ? x.toFixed(4) : '—');
  return [
    `| ${r.task} recipe, on the ${r.coldItems} held-out items (${r.testRatings} u1.test ratings, ${r.rankedUsers} users ranked) | RMSE | Recall@20 among them |`,
    '|:--|--:|--:|',
    `| cold: never trained, added by addItems() from genres, year and title | ${rmse(r.cold.rmse)} | ${r.cold.recall20.toFixed(4)} |`,
    `| the same items trained normally (their u1.base ratings kept) | ${rmse(r.trainedNormally.rmse)} | ${r.trainedNormally.recall20.toFixed(4)} |`,
    `| baseline: each user's mean rating / genre popularity | ${rmse(r.baseline.userMeanRmse)} | ${r.baseline.genrePopularityRecall20.toFixed(4)} |`,
    `| random ranking (expected) | | ${r.baseline.randomRecall20.toFixed(4)} |`,
  ].join('\n');
}

// Run directly: node --import tsx bench/cold-items.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const task of ['rating', 'retrieval'] as const) {
    const r = await coldItems(task);
    if (r) console.log(coldItemsTable(r) + '\n');
  }
  process.exit(0);
}
