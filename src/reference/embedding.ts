// Reference twins of assembly/embedding.ts.
import type { Floats } from '../wasm/backend.js';

export function embeddingGather(out: Floats, table: Floats, ids: Int32Array, n: number, dim: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < dim; c++) out[r * ld + c] = table[ids[r]! * dim + c]!;
  }
}

export function embeddingScatterAdd(dtable: Floats, dout: Floats, ids: Int32Array, n: number, dim: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < dim; c++) dtable[ids[r]! * dim + c] = dtable[ids[r]! * dim + c]! + dout[r * ld + c]!;
  }
}

function bagScale(weights: Floats | null, q: number, count: number, mean: boolean): number {
  return (weights ? weights[q]! : 1) * (mean && count > 0 ? 1 / count : 1);
}

export function embeddingBag(out: Floats, table: Floats, offsets: Int32Array, ids: Int32Array, weights: Floats | null,
  rows: Int32Array, n: number, dim: number, ld: number, mean: boolean): void {
  for (let r = 0; r < n; r++) {
    const e = rows[r]!;
    const start = offsets[e]!, end = offsets[e + 1]!;
    for (let c = 0; c < dim; c++) {
      let s = 0;
      for (let q = start; q < end; q++) s += bagScale(weights, q, end - start, mean) * table[ids[q]! * dim + c]!;
      out[r * ld + c] = s;
    }
  }
}

export function embeddingBagScatterAdd(dtable: Floats, dout: Floats, offsets: Int32Array, ids: Int32Array,
  weights: Floats | null, rows: Int32Array, n: number, dim: number, ld: number, mean: boolean): void {
  for (let r = 0; r < n; r++) {
    const e = rows[r]!;
    const start = offsets[e]!, end = offsets[e + 1]!;
    for (let q = start; q < end; q++) {
      const w = bagScale(weights, q, end - start, mean);
      for (let c = 0; c < dim; c++) dtable[ids[q]! * dim + c] = dtable[ids[q]! * dim + c]! + w * dout[r * ld + c]!;
    }
  }
}

export function gatherRows(out: Floats, src: Floats, rows: Int32Array, n: number, width: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < width; c++) out[r * ld + c] = src[rows[r]! * width + c]!;
  }
}

export function gather<T extends Floats | Int32Array>(out: T, src: T, idx: Int32Array, n: number): void {
  for (let r = 0; r < n; r++) out[r] = src[idx[r]!]!;
}
