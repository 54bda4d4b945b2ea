// Full-ranking retrieval metrics: every item is ranked for every test user (no sampling), each
// user's training items excluded by default. Recall@K = hits / min(K, |test items|); NDCG@K with
// binary gains; HR@K; MAP@K (normalised by min(K, |test items|)); MRR and AUC from the full
// ranking; coverage@K = share of the catalogue that appears in some user's top K. Averages are
// over users with at least one test item (test items also in the user's training set are dropped).
import type { TwoTower } from '../model/twotower.js';
import type { Interactions } from '../data/interactions.js';
import { checkIndices } from '../data/interactions.js';
import { csrFromLists, csrRow, csrSelect, groupByRow } from '../data/csr.js';
import { fail } from '../errors.js';
import { checkBooleans } from '../data/checks.js';
import { Buffers } from '../backend/heap.js';
import { runTopK, uploadItems } from '../rank/scan.js';
import { retrievalItems, retrievalQueries } from '../rank/retrieval.js';

export interface RankingOptions {
  /** Cut-offs. Default [10, 20]. */
  ks?: number[];
  /** Interactions whose items are excluded from each user's ranking (the training data). */
  exclude?: Pick<Interactions, 'users' | 'items'>;
  /** Also exclude each user's training items as the model recorded them (fit(), or a loaded model). Default false. */
  excludeSeen?: boolean;
}

export interface RankingMetrics {
  /** Users with at least one test item. */
  users: number;
  recall: Record<number, number>;
  ndcg: Record<number, number>;
  hitRate: Record<number, number>;
  map: Record<number, number>;
  coverage: Record<number, number>;
  mrr: number;
  auc: number;
}

export function evaluateRanking(
  model: TwoTower,
  test: Pick<Interactions, 'users' | 'items'>,
  options: RankingOptions = {},
): RankingMetrics {
  const ks = options.ks ?? [10, 20];
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1))
    fail('BAD_OPTION', `ks must be positive integers, got ${JSON.stringify(ks)}`);
  checkBooleans(options, 'evaluateRanking: options', ['excludeSeen']);
  model.ensureReady();
  const nu = model.userCount,
    n = model.itemCount;
  checkIndices(test.users, nu, 'test.users', 'user');
  checkIndices(test.items, n, 'test.items', 'item');
  if (options.exclude) {
    checkIndices(options.exclude.users, nu, 'exclude.users', 'user');
    checkIndices(options.exclude.items, n, 'exclude.items', 'item');
  }
  if (options.excludeSeen && !model.seen)
    fail('NO_HISTORY', 'evaluateRanking: excludeSeen needs the training history the model records in fit()');
  const given = options.exclude ? groupByRow(options.exclude.users, options.exclude.items, nu) : null;
  const recorded = options.excludeSeen ? model.seen! : null;
  const seen =
    given && recorded
      ? csrFromLists(
          Array.from({ length: nu }, (_, u) => [...csrRow(given, u), ...csrRow(recorded, u)]),
          true,
        )
      : (given ?? recorded);
  // What each user's ranking skips: their excluded items and the unknown-id row, which stands
  // for no real item.
  const reserved = model.unknownItemRows();
  const skipped =
    reserved.length > 0
      ? csrFromLists(
          Array.from({ length: nu }, (_, u) => [...(seen ? csrRow(seen, u) : []), ...reserved]),
          true,
        )
      : seen;
  const truth = groupByRow(test.users, test.items, nu);
  // Users to evaluate, and their relevant items not in their training set.
  const evalUsers: number[] = [];
  const relevant: number[][] = [];
  for (let u = 0; u < nu; u++) {
    const own = Array.from(csrRow(truth, u));
    const skip = new Set(skipped ? csrRow(skipped, u) : []);
    const kept = own.filter((i) => !skip.has(i));
    if (kept.length > 0) {
      evalUsers.push(u);
      relevant.push(kept);
    }
  }
  if (evalUsers.length === 0) fail('EMPTY_DATA', 'no user has a test item outside their training items');
  const K = Math.max(...ks);
  const be = model.backend;
  const buffers = new Buffers(be);
  const out: RankingMetrics = {
    users: evalUsers.length,
    recall: {},
    ndcg: {},
    hitRate: {},
    map: {},
    coverage: {},
    mrr: 0,
    auc: 0,
  };
  for (const k of ks) {
    out.recall[k] = 0;
    out.ndcg[k] = 0;
    out.hitRate[k] = 0;
    out.map[k] = 0;
  }
  const covered = new Map<number, Set<number>>(ks.map((k) => [k, new Set<number>()]));
  try {
    const chunk = Math.max(1, Math.min(256, Math.floor((8 << 20) / (4 * n))));
    const all = retrievalItems(model);
    const items = uploadItems(be, buffers, all.items, all.dim, false, 'eval.items');
    for (let start = 0; start < evalUsers.length; start += chunk) {
      const users = evalUsers.slice(start, start + chunk);
      const b = users.length;
      const { queries, dim } = retrievalQueries(model, users);
      const exclude = skipped ? csrSelect(skipped, users) : undefined;
      const top = runTopK(be, buffers, queries, items, Math.min(K, n), exclude);
      // Full rows of scores for MRR and AUC.
      const scores = buffers.get('eval.scores', b * n * 4);
      const qPtr = buffers.get('eval.queries', queries.length * 4);
      be.floats(qPtr, queries.length).set(queries);
      be.kernels.score_matrix(scores, qPtr, items.ptr, b, n, dim);
      users.forEach((u, r) => {
        const rel = relevant[start + r]!;
        const relSet = new Set(rel);
        const row = top.indices.subarray(r * Math.min(K, n), (r + 1) * Math.min(K, n));
        for (const k of ks) {
          let hits = 0,
            dcg = 0,
            ap = 0;
          for (let p = 0; p < Math.min(k, row.length); p++) {
            const j = row[p]!;
            if (j < 0) break;
            covered.get(k)!.add(j);
            if (relSet.has(j)) {
              hits++;
              dcg += 1 / Math.log2(p + 2);
              ap += hits / (p + 1);
            }
          }
          const ideal = Math.min(k, rel.length);
          let idcg = 0;
          for (let p = 0; p < ideal; p++) idcg += 1 / Math.log2(p + 2);
          out.recall[k]! += hits / ideal;
          out.ndcg[k]! += dcg / idcg;
          out.hitRate[k]! += hits > 0 ? 1 : 0;
          out.map[k]! += ap / ideal;
        }
        const ex = skipped ? csrRow(skipped, u) : new Int32Array(0);
        const targets = buffers.get('eval.targets', rel.length * 4),
          ranks = buffers.get('eval.ranks', rel.length * 4);
        const exPtr = buffers.get('eval.ex', Math.max(1, ex.length) * 4);
        be.ints(targets, rel.length).set(rel);
        be.ints(exPtr, ex.length).set(ex);
        be.kernels.rank_targets(ranks, scores + r * n * 4, n, targets, rel.length, exPtr, ex.length);
        const rk = Int32Array.from(be.ints(ranks, rel.length)).sort();
        out.mrr += 1 / rk[0]!;
        const negatives = n - ex.length - rel.length;
        if (negatives > 0) {
          // Positive number p (0-based, by rank) has rank − 1 items above it, p of them positives.
          let above = 0;
          rk.forEach((rank, p) => (above += rank - 1 - p));
          out.auc += 1 - above / (rel.length * negatives);
        } else {
          out.auc += 1;
        }
      });
    }
  } finally {
    buffers.free();
  }
  const m = evalUsers.length;
  for (const k of ks) {
    out.recall[k]! /= m;
    out.ndcg[k]! /= m;
    out.hitRate[k]! /= m;
    out.map[k]! /= m;
    out.coverage[k] = covered.get(k)!.size / n;
  }
  out.mrr /= m;
  out.auc /= m;
  return out;
}
