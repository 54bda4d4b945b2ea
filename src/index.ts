// twotower: the public API. Everything a user imports comes from here; nothing here imports a
// Node-only module, so the same entry point runs in browsers.
import { TwoTower } from './model/twotower.js';
import { TwoTowerError } from './errors.js';
import type { TwoTowerConfig } from './model/config.js';
import type { FeatureTable } from './model/features.js';
import type { Backend } from './wasm/backend.js';
import { loadWasmBackend, type LoadOptions } from './wasm/load.js';
import { fit as fitModel, type FitOptions, type FitResult } from './train/fit.js';
import type { Interactions } from './data/interactions.js';
import { rmse, mae } from './eval/regression.js';
import { encodeModelFile, decodeModelFile } from './io/model-file.js';
import { Vocabulary } from './data/vocabulary.js';
import { recommend as recommendItems, similarItems as similar, recommendForHistory as fromHistory, type RecommendOptions, type HistoryOptions } from './rank/recommend.js';
import type { TopKResult } from './rank/scorer.js';
import { evaluateRanking as rankingMetrics, type RankingOptions, type RankingMetrics } from './eval/ranking.js';

export interface CreateModelOptions {
  /** How to load the WASM kernels (build choice, precompiled module, bytes or URL). Default: inlined, auto build. */
  wasm?: LoadOptions;
  /** Run on this backend instead of WASM (e.g. `new ReferenceBackend()` for f64 checks). */
  backend?: Backend;
  /** Per-user feature columns, when the user tower reads more than its id. */
  userFeatures?: FeatureTable;
  /** Per-item feature columns, when the item tower reads more than its id. */
  itemFeatures?: FeatureTable;
}

/** A trained or trainable two-tower model. */
export class Model extends TwoTower {
  /** Trains in place with Adam; see FitOptions for settings and defaults. */
  fit(train: Interactions, options: FitOptions = {}): FitResult {
    return fitModel(this, train, options);
  }

  /** The model as a versioned binary file (config, parameters, vocabularies, feature tables, checksum). */
  toBytes(): Uint8Array {
    this.ensureReady();
    return encodeModelFile({
      config: this.config,
      optimizerSteps: this.optimizerSteps,
      parameters: this.parameters(),
      vocabularies: { user: this.vocabularies.users?.toJSON(), item: this.vocabularies.items?.toJSON() },
      userFeatures: this.userTower.table,
      itemFeatures: this.itemTower.table,
      metadata: this.metadata,
      seen: this.seen,
    });
  }

  /** Top-k items for each user index (training items skipped unless excludeSeen: false). */
  recommend(users: ArrayLike<number>, options: RecommendOptions = {}): TopKResult {
    return recommendItems(this, users, options);
  }

  /** Cold start: top-k items for users not in the model, from the item indices each interacted with. */
  recommendForHistory(histories: ArrayLike<number>[], options: HistoryOptions = {}): TopKResult {
    return fromHistory(this, histories, options);
  }

  /** The k items most similar to `item` by the cosine of their embeddings. */
  similarItems(item: number, k = 10): TopKResult {
    return similar(this, item, k);
  }

  /** Full-ranking metrics (Recall, NDCG, HR, MAP @K, MRR, AUC, coverage); see RankingOptions. */
  evaluateRanking(test: Pick<Interactions, 'users' | 'items'>, options: RankingOptions = {}): RankingMetrics {
    return rankingMetrics(this, test, options);
  }

  /** RMSE and MAE of predict() against the given ratings. */
  evaluate(data: Interactions): { rmse: number; mae: number } {
    const predictions = this.predict(data.users, data.items);
    return { rmse: rmse(predictions, data.ratings), mae: mae(predictions, data.ratings) };
  }
}

/** Builds a model from its config, with freshly initialised (seeded) parameters. */
export async function createModel(config: TwoTowerConfig, options: CreateModelOptions = {}): Promise<Model> {
  const backend = options.backend ?? (await loadWasmBackend(options.wasm));
  const model = new Model(config, backend);
  try {
    if (options.userFeatures) model.setUserFeatures(options.userFeatures);
    if (options.itemFeatures) model.setItemFeatures(options.itemFeatures);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Rebuilds a model from the bytes of a model file (see Model.toBytes). Throws a TwoTowerError
 * for a file that is not a model, is truncated or corrupted, or has a newer format version.
 */
export async function loadModel(bytes: Uint8Array, options: Omit<CreateModelOptions, 'userFeatures' | 'itemFeatures'> & { name?: string } = {}): Promise<Model> {
  const contents = decodeModelFile(bytes, options.name);
  const model = await createModel(contents.config, { ...options, userFeatures: contents.userFeatures, itemFeatures: contents.itemFeatures });
  for (const block of model.store.blocks) {
    const values = contents.parameters[block.name];
    if (!values || values.length !== block.size) {
      model.dispose();
      throw new TwoTowerError('BAD_MODEL_FILE', `${options.name ?? 'model file'} is corrupted: parameter block "${block.name}" is ${values ? `${values.length} values, expected ${block.size}` : 'missing'}`);
    }
    model.store.values(block).set(values);
  }
  model.optimizerSteps = contents.optimizerSteps;
  model.revision++;
  if (contents.vocabularies.user) model.vocabularies.users = Vocabulary.fromJSON(contents.vocabularies.user);
  if (contents.vocabularies.item) model.vocabularies.items = Vocabulary.fromJSON(contents.vocabularies.item);
  model.metadata = contents.metadata;
  model.seen = contents.seen;
  return model;
}

export { TwoTowerError };
export { Vocabulary, type VocabularyJSON } from './data/vocabulary.js';
export { FORMAT_VERSION } from './io/model-file.js';
export type { FitOptions as TrainOptions, LearningRateSchedule, EarlyStopping } from './train/fit.js';
export { randomHoldout, kFold, temporalPerUser, leaveLastOut, type Split } from './data/splits.js';
export type { RatingsData, ColumnMapping } from './data/ratings.js';
export { buildSideFeatures, type SideFeatureSpec, type SideSource } from './data/side-features.js';
export type {
  TwoTowerConfig, TowerConfig, FeatureSpec, IdFeature, CategoricalFeature, MultiHotFeature, NumericFeature,
} from './model/config.js';
export type { FeatureTable, FeatureColumn, MultiHotColumn } from './model/features.js';
export type { Interactions } from './data/interactions.js';
export type { FitOptions, FitResult, EpochInfo, BatchInfo } from './train/fit.js';
export type { LossName } from './train/losses.js';
export type { LoadOptions, KernelBuild } from './wasm/load.js';
export { loadWasmBackend, supportsRelaxedSimd } from './wasm/load.js';
export type { Backend, BackendKind, Kernels, HeapStats } from './wasm/backend.js';
export { ReferenceBackend } from './reference/backend.js';
export { generateSynthetic, type SyntheticOptions, type SyntheticData } from './data/synthetic.js';
export { rmse, mae } from './eval/regression.js';
export { createScorer, type Scorer, type ScorerOptions, type TopKOptions, type TopKResult, type Exclusions } from './rank/scorer.js';
export type { RecommendOptions, HistoryOptions } from './rank/recommend.js';
export type { RankingOptions, RankingMetrics } from './eval/ranking.js';
