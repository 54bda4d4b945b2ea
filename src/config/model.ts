// The typed configuration of a two-tower model and its defaults: plain data (JSON-serialisable),
// saved beside the parameters. Types only; src/model/validate-config.ts checks a config, and each
// feature kind's behaviour is one module in src/model/features/.

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
  /**
   * The set is the entity's interactions with the other side: a user's items (user tower) or an
   * item's users (item tower), so its tokens are the other side's rows and vocabSize is that
   * side's id vocabSize. Explanations then name the items behind a score ("because you
   * interacted with"), and update() / addItems() grow the feature with the other side and append
   * new interactions to the sets: `last` keeps a set's latest N (by time), `weighting:
   * 'inverseSqrt'` weighs each of a set's n tokens 1/√n (SVD++'s implicit feedback). Default:
   * not an interaction set (a model file from before this field infers the recipe's "history",
   * "rated" and "raters").
   */
  interactions?: InteractionSet;
  /**
   * Tied pooling (graph-aware towers, LightGCN's propagation): the set declares no table of its
   * own and pools the id embeddings of the side its tokens belong to — the other tower's id table
   * for an interaction set (a user's items pooled from the item tower's own item embeddings), or
   * this tower's id table with `tokens: 'self'` (a user's two-hop neighbours among the users).
   * Its dim must equal that id feature's dim; one table is then read, trained and saved once.
   * Not with attention pooling. Default false.
   */
  tied?: boolean;
  /**
   * Whose rows a tied set's tokens are: 'other' (default; needs `interactions`) or 'self' (the
   * same side's rows; not an interaction set, its vocabSize is this tower's id vocabSize).
   */
  tokens?: 'other' | 'self';
}

/** How an interaction-set feature is kept (see MultiHotFeature.interactions). */
export interface InteractionSet {
  /** Keep only the latest N interactions of each set. Default: all. */
  last?: number;
  /**
   * Token weights: 'none' (default: the column's weights, or 1), 'inverseSqrt' (1/√n each), or
   * 'symmetric' (LightGCN's 1/√(n·m), n the set's size and m how many of the column's sets
   * hold the token, both counted in the column itself: recomputed whenever the sets grow).
   */
  weighting?: 'none' | 'inverseSqrt' | 'symmetric';
}

/** A fixed-length numeric vector per entity (already normalised), copied into the input. */
export interface NumericFeature {
  kind: 'numeric';
  name: string;
  /** Values per entity. */
  size: number;
}

/** Every feature kind a tower can read; each has its module in src/model/features/. */
export type FeatureSpec = IdFeature | CategoricalFeature | MultiHotFeature | NumericFeature;

/** The name of a feature kind ('id', 'categorical', …). */
export type FeatureKindName = FeatureSpec['kind'];

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
  /**
   * How the features' vectors combine into the tower's input: side by side ('concat', default), or
   * added ('sum': every feature must have the same width, which is then the input's width) — with
   * project: false an id and a tied set give LightGCN's e_u + Σ w_ui e_i. Default 'concat'.
   */
  combine?: 'concat' | 'sum';
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

/** Which tower. */
export type TowerSide = 'user' | 'item';
