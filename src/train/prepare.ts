// Training data as fit() consumes it: validated against the model, reduced to positives for
// implicit losses (minRating), a validation split carved when asked.
import { fail } from '../errors.js';
import { validateInteractions, type Interactions } from '../data/interactions.js';
import type { TwoTower } from '../model/twotower.js';
import { Random } from '../util/random.js';
import type { Loss } from './losses/index.js';
import type { ResolvedFitOptions } from './options.js';

/** The interactions rated ≥ threshold (implicit positives). */
function positivesOf(data: Interactions, threshold: number, name: string): Interactions {
  const keep: number[] = [];
  for (let r = 0; r < data.users.length; r++) if (data.ratings[r]! >= threshold) keep.push(r);
  if (keep.length === 0) fail('EMPTY_DATA', `${name} has no rating ≥ ${threshold}: no positives to train on`);
  return {
    users: Int32Array.from(keep, (r) => data.users[r]!),
    items: Int32Array.from(keep, (r) => data.items[r]!),
    ratings: Float32Array.from(keep, (r) => data.ratings[r]!),
    ...(data.weights ? { weights: Float32Array.from(keep, (r) => data.weights![r]!) } : {}),
  };
}

/**
 * Implicit feedback: one positive per (user, item). Repeated rows (an item clicked three times)
 * merge into the first, keeping the highest rating; a user's repeated interest is not three
 * positives, which would weight heavy repeaters over everyone else.
 */
export function mergeDuplicatePairs(data: Interactions): Interactions {
  const n = data.users.length;
  let userSpan = 0,
    itemSpan = 0;
  for (let r = 0; r < n; r++) {
    userSpan = Math.max(userSpan, data.users[r]! + 1);
    itemSpan = Math.max(itemSpan, data.items[r]! + 1);
  }
  // Rows grouped by user (a stable counting sort), then a per-item stamp of the user last seen
  // finds each pair's first row: O(rows + users + items) in typed arrays. A Map keyed by
  // user × items + item (the way before) spent 8% of a 1M-event softmax epoch hashing keys that
  // are heap numbers past 2³¹.
  const start = new Int32Array(userSpan + 1);
  for (let r = 0; r < n; r++) start[data.users[r]! + 1]!++;
  for (let u = 0; u < userSpan; u++) start[u + 1]! += start[u]!;
  const byUser = new Int32Array(n);
  const fill = start.slice(0, userSpan);
  for (let r = 0; r < n; r++) byUser[fill[data.users[r]!]!++] = r;
  const stampUser = new Int32Array(itemSpan).fill(-1);
  const firstRow = new Int32Array(itemSpan);
  const firstOf = new Int32Array(n); // each row's pair's first row
  let kept = 0;
  for (let u = 0; u < userSpan; u++)
    for (let k = start[u]!; k < start[u + 1]!; k++) {
      const r = byUser[k]!,
        i = data.items[r]!;
      if (stampUser[i] !== u) {
        stampUser[i] = u;
        firstRow[i] = r;
        kept++;
      }
      firstOf[r] = firstRow[i]!;
    }
  if (kept === n) return data;
  // Plain loops, not TypedArray.from(rows, mapFn): its callback per element cost ~0.5 s a
  // million rows.
  const rating = data.ratings.slice();
  const weight = data.weights?.slice();
  for (let r = 0; r < n; r++) {
    const at = firstOf[r]!;
    if (at !== r) {
      rating[at] = Math.max(rating[at]!, rating[r]!);
      if (weight) weight[at]! += weight[r]!; // repeated interest adds up as confidence
    }
  }
  const out = {
    users: new Int32Array(kept),
    items: new Int32Array(kept),
    ratings: new Float32Array(kept),
    weights: weight ? new Float32Array(kept) : undefined,
  };
  for (let r = 0, j = 0; r < n; r++)
    if (firstOf[r] === r) {
      out.users[j] = data.users[r]!;
      out.items[j] = data.items[r]!;
      out.ratings[j] = rating[r]!;
      if (out.weights) out.weights[j] = weight![r]!;
      j++;
    }
  const { weights, ...rest } = out;
  return weights ? { ...rest, weights } : rest;
}

/** Row indices of a seeded random `fraction` of n rows (validation) and of the rest (training), each ascending. */
export function validationRows(n: number, fraction: number, seed: number): { train: Int32Array; validation: Int32Array } {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Random(seed ^ 0x5eed).shuffle(order);
  const cut = n - Math.max(1, Math.round(n * fraction));
  if (cut < 1) fail('BAD_OPTION', `validationFraction ${fraction} leaves no training rows out of ${n}`);
  return { train: order.slice(0, cut).sort(), validation: order.slice(cut).sort() };
}

/** A seeded random `fraction` of the rows as validation, the rest as training (the rows of validationRows). */
export function carveValidation(
  data: Interactions,
  fraction: number,
  seed: number,
): { train: Interactions; validation: Interactions } {
  const rows = validationRows(data.users.length, fraction, seed);
  const pick = (sorted: Int32Array): Interactions => {
    return {
      users: Int32Array.from(sorted, (r) => data.users[r]!),
      items: Int32Array.from(sorted, (r) => data.items[r]!),
      ratings: data.ratings ? Float32Array.from(sorted, (r) => data.ratings[r]!) : new Float32Array(sorted.length),
      ...(data.weights ? { weights: Float32Array.from(sorted, (r) => data.weights![r]!) } : {}),
    };
  };
  return { train: pick(rows.train), validation: pick(rows.validation) };
}

/** The rows fit() trains on for a loss, before any validation carve: implicit losses keep the positives (minRating) once per pair. */
export function trainingRows(data: Interactions, loss: Pick<Loss, 'implicit'>, minRating: number | undefined): Interactions {
  let train = data;
  if (loss.implicit && minRating !== undefined) train = positivesOf(train, minRating, 'train');
  if (loss.implicit) train = mergeDuplicatePairs(train);
  return train;
}

/** Checks everything fit() is given against the model and returns the data it trains and validates on. */
export function prepareData(
  core: TwoTower,
  data: Interactions,
  o: ResolvedFitOptions,
  loss: Loss,
): { train: Interactions; validation?: Interactions } {
  validateInteractions(data, core.userCount, core.itemCount, 'train', !loss.implicit || o.minRating !== undefined);
  let validation = o.validation;
  if (validation) validateInteractions(validation, core.userCount, core.itemCount, 'options.validation', !loss.implicit);
  let train = trainingRows(data, loss, o.minRating);
  if (validation && loss.implicit && o.minRating !== undefined && validation.ratings)
    validation = positivesOf(validation, o.minRating, 'options.validation');
  if (!validation && o.validationFraction > 0) {
    const carved = carveValidation(train, o.validationFraction, o.seed);
    train = carved.train;
    validation = carved.validation;
  }
  return { train, validation };
}
