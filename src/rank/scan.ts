// The top-k scans over items in the heap, on one backend or split over a pool's threads by item
// range: items uploaded (and quantized for int8), queries and exclusions staged, the fused
// score + top-k kernels run (int8: the integer scan for candidates, then the exact f32
// re-score), results copied out. Inputs are checked by the callers (the scorer, recommend,
// evaluation); the kernels' arguments are named records (ScanArgs, ScanArgsI8).
import { fail, TwoTowerError } from '../errors.js';
import { runJob, type KernelPool, type PoolJob } from '../wasm/pool.js';
import type { Backend } from '../backend/contract.js';
import type { KernelExports } from '../backend/generated/kernels.js';
import type { Buffers } from '../backend/heap.js';
import { padRows, type TopKResult } from './topk-result.js';

/** CSR exclusions: query q skips items ids[offsets[q] … offsets[q+1]). */
export interface Exclusions {
  offsets: Int32Array;
  ids: Int32Array;
}

/**
 * Copies embeddings into the heap at `ptr` and checks them there with the vectorised
 * count_nonfinite kernel: passing a catalogue on a call costs about what copying it does. Only
 * when something is not finite is the first such value looked for, to name it.
 */
function copyChecked(be: Backend, ptr: number, values: Float32Array, dim: number, name: string): void {
  be.floats(ptr, values.length).set(values);
  if (be.kernels.count_nonfinite(ptr, values.length) === 0) return;
  const bad = values.findIndex((x) => !Number.isFinite(x));
  fail('BAD_INPUT', `${name}[${bad}] is ${values[bad]} (row ${Math.floor(bad / dim)}): embeddings must be finite`);
}

/** The arguments of one f32 scan (score_topk), by name: built as a record, passed in the kernel's order. */
export interface ScanArgs {
  outIdx: number;
  outScore: number;
  counts: number;
  queries: number;
  items: number;
  exOffsets: number;
  exIds: number;
  b: number;
  n: number;
  d: number;
  k: number;
  itemBase: number;
}

/** The arguments of one int8 scan (score_topk_i8), by name. */
export interface ScanArgsI8 {
  outIdx: number;
  outScore: number;
  counts: number;
  qq: number;
  qscales: number;
  iq: number;
  iscales: number;
  exOffsets: number;
  exIds: number;
  b: number;
  n: number;
  dPad: number;
  m: number;
  itemBase: number;
  /** 1: items stored 7-bit plus 64, scored by the relaxed dot (ItemIndex.seven). */
  seven: number;
}

/**
 * One f32 scan's job: score_topk over the row layout, or score_topk_il over the interleaved copy
 * (then `items` points into it; the same arguments and results, bit for bit).
 */
export function scanJob(a: ScanArgs, interleaved = false): PoolJob {
  const args: Parameters<KernelExports['score_topk']> = [
    a.outIdx,
    a.outScore,
    a.counts,
    a.queries,
    a.items,
    a.exOffsets,
    a.exIds,
    a.b,
    a.n,
    a.d,
    a.k,
    a.itemBase,
  ];
  return interleaved ? { kernel: 'score_topk_il', args } : { kernel: 'score_topk', args };
}

export function scanJobI8(a: ScanArgsI8): PoolJob {
  const args: Parameters<KernelExports['score_topk_i8']> = [
    a.outIdx,
    a.outScore,
    a.counts,
    a.qq,
    a.qscales,
    a.iq,
    a.iscales,
    a.exOffsets,
    a.exIds,
    a.b,
    a.n,
    a.dPad,
    a.m,
    a.itemBase,
    a.seven,
  ];
  return { kernel: 'score_topk_i8', args };
}

/** Pads a dimension to the int8 row width (multiple of 16 bytes). */
const padded = (dim: number) => Math.ceil(dim / 16) * 16;

/** Where the items are in the heap, f32 and (for int8) quantized. */
export interface ItemIndex {
  ptr: number;
  n: number;
  dim: number;
  q8: number;
  scales: number;
  /** How q8 is stored: 1 for the relaxed dot's 7-bit-plus-64 rows (backend.int8Seven), else 0. */
  seven: number;
  /**
   * The lone query's copy of the f32 items, laid out by dimension in blocks of eight
   * (interleave_items, assembly/score-interleaved.ts), or 0 while none is built: set by
   * interleaveItems, used by f32 scans of one query.
   */
  il: number;
}

/**
 * Whether lone queries scan the interleaved copy unless told (ScorerOptions.interleave): where
 * measured faster than the row scan, V8 13 (Node 24: its code keeps the eight accumulators in
 * registers), not on V8 11.3 (Node 20, whose code spills them: 1.1–1.3× slower than the rows) nor
 * V8 12.4 (Node 22: no faster). Engines that do not say their V8 version (browsers) get it.
 */
export function interleaveByDefault(): boolean {
  const v8 = (globalThis as { process?: { versions?: { v8?: string } } }).process?.versions?.v8;
  return v8 === undefined || Number.parseInt(v8, 10) >= 13;
}

/** Bytes of the interleaved copy of n items of width dim: n rounded up to a multiple of 8. */
export const interleavedBytes = (n: number, dim: number, floatBytes = 4) => Math.ceil(n / 8) * 8 * dim * floatBytes;

/**
 * Builds the interleaved copy of an f32 index's items into `buffers` (those that hold the items,
 * so that both go together), once: a lone query then reads one stream at the bandwidth floor
 * instead of four rows at once (docs/benchmarks.md). Costs interleavedBytes(n, dim) more memory;
 * where the heap cannot hold it, there is no copy and lone queries scan the rows (the same results).
 */
export function interleaveItems(backend: Backend, buffers: Buffers, index: ItemIndex, name = 'items'): void {
  if (index.il !== 0) return;
  let il: number;
  try {
    il = buffers.get(`${name}.il`, interleavedBytes(index.n, index.dim, backend.floatBytes));
  } catch (error) {
    if (error instanceof TwoTowerError && error.code === 'OUT_OF_MEMORY') return;
    throw error;
  }
  backend.kernels.interleave_items(il, index.ptr, index.n, index.dim);
  index.il = il;
}

/** Uploads items (n×dim) into `buffers` under `name`, quantizing them when asked. */
export function uploadItems(
  backend: Backend,
  buffers: Buffers,
  items: Float32Array,
  dim: number,
  int8: boolean,
  name = 'items',
): ItemIndex {
  const n = items.length / dim;
  const ptr = buffers.get(name, items.length * 4);
  copyChecked(backend, ptr, items, dim, 'items');
  let q8 = 0,
    scales = 0;
  if (int8) {
    const dPad = padded(dim);
    q8 = buffers.get(`${name}.i8`, n * dPad);
    scales = buffers.get(`${name}.scales`, n * 4);
    backend.kernels.quantize_items_i8(q8, scales, ptr, n, dim, dPad, backend.int8Seven);
  }
  return { ptr, n, dim, q8, scales, seven: int8 ? backend.int8Seven : 0, il: 0 };
}

/** Copies the queries and the exclusion lists into the heap (0 pointers for no exclusions). */
function stageQueries(be: Backend, buf: Buffers, queries: Float32Array, b: number, exclude: Exclusions | undefined) {
  const qPtr = buf.get('queries', queries.length * 4);
  be.floats(qPtr, queries.length).set(queries);
  let exOffsets = 0,
    exIds = 0;
  if (exclude) {
    exOffsets = buf.get('ex.offsets', (b + 1) * 4);
    exIds = buf.get('ex.ids', Math.max(1, exclude.ids.length) * 4);
    be.ints(exOffsets, b + 1).set(exclude.offsets);
    be.ints(exIds, exclude.ids.length).set(exclude.ids);
  }
  return { qPtr, exOffsets, exIds };
}

/**
 * The top-k scan on one backend: queries already checked, exclusions checked and sorted.
 * Returns copies of the b×k results.
 */
export function runTopK(
  backend: Backend,
  buffers: Buffers,
  queries: Float32Array,
  items: ItemIndex,
  k: number,
  exclude: Exclusions | undefined,
  candidates?: number,
): TopKResult {
  const be = backend,
    k2 = be.kernels,
    buf = buffers;
  const dim = items.dim,
    n = items.n,
    b = queries.length / dim;
  const { qPtr, exOffsets, exIds } = stageQueries(be, buf, queries, b, exclude);
  const outIdx = buf.get('out.idx', b * k * 4),
    outScore = buf.get('out.score', b * k * 4),
    counts = buf.get('counts', b * 4);
  if (candidates !== undefined && items.q8 !== 0) {
    const m = Math.min(n, Math.max(k, candidates));
    const dPad = padded(dim);
    const qq = buf.get('queries.i8', b * dPad),
      qs = buf.get('queries.scales', b * 4);
    k2.quantize_rows_i8(qq, qs, qPtr, b, dim, dPad);
    const cIdx = buf.get('cand.idx', b * m * 4),
      cScore = buf.get('cand.score', b * m * 4),
      cCounts = buf.get('cand.counts', b * 4);
    k2.topk_reset(cCounts, b);
    runJob(
      k2,
      scanJobI8({
        outIdx: cIdx,
        outScore: cScore,
        counts: cCounts,
        qq,
        qscales: qs,
        iq: items.q8,
        iscales: items.scales,
        exOffsets,
        exIds,
        b,
        n,
        dPad,
        m,
        itemBase: 0,
        seven: items.seven,
      }),
    );
    k2.topk_finish(cIdx, cScore, cCounts, b, m);
    k2.score_rescore(outIdx, outScore, counts, qPtr, items.ptr, cIdx, b, m, dim, k);
  } else {
    // A lone query reads the interleaved copy when one is built (the same results, bit for bit).
    const il = b === 1 && items.il !== 0;
    k2.topk_reset(counts, b);
    runJob(
      k2,
      scanJob(
        {
          outIdx,
          outScore,
          counts,
          queries: qPtr,
          items: il ? items.il : items.ptr,
          exOffsets,
          exIds,
          b,
          n,
          d: dim,
          k,
          itemBase: 0,
        },
        il,
      ),
    );
  }
  k2.topk_finish(outIdx, outScore, counts, b, k);
  return { indices: Int32Array.from(be.ints(outIdx, b * k)), scores: Float32Array.from(be.floats(outScore, b * k)) };
}

/**
 * The same scan split over the pool's threads by item range (ranges of multiples of 4 items, of 8
 * on the interleaved copy);
 * each thread keeps its own top lists, merged afterwards with the same (score, index) order, so
 * the result is identical to one thread's.
 */
export function runTopKParallel(
  backend: Backend,
  buffers: Buffers,
  pool: KernelPool,
  queries: Float32Array,
  items: ItemIndex,
  k: number,
  exclude: Exclusions | undefined,
  candidates?: number,
): TopKResult {
  const be = backend,
    k2 = be.kernels,
    buf = buffers;
  const dim = items.dim,
    n = items.n,
    b = queries.length / dim;
  const threads = Math.max(1, Math.min(pool.size, Math.floor(n / 64)));
  const int8 = candidates !== undefined && items.q8 !== 0;
  const kk = int8 ? Math.min(n, Math.max(k, candidates!)) : Math.min(k, n);
  const dPad = padded(dim);
  const { qPtr, exOffsets, exIds } = stageQueries(be, buf, queries, b, exclude);
  let qq = 0,
    qs = 0;
  if (int8) {
    qq = buf.get('queries.i8', b * dPad);
    qs = buf.get('queries.scales', b * 4);
    k2.quantize_rows_i8(qq, qs, qPtr, b, dim, dPad);
  }
  // A lone f32 query reads the interleaved copy when one is built: ranges then start at blocks of 8.
  const il = !int8 && b === 1 && items.il !== 0;
  const align = il ? 8 : 4;
  const per = Math.ceil(n / threads / align) * align;
  const jobs: PoolJob[] = [];
  const parts: { idx: number; score: number; counts: number }[] = [];
  for (let t = 0; t < threads; t++) {
    const start = Math.min(n, t * per),
      len = Math.max(0, Math.min(n, start + per) - start);
    const part = {
      idx: buf.get(`part${t}.idx`, b * kk * 4),
      score: buf.get(`part${t}.score`, b * kk * 4),
      counts: buf.get(`part${t}.counts`, b * 4),
    };
    k2.topk_reset(part.counts, b);
    parts.push(part);
    const out = { outIdx: part.idx, outScore: part.score, counts: part.counts, exOffsets, exIds, b, n: len, itemBase: start };
    jobs.push(
      int8
        ? scanJobI8({
            ...out,
            qq,
            qscales: qs,
            iq: items.q8 + start * dPad,
            iscales: items.scales + start * 4,
            dPad,
            m: kk,
            seven: items.seven,
          })
        : scanJob({ ...out, queries: qPtr, items: (il ? items.il : items.ptr) + start * dim * 4, d: dim, k: kk }, il),
    );
  }
  pool.run(jobs);
  // The first part's heaps become the merged ones and the other parts' entries are offered to
  // them, unsorted (the top kk under the (score, index) order does not depend on the order of
  // the offers): no sort and no re-insertion of the first part. A heap row holds counts[q]
  // entries; the rest of the row is marked empty (−1) for topk_merge.
  const merged = parts[0]!;
  for (const part of parts.slice(1)) {
    const counts = be.ints(part.counts, b),
      idx = be.ints(part.idx, b * kk);
    for (let q = 0; q < b; q++) if (counts[q]! < kk) idx.fill(-1, q * kk + counts[q]!, (q + 1) * kk);
    k2.topk_merge(merged.idx, merged.score, merged.counts, part.idx, part.score, b, kk, kk);
  }
  k2.topk_finish(merged.idx, merged.score, merged.counts, b, kk);
  let outIdx = merged.idx,
    outScore = merged.score;
  const kOut = Math.min(k, n);
  if (int8) {
    outIdx = buf.get('out.idx', b * kOut * 4);
    outScore = buf.get('out.score', b * kOut * 4);
    const counts = buf.get('counts', b * 4);
    k2.score_rescore(outIdx, outScore, counts, qPtr, items.ptr, merged.idx, b, kk, dim, kOut);
    k2.topk_finish(outIdx, outScore, counts, b, kOut);
  }
  return padRows(be.ints(outIdx, b * kOut), be.floats(outScore, b * kOut), b, kOut, k);
}
