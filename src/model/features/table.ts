// Checks a whole feature table against a tower's features before anything is uploaded: the
// table's shape and names here, each column by its kind's module.
import { fail } from '../../errors.js';
import type { FeatureSpec, TowerSide } from '../../config/model.js';
import type { FeatureTable } from '../../config/feature-table.js';
import { featureKind } from './index.js';

/** Throws a TwoTowerError naming the feature, index and value; returns nothing, changes nothing. */
export function validateFeatureTable(table: FeatureTable, features: readonly FeatureSpec[], side: TowerSide): void {
  if (!table || typeof table !== 'object') fail('BAD_INPUT', `${side} features must be an object { count, columns }`);
  const count = table.count;
  if (!Number.isInteger(count) || count <= 0)
    fail('BAD_INPUT', `${side} features: count must be a positive integer, got ${count}`);
  const columns = table.columns ?? {};
  const known = new Set(features.map((f) => f.name));
  for (const name of Object.keys(columns)) {
    if (!known.has(name)) {
      fail(
        'UNKNOWN_FEATURE',
        `${side} features: unknown feature name "${name}" (the ${side} tower reads: ${[...known].join(', ')})`,
      );
    }
  }
  for (const f of features) featureKind(f).validateColumn(f, columns[f.name], count, `${side} feature "${f.name}"`);
}
