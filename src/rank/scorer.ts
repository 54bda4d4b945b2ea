// The low-level scorer: top-k items by dot product for a batch of query embeddings, from any
// source of embeddings. Fused score + top-k in WASM (the B×N score matrix is never built),
// optional exclusions per query, an optional int8 item index (per-row scales, integer SIMD,
// the best candidates re-scored exactly in f32). This file checks the arguments and holds the
// items; the scans themselves are scan.ts.
import { fail } from '../errors.js';
import { loadWasmBackend, type LoadOptions } from '../wasm/load.js';
import type { KernelPool } from '../wasm/pool.js';
import { checkThreads, threadedBackend } from '../wasm/platform.js';
import { MAX_BLOCK_BYTES, formatBytes, type Backend } from '../backend/contract.js';
import { Buffers } from '../backend/heap.js';
import { checkK, padRows, type TopKResult } from './topk-result.js';
import {
  interleaveByDefault,
  interleaveItems,
  interleavedBytes,
  runTopK,
  runTopKParallel,
  uploadItems,
  type Exclusions,
  type ItemIndex,
} from './scan.js';

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
  /**
   * f32 only: scan lone queries (topK with one query row) over a second copy of the items laid
   * out by dimension in blocks of eight, which streams at the memory's read speed where the
   * engine compiles it well (the same results, bit for bit; docs/benchmarks.md). The copy is
   * built at the first lone query on items set with setItems (not on items passed to topK) and
   * takes as much memory again as the items (n rounded up to 8, × dim × 4 bytes:
   * `interleavedBytes`). Batches always scan the rows. Default: true on V8 13 and later (Node 24,
   * browsers), false on Node 20 and 22, where it measured no faster than the rows.
   */
  interleave?: boolean;
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
  /** Bytes of the lone queries' interleaved copy of the items (ScorerOptions.interleave): 0 until built. */
  readonly interleavedBytes: number;
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
    private readonly interleave = true,
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

  get interleavedBytes(): number {
    return this.items && this.items.il !== 0 ? interleavedBytes(this.items.n, this.items.dim) : 0;
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
    // A lone f32 query on items set before: the interleaved copy, built once (items passed on the
    // call would pay for it at every call, more than the faster scan saves).
    else if (b === 1 && this.interleave && this.quantize === undefined)
      interleaveItems(this.backend, this.itemBuffers, this.items!);
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
  if (options.interleave !== undefined && typeof options.interleave !== 'boolean')
    fail('BAD_OPTION', `interleave must be a boolean, got ${JSON.stringify(options.interleave)}`);
  const interleave = options.interleave ?? interleaveByDefault();
  const threaded = await threadedBackend(threads, options.wasm, options.workerUrl);
  if (threaded) return new WasmScorer(threaded.backend, options.quantize, candidates, threaded.pool, interleave);
  const backend = await loadWasmBackend(options.wasm);
  return new WasmScorer(backend, options.quantize, candidates, null, interleave);
}
