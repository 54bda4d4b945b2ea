// update() and foldIn()'s events in the user's ids, checked and mapped to rows: ids the model
// has not seen are added to copies of its exact vocabularies (the model's own are not touched).
import { fail } from '../errors.js';
import { checkId } from '../data/checks.js';
import type { TowerSide } from '../config/model.js';
import type { TwoTower } from '../model/twotower.js';
import type { Vocabulary } from '../data/vocabulary.js';
import type { RatingsData } from '../data/ratings.js';
import type { Id } from './ids.js';

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

/** The events encoded into the grown vocabularies (the model's own are not touched). */
export interface Encoded {
  data: RatingsData;
  vocabularies: { users?: Vocabulary; items?: Vocabulary };
  counts: Record<TowerSide, number>;
  added: Record<TowerSide, number>;
}

/** Maps events to rows, adding unseen ids to copies of the model's exact vocabularies. */
export function encodeEvents(core: TwoTower, events: readonly UpdateEvent[], needsRatings: boolean, where: string): Encoded {
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
            { id, side, index: r },
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
