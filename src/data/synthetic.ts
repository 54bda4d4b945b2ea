// Built-in synthetic ratings with a known answer. Users and items have side features and hidden
// factors partly explained by those features; a rating is
//   r = μ + b_u + b_i + ⟨p_u, q_i⟩ + ε,   ε ~ N(0, noise²),
// so the best any model can do on held-out ratings is the RMSE of the true function, reported
// as `floorRmse` (≈ noise). It is the default data of the demo and of the quality tests.
import { Random } from '../util/random.js';
import type { Interactions } from './interactions.js';
import type { FeatureTable } from '../config/feature-table.js';
import type { TwoTowerConfig } from '../config/model.js';
import { fail } from '../errors.js';
import { csrFromLists } from './csr.js';

export interface SyntheticOptions {
  /** Number of users. Default 1000. */
  users?: number;
  /** Number of items. Default 400. */
  items?: number;
  /** Ratings per user (distinct items, drawn uniformly). Default 200. */
  ratingsPerUser?: number;
  /** Rank of the hidden factors. Default 8. */
  factors?: number;
  /** Standard deviation of the rating noise. Default 0.5. */
  noise?: number;
  /** Fraction of each user's ratings held out as test. Default 0.2. */
  testFraction?: number;
  /** Seed. Default 42. */
  seed?: number;
}

export interface SyntheticData {
  /** Features: "age" (categorical, 6 buckets) and "activity" (numeric, 2 values). */
  userFeatures: FeatureTable;
  /** Features: "genres" (multi-hot over 12 genres) and "popularity" (numeric, 1 value). */
  itemFeatures: FeatureTable;
  train: Interactions;
  test: Interactions;
  /** The rating noise's standard deviation. */
  noise: number;
  /** RMSE of the true (noise-free) function on the test ratings: the best attainable test RMSE. */
  floorRmse: number;
  /** The noise-free rating of (user, item). */
  trueRating(user: number, item: number): number;
  /** A model configuration that suits this data: ids plus every side feature, one hidden layer. */
  suggestedConfig(dim?: number): TwoTowerConfig;
}

const AGE_BUCKETS = 6;
const GENRES = 12;

export function generateSynthetic(options: SyntheticOptions = {}): SyntheticData {
  const nu = options.users ?? 1000;
  const ni = options.items ?? 400;
  const per = options.ratingsPerUser ?? 200;
  const k = options.factors ?? 8;
  const noise = options.noise ?? 0.5;
  const testFraction = options.testFraction ?? 0.2;
  const random = new Random(options.seed ?? 42);
  for (const [name, v] of [
    ['users', nu],
    ['items', ni],
    ['ratingsPerUser', per],
    ['factors', k],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) fail('BAD_OPTION', `synthetic ${name} must be a positive integer, got ${v}`);
  }
  if (per > ni) fail('BAD_OPTION', `synthetic ratingsPerUser (${per}) cannot exceed items (${ni})`);
  if (!(noise >= 0)) fail('BAD_OPTION', `synthetic noise must be ≥ 0, got ${noise}`);
  if (!(testFraction > 0 && testFraction < 1))
    fail('BAD_OPTION', `synthetic testFraction must be in (0, 1), got ${testFraction}`);

  const gauss = (n: number, std: number) => Float64Array.from({ length: n }, () => std * random.normal());
  // Hidden factors: a part shared through side features, and a personal part.
  const ageFactors = gauss(AGE_BUCKETS * k, 0.45);
  const genreFactors = gauss(GENRES * k, 0.55);
  const age = new Int32Array(nu);
  const activity = new Float32Array(nu * 2);
  const p = new Float64Array(nu * k);
  const bu = new Float64Array(nu);
  for (let u = 0; u < nu; u++) {
    age[u] = random.int(AGE_BUCKETS);
    const a0 = random.normal(),
      a1 = random.normal();
    activity[2 * u] = a0;
    activity[2 * u + 1] = a1;
    bu[u] = 0.25 * a0 + 0.15 * random.normal();
    for (let f = 0; f < k; f++) p[u * k + f] = ageFactors[age[u]! * k + f]! + 0.1 * a1 * (f % 2 ? 1 : -1) + 0.2 * random.normal();
  }
  const genreLists: number[][] = [];
  const popularity = new Float32Array(ni);
  const q = new Float64Array(ni * k);
  const bi = new Float64Array(ni);
  for (let i = 0; i < ni; i++) {
    const count = 1 + random.int(3);
    const mine = new Set<number>();
    while (mine.size < count) mine.add(random.int(GENRES));
    const sorted = [...mine].sort((a, b) => a - b);
    genreLists.push(sorted);
    const pop = random.normal();
    popularity[i] = pop;
    bi[i] = 0.3 * pop + 0.15 * random.normal();
    for (let f = 0; f < k; f++) {
      let s = 0;
      for (const g of sorted) s += genreFactors[g * k + f]!;
      q[i * k + f] = s / sorted.length + 0.2 * random.normal();
    }
  }
  const mu = 3.5;
  const trueRating = (u: number, i: number): number => {
    let s = mu + bu[u]! + bi[i]!;
    for (let f = 0; f < k; f++) s += p[u * k + f]! * q[i * k + f]!;
    return s;
  };

  const trainRows: number[][] = [[], [], []];
  const testRows: number[][] = [[], [], []];
  const itemOrder = Int32Array.from({ length: ni }, (_, i) => i);
  const perTest = Math.max(1, Math.round(per * testFraction));
  for (let u = 0; u < nu; u++) {
    // Partial Fisher–Yates: the first `per` entries are a uniform sample without replacement.
    for (let j = 0; j < per; j++) {
      const r = j + random.int(ni - j);
      const t = itemOrder[j]!;
      itemOrder[j] = itemOrder[r]!;
      itemOrder[r] = t;
    }
    for (let j = 0; j < per; j++) {
      const i = itemOrder[j]!;
      const rating = trueRating(u, i) + noise * random.normal();
      const rows = j < perTest ? testRows : trainRows;
      rows[0]!.push(u);
      rows[1]!.push(i);
      rows[2]!.push(rating);
    }
  }
  const pack = (rows: number[][]): Interactions => ({
    users: Int32Array.from(rows[0]!),
    items: Int32Array.from(rows[1]!),
    ratings: Float32Array.from(rows[2]!),
  });
  const test = pack(testRows);
  let se = 0;
  for (let r = 0; r < test.users.length; r++) {
    const e = trueRating(test.users[r]!, test.items[r]!) - test.ratings[r]!;
    se += e * e;
  }
  return {
    userFeatures: { count: nu, columns: { age, activity } },
    itemFeatures: { count: ni, columns: { genres: csrFromLists(genreLists), popularity } },
    train: pack(trainRows),
    test,
    noise,
    floorRmse: Math.sqrt(se / test.users.length),
    trueRating,
    suggestedConfig: (dim = 16) => ({
      dim,
      user: {
        features: [
          { kind: 'id', name: 'user', vocabSize: nu, dim: 8 },
          { kind: 'categorical', name: 'age', vocabSize: AGE_BUCKETS, dim: 4 },
          { kind: 'numeric', name: 'activity', size: 2 },
        ],
        hidden: [32],
      },
      item: {
        features: [
          { kind: 'id', name: 'item', vocabSize: ni, dim: 8 },
          { kind: 'multiHot', name: 'genres', vocabSize: GENRES, dim: 4 },
          { kind: 'numeric', name: 'popularity', size: 1 },
        ],
        hidden: [32],
      },
      bias: { global: true, user: true, item: true },
      seed: 7,
    }),
  };
}
