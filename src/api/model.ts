// The public model: what users hold. It wraps the internal core (src/model/twotower.ts) in a
// private field, so the parameter store, scratch, caches and revision counter are out of reach:
// every change goes through a method that keeps derived data (recommend's item index) valid.
import { fail, TwoTowerError } from '../errors.js';
import type { Backend, BackendKind, HeapStats } from '../backend/contract.js';
import type { TwoTowerConfig } from '../config/model.js';
import type { FeatureTable } from '../config/feature-table.js';
import type { Interactions } from '../data/interactions.js';
import { Vocabulary } from '../data/vocabulary.js';
import { csrRow } from '../data/csr.js';
import { checkBooleans, checkId, checkIdList } from '../data/checks.js';
import { TwoTower } from '../model/twotower.js';
import { loadWasmBackend, type LoadOptions } from '../wasm/load.js';
import { fit as fitCore } from '../train/fit.js';
import { checkThreads, threadedBackend } from '../wasm/platform.js';
import { LOSSES, type LossName } from '../train/losses/index.js';
import type { FitOptions, FitResult } from '../train/options.js';
import { planOptimizers, OPTIMIZERS, type OptimizerName, type OptimizerOptions } from '../train/optimizers/index.js';
import { trainingBytes, activationBytesPerRow, checkModelRoom } from '../train/memory.js';
import { MAX_BATCH_ROWS, checkCarriedSettings, lossConflict } from '../train/options.js';
import { rmse, mae } from '../eval/regression.js';
import { evaluateRanking, type RankingOptions, type RankingMetrics } from '../eval/ranking.js';
import { recommend, similarItems, recommendForHistory, type RecommendOptions, type HistoryOptions } from '../rank/recommend.js';
import type { TopKResult } from '../rank/topk-result.js';
import { encodeModelFile, decodeModelFile, jsonDepth, MAX_JSON_DEPTH } from '../io/model-file.js';
import { encodeJsonl, encodeNpy, VECTOR_FORMATS, type VectorFormat } from '../io/vector-export.js';
import { towerOnnx, onnxInputs, type OnnxInput, type OnnxInputsOptions } from './onnx.js';
import {
  updateCore,
  addItemsCore,
  foldInCore,
  type FoldInOptions,
  type UpdateEvent,
  type UpdateOptions,
  type UpdateResult,
  type EntityFeatures,
} from './update.js';
import { explainForUser, type Explanation, type ExplainByIdOptions, type Reason } from './explain.js';

export interface CreateModelOptions {
  /** How to load the WASM kernels (build choice, precompiled module, bytes or URL). Default: inlined, 'auto' build. */
  wasm?: LoadOptions;
  /** Run on this backend instead of WASM (e.g. `new ReferenceBackend()` for f64 checks). Default: WASM. */
  backend?: Backend;
  /** Per-user feature columns, when the user tower reads more than its id. Default none. */
  userFeatures?: FeatureTable;
  /** Per-item feature columns, when the item tower reads more than its id. Default none. */
  itemFeatures?: FeatureTable;
  /**
   * Threads for training (the calling one included; 1 to 64). With more than one, the model runs
   * on the threads build (shared memory, a 2 GiB heap) and the in-batch softmax's matrix work is
   * split by rows across worker threads (worker_threads in Node, Web Workers in a cross-origin
   * isolated page): every row is computed by one thread in the one summation order, so training
   * gives the same bits as one thread. Where threads cannot run (no shared memory, a browser's
   * main thread) the model uses one: see `model.threads`. Default 1.
   */
  threads?: number;
  /** The Web Worker script for threads > 1 in a browser. Default: the inlined one (a Blob URL). */
  workerUrl?: string | URL;
}

export interface LoadModelOptions {
  /** How to load the WASM kernels. Default: inlined, 'auto' build. */
  wasm?: LoadOptions;
  /** Run on this backend instead of WASM. Default: WASM. */
  backend?: Backend;
  /** The file's name, for error messages. Default 'model file'. */
  name?: string;
}

/** What to export (see Model.exportEmbeddings). */
export interface ExportEmbeddingsOptions {
  side: 'user' | 'item';
  /** 'jsonl' (default): `{"id": …, "vector": […]}` per line; 'npy': NumPy float32 rows × dim. */
  format?: VectorFormat;
  /** Append the bias columns that make an inner product equal the model's score. Default: when the model has biases. */
  augment?: boolean;
}

/** An exported side: the file's bytes and what they hold. */
export interface EmbeddingExport {
  side: 'user' | 'item';
  format: VectorFormat;
  /** Rows (users or items) in the file. */
  count: number;
  /** Floats per vector: the model's dim, + 2 when augmented. */
  dim: number;
  /** Whether the vectors carry the bias columns ([u, 1, b + b_u] and [v, b_i, 1]). */
  augmented: boolean;
  /** The ids, in row order (also inside a JSON Lines file). */
  ids: string[];
  /** The file: JSON Lines text (UTF-8) or a .npy file. */
  data: Uint8Array;
}

/** The id ↔ index maps of a model's users and items, where it was trained from string ids. */
export interface ModelVocabularies {
  users?: Vocabulary;
  items?: Vocabulary;
}

/** An id as users give them: a string, or a number. */
export type Id = string | number;

/** One recommended item: its id and its score (the predicted rating for a rating model). */
export interface Recommendation {
  item: Id;
  score: number;
  /** With `explain`: the top reasons (largest shares of the score first). */
  reasons?: Reason[];
  /** With `explain`: the score's full decomposition (see Model.explain). */
  explanation?: Explanation;
}

export interface RecommendByIdOptions {
  /** Items per user. Default 10. */
  k?: number;
  /** Skip each user's training items. Default true when the model knows them. */
  excludeSeen?: boolean;
  /** Item ids never recommended. Default none. */
  exclude?: readonly Id[];
  /** Only these item ids, or only items for which this returns true. Default every item. */
  filter?: readonly Id[] | ((item: Id) => boolean);
  /** Explain each recommended item (`reasons` and `explanation`); an object sets explain()'s options. Default false. */
  explain?: boolean | ExplainByIdOptions;
}

let coreOf: (model: Model) => TwoTower;
let wrap: (core: TwoTower) => Model;

/** A trained or trainable two-tower model. Make one with createModel() or loadModel(). */
export class Model {
  // Replaced (never otherwise changed) when update, addItems or foldIn grow the model.
  #core: TwoTower;

  private constructor(core: TwoTower) {
    if (!(core instanceof TwoTower)) fail('BAD_OPTION', 'a Model is made by createModel() or loadModel(), not by new Model()');
    this.#core = core;
  }

  static {
    coreOf = (model) => model.#core;
    wrap = (core) => new Model(core);
  }

  /** A copy of the model's configuration. */
  get config(): TwoTowerConfig {
    return structuredClone(this.#core.config);
  }
  /** Width of the shared embedding space. */
  get dim(): number {
    return this.#core.dim;
  }
  /** Number of users the model can score (0 until user features are set, without an id feature). */
  get userCount(): number {
    return this.#core.userCount;
  }
  /** Number of items the model can score. */
  get itemCount(): number {
    return this.#core.itemCount;
  }
  /** Which arithmetic runs the model: 'simd' or 'relaxed' WASM, or the f64 'reference'. */
  /** Threads training runs on (1 unless createModel's `threads` could be honoured). */
  get threads(): number {
    return this.#core.threads?.size ?? 1;
  }

  get kernels(): BackendKind {
    return this.#core.backend.kind;
  }
  /** Optimizer steps taken so far; bias corrections continue from here on the next fit(). */
  get optimizerSteps(): number {
    return this.#core.optimizerSteps;
  }
  /** Heap blocks and bytes the model's backend holds (memory use; leak checks). */
  memory(): HeapStats {
    return this.#core.backend.stats();
  }

  /** The id ↔ index maps of users and items, when the data came with string ids (files, CLI). */
  get vocabularies(): Readonly<ModelVocabularies> {
    return { ...this.#core.vocabularies };
  }
  /**
   * Attaches id vocabularies (saved with the model); each maps exactly the model's rows of its
   * side: an exact one holds a key for every row but row 0 (the unknown id), a hashed one has as
   * many buckets as rows.
   */
  setVocabularies(vocabularies: ModelVocabularies): void {
    this.#core.live();
    for (const [side, v] of [
      ['user', vocabularies.users],
      ['item', vocabularies.items],
    ] as const) {
      if (v === undefined) continue;
      if (!(v instanceof Vocabulary)) fail('BAD_INPUT', `vocabularies.${side}s must be a Vocabulary`);
      const count = side === 'user' ? this.userCount : this.itemCount;
      // One index per row: a shorter vocabulary leaves rows without ids (and update() could not grow them).
      if (v.size !== count)
        fail(
          'DIMENSION_MISMATCH',
          `vocabularies.${side}s maps ${v.size} indices (${v.mode === 'exact' ? `${v.size - 1} keys and the unknown-id index 0` : 'hash buckets'}) but the model has ${count} ${side}s: a vocabulary maps every row`,
        );
    }
    this.#core.vocabularies = { ...vocabularies };
  }

  /** Free JSON-serialisable facts saved with the model (data source, settings). */
  get metadata(): Record<string, unknown> {
    return structuredClone(this.#core.metadata);
  }
  set metadata(value: Record<string, unknown>) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) fail('BAD_INPUT', 'metadata must be an object');
    if (jsonDepth(value) > MAX_JSON_DEPTH) fail('BAD_INPUT', `metadata nests deeper than ${MAX_JSON_DEPTH} levels`);
    let copy: Record<string, unknown>;
    try {
      copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
    } catch (cause) {
      fail('BAD_INPUT', `metadata must be JSON data (it is saved with the model): ${(cause as Error).message}`, { cause });
    }
    this.#core.metadata = copy;
  }

  /** What the model was last trained for: its loss, and whether that is implicit feedback (ranking) or ratings. Undefined before fit(). */
  get trainedWith(): { loss: LossName; implicit: boolean } | undefined {
    const t = this.#core.trainedWith;
    return t ? { loss: t.loss as LossName, implicit: t.implicit } : undefined;
  }

  /** Whether the model knows each user's training items (what recommend() skips by default). */
  get hasTrainingHistory(): boolean {
    return this.#core.seen !== undefined;
  }
  /** The training items of user index `user` (sorted item indices; empty without a history). */
  seenItems(user: number): Int32Array {
    const seen = this.#core.seen;
    if (!seen) return new Int32Array(0);
    if (!Number.isInteger(user) || user < 0 || user >= this.userCount)
      fail('OUT_OF_RANGE', `user ${user} is not a user index: the model has ${this.userCount} users`);
    return Int32Array.from(csrRow(seen, user));
  }
  /** Records which items each user interacted with (fit() does this with its training data). */
  setSeen(users: Int32Array, items: Int32Array): void {
    this.#core.live();
    this.#core.setSeen(users, items);
  }

  /** Per-user feature columns for the user tower's features. Validated; on error nothing changes. */
  setUserFeatures(table: FeatureTable): void {
    this.#core.setUserFeatures(table);
  }
  /** Per-item feature columns for the item tower's features. Validated; on error nothing changes. */
  setItemFeatures(table: FeatureTable): void {
    this.#core.setItemFeatures(table);
  }

  /** Trains in place; see FitOptions for every setting and its default. */
  fit(train: Interactions, options: FitOptions = {}): FitResult {
    return fitCore(this.#core, train, options);
  }

  // ---- In the user's ids ------------------------------------------------------------------
  // Ids are mapped through the model's vocabularies (a model trained from files or by train()
  // has them). A model without a vocabulary for a side speaks its row indices as ids there.

  /** The row of a user id; an unknown id is UNKNOWN_ID naming it and the remedy. */
  private userRow(id: Id): number {
    return this.row('user', id);
  }

  private row(side: 'user' | 'item', id: Id): number {
    const core = this.#core;
    const vocab = side === 'user' ? core.vocabularies.users : core.vocabularies.items;
    const count = side === 'user' ? core.userCount : core.itemCount;
    checkId(id, `a ${side} id`);
    if (!vocab) {
      if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= count) {
        fail(
          'UNKNOWN_ID',
          `${side} ${JSON.stringify(id)} is not a ${side} of this model: it has no ${side} vocabulary, so its ids are the row indices 0…${count - 1}`,
        );
      }
      return id as number;
    }
    const key = String(id);
    if (vocab.mode === 'exact' && !vocab.has(key)) {
      const coldStart =
        side === 'user' &&
        core.config.user.features.some((f) => f.kind === 'multiHot' && f.name === 'history' && f.vocabSize === core.itemCount);
      fail(
        'UNKNOWN_ID',
        `${side} ${JSON.stringify(id)} is not in the model's vocabulary (${vocab.size - 1} ${side}s)` +
          (side === 'user'
            ? coldStart
              ? ': recommend from the items they interacted with (recommendFromHistory)'
              : ': retrain with them, or train with a history feature to serve new users from their items'
            : ''),
      );
    }
    return vocab.lookup(key);
  }

  /** The id of item row j (the row itself where the model has no item vocabulary). */
  private itemId(j: number): Id {
    const vocab = this.#core.vocabularies.items;
    return vocab ? (vocab.key(j) ?? j) : j;
  }

  /** Whether scores are predicted ratings (a model trained on ratings) rather than ranking scores. */
  private get scoresAreRatings(): boolean {
    const t = this.#core.trainedWith;
    return t !== undefined && !t.implicit;
  }

  /** Turns an index top-k into lists of { item, score } per row; rating models score by predict(). */
  private lists(top: TopKResult, rows: number, k: number, userRows?: number[]): Recommendation[][] {
    const out: Recommendation[][] = [];
    for (let r = 0; r < rows; r++) {
      const picked: { j: number; score: number }[] = [];
      for (let c = 0; c < k; c++) {
        const j = top.indices[r * k + c]!;
        if (j >= 0) picked.push({ j, score: top.scores[r * k + c]! });
      }
      if (userRows && this.scoresAreRatings && picked.length > 0) {
        const predicted = this.#core.predict(
          new Int32Array(picked.length).fill(userRows[r]!),
          picked.map((p) => p.j),
        );
        picked.forEach((p, i) => (p.score = predicted[i]!));
      }
      out.push(picked.map((p) => ({ item: this.itemId(p.j), score: p.score })));
    }
    return out;
  }

  private itemFilter(options: RecommendByIdOptions): { allow?: number[]; exclude?: number[] } {
    if (options.exclude !== undefined) checkIdList(options.exclude, 'recommend: options.exclude');
    const exclude = options.exclude?.map((id) => this.row('item', id));
    let allow: number[] | undefined;
    if (Array.isArray(options.filter)) allow = options.filter.map((id) => this.row('item', id));
    else if (typeof options.filter === 'function') {
      const keep = options.filter;
      allow = [];
      for (let j = 0; j < this.itemCount; j++)
        if (this.#core.unknownItemRows().indexOf(j) < 0 && keep(this.itemId(j))) allow.push(j);
      if (allow.length === 0) fail('EMPTY_DATA', 'recommend: the filter keeps no item');
    } else if (options.filter !== undefined) fail('BAD_OPTION', 'filter must be a list of item ids or a function of an item id');
    return { allow, exclude };
  }

  /**
   * The top items for a user id — or for each of several — as `{ item, score }`, best first:
   * items in the user's own ids, scores the predicted rating for a rating model (else the
   * ranking score). Training items are skipped unless excludeSeen is false.
   */
  recommend(user: Id, options?: RecommendByIdOptions): Recommendation[];
  recommend(users: readonly Id[], options?: RecommendByIdOptions): Recommendation[][];
  recommend(who: Id | readonly Id[], options: RecommendByIdOptions = {}): Recommendation[] | Recommendation[][] {
    const ids = Array.isArray(who) ? (who as readonly Id[]) : [who as Id];
    if (ids.length === 0) fail('EMPTY_DATA', 'recommend: no users given');
    const booleans = typeof options.explain === 'object' ? ['excludeSeen'] : ['excludeSeen', 'explain'];
    checkBooleans(options, 'recommend: options', booleans);
    const rows = ids.map((id) => this.userRow(id));
    const k = options.k ?? 10;
    const excludeSeen = options.excludeSeen ?? this.hasTrainingHistory;
    const top = recommend(this.#core, rows, { k, excludeSeen, ...this.itemFilter(options) });
    const out = this.lists(top, rows.length, k, rows);
    if (options.explain) {
      const settings = options.explain === true ? {} : options.explain;
      out.forEach((list, r) => {
        const items = list.map((x) => this.row('item', x.item));
        const why = explainForUser(this.#core, rows[r]!, ids[r]!, items, (j) => this.itemId(j), settings);
        list.forEach((x, i) => {
          x.reasons = why[i]!.reasons;
          x.explanation = why[i]!;
        });
      });
    }
    return Array.isArray(who) ? out : out[0]!;
  }

  /**
   * Why the model scores (user, item) as it does: the biases, each feature's share of the
   * towers' dot product (both towers; exact for towers without hidden layers, integrated
   * gradients otherwise, with the completeness error), and the items behind it — the user's
   * interaction-set items by their share, or else their training items most like this one.
   * See docs/explanations.md.
   */
  explain(user: Id, item: Id, options: ExplainByIdOptions = {}): Explanation {
    const row = this.userRow(user);
    return explainForUser(this.#core, row, user, [this.row('item', item)], (j) => this.itemId(j), options)[0]!;
  }

  /** Cold start: the top items for someone not in the model, from the item ids they interacted with. */
  recommendFromHistory(items: readonly Id[], options: RecommendByIdOptions & { feature?: string } = {}): Recommendation[] {
    const rows = items.map((id) => this.row('item', id));
    const k = options.k ?? 10;
    const top = recommendForHistory(this.#core, [rows], {
      k,
      excludeSeen: options.excludeSeen ?? true,
      feature: options.feature,
      ...this.itemFilter(options),
    });
    return this.lists(top, 1, k)[0]!;
  }

  /** The items most like an item id, by the cosine of their embeddings: `{ item, score }`, best first. */
  similarItems(item: Id, options: { k?: number } = {}): Recommendation[] {
    const k = options.k ?? 10;
    return this.lists(similarItems(this.#core, this.row('item', item), k), 1, k)[0]!;
  }

  /** The model's score for a (user id, item id) pair: the predicted rating for a rating model. */
  predict(user: Id, item: Id): number {
    return this.#core.predict([this.userRow(user)], [this.row('item', item)])[0]!;
  }

  // ---- In row indices (for power users) ----------------------------------------------------

  /** Scores (user, item) row pairs: ⟨u, v⟩ plus the configured biases (the predicted rating). */
  predictIndices(users: ArrayLike<number>, items: ArrayLike<number>): Float32Array {
    return this.#core.predict(users, items);
  }

  /** RMSE and MAE of predictIndices() against the given ratings (rows). */
  evaluate(data: Interactions): { rmse: number; mae: number } {
    const predictions = this.predictIndices(data.users, data.items);
    return { rmse: rmse(predictions, data.ratings), mae: mae(predictions, data.ratings) };
  }

  /** Top-k item rows for each user row (training items skipped unless excludeSeen: false). */
  recommendIndices(users: ArrayLike<number>, options: RecommendOptions = {}): TopKResult {
    return recommend(this.#core, users, options);
  }

  /** Cold start in rows: top-k item rows for users not in the model, from the item rows each interacted with. */
  recommendForHistoryIndices(histories: ArrayLike<number>[], options: HistoryOptions = {}): TopKResult {
    return recommendForHistory(this.#core, histories, options);
  }

  /** The k item rows most similar to item row `item` by the cosine of their embeddings. */
  similarIndices(item: number, k = 10): TopKResult {
    return similarItems(this.#core, item, k);
  }

  /** Full-ranking metrics (Recall, NDCG, HR, MAP @K, MRR, AUC, coverage); see RankingOptions. */
  evaluateRanking(test: Pick<Interactions, 'users' | 'items'>, options: RankingOptions = {}): RankingMetrics {
    return evaluateRanking(this.#core, test, options);
  }

  /** Embeddings of the given user indices (default: all), n×dim row-major. */
  userEmbeddings(users?: ArrayLike<number>): Float32Array {
    return this.#core.userEmbeddings(users);
  }
  /** Embeddings of the given item indices (default: all), n×dim row-major. */
  itemEmbeddings(items?: ArrayLike<number>): Float32Array {
    return this.#core.itemEmbeddings(items);
  }

  /**
   * One tower as an ONNX model (opset 13): its raw inputs (an int64 row per id or categorical
   * feature, float values per numeric feature, a padded id matrix — pad with vocabSize — and
   * weights per multi-hot feature) to its `embedding`, with the score bias as a second output
   * `bias` where the model has biases. ONNX Runtime computes the package's embeddings with it
   * (test/onnx.test.ts); see docs/serving.md for the inputs in full.
   */
  toOnnx(options: { tower: 'user' | 'item' }): Uint8Array {
    this.#core.live();
    const tower = options?.tower;
    if (tower !== 'user' && tower !== 'item') fail('BAD_OPTION', `tower must be 'user' or 'item', got ${JSON.stringify(tower)}`);
    return towerOnnx(this.#core, tower, 'twotower');
  }

  /**
   * The inputs of the tower toOnnx({ tower }) exports, for entities given by `ids` (your ids) or
   * `rows`: typed arrays named as the graph's inputs, each ready for `new ort.Tensor(x.type,
   * x.data, x.dims)`. Multi-hot sets come padded, with the weights the tower uses (1/√n for the
   * recipe's interaction sets). See docs/serving.md.
   */
  onnxInputs(options: OnnxInputsOptions): Record<string, OnnxInput> {
    return onnxInputs(this.#core, options, (side, id) => this.row(side, id));
  }

  /**
   * One side's embeddings as a file for a vector database: every user (or item) with its id as
   * the model knows it (the vocabulary's keys; row numbers for a model without one; the unknown-id
   * row 0 of a vocabulary is left out) and its vector. With score biases the vectors are
   * augmented so that a plain inner product equals the model's score: users [u, 1, b + b_u],
   * items [v, b_i, 1] (`augment`, default: whenever the model has biases). Formats: JSON Lines
   * and NumPy .npy (float32; the ids are in `ids`, in row order). See docs/serving.md.
   */
  exportEmbeddings(options: ExportEmbeddingsOptions): EmbeddingExport {
    const core = this.#core;
    core.live();
    const side = options?.side;
    if (side !== 'user' && side !== 'item') fail('BAD_OPTION', `side must be 'user' or 'item', got ${JSON.stringify(side)}`);
    const format = options.format ?? 'jsonl';
    if (!VECTOR_FORMATS.includes(format))
      fail('BAD_OPTION', `format must be one of ${VECTOR_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    checkBooleans(options, 'exportEmbeddings: options', ['augment']);
    const { global, user: ub, item: ib } = core.bias;
    const augment = options.augment ?? Boolean(global || ub || ib);
    const count = side === 'user' ? core.userCount : core.itemCount;
    const vocab = side === 'user' ? core.vocabularies.users : core.vocabularies.items;
    // The rows to export and their ids: a vocabulary's keys (its row 0 is the unknown id), else row numbers.
    const rows: number[] = [];
    const ids: string[] = [];
    if (vocab && vocab.mode === 'exact') {
      for (let r = 1; r < Math.min(vocab.size, count); r++) {
        rows.push(r);
        ids.push(vocab.key(r)!);
      }
    } else {
      for (let r = 0; r < count; r++) {
        rows.push(r);
        ids.push(vocab ? `bucket ${r}` : String(r));
      }
    }
    const base = side === 'user' ? core.userEmbeddings(rows) : core.itemEmbeddings(rows);
    const dim = core.dim + (augment ? 2 : 0);
    let vectors = base;
    if (augment) {
      const values = (block: typeof global) => (block ? core.store.values(block) : undefined);
      const g = values(global)?.[0] ?? 0;
      const own = values(side === 'user' ? ub : ib);
      vectors = new Float32Array(rows.length * dim);
      rows.forEach((row, r) => {
        vectors.set(base.subarray(r * core.dim, (r + 1) * core.dim), r * dim);
        const b = own?.[row] ?? 0;
        vectors[r * dim + core.dim] = side === 'user' ? 1 : b;
        vectors[r * dim + core.dim + 1] = side === 'user' ? g + b : 1;
      });
    }
    const data = format === 'jsonl' ? encodeJsonl(ids, vectors, dim) : encodeNpy(vectors, rows.length, dim);
    return { side, format, count: rows.length, dim, augmented: augment, ids, data };
  }

  /** Copies of every parameter block, by name (e.g. "user.dense0.weight"). */
  parameters(): Record<string, Float32Array> {
    return this.#core.parameters();
  }

  /**
   * Overwrites parameter blocks by name (any subset of parameters()). Every block is checked
   * (known name, length, finite values) before any is written; caches built from the old
   * values (recommend's item index) are invalidated.
   */
  setParameters(values: Record<string, ArrayLike<number>>): void {
    const core = this.#core;
    core.live();
    if (!values || typeof values !== 'object') fail('BAD_INPUT', 'setParameters needs an object of parameter blocks by name');
    const writes = Object.entries(values).map(([name, data]) => {
      const block = core.store.find(name);
      if (!block) fail('BAD_INPUT', `setParameters: unknown parameter block "${name}" (see parameters() for the names)`);
      if (!data || data.length !== block.size)
        fail('DIMENSION_MISMATCH', `setParameters: block "${name}" has ${block.size} values, got ${data?.length}`);
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i]!)) fail('BAD_INPUT', `setParameters: ${name}[${i}] is ${data[i]} (must be finite)`);
      }
      return { block, data };
    });
    core.write((store) => {
      for (const { block, data } of writes) store.writable(block).set(data);
    });
  }

  /**
   * The model as a versioned binary file (config, parameters, vocabularies, feature tables,
   * training settings and optimizer state, checksum). `optimizerState: false` leaves the state
   * out (Adam's two moments per parameter: twice the parameters' bytes), for a file that is only
   * served: a later update() then restarts the optimizer's moments instead of resuming them
   * exactly. Default true.
   */
  toBytes(options: { optimizerState?: boolean } = {}): Uint8Array {
    const core = this.#core;
    core.ensureReady();
    const withState = options.optimizerState ?? true;
    if (typeof withState !== 'boolean')
      fail('BAD_OPTION', `optimizerState must be true or false, got ${JSON.stringify(withState)}`);
    return encodeModelFile({
      config: core.config,
      optimizerSteps: core.optimizerSteps,
      parameters: core.parameters(),
      vocabularies: { user: core.vocabularies.users?.toJSON(), item: core.vocabularies.items?.toJSON() },
      userFeatures: core.userTower.table,
      itemFeatures: core.itemTower.table,
      metadata: core.metadata,
      seen: core.seen,
      loss: core.trainedWith?.loss,
      training: core.trainedWith?.settings,
      optimizerState: core.store.groups.flatMap((group) => {
        const slots = core.store.stateOf(group);
        if (slots.length === 0 || !withState) return [];
        const values = slots.map((s) => Float32Array.from(core.backend.floats(s.ptr, s.floats)));
        return [{ group: group.name, owner: core.store.stateOwner(group), slots: values }];
      }),
    });
  }

  /** Puts a grown core in place of the current one, which is freed (their shared thread pool stays). */
  private replaceCore(next: TwoTower): void {
    const old = this.#core;
    if (next === old) return;
    old.threads = null;
    old.dispose();
    this.#core = next;
  }

  /**
   * Trains the model further on new events, in your ids (as train() takes them): new user and
   * item ids grow the vocabularies and tables (a new id row and bias start where the entity's
   * features point, or at the mean trained ones; see docs/updates.md), the interaction sets take
   * the new events, and training continues from the kept optimizer state with the settings of
   * the last training (saved in model files too) for `epochs` (default 3) over the new events
   * alone. The model is unchanged when anything fails (the options are checked before it grows);
   * a dispose() from a callback ends it with DISPOSED and the model stays disposed. While it runs
   * the old and the grown model are both in memory. See docs/updates.md.
   */
  update(events: readonly UpdateEvent[], options: UpdateOptions = {}): UpdateResult {
    this.#core.live();
    const { core, result } = updateCore(this.#core, events, options);
    if (this.#core.disposed) {
      // Disposed while it ran (updateCore's callbacks say so first): the grown core is not installed.
      core.threads = null;
      core.dispose();
      fail('DISPOSED', 'the model was disposed during update()');
    }
    this.replaceCore(core);
    return result;
  }

  /**
   * Adds items described by their features (new ids; no interactions yet), embedded by the item
   * tower without training; they can be recommended and scored at once, and update() trains
   * them when their events come. Needs an item tower that reads features besides its id. In a
   * linear item tower (no hidden layers, the default recipe's) each new item's id row and bias
   * are predicted from its features by a ridge regression fitted on the trained items
   * (`start: 'regressed'`); otherwise they start at the mean trained row and bias ('mean').
   * See docs/updates.md.
   */
  addItems(items: EntityFeatures): { added: number; start: 'regressed' | 'mean' } {
    this.#core.live();
    const { core, added, start } = addItemsCore(this.#core, items);
    this.replaceCore(core);
    return { added, start };
  }

  /**
   * Fold-in without training, for rating models whose user tower is a plain id embedding: each
   * user in `events` (new or known) gets the embedding and bias that best fit the ratings given
   * for them against the fixed item tower (ridge least squares with the model's L2, one half-step
   * of ALS). A known user's vectors are replaced: give all of their ratings. Items must be known.
   * Throws UNSUPPORTED for other models (use update()). See docs/updates.md.
   */
  foldIn(events: readonly UpdateEvent[], options: FoldInOptions = {}): { users: number } {
    this.#core.live();
    const { core, users } = foldInCore(this.#core, events, options);
    this.replaceCore(core);
    return { users };
  }

  /** Frees the model's memory. The model cannot be used afterwards (calls throw DISPOSED). */
  dispose(): void {
    this.#core.dispose();
  }
}

/** @internal The core behind a public Model, for the package's own modules and tests. */
export function internals(model: Model): TwoTower {
  return coreOf(model);
}

/** What a model of a config holds in the WebAssembly heap (see modelMemory). */
export interface ModelMemory {
  /** Trainable numbers. */
  parameters: number;
  /** Bytes of the parameter values: all a model holds when it is only served. */
  bytes: number;
  /**
   * Bytes fit() adds with the given optimizers: their state (kept after fit, so a later fit
   * continues it) and the gradients (full for whole-group optimizers; for sparse ones a row map
   * of 4 bytes a row and one batch's rows; freed after fit). The data (about 16 bytes an event)
   * and the batch scratch come on top.
   */
  training: {
    optimizerState: number;
    gradients: number;
    /** Bytes of both towers' activations and their gradients for one batch (`batchSize` rows, default 256). */
    activations: number;
    /** optimizerState + gradients + activations. */
    total: number;
  };
}

/**
 * What a model of this config needs (see ModelMemory), for the optimizers fit() would use;
 * throws BAD_CONFIG for an invalid config, BAD_OPTION for unknown optimizers, and
 * OUT_OF_MEMORY for a table that cannot be one 1 GiB allocator block. Allocates nothing.
 */
export function modelMemory(
  config: TwoTowerConfig,
  options: { optimizers?: OptimizerOptions; batchSize?: number } = {},
): ModelMemory {
  const groups = TwoTower.parameterGroups(config);
  const plans = planOptimizers(groups, options.optimizers, 1);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_ROWS)
    fail('BAD_OPTION', `modelMemory: options.batchSize must be an integer in [1, ${MAX_BATCH_ROWS}], got ${batchSize}`);
  const t = trainingBytes(plans, 4, batchSize);
  const activations = batchSize * activationBytesPerRow(config, 4);
  return {
    parameters: groups.reduce((sum, g) => sum + g.blocks.reduce((s, b) => s + b.size, 0), 0),
    bytes: groups.reduce((sum, g) => sum + g.size * 4, 0),
    training: { ...t, activations, total: t.optimizerState + t.gradients + activations },
  };
}

/** Builds a model from its config, with freshly initialised (seeded) parameters. */
export async function createModel(config: TwoTowerConfig, options: CreateModelOptions = {}): Promise<Model> {
  const threads = options.threads ?? 1;
  checkThreads(threads);
  if (threads > 1 && options.backend)
    fail('BAD_OPTION', 'threads > 1 runs on its own WASM backend: give threads or backend, not both');
  const threaded = threads > 1 ? await threadedBackend(threads, options.wasm, options.workerUrl) : null;
  const backend = threaded?.backend ?? options.backend ?? (await loadWasmBackend(options.wasm));
  let core: TwoTower;
  try {
    // Before anything is allocated: the values, and the towers' activations for one chunk of rows.
    const groups = TwoTower.parameterGroups(config);
    const values = groups.reduce((sum, g) => sum + g.size, 0) * backend.floatBytes;
    checkModelRoom(config, values, backend.floatBytes, backend.stats().liveBytes, backend.memoryLimit);
    core = new TwoTower(config, backend);
  } catch (error) {
    threaded?.pool.close();
    throw error;
  }
  core.threads = threaded?.pool ?? null;
  try {
    if (options.userFeatures) core.setUserFeatures(options.userFeatures);
    if (options.itemFeatures) core.setItemFeatures(options.itemFeatures);
  } catch (error) {
    core.dispose();
    throw error;
  }
  return wrap(core);
}

/**
 * Rebuilds a model from the bytes of a model file (see Model.toBytes). Throws a TwoTowerError
 * for a file that is not a model, is truncated or corrupted, or has a newer format version.
 */
export async function loadModel(bytes: Uint8Array, options: LoadModelOptions = {}): Promise<Model> {
  const name = options.name ?? 'model file';
  const contents = decodeModelFile(bytes, name);
  // What the file holds must be what its config declares, block for block, before anything is
  // allocated: a tampered config (a vocabulary of 60 million ids in a 3 KB file) fails here.
  const declared = asModelFileError(name, () => TwoTower.parameterBlocks(contents.config));
  for (const block of declared) {
    const values = contents.parameters[block.name];
    if (!values || values.length !== block.size) {
      fail(
        'BAD_MODEL_FILE',
        `${name} is corrupted: parameter block "${block.name}" is ${values ? `${values.length} values, expected ${block.size}` : 'missing'}`,
      );
    }
  }
  const extra = Object.keys(contents.parameters).filter((n) => !declared.some((b) => b.name === n));
  if (extra.length > 0) fail('BAD_MODEL_FILE', `${name} is corrupted: parameter block "${extra[0]}" is not part of its model`);
  checkHeaderAgainstModel(contents, name);
  const model = await asModelFileErrorAsync(name, () =>
    createModel(contents.config, {
      wasm: options.wasm,
      backend: options.backend,
      userFeatures: contents.userFeatures,
      itemFeatures: contents.itemFeatures,
    }),
  );
  const core = coreOf(model);
  try {
    core.write((store) => {
      for (const block of store.blocks) store.writable(block).set(contents.parameters[block.name]!);
      core.optimizerSteps = contents.optimizerSteps;
      for (const saved of contents.optimizerState ?? []) {
        const group = store.groups.find((g) => g.name === saved.group);
        if (!group)
          fail('BAD_MODEL_FILE', `${name} is corrupted: optimizer state for "${saved.group}", which is not a parameter group`);
        if (!Object.hasOwn(OPTIMIZERS, saved.owner))
          fail('BAD_MODEL_FILE', `${name} holds state of optimizer "${saved.owner}", which this twotower does not know`);
        const sizes = OPTIMIZERS[saved.owner as OptimizerName].state(group).map((n) => Math.max(4, n));
        if (sizes.length !== saved.slots.length || sizes.some((n, i) => saved.slots[i]!.length !== n))
          fail(
            'BAD_MODEL_FILE',
            `${name} is corrupted: "${saved.group}"'s ${saved.owner} state has slots of ${saved.slots.map((x) => x.length).join(', ')} floats, expected ${sizes.join(', ')}`,
          );
        store.useState(group, saved.owner, sizes);
        store.stateOf(group).forEach((slot, i) => core.backend.floats(slot.ptr, slot.floats).set(saved.slots[i]!));
      }
    });
    if (contents.loss !== undefined) {
      if (!Object.hasOwn(LOSSES, contents.loss))
        fail('BAD_MODEL_FILE', `${name} was trained with loss "${contents.loss}", which this twotower does not know`);
      core.trainedWith = {
        loss: contents.loss,
        implicit: LOSSES[contents.loss as LossName].implicit,
        ...(contents.training ? { settings: contents.training } : {}),
      };
    }
    const vocabularies: ModelVocabularies = {};
    if (contents.vocabularies.user) vocabularies.users = Vocabulary.fromJSON(contents.vocabularies.user);
    if (contents.vocabularies.item) vocabularies.items = Vocabulary.fromJSON(contents.vocabularies.item);
    asModelFileError(name, () => model.setVocabularies(vocabularies));
    core.metadata = contents.metadata;
    if (contents.seen) {
      const { offsets, ids } = contents.seen;
      asModelFileError(name, () => checkCsr(offsets, ids, core.userCount, core.itemCount, 'seen'));
      core.seen = contents.seen;
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * What a model file's header says beside the config must agree with the config and its tables,
 * checked before anything is allocated: each vocabulary maps exactly its side's rows (a hashed
 * one into as many buckets, an exact one with a key for every row but the unknown-id row 0); the
 * loss can train the config; the training settings are what fit() accepts (named as the file's,
 * not as the caller's options) and hold only settings a model carries. Throws BAD_MODEL_FILE
 * naming the field and its value.
 */
function checkHeaderAgainstModel(contents: ReturnType<typeof decodeModelFile>, name: string): void {
  const bad = (what: string): never => fail('BAD_MODEL_FILE', `${name} is corrupted: ${what}`);
  const config = contents.config;
  for (const side of ['user', 'item'] as const) {
    const vocab = contents.vocabularies[side];
    if (!vocab) continue;
    const id = config[side].features.find((f) => f.kind === 'id');
    const table = side === 'user' ? contents.userFeatures : contents.itemFeatures;
    const rows = id ? id.vocabSize : (table?.count ?? 0);
    const what = id ? `the ${side} id table has ${rows} rows` : `the ${side} feature table has ${rows} rows`;
    if (vocab.mode === 'hash' && vocab.buckets !== rows) bad(`vocabularies.${side}.buckets is ${vocab.buckets}, but ${what}`);
    if (vocab.mode === 'exact' && vocab.keys!.length + 1 !== rows)
      bad(`vocabularies.${side}.keys holds ${vocab.keys!.length} keys, but ${what} (${rows - 1} keys and the unknown-id row 0)`);
  }
  if (contents.loss === undefined) return;
  if (!Object.hasOwn(LOSSES, contents.loss))
    fail('BAD_MODEL_FILE', `${name} was trained with loss "${contents.loss}", which this twotower does not know`);
  const conflict = lossConflict(LOSSES[contents.loss as LossName], config);
  if (conflict) bad(`loss is ${JSON.stringify(contents.loss)}, but ${conflict}`);
  const training = contents.training;
  if (training === undefined) return;
  asModelFileError(name, () => checkCarriedSettings(training, 'training'));
  if (training.optimizers !== undefined) {
    const groups = asModelFileError(name, () => TwoTower.parameterGroups(config));
    try {
      planOptimizers(groups, training.optimizers as OptimizerOptions, 1);
    } catch (error) {
      bad(`training.optimizers is ${JSON.stringify(training.optimizers)}: ${(error as Error).message}`);
    }
  }
}

/** Errors that mean "this file does not describe a valid model" become BAD_MODEL_FILE; memory errors stay what they are. */
function toModelFileError(name: string, error: unknown): never {
  if (
    error instanceof TwoTowerError &&
    (error.code === 'OUT_OF_MEMORY' || error.code === 'LOAD_FAILED' || error.code === 'UNSUPPORTED')
  )
    throw error;
  fail('BAD_MODEL_FILE', `${name} is corrupted: ${(error as Error).message}`, { cause: error });
}

function asModelFileError<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    toModelFileError(name, error);
  }
}

async function asModelFileErrorAsync<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    toModelFileError(name, error);
  }
}

/** A per-user list of item indices: offsets from 0, non-decreasing, ending at ids.length; ids in range. */
function checkCsr(offsets: Int32Array, ids: Int32Array, rows: number, limit: number, where: string): void {
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
