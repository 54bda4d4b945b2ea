// model.rows: the id verbs of Model over row indices (for power users), with the same names
// (recommend, recommendFromHistory, similarItems, predict, evaluate) and results as the rank and
// eval layers give them. Also the one-time warning of Model's deprecated row-index names.
import type { Interactions } from '../data/interactions.js';
import type { TwoTower } from '../model/twotower.js';
import { rmse, mae } from '../eval/regression.js';
import { evaluateRanking, type RankingOptions, type RankingMetrics } from '../eval/ranking.js';
import { recommend, similarItems, recommendForHistory, type RecommendOptions, type HistoryOptions } from '../rank/recommend.js';
import type { TopKResult } from '../rank/topk-result.js';
import { warnDeprecated } from '../util/deprecation.js';

/** Model's verbs over row indices (`model.rows`): the same names as the id verbs, rows in and out. */
export interface ModelRows {
  /** Top-k item rows for each user row (training items skipped unless excludeSeen: false). */
  recommend(users: ArrayLike<number>, options?: RecommendOptions): TopKResult;
  /** Cold start: top-k item rows for users not in the model, from the item rows each interacted with. */
  recommendFromHistory(histories: ArrayLike<number>[], options?: HistoryOptions): TopKResult;
  /** The k (default 10) item rows most similar to item row `item` by the cosine of their embeddings. */
  similarItems(item: number, options?: { k?: number }): TopKResult;
  /** Scores (user, item) row pairs: ⟨u, v⟩ plus the configured biases (the predicted rating). */
  predict(users: ArrayLike<number>, items: ArrayLike<number>): Float32Array;
  /** RMSE and MAE of predict() against the given ratings (rows). */
  evaluate(data: Interactions): { rmse: number; mae: number };
  /** Full-ranking metrics (Recall, NDCG, HR, MAP @K, MRR, AUC, coverage); see RankingOptions. */
  evaluateRanking(test: Pick<Interactions, 'users' | 'items'>, options?: RankingOptions): RankingMetrics;
  /** Embeddings of the given user rows (default: all), n×dim row-major. */
  userEmbeddings(users?: ArrayLike<number>): Float32Array;
  /** Embeddings of the given item rows (default: all), n×dim row-major. */
  itemEmbeddings(items?: ArrayLike<number>): Float32Array;
}

/** The row verbs of the model whose current core `core()` gives (it changes when the model grows). */
export function modelRows(core: () => TwoTower): ModelRows {
  const rows: ModelRows = {
    recommend: (users, options = {}) => recommend(core(), users, options),
    recommendFromHistory: (histories, options = {}) => recommendForHistory(core(), histories, options),
    similarItems: (item, options = {}) => similarItems(core(), item, options?.k ?? 10),
    predict: (users, items) => core().predict(users, items),
    evaluate: (data) => {
      const predictions = rows.predict(data.users, data.items);
      return { rmse: rmse(predictions, data.ratings), mae: mae(predictions, data.ratings) };
    },
    evaluateRanking: (test, options = {}) => evaluateRanking(core(), test, options),
    userEmbeddings: (users) => core().userEmbeddings(users),
    itemEmbeddings: (items) => core().itemEmbeddings(items),
  };
  return Object.freeze(rows);
}

/** Warns once per process (or page) that Model's `name` is deprecated for model.rows.`replacement`; gives `rows`. */
export function deprecated(name: string, replacement: keyof ModelRows, rows: ModelRows): ModelRows {
  warnDeprecated(`model.${name}()`, `use model.rows.${replacement}()`);
  return rows;
}
