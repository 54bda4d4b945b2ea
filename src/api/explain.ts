// Explanations in the user's ids: a pair's decomposition (src/rank/explain.ts) with its items
// named, the items behind it ("because you interacted with …"), and the few reasons a list of
// recommendations shows. Where the user tower reads no interaction set, the "because" items are
// the user's training items most similar to the scored one (cosine of item embeddings), labelled
// 'similar': a resemblance, not a share of the score.
import type { TwoTower } from '../model/twotower.js';
import type { FeatureKindName, TowerSide } from '../config/model.js';
import { csrRow } from '../data/csr.js';
import { fail } from '../errors.js';
import { labelOf } from './labels.js';
import { reasonWords, wordsContext, type PersonRatings } from './reason-words.js';
import { explainPairs, type PairExplanation, type ExplainOptions } from '../rank/explain.js';

/** An id as users give them: a string, or a number. */
type Id = string | number;

/** An item behind a score. */
export type BecauseItem =
  /**
   * An item of the user's interaction set, with its share of the score (the scored item held
   * fixed). An item in several sets (an ensemble's members each read one, or a model reads both a
   * history and a rated set) is listed once: `contribution` sums its shares, `feature` and `weight`
   * are those of its largest share.
   */
  | { kind: 'history'; item: Id; label?: string; feature: string; weight: number; contribution: number }
  /** One of the user's training items, most like the scored item by embedding cosine (no share of the score). */
  | { kind: 'similar'; item: Id; label?: string; similarity: number };

/** One reason a list shows, largest share first. */
export type Reason =
  | { kind: 'feature'; side: TowerSide; feature: string; featureKind: FeatureKindName; contribution: number }
  | { kind: 'bias'; of: 'user' | 'item'; contribution: number }
  | { kind: 'history'; item: Id; feature: string; contribution: number }
  | { kind: 'similar'; item: Id; similarity: number };

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;

/**
 * One reason as the numbers name it, for data scientists (`recommend --explain=numbers`):
 * "item bias +0.402", "had 181 +0.213" (an item of the user's), "item genres +0.102", "user id
 * +0.050" (its own embedding), "like 17 (cosine 0.83)". For people, use Explanation.words.
 */
export function describeReason(r: Reason): string {
  switch (r.kind) {
    case 'bias':
      return `${r.of} bias ${signed(r.contribution)}`;
    case 'feature':
      return `${r.side} ${r.featureKind === 'id' ? 'id' : r.feature} ${signed(r.contribution)}`;
    case 'history':
      return `had ${r.item} ${signed(r.contribution)}`;
    case 'similar':
      return `like ${r.item} (cosine ${r.similarity.toFixed(2)})`;
  }
}

/** Why the model scores a (user, item) pair as it does. */
export interface Explanation {
  user: Id;
  item: Id;
  /** The score the parts below add up to: global + user + item bias + the towers' dot product (unclamped). */
  score: number;
  /** What predict() returns for the pair: the score clamped to the model's ratingRange, if it has one. */
  prediction: number;
  biases: { global: number; user: number; item: number };
  /** The towers' dot product ⟨u, v⟩. */
  dot: number;
  /** The part of the dot product the towers' dense biases give alone (all inputs zero). */
  baseline: number;
  /** Each feature of both towers with its share of the dot product, largest magnitude first; they sum to dot − baseline (± completenessError). */
  features: { side: TowerSide; feature: string; featureKind: FeatureKindName; contribution: number }[];
  /** The items behind the score, largest first (see BecauseItem). */
  because: BecauseItem[];
  /** The top positive reasons, as numbers (describeReason names them). */
  reasons: Reason[];
  /**
   * The top reasons in words people use, largest share first: "Because you liked “Star Wars
   * (1977)” (5★)", "Sci-Fi · 1970s", "liked by many" — never a feature name (src/api/reason-words.ts;
   * reasonPhrases gives each phrase's share).
   */
  words: string[];
  /** 'exact' for towers without hidden layers; 'integrated-gradients' otherwise. */
  method: 'exact' | 'integrated-gradients';
  /** Integrated-gradient path points (1 when exact). */
  steps: number;
  /** |Σ feature contributions + baseline − dot|: rounding when exact, the method's error otherwise. */
  completenessError: number;
}

export interface ExplainByIdOptions extends ExplainOptions {
  /** Items listed in `because`. Default 5. */
  because?: number;
  /** Reasons listed in `reasons` and phrases in `words`. Default 3. */
  reasons?: number;
  /** The user's own ratings by item id (a Map or `{ id: rating }`), so the words can say "you rated “X” 5★". Default none (a model keeps no ratings). */
  ratings?: PersonRatings;
}

function count(value: number | undefined, fallback: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0) fail('BAD_OPTION', `explain: ${name} must be an integer ≥ 0, got ${value}`);
  return n;
}

/** Explains (userRow, itemRows[i]) for each i, naming items by `itemId`. */
export function explainForUser(
  core: TwoTower,
  userRow: number,
  userId: Id,
  itemRows: number[],
  itemId: (row: number) => Id,
  options: ExplainByIdOptions = {},
): Explanation[] {
  const becauseCount = count(options.because, 5, 'because');
  const reasonCount = count(options.reasons, 3, 'reasons');
  const pairs = explainPairs(
    core,
    itemRows.map(() => userRow),
    itemRows,
    options,
  );
  const similar = pairs[0]?.sets.length === 0 ? similarSeen(core, userRow, itemRows, becauseCount) : null;
  const range = core.config.ratingRange;
  const ratings = options.ratings;
  if (ratings !== undefined && (ratings === null || typeof ratings !== 'object' || Array.isArray(ratings)))
    fail('BAD_OPTION', 'explain: ratings must be a Map or an object { itemId: rating }', { option: 'ratings' });
  return pairs.map((pair, i) => {
    const because: BecauseItem[] = similar
      ? similar[i]!.map((s) => ({ kind: 'similar', item: itemId(s.row), similarity: s.similarity }))
      : historyItems(pair, itemId).slice(0, becauseCount);
    for (const b of because) {
      const label = labelOf(core, 'item', b.item);
      if (label !== undefined) b.label = label;
    }
    const features = [...pair.features].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
    const words = reasonWords({ biases: pair.biases, features, because }, wordsContext(core, userRow, pair.item, ratings), {
      count: reasonCount,
    });
    return {
      user: userId,
      item: itemId(pair.item),
      score: pair.score,
      prediction: range ? Math.min(range[1], Math.max(range[0], pair.score)) : pair.score,
      biases: pair.biases,
      dot: pair.dot,
      baseline: pair.baseline,
      features,
      because,
      reasons: reasons(pair, because, reasonCount),
      words,
      method: pair.method,
      steps: pair.steps,
      completenessError: pair.completenessError,
    };
  });
}

/** The top positive shares: item and user biases, features, and an interaction set's items in place of the set. */
/** The pair's interaction-set items, one entry per item (shares summed over the sets that hold it), largest share first. */
function historyItems(pair: PairExplanation, itemId: (row: number) => Id): Extract<BecauseItem, { kind: 'history' }>[] {
  const byRow = new Map<number, { entry: Extract<BecauseItem, { kind: 'history' }>; largest: number }>();
  for (const set of pair.sets)
    for (const h of set.items) {
      const seen = byRow.get(h.item);
      if (!seen) {
        const entry = {
          kind: 'history' as const,
          item: itemId(h.item),
          feature: set.feature,
          weight: h.weight,
          contribution: h.contribution,
        };
        byRow.set(h.item, { entry, largest: h.contribution });
        continue;
      }
      seen.entry.contribution += h.contribution;
      if (h.contribution > seen.largest) {
        seen.largest = h.contribution;
        seen.entry.feature = set.feature;
        seen.entry.weight = h.weight;
      }
    }
  return [...byRow.values()].map((v) => v.entry).sort((a, b) => b.contribution - a.contribution);
}

function reasons(pair: PairExplanation, because: BecauseItem[], n: number): Reason[] {
  const sets = new Set(pair.sets.map((s) => s.feature));
  const candidates: Reason[] = [
    { kind: 'bias', of: 'item', contribution: pair.biases.item },
    { kind: 'bias', of: 'user', contribution: pair.biases.user },
    ...pair.features.filter((f) => !(f.side === 'user' && sets.has(f.feature))).map((f) => ({ kind: 'feature' as const, ...f })),
    ...because.flatMap((b) =>
      b.kind === 'history' ? [{ kind: 'history' as const, item: b.item, feature: b.feature, contribution: b.contribution }] : [],
    ),
  ];
  const ranked = candidates
    .filter((r): r is Exclude<Reason, { kind: 'similar' }> => 'contribution' in r && r.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, n);
  // Without an interaction set, the closest training item is a reason of its own kind (last).
  const closest = because.find((b) => b.kind === 'similar' && b.similarity > 0);
  if (closest && closest.kind === 'similar' && n > 0) {
    if (ranked.length >= n) ranked.pop();
    return [...ranked, { kind: 'similar', item: closest.item, similarity: closest.similarity }];
  }
  return ranked;
}

/** Per scored item: the user's training items most like it (cosine of item embeddings), best first. */
function similarSeen(core: TwoTower, user: number, items: number[], n: number): { row: number; similarity: number }[][] {
  const seen = core.seen ? Array.from(csrRow(core.seen, user)) : [];
  if (seen.length === 0 || n === 0) return items.map(() => []);
  const d = core.dim;
  const normalised = (rows: number[]) => {
    const e = core.itemEmbeddings(rows);
    for (let r = 0; r < rows.length; r++) {
      let norm = 0;
      for (let c = 0; c < d; c++) norm += e[r * d + c]! ** 2;
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let c = 0; c < d; c++) e[r * d + c]! *= inv;
    }
    return e;
  };
  const history = normalised(seen);
  const scored = normalised(items);
  return items.map((item, i) =>
    seen
      .map((row, h) => {
        let s = 0;
        for (let c = 0; c < d; c++) s += history[h * d + c]! * scored[i * d + c]!;
        return { row, similarity: s };
      })
      .filter((s) => s.row !== item)
      .sort((a, b) => b.similarity - a.similarity || a.row - b.row)
      .slice(0, n),
  );
}
