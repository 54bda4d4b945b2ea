// Reference twins of assembly/embedding.ts.
import type { Floats } from '../backend/contract.js';

export function embeddingGather(out: Floats, table: Floats, ids: Int32Array, n: number, dim: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < dim; c++) out[r * ld + c] = table[ids[r]! * dim + c]!;
  }
}

/** The gradient row of table row `id`: the row itself, or its compact row map[id] (twin of gradRow in assembly/simd.ts). */
export function gradRow(map: Int32Array | null, id: number): number {
  return map ? map[id]! : id;
}

export function embeddingScatterAdd(
  dtable: Floats,
  dout: Floats,
  ids: Int32Array,
  map: Int32Array | null,
  n: number,
  dim: number,
  ld: number,
): void {
  for (let r = 0; r < n; r++) {
    const at = gradRow(map, ids[r]!) * dim;
    for (let c = 0; c < dim; c++) dtable[at + c] = dtable[at + c]! + dout[r * ld + c]!;
  }
}

function bagScale(weights: Floats | null, q: number, count: number, mean: boolean): number {
  return (weights ? weights[q]! : 1) * (mean && count > 0 ? 1 / count : 1);
}

/** The positions of a row's set that take part: all but those holding the row's skipped id. */
function bagPositions(ids: Int32Array, start: number, end: number, skip: Int32Array | null, r: number): number[] {
  const out: number[] = [];
  for (let q = start; q < end; q++) if (!skip || ids[q] !== skip[r]) out.push(q);
  return out;
}

export function embeddingBag(
  out: Floats,
  table: Floats,
  offsets: Int32Array,
  ids: Int32Array,
  weights: Floats | null,
  rows: Int32Array,
  skip: Int32Array | null,
  n: number,
  dim: number,
  ld: number,
  mean: boolean,
): void {
  for (let r = 0; r < n; r++) {
    const e = rows[r]!;
    const kept = bagPositions(ids, offsets[e]!, offsets[e + 1]!, skip, r);
    for (let c = 0; c < dim; c++) {
      let s = 0;
      for (const q of kept) s += bagScale(weights, q, kept.length, mean) * table[ids[q]! * dim + c]!;
      out[r * ld + c] = s;
    }
  }
}

/** The gradient of embeddingBag on columns [c0, c1) of the table's rows (default: all). */
export function embeddingBagScatterAdd(
  dtable: Floats,
  dout: Floats,
  offsets: Int32Array,
  ids: Int32Array,
  weights: Floats | null,
  rows: Int32Array,
  skip: Int32Array | null,
  map: Int32Array | null,
  n: number,
  dim: number,
  ld: number,
  mean: boolean,
  c0 = 0,
  c1 = dim,
): void {
  for (let r = 0; r < n; r++) {
    const e = rows[r]!;
    const kept = bagPositions(ids, offsets[e]!, offsets[e + 1]!, skip, r);
    for (const q of kept) {
      const w = bagScale(weights, q, kept.length, mean);
      const at = gradRow(map, ids[q]!) * dim;
      for (let c = c0; c < c1; c++) dtable[at + c] = dtable[at + c]! + w * dout[r * ld + c]!;
    }
  }
}

/**
 * Appends the rows a batch touches to list[count…], each once (stamps[row] = stamp marks a listed
 * row): column[rows[r]] for r < n, or rows[r] without a column. Returns the new count.
 */
export function touchRows(
  list: Int32Array,
  stamps: Int32Array,
  stamp: number,
  column: Int32Array | null,
  rows: Int32Array,
  n: number,
  count: number,
): number {
  for (let r = 0; r < n; r++) {
    const row = column ? column[rows[r]!]! : rows[r]!;
    if (stamps[row] !== stamp) {
      stamps[row] = stamp;
      list[count++] = row;
    }
  }
  return count;
}

/** touchRows over every id of the bags of the entities rows[r], r < n (a multi-hot feature). */
export function touchBagRows(
  list: Int32Array,
  stamps: Int32Array,
  stamp: number,
  offsets: Int32Array,
  ids: Int32Array,
  rows: Int32Array,
  n: number,
  count: number,
): number {
  for (let r = 0; r < n; r++) {
    for (let q = offsets[rows[r]!]!; q < offsets[rows[r]! + 1]!; q++) {
      const row = ids[q]!;
      if (stamps[row] !== stamp) {
        stamps[row] = stamp;
        list[count++] = row;
      }
    }
  }
  return count;
}

export function gatherRows(out: Floats, src: Floats, rows: Int32Array, n: number, width: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < width; c++) out[r * ld + c] = src[rows[r]! * width + c]!;
  }
}

export function gather<T extends Floats | Int32Array>(out: T, src: T, idx: Int32Array, n: number): void {
  for (let r = 0; r < n; r++) out[r] = src[idx[r]!]!;
}

function attentionWeights(table: Floats, ids: Int32Array, start: number, end: number, dim: number, query: Floats): number[] {
  const s: number[] = [];
  for (let q = start; q < end; q++) {
    let t = 0;
    for (let c = 0; c < dim; c++) t += query[c]! * table[ids[q]! * dim + c]!;
    s.push(t);
  }
  const m = Math.max(...s);
  const e = s.map((x) => Math.exp(x - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

export function embeddingBagAttention(
  out: Floats,
  table: Floats,
  offsets: Int32Array,
  ids: Int32Array,
  rows: Int32Array,
  n: number,
  dim: number,
  ld: number,
  query: Floats,
): void {
  for (let r = 0; r < n; r++) {
    const e = rows[r]!,
      start = offsets[e]!,
      end = offsets[e + 1]!;
    for (let c = 0; c < dim; c++) out[r * ld + c] = 0;
    if (end <= start) continue;
    const alpha = attentionWeights(table, ids, start, end, dim, query);
    for (let q = start; q < end; q++) {
      for (let c = 0; c < dim; c++) out[r * ld + c] = out[r * ld + c]! + alpha[q - start]! * table[ids[q]! * dim + c]!;
    }
  }
}

export function embeddingBagAttentionBackward(
  dtable: Floats,
  dquery: Floats,
  dout: Floats,
  table: Floats,
  offsets: Int32Array,
  ids: Int32Array,
  rows: Int32Array,
  map: Int32Array | null,
  n: number,
  dim: number,
  ld: number,
  query: Floats,
): void {
  for (let r = 0; r < n; r++) {
    const e = rows[r]!,
      start = offsets[e]!,
      end = offsets[e + 1]!;
    if (end <= start) continue;
    const alpha = attentionWeights(table, ids, start, end, dim, query);
    const g: number[] = [];
    for (let q = start; q < end; q++) {
      let t = 0;
      for (let c = 0; c < dim; c++) t += dout[r * ld + c]! * table[ids[q]! * dim + c]!;
      g.push(t);
    }
    const gbar = alpha.reduce((a, al, j) => a + al * g[j]!, 0);
    for (let q = start; q < end; q++) {
      const j = q - start,
        id = ids[q]!;
      const ds = alpha[j]! * (g[j]! - gbar);
      for (let c = 0; c < dim; c++) {
        dquery[c] = dquery[c]! + ds * table[id * dim + c]!;
        const at = gradRow(map, id) * dim + c;
        dtable[at] = dtable[at]! + alpha[j]! * dout[r * ld + c]! + ds * query[c]!;
      }
    }
  }
}
