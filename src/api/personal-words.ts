// A personal handle's reasons in words: the person's own items by label ("Because you liked
// “Star Wars (1977)” (5★)" when their events carry ratings), ranked by the leave-one-out effects
// the handle computes, and "liked by many" for a positive item bias. The phrases themselves are
// reason-words.ts's; this only gathers what they read from the person's events.
import type { TwoTower } from '../model/twotower.js';
import { reasonWords, wordsContext } from './reason-words.js';
import type { PersonalEvent } from './personal-solve.js';

/** An id as users give them: a string, or a number. */
type Id = string | number;

/** The person's ratings by item id (the last event's rating for an item), or undefined when no event has one. */
export function eventRatings(events: readonly PersonalEvent[]): Map<Id, number> | undefined {
  const out = new Map<Id, number>();
  for (const e of events) if (e.rating !== undefined) out.set(e.item, e.rating);
  return out.size ? out : undefined;
}

/**
 * The words of one scored item: `because` holds every one of the person's items with its
 * leave-one-out effect (the words name the largest positive ones), `itemBias` the item's bias.
 */
export function personalWords(
  core: TwoTower,
  itemRow: number,
  itemBias: number,
  because: readonly { item: Id; label?: string; effect: number }[],
  ratings: ReadonlyMap<Id, number> | undefined,
  count: number,
): string[] {
  // The person has no row of the model's: row 0 (the unknown user) stands in; the words read no user feature here.
  return reasonWords({ biases: { item: itemBias }, because }, wordsContext(core, 0, itemRow, ratings), { count });
}
