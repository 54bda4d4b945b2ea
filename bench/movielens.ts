// MovieLens 100K, the five official folds (train uK.base, test uK.test) with the CLI's default
// recipe: test RMSE and MAE per fold, and the seconds each fold takes to load and train. One run
// per fold: training is deterministic, so the accuracy does not vary between runs.
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset } from '../src/node/dataset.js';
import { trainRecipe, RECIPE_DEFAULTS, recipeOptions, type RecipeOptions } from '../src/node/index.js';

export interface FoldResult {
  fold: number;
  rmse: number;
  mae: number;
  epochs: number;
  loadSeconds: number;
  trainSeconds: number;
}

export function dataDir(): string {
  return resolve(process.env.TWOTOWER_DATA ?? resolve(import.meta.dirname, '../../shared/data'), 'ml-100k');
}

export async function movieLensFolds(
  options: Partial<RecipeOptions> = {},
  folds = [1, 2, 3, 4, 5],
): Promise<FoldResult[] | null> {
  const dir = dataDir();
  if (!existsSync(join(dir, 'u1.base'))) return null;
  const results: FoldResult[] = [];
  for (const fold of folds) {
    const t0 = performance.now();
    const ds = await loadDataset({ data: join(dir, `u${fold}.base`), test: join(dir, `u${fold}.test`) });
    const t1 = performance.now();
    const { model, epochs } = await trainRecipe(ds, { ...RECIPE_DEFAULTS, ...options });
    const t2 = performance.now();
    const { rmse, mae } = model.evaluate(ds.test!);
    model.dispose();
    results.push({ fold, rmse, mae, epochs, loadSeconds: (t1 - t0) / 1000, trainSeconds: (t2 - t1) / 1000 });
  }
  return results;
}

export function foldTable(results: FoldResult[]): string {
  const mean = (f: (r: FoldResult) => number) => results.reduce((s, r) => s + f(r), 0) / results.length;
  const rows = results.map(
    (r) =>
      `| u${r.fold} | ${r.rmse.toFixed(4)} | ${r.mae.toFixed(4)} | ${r.epochs} | ${r.loadSeconds.toFixed(2)} | ${r.trainSeconds.toFixed(2)} |`,
  );
  return [
    '| fold | RMSE | MAE | epochs | load s | train s |',
    '|:--|--:|--:|--:|--:|--:|',
    ...rows,
    `| mean | ${mean((r) => r.rmse).toFixed(4)} | ${mean((r) => r.mae).toFixed(4)} | | ${mean((r) => r.loadSeconds).toFixed(2)} | ${mean((r) => r.trainSeconds).toFixed(2)} |`,
  ].join('\n');
}

export interface RankingFoldResult {
  fold: number;
  recall20: number;
  ndcg20: number;
  epochs: number;
  trainSeconds: number;
}

/** The implicit-feedback recipe (`--loss softmax`) on each fold: Recall@20 and NDCG@20, training items excluded. */
export async function movieLensRankingFolds(folds = [1, 2, 3, 4, 5]): Promise<RankingFoldResult[] | null> {
  const dir = dataDir();
  if (!existsSync(join(dir, 'u1.base'))) return null;
  const results: RankingFoldResult[] = [];
  for (const fold of folds) {
    const ds = await loadDataset({ data: join(dir, `u${fold}.base`), test: join(dir, `u${fold}.test`) });
    const t0 = performance.now();
    const { model, epochs } = await trainRecipe(ds, recipeOptions('softmax'));
    const trainSeconds = (performance.now() - t0) / 1000;
    const m = model.rows.evaluateRanking(ds.test!, { ks: [20], exclude: ds.train });
    model.dispose();
    results.push({ fold, recall20: m.recall[20]!, ndcg20: m.ndcg[20]!, epochs, trainSeconds });
  }
  return results;
}

export function rankingFoldTable(results: RankingFoldResult[]): string {
  const mean = (f: (r: RankingFoldResult) => number) => results.reduce((s, r) => s + f(r), 0) / results.length;
  const rows = results.map(
    (r) => `| u${r.fold} | ${r.recall20.toFixed(4)} | ${r.ndcg20.toFixed(4)} | ${r.epochs} | ${r.trainSeconds.toFixed(2)} |`,
  );
  return [
    '| fold | Recall@20 | NDCG@20 | epochs | train s |',
    '|:--|--:|--:|--:|--:|',
    ...rows,
    `| mean | ${mean((r) => r.recall20).toFixed(4)} | ${mean((r) => r.ndcg20).toFixed(4)} | | ${mean((r) => r.trainSeconds).toFixed(2)} |`,
  ].join('\n');
}
