// How a personal vector is found (src/api/personal.ts holds the handle): the mode a model gets,
// the events' item rows, the pooled history vector, and the solve itself — the fold-in ridge
// (src/train/fold-in.ts), the pooled tower output, or the softmax Newton fit
// (src/train/personal-fit.ts). Each works on one revision of a core; derived data (the heap copy
// of the item rows, the mean user) is kept in the core's slots until the model changes.
import { fail } from '../errors.js';
import { csrFromLists } from '../data/csr.js';
import type { FeatureColumn, MultiHotColumn } from '../config/feature-table.js';
import type { TwoTower } from '../model/twotower.js';
import { SlotKey } from '../model/slots.js';
import { interactionSets } from '../model/interaction-sets.js';
import { featureKind } from '../model/features/index.js';
import { solveRidge } from '../train/fold-in.js';
import { fitSoftmaxVector } from '../train/personal-fit.js';
import type { FitOptions } from '../train/options.js';
import { retrievalItems } from '../rank/retrieval.js';
import { rowOf, type Id } from './ids.js';

/** One of the person's events: an UpdateEvent whose `user` may be left out (it is one person). */
export interface PersonalEvent {
  item: Id;
  /** Ignored (the events are one person's); accepted so that update() events can be passed as they are. */
  user?: Id;
  /** The rating: needed by a rating model ('fold-in'), ignored otherwise. */
  rating?: number;
  /** When it happened: orders a pooled history (latest last). */
  time?: number;
  /** Accepted as update() takes it; not used by personalisation. */
  weight?: number;
}

/** How a personal vector is found (see the file's header and docs/personalisation.md). */
export type PersonalMode = 'fold-in' | 'pooled' | 'gradient';

/** The checked options of a personal handle (PersonalizeOptions with the defaults in place). */
export interface PersonalSettings {
  mode: 'auto' | PersonalMode;
  unknownItems: 'error' | 'skip';
  prior?: 'zero' | 'mean' | 'pooled';
  l2?: number;
  steps: number;
  sampleAbove: number;
  samples: number;
  seed: number;
}

/** The user tower's interaction set over the items ('history' first), if it has one. */
export function itemSet(core: TwoTower) {
  const sets = interactionSets(core.config, 'user').filter(({ spec }) => spec.vocabSize === core.itemCount);
  return sets.find(({ spec }) => spec.name === 'history') ?? sets[0];
}

export function resolveMode(core: TwoTower, settings: PersonalSettings): PersonalMode {
  const implicit = core.trainedWith ? core.trainedWith.implicit : true;
  if (!core.trainedWith && !itemSet(core))
    fail('NOT_TRAINED', 'personalize: the model was never trained; train it first (train, fit)');
  const mode = settings.mode === 'auto' ? (!implicit ? 'fold-in' : itemSet(core) ? 'pooled' : 'gradient') : settings.mode;
  if (mode === 'fold-in' && implicit)
    fail('UNSUPPORTED', "personalize: mode 'fold-in' solves ratings, and this model was trained for ranking: use 'gradient'", {
      option: 'options.mode',
    });
  if (mode === 'pooled' && !itemSet(core))
    fail('NO_HISTORY', "personalize: mode 'pooled' needs a user tower that reads a history over the items", {
      option: 'options.mode',
    });
  return mode;
}

const MEAN_USER = new SlotKey<{ mean: Float64Array; free(): void }>('personal.meanUser');
const ITEM_ROWS = new SlotKey<{ ptr: number; rows: number; width: number; free(): void }>('personal.items');
/**
 * The mean trained user vector (the unknown-id row 0 of an exact vocabulary left out); a serving
 * bundle, which keeps no users, carries it in its metadata (`personal.meanUser`).
 */
export function meanUserVector(core: TwoTower): Float64Array {
  return core.derived(MEAN_USER, () => {
    const d = core.dim;
    const kept = (core.metadata.personal as { meanUser?: unknown } | undefined)?.meanUser;
    if (Array.isArray(kept) && kept.length === d && kept.every((x) => typeof x === 'number' && Number.isFinite(x)))
      return { mean: Float64Array.from(kept as number[]), free() {} };
    const u = core.userEmbeddings();
    const from = core.vocabularies.users?.mode === 'exact' && core.userCount > 1 ? 1 : 0;
    const mean = new Float64Array(d);
    for (let r = from; r < core.userCount; r++) for (let c = 0; c < d; c++) mean[c]! += u[r * d + c]!;
    for (let c = 0; c < d; c++) mean[c]! /= core.userCount - from;
    return { mean, free() {} };
  }).mean;
}

/** The catalogue's retrieval rows ([v] or [v, b_item]) in the heap, kept until the model changes. */
export function itemRows(core: TwoTower) {
  return core.derived(ITEM_ROWS, () => {
    const { items, dim } = retrievalItems(core);
    const be = core.backend;
    const ptr = be.alloc(Math.max(1, items.length) * be.floatBytes);
    be.floats(ptr, items.length).set(items);
    return { ptr, rows: core.itemCount, width: dim, free: () => be.free(ptr) };
  });
}
/** The item rows of the events (unknown ones failed or skipped), in time order where every event has a time. */
export function eventRows(
  core: TwoTower,
  events: PersonalEvent[],
  settings: PersonalSettings,
): { rows: number[]; kept: PersonalEvent[]; skipped: Id[] } {
  const vocab = core.vocabularies.items;
  const order = events.map((_, i) => i);
  if (events.length > 0 && events.every((e) => e.time !== undefined))
    order.sort((a, b) => events[a]!.time! - events[b]!.time! || a - b);
  const rows: number[] = [],
    kept: PersonalEvent[] = [],
    skipped: Id[] = [];
  for (const i of order) {
    const id = events[i]!.item;
    const known = vocab
      ? vocab.mode !== 'exact' || vocab.has(String(id))
      : Number.isInteger(id) && (id as number) >= 0 && (id as number) < core.itemCount;
    if (!known) {
      if (settings.unknownItems === 'skip') {
        skipped.push(id);
        continue;
      }
      fail(
        'UNKNOWN_ID',
        `personalize: item ${JSON.stringify(id)} (events[${i}]) is not in the model: pass unknownItems: 'skip' to leave such events out`,
        { id, side: 'item', index: i },
      );
    }
    rows.push(rowOf(core, 'item', id));
    kept.push(events[i]!);
  }
  return { rows, kept, skipped };
}

/** The user tower's output for histories (lists of item rows), every other feature unknown. */
export function pooledVectors(core: TwoTower, histories: number[][]): Float32Array {
  const { spec, set } = itemSet(core)!;
  const b = histories.length;
  const kept = histories.map((h) => (set.last && h.length > set.last ? h.slice(-set.last) : h));
  let weights: number[][] | null = null;
  if (set.weighting === 'inverseSqrt') weights = kept.map((l) => l.map(() => 1 / Math.sqrt(Math.max(1, l.length))));
  else if (set.weighting === 'symmetric') {
    // LightGCN's 1/√(n·m): m from the model's own column (how many users hold the item), at least 1.
    const column = core.userTower.table?.columns[spec.name] as MultiHotColumn | undefined;
    const m = new Int32Array(core.itemCount);
    if (column) for (const id of column.ids) m[id]!++;
    weights = kept.map((l) => l.map((j) => 1 / Math.sqrt(Math.max(1, l.length) * Math.max(1, m[j]!))));
  }
  const columns: Record<string, FeatureColumn> = Object.create(null) as Record<string, FeatureColumn>;
  for (const f of core.config.user.features) {
    let column: FeatureColumn | undefined;
    if (f.name === spec.name) {
      const csr = csrFromLists(kept);
      column = weights ? { ...csr, weights: Float32Array.from(weights.flat()) } : csr;
    } else column = featureKind(f).unknownColumn(f, b);
    if (column) columns[f.name] = column;
  }
  return core.embedUsersWith({ count: b, columns });
}

/** The unknown user's bias (row 0), where the model has user biases: what a pooled or fitted vector scores with. */
export function unknownUserBias(core: TwoTower): number {
  const ub = core.bias.user;
  return ub ? core.store.values(ub)[0]! : 0;
}

/**
 * The vector and bias for the events' rows `rows` (with their ratings) in a mode: the fit itself,
 * shared by personalize, update and explain's leave-one-out refits.
 */
export function solve(
  core: TwoTower,
  mode: PersonalMode,
  rows: number[],
  ratings: number[],
  settings: PersonalSettings,
  start?: ArrayLike<number>,
): { vector: Float32Array; bias: number } {
  const d = core.dim;
  const carried = (core.trainedWith?.settings ?? {}) as FitOptions;
  const l2 = settings.l2 ?? carried.l2 ?? 0;
  const set = itemSet(core);
  const priorKind = settings.prior ?? (set ? 'pooled' : mode === 'gradient' ? 'mean' : 'zero');
  if (priorKind === 'pooled' && !set)
    fail('NO_HISTORY', "personalize: prior 'pooled' needs a user tower that reads a history over the items", {
      option: 'options.prior',
    });
  if (mode === 'pooled' || rows.length === 0) {
    if (!set)
      return {
        vector: Float32Array.from(priorKind === 'mean' ? meanUserVector(core) : new Float64Array(d)),
        bias: unknownUserBias(core),
      };
    return { vector: pooledVectors(core, [rows]), bias: unknownUserBias(core) };
  }
  const prior: ArrayLike<number> =
    priorKind === 'pooled' ? pooledVectors(core, [rows]) : priorKind === 'mean' ? meanUserVector(core) : new Float64Array(d);
  if (mode === 'gradient') {
    const items = itemRows(core);
    const fit = fitSoftmaxVector({
      backend: core.backend,
      items: items.ptr,
      rows: items.rows,
      width: items.width,
      d,
      positives: [...new Set(rows)].sort((a, b) => a - b),
      reserved: core.unknownItemRows(),
      prior,
      start,
      l2,
      temperature: carried.temperature ?? 0.2,
      steps: settings.steps,
      sampleAbove: settings.sampleAbove,
      samples: settings.samples,
      seed: settings.seed,
    });
    return { vector: Float32Array.from(fit.vector), bias: unknownUserBias(core) };
  }
  // 'fold-in': A's rows [v_j, 1], targets r − g − b_j, as foldIn stages them.
  const be = core.backend,
    f = be.floatBytes;
  const { global, user: ub, item: ib } = core.bias;
  const w = d + (ub ? 1 : 0);
  const m = rows.length;
  const g = global ? core.store.values(global)[0]! : 0;
  const itemBias = ib ? core.store.values(ib) : null;
  const v = core.itemEmbeddings(rows);
  const A = be.alloc(m * w * f),
    y = be.alloc(m * f),
    G = be.alloc(w * w * f),
    h = be.alloc(w * f);
  try {
    const a = be.floats(A, m * w),
      t = be.floats(y, m);
    for (let q = 0; q < m; q++) {
      a.set(v.subarray(q * d, q * d + d), q * w);
      if (ub) a[q * w + d] = 1;
      t[q] = ratings[q]! - g - (itemBias ? itemBias[rows[q]!]! : 0);
    }
    const biasL2 = carried.biasL2 ?? 0;
    const x = solveRidge(be, A, y, m, w, d, l2, biasL2, { G, h }, priorKind === 'zero' ? undefined : prior);
    return { vector: Float32Array.from(x.subarray(0, d)), bias: ub ? Math.fround(x[d]!) : 0 };
  } finally {
    for (const p of [A, y, G, h]) be.free(p);
  }
}
