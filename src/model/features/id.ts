// The entity's own index (0 … vocabSize−1) looked up in a learned embedding table. Without a
// column, row r is entity r; with one (an Int32Array), row r reads the id column[r]: how rows
// that are not training entities (a new user, 0 for "unknown") are embedded.
import type { IdFeature } from '../../config/model.js';
import { fail } from '../../errors.js';
import { upload } from '../../backend/heap.js';
import { checkIndexColumn, positiveInt } from './checks.js';
import type { FeatureKind, FeatureSlot, FeaturePass } from './kind.js';

/** The rows the table is read at: the entity indices themselves, or the id column gathered. */
function idRows(slot: FeatureSlot<IdFeature>, pass: FeaturePass): number {
  const column = slot.data.column;
  if (column === undefined) return pass.rows;
  pass.k.gather_i32(slot.rowIds, column, pass.rows, pass.n);
  return slot.rowIds;
}

export const idKind: FeatureKind<IdFeature> = {
  kind: 'id',
  validateSpec(spec, where) {
    positiveInt(spec.vocabSize, `${where}.vocabSize ("${spec.name}")`);
    positiveInt(spec.dim, `${where}.dim ("${spec.name}")`);
  },
  width: (spec) => spec.dim,
  declare: (spec, prefix, store, std) => ({
    table: store.declare(`${prefix}.embedding`, [spec.vocabSize, spec.dim], { kind: 'normal', std }, 'embedding'),
  }),
  needsColumn: false,
  validateColumn(spec, column, count, where) {
    if (column === undefined) {
      if (spec.vocabSize !== count)
        fail('DIMENSION_MISMATCH', `${where} has vocabSize ${spec.vocabSize} but the table has ${count} rows`);
      return;
    }
    checkIndexColumn(column, count, spec.vocabSize, where, 'an id column holds id indices');
  },
  upload: (be, _spec, column): Record<string, number> =>
    column === undefined ? {} : { column: upload(be, column as Int32Array) },
  rowScratch: true,
  unknownColumn: (_spec, rows) => new Int32Array(rows),
  forward(slot, pass) {
    pass.k.embedding_gather(pass.at, pass.store.ptr(slot.params.table!), idRows(slot, pass), pass.n, slot.spec.dim, pass.ld);
  },
  backward(slot, pass) {
    // forward() left the looked-up ids in rowIds when there is an id column.
    const rows = slot.data.column === undefined ? pass.rows : slot.rowIds;
    const table = slot.params.table!;
    pass.k.embedding_scatter_add(
      pass.store.gradPtr(table),
      pass.at,
      rows,
      pass.store.rowMap(table),
      pass.n,
      slot.spec.dim,
      pass.ld,
    );
  },
};
