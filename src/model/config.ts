// The typed configuration of a two-tower model, its defaults, and its validation. A config is
// plain data (JSON-serialisable) so that it can be saved beside the parameters.
import { fail } from '../errors.js';

/** The entity's own index (0 … vocabSize−1) looked up in a learned embedding table. */
export interface IdFeature {
  kind: 'id';
  /** Feature name; unique within its tower. */
  name: string;
  /** Number of entities (users or items) the table holds. */
  vocabSize: number;
  /** Width of the embedding. */
  dim: number;
}

/** One category per entity (gender, occupation, age bucket), given as an Int32Array column. */
export interface CategoricalFeature {
  kind: 'categorical';
  name: string;
  /** Number of categories; column values lie in [0, vocabSize). */
  vocabSize: number;
  dim: number;
}

/** A set of tokens per entity (genres, tags), given CSR-style, pooled into one vector. */
export interface MultiHotFeature {
  kind: 'multiHot';
  name: string;
  vocabSize: number;
  dim: number;
  /** How the set's embeddings combine: their mean, their (weighted) sum, or an attention-weighted
   *  mean whose scores ⟨a, e_j⟩ use a learned vector a (starting at 0, i.e. at the mean). Default 'mean'. */
  pooling?: 'mean' | 'sum' | 'attention';
  /**
   * User tower only, for a history over the items: when a (user, item) pair is scored, leave
   * that item out of the user's set, so that training never sees a positive in its own history.
   * Not with attention pooling. Default false.
   */
  excludeScoredItem?: boolean;
}

/** A fixed-length numeric vector per entity (already normalised), copied into the input. */
export interface NumericFeature {
  kind: 'numeric';
  name: string;
  /** Values per entity. */
  size: number;
}

export type FeatureSpec = IdFeature | CategoricalFeature | MultiHotFeature | NumericFeature;

export interface TowerConfig {
  /** What the tower reads, concatenated in this order into the MLP's input. */
  features: FeatureSpec[];
  /** Hidden layer widths, each followed by ReLU. Default []. */
  hidden?: number[];
  /**
   * End in a linear layer to `dim`. Default true. With false and no hidden layers the
   * concatenated input is the embedding itself (classic matrix factorisation), so its
   * width must equal `dim`.
   */
  project?: boolean;
}

export interface TwoTowerConfig {
  /** Width of the shared embedding space. */
  dim: number;
  user: TowerConfig;
  item: TowerConfig;
  /** Additive bias terms on the score: a global offset, and per-user / per-item biases keyed
   *  by the tower's id feature. Default all false. */
  bias?: { global?: boolean; user?: boolean; item?: boolean };
  /** Clamp predict() into [min, max] (e.g. the rating scale). Training is not clamped. Default none. */
  ratingRange?: [number, number];
  /** Seed of the parameter initialisation. Default 1. */
  seed?: number;
  /** Standard deviation of the embedding tables' initial values. Default 0.05. */
  embeddingInitStd?: number;
}

export type TowerSide = 'user' | 'item';

function positiveInt(value: unknown, where: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    fail('BAD_CONFIG', `${where} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

/** Width a feature contributes to its tower's input. */
export function featureWidth(f: FeatureSpec): number {
  return f.kind === 'numeric' ? f.size : f.dim;
}

/** Throws a TwoTowerError naming the first invalid field; returns the tower's input width. */
function validateTower(t: TowerConfig, side: TowerSide, dim: number): number {
  if (!t || !Array.isArray(t.features) || t.features.length === 0) {
    fail('BAD_CONFIG', `config.${side}.features must list at least one feature`);
  }
  const names = new Set<string>();
  let width = 0;
  t.features.forEach((f, i) => {
    const where = `config.${side}.features[${i}]`;
    if (!f || typeof f.name !== 'string' || f.name === '') fail('BAD_CONFIG', `${where}.name must be a non-empty string`);
    if (names.has(f.name)) fail('BAD_CONFIG', `${where}: duplicate feature name "${f.name}"`);
    names.add(f.name);
    switch (f.kind) {
      case 'id':
      case 'categorical':
      case 'multiHot':
        positiveInt(f.vocabSize, `${where}.vocabSize ("${f.name}")`);
        positiveInt(f.dim, `${where}.dim ("${f.name}")`);
        if (f.kind === 'multiHot' && f.pooling !== undefined && !['mean', 'sum', 'attention'].includes(f.pooling)) {
          fail('BAD_CONFIG', `${where}.pooling must be 'mean', 'sum' or 'attention', got ${JSON.stringify(f.pooling)}`);
        }
        if (f.kind === 'multiHot' && f.excludeScoredItem && (side !== 'user' || f.pooling === 'attention')) {
          fail('BAD_CONFIG', `${where}.excludeScoredItem is for a user-tower history with mean or sum pooling`);
        }
        break;
      case 'numeric':
        positiveInt(f.size, `${where}.size ("${f.name}")`);
        break;
      default:
        fail('BAD_CONFIG', `${where}.kind must be 'id', 'categorical', 'multiHot' or 'numeric', got ${JSON.stringify((f as { kind?: unknown }).kind)}`);
    }
    width += featureWidth(f);
  });
  if (t.features.filter((f) => f.kind === 'id').length > 1) fail('BAD_CONFIG', `config.${side} has more than one id feature`);
  (t.hidden ?? []).forEach((h, i) => positiveInt(h, `config.${side}.hidden[${i}]`));
  if (t.project === false && (t.hidden ?? []).length === 0 && width !== dim) {
    fail('BAD_CONFIG', `config.${side}.project is false, so its input width (${width}) must equal config.dim (${dim})`);
  }
  if (t.project === false && (t.hidden ?? []).length > 0 && t.hidden![t.hidden!.length - 1] !== dim) {
    fail('BAD_CONFIG', `config.${side}.project is false, so its last hidden width must equal config.dim (${dim})`);
  }
  return width;
}

export function validateConfig(config: TwoTowerConfig): void {
  if (!config || typeof config !== 'object') fail('BAD_CONFIG', 'config must be an object');
  positiveInt(config.dim, 'config.dim');
  validateTower(config.user, 'user', config.dim);
  validateTower(config.item, 'item', config.dim);
  for (const side of ['user', 'item'] as const) {
    if (config.bias?.[side] && !config[side].features.some((f) => f.kind === 'id')) {
      fail('BAD_CONFIG', `config.bias.${side} needs an id feature in config.${side}.features to key the bias on`);
    }
  }
  if (config.ratingRange !== undefined) {
    const r = config.ratingRange;
    if (!Array.isArray(r) || r.length !== 2 || !Number.isFinite(r[0]) || !Number.isFinite(r[1]) || !(r[0] < r[1])) {
      fail('BAD_CONFIG', `config.ratingRange must be [min, max] with min < max, got ${JSON.stringify(r)}`);
    }
  }
  if (config.seed !== undefined && !Number.isInteger(config.seed)) fail('BAD_CONFIG', `config.seed must be an integer, got ${config.seed}`);
  if (config.embeddingInitStd !== undefined && !(config.embeddingInitStd >= 0)) {
    fail('BAD_CONFIG', `config.embeddingInitStd must be ≥ 0, got ${config.embeddingInitStd}`);
  }
}
