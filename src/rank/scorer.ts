// The low-level scorer: top-k items by dot product for a batch of query embeddings, from any
// source of embeddings. Fused score + top-k in WASM (the B×N score matrix is never built),
// optional exclusions per query, an optional int8 item index (per-row scales, integer SIMD,
// the best candidates re-scored exactly in f32).
import { fail } from '../errors.js';
import { loadWasmBackend, type LoadOptions } from '../wasm/load.js';
import { runJob, type KernelPool, type PoolJob } from '../wasm/pool.js';
import { checkThreads, threadedBackend } from '../wasm/platform.js';
import { MAX_BLOCK_BYTES, formatBytes, type Backend } from '../backend/contract.js';
import type { KernelExports } from '../backend/generated/kernels.js';
import { Buffers } from '../backend/heap.js';
import { checkK, padRows, type TopKResult } from './topk-result.js';

export type { TopKResult } from './topk-result.js';

export interface ScorerOptions {
  /**
   * Threads to split the item scan over. Default 1 (the calling thread). Where they cannot run
   * (a page that is not cross-origin isolated, a page's main thread) the scorer uses one and
   * console.warn says why, once. A worker that dies makes the pending topK throw WORKER_FAILED;
   * the scorer then scans on the calling thread alone (`threads` becomes 1).
   */
  threads?: number;
  /** 'int8': score with a quantized copy of the items, then re-score the best candidates in f32. */
  quantize?: 'int8';
  /** How to load the kernels. */
  wasm?: LoadOptions;
  /**
   * Browsers: a URL to load the pool's Web Worker script from (the package exports it as
   * `twotower/worker`). Default: the script inlined in this bundle, started from a Blob URL, so
   * no bundler configuration is needed; give a URL where a Content-Security-Policy forbids blob:
   * workers. Threads in a browser need a cross-origin isolated page and a calling thread that
   * may block (a Worker, not the page's main thread); a worker that cannot start rejects
   * createScorer with WORKER_FAILED within 10 s.
   */
  workerUrl?: string | URL;
  /** int8 only: candidates kept per query for the exact re-scoring pass. Default max(4k, k + 64). */
  candidates?: (k: number) => number;
}

/** CSR exclusions: query q skips items ids[offsets[q] … offsets[q+1]). */
export interface Exclusions {
  offsets: Int32Array;
  ids: Int32Array;
}

export interface TopKOptions {
  exclude?: Exclusions;
}

export interface Scorer {
  /**
   * The k best items for each query (rows of `queries`, B = queries.length / dim), by dot
   * product; ties go to the lower item index. `items` (N×dim) may be null to use setItems().
   */
  topK(queries: Float32Array, items: Float32Array | null, dim: number, k: number, options?: TopKOptions): TopKResult;
  /** Uploads the items once for later topK(…, null, …) calls (and quantizes them for int8). */
  setItems(items: Float32Array, dim: number): void;
  /** Threads actually used (1 where workers or shared memory are unavailable). */
  readonly threads: number;
  readonly quantize: 'int8' | undefined;
  /**
   * int8 only: how the int8 pass multiplies: 'relaxed' (relaxed SIMD's i8 × i7 dot, three
   * instructions per 16 bytes on x64, wherever the engine's compiled code computes it as
   * specified; where it does not, the integer products give the same candidates) or 'integer'
   * (the plain SIMD products and pairwise adds). Undefined for f32 scorers.
   */
  readonly int8Dot: 'relaxed' | 'integer' | undefined;
  /** Frees the scorer's memory; it cannot be used afterwards. */
  close(): void;
}

/** Shape checks only: the values are checked for finiteness by the kernels once copied (copyChecked). */
function checkMatrix(values: Float32Array, dim: number, name: string): number {
  if (!(values instanceof Float32Array)) fail('BAD_INPUT', `${name} must be a Float32Array`);
  if (values.length === 0) fail('EMPTY_DATA', `${name} is empty`);
  if (values.length % dim !== 0) {
    fail('DIMENSION_MISMATCH', `${name} has ${values.length} values, not a multiple of dim ${dim}`);
  }
  return values.length / dim;
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

/** Items must fit one heap block (f32, plus the int8 copy): refused before any scan or copy. */
function checkItemBytes(items: Float32Array, dim: number): void {
  if (items?.length * 4 > MAX_BLOCK_BYTES) {
    fail(
      'OUT_OF_MEMORY',
      `${(items.length / dim).toLocaleString('en-US')} items × dim ${dim} take ${formatBytes(items.length * 4)}, over the limit of 1 GiB per block: split the catalogue over several scorers, or use a smaller dim (docs/limits.md)`,
    );
  }
}

/** Validates CSR exclusions and returns them with each query's ids sorted (copied only if needed). */
export function checkExclusions(ex: Exclusions, b: number, n: number): Exclusions {
  if (!(ex.offsets instanceof Int32Array) || !(ex.ids instanceof Int32Array)) {
    fail('BAD_INPUT', 'exclude must be { offsets: Int32Array, ids: Int32Array }');
  }
  if (ex.offsets.length !== b + 1)
    fail('DIMENSION_MISMATCH', `exclude.offsets has length ${ex.offsets.length}; expected queries + 1 = ${b + 1}`);
  if (ex.offsets[0] !== 0) fail('BAD_INPUT', `exclude.offsets[0] must be 0, got ${ex.offsets[0]}`);
  for (let q = 0; q < b; q++) {
    if (ex.offsets[q + 1]! < ex.offsets[q]!) {
      fail(
        'BAD_INPUT',
        `exclude.offsets must not decrease: offsets[${q + 1}] = ${ex.offsets[q + 1]} < offsets[${q}] = ${ex.offsets[q]}`,
      );
    }
  }
  if (ex.offsets[b] !== ex.ids.length)
    fail('DIMENSION_MISMATCH', `exclude.offsets[${b}] = ${ex.offsets[b]} but exclude.ids has length ${ex.ids.length}`);
  let sorted = true;
  for (let i = 0; i < ex.ids.length; i++) {
    const id = ex.ids[i]!;
    if (id < 0 || id >= n) fail('OUT_OF_RANGE', `exclude.ids[${i}] = ${id} is not an item index (there are ${n} items)`);
  }
  for (let q = 0; q < b && sorted; q++) {
    for (let i = ex.offsets[q]! + 1; i < ex.offsets[q + 1]!; i++)
      if (ex.ids[i]! < ex.ids[i - 1]!) {
        sorted = false;
        break;
      }
  }
  if (sorted) return ex;
  const ids = Int32Array.from(ex.ids);
  for (let q = 0; q < b; q++) ids.subarray(ex.offsets[q]!, ex.offsets[q + 1]!).sort();
  return { offsets: ex.offsets, ids };
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

export function scanJob(a: ScanArgs): PoolJob {
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
  return { kernel: 'score_topk', args };
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
  return { ptr, n, dim, q8, scales, seven: int8 ? backend.int8Seven : 0 };
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
    k2.topk_reset(counts, b);
    runJob(
      k2,
      scanJob({ outIdx, outScore, counts, queries: qPtr, items: items.ptr, exOffsets, exIds, b, n, d: dim, k, itemBase: 0 }),
    );
  }
  k2.topk_finish(outIdx, outScore, counts, b, k);
  return { indices: Int32Array.from(be.ints(outIdx, b * k)), scores: Float32Array.from(be.floats(outScore, b * k)) };
}

/**
 * The same scan split over the pool's threads by item range (ranges of multiples of 4 items);
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
  const per = Math.ceil(n / threads / 4) * 4;
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
        : scanJob({ ...out, queries: qPtr, items: items.ptr + start * dim * 4, d: dim, k: kk }),
    );
  }
  pool.run(jobs);
  const merged = {
    idx: buf.get('merged.idx', b * kk * 4),
    score: buf.get('merged.score', b * kk * 4),
    counts: buf.get('merged.counts', b * 4),
  };
  k2.topk_reset(merged.counts, b);
  for (const part of parts) {
    k2.topk_finish(part.idx, part.score, part.counts, b, kk);
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

export class WasmScorer implements Scorer {
  /** Scratch of the scans (queries, exclusions, heaps, results). */
  private readonly buffers: Buffers;
  /** The items set with setItems, in buffers of their own: replaced whole, or not at all. */
  private itemBuffers: Buffers;
  private items: ItemIndex | null = null;
  private closed = false;

  constructor(
    private readonly backend: Backend,
    readonly quantize: 'int8' | undefined,
    private readonly candidates: (k: number) => number,
    private readonly pool: KernelPool | null = null,
  ) {
    this.buffers = new Buffers(backend);
    this.itemBuffers = new Buffers(backend);
  }

  get int8Dot(): 'relaxed' | 'integer' | undefined {
    return this.quantize ? (this.backend.int8Seven ? 'relaxed' : 'integer') : undefined;
  }

  get threads(): number {
    return this.pool?.size ?? 1;
  }

  private live(): void {
    if (this.closed) fail('DISPOSED', 'this scorer was closed');
  }

  setItems(items: Float32Array, dim: number): void {
    this.live();
    if (!Number.isInteger(dim) || dim < 1) fail('BAD_INPUT', `dim must be a positive integer, got ${dim}`);
    checkItemBytes(items, dim);
    checkMatrix(items, dim, 'items');
    // Allocate before free: the new items go into fresh blocks, and only once they are all in
    // place are the old ones released. If an allocation fails, the scorer keeps its old items.
    const fresh = new Buffers(this.backend);
    let index: ItemIndex;
    try {
      index = uploadItems(this.backend, fresh, items, dim, this.quantize === 'int8');
    } catch (error) {
      fresh.free();
      throw error;
    }
    this.itemBuffers.free();
    this.itemBuffers = fresh;
    this.items = index;
  }

  topK(queries: Float32Array, items: Float32Array | null, dim: number, k: number, options: TopKOptions = {}): TopKResult {
    this.live();
    if (!Number.isInteger(k) || k < 1) fail('BAD_OPTION', `k must be an integer ≥ 1, got ${k}`);
    if (!Number.isInteger(dim) || dim < 1) fail('BAD_INPUT', `dim must be a positive integer, got ${dim}`);
    // Sizes first (cheap), then every value (a scan).
    checkK(k, Math.floor((queries?.length ?? 0) / dim), 'topK');
    if (items) checkItemBytes(items, dim);
    const b = checkMatrix(queries, dim, 'queries');
    // Queries are few: checked here, before anything changes; items are checked as they are copied.
    const bad = queries.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      fail('BAD_INPUT', `queries[${bad}] is ${queries[bad]} (row ${Math.floor(bad / dim)}): embeddings must be finite`);
    if (items) {
      checkMatrix(items, dim, 'items');
    } else if (!this.items) {
      fail('BAD_INPUT', 'no items: pass them to topK or call setItems first');
    } else if (this.items.dim !== dim) {
      fail('DIMENSION_MISMATCH', `dim is ${dim} but the items set with setItems have dim ${this.items.dim}`);
    }
    const n = items ? items.length / dim : this.items!.n;
    const exclude = options.exclude ? checkExclusions(options.exclude, b, n) : undefined;
    let candidates: number | undefined;
    if (this.quantize === 'int8') {
      candidates = this.candidates(k);
      if (!Number.isInteger(candidates) || candidates < k)
        fail('BAD_OPTION', `candidates(${k}) must return an integer ≥ k, got ${candidates}`);
      checkK(Math.min(candidates, n), b, 'topK (int8 candidates)');
    }
    // Everything is checked: what fails from here on (an allocation) leaves the scorer as it was.
    if (items) this.setItems(items, dim);
    if (this.pool) return runTopKParallel(this.backend, this.buffers, this.pool, queries, this.items!, k, exclude, candidates);
    const kk = Math.min(k, this.items!.n);
    const result = runTopK(this.backend, this.buffers, queries, this.items!, kk, exclude, candidates);
    // k beyond the catalogue: pad each row to k.
    return kk === k ? result : padRows(result.indices, result.scores, b, kk, k);
  }

  close(): void {
    if (this.closed) return;
    this.pool?.close();
    this.buffers.free();
    this.itemBuffers.free();
    this.items = null;
    this.closed = true;
  }
}

/**
 * Creates a scorer with its own WASM instance; see ScorerOptions. With threads > 1 the items are
 * scanned by a pool over shared memory, on the entry point's platform (worker_threads from the
 * Node entry, else Web Workers); where threads cannot run (no shared memory, or a calling thread
 * that may not block, like a browser's main thread) the scorer uses one thread: see `scorer.threads`.
 */
export async function createScorer(options: ScorerOptions = {}): Promise<Scorer> {
  if (options.quantize !== undefined && options.quantize !== 'int8') {
    fail('BAD_OPTION', `quantize must be 'int8' or absent, got ${JSON.stringify(options.quantize)}`);
  }
  const threads = options.threads ?? 1;
  checkThreads(threads);
  if (options.candidates !== undefined && typeof options.candidates !== 'function')
    fail('BAD_OPTION', 'candidates must be a function of k');
  const candidates = options.candidates ?? ((k: number) => Math.max(4 * k, k + 64));
  const threaded = await threadedBackend(threads, options.wasm, options.workerUrl);
  if (threaded) return new WasmScorer(threaded.backend, options.quantize, candidates, threaded.pool);
  const backend = await loadWasmBackend(options.wasm);
  return new WasmScorer(backend, options.quantize, candidates);
}
