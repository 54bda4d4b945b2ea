// What the default recipe builds from a loaded dataset: its options and their defaults, the
// towers' feature tables (side features, the implicit lists, the history) and the model's
// configuration. The training itself (two phases, the penalty search) is recipe.ts; training
// from events in the user's own ids is train.ts.
import type { TwoTowerConfig, TowerConfig, FeatureSpec } from '../config/model.js';
import type { FeatureTable, MultiHotColumn } from '../config/feature-table.js';
import type { BatchInfo, EpochInfo } from '../train/options.js';
import type { Model } from './model.js';
import { resolveLoss, type LossName } from '../train/losses/index.js';
import type { OptimizerOptions } from '../train/optimizers/index.js';
import type { RatingsData } from '../data/ratings.js';
import type { Vocabulary } from '../data/vocabulary.js';
import type { BuiltSideFeatures } from '../data/side-features.js';
import { csrFromLists, csrGroup } from '../data/csr.js';
import { graphColumns, type GraphColumns } from '../data/graph-columns.js';
import { fail } from '../errors.js';
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
   * With `threads` ≥ 2 in Node the candidates train up to `threads` at once in worker threads,
   * the walk running ahead of its own choices, and the search takes them in its order: the same
   * penalty, epochs, candidates and model bits as one after another (see `threads`).
   */
  tune: boolean;
  /** The penalties `tune` tries, every one, in this order: finite numbers ≥ 0. Default: the walk. */
  l2Grid?: number[];
  /** Fraction of the training rows carved for phase 1's validation. Default 0.1. */
  validationFraction: number;
  /**
   * Transfer: every model the recipe trains starts from this trained model's values where they
   * mean the same thing — id tables and biases row by row by id, dense layers where the towers
   * read the same inputs (src/api/warm-start.ts) — instead of random ones. Default none.
   */
  warmStart?: Model;
  /** Keep the chosen phase-1 model beside the refit one (RecipeResult.searchModel), to weigh it against other models on the validation split. Default false. */
  keepSearchModel?: boolean;
  /** Seed of that split (default: `seed`): runs with different seeds can share one split, to be weighed on it (an ensemble's members). */
  splitSeed?: number;
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
  /**
   * Graph-aware towers (LightGCN's propagation, tied pooling): 1 adds to each tower the sum of the
   * other side's own id embeddings over its interactions, weighted 1/√(|N(u)|·|N(i)|); 2 also the
   * two-hop neighbours of its own side (each entity's 64 heaviest). The towers then add their
   * features (no projection) and read ids and the graph only. 0 = off. Default 0.
   */
  graph?: 0 | 1 | 2;
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
  /**
   * Threads to train on (createModel's `threads`: the same bits as one thread). In Node, whole
   * trainings run side by side in worker threads, each on one kernel thread, to the same bits:
   * with `tune`, up to this many of phase 1's candidate penalties at once (phase 2 then runs on
   * this many kernel threads; RecipeResult.parallelCandidates); with recipe: 'best', up to this
   * many members at once (trainBest). Where workers cannot run (a browser, a bundle without
   * dist/node/member-worker.js, a `warmStart` model) they go one after another, and an onLog line
   * and `sequentialReason` say why. Default 1.
   */
  threads?: number;
  /** bce: negatives per positive. */
  negatives: number;
  seed: number;
  /**
   * After every batch, as fit()'s onBatchEnd: its epoch, position and loss, with the recipe's
   * phase and penalty. (0.1's positional form `(epoch, loss, phase, batch, batches)` — a function
   * declaring two or more parameters — still works in 0.2 and warns once.)
   */
  onBatchEnd?: (info: RecipeBatch) => void;
  /**
   * After every epoch, as fit()'s onEpochEnd: its figures (for a chart), with the phase, the epochs
   * planned and the penalty; return false to stop. A stop in phase 1 ends training with the best
   * epoch's weights so far (by the validation metric) and skips the refit; a stop in phase 2 keeps
   * the model as it is after that epoch.
   */
  onEpochEnd?: (info: RecipeEpoch) => void | boolean;
  /** A line of progress per epoch and per decision, as the CLI prints it. */
  onLog?: (line: string) => void;
  /** @deprecated The 0.1 name of onEpochEnd (works in 0.2 and warns once). */
  onEpoch?: (info: RecipeEpoch) => void | boolean;
}

/** Where the recipe is: its phase, and the output penalty of this run. */
export interface RecipePosition {
  /** 1: the epoch search on 90% of the data, scored on the held-out 10%; 2: the refit on all of it. */
  phase: 1 | 2;
  /** The output penalty of this run (with `tune`, phase 1 runs once per candidate). */
  l2: number;
}

/** One batch of the recipe: fit()'s BatchInfo, with the phase and penalty. */
export interface RecipeBatch extends BatchInfo, RecipePosition {}

/** One epoch of the recipe: fit()'s EpochInfo, with the phase, penalty and the epochs planned in it. */
export interface RecipeEpoch extends EpochInfo, RecipePosition {
  /** Epochs planned in this phase (phase 1: the upper bound). */
  epochs: number;
}

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
  let graph: GraphColumns | undefined;
  const table = (side: 'user' | 'item'): FeatureTable | undefined => {
    const count = (side === 'user' ? ds.users : ds.items).size;
    const columns: FeatureTable['columns'] = {
      ...(o.sideFeatures ? (side === 'user' ? ds.userSide : ds.itemSide)?.table.columns : {}),
    };
    if (side === 'user' && o.history > 0) columns.history = historyColumn(ds, o.history, count);
    if (o.graph) {
      graph ??= graphColumns(
        ds.train,
        { users: ds.users.size, items: ds.items.size },
        { twoHop: o.graph === 2, twoHopLimit: 64 },
      );
      columns.graph = side === 'user' ? graph.userItems : graph.itemUsers;
      if (o.graph === 2) columns.graph2 = (side === 'user' ? graph.userUsers : graph.itemItems)!;
    }
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

/** A graph-aware tower: its id, the tied one-hop set (and the two-hop one), added up, no projection. */
function graphTower(side: 'user' | 'item', count: number, other: number, o: RecipeOptions): TowerConfig {
  const features: FeatureSpec[] = [
    { kind: 'id', name: side, vocabSize: count, dim: o.dim },
    {
      kind: 'multiHot',
      name: 'graph',
      vocabSize: other,
      dim: o.dim,
      pooling: 'sum',
      tied: true,
      interactions: { weighting: 'symmetric' },
    },
  ];
  if (o.graph === 2)
    features.push({ kind: 'multiHot', name: 'graph2', vocabSize: count, dim: o.dim, pooling: 'sum', tied: true, tokens: 'self' });
  return { features, combine: 'sum', project: false };
}

/** Graph towers read ids and the graph alone: options that add other inputs are refused, not dropped. */
function checkGraph(ds: RecipeData, o: RecipeOptions): void {
  if (o.graph === undefined || o.graph === 0) return;
  if (o.graph !== 1 && o.graph !== 2)
    fail('BAD_OPTION', `train: options.graph must be 0, 1 or 2, got ${JSON.stringify(o.graph)}`, {
      option: 'options.graph',
      value: o.graph,
    });
  for (const [name, on] of [
    ['sideFeatures', o.sideFeatures && (ds.userSide !== undefined || ds.itemSide !== undefined)],
    ['implicitDim', o.implicitDim > 0],
    ['history', o.history > 0],
    ['hidden', o.hidden.length > 0],
  ] as const)
    if (on)
      fail(
        'BAD_OPTION',
        `train: options.graph towers read ids and the graph only: turn options.${name} off (sideFeatures: false, implicitDim: 0, history: 0, hidden: [])`,
        {
          option: `options.${name}`,
        },
      );
}

export function recipeConfig(ds: RecipeData, o: RecipeOptions): TwoTowerConfig {
  checkGraph(ds, o);
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
    if (o.graph) return graphTower(side, count, (side === 'user' ? ds.items : ds.users).size, o);
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
