// Per-entity feature data (one row per user or per item) and its checks. Columns are validated
// once and copied into the backend's heap, where the tower's gather kernels read them by entity
// index; a batch then needs only entity indices.
import { fail } from '../errors.js';
import type { FeatureSpec, TowerSide } from './config.js';

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
  /** One column per non-id feature of the tower, keyed by feature name. */
  columns: Record<string, FeatureColumn>;
}

function checkRange(values: Int32Array, limit: number, where: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0 || v >= limit) fail('BAD_FEATURE', `${where}[${i}] = ${v} is out of range [0, ${limit})`);
  }
}

function checkFinite(values: Float32Array, where: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) fail('BAD_FEATURE', `${where}[${i}] is ${values[i]} (must be finite)`);
  }
}

/**
 * Checks a feature table against a tower's features; throws a TwoTowerError naming the feature,
 * index and value. Returns nothing: callers copy only after every check has passed.
 */
export function validateFeatureTable(table: FeatureTable, features: FeatureSpec[], side: TowerSide): void {
  if (!table || typeof table !== 'object') fail('BAD_FEATURE', `${side} features must be an object { count, columns }`);
  const count = table.count;
  if (!Number.isInteger(count) || count <= 0) fail('BAD_FEATURE', `${side} features: count must be a positive integer, got ${count}`);
  const columns = table.columns ?? {};
  const known = new Set(features.map((f) => f.name));
  for (const name of Object.keys(columns)) {
    if (!known.has(name)) {
      fail('UNKNOWN_FEATURE', `${side} features: unknown feature name "${name}" (the ${side} tower reads: ${[...known].join(', ')})`);
    }
  }
  for (const f of features) {
    const where = `${side} feature "${f.name}"`;
    if (f.kind === 'id') {
      // Without a column, row r is entity r. With one (Int32Array), row r reads id column[r]: how
      // rows that are not training entities (a new user, with 0 for "unknown") are embedded.
      const column = columns[f.name];
      if (column === undefined) {
        if (f.vocabSize !== count) fail('DIMENSION_MISMATCH', `${where} has vocabSize ${f.vocabSize} but the table has ${count} rows`);
      } else {
        if (!(column instanceof Int32Array)) fail('BAD_FEATURE', `${where}: an id column must be an Int32Array of id indices`);
        if (column.length !== count) fail('DIMENSION_MISMATCH', `${where} has ${column.length} values for ${count} rows`);
        checkRange(column, f.vocabSize, where);
      }
      continue;
    }
    const column = columns[f.name];
    if (column === undefined) fail('MISSING_FEATURE', `${where}: no column given`);
    if (f.kind === 'categorical') {
      if (!(column instanceof Int32Array)) fail('BAD_FEATURE', `${where} must be an Int32Array (one category per row)`);
      if (column.length !== count) fail('DIMENSION_MISMATCH', `${where} has ${column.length} values for ${count} rows`);
      checkRange(column, f.vocabSize, where);
    } else if (f.kind === 'numeric') {
      if (!(column instanceof Float32Array)) fail('BAD_FEATURE', `${where} must be a Float32Array (count × size values)`);
      if (column.length !== count * f.size) {
        fail('DIMENSION_MISMATCH', `${where} has ${column.length} values; expected ${count} rows × size ${f.size} = ${count * f.size}`);
      }
      checkFinite(column, where);
    } else {
      const bag = column as MultiHotColumn;
      if (!(bag.offsets instanceof Int32Array) || !(bag.ids instanceof Int32Array)) {
        fail('BAD_FEATURE', `${where} must be { offsets: Int32Array, ids: Int32Array, weights?: Float32Array }`);
      }
      if (bag.offsets.length !== count + 1) fail('DIMENSION_MISMATCH', `${where}.offsets has length ${bag.offsets.length}; expected count + 1 = ${count + 1}`);
      if (bag.offsets[0] !== 0) fail('BAD_FEATURE', `${where}.offsets[0] must be 0, got ${bag.offsets[0]}`);
      for (let e = 0; e < count; e++) {
        if (bag.offsets[e + 1]! < bag.offsets[e]!) {
          fail('BAD_FEATURE', `${where}.offsets must not decrease: offsets[${e + 1}] = ${bag.offsets[e + 1]} < offsets[${e}] = ${bag.offsets[e]}`);
        }
      }
      if (bag.offsets[count] !== bag.ids.length) {
        fail('DIMENSION_MISMATCH', `${where}.offsets[${count}] = ${bag.offsets[count]} but ids has length ${bag.ids.length}`);
      }
      checkRange(bag.ids, f.vocabSize, `${where}.ids`);
      if (bag.weights !== undefined) {
        if (!(bag.weights instanceof Float32Array) || bag.weights.length !== bag.ids.length) {
          fail('DIMENSION_MISMATCH', `${where}.weights must be a Float32Array as long as ids (${bag.ids.length})`);
        }
        checkFinite(bag.weights, `${where}.weights`);
      }
    }
  }
}
