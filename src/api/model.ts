// The public model: what users hold. It wraps the internal core (src/model/twotower.ts) in a
// private field, so the parameter store, scratch, caches and revision counter are out of reach:
// every change goes through a method that keeps derived data (recommend's item index) valid.
// The façade only: ids ↔ rows are ids.ts, building a core create.ts, model files model-bytes.ts,
// updates update.ts, explanations explain.ts, ONNX onnx.ts.
import { fail } from '../errors.js';
import type { BackendKind, HeapStats } from '../backend/contract.js';
import type { TwoTowerConfig } from '../config/model.js';
import type { FeatureTable } from '../config/feature-table.js';
import type { Interactions } from '../data/interactions.js';
import { csrRow } from '../data/csr.js';
import { checkBooleans, checkId } from '../data/checks.js';
import { TwoTower } from '../model/twotower.js';
import { fit as fitCore } from '../train/fit.js';
import type { LossName } from '../train/losses/index.js';
import type { FitOptions, FitResult } from '../train/options.js';
import type { RankingOptions, RankingMetrics } from '../eval/ranking.js';
import { recommend, similarItems, recommendForHistory, type RecommendOptions, type HistoryOptions } from '../rank/recommend.js';
import { modelRows, deprecated, type ModelRows } from './rows.js';
import type { TopKResult } from '../rank/topk-result.js';
import { towerOnnx, onnxInputs, type OnnxInput, type OnnxInputsOptions } from './onnx.js';
import { updateCore, addItemsCore, foldInCore, type FoldInOptions, type UpdateOptions, type UpdateResult } from './update.js';
import type { UpdateEvent } from './update-events.js';
import type { EntityFeatures } from './grow-core.js';
import { explainForUser, type Explanation, type ExplainByIdOptions } from './explain.js';
import { reasonPhrases, wordsContext, type PersonRatings, type ReasonPhrase } from './reason-words.js';
import { createCore, type CreateModelOptions } from './create.js';
import { decodeCore, encodeCore, metadataCopy, type LoadModelOptions } from './model-bytes.js';
import { labelOf, setLabelsOn, type LabelsInput, type SetLabelsResult } from './labels.js';
import { decodeBundle, encodeBundle, type BundleOptions } from './bundle.js';
import { personalize, restorePersonal, type Personal, type PersonalEvent, type PersonalizeOptions } from './personal.js';
import { exportEmbeddings, type EmbeddingExport, type ExportEmbeddingsOptions } from './vector-export.js';
import { pytorchFiles, type PyTorchFiles } from './pytorch-export.js';
import {
  itemFilter,
  itemIdOf,
  resultLists,
  rowOf,
  setVocabularies,
  type Id,
  type ModelVocabularies,
  type Recommendation,
  type RecommendByIdOptions,
} from './ids.js';

/** Training entry points refuse a core loaded from a serving bundle. */
function trainable(core: TwoTower, what: string): void {
  if (core.servingOnly)
    fail(
      'SERVING_ONLY',
      `${what}: this model was loaded from a serving bundle, which ranks and personalises but does not train: train the full model (loadModel) and export a new bundle`,
    );
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
  /** Threads training runs on (1 unless createModel's `threads` could be honoured). */
  get threads(): number {
    return this.#core.threads?.size ?? 1;
  }
  /** Which arithmetic runs the model: 'simd' or 'relaxed' WASM, or the f64 'reference'. */
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
    setVocabularies(this.#core, vocabularies);
  }

  /**
   * Sets human names (titles) of items and users, saved with the model and shown as `label` on
   * results: `{ items?, users? }`, each a Map, an object `{ id: label }` or a list of `[id,
   * label]` pairs, in your ids. A label replaces the id's old one; labels for ids the model does
   * not have are dropped (`unknown` counts them). See docs/guide.md, "Labels".
   */
  setLabels(labels: LabelsInput): SetLabelsResult {
    return setLabelsOn(this.#core, labels);
  }
  /** The label of an item id (or of a user id with `side: 'user'`), or undefined without one. */
  label(id: Id, options: { side?: 'item' | 'user' } = {}): string | undefined {
    const side = options.side ?? 'item';
    if (side !== 'item' && side !== 'user') fail('BAD_OPTION', `side must be 'item' or 'user', got ${JSON.stringify(side)}`);
    checkId(id, `a ${side} id`);
    return labelOf(this.#core, side, id);
  }
  /** Copies of every label, by id (keys as results name ids: strings). */
  get labels(): { items: Map<string, string>; users: Map<string, string> } {
    return { items: new Map(this.#core.labels.items ?? []), users: new Map(this.#core.labels.users ?? []) };
  }

  /** True for a model loaded from a serving bundle (loadBundle): it ranks and personalises, but fit, update and addItems throw SERVING_ONLY. */
  get servingOnly(): boolean {
    return this.#core.servingOnly;
  }

  /** Free JSON-serialisable facts saved with the model (data source, settings). */
  get metadata(): Record<string, unknown> {
    return structuredClone(this.#core.metadata);
  }
  set metadata(value: Record<string, unknown>) {
    this.#core.metadata = metadataCopy(value);
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
    trainable(this.#core, 'fit');
    return fitCore(this.#core, train, options);
  }

  // ---- In the user's ids ------------------------------------------------------------------
  // Ids are mapped through the model's vocabularies (a model trained from files or by train()
  // has them). A model without a vocabulary for a side speaks its row indices as ids there.

  /** The row of a user or item id (see ids.ts). */
  private row(side: 'user' | 'item', id: Id): number {
    return rowOf(this.#core, side, id);
  }
  /** The id of item row j. */
  private itemId(j: number): Id {
    return itemIdOf(this.#core, j);
  }

  /**
   * The top items for a user id — or for each of several — as `{ id, score }`, best first:
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
    const rows = ids.map((id) => this.row('user', id));
    const k = options.k ?? 10;
    const excludeSeen = options.excludeSeen ?? this.hasTrainingHistory;
    const top = recommend(this.#core, rows, { k, excludeSeen, ...itemFilter(this.#core, options) });
    const out = resultLists(this.#core, top, rows.length, k, rows);
    if (options.explain) {
      const settings = options.explain === true ? {} : options.explain;
      out.forEach((list, r) => {
        const items = list.map((x) => this.row('item', x.id));
        const why = explainForUser(this.#core, rows[r]!, ids[r]!, items, (j) => this.itemId(j), settings);
        list.forEach((x, i) => {
          x.words = why[i]!.words;
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
    const row = this.row('user', user);
    return explainForUser(this.#core, row, user, [this.row('item', item)], (j) => this.itemId(j), options)[0]!;
  }

  /**
   * An explanation's reasons in words with what stands behind each: `{ text, kind, contribution,
   * parts }`, largest share first — `contribution` the exact sum of the attributions `parts`
   * names ("item genres", "had 50"). `explanation.words` holds the same texts. `ratings`: the
   * user's own, so the words can say them; `count` phrases (default 3).
   */
  reasonPhrases(explanation: Explanation, options: { ratings?: PersonRatings; count?: number } = {}): ReasonPhrase[] {
    const context = wordsContext(
      this.#core,
      this.row('user', explanation.user),
      this.row('item', explanation.item),
      options.ratings,
    );
    return reasonPhrases(explanation, context, { count: options.count ?? 3 });
  }

  /** Cold start: the top items for someone not in the model, from the item ids they interacted with. */
  recommendFromHistory(items: readonly Id[], options: RecommendByIdOptions & { feature?: string } = {}): Recommendation[] {
    const rows = items.map((id) => this.row('item', id));
    const k = options.k ?? 10;
    const top = recommendForHistory(this.#core, [rows], {
      k,
      excludeSeen: options.excludeSeen ?? true,
      feature: options.feature,
      ...itemFilter(this.#core, options),
    });
    return resultLists(this.#core, top, 1, k)[0]!;
  }

  /**
   * A personal handle from one person's own events, found on this device against the frozen item
   * tower (fold-in for rating models, the pooled history where the user tower has one, else a
   * few Newton steps on the person's vector): recommend, similar, explain, update, toBytes. The
   * model is not changed. See docs/personalisation.md.
   */
  personalize(events: readonly PersonalEvent[], options: PersonalizeOptions = {}): Personal {
    return personalize(() => this.#core, events, options);
  }
  /** A personal handle back from Personal.toBytes(); another model's bytes are refused (BAD_MODEL_FILE). */
  personal(bytes: Uint8Array): Personal {
    return restorePersonal(() => this.#core, bytes);
  }

  /** The items most like an item id, by the cosine of their embeddings: `{ id, score }`, best first. */
  similarItems(item: Id, options: { k?: number } = {}): Recommendation[] {
    const k = options.k ?? 10;
    return resultLists(this.#core, similarItems(this.#core, this.row('item', item), k), 1, k)[0]!;
  }

  /** The model's score for a (user id, item id) pair: the predicted rating for a rating model. */
  predict(user: Id, item: Id): number {
    return this.#core.predict([this.row('user', user)], [this.row('item', item)])[0]!;
  }

  // ---- In row indices (for power users): model.rows; the old names below go in 0.3.0 -------

  /** The id verbs over row indices: recommend, recommendFromHistory, similarItems, predict, evaluate…, rows in and out. */
  readonly rows: ModelRows = modelRows(() => this.#core);

  /** RMSE and MAE of the model's predictions against the given ratings (rows; as rows.evaluate()). */
  evaluate(data: Interactions): { rmse: number; mae: number } {
    return this.rows.evaluate(data);
  }

  /** @deprecated Use model.rows.predict. */
  predictIndices(users: ArrayLike<number>, items: ArrayLike<number>): Float32Array {
    return deprecated('predictIndices', 'predict', this.rows).predict(users, items);
  }
  /** @deprecated Use model.rows.recommend. */
  recommendIndices(users: ArrayLike<number>, options: RecommendOptions = {}): TopKResult {
    return deprecated('recommendIndices', 'recommend', this.rows).recommend(users, options);
  }
  /** @deprecated Use model.rows.recommendFromHistory. */
  recommendForHistoryIndices(histories: ArrayLike<number>[], options: HistoryOptions = {}): TopKResult {
    return deprecated('recommendForHistoryIndices', 'recommendFromHistory', this.rows).recommendFromHistory(histories, options);
  }
  /** @deprecated Use model.rows.similarItems(item, { k }). */
  similarIndices(item: number, k = 10): TopKResult {
    return deprecated('similarIndices', 'similarItems', this.rows).similarItems(item, { k });
  }
  /** @deprecated Use model.rows.evaluateRanking. */
  evaluateRanking(test: Pick<Interactions, 'users' | 'items'>, options: RankingOptions = {}): RankingMetrics {
    return deprecated('evaluateRanking', 'evaluateRanking', this.rows).evaluateRanking(test, options);
  }
  /** @deprecated Use model.rows.userEmbeddings. */
  userEmbeddings(users?: ArrayLike<number>): Float32Array {
    return deprecated('userEmbeddings', 'userEmbeddings', this.rows).userEmbeddings(users);
  }
  /** @deprecated Use model.rows.itemEmbeddings. */
  itemEmbeddings(items?: ArrayLike<number>): Float32Array {
    return deprecated('itemEmbeddings', 'itemEmbeddings', this.rows).itemEmbeddings(items);
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
    return exportEmbeddings(this.#core, options);
  }

  /**
   * The model as a small Python package for PyTorch, as files by name (write them into a
   * directory): model.py (the towers as nn.Modules computing this model's embeddings; load(dir)),
   * train.py (continued training with the same losses, DDP-ready under torchrun), the weights and
   * feature columns as safetensors, the vocabularies as JSON. importModel() reads it back. See
   * docs/scale-out.md.
   */
  toPyTorch(): PyTorchFiles {
    return pytorchFiles(this.#core);
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
    return encodeCore(core, withState);
  }

  /**
   * A serving bundle: what a device needs to rank and personalise, without optimizer state or
   * training data — the item vectors (int8 with a scale per row by default, or f32), the item
   * biases, the user tower's parameters (by default without the per-user id table: a device
   * serves one person; `users: true` keeps every user, their features and training items),
   * vocabularies, labels and the training settings personalisation reads. loadBundle() makes it
   * a Model again. See BundleOptions and docs/serving.md.
   */
  toBundle(options: BundleOptions = {}): Uint8Array {
    const core = this.#core;
    core.ensureReady();
    return encodeBundle(core, options);
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
   * a dispose() from a callback ends it with DISPOSED and the model stays disposed. While an
   * update that grows the model runs, the old and the grown model are both in memory; one of
   * known ids only (no feature rows, no interaction sets) trains the model in place, at a cost
   * that follows its events rather than the catalogue. See docs/updates.md.
   */
  update(events: readonly UpdateEvent[], options: UpdateOptions = {}): UpdateResult {
    this.#core.live();
    trainable(this.#core, 'update');
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
    trainable(this.#core, 'addItems');
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

/** Builds a model from its config, with freshly initialised (seeded) parameters. */
export async function createModel(config: TwoTowerConfig, options: CreateModelOptions = {}): Promise<Model> {
  return wrap(await createCore(config, options));
}

/**
 * A model from a serving bundle's bytes (Model.toBundle, `twotower export --format bundle`): it
 * recommends, explains and personalises as the model it came from did (its item vectors as the
 * bundle keeps them), and fit, update and addItems throw SERVING_ONLY. Throws BAD_MODEL_FILE for
 * bytes that are not a bundle, are truncated or corrupted.
 */
export async function loadBundle(bytes: Uint8Array, options: LoadModelOptions = {}): Promise<Model> {
  return wrap(await decodeBundle(bytes, options));
}

/**
 * Rebuilds a model from the bytes of a model file (see Model.toBytes). Throws a TwoTowerError
 * for a file that is not a model, is truncated or corrupted, or has a newer format version.
 */
export async function loadModel(bytes: Uint8Array, options: LoadModelOptions = {}): Promise<Model> {
  return wrap(await decodeCore(bytes, options));
}

/**
 * @internal loadModel with the kernels on `threads` (createModel's `threads`): a model trained in
 * a worker (recipe: 'best''s members) returned to a caller who asked for threads.
 */
export async function loadModelOnThreads(bytes: Uint8Array, threads: number): Promise<Model> {
  return wrap(await decodeCore(bytes, {}, threads));
}
