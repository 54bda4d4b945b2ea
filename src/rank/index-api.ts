// The vector index: items by id, searched by dot product with top-k, on the fused WASM scan.
// A thin layer over the scorer that speaks ids: add and remove vectors under the caller's ids,
// search with exclusions and filters by id, results as { id, score }. Vectors are kept in a
// row-major store in order of addition (so ties go to the earlier-added id), grown by doubling
// its capacity (a single add is O(dim) amortised), and uploaded to the scorer lazily, before
// the first search after a change (one copy per batch of changes, cheaper than the scan).
import { fail } from '../errors.js';
import { checkBooleans, checkId, checkIdList, shown } from '../data/checks.js';
import { threadsUnavailable } from '../wasm/platform.js';
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
  /**
   * f32 only: search single vectors over a second copy of the vectors laid out for one query
   * (the same hits), built at the first single-vector search after a change and as large as the
   * vectors: see ScorerOptions.interleave. Default: true on V8 13 and later (Node 24, browsers).
   */
  interleave?: boolean;
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
  /** Rows 0…size−1 hold the vectors, in order of addition; the rest is spare capacity. */
  private data = new Float32Array(0);
  private ids: IndexId[] = [];
  private rowOf = new Map<IndexId, number>();
  private uploaded = false;
  /** The first default id: one past the largest integer ever used as an id here (0 in a new index). */
  private nextId = 0;

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
  /** Bytes of the single-vector searches' interleaved copy (IndexOptions.interleave): 0 until built. */
  get interleavedBytes(): number {
    return this.scorer.interleavedBytes;
  }
  /** Vectors in the index. */
  get size(): number {
    return this.ids.length;
  }

  /**
   * Adds vectors under `ids`. Ids are non-empty strings or finite numbers. An id already in the
   * index is replaced in place: still one entry, the new vector, its old rank among ties. Without
   * `ids`, the vectors are numbered consecutively from one past the largest number ever used as
   * an id in this index (0, 1, 2… in a new one), like an auto-increment key: a default id never
   * replaces a vector and is never handed out again after a remove (past 2⁵³ − 1 they are
   * BAD_INPUT: give ids). O(dim) per vector, amortised: the store doubles its capacity when full.
   */
  add(vectors: Vectors, ids?: readonly IndexId[]): void {
    const flat = flatten(vectors, this.dim, 'vectors');
    if (flat.length % this.dim !== 0)
      fail('DIMENSION_MISMATCH', `vectors have ${flat.length} values, not a multiple of dim ${this.dim}`);
    const n = flat.length / this.dim;
    for (let i = 0; i < flat.length; i++)
      if (!Number.isFinite(flat[i]!))
        fail('BAD_INPUT', `vectors[${i}] is ${flat[i]} (row ${Math.floor(i / this.dim)}): vectors must be finite`);
    if (ids !== undefined) checkIdList(ids, 'add: ids', 'BAD_INPUT');
    if (ids === undefined && this.nextId + n > Number.MAX_SAFE_INTEGER)
      fail(
        'BAD_INPUT',
        `add: default ids would pass ${Number.MAX_SAFE_INTEGER} (the largest id used is ${this.nextId - 1}): give ids`,
      );
    const given = ids ?? Array.from({ length: n }, (_, i) => this.nextId + i);
    if (given.length !== n) fail('DIMENSION_MISMATCH', `${n} vectors but ${given.length} ids`);
    const seen = new Set<IndexId>();
    for (const id of given) {
      if (seen.has(id)) fail('BAD_INPUT', `id ${JSON.stringify(id)} appears twice in one add()`);
      seen.add(id);
    }
    let fresh = 0;
    for (const id of given) if (!this.rowOf.has(id)) fresh++;
    this.reserve((this.size + fresh) * this.dim);
    given.forEach((id, i) => {
      let row = this.rowOf.get(id);
      if (row === undefined) {
        row = this.ids.length;
        this.ids.push(id);
        this.rowOf.set(id, row);
      }
      this.data.set(flat.subarray(i * this.dim, (i + 1) * this.dim), row * this.dim);
      if (typeof id === 'number' && id >= this.nextId) this.nextId = Math.floor(id) + 1;
    });
    this.uploaded = false;
  }

  /** Room for `floats` values: at least double the old capacity when it grows, so adds copy each vector O(1) times. */
  private reserve(floats: number): void {
    if (floats <= this.data.length) return;
    const grown = new Float32Array(Math.max(floats, 2 * this.data.length, 16 * this.dim));
    grown.set(this.data.subarray(0, this.size * this.dim));
    this.data = grown;
  }

  /**
   * Removes ids (unknown ids are UNKNOWN_ID, and nothing is removed). The rest keep their order
   * of addition: one pass over the store per call.
   */
  remove(ids: readonly IndexId[]): void {
    checkIdList(ids, 'remove: ids', 'BAD_INPUT');
    for (const id of ids) if (!this.rowOf.has(id)) fail('UNKNOWN_ID', `id ${JSON.stringify(id)} is not in the index`, { id });
    const gone = new Set<IndexId>(ids);
    const dim = this.dim;
    let kept = 0;
    for (let row = 0; row < this.ids.length; row++) {
      const id = this.ids[row]!;
      if (gone.has(id)) {
        this.rowOf.delete(id);
        continue;
      }
      if (kept !== row) {
        this.data.copyWithin(kept * dim, row * dim, (row + 1) * dim);
        this.ids[kept] = id;
        this.rowOf.set(id, kept);
      }
      kept++;
    }
    this.ids.length = kept;
    this.uploaded = false;
  }

  /** The vector stored under `id` (a copy). */
  get(id: IndexId): Float32Array {
    checkId(id, 'get: id');
    const row = this.rowOf.get(id);
    if (row === undefined) fail('UNKNOWN_ID', `id ${JSON.stringify(id)} is not in the index`, { id });
    return this.data.slice(row * this.dim, (row + 1) * this.dim);
  }

  private rowsOf(ids: readonly IndexId[], what: string): number[] {
    checkIdList(ids, what);
    return ids.map((id) => {
      const row = this.rowOf.get(id);
      if (row === undefined) fail('UNKNOWN_ID', `${what}: id ${JSON.stringify(id)} is not in the index`, { id });
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
      if (!Array.isArray(ex)) fail('BAD_OPTION', `search: exclude must be a list of ids or one list per query, got ${shown(ex)}`);
      const lists = ex.length > 0 && Array.isArray(ex[0]) ? (ex as readonly (readonly IndexId[])[]) : null;
      if (lists && lists.length !== b) fail('DIMENSION_MISMATCH', `exclude has ${lists.length} lists for ${b} queries`);
      const rows = lists
        ? lists.map((l, q) => this.rowsOf(l, `search: exclude[${q}]`))
        : [this.rowsOf(ex as readonly IndexId[], 'search: exclude')];
      for (let q = 0; q < b; q++) perQuery[q]!.push(...rows[lists ? q : 0]!);
    }
    if (options.filter !== undefined) {
      const keep = new Set<number>();
      if (typeof options.filter === 'function')
        this.ids.forEach((id, row) => (options.filter as (id: IndexId) => boolean)(id) && keep.add(row));
      else if (Array.isArray(options.filter)) for (const row of this.rowsOf(options.filter, 'search: filter')) keep.add(row);
      else fail('BAD_OPTION', 'filter must be a list of ids or a function of an id');
      const dropped = this.ids.map((_, row) => row).filter((row) => !keep.has(row));
      for (const list of perQuery) list.push(...dropped);
    }
    if (!this.uploaded) {
      this.scorer.setItems(this.data.subarray(0, this.size * this.dim), this.dim);
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

/** Creates an empty vector index; see IndexOptions. Threads run on the entry point's platform (see createScorer). */
export async function createIndex(options: IndexOptions): Promise<VectorIndex> {
  if (!options || !Number.isInteger(options.dim) || options.dim < 1)
    fail('BAD_OPTION', `dim must be a positive integer, got ${options?.dim}`);
  checkBooleans(options, 'createIndex: options', ['requireThreads', 'interleave']);
  const requested = options.threads ?? 1;
  const note = requested > 1 ? threadsUnavailable(options.workerUrl) : undefined;
  if (note && options.requireThreads) fail('UNSUPPORTED', `${requested} threads cannot run here: ${note}`);
  const scorer = await createScorer({
    threads: requested,
    quantize: options.quantize,
    interleave: options.interleave,
    wasm: options.wasm,
    workerUrl: options.workerUrl,
  });
  return new VectorIndex(
    scorer,
    options.dim,
    requested,
    scorer.threads < requested ? (note ?? 'the pool could not start all threads') : undefined,
  );
}
