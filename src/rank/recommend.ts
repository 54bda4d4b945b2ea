// Model-level ranking: the top items for users (their training items skipped by default, an
// optional allow-list), and the items most similar to an item (cosine of item embeddings).
import type { TwoTower } from '../model/twotower.js';
import { fail } from '../errors.js';
import { checkIndices } from '../data/interactions.js';
import { Buffers } from './buffers.js';
import { runTopK, uploadItems, type TopKResult } from './scorer.js';
import { retrievalEmbeddings } from '../eval/ranking.js';

export interface RecommendOptions {
  /** Items per user. Default 10. */
  k?: number;
  /** Skip the items each user had in training. Default true. */
  excludeSeen?: boolean;
  /** Only these item indices may be recommended. Default: every item. */
  allow?: ArrayLike<number>;
}

/** Top-k items for each user: B×k indices and scores, best first (−1 / −∞ pad short rows). */
export function recommend(model: TwoTower, users: ArrayLike<number>, options: RecommendOptions = {}): TopKResult {
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1) fail('BAD_INPUT', `k must be an integer ≥ 1, got ${k}`);
  model.ensureReady();
  if (users.length === 0) fail('EMPTY_DATA', 'recommend: no users given');
  checkIndices(users, model.userCount, 'recommend: users', 'user');
  const excludeSeen = options.excludeSeen ?? true;
  if (excludeSeen && !model.seen) fail('NO_HISTORY', 'recommend: the model has no training history to exclude; train it with fit() or pass excludeSeen: false');
  const allow = options.allow ? Int32Array.from(options.allow) : null;
  if (allow) {
    checkIndices(allow, model.itemCount, 'recommend: allow', 'item');
    if (allow.length === 0) fail('EMPTY_DATA', 'recommend: the allow list is empty');
  }
  const { queries, items: all, dim } = retrievalEmbeddings(model, users);
  // Restricted to an allow-list: score only those rows, then map positions back to item indices.
  let items = all;
  const position = new Map<number, number>();
  if (allow) {
    items = new Float32Array(allow.length * dim);
    allow.forEach((item, p) => { items.set(all.subarray(item * dim, item * dim + dim), p * dim); position.set(item, p); });
  }
  const n = items.length / dim;
  let exclude;
  if (excludeSeen) {
    const offsets = new Int32Array(users.length + 1);
    const ids: number[] = [];
    for (let r = 0; r < users.length; r++) {
      const u = users[r]!;
      for (const item of model.seen!.ids.subarray(model.seen!.offsets[u]!, model.seen!.offsets[u + 1]!)) {
        if (!allow) ids.push(item);
        else if (position.has(item)) ids.push(position.get(item)!);
      }
      offsets[r + 1] = ids.length;
      if (allow) ids.splice(offsets[r]!, ids.length - offsets[r]!, ...ids.slice(offsets[r]!).sort((a, b) => a - b));
    }
    exclude = { offsets, ids: Int32Array.from(ids) };
  }
  const buffers = new Buffers(model.backend);
  try {
    const index = uploadItems(model.backend, buffers, items, dim, false);
    const result = runTopK(model.backend, buffers, queries, index, Math.min(k, n), exclude);
    const b = users.length;
    const out = { indices: new Int32Array(b * k).fill(-1), scores: new Float32Array(b * k).fill(-Infinity) };
    const kk = Math.min(k, n);
    for (let r = 0; r < b; r++) {
      for (let c = 0; c < kk; c++) {
        const j = result.indices[r * kk + c]!;
        out.indices[r * k + c] = j < 0 ? -1 : allow ? allow[j]! : j;
        out.scores[r * k + c] = result.scores[r * kk + c]!;
      }
    }
    return out;
  } finally {
    buffers.free();
  }
}

/** The k items whose embeddings have the highest cosine similarity with `item`'s (itself excluded). */
export function similarItems(model: TwoTower, item: number, k = 10): TopKResult {
  if (!Number.isInteger(k) || k < 1) fail('BAD_INPUT', `k must be an integer ≥ 1, got ${k}`);
  model.ensureReady();
  checkIndices([item], model.itemCount, 'similarItems: item', 'item');
  const d = model.dim, n = model.itemCount;
  const v = model.itemEmbeddings();
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let c = 0; c < d; c++) norm += v[j * d + c]! ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < d; c++) v[j * d + c]! *= inv;
  }
  const buffers = new Buffers(model.backend);
  try {
    const index = uploadItems(model.backend, buffers, v, d, false);
    const query = v.slice(item * d, item * d + d);
    const kk = Math.min(k, n - 1);
    if (kk < 1) return { indices: new Int32Array(k).fill(-1), scores: new Float32Array(k).fill(-Infinity) };
    const r = runTopK(model.backend, buffers, query, index, kk, { offsets: Int32Array.of(0, 1), ids: Int32Array.of(item) });
    const out = { indices: new Int32Array(k).fill(-1), scores: new Float32Array(k).fill(-Infinity) };
    out.indices.set(r.indices);
    out.scores.set(r.scores);
    return out;
  } finally {
    buffers.free();
  }
}
