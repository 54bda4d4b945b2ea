// Changing a trained model without retraining it from scratch, in the user's ids:
//   - update(events): new ids grow the vocabularies and the tables (src/train/grow.ts), the
//     interaction sets take the new events, and training continues from the saved optimizer
//     state on the new events alone;
//   - addItems(items): new items described by their features, embedded by the item tower
//     without any training (cold items);
//   - foldIn(events): rating models whose user tower is a plain id embedding get each given
//     user's embedding and bias solved against the fixed item tower (src/train/fold-in.ts).
// Each checks everything before it changes anything, and leaves the old model as it was when it
// fails.
import { fail } from '../errors.js';
import { checkId } from '../data/checks.js';
import type { TowerSide } from '../config/model.js';
import type { FeatureTable, FeatureColumn, MultiHotColumn } from '../config/feature-table.js';
import type { TwoTower } from '../model/twotower.js';
import { type Vocabulary } from '../data/vocabulary.js';
import type { RatingsData } from '../data/ratings.js';
import { csrFromLists, csrRow, groupByRow } from '../data/csr.js';
import { featureKind } from '../model/features/index.js';
import { interactionSets } from '../model/interaction-sets.js';
import { grow, extendTable } from '../train/grow.js';
import { fit } from '../train/fit.js';
import { foldInBlocker, foldInUsers } from '../train/fold-in.js';
import { regressColdRows } from '../train/cold-rows.js';
import { resolveLoss } from '../train/losses/index.js';
import { resolveOptions, type FitOptions, type FitResult } from '../train/options.js';
import { defined } from '../util/defined.js';
import { encodeGivenColumns, type SideValue } from '../data/side-values.js';

type Id = string | number;

/** One interaction in the user's own ids (as train() takes them). */
export interface UpdateEvent {
  user: Id;
  item: Id;
  /** The rating: needed by a rating model, ignored by a retrieval one. */
  rating?: number;
  /** When it happened: orders the interaction sets (latest last). */
  time?: number;
  /** Confidence (≥ 0), as in train(). */
  weight?: number;
}

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

export interface UpdateOptions extends Omit<FitOptions, 'validation' | 'validationFraction' | 'earlyStopping' | 'loss'> {
  /** Feature rows of new (or changed) users. */
  userFeatures?: EntityFeatures;
  /** Feature rows of new (or changed) items. */
  itemFeatures?: EntityFeatures;
}

export interface UpdateResult {
  /** Events trained on. */
  events: number;
  /** Ids the update added. */
  newUsers: number;
  newItems: number;
  /** The training run (epochs, loss per epoch, seconds). */
  fit: FitResult;
  /** Wall-clock seconds of the whole update. */
  seconds: number;
}

/** update()'s default epochs over the new events (measured on MovieLens 100K: docs/updates.md). */
export const UPDATE_EPOCHS = 3;
/**
 * update()'s default learning rate against the last training's: a third. Chunks of new events
 * are small; at the full rate their rows overfit them (MovieLens 100K, six chunks: mean RMSE
 * 1.5% over a full retrain at the full rate, 0.6% at a third; docs/updates.md).
 */
export const UPDATE_RATE_SCALE = 1 / 3;

/** The events encoded into the grown vocabularies (the model's own are not touched). */
interface Encoded {
  data: RatingsData;
  vocabularies: { users?: Vocabulary; items?: Vocabulary };
  counts: Record<TowerSide, number>;
  added: Record<TowerSide, number>;
}

/** Maps events to rows, adding unseen ids to copies of the model's exact vocabularies. */
function encodeEvents(core: TwoTower, events: readonly UpdateEvent[], needsRatings: boolean, where: string): Encoded {
  if (!Array.isArray(events)) fail('BAD_INPUT', `${where}: events must be a list of { user, item, rating?, time? }`);
  if (events.length === 0) fail('EMPTY_DATA', `${where}: no events given`);
  const fresh: Record<TowerSide, Set<string>> = { user: new Set(), item: new Set() };
  const vocab = { user: core.vocabularies.users, item: core.vocabularies.items };
  const count = { user: core.userCount, item: core.itemCount };
  events.forEach((e, r) => {
    if (!e || typeof e !== 'object') fail('BAD_INPUT', `${where}: events[${r}] must be { user, item, rating?, time? }`);
    for (const side of ['user', 'item'] as const) {
      const id = e[side];
      checkId(id, `${where}: events[${r}].${side}`);
      const v = vocab[side];
      if (!v) {
        if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= count[side])
          fail(
            'UNKNOWN_ID',
            `${where}: events[${r}].${side} is ${JSON.stringify(id)}, but the model has no ${side} vocabulary (its ids are rows 0…${count[side] - 1}), so it cannot add ${side}s: train it with train() or give it vocabularies (setVocabularies)`,
          );
      } else if (v.mode === 'exact' && !v.has(String(id))) fresh[side].add(String(id));
    }
    if (needsRatings && (typeof e.rating !== 'number' || !Number.isFinite(e.rating)))
      fail(
        'BAD_INPUT',
        `${where}: events[${r}].rating is ${JSON.stringify(e.rating)}: a rating model needs a finite rating on every event`,
      );
    if (e.time !== undefined && (typeof e.time !== 'number' || !Number.isFinite(e.time)))
      fail('BAD_INPUT', `${where}: events[${r}].time is ${JSON.stringify(e.time)}: times must be finite numbers`);
    if (e.weight !== undefined && (typeof e.weight !== 'number' || !Number.isFinite(e.weight) || e.weight < 0))
      fail('BAD_INPUT', `${where}: events[${r}].weight is ${JSON.stringify(e.weight)}: weights must be finite and ≥ 0`);
  });
  const grown = {
    user: vocab.user && fresh.user.size ? vocab.user.extended(fresh.user) : vocab.user,
    item: vocab.item && fresh.item.size ? vocab.item.extended(fresh.item) : vocab.item,
  };
  const rowOf = (side: TowerSide, id: Id) => (grown[side] ? grown[side].lookup(String(id)) : (id as number));
  const data: RatingsData = {
    users: Int32Array.from(events, (e) => rowOf('user', e.user)),
    items: Int32Array.from(events, (e) => rowOf('item', e.item)),
    ratings: Float32Array.from(events, (e) => (typeof e.rating === 'number' ? e.rating : 1)),
  };
  if (events.every((e) => e.time !== undefined)) data.timestamps = Float64Array.from(events, (e) => e.time!);
  if (events.some((e) => e.weight !== undefined)) data.weights = Float32Array.from(events, (e) => e.weight ?? 1);
  const counts = {
    user: grown.user?.mode === 'exact' ? grown.user.size : count.user,
    item: grown.item?.mode === 'exact' ? grown.item.size : count.item,
  };
  return {
    data,
    vocabularies: { users: grown.user, items: grown.item },
    counts,
    added: { user: counts.user - count.user, item: counts.item - count.item },
  };
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
      const weights = set.weighting === 'inverseSqrt' ? kept.map((l) => l.map(() => 1 / Math.sqrt(l.length))) : null;
      columns[name] = columnFromLists(kept, weights);
    }
  }
  return { count, columns };
}

/**
 * Each user's seen items: the old ones and the new events' (sorted, unique). Users without new
 * events keep their old row as it is; only the others are merged.
 */
function mergedSeen(core: TwoTower, users: number, data: RatingsData): { offsets: Int32Array; ids: Int32Array } {
  const added = groupByRow(data.users, data.items, users);
  const rows: ArrayLike<number>[] = [];
  for (let r = 0; r < users; r++) {
    const old = core.seen && r < core.userCount ? csrRow(core.seen, r) : new Int32Array(0);
    const more = csrRow(added, r);
    rows.push(more.length === 0 ? old : Int32Array.from(new Set([...old, ...more])).sort());
  }
  return csrFromLists(rows);
}

/** The grown core for `encoded` and the given feature rows (the old core is not touched). */
function grownCore(
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
        );
      return v.lookup(String(id));
    }
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= encoded.counts[side])
      fail('UNKNOWN_ID', `${where}: ${side}Features names ${side} ${JSON.stringify(id)}, not a row of the model`);
    return id as number;
  };
  const userTable = grownTable(core, 'user', encoded.counts.user, rowOf('user'), features.user, events, where);
  const itemTable = grownTable(core, 'item', encoded.counts.item, rowOf('item'), features.item, events, where);
  const next = grow(core, { users: encoded.counts.user, items: encoded.counts.item, userTable, itemTable });
  next.vocabularies = { ...encoded.vocabularies };
  return next;
}

/**
 * The caller's callbacks, each followed by a check that they did not dispose the model: training
 * runs on the grown core, so fit() cannot see a dispose() of the old one, and the update would
 * install the grown core over it. It ends with DISPOSED instead (as fit() does), and the caller
 * of updateCore frees the grown core.
 */
function disposalChecks(
  core: TwoTower,
  given: Pick<FitOptions, 'onBatchEnd' | 'onEpochEnd'>,
): Pick<FitOptions, 'onBatchEnd' | 'onEpochEnd'> {
  const { onBatchEnd, onEpochEnd } = given;
  return {
    ...(onBatchEnd
      ? {
          onBatchEnd: (info) => {
            onBatchEnd(info);
            if (core.disposed)
              fail(
                'DISPOSED',
                `the model was disposed during update() (by onBatchEnd, at epoch ${info.epoch + 1}, batch ${info.batch + 1})`,
              );
          },
        }
      : {}),
    ...(onEpochEnd
      ? {
          onEpochEnd: (info) => {
            const carryOn = onEpochEnd(info);
            if (core.disposed)
              fail('DISPOSED', `the model was disposed during update() (by onEpochEnd, after epoch ${info.epoch + 1})`);
            return carryOn;
          },
        }
      : {}),
  };
}

/**
 * Trains the model further on new events: see the file's header. Returns the grown core (the
 * caller swaps it in and disposes the old one) and what happened.
 */
export function updateCore(
  core: TwoTower,
  events: readonly UpdateEvent[],
  options: UpdateOptions = {},
): { core: TwoTower; result: UpdateResult } {
  const started = performance.now();
  core.ensureReady();
  const trained = core.trainedWith;
  if (!trained)
    fail('NOT_TRAINED', 'update: the model was never trained; train it first (fit, train) and update it with new events');
  const loss = resolveLoss(trained.loss as FitOptions['loss'] & string);
  const encoded = encodeEvents(core, events, !loss.implicit, 'update');
  const { userFeatures, itemFeatures, ...given } = options;
  const carried = (trained.settings ?? {}) as FitOptions;
  const fitOptions: FitOptions = {
    ...carried,
    loss: loss.name as FitOptions['loss'],
    epochs: UPDATE_EPOCHS,
    learningRate: (carried.learningRate ?? 0.003) * UPDATE_RATE_SCALE,
    ...defined(given),
    ...disposalChecks(core, given),
  };
  // Every option is checked before the model grows (an epochs of 1e9 costs nothing).
  resolveOptions(fitOptions, core.config.seed ?? 1);
  const next = grownCore(core, encoded, { user: userFeatures, item: itemFeatures }, encoded.data, 'update');
  try {
    // New entities of a linear tower with side features start where their features point (as in addItems).
    for (const side of ['user', 'item'] as const) {
      const before = side === 'user' ? core.userCount : core.itemCount;
      const after = encoded.counts[side];
      if (after > before)
        regressColdRows(
          next,
          side,
          Array.from({ length: before - 1 }, (_, i) => i + 1),
          Array.from({ length: after - before }, (_, i) => before + i),
        );
    }
    const result = fit(next, encoded.data, fitOptions);
    // The carried settings stay what training set them to, but for settings this call gave.
    const overrides = Object.fromEntries(Object.entries(given).filter(([key]) => key in (next.trainedWith?.settings ?? {})));
    next.trainedWith = { ...trained, settings: { ...(trained.settings ?? {}), ...overrides } };
    next.seen = mergedSeen(core, encoded.counts.user, encoded.data);
    return {
      core: next,
      result: {
        events: events.length,
        newUsers: encoded.added.user,
        newItems: encoded.added.item,
        fit: result,
        seconds: (performance.now() - started) / 1000,
      },
    };
  } catch (error) {
    next.threads = null; // the pool still belongs to the old core
    next.dispose();
    throw error;
  }
}

/**
 * Adds items described by their features, without training. In a linear item tower each new
 * item's id row and bias are predicted from its features by a regression fitted on the trained
 * items (src/train/cold-rows.ts: 'regressed'); otherwise they start at the mean trained row and
 * bias (src/train/grow.ts: 'mean'). Returns the grown core.
 */
export function addItemsCore(
  core: TwoTower,
  items: EntityFeatures,
): { core: TwoTower; added: number; start: 'regressed' | 'mean' } {
  core.ensureReady();
  if (!items || !Array.isArray(items.ids) || !items.columns || typeof items.columns !== 'object')
    fail('BAD_INPUT', 'addItems: items must be { ids, columns }');
  if (items.ids.length === 0) fail('EMPTY_DATA', 'addItems: no items given');
  const vocab = core.vocabularies.items;
  if (!vocab || vocab.mode !== 'exact')
    fail(
      'BAD_INPUT',
      `addItems: the model has ${vocab ? 'hashed item ids' : 'no item vocabulary'}; adding items needs an exact one (train(), the CLI)`,
    );
  const sets = new Set(interactionSets(core.config, 'item').map((s) => s.spec.name));
  const described = core.config.item.features.filter((f) => f.kind !== 'id' && !sets.has(f.name));
  if (described.length === 0)
    fail(
      'BAD_CONFIG',
      'addItems: the item tower reads only ids (and interactions): a new item has no features to be embedded from; update() with its events instead',
    );
  const seen = new Set<string>();
  items.ids.forEach((id, r) => {
    checkId(id, `addItems: ids[${r}]`);
    if (vocab.has(String(id))) fail('BAD_INPUT', `addItems: item ${JSON.stringify(id)} is already in the model`);
    if (seen.has(String(id))) fail('BAD_INPUT', `addItems: item ${JSON.stringify(id)} is given twice`);
    seen.add(String(id));
  });
  const missing = described.filter((f) => items.columns[f.name] === undefined).map((f) => f.name);
  if (missing.length === described.length)
    fail('MISSING_FEATURE', `addItems: no column for any of the item tower's features (${missing.join(', ')})`);
  const items2 = vocab.extended(seen);
  const next = grownCore(
    core,
    { vocabularies: { users: core.vocabularies.users, items: items2 }, counts: { user: core.userCount, item: items2.size } },
    { item: items },
    undefined,
    'addItems',
  );
  // Their id rows and biases predicted from their features where the item tower is linear (src/train/cold-rows.ts).
  let regressed = false;
  try {
    const warm = Array.from({ length: core.itemCount - 1 }, (_, i) => i + 1);
    const cold = Array.from({ length: items.ids.length }, (_, i) => core.itemCount + i);
    regressed = regressColdRows(next, 'item', warm, cold);
  } catch (error) {
    next.threads = null;
    next.dispose();
    throw error;
  }
  return { core: next, added: items.ids.length, start: regressed ? 'regressed' : 'mean' };
}

export interface FoldInOptions {
  /** The L2 of the solve. Default: the last training's l2. */
  l2?: number;
  /** The user-bias L2 of the solve. Default: the last training's biasL2. */
  biasL2?: number;
}

/**
 * Fold-in (src/train/fold-in.ts): each user in `events` — new or known — gets the embedding and
 * bias that best fit the ratings given for them with the item tower fixed. A known user's
 * vectors are replaced, so give all of their ratings, not only the new ones. Items must be
 * known. Returns the grown core (the same one when no user is new).
 */
export function foldInCore(
  core: TwoTower,
  events: readonly UpdateEvent[],
  options: FoldInOptions = {},
): { core: TwoTower; users: number } {
  core.ensureReady();
  if (!core.trainedWith) fail('NOT_TRAINED', 'foldIn: the model was never trained; train it first');
  const blocker = foldInBlocker(core);
  if (blocker) fail('UNSUPPORTED', `foldIn: ${blocker}; use update() instead`);
  const encoded = encodeEvents(core, events, true, 'foldIn');
  if (encoded.added.item > 0) {
    const vocab = encoded.vocabularies.items!;
    const unknown = events.find((e) => vocab.lookup(String(e.item)) >= core.itemCount)!;
    fail(
      'UNKNOWN_ID',
      `foldIn: item ${JSON.stringify(unknown.item)} is not in the model: fold-in solves users against known items (update() adds items)`,
    );
  }
  const carried = (core.trainedWith.settings ?? {}) as FitOptions;
  const l2 = options.l2 ?? carried.l2 ?? 0;
  const biasL2 = options.biasL2 ?? carried.biasL2 ?? 0;
  for (const [name, value] of [
    ['l2', l2],
    ['biasL2', biasL2],
  ] as const)
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      fail('BAD_OPTION', `foldIn: ${name} must be ≥ 0, got ${value}`);
  const next =
    encoded.added.user > 0
      ? grownCore(
          core,
          { ...encoded, vocabularies: { ...encoded.vocabularies, items: core.vocabularies.items } },
          {},
          undefined,
          'foldIn',
        )
      : core;
  try {
    const users = foldInUsers(next, encoded.data.users, encoded.data.items, encoded.data.ratings, l2, biasL2);
    next.seen = mergedSeen(core, encoded.counts.user, encoded.data);
    return { core: next, users };
  } catch (error) {
    if (next !== core) {
      next.threads = null;
      next.dispose();
    }
    throw error;
  }
}
