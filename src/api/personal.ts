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
import type { TwoTower } from '../model/twotower.js';
import { recommendForVectors, similarItems } from '../rank/recommend.js';
import { itemFilter, itemIdOf, resultLists, rowOf, type Id, type Recommendation } from './ids.js';
import {
  eventRows,
  pooledVectors,
  resolveMode,
  solve,
  type PersonalEvent,
  type PersonalMode,
  type PersonalSettings as Settings,
} from './personal-solve.js';
import { decodePersonal, encodePersonal, modelFingerprint, PERSONAL_FORMAT } from './personal-bytes.js';
import { eventRatings, personalWords } from './personal-words.js';
import { labelOf } from './labels.js';

export type { PersonalEvent, PersonalMode } from './personal-solve.js';

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
  /** Explain each recommended item (`words` and `explanation`); an object sets explain()'s options. Default false. */
  explain?: boolean | PersonalExplainOptions;
}

export interface PersonalExplainOptions {
  /** Items listed in `because`. Default 5. */
  because?: number;
  /** Phrases in `words`. Default 3. */
  reasons?: number;
}

/** One recommended item of a personal handle; with `explain`, its words and the handle's explanation. */
export interface PersonalRecommendation extends Omit<Recommendation, 'explanation' | 'reasons'> {
  /** With `explain`: the score's decomposition and the person's items behind it (see Personal.explain). */
  explanation?: PersonalExplanation;
}

/** One of the person's items behind a score. */
export interface PersonalBecause {
  item: Id;
  /** The item's label, when the model has one. */
  label?: string;
  /** The score minus the score of the vector refitted without this item (its events): what the score owes it. */
  effect: number;
}

/** The exact decomposition of the person's score for an item. */
export interface PersonalExplanation {
  item: Id;
  /** The item's label, when the model has one. */
  label?: string;
  /** global + user + item bias + dot. */
  score: number;
  /** The score clamped to the model's rating range, if it has one (what recommend shows for a rating model). */
  prediction: number;
  biases: { global: number; user: number; item: number };
  /** ⟨u, v⟩: the person's vector with the item's. */
  dot: number;
  /** The person's items by their leave-one-out effect on this score, largest first. */
  because: PersonalBecause[];
  /**
   * The top reasons in words, largest share first: the person's own items by label ("Because you
   * liked “Star Wars (1977)” (5★)", stars when their events have ratings) by leave-one-out
   * effect, and "Liked by many" for a positive item bias (src/api/reason-words.ts).
   */
  words: string[];
  mode: PersonalMode;
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
  /** Leave-one-out refits, one per distinct item row (computed on the first explain, kept with the fit). */
  without?: { row: number; vector: ArrayLike<number>; bias: number }[];
}
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
    const ratings = kept.map((e) => {
      if (mode === 'fold-in' && e.rating === undefined)
        fail(
          'BAD_INPUT',
          `personalize: the event of item ${JSON.stringify(e.item)} has no rating: a rating model ('fold-in') needs a rating on every event`,
          { id: e.item },
        );
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
  recommend(options: PersonalRecommendOptions = {}): PersonalRecommendation[] {
    const fitted = this.#current();
    const core = fitted.core;
    if (options.excludeSeen !== undefined && typeof options.excludeSeen !== 'boolean')
      fail('BAD_OPTION', `recommend: excludeSeen must be true or false, got ${JSON.stringify(options.excludeSeen)}`, {
        option: 'options.excludeSeen',
      });
    const explain = options.explain ?? false;
    if (typeof explain !== 'boolean' && (explain === null || typeof explain !== 'object'))
      fail('BAD_OPTION', `recommend: explain must be true, false or explain()'s options, got ${JSON.stringify(explain)}`, {
        option: 'options.explain',
      });
    const settings = explain === true ? {} : explain || undefined;
    const counts = settings ? explainCounts(settings) : undefined;
    const k = options.k ?? 10;
    const seen = (options.excludeSeen ?? true) ? [fitted.rows] : null;
    const top = recommendForVectors(core, fitted.vector, seen, { k, ...itemFilter(core, options) });
    // Plain results (no explanation yet): the explained ones get the handle's own below.
    const list = resultLists(core, top, 1, k)[0]! as PersonalRecommendation[];
    if (core.trainedWith && !core.trainedWith.implicit) {
      const offset = globalBias(core) + fitted.bias;
      for (const x of list) x.score = clampRating(core, x.score + offset);
    }
    if (counts)
      for (const x of list) {
        const why = this.#explainRow(fitted, rowOf(core, 'item', x.id), counts);
        x.words = why.words;
        x.explanation = why;
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
   * The person's score for an item, decomposed exactly (biases + dot = score), their items by
   * leave-one-out effect (each item's events taken out and the vector refitted: the same mode
   * and settings, a gradient fit warm-started from the full vector; the refits are kept with the
   * fit, so explaining a list costs them once), and the reasons in words.
   */
  explain(item: Id, options: PersonalExplainOptions = {}): PersonalExplanation {
    const fitted = this.#current();
    return this.#explainRow(fitted, rowOf(fitted.core, 'item', item), explainCounts(options));
  }

  /** The vectors refitted without each distinct item's events (see Fitted.without). */
  #leaveOneOut(fitted: Fitted): NonNullable<Fitted['without']> {
    if (fitted.without) return fitted.without;
    const core = fitted.core;
    const unique = [...new Set(fitted.rows)];
    if (fitted.mode === 'pooled') {
      // One batch: the pooled vector of each history with one item's events taken out.
      const pooled = pooledVectors(
        core,
        unique.map((j) => fitted.rows.filter((r) => r !== j)),
      );
      const d = core.dim;
      fitted.without = unique.map((row, i) => ({ row, vector: pooled.subarray(i * d, i * d + d), bias: fitted.bias }));
    } else {
      const { kept } = eventRows(core, this.#events, this.#settings);
      const ratings = kept.map((e) => e.rating ?? 1);
      fitted.without = unique.map((row) => {
        const keep = fitted.rows.map((r, i) => (r === row ? -1 : i)).filter((i) => i >= 0);
        const refit = solve(
          core,
          fitted.mode,
          keep.map((i) => fitted.rows[i]!),
          keep.map((i) => ratings[i]!),
          this.#settings,
          fitted.mode === 'gradient' ? fitted.vector : undefined,
        );
        return { row, vector: refit.vector, bias: refit.bias };
      });
    }
    return fitted.without;
  }

  #explainRow(fitted: Fitted, row: number, counts: { because: number; reasons: number }): PersonalExplanation {
    const core = fitted.core;
    const v = core.itemEmbeddings([row]);
    const itemBias = core.bias.item ? core.store.values(core.bias.item)[row]! : 0;
    const global = globalBias(core);
    const scoreOf = (u: ArrayLike<number>, b: number) => {
      let dot = 0;
      for (let c = 0; c < core.dim; c++) dot += u[c]! * v[c]!;
      return { dot, score: global + b + itemBias + dot };
    };
    const full = scoreOf(fitted.vector, fitted.bias);
    const effects: PersonalBecause[] =
      counts.because + counts.reasons === 0
        ? []
        : this.#leaveOneOut(fitted)
            .map((w) => ({ j: w.row, effect: full.score - scoreOf(w.vector, w.bias).score }))
            .sort((a, b) => b.effect - a.effect || a.j - b.j)
            .map(({ j, effect }) => {
              const id = itemIdOf(core, j);
              const label = labelOf(core, 'item', id);
              return label === undefined ? { item: id, effect } : { item: id, label, effect };
            });
    const id = itemIdOf(core, row);
    const label = labelOf(core, 'item', id);
    const words =
      counts.reasons === 0 ? [] : personalWords(core, row, itemBias, effects, eventRatings(this.#events), counts.reasons);
    return {
      item: id,
      ...(label === undefined ? {} : { label }),
      score: full.score,
      prediction: clampRating(core, full.score),
      biases: { global, user: fitted.bias, item: itemBias },
      dot: full.dot,
      because: effects.slice(0, counts.because),
      words,
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
      format: PERSONAL_FORMAT,
      fingerprint: modelFingerprint(fitted.core),
      mode: fitted.mode,
      settings: this.#settings,
      events: this.#events,
      bias: fitted.bias,
      dim: fitted.vector.length,
    };
    return encodePersonal(header, fitted.vector);
  }
}

/** explain()'s counts, checked. */
function explainCounts(options: PersonalExplainOptions): { because: number; reasons: number } {
  const count = (name: 'because' | 'reasons', fallback: number) => {
    const n = options[name] ?? fallback;
    if (!Number.isInteger(n) || n < 0)
      fail('BAD_OPTION', `explain: ${name} must be an integer ≥ 0, got ${JSON.stringify(options[name])}`, {
        option: `options.${name}`,
      });
    return n;
  };
  return { because: count('because', 5), reasons: count('reasons', 3) };
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
  const { header, vector } = decodePersonal(bytes);
  const model = core();
  model.ensureReady();
  const fingerprint = modelFingerprint(model);
  if (header.fingerprint !== fingerprint)
    fail(
      'BAD_MODEL_FILE',
      `personal bytes: they were made with another model (fingerprint ${header.fingerprint}, this model's ${fingerprint}): personalise again from the events`,
      { field: 'fingerprint', value: header.fingerprint, expected: fingerprint },
    );
  if (header.dim !== model.dim)
    fail('BAD_MODEL_FILE', `personal bytes: a vector of ${header.dim} values, and the model's dim is ${model.dim}`);
  const settings = checkSettings(header.settings);
  const events = checkEvents(header.events, 'personal bytes');
  const { rows, skipped } = eventRows(model, events, settings);
  const fitted: Fitted = { core: model, revision: model.revision, mode: header.mode, vector, bias: header.bias, rows, skipped };
  return make(core, events, settings, fitted);
}
