// Reasons in words people use. An explanation's exact attributions (src/api/explain.ts) grouped
// into a few short phrases, each phrase carrying the sum of the attributions it stands for and
// ranked by it, largest first; only parts that raise the score become phrases:
//   the person's own items       "Because you liked “Star Wars (1977)” (5★)", "you rated “X” and “Y”"
//   (interaction-set items by their exact share; without a set, the id embeddings' share — the
//   person's taste — told through their training items most like this one)
//   the person's taste           "matches your taste" (the user and item id embeddings' shares)
//   the item's feature values    "Sci-Fi · 1970s" (categories, flags, sets, bucket ranges)
//   the people who chose it      "liked by people with tastes like yours" (the item's set of raters)
//   the person's own features    "popular with people like you (25–34, student)"
//   popularity                   "liked by many" (a positive item bias)
// No phrase names a feature, an embedding or a bias; items are named by label, else by their id
// quoted. The user bias is the same for every item and explains no choice between them.
import type { TwoTower } from '../model/twotower.js';
import type { FeatureKindName, TowerSide } from '../config/model.js';
import { fail } from '../errors.js';
import { interactionSets } from '../model/interaction-sets.js';
import { featureValueWords, type FeatureValueWords } from './feature-words.js';
import { labelOf } from './labels.js';

/** An id as users give them: a string, or a number. */
type Id = string | number;

/** A person's own ratings by item id (a Map, or an object `{ id: rating }`), for "you rated “X” 5★". */
export type PersonRatings = ReadonlyMap<Id, number> | Readonly<Record<string, number>>;

/** What a phrase stands for. */
export type ReasonWordsKind = 'items' | 'taste' | 'item' | 'raters' | 'people' | 'popular';

/** One reason in words, with the attributions behind it. */
export interface ReasonPhrase {
  /** The phrase, e.g. "Because you liked “Star Wars (1977)” (5★)". */
  text: string;
  kind: ReasonWordsKind;
  /** The sum of the attributions it stands for (its share of the score). */
  contribution: number;
  /** Those attributions, as describeReason names them for data scientists ("item bias", "item genres", "had 50"). */
  parts: string[];
}

/** The parts of an explanation the words read (Explanation has them; so does a personal handle's, without features). */
export interface WordsSource {
  biases: { item: number };
  features?: readonly { side: TowerSide; feature: string; featureKind: FeatureKindName; contribution: number }[];
  /** The person's items: a share (`contribution`, or a leave-one-out `effect`), or a resemblance (`similarity`). */
  because: readonly { item: Id; label?: string; contribution?: number; effect?: number; similarity?: number }[];
}

/** What the words need besides the attributions: names for values and items, and what the person did. */
export interface WordsContext {
  /** The words of one of the scored pair's feature values (the item's, or the person's own). */
  values(side: TowerSide, feature: string): FeatureValueWords | undefined;
  /** An item's label, if it has one. */
  label(item: Id): string | undefined;
  /** Interaction-set features (a person's items, an item's raters) by side. */
  sets: Record<TowerSide, ReadonlySet<string>>;
  /** The person's ratings, if known. */
  rating(item: Id): number | undefined;
  /** The model's rating range (a rating model), for "liked": the top quarter of it. */
  ratingRange?: readonly [number, number];
}

export interface ReasonWordsOptions {
  /** Phrases returned. Default 3. */
  count?: number;
}

/** The context of a model's (userRow, itemRow) pair. */
export function wordsContext(core: TwoTower, userRow: number, itemRow: number, ratings?: PersonRatings): WordsContext {
  const byId = ratings === undefined ? undefined : ratings instanceof Map ? ratings : new Map(Object.entries(ratings));
  const rating = (item: Id): number | undefined => {
    if (!byId) return undefined;
    const r = byId.get(item) ?? byId.get(String(item)) ?? (/^\d+$/.test(String(item)) ? byId.get(Number(item)) : undefined);
    return typeof r === 'number' && Number.isFinite(r) ? r : undefined;
  };
  const sets = (side: TowerSide) => new Set(interactionSets(core.config, side).map((s) => s.spec.name));
  return {
    values: (side, feature) => featureValueWords(core, side, feature, side === 'user' ? userRow : itemRow),
    label: (item) => labelOf(core, 'item', item),
    sets: { user: sets('user'), item: sets('item') },
    rating,
    ...(core.config.ratingRange ? { ratingRange: core.config.ratingRange } : {}),
  };
}

const quoted = (text: string) => `“${text}”`;

/** "a", "a and b", "a, b and c". */
function list(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function stars(r: number): string {
  return `${Number.isInteger(r) ? r : r.toFixed(1)}★`;
}

/** Items the person acted on, with what is known of how: "you liked “X” (5★)", "you rated “X” 2★", "you liked “X” and “Y”". */
function itemsPhrase(items: readonly { item: Id; label?: string }[], context: WordsContext): string {
  const named = items.map((b) => ({
    name: quoted(b.label ?? context.label(b.item) ?? String(b.item)),
    rating: context.rating(b.item),
  }));
  const range = context.ratingRange;
  const liked = (r: number) => (range ? r >= range[0] + 0.75 * (range[1] - range[0]) : r > 0);
  if (named.every((n) => n.rating !== undefined && liked(n.rating)))
    return `Because you liked ${list(named.map((n) => `${n.name} (${stars(n.rating!)})`))}`;
  if (named.some((n) => n.rating !== undefined))
    return `Because you rated ${list(named.map((n) => (n.rating === undefined ? n.name : `${n.name} ${stars(n.rating)}`)))}`;
  // Nothing known of how: a rating model's events are ratings (of any level), others are choices.
  return range ? `Because you rated ${list(named.map((n) => n.name))}` : `Because you liked ${list(named.map((n) => n.name))}`;
}

/** "Sci-Fi · 1970s": the first two values of each feature, in the order given. */
function valuesPhrase(values: readonly FeatureValueWords[]): string {
  return values.map((v) => v.words.slice(0, 2).join(', ')).join(' · ');
}

/**
 * The reasons of an explanation in words, largest share first (see the file's header). Each
 * phrase's `contribution` is the exact sum of the attributions it names in `parts`; phrases with
 * no positive share are left out, so a list may be shorter than `count` (or empty).
 */
export function reasonPhrases(source: WordsSource, context: WordsContext, options: ReasonWordsOptions = {}): ReasonPhrase[] {
  const count = options.count ?? 3;
  if (!Number.isInteger(count) || count < 0)
    fail('BAD_OPTION', `reasonPhrases: count must be an integer ≥ 0, got ${JSON.stringify(options.count)}`, {
      option: 'count',
    });
  const out: ReasonPhrase[] = [];
  const features = source.features ?? [];
  const share = (b: WordsSource['because'][number]) => b.contribution ?? b.effect;

  // The person's own items, by their exact share: the two largest positive ones.
  const shared = source.because.filter((b) => (share(b) ?? 0) > 0).sort((a, b) => share(b)! - share(a)!);
  if (shared.length) {
    const top = shared.slice(0, 2);
    out.push({
      text: itemsPhrase(top, context),
      kind: 'items',
      contribution: top.reduce((s, b) => s + share(b)!, 0),
      parts: top.map((b) => `had ${b.item}`),
    });
  }

  // The id embeddings: the person's taste, told through their items most like this one when
  // there is no item share to tell it (a plain id user tower); liked ones first when ratings are known.
  const ids = features.filter((f) => f.featureKind === 'id' && f.contribution > 0);
  const taste = ids.reduce((s, f) => s + f.contribution, 0);
  if (taste > 0) {
    const range = context.ratingRange;
    const similar = source.because
      .filter((b) => share(b) === undefined && (b.similarity ?? 0) > 0)
      .map((b, i) => ({ b, i, r: context.rating(b.item) }))
      .filter((s) => s.r === undefined || !range || s.r >= range[0] + 0.75 * (range[1] - range[0]))
      .sort((x, y) => (y.r ?? -Infinity) - (x.r ?? -Infinity) || x.i - y.i)
      .slice(0, shared.length ? 0 : 2)
      .map((s) => s.b);
    out.push({
      text: similar.length ? itemsPhrase(similar, context) : 'matches your taste',
      kind: 'taste',
      contribution: taste,
      parts: ids.map((f) => `${f.side} id`),
    });
  }

  // The item's own feature values that raise the score.
  const itemValues: { words: FeatureValueWords; contribution: number; part: string }[] = [];
  let raters = 0;
  const raterParts: string[] = [];
  for (const f of features) {
    if (f.side !== 'item' || f.featureKind === 'id' || f.contribution <= 0) continue;
    if (context.sets.item.has(f.feature)) {
      raters += f.contribution;
      raterParts.push(`item ${f.feature}`);
      continue;
    }
    const words = context.values('item', f.feature);
    if (words) itemValues.push({ words, contribution: f.contribution, part: `item ${f.feature}` });
  }
  if (itemValues.length) {
    itemValues.sort((a, b) => b.contribution - a.contribution);
    const shown = itemValues.slice(0, 3);
    out.push({
      text: valuesPhrase(shown.map((v) => v.words)),
      kind: 'item',
      contribution: shown.reduce((s, v) => s + v.contribution, 0),
      parts: shown.map((v) => v.part),
    });
  }
  if (raters > 0)
    out.push({ text: 'liked by people with tastes like yours', kind: 'raters', contribution: raters, parts: raterParts });

  // The person's own features (age, occupation…): people like them chose it.
  const people = features
    .filter((f) => f.side === 'user' && f.featureKind !== 'id' && !context.sets.user.has(f.feature) && f.contribution > 0)
    .map((f) => ({ f, words: context.values('user', f.feature) }))
    .filter((p): p is { f: (typeof features)[number]; words: FeatureValueWords } => p.words !== undefined)
    .sort((a, b) => b.f.contribution - a.f.contribution);
  if (people.length)
    out.push({
      text: `popular with people like you (${people.map((p) => p.words.words.slice(0, 2).join(', ')).join(', ')})`,
      kind: 'people',
      contribution: people.reduce((s, p) => s + p.f.contribution, 0),
      parts: people.map((p) => `user ${p.f.feature}`),
    });

  if (source.biases.item > 0)
    out.push({ text: 'liked by many', kind: 'popular', contribution: source.biases.item, parts: ['item bias'] });

  // Each phrase stands alone (a list's line, a chip): capitalised.
  for (const p of out) p.text = p.text.charAt(0).toUpperCase() + p.text.slice(1);
  return out.sort((a, b) => b.contribution - a.contribution).slice(0, count);
}

/** The phrases' texts (see reasonPhrases). */
export function reasonWords(source: WordsSource, context: WordsContext, options: ReasonWordsOptions = {}): string[] {
  return reasonPhrases(source, context, options).map((p) => p.text);
}
