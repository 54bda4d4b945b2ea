// Per-entity feature data (one row per user or per item), as users hand it to a model. Types
// only: each feature kind validates its own column (src/model/features/).

/** Multi-hot sets in CSR form: entity e owns ids[offsets[e] … offsets[e+1]). */
export interface MultiHotColumn {
  offsets: Int32Array;
  ids: Int32Array;
  /** Optional weight per id (e.g. tf-idf); default 1. */
  weights?: Float32Array;
}

/**
 * Categorical: Int32Array, one value per entity. Numeric: Float32Array, count × size values,
 * row-major. Multi-hot: MultiHotColumn.
 */
export type FeatureColumn = Int32Array | Float32Array | MultiHotColumn;

export interface FeatureTable {
  /** Number of entities (rows). */
  count: number;
  /** One column per feature of the tower, keyed by feature name (an id feature's is optional). */
  columns: Record<string, FeatureColumn>;
}
