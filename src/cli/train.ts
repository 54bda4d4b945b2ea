// `twotower train` and `twotower eval`: explicit-feedback training on rating files, and scoring a
// saved model on another file. Human-readable lines go to stderr; stdout carries the results
// (with --json, exactly one JSON object as its last line).
import { basename } from 'node:path';
import { loadDataset, type Dataset } from '../node/dataset.js';
import { trainRecipe, RECIPE_DEFAULTS } from '../node/recipe.js';
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
  loss: 'mse';
  epochs: number;
  dim: number;
  hidden: number[];
  lr: number;
  batch: number;
  l2: number;
  patience: number;
  refit: boolean;
  sideFeatures: boolean;
  implicitDim: number;
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
    delimiter: f.delimiter, header: f.header,
  });
  ds.notes.forEach((n) => say(n));
  if (!ds.test) {
    const split = f.split === 'temporal' ? temporalPerUser(ds.train, f.testFraction)
      : f.split === 'leave-last-out' ? leaveLastOut(ds.train) : randomHoldout(ds.train, f.testFraction, f.seed);
    say(`no --test: holding out ${split.test.users.length} ratings (${f.split}${f.split === 'leave-last-out' ? '' : `, ${f.testFraction}`}) as the test set`);
    ds.train = split.train;
    ds.test = split.test;
  }
  const batches = Math.ceil(ds.train.users.length * 0.9 / f.batch);
  const bar = progressBar(batches * f.epochs, !f.json && process.stderr.isTTY === true);
  const result = await trainRecipe(ds, {
    ...RECIPE_DEFAULTS, dim: f.dim, hidden: f.hidden, epochs: f.epochs, batchSize: f.batch, learningRate: f.lr, l2: f.l2,
    patience: f.patience, refit: f.refit, sideFeatures: f.sideFeatures, implicitDim: f.implicitDim, seed: f.seed,
    onBatchEnd: (epoch, loss) => bar.tick(epoch, loss),
    onEpochEnd: (line) => { bar.stop(); if (!f.json) say(line); },
  });
  bar.stop();
  const model = result.model;
  model.metadata = {
    trainedOn: basename(f.data), ratings: ds.train.users.length, epochs: result.epochs, userSpecs: ds.userSpecs, itemSpecs: ds.itemSpecs,
  };
  const { rmse, mae } = model.evaluate(ds.test!);
  if (f.out) {
    await saveModel(f.out, model);
    say(`saved the model to ${f.out}`);
  }
  const summary = {
    rmse, mae, epochs: result.epochs, trainSeconds: result.seconds, users: ds.users.size - 1, items: ds.items.size - 1,
    trainRatings: ds.train.users.length, testRatings: ds.test!.users.length, kernels: model.backend.kind,
    ...(f.out ? { model: f.out } : {}),
  };
  if (f.json) console.log(JSON.stringify(summary));
  else console.log(`test RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)} on ${summary.testRatings} ratings; ${result.epochs} epochs in ${result.seconds.toFixed(1)} s`);
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
