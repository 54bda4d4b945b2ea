// One category per entity (gender, occupation, age bucket), an Int32Array column, looked up in
// a learned embedding table.
import type { CategoricalFeature } from '../../config/model.js';
import { upload } from '../../backend/heap.js';
import { fail } from '../../errors.js';
import { checkIndexColumn, positiveInt } from './checks.js';
import type { FeatureKind } from './kind.js';

export const categoricalKind: FeatureKind<CategoricalFeature> = {
  kind: 'categorical',
  validateSpec(spec, where) {
    positiveInt(spec.vocabSize, `${where}.vocabSize ("${spec.name}")`);
    positiveInt(spec.dim, `${where}.dim ("${spec.name}")`);
  },
  width: (spec) => spec.dim,
  declare: (spec, prefix, store, std) => ({
    table: store.declare(`${prefix}.embedding`, [spec.vocabSize, spec.dim], { kind: 'normal', std }, 'embedding'),
  }),
  needsColumn: true,
  validateColumn(spec, column, count, where) {
    if (column === undefined) fail('MISSING_FEATURE', `${where}: no column given`);
    checkIndexColumn(column, count, spec.vocabSize, where, 'one category per row');
  },
  upload: (be, _spec, column) => ({ column: upload(be, column as Int32Array) }),
  rowScratch: true,
  unknownColumn: (_spec, rows) => new Int32Array(rows),
  forward(slot, pass) {
    pass.k.gather_i32(slot.rowIds, slot.data.column!, pass.rows, pass.n);
    pass.k.embedding_gather(pass.at, pass.store.ptr(slot.params.table!), slot.rowIds, pass.n, slot.spec.dim, pass.ld);
  },
  backward(slot, pass) {
    const table = slot.params.table!;
    pass.k.embedding_scatter_add(
      pass.store.gradPtr(table),
      pass.at,
      slot.rowIds,
      pass.store.rowMap(table),
      pass.n,
      slot.spec.dim,
      pass.ld,
    );
  },
};
