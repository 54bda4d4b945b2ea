// A set of tokens per entity (genres, tags, a user's history of items), CSR-style, pooled into
// one vector: the mean or the (weighted) sum of the set's embeddings, or an attention-weighted
// mean whose scores ⟨a, e_j⟩ use a learned vector a (starting at 0, i.e. at the mean).
import type { MultiHotFeature } from '../../config/model.js';
import type { MultiHotColumn } from '../../config/feature-table.js';
import { upload, uploadFloats } from '../../backend/heap.js';
import { fail } from '../../errors.js';
import { checkBag, positiveInt } from './checks.js';
import { checkBooleans } from '../../data/checks.js';
import type { FeatureKind } from './kind.js';
import type { ParamBlock } from '../parameters.js';
import { leastRowsFor } from '../row-split.js';

const POOLINGS = ['mean', 'sum', 'attention'] as const;
/** Ids per bag assumed when weighing whether a split pays (a MovieLens user's rated set: ~100). */
const TYPICAL_BAG = 32;
const WEIGHTINGS = ['none', 'inverseSqrt', 'symmetric'] as const;

export const multiHotKind: FeatureKind<MultiHotFeature> = {
  kind: 'multiHot',
  validateSpec(spec, where, side) {
    positiveInt(spec.vocabSize, `${where}.vocabSize ("${spec.name}")`);
    positiveInt(spec.dim, `${where}.dim ("${spec.name}")`);
    if (spec.pooling !== undefined && !POOLINGS.includes(spec.pooling)) {
      fail('BAD_CONFIG', `${where}.pooling must be 'mean', 'sum' or 'attention', got ${JSON.stringify(spec.pooling)}`);
    }
    const set = spec.interactions;
    if (set !== undefined) {
      if (!set || typeof set !== 'object') fail('BAD_CONFIG', `${where}.interactions must be an object { last?, weighting? }`);
      if (set.last !== undefined) positiveInt(set.last, `${where}.interactions.last ("${spec.name}")`);
      if (set.weighting !== undefined && !WEIGHTINGS.includes(set.weighting))
        fail(
          'BAD_CONFIG',
          `${where}.interactions.weighting must be 'none', 'inverseSqrt' or 'symmetric', got ${JSON.stringify(set.weighting)}`,
        );
    }
    checkBooleans(spec, where, ['excludeScoredItem', 'tied'], { code: 'BAD_CONFIG' });
    if (spec.tokens !== undefined && spec.tokens !== 'other' && spec.tokens !== 'self')
      fail('BAD_CONFIG', `${where}.tokens must be 'other' or 'self', got ${JSON.stringify(spec.tokens)}`);
    if (spec.tokens !== undefined && !spec.tied)
      fail('BAD_CONFIG', `${where}.tokens ("${spec.name}") is for a tied set (tied: true)`);
    if (spec.tied) {
      // What the token side's id feature must be is checked with the whole config (validate-config.ts).
      if (spec.pooling === 'attention')
        fail('BAD_CONFIG', `${where}.tied ("${spec.name}"): a tied set pools with 'mean' or 'sum', not 'attention'`);
      if (spec.tokens === 'self' && spec.excludeScoredItem)
        fail(
          'BAD_CONFIG',
          `${where}.excludeScoredItem ("${spec.name}") is for a history over the items, not a tied set over the users`,
        );
      if (spec.tokens === 'self' && set !== undefined)
        fail(
          'BAD_CONFIG',
          `${where}.interactions ("${spec.name}"): a tied set over its own side's rows (tokens: 'self') is not an interaction set`,
        );
      if (spec.tokens !== 'self' && set === undefined)
        fail(
          'BAD_CONFIG',
          `${where}.tied ("${spec.name}"): a tied set over the other side's rows needs interactions (its tokens are that side's rows)`,
        );
    }
    if (spec.excludeScoredItem && (side !== 'user' || spec.pooling === 'attention')) {
      fail('BAD_CONFIG', `${where}.excludeScoredItem is for a user-tower history with mean or sum pooling`);
    }
  },
  width: (spec) => spec.dim,
  // A tied set's prefix is the id feature's ("item.item"; see Tower): the store gives back that block.
  declare(spec, prefix, store, std): Record<string, ParamBlock> {
    const table = store.declare(`${prefix}.embedding`, [spec.vocabSize, spec.dim], { kind: 'normal', std }, 'embedding');
    if (spec.pooling !== 'attention') return { table };
    return { table, attention: store.declare(`${prefix}.attention`, [spec.dim], { kind: 'zeros' }, 'dense') };
  },
  needsColumn: true,
  validateColumn(spec, column, count, where) {
    if (column === undefined) fail('MISSING_FEATURE', `${where}: no column given`);
    checkBag(column, count, spec.vocabSize, where);
  },
  upload(be, _spec, column) {
    const bag = column as MultiHotColumn;
    return {
      offsets: upload(be, bag.offsets),
      ids: upload(be, bag.ids),
      weights: bag.weights ? uploadFloats(be, bag.weights) : 0,
    };
  },
  rowScratch: false,
  unknownColumn: (_spec, rows) => ({ offsets: new Int32Array(rows + 1), ids: new Int32Array(0) }),
  forward(slot, pass) {
    const { spec, params, data } = slot;
    const table = pass.store.ptr(params.table!);
    if (params.attention) {
      pass.k.embedding_bag_attention(
        pass.at,
        table,
        data.offsets!,
        data.ids!,
        pass.rows,
        pass.n,
        spec.dim,
        pass.ld,
        pass.store.ptr(params.attention),
      );
    } else {
      // Each output row is its own bag's sum: rows split across the model's threads.
      const [at, ld, rows, skip, f] = [pass.at, pass.ld, pass.rows, spec.excludeScoredItem ? pass.scored : 0, pass.be.floatBytes];
      const [offsets, ids, weights, mean] = [data.offsets!, data.ids!, data.weights!, spec.pooling === 'sum' ? 0 : 1];
      pass.byRows(
        pass.n,
        (r, m) => ({
          kernel: 'embedding_bag',
          args: [at + r * ld * f, table, offsets, ids, weights, rows + r * 4, skip && skip + r * 4, m, spec.dim, ld, mean],
        }),
        leastRowsFor(spec.dim * TYPICAL_BAG),
      );
    }
  },
  backward(slot, pass) {
    const { spec, params, data } = slot;
    const s = pass.store;
    if (params.attention) {
      pass.k.embedding_bag_attention_backward(
        s.gradPtr(params.table!),
        s.gradPtr(params.attention),
        pass.at,
        s.ptr(params.table!),
        data.offsets!,
        data.ids!,
        pass.rows,
        s.rowMap(params.table!),
        pass.n,
        spec.dim,
        pass.ld,
        s.ptr(params.attention),
      );
    } else {
      // Each column of the gradient is summed in one order whatever the split: the threads take
      // disjoint 16-column blocks (the kernel's register blocks; the last takes the tail).
      const [dtable, map, ld, rows, skip, n] = [
        s.gradPtr(params.table!),
        s.rowMap(params.table!),
        pass.ld,
        pass.rows,
        spec.excludeScoredItem ? pass.scored : 0,
        pass.n,
      ];
      const [offsets, ids, weights, mean, dim] = [
        data.offsets!,
        data.ids!,
        data.weights!,
        spec.pooling === 'sum' ? 0 : 1,
        spec.dim,
      ];
      pass.byRows(
        Math.ceil(dim / 16),
        (b, blocks) => ({
          kernel: 'embedding_bag_scatter_add_cols',
          args: [
            dtable,
            pass.at,
            offsets,
            ids,
            weights,
            rows,
            skip,
            map,
            n,
            dim,
            ld,
            mean,
            16 * b,
            Math.min(dim, 16 * (b + blocks)),
          ],
        }),
        leastRowsFor(n * TYPICAL_BAG * 16, 1),
        1,
      );
    }
  },
};
