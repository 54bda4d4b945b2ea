// Retrieval as pure dot products: a model's scores become ⟨query, item row⟩ where the query is
// u (or [u, 1]) and the item row v (or [v, b_item]), so that the item bias rides along in the
// scan. Shared by recommend, evaluation and (later) exports.
import type { TwoTower } from '../model/twotower.js';

/** Rows of width d copied into rows of width d + 1 whose last column is last(r). */
function widen(rows: Float32Array, d: number, last: (r: number) => number): Float32Array {
  const n = rows.length / d,
    out = new Float32Array(n * (d + 1));
  for (let r = 0; r < n; r++) {
    out.set(rows.subarray(r * d, r * d + d), r * (d + 1));
    out[r * (d + 1) + d] = last(r);
  }
  return out;
}

/** Queries from user embeddings u (n×dim): u itself, or [u, 1] when the model has item biases. */
export function retrievalQueriesFrom(core: TwoTower, u: Float32Array): { queries: Float32Array; dim: number } {
  return core.bias.item ? { queries: widen(u, core.dim, () => 1), dim: core.dim + 1 } : { queries: u, dim: core.dim };
}

/** The given users' retrieval queries. */
export function retrievalQueries(core: TwoTower, users: ArrayLike<number>): { queries: Float32Array; dim: number } {
  return retrievalQueriesFrom(core, core.userEmbeddings(users));
}

/** Every item's retrieval row: v, or [v, b_item]. */
export function retrievalItems(core: TwoTower): { items: Float32Array; dim: number } {
  const v = core.itemEmbeddings();
  if (!core.bias.item) return { items: v, dim: core.dim };
  const bias = core.store.values(core.bias.item);
  return { items: widen(v, core.dim, (j) => bias[j]!), dim: core.dim + 1 };
}
