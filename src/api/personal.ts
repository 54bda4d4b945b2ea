// A personal handle: one person's vector, found from their own events on their device against
// the model's frozen item tower, and what it serves (recommend, similar, explain), in their ids.
// Nothing leaves the process; the model is never changed. How the vector is found depends on the
// model (personalModes):
//   - 'fold-in': rating models — [u; b_u] solved in closed form from the ratings by the ridge
//     regression foldIn solves (src/train/fold-in.ts), centred on the prior (0, or the pooled
//     vector where the user tower reads the person's items);
//   - 'pooled': retrieval models whose user tower pools a history / interaction set over items —
//     the tower's output for that set, every other user feature at its "unknown" value;
//   - 'gradient': other retrieval models — damped Newton steps on u alone against the softmax
//     over the catalogue (sampled, with the logQ correction, beyond `sampleAbove` items), with an
//     L2 pull toward the prior (src/train/personal-fit.ts).
// Explanations are leave-one-out: each of the person's items' effect is the score minus the score
// of the vector refitted without it, so the "because" items are what the score rests on.
import { fail } from '../errors.js';
import { checkId } from '../data/checks.js';
import { csrFromLists } from '../data/csr.js';
import type { FeatureColumn, MultiHotColumn } from '../config/feature-table.js';
import type { TwoTower } from '../model/twotower.js';
import { SlotKey } from '../model/slots.js';
import { interactionSets } from '../model/interaction-sets.js';
import { featureKind } from '../model/features/index.js';
import { solveRidge } from '../train/fold-in.js';
import { fitSoftmaxVector } from '../train/personal-fit.js';
import type { FitOptions } from '../train/options.js';
import { recommendForVectors, similarItems } from '../rank/recommend.js';
import { retrievalItems } from '../rank/retrieval.js';
import { itemFilter, itemIdOf, resultLists, rowOf, type Id, type Recommendation } from './ids.js';

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

export interface PersonalizeOptions {
  /** How the vector is found. Default 'auto': 'fold-in' for rating models, else 'pooled' where the user tower reads a history over items, else 'gradient'. */
  mode?: 'auto' | PersonalMode;
  /** Events whose item the model does not know: 'error' (UNKNOWN_ID naming it; default) or 'skip' (left out, listed in `skipped`). */
  unknownItems?: 'error' | 'skip';
  /**
   * What the fit is pulled toward: 'zero', the 'mean' trained user vector, or the 'pooled' vector of
   * the person's items (a tower with a history). Default: 'pooled' where the tower has a history,
   * else 'zero' for 'fold-in' (exactly foldIn's vector) and 'mean' for 'gradient' (it recalls
   * better on MovieLens 100K: docs/personalisation.md).
   */
  prior?: 'zero' | 'mean' | 'pooled';
  /** Strength of that pull (per event, as training's output penalty). Default: the model's training l2. */
  l2?: number;
  /** 'gradient': Newton steps at most. Default 8. */
  steps?: number;
  /** 'gradient': catalogues larger than this are sampled. Default 20000. */
  sampleAbove?: number;
  /** 'gradient': negatives drawn when sampling. Default 4096. */
  samples?: number;
  /** 'gradient': the sample's seed (the same seed gives the same bits). Default 1. */
  seed?: number;
}

export interface PersonalRecommendOptions {
  /** Items to return. Default 10. */
  k?: number;
  /** Skip the person's own items. Default true. */
  excludeSeen?: boolean;
  /** Item ids never recommended. Default none. */
  exclude?: readonly Id[];
  /** Only these item ids, or only items for which this returns true. Default every item. */
  filter?: readonly Id[] | ((item: Id) => boolean);
}

/** One of the person's items behind a score. */
export interface PersonalBecause {
  item: Id;
  /** The score minus the score of the vector refitted without this item (its events): what the score owes it. */
  effect: number;
}

/** The exact decomposition of the person's score for an item. */
export interface PersonalExplanation {
  item: Id;
  /** global + user + item bias + dot. */
  score: number;
  /** The score clamped to the model's rating range, if it has one (what recommend shows for a rating model). */
  prediction: number;
  biases: { global: number; user: number; item: number };
  /** ⟨u, v⟩: the person's vector with the item's. */
  dot: number;
  /** The person's items by their leave-one-out effect on this score, largest first. */
  because: PersonalBecause[];
  mode: PersonalMode;
}

interface Settings {
  mode: 'auto' | PersonalMode;
  unknownItems: 'error' | 'skip';
  prior?: 'zero' | 'mean' | 'pooled';
  l2?: number;
  steps: number;
  sampleAbove: number;
  samples: number;
  seed: number;
}

/** A vector and bias found for a set of events, on one revision of one core. */
interface Fitted {
  core: TwoTower;
  revision: number;
  mode: PersonalMode;
  vector: Float32Array;
  bias: number;
  /** The kept events' item rows, in the events' order (time order where all have times). */
  rows: number[];
  skipped: Id[];
}

const MAGIC = [0x54, 0x54, 0x50, 0x56]; // "TTPV"
const FORMAT = 1;

function checkSettings(options: PersonalizeOptions): Settings {
  if (!options || typeof options !== 'object') fail('BAD_OPTION', 'personalize: options must be an object');
  const mode = options.mode ?? 'auto';
  if (!['auto', 'fold-in', 'pooled', 'gradient'].includes(mode))
    fail('BAD_OPTION', `personalize: mode must be 'auto', 'fold-in', 'pooled' or 'gradient', got ${JSON.stringify(mode)}`, {
      option: 'options.mode',
      value: mode,
    });
  const unknownItems = options.unknownItems ?? 'error';
  if (unknownItems !== 'error' && unknownItems !== 'skip')
    fail('BAD_OPTION', `personalize: unknownItems must be 'error' or 'skip', got ${JSON.stringify(unknownItems)}`, {
      option: 'options.unknownItems',
      value: unknownItems,
    });
  if (options.prior !== undefined && !['zero', 'mean', 'pooled'].includes(options.prior))
    fail('BAD_OPTION', `personalize: prior must be 'zero', 'mean' or 'pooled', got ${JSON.stringify(options.prior)}`, {
      option: 'options.prior',
      value: options.prior,
    });
  if (options.l2 !== undefined && !(typeof options.l2 === 'number' && Number.isFinite(options.l2) && options.l2 >= 0))
    fail('BAD_OPTION', `personalize: l2 must be a finite number ≥ 0, got ${JSON.stringify(options.l2)}`, {
      option: 'options.l2',
    });
  const int = (name: 'steps' | 'sampleAbove' | 'samples' | 'seed', fallback: number, min: number) => {
    const v = options[name] ?? fallback;
    if (!Number.isInteger(v) || v < min)
      fail('BAD_OPTION', `personalize: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, {
        option: `options.${name}`,
      });
    return v;
  };
  return {
    mode,
    unknownItems,
    prior: options.prior,
    l2: options.l2,
    steps: int('steps', 8, 1),
    sampleAbove: int('sampleAbove', 20000, 1),
    samples: int('samples', 4096, 1),
    seed: int('seed', 1, 0),
  };
}

/** The events, checked and copied (ids kept as given). */
function checkEvents(events: readonly PersonalEvent[], where: string): PersonalEvent[] {
  if (!Array.isArray(events)) fail('BAD_INPUT', `${where}: events must be a list of { item, rating?, time? }`);
  return events.map((e, r) => {
    if (!e || typeof e !== 'object') fail('BAD_INPUT', `${where}: events[${r}] must be { item, rating?, time? }`, { index: r });
    checkId(e.item, `${where}: events[${r}].item`);
    for (const name of ['rating', 'time', 'weight'] as const) {
      const v = e[name];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v)))
        fail('BAD_INPUT', `${where}: events[${r}].${name} is ${JSON.stringify(v)}: it must be a finite number`, { index: r });
    }
    const out: PersonalEvent = { item: e.item };
    if (e.user !== undefined) out.user = e.user;
    if (e.rating !== undefined) out.rating = e.rating;
    if (e.time !== undefined) out.time = e.time;
    if (e.weight !== undefined) out.weight = e.weight;
    return out;
  });
}

/** The user tower's interaction set over the items ('history' first), if it has one. */
function itemSet(core: TwoTower) {
  const sets = interactionSets(core.config, 'user').filter(({ spec }) => spec.vocabSize === core.itemCount);
  return sets.find(({ spec }) => spec.name === 'history') ?? sets[0];
}

function resolveMode(core: TwoTower, settings: Settings): PersonalMode {
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
const FINGERPRINT = new SlotKey<{ value: string; free(): void }>('personal.fingerprint');

/** The mean trained user vector (the unknown-id row 0 of an exact vocabulary left out). */
function meanUser(core: TwoTower): Float64Array {
  return core.derived(MEAN_USER, () => {
    const d = core.dim;
    const u = core.userEmbeddings();
    const from = core.vocabularies.users?.mode === 'exact' && core.userCount > 1 ? 1 : 0;
    const mean = new Float64Array(d);
    for (let r = from; r < core.userCount; r++) for (let c = 0; c < d; c++) mean[c]! += u[r * d + c]!;
    for (let c = 0; c < d; c++) mean[c]! /= core.userCount - from;
    return { mean, free() {} };
  }).mean;
}

/** The catalogue's retrieval rows ([v] or [v, b_item]) in the heap, kept until the model changes. */
function itemRows(core: TwoTower) {
  return core.derived(ITEM_ROWS, () => {
    const { items, dim } = retrievalItems(core);
    const be = core.backend;
    const ptr = be.alloc(Math.max(1, items.length) * be.floatBytes);
    be.floats(ptr, items.length).set(items);
    return { ptr, rows: core.itemCount, width: dim, free: () => be.free(ptr) };
  });
}

/**
 * What personal bytes are tied to: the configuration and the item space (every item's vector
 * and bias, bit for bit), hashed in two 32-bit lanes. Kept until the model changes.
 */
export function modelFingerprint(core: TwoTower): string {
  return core.derived(FINGERPRINT, () => {
    const { items } = retrievalItems(core);
    const words = new Uint32Array(items.buffer, items.byteOffset, items.length);
    const text = new TextEncoder().encode(JSON.stringify([core.config, core.itemCount, core.dim]));
    let a = 0x811c9dc5,
      b = 0x9747b28c;
    const mix = (x: number) => {
      a = Math.imul(a ^ x, 0x01000193);
      b = Math.imul(b ^ x, 0x5bd1e995) ^ (b >>> 15);
    };
    for (const x of text) mix(x);
    for (let i = 0; i < words.length; i++) mix(words[i]!);
    const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
    return { value: hex(a) + hex(b), free() {} };
  }).value;
}

/** The item rows of the events (unknown ones failed or skipped), in time order where every event has a time. */
function eventRows(
  core: TwoTower,
  events: PersonalEvent[],
  settings: Settings,
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
function pooledVectors(core: TwoTower, histories: number[][]): Float32Array {
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
function unknownUserBias(core: TwoTower): number {
  const ub = core.bias.user;
  return ub ? core.store.values(ub)[0]! : 0;
}

/**
 * The vector and bias for the events' rows `rows` (with their ratings) in a mode: the fit itself,
 * shared by personalize, update and explain's leave-one-out refits.
 */
function solve(
  core: TwoTower,
  mode: PersonalMode,
  rows: number[],
  ratings: number[],
  settings: Settings,
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
        vector: Float32Array.from(priorKind === 'mean' ? meanUser(core) : new Float64Array(d)),
        bias: unknownUserBias(core),
      };
    return { vector: pooledVectors(core, [rows]), bias: unknownUserBias(core) };
  }
  const prior: ArrayLike<number> =
    priorKind === 'pooled' ? pooledVectors(core, [rows]) : priorKind === 'mean' ? meanUser(core) : new Float64Array(d);
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

let make: (core: () => TwoTower, events: PersonalEvent[], settings: Settings, fitted?: Fitted) => Personal;

/** One person's recommendations, explanations and vector; made by Model.personalize or Model.personal(bytes). */
export class Personal {
  readonly #core: () => TwoTower;
  readonly #settings: Settings;
  #events: PersonalEvent[];
  #fitted: Fitted;

  private constructor(core: () => TwoTower, events: PersonalEvent[], settings: Settings, fitted?: Fitted) {
    this.#core = core;
    this.#settings = settings;
    this.#events = events;
    this.#fitted = fitted ?? this.#fit(core());
  }

  static {
    make = (core, events, settings, fitted) => new Personal(core, events, settings, fitted);
  }

  #fit(core: TwoTower): Fitted {
    core.ensureReady();
    const mode = resolveMode(core, this.#settings);
    const { rows, kept, skipped } = eventRows(core, this.#events, this.#settings);
    if (rows.length === 0) fail('EMPTY_DATA', 'personalize: no events of items the model knows');
    const ratings = kept.map((e, i) => {
      if (mode === 'fold-in' && e.rating === undefined)
        fail('BAD_INPUT', `personalize: events[${i}] has no rating: a rating model ('fold-in') needs a rating on every event`, {
          index: i,
        });
      return e.rating ?? 1;
    });
    const { vector, bias } = solve(core, mode, rows, ratings, this.#settings);
    return { core, revision: core.revision, mode, vector, bias, rows, skipped };
  }

  /** The fit, redone (deterministically) when the model changed since (update, foldIn, setParameters). */
  #current(): Fitted {
    const core = this.#core();
    core.live();
    if (this.#fitted.core !== core || this.#fitted.revision !== core.revision) this.#fitted = this.#fit(core);
    return this.#fitted;
  }

  /** How the vector was found. */
  get mode(): PersonalMode {
    return this.#current().mode;
  }
  /** Copies of the events the handle holds (those with unknown items included; see `skipped`). */
  get events(): PersonalEvent[] {
    return this.#events.map((e) => ({ ...e }));
  }
  /** Item ids of events left out as unknown (unknownItems: 'skip'). */
  get skipped(): Id[] {
    return [...this.#current().skipped];
  }
  /** A copy of the person's vector (the model's dim). */
  get vector(): Float32Array {
    return Float32Array.from(this.#current().vector);
  }
  /** The person's score bias (fold-in solves it; else the unknown user's, 0 without user biases). */
  get bias(): number {
    return this.#current().bias;
  }

  /** Adds events and refits (deterministically: the same events and options give the same vector). */
  update(events: readonly PersonalEvent[]): { events: number; skipped: Id[] } {
    const added = checkEvents(events, 'personal.update');
    const previous = this.#events;
    this.#events = [...previous, ...added];
    try {
      this.#fitted = this.#fit(this.#core());
    } catch (error) {
      this.#events = previous;
      throw error;
    }
    return { events: this.#events.length, skipped: [...this.#fitted.skipped] };
  }

  /** The top items for the person, best first, in the model's ids (scores: predicted ratings for a rating model). */
  recommend(options: PersonalRecommendOptions = {}): Recommendation[] {
    const fitted = this.#current();
    const core = fitted.core;
    if (options.excludeSeen !== undefined && typeof options.excludeSeen !== 'boolean')
      fail('BAD_OPTION', `recommend: excludeSeen must be true or false, got ${JSON.stringify(options.excludeSeen)}`, {
        option: 'options.excludeSeen',
      });
    const k = options.k ?? 10;
    const seen = (options.excludeSeen ?? true) ? [fitted.rows] : null;
    const top = recommendForVectors(core, fitted.vector, seen, { k, ...itemFilter(core, options) });
    const list = resultLists(core, top, 1, k)[0]!;
    if (core.trainedWith && !core.trainedWith.implicit) {
      const offset = globalBias(core) + fitted.bias;
      for (const x of list) x.score = clampRating(core, x.score + offset);
    }
    return list;
  }

  /** The items most like an item id (cosine of item vectors), as Model.similarItems. */
  similar(item: Id, options: { k?: number } = {}): Recommendation[] {
    const core = this.#current().core;
    const k = options.k ?? 10;
    return resultLists(core, similarItems(core, rowOf(core, 'item', item), k), 1, k)[0]!;
  }

  /**
   * The person's score for an item, decomposed exactly (biases + dot = score), and their items by
   * leave-one-out effect: each item's events taken out and the vector refitted (the same mode and
   * settings, a gradient fit warm-started from the full vector). `because` items listed: default 5.
   */
  explain(item: Id, options: { because?: number } = {}): PersonalExplanation {
    const fitted = this.#current();
    const core = fitted.core;
    const count = options.because ?? 5;
    if (!Number.isInteger(count) || count < 0)
      fail('BAD_OPTION', `explain: because must be an integer ≥ 0, got ${JSON.stringify(options.because)}`, {
        option: 'options.because',
      });
    const row = rowOf(core, 'item', item);
    const v = core.itemEmbeddings([row]);
    const itemBias = core.bias.item ? core.store.values(core.bias.item)[row]! : 0;
    const global = globalBias(core);
    const scoreOf = (u: ArrayLike<number>, b: number) => {
      let dot = 0;
      for (let c = 0; c < core.dim; c++) dot += u[c]! * v[c]!;
      return { dot, score: global + b + itemBias + dot };
    };
    const full = scoreOf(fitted.vector, fitted.bias);
    const { kept } = eventRows(core, this.#events, this.#settings);
    const ratings = kept.map((e) => e.rating ?? 1);
    const unique = [...new Set(fitted.rows)];
    let because: PersonalBecause[] = [];
    if (count > 0) {
      let without: { vector: ArrayLike<number>; bias: number }[];
      if (fitted.mode === 'pooled') {
        // One batch: the pooled vector of each history with one item's events taken out.
        const pooled = pooledVectors(
          core,
          unique.map((j) => fitted.rows.filter((r) => r !== j)),
        );
        const d = core.dim;
        without = unique.map((_, i) => ({ vector: pooled.subarray(i * d, i * d + d), bias: fitted.bias }));
      } else {
        without = unique.map((j) => {
          const keep = fitted.rows.map((r, i) => (r === j ? -1 : i)).filter((i) => i >= 0);
          return solve(
            core,
            fitted.mode,
            keep.map((i) => fitted.rows[i]!),
            keep.map((i) => ratings[i]!),
            this.#settings,
            fitted.mode === 'gradient' ? fitted.vector : undefined,
          );
        });
      }
      because = unique
        .map((j, i) => ({ j, effect: full.score - scoreOf(without[i]!.vector, without[i]!.bias).score }))
        .sort((a, b) => b.effect - a.effect || a.j - b.j)
        .slice(0, count)
        .map(({ j, effect }) => ({ item: itemIdOf(core, j), effect }));
    }
    const id = itemIdOf(core, row);
    return {
      item: id,
      score: full.score,
      prediction: clampRating(core, full.score),
      biases: { global, user: fitted.bias, item: itemBias },
      dot: full.dot,
      because,
      mode: fitted.mode,
    };
  }

  /**
   * The handle as bytes (to keep in IndexedDB or a file): the events, settings, vector and the
   * model's fingerprint. Model.personal(bytes) restores it for the same model only.
   */
  toBytes(): Uint8Array {
    const fitted = this.#current();
    const header = {
      format: FORMAT,
      fingerprint: modelFingerprint(fitted.core),
      mode: fitted.mode,
      settings: this.#settings,
      events: this.#events,
      bias: fitted.bias,
      dim: fitted.vector.length,
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const start = Math.ceil((8 + json.length) / 4) * 4;
    const out = new Uint8Array(start + fitted.vector.length * 4);
    out.set(MAGIC, 0);
    new DataView(out.buffer).setUint32(4, json.length, true);
    out.set(json, 8);
    out.set(new Uint8Array(fitted.vector.buffer, fitted.vector.byteOffset, fitted.vector.length * 4), start);
    return out;
  }
}

function globalBias(core: TwoTower): number {
  return core.bias.global ? core.store.values(core.bias.global)[0]! : 0;
}

function clampRating(core: TwoTower, x: number): number {
  const range = core.config.ratingRange;
  return range ? Math.min(range[1], Math.max(range[0], x)) : x;
}

/** A personal handle from events (Model.personalize). */
export function personalize(core: () => TwoTower, events: readonly PersonalEvent[], options: PersonalizeOptions = {}): Personal {
  const settings = checkSettings(options);
  const checked = checkEvents(events, 'personalize');
  if (checked.length === 0) fail('EMPTY_DATA', 'personalize: no events given');
  return make(core, checked, settings);
}

/** A personal handle from its bytes (Model.personal): refused (BAD_MODEL_FILE) for another model's bytes. */
export function restorePersonal(core: () => TwoTower, bytes: Uint8Array): Personal {
  const bad = (why: string): never => fail('BAD_MODEL_FILE', `personal bytes: ${why}`);
  if (!(bytes instanceof Uint8Array)) fail('BAD_INPUT', 'personal bytes must be a Uint8Array (from Personal.toBytes)');
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) bad('not the bytes of a personal handle (Personal.toBytes)');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(4, true);
  if (8 + length > bytes.length) bad('truncated');
  let header: {
    format: number;
    fingerprint: string;
    mode: PersonalMode;
    settings: Settings;
    events: PersonalEvent[];
    bias: number;
    dim: number;
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as typeof header;
  } catch {
    return bad('the header is not readable');
  }
  if (header.format !== FORMAT) bad(`format ${header.format} is not one this version reads (${FORMAT})`);
  const model = core();
  model.ensureReady();
  const fingerprint = modelFingerprint(model);
  if (header.fingerprint !== fingerprint)
    fail(
      'BAD_MODEL_FILE',
      `personal bytes: they were made with another model (fingerprint ${header.fingerprint}, this model's ${fingerprint}): personalise again from the events`,
      { field: 'fingerprint', value: header.fingerprint, expected: fingerprint },
    );
  const start = Math.ceil((8 + length) / 4) * 4;
  if (header.dim !== model.dim || bytes.length !== start + header.dim * 4) bad('truncated or of another size');
  const settings = checkSettings(header.settings);
  const events = checkEvents(header.events, 'personal bytes');
  const vector = new Float32Array(bytes.slice(start).buffer);
  const { rows, skipped } = eventRows(model, events, settings);
  const fitted: Fitted = { core: model, revision: model.revision, mode: header.mode, vector, bias: header.bias, rows, skipped };
  return make(core, events, settings, fitted);
}
