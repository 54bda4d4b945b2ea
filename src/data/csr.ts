// Compressed sparse rows: row r owns ids[offsets[r] … offsets[r+1]). The one place the package
// builds them (training histories, exclusion lists, multi-hot columns, evaluation ground truth).
import { fail } from '../errors.js';

export interface Csr {
  offsets: Int32Array;
  ids: Int32Array;
}

/** Row r's ids (a view, not a copy). */
export function csrRow(csr: Csr, r: number): Int32Array {
  return csr.ids.subarray(csr.offsets[r]!, csr.offsets[r + 1]!);
}

/** Rows from lists, in order; with `sortUnique`, each row's ids sorted ascending without repeats. */
export function csrFromLists(lists: readonly ArrayLike<number>[], sortUnique = false): Csr {
  const rows = sortUnique ? lists.map((l) => Int32Array.from(new Set(Array.from(l))).sort()) : lists;
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((l, r) => (offsets[r + 1] = offsets[r]! + l.length));
  const ids = new Int32Array(offsets[rows.length]!);
  rows.forEach((l, r) => ids.set(l, offsets[r]!));
  return { offsets, ids };
}

/**
 * Per-row sorted unique id lists from parallel (row, id) arrays, rows in [0, rowCount): counted,
 * placed, then (only when some row has several ids) each row sorted and its repeats dropped in
 * place. Typed arrays only: a million rows with few pairs cost a few passes over the offsets.
 */
export function groupByRow(rows: ArrayLike<number>, ids: ArrayLike<number>, rowCount: number): Csr {
  const n = rows.length;
  // offsets[r] counts row r, then (inclusive prefix sums) ends it, then (placing backwards) starts it.
  const offsets = new Int32Array(rowCount + 1);
  for (let i = 0; i < n; i++) offsets[rows[i]!]! += 1;
  let several = false;
  for (let r = 0, end = 0; r < rowCount; r++) {
    if (offsets[r]! > 1) several = true;
    offsets[r] = end += offsets[r]!;
  }
  const all = new Int32Array(n);
  for (let i = n - 1; i >= 0; i--) all[--offsets[rows[i]!]!] = ids[i]!;
  offsets[rowCount] = n;
  if (!several) return { offsets, ids: all };
  let w = 0;
  for (let r = 0; r < rowCount; r++) {
    const a = offsets[r]!,
      b = offsets[r + 1]!;
    offsets[r] = w;
    if (b - a > 1) all.subarray(a, b).sort();
    for (let i = a; i < b; i++) if (i === a || all[i] !== all[w - 1]) all[w++] = all[i]!;
  }
  offsets[rowCount] = w;
  return { offsets, ids: w === n ? all : all.slice(0, w) };
}

/** Values grouped by their row key, in input order within each row (repeats kept), rows in [0, rowCount). */
export function csrGroup(keys: ArrayLike<number>, values: ArrayLike<number>, rowCount: number): Csr {
  const offsets = new Int32Array(rowCount + 1);
  for (let i = 0; i < keys.length; i++) offsets[keys[i]! + 1]! += 1;
  for (let r = 0; r < rowCount; r++) offsets[r + 1]! += offsets[r]!;
  const ids = new Int32Array(keys.length);
  const fill = offsets.slice(0, rowCount);
  for (let i = 0; i < keys.length; i++) ids[fill[keys[i]!]!++] = values[i]!;
  return { offsets, ids };
}

/** The rows `picked` of a CSR, in that order (each row copied as is). */
export function csrSelect(csr: Csr, picked: ArrayLike<number>): Csr {
  return csrFromLists(Array.from(picked, (r) => csrRow(csr, r)));
}

/** Is `id` in row r? The row must be sorted ascending (binary search). */
export function csrHas(csr: Csr, r: number, id: number): boolean {
  let lo = csr.offsets[r]!,
    hi = csr.offsets[r + 1]!;
  const end = hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (csr.ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < end && csr.ids[lo] === id;
}

/** A per-user list of item indices: offsets from 0, non-decreasing, ending at ids.length; ids in range. */
export function checkCsr(offsets: Int32Array, ids: Int32Array, rows: number, limit: number, where: string): void {
  if (offsets.length !== rows + 1) fail('DIMENSION_MISMATCH', `${where}.offsets has ${offsets.length} entries for ${rows} users`);
  if (offsets[0] !== 0 || offsets[rows] !== ids.length) fail('BAD_INPUT', `${where}.offsets must run from 0 to ${ids.length}`);
  for (let r = 0; r < rows; r++) if (offsets[r + 1]! < offsets[r]!) fail('BAD_INPUT', `${where}.offsets decrease at ${r + 1}`);
  for (let i = 0; i < ids.length; i++)
    if (ids[i]! < 0 || ids[i]! >= limit) fail('OUT_OF_RANGE', `${where}.ids[${i}] = ${ids[i]} is not an item index`);
  for (let r = 0; r < rows; r++) {
    for (let i = offsets[r]! + 1; i < offsets[r + 1]!; i++)
      if (ids[i]! <= ids[i - 1]!) fail('BAD_INPUT', `${where}: user ${r}'s items are not sorted and unique`);
  }
}
