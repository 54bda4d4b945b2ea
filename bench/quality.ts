// Accuracy ablations on MovieLens 100K's five official folds (train uK.base, test uK.test): each
// row is a way of training, run on every fold with each seed; the table shows the mean over the
// folds as mean ± sd over the seeds, u1 alone (the fold papers report), and seconds per fold
// (load excluded). Every setting a row chooses, it chooses on the training data's own validation
// split: the test folds are read only to score. A new row (seed ensembles, autoencoder towers,
// graph pooling, an item-item head, `--recipe best`) is one entry in QUALITY_ROWS.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset, type Dataset } from '../src/node/dataset.js';
import {
  trainRecipe,
  trainAutoRec,
  trainBest,
  trainEase,
  recipeOptions,
  type RecipeOptions,
  type BestOptions,
  type LossName,
  type Model,
} from '../src/node/index.js';
import { dataDir } from './movielens.js';
import type { Record } from './harness.js';

/** What a row reports for one fold and seed: RMSE for rating rows, Recall@20 and NDCG@20 for retrieval. */
export interface FoldScore {
  rmse?: number;
  recall20?: number;
  ndcg20?: number;
  /** Seconds to train (and choose) on the fold, loading excluded. */
  seconds: number;
  /** A word on what the row chose on this fold (e.g. the penalty). */
  chose?: string;
}

export interface QualityRow {
  name: string;
  task: 'rating' | 'retrieval';
  /** Trains on ds.train (choosing anything on its validation split) and scores on ds.test. */
  run(ds: Dataset, seed: number): Promise<FoldScore>;
}

/** The training data of a fold as the recipes take it: the test fold is not an input. */
const trainingOf = (ds: Dataset) => ({
  train: ds.train,
  users: ds.users,
  items: ds.items,
  userSide: ds.userSide,
  itemSide: ds.itemSide,
});

/** A row that trains a model on the fold's training data (timed), scores it on the test fold, and disposes it. */
function trainedRow(
  name: string,
  task: 'rating' | 'retrieval',
  trainOn: (ds: Dataset, seed: number) => Promise<{ model: Model; chose?: string }>,
): QualityRow {
  return {
    name,
    task,
    async run(ds, seed) {
      const t0 = performance.now();
      const { model, chose } = await trainOn(ds, seed);
      const seconds = (performance.now() - t0) / 1000;
      try {
        if (task === 'rating') return { rmse: model.evaluate(ds.test!).rmse, seconds, chose };
        const m = model.rows.evaluateRanking(ds.test!, { ks: [20], exclude: ds.train });
        return { recall20: m.recall[20]!, ndcg20: m.ndcg[20]!, seconds, chose };
      } finally {
        model.dispose();
      }
    },
  };
}

const taskOf = (loss: LossName) => (loss === 'mse' ? 'rating' : 'retrieval');

/** A row that is the recipe with some options: `twotower train` with those flags. */
export function recipeRow(name: string, loss: LossName, options: Partial<RecipeOptions> = {}): QualityRow {
  return trainedRow(name, taskOf(loss), async (ds, seed) => {
    const { model, l2, candidates } = await trainRecipe(trainingOf(ds), recipeOptions(loss, { ...options, seed }));
    return { model, chose: candidates ? `l2 ${l2}` : undefined };
  });
}

/** A row that is `--recipe best` with some options. */
export function bestRow(name: string, loss: LossName, options: Partial<RecipeOptions> & BestOptions = {}): QualityRow {
  return trainedRow(name, taskOf(loss), async (ds, seed) => {
    const { model, members, weights } = await trainBest(trainingOf(ds), {
      ...recipeOptions(loss, { ...options, seed }),
      seeds: options.seeds,
      autorecSeeds: options.autorecSeeds,
    });
    // Each family's share of the blend: `tower ×0.45 (l2 0.02) + autorec ×0.55`.
    const shares = new Map<string, number>();
    members.forEach((m, k) => shares.set(m.family, (shares.get(m.family) ?? 0) + weights[k]!));
    const l2 = members.find((m) => m.family === 'tower')?.l2;
    const chose = [...shares]
      .map(([f, w]) => `${f} ×${w.toFixed(2)}${f === 'tower' && l2 !== undefined ? ` (l2 ${l2})` : ''}`)
      .join(' + ');
    return { model, chose };
  });
}

/** EASE or its denoising form DLAE alone (λ and dropout chosen on the validation split), a family of `recipe: 'best'` for retrieval. */
export function easeRow(name = 'retrieval: EASE / DLAE alone (λ, dropout by validation)'): QualityRow {
  return trainedRow(name, 'retrieval', async (ds, seed) => {
    const { model, lambda, dropout } = await trainEase(trainingOf(ds), { seed });
    return { model, chose: `λ ${lambda}${dropout > 0 ? ` p ${dropout}` : ''}` };
  });
}

/** I-AutoRec alone (its defaults, epochs by validation), a family of `recipe: 'best'` for ratings. */
export function autorecRow(name = 'autoencoder alone (I-AutoRec, h 200)'): QualityRow {
  return trainedRow(name, 'rating', async (ds, seed) => ({ model: (await trainAutoRec(trainingOf(ds), { seed })).model }));
}

/** The ablation rows, in the order the table shows them. */
export const QUALITY_ROWS: QualityRow[] = [
  recipeRow('plain tower (old default l2 0.1, patience 3)', 'mse', { l2: 0.1, tune: false, patience: 3 }),
  recipeRow('plain tower, l2 0.02 fixed (no search)', 'mse', { tune: false }),
  recipeRow('penalty chosen by validation (the default)', 'mse'),
  bestRow('seed ensemble: 5 towers', 'mse', { autorecSeeds: 0 }),
  autorecRow(),
  bestRow('recipe best: 5 towers + 3 autoencoders', 'mse'),
  recipeRow('retrieval: softmax recipe (the default, no search)', 'softmax'),
  recipeRow('retrieval: graph-aware towers (tied, 1+2 hops, lr 0.001)', 'softmax', { graph: 2, learningRate: 0.001 }),
  easeRow(),
  bestRow('retrieval, recipe best: tower + EASE / DLAE', 'softmax'),
];

export interface RowResult {
  row: QualityRow;
  /** scores[s][f]: seed s, fold f. */
  scores: FoldScore[][];
  seeds: number[];
  folds: number[];
}

/** Runs every row on every fold and seed; null when the MovieLens 100K folds are not there. */
export async function qualityRows(
  seeds = [1, 2, 3],
  folds = [1, 2, 3, 4, 5],
  rows = QUALITY_ROWS,
  onRow?: (r: RowResult) => void,
): Promise<RowResult[] | null> {
  const dir = dataDir();
  if (!existsSync(join(dir, 'u1.base'))) return null;
  const data = new Map<number, Dataset>();
  for (const fold of folds)
    data.set(fold, await loadDataset({ data: join(dir, `u${fold}.base`), test: join(dir, `u${fold}.test`) }));
  const results: RowResult[] = [];
  for (const row of rows) {
    const scores: FoldScore[][] = [];
    for (const seed of seeds) {
      const perFold: FoldScore[] = [];
      for (const fold of folds) perFold.push(await row.run(data.get(fold)!, seed));
      scores.push(perFold);
    }
    const result = { row, scores, seeds, folds };
    results.push(result);
    onRow?.(result);
  }
  return results;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

/** mean ± sd over seeds of the mean over folds, for one figure of a row. */
export function summary(r: RowResult, figure: (s: FoldScore) => number | undefined): { mean: number; sd: number; u1?: number } {
  const perSeed = r.scores.map((folds) => mean(folds.map((s) => figure(s)!)));
  const u1 = r.folds.indexOf(1);
  return { mean: mean(perSeed), sd: sd(perSeed), ...(u1 >= 0 ? { u1: mean(r.scores.map((f) => figure(f[u1]!)!)) } : {}) };
}

export function secondsPerFold(r: RowResult): number {
  return mean(r.scores.flat().map((s) => s.seconds));
}

/** What a row chose, counted over folds and seeds: `l2 0.02 ×9, l2 0.05 ×4`. */
function choices(r: RowResult): string {
  const counts = new Map<string, number>();
  for (const s of r.scores.flat()) if (s.chose) counts.set(s.chose, (counts.get(s.chose) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ×${n}`)
    .join(', ');
}

export function qualityTable(results: RowResult[]): string {
  const f4 = (x: number | undefined) => (x === undefined ? '' : x.toFixed(4));
  const lines = [
    '| row | RMSE | u1 RMSE | Recall@20 | NDCG@20 | u1 Recall@20 | s/fold | chosen (folds × seeds) |',
    '|:--|--:|--:|--:|--:|--:|--:|:--|',
  ];
  for (const r of results) {
    const cells =
      r.row.task === 'rating'
        ? (() => {
            const x = summary(r, (s) => s.rmse);
            return [`${f4(x.mean)} ± ${f4(x.sd)}`, f4(x.u1), '', '', ''];
          })()
        : (() => {
            const rec = summary(r, (s) => s.recall20),
              ndcg = summary(r, (s) => s.ndcg20);
            return ['', '', `${f4(rec.mean)} ± ${f4(rec.sd)}`, `${f4(ndcg.mean)} ± ${f4(ndcg.sd)}`, f4(rec.u1)];
          })();
    lines.push(`| ${r.row.name} | ${cells.join(' | ')} | ${secondsPerFold(r).toFixed(1)} | ${choices(r)} |`);
  }
  return lines.join('\n');
}

/** The suite as bench/run.ts runs it (`--only=quality`): the table, and a record per row. */
export async function qualitySuite(seeds: number[], say: (line: string) => void, records: Record[]): Promise<void> {
  const results = await qualityRows(seeds, [1, 2, 3, 4, 5], QUALITY_ROWS, (r) =>
    process.stderr.write(`quality: ${r.row.name}: done (${secondsPerFold(r).toFixed(1)} s/fold)\n`),
  );
  if (!results) {
    say('\nAccuracy ablations: MovieLens 100K not found (set TWOTOWER_DATA), skipped');
    return;
  }
  for (const r of results) {
    const ms = secondsPerFold(r) * 1000;
    const x = summary(r, (s) => (r.row.task === 'rating' ? s.rmse : s.recall20));
    records.push({
      name: `MovieLens 100K u1..u5, ${r.row.name}, seeds ${seeds.join(',')}`,
      impl: 'twotower',
      medianMs: ms,
      minMs: Math.min(...r.scores.flat().map((s) => s.seconds * 1000)),
      maxMs: Math.max(...r.scores.flat().map((s) => s.seconds * 1000)),
      note: `${r.row.task === 'rating' ? 'RMSE' : 'Recall@20'} ${x.mean.toFixed(4)} ± ${x.sd.toFixed(4)} (u1 ${x.u1?.toFixed(4)})`,
    });
  }
  say(
    `\nAccuracy ablations, MovieLens 100K official folds u1..u5 (mean over folds, ± sd over seeds ${seeds.join(', ')}; every choice on the training data's validation split; s/fold: training, load excluded)\n${qualityTable(results)}`,
  );
}
