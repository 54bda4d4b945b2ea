// twotower: the public API. Everything a user imports comes from here (re-exports only);
// nothing here imports a Node-only module, so the same entry point runs in browsers. Threads start
// on the platform's workers: Web Workers unless an entry installs another (src/node/index.ts:
// worker_threads), never by an argument of these functions (src/wasm/platform.ts).
export { Model, createModel, loadModel, loadBundle } from './api/model.js';
export type { BundleOptions } from './api/bundle.js';
export type { LabelsInput, LabelSource, SetLabelsResult } from './api/labels.js';
export type { CreateModelOptions } from './api/create.js';
export type { LoadModelOptions } from './api/model-bytes.js';
export { modelMemory, type ModelMemory } from './train/memory.js';
export type { ExportEmbeddingsOptions, EmbeddingExport } from './api/vector-export.js';
export { importModel } from './api/pytorch-import.js';
export type { PyTorchFiles } from './api/pytorch-export.js';
export { TwoTowerError, ERROR_CODES, type ErrorCode, type ErrorDetails } from './errors.js';
export type { Id, Recommendation, RecommendByIdOptions, ModelVocabularies } from './api/ids.js';
export { Ranked } from './rank/ranked.js';
export type { ModelRows } from './api/rows.js';
export type { OnnxInput, OnnxInputsOptions } from './api/onnx.js';
export type { UpdateOptions, UpdateResult, FoldInOptions } from './api/update.js';
export type { UpdateEvent } from './api/update-events.js';
export {
  Personal,
  type PersonalEvent,
  type PersonalMode,
  type PersonalizeOptions,
  type PersonalRecommendOptions,
  type PersonalRecommendation,
  type PersonalExplainOptions,
  type PersonalExplanation,
  type PersonalBecause,
} from './api/personal.js';
export type { EntityFeatures } from './api/grow-core.js';
export { describeReason, type Explanation, type ExplainByIdOptions, type Reason, type BecauseItem } from './api/explain.js';
export {
  reasonPhrases,
  reasonWords,
  type ReasonPhrase,
  type ReasonWordsKind,
  type ReasonWordsOptions,
  type PersonRatings,
  type WordsSource,
  type WordsContext,
} from './api/reason-words.js';
export { parseEvents, type ParseEventsOptions, type ParsedEvents } from './api/events.js';
export type { Delimiter } from './data/delimiter.js';
export type { ResolvedColumns } from './data/ratings.js';
export { train, type TrainEvent, type TrainOptions } from './api/train.js';
export { trainRecipe, type RecipeResult, type RecipeCandidate } from './api/recipe.js';
export { combineModels, type CombineOptions, type EnsembleInfo } from './api/ensemble.js';
export { warmStart, type WarmStartReport, type WarmStartBlock } from './api/warm-start.js';
export { trainAutoRec, AUTOREC_DEFAULTS, type AutoRecOptions, type AutoRecResult, type AutoRecEpoch } from './api/autorec.js';
export { trainEase, EASE_DEFAULTS, EASE_MAX_ITEMS, type EaseOptions, type EaseResult, type EaseCandidate } from './api/ease.js';
export { trainBest, BEST_DEFAULTS, type BestOptions, type BestResult, type BestMember } from './api/best.js';
export {
  recipeOptions,
  recipeConfig,
  RECIPE_DEFAULTS,
  IMPLICIT_DEFAULTS,
  type RecipeOptions,
  type RecipeData,
  type RecipeEpoch,
  type RecipeBatch,
  type RecipePosition,
} from './api/recipe-config.js';

// Configuration and data shapes.
export type {
  TwoTowerConfig,
  TowerConfig,
  FeatureSpec,
  FeatureKindName,
  IdFeature,
  CategoricalFeature,
  MultiHotFeature,
  InteractionSet,
  NumericFeature,
  TowerSide,
} from './config/model.js';
export type { FeatureTable, FeatureColumn, MultiHotColumn } from './config/feature-table.js';
export type { Interactions } from './data/interactions.js';
export { Vocabulary, type VocabularyJSON } from './data/vocabulary.js';
export { randomHoldout, kFold, temporalPerUser, leaveLastOut, type Split } from './data/splits.js';
export type { RatingsData, ColumnMapping } from './data/ratings.js';
export { buildSideFeatures, type SideFeatureSpec, type SideSource } from './data/side-features.js';
export type { EntityValues, SideColumnSpec, SideValue } from './data/side-values.js';
export { generateSynthetic, type SyntheticOptions, type SyntheticData } from './data/synthetic.js';

// Training.
export type { FitOptions, FitResult, EpochInfo, BatchInfo, LearningRateSchedule, EarlyStopping } from './train/options.js';
export { LOSS_NAMES, type LossName } from './train/losses/index.js';
export type { OptimizerName, OptimizerChoice, OptimizerOptions } from './train/optimizers/index.js';

// Ranking and evaluation.
export type { RecommendOptions, HistoryOptions } from './rank/recommend.js';
export { createScorer, type Scorer, type ScorerOptions, type TopKOptions } from './rank/scorer.js';
export type { Exclusions } from './rank/scan.js';
export type { TopKResult } from './rank/topk-result.js';
export {
  createIndex,
  VectorIndex,
  type IndexOptions,
  type SearchOptions,
  type Hit,
  type IndexId,
  type Vectors,
} from './rank/index-api.js';
export type { RankingOptions, RankingMetrics } from './eval/ranking.js';
export { rmse, mae } from './eval/regression.js';

// Persistence.
export { FORMAT_VERSION } from './io/model-file.js';
export { VECTOR_FORMATS, type VectorFormat } from './io/vector-export.js';

// Kernels and backends.
export { loadWasmBackend, supportsRelaxedSimd, type LoadOptions, type KernelBuild } from './wasm/load.js';
export type { Backend, BackendKind, Kernels, HeapStats } from './backend/contract.js';
export { ReferenceBackend } from './reference/backend.js';
