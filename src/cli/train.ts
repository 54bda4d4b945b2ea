// `twotower train` and `twotower eval`: explicit-feedback training on rating files, and scoring a
// saved model on another file. Human-readable lines go to stderr; stdout carries the results
// (with --json, exactly one JSON object as its last line).
import { basename } from 'node:path';
import { loadDataset, type Dataset } from '../node/dataset.js';
import { trainRecipe, recipeOptions, type RecipeOptions } from '../node/recipe.js';
import type { LossName } from '../train/losses.js';
import type { RatingsData } from '../data/ratings.js';
import { subset } from '../data/ratings.js';
import { saveModel, loadModelFile } from '../node/model-io.js';
import { loadRatingsFile, type RatingsFormat } from '../node/ratings-file.js';
import { randomHoldout, temporalPerUser, leaveLastOut } from '../data/splits.js';
import { fail } from '../errors.js';
import type { ColumnMapping } from '../data/ratings.js';
import type { Delimiter } from '../node/delimited.js';
import { progressBar } from './progress.js';

export interface DataFlags {
  format: RatingsFormat;
  userCol?: number | string;
  itemCol?: number | string;
  ratingCol?: number | string;
  timeCol?: number | string;
  delimiter?: Delimiter | 'auto';
  header?: boolean;
  json: boolean;
}

export interface TrainFlags extends DataFlags {
  data: string;
  test?: string;
  users?: string;
  items?: string;
  split: 'random' | 'temporal' | 'leave-last-out';
  testFraction: number;
  loss: LossName;
  minRating?: number;
  temperature?: number;
  negatives?: number;
  epochs?: number;
  dim?: number;
  hidden: number[];
  lr: number;
  batch: number;
  l2?: number;
  patience: number;
  refit: boolean;
  /** commander's --no-side-features: false when given, else undefined (the loss's default). */
  sideFeatures?: boolean;
  implicitDim?: number;
  history: number;
  historyPooling: 'mean' | 'attention';
  hashIds?: number;
  seed: number;
  out?: string;
}

function mapping(f: DataFlags): ColumnMapping {
  return { user: f.userCol, item: f.itemCol, rating: f.ratingCol, time: f.timeCol };
}

export async function train(f: TrainFlags): Promise<void> {
  const say = (line: string) => console.error(line);
  const ds: Dataset = await loadDataset({
    data: f.data, test: f.test, users: f.users, items: f.items, format: f.format, columns: mapping(f),
    delimiter: f.delimiter, header: f.header, hashBuckets: f.hashIds,
  });
  ds.notes.forEach((n) => say(n));
  if (!ds.test) {
    const split = f.split === 'temporal' ? temporalPerUser(ds.train, f.testFraction)
      : f.split === 'leave-last-out' ? leaveLastOut(ds.train) : randomHoldout(ds.train, f.testFraction, f.seed);
    say(`no --test: holding out ${split.test.users.length} ratings (${f.split}${f.split === 'leave-last-out' ? '' : `, ${f.testFraction}`}) as the test set`);
    ds.train = split.train;
    ds.test = split.test;
  }
  const given: Partial<RecipeOptions> = {
    hidden: f.hidden, batchSize: f.batch, learningRate: f.lr, patience: f.patience, refit: f.refit, seed: f.seed,
    history: f.history, historyPooling: f.historyPooling,
  };
  for (const [key, value] of [['dim', f.dim], ['epochs', f.epochs], ['l2', f.l2], ['sideFeatures', f.sideFeatures === false ? false : undefined],
    ['minRating', f.minRating], ['temperature', f.temperature], ['negatives', f.negatives], ['implicitDim', f.implicitDim]] as const) {
    if (value !== undefined) (given as Record<string, unknown>)[key] = value;
  }
  const options = recipeOptions(f.loss, given);
  const batches = Math.ceil(ds.train.users.length * 0.9 / f.batch);
  const bar = progressBar(batches * options.epochs, !f.json && process.stderr.isTTY === true);
  const result = await trainRecipe(ds, {
    ...options,
    onBatchEnd: (epoch, loss) => bar.tick(epoch, loss),
    onEpochEnd: (line) => { bar.stop(); if (!f.json) say(line); },
  });
  bar.stop();
  const model = result.model;
  model.metadata = {
    trainedOn: basename(f.data), ratings: ds.train.users.length, epochs: result.epochs, userSpecs: ds.userSpecs, itemSpecs: ds.itemSpecs,
  };
  const explicit = f.loss === 'mse';
  const { rmse, mae } = explicit ? model.evaluate(ds.test!) : { rmse: NaN, mae: NaN };
  // Ranking metrics for every loss: each test user's items ranked among all items, training items excluded.
  const test = explicit || f.minRating === undefined ? ds.test! : positives(ds.test!, f.minRating);
  const ranking = model.evaluateRanking(test, { ks: [10, 20], exclude: ds.train });
  if (f.out) {
    await saveModel(f.out, model);
    say(`saved the model to ${f.out}`);
  }
  const summary = {
    ...(explicit ? { rmse, mae } : {}),
    'recall@10': ranking.recall[10], 'ndcg@10': ranking.ndcg[10], 'recall@20': ranking.recall[20], 'ndcg@20': ranking.ndcg[20],
    'hr@10': ranking.hitRate[10], 'map@10': ranking.map[10], mrr: ranking.mrr, auc: ranking.auc, 'coverage@20': ranking.coverage[20],
    rankedUsers: ranking.users, loss: f.loss, epochs: result.epochs, trainSeconds: result.seconds,
    users: f.hashIds ? ds.users.size : ds.users.size - 1, items: f.hashIds ? ds.items.size : ds.items.size - 1,
    trainRatings: ds.train.users.length, testRatings: ds.test!.users.length, ...(f.hashIds ? { hashBuckets: f.hashIds } : {}), kernels: model.backend.kind,
    ...(f.out ? { model: f.out } : {}),
  };
  if (f.json) console.log(JSON.stringify(summary));
  else {
    if (explicit) console.log(`test RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)} on ${summary.testRatings} ratings`);
    console.log(`ranking over all ${summary.items} items for ${ranking.users} test users (training items excluded): ` +
      `Recall@10 ${ranking.recall[10]!.toFixed(4)}, NDCG@10 ${ranking.ndcg[10]!.toFixed(4)}, Recall@20 ${ranking.recall[20]!.toFixed(4)}, ` +
      `NDCG@20 ${ranking.ndcg[20]!.toFixed(4)}, MRR ${ranking.mrr.toFixed(4)}, AUC ${ranking.auc.toFixed(4)}, coverage@20 ${ranking.coverage[20]!.toFixed(4)}`);
    console.log(`${result.epochs} epochs in ${result.seconds.toFixed(1)} s`);
  }
  model.dispose();
}

export interface EvalFlags extends DataFlags {
  model: string;
  data: string;
}

export async function evaluate(f: EvalFlags): Promise<void> {
  const model = await loadModelFile(f.model);
  try {
    const { users, items } = model.vocabularies;
    if (!users || !items) fail('BAD_MODEL_FILE', `${f.model} has no id vocabularies (it was not trained from files), so ids in ${f.data} cannot be mapped`);
    const loaded = await loadRatingsFile(f.data, { format: f.format, columns: mapping(f), delimiter: f.delimiter, header: f.header, users, items });
    const { rmse, mae } = model.evaluate(loaded.data);
    const n = loaded.data.users.length;
    const summary = { rmse, mae, ratings: n, unknownUsers: loaded.unknownUsers, unknownItems: loaded.unknownItems, users: users.size - 1, items: items.size - 1 };
    if (loaded.unknownUsers || loaded.unknownItems) {
      console.error(`${loaded.unknownUsers} ratings have users and ${loaded.unknownItems} have items the model has not seen: scored from biases only`);
    }
    if (f.json) console.log(JSON.stringify(summary));
    else console.log(`RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)} on ${n} ratings of ${basename(f.data)}`);
  } finally {
    model.dispose();
  }
}

function positives(data: RatingsData, threshold: number): RatingsData {
  const rows: number[] = [];
  for (let r = 0; r < data.users.length; r++) if (data.ratings[r]! >= threshold) rows.push(r);
  return subset(data, rows);
}

export interface RecommendFlags {
  model: string;
  user?: string;
  /** Comma-separated item ids: recommend for a new user who interacted with these. */
  history?: string;
  k: number;
  includeSeen?: boolean;
  json: boolean;
}

export async function recommendCommand(f: RecommendFlags): Promise<void> {
  const model = await loadModelFile(f.model);
  try {
    const { users, items } = model.vocabularies;
    if (!users || !items) fail('BAD_MODEL_FILE', `${f.model} has no id vocabularies, so user ids cannot be looked up`);
    const known = f.user !== undefined && users.has(f.user);
    let top;
    if (known) {
      top = model.recommend([users.lookup(f.user!)], { k: f.k, excludeSeen: !f.includeSeen && model.seen !== undefined });
    } else if (f.history !== undefined) {
      // Cold start: a user the model has not seen, embedded from the items they interacted with.
      const ids = f.history.split(',').map((x) => x.trim()).filter((x) => x !== '');
      const unknown = ids.filter((x) => !items.has(x));
      if (unknown.length) fail('UNKNOWN_ID', `--history: item id "${unknown[0]}" is not in ${basename(f.model)}`);
      top = model.recommendForHistory([ids.map((x) => items.lookup(x))], { k: f.k, excludeSeen: !f.includeSeen });
    } else if (f.user === undefined) {
      fail('BAD_OPTION', 'recommend needs --user ID, or --history ITEM,ITEM,… for a user the model has not seen');
    } else {
      fail('UNKNOWN_ID', `user id "${f.user}" is not in ${basename(f.model)} (it knows ${users.size - 1} users); pass --history ITEM,ITEM,… to recommend from their items`);
    }
    const list = Array.from(top.indices).flatMap((j, c) => (j < 0 ? [] : [{ item: items.key(j) ?? String(j), score: top.scores[c]! }]));
    if (f.json) console.log(JSON.stringify({ user: f.user ?? null, coldStart: !known, items: list }));
    else list.forEach((x, r) => console.log(`${r + 1}\t${x.item}\t${x.score.toFixed(4)}`));
  } finally {
    model.dispose();
  }
}
