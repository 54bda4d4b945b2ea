// `twotower train`: training on a rating file or an event log with the default recipe, then
// RMSE/MAE (rating models) and full-ranking metrics on the test set. Without --loss a file with a
// rating column trains a rating model and one without (an event log) a retrieval model, which
// never speaks of RMSE or ratings. Human-readable lines go to stderr; stdout carries the results
// (with --json, exactly one JSON object as its last line).
import { basename } from 'node:path';
import { fail } from '../errors.js';
import { findMovieLensSideFiles, type FoundSideFiles } from '../node/side-files.js';
import { loadDataset, type Dataset } from '../node/dataset.js';
import {
  trainRecipe,
  trainBest,
  trainAutoRec,
  trainEase,
  recipeOptions,
  type RecipeOptions,
  type RecipeCandidate,
  type BestResult,
} from '../index.js';
import { LOSSES, type LossName } from '../train/losses/index.js';
import type { RatingsData } from '../data/ratings.js';
import { subset } from '../data/ratings.js';
import { saveModel, loadModelFile } from '../node/model-io.js';
import { checkOutput } from '../node/paths.js';
import { previewColumns, type RatingsFormat } from '../node/ratings-file.js';
import type { RankingMetrics } from '../index.js';
import { randomHoldout, temporalPerUser, leaveLastOut } from '../data/splits.js';
import type { ColumnMapping } from '../data/ratings.js';
import type { Delimiter } from '../node/delimited.js';
import { progressBar } from './progress.js';
import type { OptimizerName } from '../train/optimizers/index.js';

export interface DataFlags {
  /** Default 'auto' (or, in update and eval, how the model's training file was read). */
  format?: RatingsFormat;
  userCol?: number | string;
  itemCol?: number | string;
  ratingCol?: number | string;
  timeCol?: number | string;
  weightCol?: number | string;
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
  /** Default: 'mse' for a file with a rating column, 'softmax' for an event log. */
  loss?: LossName;
  minRating?: number;
  temperature?: number;
  negatives?: number;
  epochs?: number;
  dim?: number;
  hidden: number[];
  lr: number;
  batch: number;
  l2?: number;
  /** Choose the penalty by validation (RecipeOptions.tune): true, false (--no-tune), else the loss's default. */
  tune?: boolean;
  /** The penalties --tune tries (implies --tune). */
  l2Grid?: number[];
  /** 'best': trainBest's blend of members; 'default': one recipe model. */
  recipe: 'default' | 'best';
  /** --recipe best: tower members. */
  seeds?: number;
  /** --recipe best, ratings: autoencoder members. */
  autorecSeeds?: number;
  /** Graph-aware towers (RecipeOptions.graph), as commander's choice gives it. */
  graph?: '0' | '1' | '2';
  /** Which family trains: the recipe's towers (default), the autoencoder (ratings) or EASE (events). */
  family: 'tower' | 'autorec' | 'ease';
  /** A model file to start from (RecipeOptions.warmStart). */
  warmStart?: string;
  patience?: number;
  refit: boolean;
  /** commander's --no-side-features: false when given, else undefined (the loss's default). */
  sideFeatures?: boolean;
  implicitDim?: number;
  history: number;
  historyPooling: 'mean' | 'attention';
  /** The optimizer of the embedding and bias tables. */
  tableOptimizer: OptimizerName;
  threads: number;
  hashIds?: number;
  seed: number;
  out?: string;
}

export function mapping(f: DataFlags): ColumnMapping {
  return { user: f.userCol, item: f.itemCol, rating: f.ratingCol, time: f.timeCol, weight: f.weightCol };
}

/**
 * How a file was read, as model metadata (`read`): the reading chosen by flags and the item
 * column inferred from the header — what auto-detection alone would not repeat on another file.
 * update and eval read their files the same way unless their own flags say otherwise.
 */
export interface ReadChoices {
  format?: RatingsFormat;
  delimiter?: DataFlags['delimiter'];
  header?: boolean;
  columns?: ColumnMapping;
}

/** The reading the flags choose (auto-detected parts left out), plus an inferred item column. */
export function readChoices(f: DataFlags, inferredItem?: string): ReadChoices {
  const columns = Object.fromEntries(Object.entries(mapping(f)).filter(([, v]) => v !== undefined)) as ColumnMapping;
  if (inferredItem !== undefined && columns.item === undefined) columns.item = inferredItem;
  return {
    ...(f.format && f.format !== 'auto' ? { format: f.format } : {}),
    ...(f.delimiter && f.delimiter !== 'auto' ? { delimiter: f.delimiter } : {}),
    ...(f.header !== undefined ? { header: f.header } : {}),
    ...(Object.keys(columns).length ? { columns } : {}),
  };
}

/** The ranking metrics of a summary (train --json and eval --json name them alike). */
export function rankingSummary(m: RankingMetrics): Record<string, number | undefined> {
  return {
    'recall@10': m.recall[10],
    'ndcg@10': m.ndcg[10],
    'recall@20': m.recall[20],
    'ndcg@20': m.ndcg[20],
    'hr@10': m.hitRate[10],
    'map@10': m.map[10],
    mrr: m.mrr,
    auc: m.auc,
    'coverage@20': m.coverage[20],
    rankedUsers: m.users,
  };
}

/** The line of text for the same metrics. */
export function rankingLine(m: RankingMetrics): string {
  return (
    `Recall@10 ${m.recall[10]!.toFixed(4)}, NDCG@10 ${m.ndcg[10]!.toFixed(4)}, Recall@20 ${m.recall[20]!.toFixed(4)}, ` +
    `NDCG@20 ${m.ndcg[20]!.toFixed(4)}, MRR ${m.mrr.toFixed(4)}, AUC ${m.auc.toFixed(4)}, coverage@20 ${m.coverage[20]!.toFixed(4)}`
  );
}

/** The side files loadDataset would find beside --data (none when its header cannot be read yet: loading says why). */
function sideFilesOf(f: TrainFlags): FoundSideFiles {
  try {
    const columns = previewColumns(f.data, { format: f.format, columns: mapping(f), delimiter: f.delimiter, header: f.header });
    return findMovieLensSideFiles(f.data, columns, [f.test, f.users, f.items]);
  } catch {
    return {};
  }
}

/** --out must name a new file or an old model, never one of the inputs (it would be replaced). */
function checkOut(f: TrainFlags): void {
  if (f.out === undefined) return;
  const side = sideFilesOf(f);
  checkOutput('--out', f.out, [
    ['--data', f.data],
    ['--test', f.test],
    ['--users', f.users],
    ['--items', f.items],
    ['the users file found beside --data', side.users?.path],
    ['the items file found beside --data', side.items?.path],
  ]);
}

export async function train(f: TrainFlags): Promise<void> {
  const say = (line: string) => console.error(line);
  checkOut(f);
  const ds: Dataset = await loadDataset({
    data: f.data,
    test: f.test,
    users: f.users,
    items: f.items,
    format: f.format,
    columns: mapping(f),
    delimiter: f.delimiter,
    header: f.header,
    hashBuckets: f.hashIds,
    // Implicit losses need only who interacted with what: a rating column is optional. Without
    // --loss the file decides: a rating column trains ratings, an event log a retrieval model.
    requireRating: f.loss === undefined ? 'auto' : !LOSSES[f.loss].implicit,
  });
  ds.notes.forEach((n) => say(n));
  const loss: LossName = f.loss ?? (ds.hasRatings ? 'mse' : 'softmax');
  if (f.loss === undefined && !ds.hasRatings)
    say(
      'no rating column: training a retrieval model (loss softmax, every event a positive; --loss bpr or bce for another, --rating-col names a rating column)',
    );
  const rows = ds.hasRatings ? 'ratings' : 'events';
  if (!ds.test) {
    const split =
      f.split === 'temporal'
        ? temporalPerUser(ds.train, f.testFraction)
        : f.split === 'leave-last-out'
          ? leaveLastOut(ds.train)
          : randomHoldout(ds.train, f.testFraction, f.seed);
    say(
      `no --test: holding out ${split.test.users.length} ${rows} (${f.split}${f.split === 'leave-last-out' ? '' : `, ${f.testFraction}`}) as the test set`,
    );
    ds.train = split.train;
    ds.test = split.test;
  }
  // Below this the recipe cannot carve a validation split and still train: say so about the file.
  const MIN_TRAINING_ROWS = 10;
  if (ds.train.users.length < MIN_TRAINING_ROWS) {
    fail(
      'EMPTY_DATA',
      `${basename(f.data)}: ${ds.train.users.length} training ${rows.slice(0, -1)}(s) after the test split, too few to train on (at least ${MIN_TRAINING_ROWS})`,
    );
  }
  const given: Partial<RecipeOptions> = {
    hidden: f.hidden,
    batchSize: f.batch,
    learningRate: f.lr,
    refit: f.refit,
    seed: f.seed,
    history: f.history,
    historyPooling: f.historyPooling,
    optimizers: { embeddings: f.tableOptimizer, biases: f.tableOptimizer },
    threads: f.threads,
  };
  for (const [key, value] of [
    ['dim', f.dim],
    ['epochs', f.epochs],
    ['l2', f.l2],
    ['patience', f.patience],
    ['tune', f.l2Grid !== undefined ? true : f.tune],
    ['l2Grid', f.l2Grid],
    ['sideFeatures', f.sideFeatures === false ? false : undefined],
    ['minRating', f.minRating],
    ['temperature', f.temperature],
    ['negatives', f.negatives],
    ['implicitDim', f.implicitDim],
    ['graph', f.graph === undefined ? undefined : (Number(f.graph) as 0 | 1 | 2)],
  ] as const) {
    if (value !== undefined) (given as Record<string, unknown>)[key] = value;
  }
  const options = recipeOptions(loss, given);
  const batches = Math.ceil((ds.train.users.length * 0.9) / f.batch);
  const bar = progressBar(batches * options.epochs, !f.json && process.stderr.isTTY === true);
  const callbacks = {
    onBatchEnd: (b: { epoch: number; loss: number }) => bar.tick(b.epoch, b.loss),
    onLog: (line: string) => {
      bar.stop();
      if (!f.json) say(line);
    },
  };
  for (const [flag, value] of [
    ['--seeds', f.seeds],
    ['--autorec-seeds', f.autorecSeeds],
  ] as const)
    if (value !== undefined && f.recipe !== 'best') fail('BAD_OPTION', `${flag} is for --recipe best`, { option: flag });
  const from = f.warmStart ? await loadModelFile(f.warmStart) : undefined;
  if (from) options.warmStart = from;
  if (f.family !== 'tower' && f.recipe === 'best')
    fail('BAD_OPTION', `--family ${f.family} trains one model: not with --recipe best`, { option: '--family' });
  if (f.family === 'autorec' && LOSSES[loss].implicit)
    fail('BAD_OPTION', '--family autorec trains on ratings (--loss mse)', { option: '--family' });
  if (f.family === 'ease' && !LOSSES[loss].implicit)
    fail('BAD_OPTION', '--family ease ranks items from events (an implicit --loss)', { option: '--family' });
  const best =
    f.recipe === 'best'
      ? await trainBest(ds, { ...options, ...callbacks, seeds: f.seeds, autorecSeeds: f.autorecSeeds })
      : undefined;
  // The other families, alone: each one ordinary model (docs/guide.md).
  const family =
    f.family === 'autorec'
      ? await trainAutoRec(ds, {
          seed: f.seed,
          validationFraction: options.validationFraction,
          refit: f.refit,
          onLog: callbacks.onLog,
        })
      : f.family === 'ease'
        ? await trainEase(ds, { seed: f.seed, minRating: f.minRating, threads: f.threads, onLog: callbacks.onLog })
        : undefined;
  const single = best || family ? undefined : await trainRecipe(ds, { ...options, ...callbacks });
  bar.stop();
  from?.dispose();
  if (single?.candidates) say(candidateLine(single.candidates, single.l2));
  if (best) say(bestLine(best));
  const result = {
    model: (best ?? family ?? single)!.model,
    epochs: single ? single.epochs : best ? best.members[0]!.epochs : family && 'epochs' in family ? family.epochs : 0,
    l2: single ? single.l2 : best?.members[0]!.l2,
    seconds: (best ?? family ?? single)!.seconds,
  };
  const model = result.model;
  const read = readChoices(f, ds.inferredItem);
  if (f.threads > 1) say(`trained on ${model.threads} of the ${f.threads} threads asked for`);
  model.metadata = {
    ...model.metadata,
    trainedOn: basename(f.data),
    [rows]: ds.train.users.length,
    epochs: result.epochs,
    userSpecs: ds.userSpecs,
    itemSpecs: ds.itemSpecs,
    // How the side files' values were encoded, so that update and add-items encode new entities alike.
    ...(ds.userSide ? { userEncoding: ds.userSide.encoding } : {}),
    ...(ds.itemSide ? { itemEncoding: ds.itemSide.encoding } : {}),
    // How the file was read where flags (or an inferred item column) chose it: update and eval read alike.
    ...(Object.keys(read).length ? { read } : {}),
  };
  // Titles and names from the side files: results and `recommend` show them.
  if (ds.labels) model.setLabels(ds.labels);
  const explicit = !LOSSES[loss].implicit;
  const { rmse, mae } = explicit ? model.evaluate(ds.test!) : { rmse: NaN, mae: NaN };
  // Ranking metrics for every loss: each test user's items ranked among all items, training items excluded.
  const test = explicit || f.minRating === undefined ? ds.test! : positives(ds.test!, f.minRating);
  const ranking = model.rows.evaluateRanking(test, { ks: [10, 20], exclude: ds.train });
  if (f.out) {
    await saveModel(f.out, model);
    say(`saved the model to ${f.out}`);
  }
  const summary = {
    ...(explicit ? { rmse, mae } : {}),
    ...rankingSummary(ranking),
    loss,
    epochs: result.epochs,
    l2: result.l2,
    // --tune: each candidate penalty's best validation figure (the split carved from --data).
    ...(single?.candidates ? { tuning: single.candidates } : {}),
    // --tune with --threads 2 or more: how many candidates trained at once in worker threads, or why one after another.
    ...(single?.candidates && f.threads > 1
      ? {
          parallelCandidates: single.parallelCandidates,
          ...(single.sequentialReason !== undefined ? { sequentialReason: single.sequentialReason } : {}),
        }
      : {}),
    // --recipe best: its members, their weights and the blend's validation figure.
    ...(best
      ? {
          recipe: 'best',
          members: best.members,
          weights: best.weights,
          ...(best.validationRmse !== undefined ? { validationRmse: best.validationRmse } : {}),
          ...(best.validationRecall !== undefined ? { validationRecall: best.validationRecall } : {}),
          parallelMembers: best.parallelMembers,
          ...(best.sequentialReason !== undefined ? { sequentialReason: best.sequentialReason } : {}),
        }
      : {}),
    trainSeconds: result.seconds,
    users: f.hashIds ? ds.users.size : ds.users.size - 1,
    items: f.hashIds ? ds.items.size : ds.items.size - 1,
    // An event log's counts are events, a rating file's ratings.
    ...(ds.hasRatings
      ? { trainRatings: ds.train.users.length, testRatings: ds.test!.users.length }
      : { trainEvents: ds.train.users.length, testEvents: ds.test!.users.length }),
    ...(f.hashIds ? { hashBuckets: f.hashIds } : {}),
    kernels: model.kernels,
    ...(f.out ? { model: f.out } : {}),
  };
  if (f.json) console.log(JSON.stringify(summary));
  else {
    if (explicit) console.log(`test RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)} on ${ds.test!.users.length} ratings`);
    console.log(
      `ranking over all ${summary.items} items for ${ranking.users} test users (training items excluded): ${rankingLine(ranking)}`,
    );
    console.log(
      f.family === 'ease'
        ? `built in ${result.seconds.toFixed(1)} s (closed form)`
        : `${result.epochs} epochs in ${result.seconds.toFixed(1)} s`,
    );
  }
  model.dispose();
}

/** One line for --recipe best: its members with their weights, and the blend's validation figure. */
function bestLine(best: BestResult): string {
  const members = best.members.map((m, k) => `${m.family} seed ${m.seed} ×${best.weights[k]!.toFixed(2)}`);
  const figure =
    best.validationRmse !== undefined
      ? `: validation RMSE ${best.validationRmse.toFixed(4)}`
      : best.validationRecall !== undefined
        ? `: validation Recall@20 ${best.validationRecall.toFixed(4)}`
        : '';
  return `best: ${members.length} members (${members.join(', ')}) as one model of width ${best.model.dim}${figure}`;
}

/** One line for --tune's candidates: `l2 chosen by validation RMSE: 0.01 → 0.9204 (9 epochs), 0.02 → 0.9150 (8 epochs) chosen, …`. */
function candidateLine(candidates: RecipeCandidate[], chosen: number): string {
  const metric = candidates[0]?.validationRecall !== undefined ? 'Recall@20' : 'RMSE';
  const shown = candidates.map((c) => {
    const x = c.validationRecall ?? c.validationRmse;
    return `${c.l2} → ${x === undefined ? '-' : x.toFixed(4)} (${c.epochs} epochs)${c.l2 === chosen ? ' chosen' : ''}`;
  });
  return `l2 chosen by validation ${metric}: ${shown.join(', ')}`;
}

function positives(data: RatingsData, threshold: number): RatingsData {
  const rows: number[] = [];
  for (let r = 0; r < data.users.length; r++) if (data.ratings[r]! >= threshold) rows.push(r);
  return subset(data, rows);
}
