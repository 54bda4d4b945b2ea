// A fixed-length numeric vector per entity (already normalised), copied into the input as is:
// no parameters of its own, so nothing to learn here (the layers above it learn its weights).
import type { NumericFeature } from '../../config/model.js';
import { uploadFloats } from '../../backend/heap.js';
import { fail } from '../../errors.js';
import { checkFinite, positiveInt } from './checks.js';
import type { FeatureKind } from './kind.js';

export const numericKind: FeatureKind<NumericFeature> = {
  kind: 'numeric',
  validateSpec(spec, where) {
    positiveInt(spec.size, `${where}.size ("${spec.name}")`);
  },
  width: (spec) => spec.size,
  declare: () => ({}),
  needsColumn: true,
  validateColumn(spec, column, count, where) {
    if (column === undefined) fail('MISSING_FEATURE', `${where}: no column given`);
    if (!(column instanceof Float32Array)) fail('BAD_INPUT', `${where} must be a Float32Array (count × size values)`);
    if (column.length !== count * spec.size) {
      fail(
        'DIMENSION_MISMATCH',
        `${where} has ${column.length} values; expected ${count} rows × size ${spec.size} = ${count * spec.size}`,
      );
    }
    checkFinite(column, where);
  },
  upload: (be, _spec, column) => ({ column: uploadFloats(be, column as Float32Array) }),
  rowScratch: false,
  unknownColumn: (spec, rows) => new Float32Array(rows * spec.size),
  forward(slot, pass) {
    pass.k.gather_rows(pass.at, slot.data.column!, pass.rows, pass.n, slot.spec.size, pass.ld);
  },
};
