// The interaction graph's columns for tied pooling (graph-aware towers, LightGCN's propagation,
// He et al. 2020): with the bipartite user–item graph of distinct training pairs and its
// symmetric normalisation w_ui = 1/√(|N(u)|·|N(i)|),
//   - one hop: each user's items and each item's users, weighted w_ui (a tied interaction set
//     pooled with 'sum' gives Σ_{i∈N(u)} w_ui e_i from the other tower's own id table);
//   - two hops: each user's users reachable through an item, u → u' weighted Σ_i w_ui w_iu'
//     (the user row of Â², itself included), and the same for items; pooled from the entity's
//     own side's id table (a tied set with tokens: 'self').
// These are plain feature columns (MultiHotColumn): a recipe builds them from the training
// interactions and hands them to the towers' feature tables.
import type { MultiHotColumn } from '../config/feature-table.js';
import { groupByRow, type Csr } from './csr.js';
import { fail } from '../errors.js';

export interface GraphColumnsOptions {
  /** Also build the two-hop columns (users → users, items → items). Default false. */
  twoHop?: boolean;
  /** Keep only each entity's `twoHopLimit` heaviest two-hop neighbours (ties: lower row first). Default: all. */
  twoHopLimit?: number;
}

export interface GraphColumns {
  /** Each user's items (sorted), weighted 1/√(|N(u)|·|N(i)|): a user tower's tied one-hop set. */
  userItems: MultiHotColumn;
  /** Each item's users (sorted), with the same weights: an item tower's tied one-hop set. */
  itemUsers: MultiHotColumn;
  /** Each user's two-hop users u' (sorted), weighted Σ_i w_ui·w_iu' (with twoHop). */
  userUsers?: MultiHotColumn;
  /** Each item's two-hop items, weighted Σ_u w_iu·w_ui' (with twoHop). */
  itemItems?: MultiHotColumn;
}

/** The one-hop column of a side's rows over the other side's, each token weighted 1/√(n_row·n_token). */
function oneHop(rows: Csr, degree: Int32Array): MultiHotColumn {
  const weights = new Float32Array(rows.ids.length);
  for (let r = 0; r + 1 < rows.offsets.length; r++) {
    const n = rows.offsets[r + 1]! - rows.offsets[r]!;
    for (let q = rows.offsets[r]!; q < rows.offsets[r + 1]!; q++) weights[q] = 1 / Math.sqrt(n * degree[rows.ids[q]!]!);
  }
  return { offsets: rows.offsets, ids: rows.ids, weights };
}

/** Rows → rows through the other side: row r's tokens t with Σ over shared neighbours of the two weights (f64 sums). */
function twoHop(forward: MultiHotColumn, back: MultiHotColumn, count: number, limit: number): MultiHotColumn {
  const acc = new Float64Array(count);
  const stamp = new Int32Array(count).fill(-1);
  const lists: { ids: number[]; weights: number[] }[] = [];
  for (let r = 0; r < count; r++) {
    const touched: number[] = [];
    for (let q = forward.offsets[r]!; q < forward.offsets[r + 1]!; q++) {
      const via = forward.ids[q]!;
      const w = forward.weights![q]!;
      for (let p = back.offsets[via]!; p < back.offsets[via + 1]!; p++) {
        const t = back.ids[p]!;
        if (stamp[t] !== r) {
          stamp[t] = r;
          acc[t] = 0;
          touched.push(t);
        }
        acc[t]! += w * back.weights![p]!;
      }
    }
    let kept = touched;
    if (kept.length > limit) kept = [...kept].sort((a, b) => acc[b]! - acc[a]! || a - b).slice(0, limit);
    kept.sort((a, b) => a - b);
    lists.push({ ids: kept, weights: kept.map((t) => acc[t]!) });
  }
  const offsets = new Int32Array(count + 1);
  lists.forEach((l, r) => (offsets[r + 1] = offsets[r]! + l.ids.length));
  const ids = new Int32Array(offsets[count]!);
  const weights = new Float32Array(offsets[count]!);
  lists.forEach((l, r) => {
    ids.set(l.ids, offsets[r]!);
    weights.set(l.weights, offsets[r]!);
  });
  return { offsets, ids, weights };
}

/**
 * LightGCN-normalised columns of the graph of `data`'s distinct (user, item) pairs (repeats count
 * once), for `users` × `items` rows. An entity without interactions gets an empty set.
 */
export function graphColumns(
  data: { users: ArrayLike<number>; items: ArrayLike<number> },
  counts: { users: number; items: number },
  options: GraphColumnsOptions = {},
): GraphColumns {
  const { users, items } = data;
  if (users.length !== items.length) fail('BAD_INPUT', `graphColumns: ${users.length} users but ${items.length} items`);
  for (let i = 0; i < users.length; i++) {
    const [u, v] = [users[i]!, items[i]!];
    if (!(Number.isInteger(u) && u >= 0 && u < counts.users && Number.isInteger(v) && v >= 0 && v < counts.items))
      fail(
        'BAD_INPUT',
        `graphColumns: interaction ${i} (user ${u}, item ${v}) is outside ${counts.users} users × ${counts.items} items`,
      );
  }
  const limit = options.twoHopLimit ?? Infinity;
  if (!(limit === Infinity || (Number.isInteger(limit) && limit > 0)))
    fail('BAD_OPTION', `graphColumns: twoHopLimit must be a positive integer, got ${limit}`);
  const byUser = groupByRow(users, items, counts.users);
  const byItem = groupByRow(items, users, counts.items);
  const degree = (c: Csr) => Int32Array.from({ length: c.offsets.length - 1 }, (_, r) => c.offsets[r + 1]! - c.offsets[r]!);
  const userItems = oneHop(byUser, degree(byItem));
  const itemUsers = oneHop(byItem, degree(byUser));
  if (!options.twoHop) return { userItems, itemUsers };
  return {
    userItems,
    itemUsers,
    userUsers: twoHop(userItems, itemUsers, counts.users, limit),
    itemItems: twoHop(itemUsers, userItems, counts.items, limit),
  };
}
