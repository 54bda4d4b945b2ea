// Interactions as the model consumes them: parallel arrays of entity indices and targets.
import { fail } from '../errors.js';

export interface Interactions {
  /** User index of each interaction, in [0, user count). */
  users: Int32Array;
  /** Item index of each interaction, in [0, item count). */
  items: Int32Array;
  /** Target of each interaction (the rating, for explicit feedback). */
  ratings: Float32Array;
  /**
   * Optional confidence of each interaction (a count, a duration, a purchase quantity; ≥ 0):
   * fit() draws each epoch's examples with probability ∝ log(1 + weight), so a row of weight 0
   * is never trained on. Default: every row once per epoch.
   */
  weights?: Float32Array;
}

/**
 * Checks shapes, index ranges and target values; throws a TwoTowerError naming the array, index
 * and value. `name` says which argument is checked ("train", "options.validation", …).
 */
export function validateInteractions(
  data: Interactions,
  userCount: number,
  itemCount: number,
  name: string,
  needsRatings = true,
): void {
  if (!data || typeof data !== 'object') fail('BAD_INPUT', `${name} must be { users, items, ratings }`);
  if (!(data.users instanceof Int32Array)) fail('BAD_INPUT', `${name}.users must be an Int32Array`);
  if (!(data.items instanceof Int32Array)) fail('BAD_INPUT', `${name}.items must be an Int32Array`);
  const n = data.users.length;
  if (n === 0) fail('EMPTY_DATA', `${name} is empty: it has no interactions`);
  if (data.items.length !== n) {
    fail('DIMENSION_MISMATCH', `${name}.items has ${data.items.length} entries but ${name}.users has ${n}`);
  }
  if (needsRatings) {
    if (!(data.ratings instanceof Float32Array)) fail('BAD_INPUT', `${name}.ratings must be a Float32Array`);
    if (data.ratings.length !== n) {
      fail('DIMENSION_MISMATCH', `${name}.ratings has ${data.ratings.length} entries but ${name}.users has ${n}`);
    }
    for (let i = 0; i < n; i++) {
      const r = data.ratings[i]!;
      if (!Number.isFinite(r)) fail('BAD_INPUT', `${name}.ratings[${i}] is ${r}: targets must be finite numbers`);
    }
  }
  if (data.weights !== undefined) {
    if (!(data.weights instanceof Float32Array) || data.weights.length !== n)
      fail('DIMENSION_MISMATCH', `${name}.weights must be a Float32Array of ${n} values`);
    let positive = false;
    for (let i = 0; i < n; i++) {
      const w = data.weights[i]!;
      if (!Number.isFinite(w) || w < 0) fail('BAD_INPUT', `${name}.weights[${i}] is ${w}: weights must be finite and ≥ 0`);
      positive ||= w > 0;
    }
    if (!positive) fail('EMPTY_DATA', `${name}.weights are all 0: nothing to train on`);
  }
  checkIndices(data.users, userCount, `${name}.users`, 'user');
  checkIndices(data.items, itemCount, `${name}.items`, 'item');
}

export function checkIndices(values: ArrayLike<number>, count: number, where: string, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= count) {
      fail('OUT_OF_RANGE', `${where}[${i}] = ${v} is not a valid ${what} index: the model has ${count} ${what}s`);
    }
  }
}
