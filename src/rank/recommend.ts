// Model-level ranking: the top items for users (their training items skipped by default, an
// optional allow-list), and the items most similar to an item (cosine of item embeddings).
import type { TwoTower } from '../model/twotower.js';
import type { FeatureColumn } from '../config/feature-table.js';
import { fail } from '../errors.js';
import { checkIndices } from '../data/interactions.js';
import { checkBooleans } from '../data/checks.js';
import { csrFromLists, csrRow, type Csr } from '../data/csr.js';
import { Buffers } from '../backend/heap.js';
import { featureKind } from '../model/features/index.js';
import { interactionSets } from '../model/interaction-sets.js';
import { SlotKey } from '../model/slots.js';
import { interleaveByDefault, interleaveItems, runTopK, uploadItems, type ItemIndex } from './scan.js';
import { checkK, padRows, type TopKResult } from './topk-result.js';
import { retrievalItems, retrievalQueries, retrievalQueriesFrom } from './retrieval.js';

export interface RecommendOptions {
  /** Items per user. Default 10. */
  k?: number;
  /** Skip the items each user had in training. Default true. */
  excludeSeen?: boolean;
  /** Only these item indices may be recommended. Default: every item. */
  allow?: ArrayLike<number>;
  /** Item indices never recommended (to any user of the call). Default none. */
  exclude?: ArrayLike<number>;
}

/** Top-k items for each user: B×k indices and scores, best first (−1 / −∞ pad short rows). */
export function recommend(model: TwoTower, users: ArrayLike<number>, options: RecommendOptions = {}): TopKResult {
  model.ensureReady();
  if (users.length === 0) fail('EMPTY_DATA', 'recommend: no users given');
  checkIndices(users, model.userCount, 'recommend: users', 'user');
  checkBooleans(options, 'recommend: options', ['excludeSeen']);
  const excludeSeen = options.excludeSeen ?? true;
  if (excludeSeen && !model.seen)
    fail('NO_HISTORY', 'recommend: the model has no training history to exclude; train it with fit() or pass excludeSeen: false');
  const seen = excludeSeen ? Array.from(users, (u) => csrRow(model.seen!, u)) : null;
  const { queries, dim } = retrievalQueries(model, users);
  return rankFor(model, queries, dim, seen, options);
}

export interface HistoryOptions extends RecommendOptions {
  /**
   * The user tower's multi-hot feature over items that holds a user's items. Default: 'history'
   * where the tower has it, else its interaction set over the items (the rating recipe's 'rated').
   */
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
  checkBooleans(options, 'recommendForHistory: options', ['excludeSeen']);
  const name =
    options.feature ??
    (model.config.user.features.some((f) => f.name === 'history')
      ? 'history'
      : (interactionSets(model.config, 'user').find(({ spec }) => spec.vocabSize === model.itemCount)?.spec.name ?? 'history'));
  const spec = model.config.user.features.find((f) => f.name === name);
  if (!spec || spec.kind !== 'multiHot' || spec.vocabSize !== model.itemCount) {
    fail(
      'NO_HISTORY',
      `the user tower has no multi-hot feature "${name}" over the ${model.itemCount} items: train it with one to recommend from a history`,
    );
  }
  histories.forEach((h, r) => checkIndices(h, model.itemCount, `recommendForHistory: histories[${r}]`, 'item'));
  const b = histories.length;
  // Every other feature takes its kind's "nothing known" column (id 0, category 0, empty sets, zeros).
  const columns: Record<string, FeatureColumn> = Object.create(null) as Record<string, FeatureColumn>;
  for (const f of model.config.user.features) {
    const column = f.name === name ? csrFromLists(histories) : featureKind(f).unknownColumn(f, b);
    if (column) columns[f.name] = column;
  }
  const queries = model.embedUsersWith({ count: b, columns });
  const retrieval = retrievalQueriesFrom(model, queries);
  const seen = (options.excludeSeen ?? true) ? histories.map((h) => Int32Array.from(h)) : null;
  return rankFor(model, retrieval.queries, retrieval.dim, seen, options);
}

/**
 * Top-k for query vectors given directly (a personal vector: src/api/personal.ts), u rows × dim
 * (the towers' space), each row skipping its own `seen` items (null: none) and the options'.
 */
export function recommendForVectors(
  model: TwoTower,
  u: Float32Array,
  seen: ArrayLike<number>[] | null,
  options: RecommendOptions = {},
): TopKResult {
  model.ensureReady();
  const retrieval = retrievalQueriesFrom(model, u);
  return rankFor(model, retrieval.queries, retrieval.dim, seen, options);
}

interface CachedIndex {
  index: ItemIndex;
  buffers: Buffers;
  free(): void;
}

/** This module's slot for derived data on a model core (no other layer reads it). */
const ITEM_INDEX = new SlotKey<CachedIndex>('recommend.items');

/**
 * The model's item embeddings (with the bias column) uploaded as a scan index, kept between
 * calls until the model changes (the core's write path drops it): recommend() then embeds only
 * its users. For one user (`lone`), also the interleaved copy the lone-query scan reads
 * (scan.ts's interleaveItems: as much memory again as the items, built at the first lone
 * recommend after a change, dropped with the index), on engines where it pays
 * (interleaveByDefault).
 */
function cachedItemIndex(model: TwoTower, lone = false): ItemIndex {
  const cached = model.derived(ITEM_INDEX, () => {
    const { items, dim } = retrievalItems(model);
    const buffers = new Buffers(model.backend);
    try {
      const index = uploadItems(model.backend, buffers, items, dim, false, 'recommend.items');
      return { index, buffers, free: () => buffers.free() };
    } catch (error) {
      buffers.free();
      throw error;
    }
  });
  if (lone) interleaveItems(model.backend, cached.buffers, cached.index, 'recommend.items');
  return cached.index;
}

/** Ranks all (or the allowed) items for given queries, skipping each row's `seen` items. */
function rankFor(
  model: TwoTower,
  queries: Float32Array,
  dim: number,
  seenLists: ArrayLike<number>[] | null,
  options: RecommendOptions,
): TopKResult {
  const k = options.k ?? 10;
  const users = { length: queries.length / dim };
  checkK(k, users.length, 'recommend');
  if (options.allow !== undefined) checkIndices(options.allow, model.itemCount, 'recommend: allow', 'item');
  // An allow-list names each item once, however often it is given.
  const allow = options.allow ? Int32Array.from(new Set(Array.from(options.allow))) : null;
  if (allow && allow.length === 0) fail('EMPTY_DATA', 'recommend: the allow list is empty');
  // Restricted to an allow-list: score only those rows, then map positions back to item indices.
  let items: Float32Array | null = null;
  const position = new Map<number, number>();
  if (allow) {
    const all = retrievalItems(model).items;
    const subset = new Float32Array(allow.length * dim);
    allow.forEach((item, p) => {
      subset.set(all.subarray(item * dim, item * dim + dim), p * dim);
      position.set(item, p);
    });
    items = subset;
  }
  const n = allow ? allow.length : model.itemCount;
  // Each row's skipped items — its seen items and the unknown-id row — as scan positions (item
  // indices, or positions in the allow-list), sorted.
  if (options.exclude !== undefined) checkIndices(options.exclude, model.itemCount, 'recommend: exclude', 'item');
  const reserved = [...model.unknownItemRows(), ...Array.from(options.exclude ?? [])];
  const skipped = (list: ArrayLike<number>) => [...Array.from(list), ...reserved];
  const lists = (seenLists ?? Array.from({ length: users.length }, () => [])).map(skipped);
  const exclude: Csr | undefined =
    seenLists || reserved.length > 0
      ? csrFromLists(
          lists.map((list) => (allow ? list.filter((i) => position.has(i)).map((i) => position.get(i)!) : list)),
          true,
        )
      : undefined;
  const buffers = new Buffers(model.backend);
  try {
    const index = items
      ? uploadItems(model.backend, buffers, items, dim, false)
      : cachedItemIndex(model, users.length === 1 && interleaveByDefault());
    const kk = Math.min(k, n);
    const result = runTopK(model.backend, buffers, queries, index, kk, exclude);
    return padRows(result.indices, result.scores, users.length, kk, k, allow ? (j) => allow[j]! : undefined);
  } finally {
    buffers.free();
  }
}

/** The k items whose embeddings have the highest cosine similarity with `item`'s (itself excluded). */
export function similarItems(model: TwoTower, item: number, k = 10): TopKResult {
  checkK(k, 1, 'similarItems');
  model.ensureReady();
  checkIndices([item], model.itemCount, 'similarItems: item', 'item');
  const d = model.dim,
    n = model.itemCount;
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
    const skip = csrFromLists([[item, ...model.unknownItemRows()]], true);
    const kk = Math.min(k, n - skip.ids.length);
    if (kk < 1) return padRows([], [], 1, 0, k);
    const r = runTopK(model.backend, buffers, query, index, kk, skip);
    return padRows(r.indices, r.scores, 1, kk, k);
  } finally {
    buffers.free();
  }
}
