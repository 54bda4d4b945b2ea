// The default way to train an explicit-feedback model on a loaded dataset: the architecture the
// CLI builds, and its two-phase training. Phase 1 finds the number of epochs by early stopping
// on a validation split carved from the training data; phase 2 trains a fresh model on all the
// training data for that many epochs with a cosine learning-rate decay. With `tune`, phase 1
// runs once per candidate output penalty on the same validation split and phase 2 refits with
// the best one; the test data is never an input. Shared by the CLI and the benchmarks so that
// both measure the same thing.
import { createModel, modelMemory, internals, type Model } from './model.js';
import type { TwoTowerConfig, FeatureSpec } from '../config/model.js';
import type { FeatureTable, MultiHotColumn } from '../config/feature-table.js';
import type { FitResult, EpochInfo } from '../train/options.js';
import { resolveLoss, type LossName } from '../train/losses/index.js';
import type { OptimizerOptions } from '../train/optimizers/index.js';
import type { RatingsData } from '../data/ratings.js';
import { Vocabulary } from '../data/vocabulary.js';
import { fail } from '../errors.js';
import { checkBooleans, checkId } from '../data/checks.js';
import type { BuiltSideFeatures } from '../data/side-features.js';
import { csrFromLists, csrGroup } from '../data/csr.js';
import { checkEntityValues, encodeEntityValues, type CheckedValues, type EntityValues } from '../data/side-values.js';
import { regressColdRows } from '../train/cold-rows.js';
import { defined } from '../util/defined.js';

/** What a recipe trains on: encoded interactions, their vocabularies, optional side features (a loaded Dataset is one). */
export interface RecipeData {
  train: RatingsData;
  users: Vocabulary;
  items: Vocabulary;
  userSide?: BuiltSideFeatures;
  itemSide?: BuiltSideFeatures;
}

export interface RecipeOptions {
  /** Embedding width. Default 32. */
  dim: number;
  /** Hidden layers of both towers. Default [] (a linear projection of the features). */
  hidden: number[];
  /** Upper bound on epochs in phase 1. Default 40. */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Per-example L2 on the towers' outputs (with `tune`, where the search starts). Default 0.02
   *  (the value phase 1's validation picks most often on MovieLens 100K's folds; docs/accuracy.md);
   *  softmax 0.3, bpr and bce 0.01. */
  l2: number;
  /**
   * Choose `l2` by validation: phase 1 trains one early-stopped model per candidate penalty on
   * the same validation split, keeps the one with the best validation RMSE (Recall@20 for
   * implicit losses; a tie keeps the earlier), and phase 2 refits with its penalty and epochs.
   * The candidates: `l2Grid` when given; else a walk over `l2` × [0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   * starting with `l2` and its two neighbours, then onward from the better neighbour while each
   * step improves (three phase-1 runs when `l2` is already the best). Holds two models at once.
   * Default true for 'mse' unless `l2` is given (then false: a penalty given is used as is; pass
   * both to search from it), false for the implicit losses (their defaults are at a local optimum).
   */
  tune: boolean;
  /** The penalties `tune` tries, every one, in this order: finite numbers ≥ 0. Default: the walk. */
  l2Grid?: number[];
  /** Fraction of the training rows carved for phase 1's validation. Default 0.1. */
  validationFraction: number;
  /** Epochs without improvement before phase 1 stops. Default 2 (with `tune` the same choices as 3
   *  on MovieLens 100K's folds, in a fifth less time); implicit losses 3 (Recall@20 is noisier). */
  patience: number;
  /** Run phase 2 (retrain on all the training data). Default true. */
  refit: boolean;
  /** Use side features (when the dataset has them). Default true. */
  sideFeatures: boolean;
  /** Width of the implicit-feedback feature: each user also reads the items they rated (SVD++'s
   *  Σ y_j / √|N(u)|), each item the users who rated it. 0 turns it off. */
  implicitDim: number;
  /** Users also read their last N training items (by time, else file order) as a pooled
   *  "history" feature, which lets recommendForHistory serve new users. 0 = off. */
  history: number;
  /** How the history is pooled. */
  historyPooling: 'mean' | 'attention';
  /** 'mse' trains on ratings; 'softmax', 'bpr' or 'bce' treat every rating (≥ minRating) as a positive. */
  loss: LossName;
  /** Implicit losses: ratings below this are not positives. Default: all ratings count. */
  minRating?: number;
  /** Softmax temperature. */
  temperature: number;
  /** Optimizers by parameter group (see FitOptions.optimizers). Default: lazy Adam for the tables, Adam for the dense layers. */
  optimizers?: OptimizerOptions;
  /** Threads to train on (createModel's `threads`: the same bits as one thread). Default 1. */
  threads?: number;
  /** bce: negatives per positive. */
  negatives: number;
  seed: number;
  /** After every batch: its epoch and loss, the phase (see RecipeEpoch), and the batch's position in the epoch. */
  onBatchEnd?: (epoch: number, loss: number, phase: 1 | 2, batch: number, batches: number) => void;
  /** A line of progress per epoch, as the CLI prints it. */
  onEpochEnd?: (line: string) => void;
  /**
   * Progress per epoch as figures (for a chart); return false to stop. A stop in phase 1 ends
   * training with the best epoch's weights so far (by the validation metric) and skips the
   * refit; a stop in phase 2 keeps the model as it is after that epoch.
   */
  onEpoch?: (info: RecipeEpoch) => void | boolean;
}

/** One epoch of the recipe: fit()'s EpochInfo, with the phase and the epochs planned in it. */
export interface RecipeEpoch extends EpochInfo {
  /** 1: the epoch search on 90% of the data, scored on the held-out 10%; 2: the refit on all of it. */
  phase: 1 | 2;
  /** Epochs planned in this phase (phase 1: the upper bound). */
  epochs: number;
  /** The output penalty of this run (with `tune`, phase 1 runs once per candidate). */
  l2: number;
}

/** One penalty `tune` tried: how its early-stopped phase 1 scored on the validation split. */
export interface RecipeCandidate {
  l2: number;
  /** Its best epoch's validation RMSE (rating losses; lower is better). */
  validationRmse?: number;
  /** Its best epoch's validation Recall@20 (implicit losses; higher is better). */
  validationRecall?: number;
  /** Epochs to its best validation figure (what phase 2 would train). */
  epochs: number;
  /** Wall-clock seconds of its phase 1. */
  seconds: number;
}

/** The ladder `tune` walks when no `l2Grid` is given, as multiples of `l2` (see RecipeOptions.tune). */
const L2_LADDER: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const RECIPE_DEFAULTS: RecipeOptions = {
  dim: 32,
  hidden: [],
  epochs: 40,
  batchSize: 256,
  learningRate: 0.003,
  l2: 0.02,
  tune: true,
  validationFraction: 0.1,
  patience: 2,
  refit: true,
  sideFeatures: true,
  implicitDim: 32,
  history: 0,
  historyPooling: 'mean',
  loss: 'mse',
  temperature: 0.2,
  negatives: 4,
  seed: 1,
};

/**
 * Defaults that differ for implicit feedback (measured on MovieLens 100K, see the README):
 * wider id embeddings, no side features and no biases (the in-batch softmax scores by the dot
 * product alone), a stronger output penalty, and temperature 0.2. No penalty search: on u1 the
 * softmax recipe's settings sit at a local optimum (docs/accuracy.md).
 */
export const IMPLICIT_DEFAULTS: Partial<RecipeOptions> = {
  dim: 64,
  l2: 0.3,
  tune: false,
  patience: 3,
  sideFeatures: false,
  epochs: 30,
  implicitDim: 0,
};

/** Recipe options for a loss: the defaults, the implicit overrides where they apply, then `given`. */
export function recipeOptions(loss: LossName, given: Partial<RecipeOptions> = {}): RecipeOptions {
  // Each loss module may carry its own recipe defaults (bpr and bce need a much lighter output
  // penalty than the softmax: on u1, 0.47 / 0.50 Recall@20 at l2 0.01, 0.29 at 0.3).
  const module = resolveLoss(loss);
  const implicit = module.implicit ? { ...IMPLICIT_DEFAULTS, ...module.recipeDefaults } : {};
  // A penalty given is a penalty meant: it turns the default search off (tune: true searches from it).
  const fixed = given.l2 !== undefined && given.tune === undefined ? { tune: false } : {};
  return { ...RECIPE_DEFAULTS, ...implicit, loss, ...fixed, ...defined(given) };
}

/** Per-entity lists of the other side's indices in the training data, weighted 1/√count. */
function implicitColumn(keys: Int32Array, values: Int32Array, count: number): MultiHotColumn {
  const { offsets, ids } = csrGroup(keys, values, count);
  const weights = new Float32Array(ids.length);
  for (let e = 0; e < count; e++) weights.fill(1 / Math.sqrt(offsets[e + 1]! - offsets[e]!), offsets[e]!, offsets[e + 1]!);
  return { offsets, ids, weights };
}

/** Each user's last `n` training items, latest last (by timestamp when the data has one). */
function historyColumn(ds: RecipeData, n: number, users: number): MultiHotColumn {
  const rows: number[][] = Array.from({ length: users }, () => []);
  ds.train.users.forEach((u, r) => rows[u]!.push(r));
  const t = ds.train.timestamps;
  const lists = rows.map((list) =>
    (t ? list.sort((a, b) => t[a]! - t[b]! || a - b) : list).slice(-n).map((r) => ds.train.items[r]!),
  );
  return csrFromLists(lists);
}

/** The feature tables the recipe's towers read: side features and the implicit lists. */
export function recipeFeatures(ds: RecipeData, o: RecipeOptions): { userFeatures?: FeatureTable; itemFeatures?: FeatureTable } {
  const table = (side: 'user' | 'item'): FeatureTable | undefined => {
    const count = (side === 'user' ? ds.users : ds.items).size;
    const columns: FeatureTable['columns'] = {
      ...(o.sideFeatures ? (side === 'user' ? ds.userSide : ds.itemSide)?.table.columns : {}),
    };
    if (side === 'user' && o.history > 0) columns.history = historyColumn(ds, o.history, count);
    if (o.implicitDim > 0) {
      columns[side === 'user' ? 'rated' : 'raters'] =
        side === 'user'
          ? implicitColumn(ds.train.users, ds.train.items, count)
          : implicitColumn(ds.train.items, ds.train.users, count);
    }
    return Object.keys(columns).length ? { count, columns } : undefined;
  };
  return { userFeatures: table('user'), itemFeatures: table('item') };
}

export function recipeConfig(ds: RecipeData, o: RecipeOptions): TwoTowerConfig {
  const tower = (side: 'user' | 'item') => {
    const count = (side === 'user' ? ds.users : ds.items).size;
    const sideFeatures: FeatureSpec[] = [
      ...(o.sideFeatures ? ((side === 'user' ? ds.userSide : ds.itemSide)?.features ?? []) : []),
    ];
    if (side === 'user' && o.history > 0) {
      // excludeScoredItem measured worse here (mean Recall@20 0.457 against 0.473), so the
      // history keeps every training item, as it will at serving time.
      sideFeatures.push({
        kind: 'multiHot',
        name: 'history',
        vocabSize: ds.items.size,
        dim: o.dim,
        pooling: o.historyPooling,
        interactions: { last: o.history },
      });
    }
    if (o.implicitDim > 0) {
      const other = (side === 'user' ? ds.items : ds.users).size;
      sideFeatures.push({
        kind: 'multiHot',
        name: side === 'user' ? 'rated' : 'raters',
        vocabSize: other,
        dim: o.implicitDim,
        pooling: 'sum',
        interactions: { weighting: 'inverseSqrt' },
      });
    }
    const plain = sideFeatures.length === 0 && o.hidden.length === 0;
    // Ids alone and no hidden layer: classic biased matrix factorisation (the id embedding is the
    // output). With side features, a linear (or MLP) projection mixes them with the id.
    const features: FeatureSpec[] = [{ kind: 'id', name: side, vocabSize: count, dim: o.dim }, ...sideFeatures];
    return { features, hidden: o.hidden, project: !plain };
  };
  const loss = resolveLoss(o.loss);
  if (loss.implicit) {
    // A matrix loss (the in-batch softmax) scores by the dot product alone: no biases.
    return {
      dim: o.dim,
      user: tower('user'),
      item: tower('item'),
      seed: o.seed,
      ...(loss.kind === 'matrix' ? {} : { bias: { item: true } }),
    };
  }
  let lo = Infinity,
    hi = -Infinity;
  for (const r of ds.train.ratings) {
    if (r < lo) lo = r;
    if (r > hi) hi = r;
  }
  return {
    dim: o.dim,
    user: tower('user'),
    item: tower('item'),
    bias: { global: true, user: true, item: true },
    seed: o.seed,
    ...(lo < hi ? { ratingRange: [lo, hi] as [number, number] } : {}),
  };
}

export interface RecipeResult {
  model: Model;
  /** True when onEpoch returned false. */
  stopped: boolean;
  /** Phase 1 (epoch search) and phase 2 (final) results; with `tune`, phase 1 of the chosen penalty. */
  search: FitResult;
  final?: FitResult;
  /** Epochs the final model trained. */
  epochs: number;
  /** The output penalty the model trained with: `tune`'s choice, else options.l2. */
  l2: number;
  /** With `tune`: every candidate tried, in order, with its validation figure. */
  candidates?: RecipeCandidate[];
  seconds: number;
}

/** The penalties of options.l2Grid, checked. */
function l2Candidates(o: Pick<RecipeOptions, 'l2Grid'>): number[] {
  if (!Array.isArray(o.l2Grid) || o.l2Grid.length === 0)
    fail('BAD_OPTION', `train: options.l2Grid must be a non-empty array of penalties ≥ 0, got ${JSON.stringify(o.l2Grid)}`);
  o.l2Grid.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      fail('BAD_OPTION', `train: options.l2Grid[${i}] must be a finite number ≥ 0, got ${JSON.stringify(x)}`);
  });
  return [...o.l2Grid];
}

/** A candidate's validation figure as a loss (lower is better): its best epoch's. */
function validationLoss(c: RecipeCandidate): number {
  const x = c.validationRecall !== undefined ? -c.validationRecall : c.validationRmse;
  return x === undefined || Number.isNaN(x) ? Infinity : x;
}

export async function trainRecipe(ds: RecipeData, o: RecipeOptions): Promise<RecipeResult> {
  const started = performance.now();
  checkBooleans(o, 'train: options', ['refit', 'sideFeatures', 'tune']);
  const config = recipeConfig(ds, o);
  modelMemory(config, { optimizers: o.optimizers }); // a model that cannot fit fails here, before its feature tables are built
  const features = recipeFeatures(ds, o);
  const make = () => createModel(config, { ...features, threads: o.threads });
  const implicit = resolveLoss(o.loss).implicit;
  const common = {
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    loss: o.loss,
    minRating: o.minRating,
    temperature: o.temperature,
    negatives: o.negatives,
    optimizers: o.optimizers,
  };
  let stopped = false;
  const progress = (e: EpochInfo, phase: 1 | 2, epochs: number, l2: number) => {
    if (o.onEpoch?.({ ...e, phase, epochs, l2 }) === false) stopped = true;
    return !stopped;
  };
  // Phase 1, once per candidate penalty, each on the same validation split (the fit's seed
  // carves it) and scored by that split alone: the test data is never an input here. The best
  // candidate's model is kept (it is the result without a refit, or after a stop).
  const candidates: RecipeCandidate[] = [];
  let best: { candidate: RecipeCandidate; search: FitResult; model: Model } | undefined;
  /** Phase 1 at one penalty: its candidate record, and the model kept when it is the best so far. */
  const tryPenalty = async (l2: number): Promise<number> => {
    const model = await make();
    const prefix = o.tune ? `l2 ${l2}, ` : '';
    let search: FitResult;
    try {
      search = model.fit(ds.train, {
        ...common,
        l2,
        epochs: o.epochs,
        validationFraction: o.validationFraction,
        earlyStopping: { patience: o.patience },
        onBatchEnd: (b) => o.onBatchEnd?.(b.epoch, b.loss, 1, b.batch, b.batches),
        onEpochEnd: (e) => {
          o.onEpochEnd?.(
            `${prefix}epoch ${e.epoch + 1}: train loss ${e.loss.toFixed(4)}, ` +
              (e.validationRecall !== undefined
                ? `validation Recall@20 ${e.validationRecall.toFixed(4)}`
                : `validation RMSE ${e.validationRmse!.toFixed(4)}`) +
              ` (${e.seconds.toFixed(2)} s)`,
          );
          return progress(e, 1, o.epochs, l2);
        },
      });
    } catch (error) {
      model.dispose();
      best?.model.dispose();
      throw error;
    }
    const bestEpoch = search.bestEpoch ?? search.history.length - 1;
    const at = search.history[bestEpoch];
    const candidate: RecipeCandidate = {
      l2,
      ...(implicit ? { validationRecall: at?.validationRecall } : { validationRmse: at?.validationRmse }),
      epochs: bestEpoch + 1,
      seconds: search.seconds,
    };
    candidates.push(candidate);
    if (o.tune)
      o.onEpochEnd?.(
        `l2 ${l2}: best validation ${implicit ? `Recall@20 ${candidate.validationRecall?.toFixed(4)}` : `RMSE ${candidate.validationRmse?.toFixed(4)}`} at epoch ${candidate.epochs} (${search.seconds.toFixed(1)} s)`,
      );
    if (!best || validationLoss(candidate) < validationLoss(best.candidate)) {
      best?.model.dispose();
      best = { candidate, search, model };
    } else model.dispose();
    return validationLoss(candidate);
  };
  if (!o.tune) await tryPenalty(o.l2);
  else if (o.l2Grid !== undefined) {
    for (const l2 of l2Candidates(o)) if (!stopped) await tryPenalty(l2);
  } else {
    // A walk over the ladder l2 × L2_LADDER: l2 and its two neighbours, then onward from the
    // better neighbour while each step improves (three runs when l2 is already the best).
    const ladder = L2_LADDER.map((f) => Number((o.l2 * f).toPrecision(6)));
    const center = L2_LADDER.indexOf(1);
    const scores = new Map<number, number>();
    for (const i of [center, center - 1, center + 1]) if (!stopped) scores.set(i, await tryPenalty(ladder[i]!));
    let at = [...scores].reduce((x, y) => (y[1] < x[1] ? y : x))[0];
    const step = Math.sign(at - center);
    for (let i = at + step; step !== 0 && i >= 0 && i < ladder.length && !stopped; i += step) {
      const score = await tryPenalty(ladder[i]!);
      if (!(score < scores.get(at)!)) break;
      scores.set(i, score);
      at = i;
    }
  }
  const chosen = best!;
  let model = chosen.model;
  const l2 = chosen.candidate.l2;
  const epochs = chosen.candidate.epochs;
  let final: FitResult | undefined;
  if (o.refit && !stopped) {
    // Said in the task's words: a retrieval model is chosen by Recall@20 on events, not by RMSE on ratings.
    o.onEpochEnd?.(
      `best validation ${implicit ? 'Recall@20' : 'RMSE'} at epoch ${epochs}: retraining on all ${ds.train.users.length} training ${implicit ? 'events' : 'ratings'} for ${epochs} epochs with cosine decay${o.tune ? `, l2 ${l2}` : ''}`,
    );
    model.dispose();
    model = await make();
    final = model.fit(ds.train, {
      ...common,
      l2,
      epochs,
      schedule: { kind: 'cosine' },
      onBatchEnd: (b) => o.onBatchEnd?.(b.epoch, b.loss, 2, b.batch, b.batches),
      onEpochEnd: (e) => {
        o.onEpochEnd?.(`final epoch ${e.epoch + 1}/${epochs}: train loss ${e.loss.toFixed(4)} (${e.seconds.toFixed(2)} s)`);
        return progress(e, 2, epochs, l2);
      },
    });
  }
  model.setVocabularies({ users: ds.users, items: ds.items });
  model.setSeen(ds.train.users, ds.train.items);
  return {
    model,
    stopped,
    search: chosen.search,
    final,
    epochs: final ? final.history.length : epochs,
    l2,
    ...(o.tune ? { candidates } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}

/** One interaction in the user's own ids. */
export interface TrainEvent {
  user: string | number;
  item: string | number;
  /** The rating, for a rating task. Absent in click or view logs. */
  rating?: number;
  /** When it happened (any increasing unit): orders each user's history. */
  time?: number;
  /** Confidence (a count, a duration; ≥ 0): examples are drawn ∝ log(1 + weight). */
  weight?: number;
}

export interface TrainOptions extends Partial<Omit<RecipeOptions, 'loss'>> {
  /**
   * 'rating': predict ratings (squared error; every event needs a rating). 'retrieval': rank
   * items for users (every event is a positive). Default: 'rating' when every event has a
   * rating, else 'retrieval'.
   */
  task?: 'rating' | 'retrieval';
  /** The loss, where the task's default will not do: 'mse' for ratings; 'softmax' (default), 'bpr' or 'bce' for retrieval. */
  loss?: LossName;
  /**
   * Item features by id, in your own values: `{ ids, columns: { genre: ['Drama', …], year: [1977,
   * …], genres: [['Sci-Fi', 'Action'], …] }, specs? }`, encoded as the CLI encodes an items file
   * (strings categorical, numbers z-scored, lists multi-hot; the encoding is saved in the model's
   * metadata, and update() and addItems() encode new items' values alike). Ids no event names
   * join the catalogue, started from their features (recommendable at once); items of events
   * without a row take the unknown value. Turns `sideFeatures` on. Default none.
   */
  items?: EntityValues;
  /** User features by id, as `items`. Default none. */
  users?: EntityValues;
}

/** Names the recipe gives its own features, per tower: a column may not take them. */
const RECIPE_FEATURES = { user: ['user', 'history', 'rated'], item: ['item', 'raters'] } as const;

/**
 * Trains a model on events in the user's own ids with the CLI's tuned recipe (architecture,
 * early stopping on a validation split, a final refit): the model keeps the id vocabularies
 * and each user's items, so `model.recommend(userId)` answers in the same ids.
 */
export async function train(events: Iterable<TrainEvent>, options: TrainOptions = {}): Promise<Model> {
  const rows = Array.isArray(events) ? (events as TrainEvent[]) : [...events];
  if (rows.length === 0) fail('EMPTY_DATA', 'train: no events given');
  const task = options.task ?? (rows.every((e) => e?.rating !== undefined) ? 'rating' : 'retrieval');
  if (task !== 'rating' && task !== 'retrieval')
    fail('BAD_OPTION', `task must be 'rating' or 'retrieval', got ${JSON.stringify(task)}`);
  const { task: _task, loss: _loss, users: userValues, items: itemValues, ...given } = options;
  const values = { user: userValues, item: itemValues };
  const checked: Partial<Record<'user' | 'item', CheckedValues>> = {};
  for (const side of ['user', 'item'] as const)
    if (values[side] !== undefined)
      checked[side] = checkEntityValues(values[side], `train: options.${side}s`, RECIPE_FEATURES[side]);
  const withFeatures = checked.user !== undefined || checked.item !== undefined;
  if (withFeatures && options.sideFeatures === false)
    fail('BAD_OPTION', `train: options.${checked.item ? 'items' : 'users'} gives features but options.sideFeatures is false`);
  // As the CLI with a side file: the features' ids are the first rows, in their order; ids only
  // the events name follow.
  const users = new Vocabulary(),
    items = new Vocabulary();
  for (const id of checked.user?.ids ?? []) users.add(id);
  for (const id of checked.item?.ids ?? []) items.add(id);
  const n = rows.length;
  const data: RatingsData = { users: new Int32Array(n), items: new Int32Array(n), ratings: new Float32Array(n) };
  const withTime = rows.every((e) => typeof e?.time === 'number');
  if (withTime) data.timestamps = new Float64Array(n);
  const withWeight = rows.some((e) => e?.weight !== undefined);
  if (withWeight) data.weights = new Float32Array(n);
  rows.forEach((e, r) => {
    if (!e || typeof e !== 'object') fail('BAD_INPUT', `events[${r}] must be { user, item, rating?, time? }`);
    for (const side of ['user', 'item'] as const) checkId(e[side], `events[${r}].${side}`);
    data.users[r] = users.add(String(e.user));
    data.items[r] = items.add(String(e.item));
    if (task === 'rating') {
      if (typeof e.rating !== 'number' || !Number.isFinite(e.rating))
        fail(
          'BAD_INPUT',
          `events[${r}].rating is ${JSON.stringify(e.rating)}: the rating task needs a finite rating on every event`,
        );
      data.ratings[r] = e.rating;
    } else {
      data.ratings[r] = typeof e.rating === 'number' && Number.isFinite(e.rating) ? e.rating : 1;
    }
    if (withTime) data.timestamps![r] = e.time!;
    if (withWeight) {
      const w = e.weight ?? 1;
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
        fail('BAD_INPUT', `events[${r}].weight is ${JSON.stringify(e.weight)}: weights must be finite and ≥ 0`);
      data.weights![r] = w;
    }
  });
  users.freeze();
  items.freeze();
  const loss = options.loss ?? (task === 'rating' ? 'mse' : 'softmax');
  if (resolveLoss(loss).implicit !== (task === 'retrieval')) fail('BAD_OPTION', `loss '${loss}' does not fit the ${task} task`);
  const vocabularies = { user: users, item: items };
  const built: Partial<Record<'user' | 'item', BuiltSideFeatures>> = {};
  for (const side of ['user', 'item'] as const)
    if (checked[side])
      built[side] = encodeEntityValues(values[side]!, checked[side], vocabularies[side], undefined, `train: options.${side}s`);
  const { model } = await trainRecipe(
    { train: data, users, items, userSide: built.user, itemSide: built.item },
    recipeOptions(loss, { ...given, ...(withFeatures ? { sideFeatures: true } : {}) }),
  );
  if (!withFeatures) return model;
  try {
    const metadata: Record<string, unknown> = {};
    for (const side of ['user', 'item'] as const) {
      if (!checked[side]) continue;
      // What the CLI records for its side files: update() and addItems() encode new entities by them.
      metadata[`${side}Specs`] = checked[side].specs;
      metadata[`${side}Encoding`] = built[side]!.encoding;
      startFeatureOnlyRows(model, side, side === 'user' ? data.users : data.items, vocabularies[side].size);
    }
    model.metadata = metadata;
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Entities given features but no event start where their features point, as addItems' cold
 * items do: in a linear tower with side features, their id rows and biases are predicted by the
 * regression fitted on the trained ones (src/train/cold-rows.ts); otherwise they keep their
 * initial rows.
 */
function startFeatureOnlyRows(model: Model, side: 'user' | 'item', rows: Int32Array, count: number): void {
  const trained = new Uint8Array(count);
  for (const r of rows) trained[r] = 1;
  const warm: number[] = [],
    cold: number[] = [];
  for (let r = 1; r < count; r++) (trained[r] ? warm : cold).push(r);
  if (cold.length > 0) regressColdRows(internals(model), side, warm, cold);
}
