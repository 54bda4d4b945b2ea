// The f64 twins of assembly/ease.ts (EASE, Steck 2019): the Gram matrix from CSR rows, the
// inverse of a symmetric positive-definite matrix (the textbook Cholesky, then the inverse
// solved column by column), and P → B. Plain loops, no blocking: a second opinion, not a copy.

/** G[a·m + b] += x_a·x_b for every ordered pair of entries of each CSR row (weights null: 1 each). */
export function easeGram(
  G: Float64Array,
  offsets: Int32Array,
  ids: Int32Array,
  weights: Float64Array | null,
  n: number,
  m: number,
): void {
  for (let u = 0; u < n; u++) {
    for (let p = offsets[u]!; p < offsets[u + 1]!; p++) {
      const a = ids[p]!;
      const wa = weights ? weights[p]! : 1;
      for (let q = offsets[u]!; q < offsets[u + 1]!; q++) G[a * m + ids[q]!]! += wa * (weights ? weights[q]! : 1);
    }
  }
}

/**
 * A ← (A + shift·I)⁻¹ in place (n×n, row-major; only the lower triangle of A is read). Returns 0,
 * or i + 1 when the i-th Cholesky pivot is not positive.
 */
export function spdInverse(A: Float64Array, n: number, shift: number): number {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]! + (i === j ? shift : 0);
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) return i + 1;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j]!;
    }
  }
  // Column c of the inverse: solve L y = e_c, then Lᵀ x = y.
  const y = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
      y[i] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * A[k * n + c]!;
      A[i * n + c] = s / L[i * n + i]!;
    }
  }
  return 0;
}

/** B_ij = −P_ij / P_jj (i ≠ j), B_ii = 0, in place over P (m×m). */
export function easeWeights(P: Float64Array, m: number): void {
  const diagonal = Float64Array.from({ length: m }, (_, j) => P[j * m + j]!);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) P[i * m + j] = i === j ? 0 : -P[i * m + j]! / diagonal[j]!;
}

/** B_ij = δ_ij − P_ij·Λ_j (DLAE), in place over P (m×m), Λ the per-item penalty. */
export function dlaeWeights(P: Float64Array, penalty: Float64Array, m: number): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) P[i * m + j] = (i === j ? 1 : 0) - P[i * m + j]! * penalty[j]!;
}
