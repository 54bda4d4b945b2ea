// Model-level ranking: the top items for users (their training items skipped by default, an
// optional allow-list), and the items most similar to an item (cosine of item embeddings).
import type { TwoTower } from '../model/twotower.js';
import { fail } from '../errors.js';
import { checkIndices } from '../data/interactions.js';
import { Buffers } from './buffers.js';
import { runTopK, uploadItems, type TopKResult, type ItemIndex } from './scorer.js';
import { retrievalItems, retrievalQueries, retrievalQueriesFrom } from '../eval/ranking.js';

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
  model.ensureReady();
  if (users.length === 0) fail('EMPTY_DATA', 'recommend: no users given');
  checkIndices(users, model.userCount, 'recommend: users', 'user');
  const excludeSeen = options.excludeSeen ?? true;
  if (excludeSeen && !model.seen) fail('NO_HISTORY', 'recommend: the model has no training history to exclude; train it with fit() or pass excludeSeen: false');
  const seen = excludeSeen
    ? Array.from(users, (u) => model.seen!.ids.subarray(model.seen!.offsets[u]!, model.seen!.offsets[u + 1]!)) : null;
  const { queries, dim } = retrievalQueries(model, users);
  return rankFor(model, queries, dim, seen, options);
}

export interface HistoryOptions extends RecommendOptions {
  /** The user tower's multi-hot feature over items that holds a user's history. Default 'history'. */
  feature?: string;
}

/**
 * Cold start: recommendations for users who are not in the model, from the items they
 * interacted with. Each user is embedded with the id embedding of index 0 (the unknown user in
 * vocabularies built by twotower) and the given item list as the history feature; other user
 * features take their "missing" values. Their own items are skipped unless excludeSeen: false.
 */
export function recommendForHistory(model: TwoTower, histories: ArrayLike<number>[], options: HistoryOptions = {}): TopKResult {
  model.ensureReady();
  if (histories.length === 0) fail('EMPTY_DATA', 'recommendForHistory: no users given');
  const name = options.feature ?? 'history';
  const spec = model.config.user.features.find((f) => f.name === name);
  if (!spec || spec.kind !== 'multiHot' || spec.vocabSize !== model.itemCount) {
    fail('NO_HISTORY', `the user tower has no multi-hot feature "${name}" over the ${model.itemCount} items: train it with one to recommend from a history`);
  }
  histories.forEach((h, r) => checkIndices(h, model.itemCount, `recommendForHistory: histories[${r}]`, 'item'));
  const b = histories.length;
  const columns: Record<string, Int32Array | Float32Array | { offsets: Int32Array; ids: Int32Array }> = {};
  for (const f of model.config.user.features) {
    if (f.kind === 'id') columns[f.name] = new Int32Array(b);
    else if (f.kind === 'categorical') columns[f.name] = new Int32Array(b);
    else if (f.kind === 'numeric') columns[f.name] = new Float32Array(b * f.size);
    else {
      const lists = f.name === name ? histories.map((h) => Array.from(h)) : histories.map(() => []);
      const offsets = new Int32Array(b + 1);
      lists.forEach((l, r) => (offsets[r + 1] = offsets[r]! + l.length));
      columns[f.name] = { offsets, ids: Int32Array.from(lists.flat()) };
    }
  }
  const queries = model.embedUsersWith({ count: b, columns });
  const retrieval = retrievalQueriesFrom(model, queries);
  const seen = (options.excludeSeen ?? true) ? histories.map((h) => Int32Array.from(h)) : null;
  return rankFor(model, retrieval.queries, retrieval.dim, seen, options);
}

interface CachedIndex { revision: number; buffers: Buffers; index: ItemIndex; free(): void }

/**
 * The model's item embeddings (with the bias column) uploaded as a scan index, kept between
 * calls until the model changes (model.revision): recommend() then embeds only its users.
 */
function cachedItemIndex(model: TwoTower): ItemIndex {
  const have = model.caches.get('recommend.items') as CachedIndex | undefined;
  if (have && have.revision === model.revision) return have.index;
  have?.free();
  const { items, dim } = retrievalItems(model);
  const buffers = new Buffers(model.backend);
  const index = uploadItems(model.backend, buffers, items, dim, false, 'recommend.items');
  const entry: CachedIndex = { revision: model.revision, buffers, index, free: () => buffers.free() };
  model.caches.set('recommend.items', entry);
  return index;
}

/** Ranks all (or the allowed) items for given queries, skipping each row's `seen` items. */
function rankFor(model: TwoTower, queries: Float32Array, dim: number, seenLists: ArrayLike<number>[] | null,
                 options: RecommendOptions): TopKResult {
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1) fail('BAD_INPUT', `k must be an integer ≥ 1, got ${k}`);
  const allow = options.allow ? Int32Array.from(options.allow) : null;
  if (allow) {
    checkIndices(allow, model.itemCount, 'recommend: allow', 'item');
    if (allow.length === 0) fail('EMPTY_DATA', 'recommend: the allow list is empty');
  }
  const users = { length: queries.length / dim };
  // Restricted to an allow-list: score only those rows, then map positions back to item indices.
  let items: Float32Array | null = null;
  const position = new Map<number, number>();
  if (allow) {
    const all = retrievalItems(model).items;
    const subset = new Float32Array(allow.length * dim);
    allow.forEach((item, p) => { subset.set(all.subarray(item * dim, item * dim + dim), p * dim); position.set(item, p); });
    items = subset;
  }
  const n = allow ? allow.length : model.itemCount;
  let exclude;
  if (seenLists) {
    const offsets = new Int32Array(users.length + 1);
    const ids: number[] = [];
    for (let r = 0; r < users.length; r++) {
      const before = ids.length;
      for (const item of [...new Set(Array.from(seenLists[r]!))].sort((a, b) => a - b)) {
        if (!allow) ids.push(item);
        else if (position.has(item)) ids.push(position.get(item)!);
      }
      offsets[r + 1] = ids.length;
      if (allow) ids.splice(before, ids.length - before, ...ids.slice(before).sort((a, b) => a - b));
    }
    exclude = { offsets, ids: Int32Array.from(ids) };
  }
  const buffers = new Buffers(model.backend);
  try {
    const index = items ? uploadItems(model.backend, buffers, items, dim, false) : cachedItemIndex(model);
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
