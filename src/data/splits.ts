// Seeded train/test splits of rating data. Every split returns row subsets of the input.
import { fail } from '../errors.js';
import { Random } from '../util/random.js';
import { subset, type RatingsData } from './ratings.js';

export interface Split {
  train: RatingsData;
  test: RatingsData;
}

function checkFraction(fraction: number): void {
  if (!(fraction > 0 && fraction < 1)) fail('BAD_OPTION', `the test fraction must be in (0, 1), got ${fraction}`);
}

function shuffled(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Random(seed).shuffle(order);
  return order;
}

/** A uniformly random `fraction` of the rows is the test set. */
export function randomHoldout(data: RatingsData, fraction = 0.2, seed = 1): Split {
  checkFraction(fraction);
  const order = shuffled(data.users.length, seed);
  const cut = Math.round(data.users.length * (1 - fraction));
  return { train: subset(data, order.subarray(0, cut).sort()), test: subset(data, order.subarray(cut).sort()) };
}

/** k disjoint test folds covering every row once (fold i's train is the other k − 1 folds). */
export function kFold(data: RatingsData, k = 5, seed = 1): Split[] {
  if (!Number.isInteger(k) || k < 2) fail('BAD_OPTION', `k-fold needs an integer k ≥ 2, got ${k}`);
  const n = data.users.length;
  if (n < k) fail('BAD_OPTION', `k-fold with k = ${k} needs at least ${k} rows, the data has ${n}`);
  const order = shuffled(n, seed);
  const folds: Split[] = [];
  for (let f = 0; f < k; f++) {
    const lo = Math.floor((f * n) / k),
      hi = Math.floor(((f + 1) * n) / k);
    const test = order.slice(lo, hi).sort();
    const train = Int32Array.from([...order.subarray(0, lo), ...order.subarray(hi)]).sort();
    folds.push({ train: subset(data, train), test: subset(data, test) });
  }
  return folds;
}

/** Each user's rows ordered by time (ties by row order). */
function rowsByUser(data: RatingsData): Map<number, number[]> {
  if (!data.timestamps) fail('MISSING_COLUMN', 'a temporal split needs a time column');
  const byUser = new Map<number, number[]>();
  for (let r = 0; r < data.users.length; r++) {
    const list = byUser.get(data.users[r]!);
    if (list) list.push(r);
    else byUser.set(data.users[r]!, [r]);
  }
  const t = data.timestamps!;
  for (const list of byUser.values()) list.sort((a, b) => t[a]! - t[b]! || a - b);
  return byUser;
}

/** Each user's latest `fraction` of ratings is the test set (users with one rating stay in train). */
export function temporalPerUser(data: RatingsData, fraction = 0.2): Split {
  checkFraction(fraction);
  const train: number[] = [],
    test: number[] = [];
  for (const rows of rowsByUser(data).values()) {
    const held = rows.length < 2 ? 0 : Math.max(1, Math.round(rows.length * fraction));
    train.push(...rows.slice(0, rows.length - held));
    test.push(...rows.slice(rows.length - held));
  }
  return {
    train: subset(
      data,
      train.sort((a, b) => a - b),
    ),
    test: subset(
      data,
      test.sort((a, b) => a - b),
    ),
  };
}

/** Each user's single latest rating is the test set (users with one rating stay in train). */
export function leaveLastOut(data: RatingsData): Split {
  const train: number[] = [],
    test: number[] = [];
  for (const rows of rowsByUser(data).values()) {
    if (rows.length < 2) train.push(...rows);
    else {
      train.push(...rows.slice(0, -1));
      test.push(rows[rows.length - 1]!);
    }
  }
  return {
    train: subset(
      data,
      train.sort((a, b) => a - b),
    ),
    test: subset(
      data,
      test.sort((a, b) => a - b),
    ),
  };
}
