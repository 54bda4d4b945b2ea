// Scoring queries against items by dot product. The fused score + top-k kernel joins this file.

import { gemm_nt } from "./gemm";

/** S[b×n] = Q[b×d]·Itemsᵀ (Items is [n×d]). */
export function score_matrix(s: usize, q: usize, items: usize, b: i32, n: i32, d: i32): void {
  gemm_nt(s, q, items, b, n, d, n, false);
}
