// The grown core of update(), addItems() and foldIn(): the tables extended to the new counts
// (src/train/grow.ts copies values and optimizer state), the feature rows given for new or
// changed entities written in, the new events appended to the interaction sets and the seen
// items. The old core is not touched.
import { fail } from '../errors.js';
import type { TowerSide } from '../config/model.js';
import type { FeatureTable, FeatureColumn, MultiHotColumn } from '../config/feature-table.js';
import type { TwoTower } from '../model/twotower.js';
import type { RatingsData } from '../data/ratings.js';
import { csrFromLists, csrRow, groupByRow } from '../data/csr.js';
import { encodeGivenColumns, type SideValue } from '../data/side-values.js';
import { featureKind } from '../model/features/index.js';
import { interactionSets } from '../model/interaction-sets.js';
import { grow, extendTable } from '../train/grow.js';
import type { Encoded } from './update-events.js';
import type { Id } from './ids.js';

/** Feature rows for entities by id (new ones, or known ones whose features changed). */
export interface EntityFeatures {
  /** The entities' ids. */
  ids: readonly Id[];
  /**
   * Their values of the tower's features, one row per id in `ids` order, shaped as in a
   * FeatureTable (an Int32Array per categorical feature, count × size floats per numeric one, a
   * CSR set per multi-hot one). Features left out keep a known entity's values and give a new
   * one the unknown value (category 0, an empty set, zeros). Interaction sets and the id are
   * the model's business and cannot be given. A plain array of values (strings, numbers, lists)
   * is encoded as train({ items }) or the CLI recorded for the feature (docs/guide.md).
   */
  columns: Record<string, FeatureColumn | readonly SideValue[]>;
}

/**
 * LightGCN's weights of a whole column, recomputed from the grown sets: 1/√(n·m) for a token of a
 * set of n tokens held by m of the column's sets (see InteractionSet.weighting).
 */
function symmetricWeights(lists: number[][]): number[][] {
  const held = new Map<number, number>();
  for (const l of lists) for (const t of new Set(l)) held.set(t, (held.get(t) ?? 0) + 1);
  return lists.map((l) => l.map((t) => 1 / Math.sqrt(l.length * held.get(t)!)));
}

/** A multi-hot column as per-row lists (ids and weights). */
function listsOf(column: MultiHotColumn, count: number): { ids: number[][]; weights: number[][] | null } {
  const ids: number[][] = [],
    weights: number[][] | null = column.weights ? [] : null;
  for (let r = 0; r < count; r++) {
    const [a, b] = [column.offsets[r]!, column.offsets[r + 1]!];
    ids.push(Array.from(column.ids.subarray(a, b)));
    weights?.push(Array.from(column.weights!.subarray(a, b)));
  }
  return { ids, weights };
}

function columnFromLists(ids: number[][], weights: number[][] | null): MultiHotColumn {
  const csr = csrFromLists(ids);
  return weights ? { ...csr, weights: Float32Array.from(weights.flat()) } : csr;
}

/**
 * The grown tower's feature table: the current one extended to `count` rows, the given rows of
 * changed or new entities written in, and the new events appended to the interaction sets.
 */
function grownTable(
  core: TwoTower,
  side: TowerSide,
  count: number,
  rowOf: (id: Id) => number,
  given: EntityFeatures | undefined,
  events: RatingsData | undefined,
  where: string,
): FeatureTable | undefined {
  const base = extendTable(core, side, count);
  if (!base) return undefined;
  const columns: FeatureTable['columns'] = Object.assign(Object.create(null) as FeatureTable['columns'], base.columns);
  const sets = new Map(interactionSets(core.config, side).map((s) => [s.spec.name, s.set]));
  if (given) {
    if (!Array.isArray(given.ids) || !given.columns || typeof given.columns !== 'object')
      fail('BAD_INPUT', `${where}: ${side}Features must be { ids, columns }`);
    const rows = given.ids.map((id) => rowOf(id));
    for (const [name, column] of Object.entries(encodeGivenColumns(core.metadata, side, given, `${where}: ${side}Features`))) {
      const spec = core.config[side].features.find((f) => f.name === name);
      if (!spec) fail('UNKNOWN_FEATURE', `${where}: ${side}Features.columns.${name}: the ${side} tower has no feature "${name}"`);
      if (spec.kind === 'id' || sets.has(name))
        fail(
          'BAD_INPUT',
          `${where}: ${side}Features.columns.${name} is ${spec.kind === 'id' ? 'the id' : 'an interaction set'}: the model keeps it`,
        );
      featureKind(spec).validateColumn(spec, column, rows.length, `${where}: ${side}Features.columns.${name}`);
      const have = columns[name]!;
      if (have instanceof Int32Array || have instanceof Float32Array) {
        const out = have.slice();
        const size = have.length / count;
        rows.forEach((row, i) => out.set((column as typeof have).subarray(i * size, (i + 1) * size), row * size));
        columns[name] = out;
      } else {
        const lists = listsOf(have, count);
        const add = listsOf(column as MultiHotColumn, rows.length);
        if (lists.weights && !add.weights) add.weights = add.ids.map((l) => l.map(() => 1));
        rows.forEach((row, i) => {
          lists.ids[row] = add.ids[i]!;
          if (lists.weights) lists.weights[row] = add.weights![i]!;
          else if (add.weights)
            fail('BAD_INPUT', `${where}: ${side}Features.columns.${name} has weights the model's column has not`);
        });
        columns[name] = columnFromLists(lists.ids, lists.weights);
      }
    }
  }
  if (events && sets.size > 0) {
    // Each entity's new interactions in time order (else in the order given), latest last.
    const order = Array.from({ length: events.users.length }, (_, i) => i);
    const t = events.timestamps;
    if (t) order.sort((a, b) => t[a]! - t[b]! || a - b);
    const [keys, values] = side === 'user' ? [events.users, events.items] : [events.items, events.users];
    for (const [name, set] of sets) {
      const lists = listsOf(columns[name] as MultiHotColumn, count).ids;
      for (const i of order) lists[keys[i]!]!.push(values[i]!);
      const kept = set.last ? lists.map((l) => (l.length > set.last! ? l.slice(-set.last!) : l)) : lists;
      const weights =
        set.weighting === 'inverseSqrt'
          ? kept.map((l) => l.map(() => 1 / Math.sqrt(l.length)))
          : set.weighting === 'symmetric'
            ? symmetricWeights(kept)
            : null;
      columns[name] = columnFromLists(kept, weights);
    }
  }
  return { count, columns };
}

/**
 * Each user's seen items: the old ones and the new events' (sorted, unique). Users without new
 * events keep their old row as it is (copied in runs between the users with events); only the
 * others are merged, so the cost is one pass over the offsets plus the rows that change.
 */
export function mergedSeen(core: TwoTower, users: number, data: RatingsData): { offsets: Int32Array; ids: Int32Array } {
  const added = groupByRow(data.users, data.items, users);
  const old = core.seen ?? { offsets: new Int32Array(1), ids: new Int32Array(0) };
  const oldRows = core.seen ? Math.min(core.userCount, users) : 0;
  /** Where row r starts in the old ids (rows past the old ones are empty). */
  const start = (r: number) => old.offsets[Math.min(r, oldRows)]!;
  const offsets = new Int32Array(users + 1);
  const ids = new Int32Array(start(users) + added.ids.length);
  let w = 0;
  /** Old rows [from, to) as they are, in one copy. */
  const run = (from: number, to: number) => {
    if (to <= from) return;
    const shift = w - start(from);
    for (let r = from; r < to; r++) offsets[r] = start(r) + shift;
    ids.set(old.ids.subarray(start(from), start(to)), w);
    w += start(to) - start(from);
  };
  let next = 0;
  for (let r = 0; r < users; r++) {
    if (added.offsets[r + 1] === added.offsets[r]) continue;
    const more = csrRow(added, r);
    run(next, r);
    offsets[r] = w;
    const merged = Int32Array.from(new Set([...old.ids.subarray(start(r), start(r + 1)), ...more])).sort();
    ids.set(merged, w);
    w += merged.length;
    next = r + 1;
  }
  run(next, users);
  offsets[users] = w;
  return { offsets, ids: ids.slice(0, w) };
}

/** The grown core for `encoded` and the given feature rows (the old core is not touched). */
export function grownCore(
  core: TwoTower,
  encoded: Pick<Encoded, 'vocabularies' | 'counts'>,
  features: { user?: EntityFeatures; item?: EntityFeatures },
  events: RatingsData | undefined,
  where: string,
): TwoTower {
  const rowOf = (side: TowerSide) => (id: Id) => {
    const v = side === 'user' ? encoded.vocabularies.users : encoded.vocabularies.items;
    if (v) {
      if (v.mode === 'exact' && !v.has(String(id)))
        fail(
          'UNKNOWN_ID',
          `${where}: ${side}Features names ${side} ${JSON.stringify(id)}, which is neither in the model nor in the events`,
          { id, side },
        );
      return v.lookup(String(id));
    }
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= encoded.counts[side])
      fail('UNKNOWN_ID', `${where}: ${side}Features names ${side} ${JSON.stringify(id)}, not a row of the model`, { id, side });
    return id as number;
  };
  const userTable = grownTable(core, 'user', encoded.counts.user, rowOf('user'), features.user, events, where);
  const itemTable = grownTable(core, 'item', encoded.counts.item, rowOf('item'), features.item, events, where);
  const next = grow(core, { users: encoded.counts.user, items: encoded.counts.item, userTable, itemTable });
  next.vocabularies = { ...encoded.vocabularies };
  return next;
}
