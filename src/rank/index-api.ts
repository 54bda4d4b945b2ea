// The vector index: items by id, searched by dot product with top-k, on the fused WASM scan.
// A thin layer over the scorer that speaks ids: add and remove vectors under the caller's ids,
// search with exclusions and filters by id, results as { id, score }. Vectors are kept in a
// growable row-major store and uploaded to the scorer lazily, before the first search after a
// change (one copy per batch of changes).
import { fail } from '../errors.js';
import { supportsSharedMemory } from '../wasm/load.js';
import { canBlock, type Spawner } from '../wasm/pool.js';
import { createScorer, type Scorer, type ScorerOptions } from './scorer.js';

/** An item id: a string or a number. */
export type IndexId = string | number;

export interface IndexOptions {
  /** Width of every vector. */
  dim: number;
  /** 'int8': search a quantized copy, then re-score the best candidates exactly. Default none (f32). */
  quantize?: 'int8';
  /**
   * Threads for the scan. Default 1. Where threads cannot run (no shared memory; a browser page's
   * main thread, which may not block) the index uses one thread: `index.threads` says how many
   * run and `index.threadsNote` why — or, with `requireThreads: true`, createIndex rejects.
   */
  threads?: number;
  /** Reject (UNSUPPORTED) instead of falling back to one thread. Default false. */
  requireThreads?: boolean;
  /** How to load the kernels, and (browsers) where the worker script is: see ScorerOptions. */
  wasm?: ScorerOptions['wasm'];
  workerUrl?: ScorerOptions['workerUrl'];
}

export interface SearchOptions {
  /** Ids never returned: one list for every query, or one list per query. */
  exclude?: readonly IndexId[] | readonly (readonly IndexId[])[];
  /** Only these ids, or only ids for which this returns true. */
  filter?: readonly IndexId[] | ((id: IndexId) => boolean);
}

/** One hit: the id and its dot product with the query. */
export interface Hit {
  id: IndexId;
  score: number;
}

/** Vectors: a Float32Array or number[] of n × dim values (row-major), or a list of rows. */
export type Vectors = Float32Array | readonly number[] | readonly (readonly number[] | Float32Array)[];

function flatten(vectors: Vectors, dim: number, what: string): Float32Array {
  if (vectors instanceof Float32Array) return vectors;
  if (!Array.isArray(vectors)) fail('BAD_INPUT', `${what} must be a Float32Array, an array of numbers or an array of rows`);
  const rows = vectors as readonly unknown[];
  if (rows.length > 0 && typeof rows[0] !== 'number') {
    const out = new Float32Array(rows.length * dim);
    rows.forEach((row, r) => {
      const values = row as ArrayLike<number>;
      if (!values || values.length !== dim)
        fail('DIMENSION_MISMATCH', `${what}[${r}] has ${values?.length} values; the index has dim ${dim}`);
      out.set(values, r * dim);
    });
    return out;
  }
  return Float32Array.from(rows as number[]);
}

export class VectorIndex {
  private data = new Float32Array(0);
  private ids: IndexId[] = [];
  private rowOf = new Map<IndexId, number>();
  private uploaded = false;

  constructor(
    private readonly scorer: Scorer,
    readonly dim: number,
    /** Threads asked for. */
    readonly requestedThreads: number,
    /** Why fewer threads run than were asked for (undefined when all run). */
    readonly threadsNote: string | undefined,
  ) {}

  /** Threads the scan actually uses. */
  get threads(): number {
    return this.scorer.threads;
  }
  /** Vectors in the index. */
  get size(): number {
    return this.ids.length;
  }

  /** Adds vectors under `ids` (default: consecutive numbers after the current size); an existing id is replaced. */
  add(vectors: Vectors, ids?: readonly IndexId[]): void {
    const flat = flatten(vectors, this.dim, 'vectors');
    if (flat.length % this.dim !== 0)
      fail('DIMENSION_MISMATCH', `vectors have ${flat.length} values, not a multiple of dim ${this.dim}`);
    const n = flat.length / this.dim;
    for (let i = 0; i < flat.length; i++)
      if (!Number.isFinite(flat[i]!))
        fail('BAD_INPUT', `vectors[${i}] is ${flat[i]} (row ${Math.floor(i / this.dim)}): vectors must be finite`);
    const given = ids ?? Array.from({ length: n }, (_, i) => this.size + i);
    if (given.length !== n) fail('DIMENSION_MISMATCH', `${n} vectors but ${given.length} ids`);
    const seen = new Set<IndexId>();
    for (const id of given) {
      if (typeof id !== 'string' && typeof id !== 'number') fail('BAD_INPUT', `ids must be strings or numbers, got ${typeof id}`);
      if (seen.has(id)) fail('BAD_INPUT', `id ${JSON.stringify(id)} appears twice in one add()`);
      seen.add(id);
    }
    const fresh = given.filter((id) => !this.rowOf.has(id)).length;
    const data = new Float32Array((this.size + fresh) * this.dim);
    data.set(this.data.subarray(0, this.size * this.dim));
    given.forEach((id, i) => {
      let row = this.rowOf.get(id);
      if (row === undefined) {
        row = this.ids.length;
        this.ids.push(id);
        this.rowOf.set(id, row);
      }
      data.set(flat.subarray(i * this.dim, (i + 1) * this.dim), row * this.dim);
    });
    this.data = data;
    this.uploaded = false;
  }

  /** Removes ids (unknown ids are UNKNOWN_ID, and nothing is removed). */
  remove(ids: readonly IndexId[]): void {
    for (const id of ids) if (!this.rowOf.has(id)) fail('UNKNOWN_ID', `id ${JSON.stringify(id)} is not in the index`);
    for (const id of ids) {
      const row = this.rowOf.get(id);
      if (row === undefined) continue; // listed twice
      const last = this.ids.length - 1;
      if (row !== last) {
        this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
        const moved = this.ids[last]!;
        this.ids[row] = moved;
        this.rowOf.set(moved, row);
      }
      this.ids.pop();
      this.rowOf.delete(id);
    }
    this.data = this.data.slice(0, this.ids.length * this.dim);
    this.uploaded = false;
  }

  /** The vector stored under `id` (a copy). */
  get(id: IndexId): Float32Array {
    const row = this.rowOf.get(id);
    if (row === undefined) fail('UNKNOWN_ID', `id ${JSON.stringify(id)} is not in the index`);
    return this.data.slice(row * this.dim, (row + 1) * this.dim);
  }

  private rowsOf(ids: readonly IndexId[], what: string): number[] {
    return ids.map((id) => {
      const row = this.rowOf.get(id);
      if (row === undefined) fail('UNKNOWN_ID', `${what}: id ${JSON.stringify(id)} is not in the index`);
      return row;
    });
  }

  /**
   * The k best ids for a query (one vector) or for each of several (rows), by dot product, best
   * first; ties go to the earlier-added id.
   */
  search(query: Vectors, k: number, options?: SearchOptions): Hit[][];
  search(query: Vectors, k: number, options: SearchOptions = {}): Hit[][] {
    if (this.size === 0) fail('EMPTY_DATA', 'search: the index is empty; add() vectors first');
    const queries = flatten(query, this.dim, 'queries');
    if (queries.length % this.dim !== 0 || queries.length === 0)
      fail('DIMENSION_MISMATCH', `queries have ${queries.length} values, not a positive multiple of dim ${this.dim}`);
    const b = queries.length / this.dim;
    // Per-query skipped rows: exclusions, and everything a filter leaves out.
    const perQuery: number[][] = Array.from({ length: b }, () => []);
    const ex = options.exclude;
    if (ex !== undefined) {
      const lists = ex.length > 0 && Array.isArray(ex[0]) ? (ex as readonly (readonly IndexId[])[]) : null;
      if (lists && lists.length !== b) fail('DIMENSION_MISMATCH', `exclude has ${lists.length} lists for ${b} queries`);
      for (let q = 0; q < b; q++) perQuery[q]!.push(...this.rowsOf(lists ? lists[q]! : (ex as readonly IndexId[]), 'exclude'));
    }
    if (options.filter !== undefined) {
      const keep = new Set<number>();
      if (typeof options.filter === 'function')
        this.ids.forEach((id, row) => (options.filter as (id: IndexId) => boolean)(id) && keep.add(row));
      else if (Array.isArray(options.filter)) for (const row of this.rowsOf(options.filter, 'filter')) keep.add(row);
      else fail('BAD_OPTION', 'filter must be a list of ids or a function of an id');
      const dropped = this.ids.map((_, row) => row).filter((row) => !keep.has(row));
      for (const list of perQuery) list.push(...dropped);
    }
    if (!this.uploaded) {
      this.scorer.setItems(this.data, this.dim);
      this.uploaded = true;
    }
    const offsets = new Int32Array(b + 1);
    const sorted = perQuery.map((l) => [...new Set(l)].sort((x, y) => x - y));
    sorted.forEach((l, q) => (offsets[q + 1] = offsets[q]! + l.length));
    const exclude = offsets[b]! > 0 ? { offsets, ids: Int32Array.from(sorted.flat()) } : undefined;
    const top = this.scorer.topK(queries, null, this.dim, k, { exclude });
    return Array.from({ length: b }, (_, q) => {
      const hits: Hit[] = [];
      for (let c = 0; c < k; c++) {
        const row = top.indices[q * k + c]!;
        if (row >= 0) hits.push({ id: this.ids[row]!, score: top.scores[q * k + c]! });
      }
      return hits;
    });
  }

  /** Frees the index's memory and threads. */
  close(): void {
    this.scorer.close();
  }
}

/** Why a pool of threads cannot run here (undefined when it can). */
function threadsUnavailable(spawn: Spawner | undefined): string | undefined {
  if (!supportsSharedMemory())
    return 'this host cannot share WebAssembly memory (browsers: serve the page cross-origin isolated, with COOP and COEP headers)';
  if (!canBlock()) return "a browser page's main thread may not block on the workers: create the index inside a Web Worker";
  const g = globalThis as { Worker?: unknown; process?: unknown };
  if (!spawn && typeof g.Worker !== 'function') return 'this host has no workers';
  return undefined;
}

/** Creates an empty vector index; see IndexOptions. `spawn` is the platform's (the Node entry passes worker_threads). */
export async function createIndex(options: IndexOptions, spawn?: Spawner): Promise<VectorIndex> {
  if (!options || !Number.isInteger(options.dim) || options.dim < 1)
    fail('BAD_OPTION', `dim must be a positive integer, got ${options?.dim}`);
  const requested = options.threads ?? 1;
  const note = requested > 1 ? threadsUnavailable(spawn) : undefined;
  if (note && options.requireThreads) fail('UNSUPPORTED', `${requested} threads cannot run here: ${note}`);
  const scorer = await createScorer(
    { threads: requested, quantize: options.quantize, wasm: options.wasm, workerUrl: options.workerUrl },
    spawn,
  );
  return new VectorIndex(
    scorer,
    options.dim,
    requested,
    scorer.threads < requested ? (note ?? 'the pool could not start all threads') : undefined,
  );
}
