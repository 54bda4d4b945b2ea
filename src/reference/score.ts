// Reference twin of the fused score + top-k kernel (assembly/score.ts): every score computed, the
// excluded items dropped, a full sort by (score descending, index ascending), the first k kept,
// short rows padded with index −1 and score −∞. Also the twins of quantisation
// (assembly/quantize.ts) and of the int8 scan's approximate score (assembly/score-int8.ts).
import type { Floats } from '../backend/contract.js';

export function scoreTopK(
  outIdx: Int32Array,
  outScore: Floats,
  queries: Floats,
  items: Floats,
  b: number,
  n: number,
  d: number,
  k: number,
  exOffsets: Int32Array | null,
  exIds: Int32Array | null,
): void {
  for (let q = 0; q < b; q++) {
    const skip = new Set(exOffsets ? Array.from(exIds!.subarray(exOffsets[q]!, exOffsets[q + 1]!)) : []);
    const scored: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (skip.has(j)) continue;
      let s = 0;
      for (let c = 0; c < d; c++) s += queries[q * d + c]! * items[j * d + c]!;
      scored.push([Math.fround(s), j]);
    }
    scored.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
    for (let c = 0; c < k; c++) {
      outIdx[q * k + c] = c < scored.length ? scored[c]![1] : -1;
      outScore[q * k + c] = c < scored.length ? scored[c]![0] : -Infinity;
    }
  }
}

/**
 * The kernel's three-call protocol over the same memory layout, for the reference backend:
 * rows hold (while scanning) up to k entries in any order, `counts` how many.
 */
export function topkAccumulate(
  outIdx: Int32Array,
  outScore: Floats,
  counts: Int32Array,
  q: number,
  k: number,
  candidates: [number, number][],
): void {
  const kept: [number, number][] = [];
  for (let c = 0; c < counts[q]!; c++) kept.push([outScore[q * k + c]!, outIdx[q * k + c]!]);
  kept.push(...candidates);
  kept.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  const n = Math.min(k, kept.length);
  for (let c = 0; c < n; c++) {
    outScore[q * k + c] = kept[c]![0];
    outIdx[q * k + c] = kept[c]![1];
  }
  counts[q] = n;
}

/**
 * Twin of quantize_rows_i8 (and of quantize_items_i8): per-row scale max|x|/limit (1 for a zero
 * row), round half to even, plus offset: limit 127 and offset 0 for plain rows, 63 and 64 for
 * 7-bit rows.
 */
export function quantizeRowsI8(
  out: Int8Array,
  scales: Float32Array,
  x: Floats,
  n: number,
  d: number,
  dPad: number,
  limit = 127,
  offset = 0,
): void {
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let c = 0; c < d; c++) m = Math.max(m, Math.abs(x[r * d + c]!));
    const scale = m > 0 ? Math.fround(Math.fround(m) / limit) : 1;
    scales[r] = scale;
    const inv = Math.fround(1 / scale);
    for (let c = 0; c < dPad; c++) out[r * dPad + c] = (c < d ? roundHalfEven(Math.fround(x[r * d + c]! * inv)) : 0) + offset;
  }
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Twin of the int8 approximate score: qs·is·⟨qq, iq − offset⟩ (exact integer dot; offset 64 for 7-bit rows). */
export function approximateScore(
  qq: Int8Array,
  qs: number,
  iq: Int8Array,
  is: number,
  dPad: number,
  q: number,
  j: number,
  offset = 0,
): number {
  let dot = 0;
  for (let c = 0; c < dPad; c++) dot += qq[q * dPad + c]! * (iq[j * dPad + c]! - offset);
  return Math.fround(Math.fround(qs * is) * dot);
}

/** Twin of rank_targets. */
export function rankTargets(
  ranks: Int32Array,
  s: Floats,
  n: number,
  targets: Int32Array,
  m: number,
  exIds: Int32Array,
  e: number,
): void {
  const excluded = new Set(Array.from(exIds.subarray(0, e)));
  for (let c = 0; c < m; c++) {
    const t = targets[c]!;
    let count = 0;
    for (let j = 0; j < n; j++) {
      if (j === t || excluded.has(j)) continue;
      if (s[j]! > s[t]! || (s[j] === s[t] && j < t)) count++;
    }
    ranks[c] = count + 1;
  }
}

/**
 * Twin of interleave_items (assembly/score-interleaved.ts): items in blocks of eight, each block
 * column by column, the eight items' values of a column side by side; the last block padded
 * with zeros. `out` holds ⌈n/8⌉·8·d values.
 */
export function interleaveItems(out: Floats, items: Floats, n: number, d: number): void {
  const padded = Math.ceil(n / 8) * 8;
  for (let j = 0; j < padded; j++) for (let c = 0; c < d; c++) out[interleavedOffset(j, c, d)] = j < n ? items[j * d + c]! : 0;
}

/** Where item j's column c is in the interleaved layout. */
export function interleavedOffset(j: number, c: number, d: number): number {
  return (j >> 3) * 8 * d + c * 8 + (j & 7);
}
