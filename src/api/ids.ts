// Users speak in their own ids; the core speaks in rows. This maps one to the other through a
// model's vocabularies (a model trained from files or by train() has them; without one for a
// side, that side's ids are its row indices), and turns the rank layer's top-k rows back into
// lists of the user's ids.
import { fail } from '../errors.js';
import { Vocabulary } from '../data/vocabulary.js';
import { checkId, checkIdList } from '../data/checks.js';
import type { TwoTower } from '../model/twotower.js';
import type { TopKResult } from '../rank/topk-result.js';
import { Ranked } from '../rank/ranked.js';
import type { Explanation, ExplainByIdOptions, Reason } from './explain.js';
import { labelOf } from './labels.js';

/** The id ↔ index maps of a model's users and items, where it was trained from string ids. */
export interface ModelVocabularies {
  users?: Vocabulary;
  items?: Vocabulary;
}

/** An id as users give them: a string, or a number. */
export type Id = string | number;

/**
 * One recommended item: its id and its score (the predicted rating for a rating model). Results
 * are {@link Ranked} instances: `{ id, score }` plus the optional fields below.
 */
export interface Recommendation {
  /** The item's id. */
  id: Id;
  score: number;
  /** The item's label (a title such as "Star Wars (1977)"), when the model has one for it (see Model.setLabels). */
  label?: string;
  /** @deprecated Use `id` (removed in the next minor version; reading it warns once). */
  readonly item: Id;
  /** With `explain`: the top reasons in words ("Because you liked “Star Wars (1977)”", "Sci-Fi · 1970s"), largest share first. */
  words?: string[];
  /** With `explain`: the top reasons as numbers (largest shares of the score first; describeReason names them). */
  reasons?: Reason[];
  /** With `explain`: the score's full decomposition (see Model.explain). */
  explanation?: Explanation;
}

export interface RecommendByIdOptions {
  /** Items per user. Default 10. */
  k?: number;
  /** Skip each user's training items. Default true when the model knows them. */
  excludeSeen?: boolean;
  /** Item ids never recommended. Default none. */
  exclude?: readonly Id[];
  /** Only these item ids, or only items for which this returns true. Default every item. */
  filter?: readonly Id[] | ((item: Id) => boolean);
  /** Explain each recommended item (`words`, `reasons` and `explanation`); an object sets explain()'s options. Default false. */
  explain?: boolean | ExplainByIdOptions;
}

/**
 * Checks and attaches id vocabularies: each maps exactly the model's rows of its side (an exact
 * one holds a key for every row but row 0, the unknown id; a hashed one has as many buckets as rows).
 */
export function setVocabularies(core: TwoTower, vocabularies: ModelVocabularies): void {
  core.live();
  for (const [side, v] of [
    ['user', vocabularies.users],
    ['item', vocabularies.items],
  ] as const) {
    if (v === undefined) continue;
    if (!(v instanceof Vocabulary)) fail('BAD_INPUT', `vocabularies.${side}s must be a Vocabulary`);
    const count = side === 'user' ? core.userCount : core.itemCount;
    // One index per row: a shorter vocabulary leaves rows without ids (and update() could not grow them).
    if (v.size !== count)
      fail(
        'DIMENSION_MISMATCH',
        `vocabularies.${side}s maps ${v.size} indices (${v.mode === 'exact' ? `${v.size - 1} keys and the unknown-id index 0` : 'hash buckets'}) but the model has ${count} ${side}s: a vocabulary maps every row`,
      );
  }
  core.vocabularies = { ...vocabularies };
}

/** The row of a user or item id; an unknown id is UNKNOWN_ID naming it and the remedy. */
export function rowOf(core: TwoTower, side: 'user' | 'item', id: Id): number {
  const vocab = side === 'user' ? core.vocabularies.users : core.vocabularies.items;
  const count = side === 'user' ? core.userCount : core.itemCount;
  checkId(id, `a ${side} id`);
  if (!vocab) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= count) {
      fail(
        'UNKNOWN_ID',
        `${side} ${JSON.stringify(id)} is not a ${side} of this model: it has no ${side} vocabulary, so its ids are the row indices 0…${count - 1}`,
        { id, side },
      );
    }
    return id as number;
  }
  const key = String(id);
  if (vocab.mode === 'exact' && !vocab.has(key)) {
    const coldStart =
      side === 'user' &&
      core.config.user.features.some((f) => f.kind === 'multiHot' && f.name === 'history' && f.vocabSize === core.itemCount);
    fail(
      'UNKNOWN_ID',
      `${side} ${JSON.stringify(id)} is not in the model's vocabulary (${vocab.size - 1} ${side}s)` +
        (side === 'user'
          ? coldStart
            ? ': recommend from the items they interacted with (recommendFromHistory)'
            : ': retrain with them, or train with a history feature to serve new users from their items'
          : ''),
      { id, side },
    );
  }
  return vocab.lookup(key);
}

/** The id of item row j (the row itself where the model has no item vocabulary). */
export function itemIdOf(core: TwoTower, j: number): Id {
  const vocab = core.vocabularies.items;
  return vocab ? (vocab.key(j) ?? j) : j;
}

/** The item rows options.exclude and options.filter name (filter: the rows it keeps). */
export function itemFilter(core: TwoTower, options: RecommendByIdOptions): { allow?: number[]; exclude?: number[] } {
  if (options.exclude !== undefined) checkIdList(options.exclude, 'recommend: options.exclude');
  const exclude = options.exclude?.map((id) => rowOf(core, 'item', id));
  let allow: number[] | undefined;
  if (Array.isArray(options.filter)) allow = options.filter.map((id) => rowOf(core, 'item', id));
  else if (typeof options.filter === 'function') {
    const keep = options.filter;
    allow = [];
    for (let j = 0; j < core.itemCount; j++) if (core.unknownItemRows().indexOf(j) < 0 && keep(itemIdOf(core, j))) allow.push(j);
    if (allow.length === 0) fail('EMPTY_DATA', 'recommend: the filter keeps no item');
  } else if (options.filter !== undefined) fail('BAD_OPTION', 'filter must be a list of item ids or a function of an item id');
  return { allow, exclude };
}

/**
 * Turns a top-k over rows into lists of { id, score } per row; given the user rows, a rating
 * model's scores are its predicted ratings (predict()).
 */
export function resultLists(core: TwoTower, top: TopKResult, rows: number, k: number, userRows?: number[]): Recommendation[][] {
  const t = core.trainedWith;
  const scoresAreRatings = t !== undefined && !t.implicit;
  const out: Recommendation[][] = [];
  for (let r = 0; r < rows; r++) {
    const picked: { j: number; score: number }[] = [];
    for (let c = 0; c < k; c++) {
      const j = top.indices[r * k + c]!;
      if (j >= 0) picked.push({ j, score: top.scores[r * k + c]! });
    }
    if (userRows && scoresAreRatings && picked.length > 0) {
      const predicted = core.predict(
        new Int32Array(picked.length).fill(userRows[r]!),
        picked.map((p) => p.j),
      );
      picked.forEach((p, i) => (p.score = predicted[i]!));
    }
    out.push(
      picked.map((p): Recommendation => {
        const x: Recommendation = new Ranked<Id>(itemIdOf(core, p.j), p.score);
        const label = labelOf(core, 'item', x.id);
        if (label !== undefined) x.label = label;
        return x;
      }),
    );
  }
  return out;
}
