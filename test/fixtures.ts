// A small model that uses every feature kind, hidden layers and all three biases, with data.
import type { TwoTowerConfig } from '../src/index.js';
import type { FeatureTable, TrainEvent } from '../src/index.js';
import { Random } from '../src/util/random.js';

export const USERS = 7;
export const ITEMS = 9;

export function tinyConfig(seed = 3): TwoTowerConfig {
  return {
    dim: 5,
    user: {
      features: [
        { kind: 'id', name: 'user', vocabSize: USERS, dim: 3 },
        { kind: 'categorical', name: 'group', vocabSize: 4, dim: 2 },
        { kind: 'numeric', name: 'score', size: 2 },
        { kind: 'multiHot', name: 'seen', vocabSize: ITEMS, dim: 2, pooling: 'mean', excludeScoredItem: true },
      ],
      hidden: [6, 5],
    },
    item: {
      features: [
        { kind: 'id', name: 'item', vocabSize: ITEMS, dim: 4 },
        { kind: 'multiHot', name: 'tags', vocabSize: 5, dim: 3, pooling: 'mean' },
        { kind: 'multiHot', name: 'words', vocabSize: 6, dim: 2, pooling: 'sum' },
        { kind: 'multiHot', name: 'history', vocabSize: 5, dim: 3, pooling: 'attention' },
      ],
      hidden: [7],
    },
    bias: { global: true, user: true, item: true },
    seed,
    embeddingInitStd: 0.3,
  };
}

export function tinyFeatures(): { userFeatures: FeatureTable; itemFeatures: FeatureTable } {
  const random = new Random(5);
  const tags = {
    offsets: Int32Array.from([0, 1, 3, 3, 4, 6, 7, 8, 10, 11]),
    ids: Int32Array.from([0, 1, 2, 3, 4, 0, 2, 1, 3, 4, 0]),
  };
  const words = {
    offsets: Int32Array.from([0, 2, 3, 4, 4, 5, 7, 8, 9, 10]),
    ids: Int32Array.from([1, 2, 3, 4, 5, 0, 1, 2, 3, 4]),
    weights: Float32Array.from({ length: 10 }, () => 0.5 + random.next()),
  };
  return {
    userFeatures: {
      count: USERS,
      columns: {
        group: Int32Array.from({ length: USERS }, (_, u) => u % 4),
        score: Float32Array.from({ length: USERS * 2 }, () => random.normal()),
        // Each user's "history": items (u, u+1, u+3) mod 9, so scored items are often in it.
        seen: {
          offsets: Int32Array.from({ length: USERS + 1 }, (_, u) => 3 * u),
          ids: Int32Array.from({ length: 3 * USERS }, (_, i) => (Math.floor(i / 3) + [0, 1, 3][i % 3]!) % ITEMS),
        },
      },
    },
    itemFeatures: {
      count: ITEMS,
      columns: { tags, words, history: { offsets: tags.offsets, ids: Int32Array.from(tags.ids).reverse() } },
    },
  };
}

export function tinyBatch(n = 13, seed = 9): { users: Int32Array; items: Int32Array; ratings: Float32Array } {
  const random = new Random(seed);
  return {
    users: Int32Array.from({ length: n }, () => random.int(USERS)),
    items: Int32Array.from({ length: n }, () => random.int(ITEMS)),
    ratings: Float32Array.from({ length: n }, () => 1 + 4 * random.next()),
  };
}

/** Events of `users` users over `items` items, each user drawn to a band of ten items, ratings 1–5, times from t0. */
export function bandEvents(n: number, users: number, items: number, t0: number, seed: number): TrainEvent[] {
  const random = new Random(seed);
  return Array.from({ length: n }, (_, k) => {
    const u = random.int(users);
    return { user: `u${u}`, item: `i${(random.int(10) + u) % items}`, rating: 1 + random.int(5), time: t0 + k };
  });
}
