// Column checks shared by the feature kinds: each names the feature, the index and the value.
import { fail } from '../../errors.js';
import type { MultiHotColumn } from '../../config/feature-table.js';

export function positiveInt(value: unknown, where: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    fail('BAD_CONFIG', `${where} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

export function checkRange(values: Int32Array, limit: number, where: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0 || v >= limit) fail('OUT_OF_RANGE', `${where}[${i}] = ${v} is out of range [0, ${limit})`);
  }
}

export function checkFinite(values: Float32Array, where: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) fail('BAD_INPUT', `${where}[${i}] is ${values[i]} (must be finite)`);
  }
}

/** One Int32Array value per row, each in [0, limit). */
export function checkIndexColumn(
  column: unknown,
  count: number,
  limit: number,
  where: string,
  what: string,
): asserts column is Int32Array {
  if (!(column instanceof Int32Array)) fail('BAD_INPUT', `${where} must be an Int32Array (${what})`);
  if (column.length !== count) fail('DIMENSION_MISMATCH', `${where} has ${column.length} values for ${count} rows`);
  checkRange(column, limit, where);
}

/** CSR sets over [0, limit): offsets of count + 1, non-decreasing from 0, optional finite weights. */
export function checkBag(column: unknown, count: number, limit: number, where: string): asserts column is MultiHotColumn {
  const bag = column as MultiHotColumn;
  if (!bag || !(bag.offsets instanceof Int32Array) || !(bag.ids instanceof Int32Array)) {
    fail('BAD_INPUT', `${where} must be { offsets: Int32Array, ids: Int32Array, weights?: Float32Array }`);
  }
  if (bag.offsets.length !== count + 1)
    fail('DIMENSION_MISMATCH', `${where}.offsets has length ${bag.offsets.length}; expected count + 1 = ${count + 1}`);
  if (bag.offsets[0] !== 0) fail('BAD_INPUT', `${where}.offsets[0] must be 0, got ${bag.offsets[0]}`);
  for (let e = 0; e < count; e++) {
    if (bag.offsets[e + 1]! < bag.offsets[e]!) {
      fail(
        'BAD_INPUT',
        `${where}.offsets must not decrease: offsets[${e + 1}] = ${bag.offsets[e + 1]} < offsets[${e}] = ${bag.offsets[e]}`,
      );
    }
  }
  if (bag.offsets[count] !== bag.ids.length) {
    fail('DIMENSION_MISMATCH', `${where}.offsets[${count}] = ${bag.offsets[count]} but ids has length ${bag.ids.length}`);
  }
  checkRange(bag.ids, limit, `${where}.ids`);
  if (bag.weights !== undefined) {
    if (!(bag.weights instanceof Float32Array) || bag.weights.length !== bag.ids.length) {
      fail('DIMENSION_MISMATCH', `${where}.weights must be a Float32Array as long as ids (${bag.ids.length})`);
    }
    checkFinite(bag.weights, `${where}.weights`);
  }
}
