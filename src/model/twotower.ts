// The two-tower model's core: a user tower and an item tower into one d-dimensional space, the
// score of a pair being ⟨u, v⟩ plus optional global / user / item biases. Parameters, gradients
// and optimizer state live in one ParameterStore, group by group, in the backend's heap. This class is internal:
// users hold a Model (src/api/model.ts), which wraps it; training (src/train/) drives its
// forward and backward passes. Every change to the values goes through one method, write(),
// which keeps the revision and what is derived from the values (recommend's item index) true.
import type { Backend, KernelThreads } from '../backend/contract.js';
import { fail } from '../errors.js';
import type { TwoTowerConfig, TowerSide } from '../config/model.js';
import type { FeatureTable } from '../config/feature-table.js';
import { validateConfig } from './validate-config.js';
import { ParameterStore, groupBlocks, type ParamBlock, type ParamGroup } from './parameters.js';
import { Tower } from './tower.js';
import { byRows, type ByRows } from './row-split.js';
import { checkIndices } from '../data/interactions.js';
import type { Vocabulary } from '../data/vocabulary.js';
import { groupByRow, type Csr } from '../data/csr.js';
import { Slots, type Freeable, type SlotKey } from './slots.js';
import { PairScratch } from './pair-scratch.js';

/**
 * A validated copy of a config as plain JSON data: a config is saved in model files, so functions,
 * cycles and non-JSON values are refused here rather than in toBytes().
 */
function plainConfig(config: TwoTowerConfig): TwoTowerConfig {
  let copy: TwoTowerConfig;
  try {
    copy = JSON.parse(JSON.stringify(config)) as TwoTowerConfig;
  } catch (cause) {
    fail('BAD_CONFIG', `config must be plain JSON data (no cycles, no BigInt): ${(cause as Error).message}`, {}, { cause });
  }
  validateConfig(copy);
  return copy;
}

/** Rows per chunk when predicting or embedding many entities: bounds scratch memory. */
const CHUNK = 4096;

export class TwoTower {
  /** Set by dispose(): every later call throws DISPOSED. */
  disposed = false;
  readonly config: TwoTowerConfig;
  readonly backend: Backend;
  readonly store = new ParameterStore();
  readonly userTower: Tower;
  readonly itemTower: Tower;
  readonly bias: { global?: ParamBlock; user?: ParamBlock; item?: ParamBlock };
  /** Id ↔ index maps of the users and items, when the data came with string ids (files, CLI). */
  vocabularies: { users?: Vocabulary; items?: Vocabulary } = {};
  /** Each user's training items (CSR, sorted): what recommend() skips with excludeSeen. */
  seen: Csr | undefined;
  /** The loss the model was last trained with (set by fit(), saved in model files). */
  trainedWith: { loss: string; implicit: boolean; settings?: Record<string, unknown> } | undefined;
  /** Free JSON-serialisable facts saved with the model (data source, feature specs, training settings). */
  metadata: Record<string, unknown> = {};
  /** Human names of users and items (titles), keyed by id as results name them (src/api/labels.ts). */
  labels: { users?: ReadonlyMap<string, string>; items?: ReadonlyMap<string, string> } = {};
  /** Set on a core loaded from a serving bundle (src/api/bundle.ts): it ranks and personalises, never trains. */
  servingOnly = false;
  /** Batch scratch shared by prediction and training. */
  readonly pairs: PairScratch;
  /** Worker threads for row-parallel kernels (createModel's `threads`), or null: one thread. */
  threads: KernelThreads | null = null;
  /** Runs a row-parallel kernel on this model's threads (model/row-split.ts). */
  readonly byRows: ByRows = (total, make, least, align) => byRows(this.backend, this.threads, total, make, least, align);

  // The write path's state: only write(), reinitialize() and the feature setters change it.
  #revision = 0;
  #pristine = false;
  #steps = 0;
  #writing = false;
  /** Other layers' scratch, each under its owner's key (training's), freed with the model. */
  readonly #scratch = new Slots();
  /** Data derived from the parameters and feature tables (recommend's item index), dropped by every change. */
  readonly #derived = new Slots();

  /**
   * A seeded model of `given` on `backend`. A core grown from another (`grownFrom`, train/grow.ts)
   * counts its revisions on past that one's, so the revision behind a Model never goes back.
   * `threads` (createModel's pool) also draw the initial values.
   */
  constructor(
    given: TwoTowerConfig,
    backend: Backend,
    grownFrom?: TwoTower,
    threads: KernelThreads | null = null,
    /** 'zeros' for a caller that writes every parameter next (a model file's load): no draws. */
    values: 'seeded' | 'zeros' = 'seeded',
  ) {
    const config = plainConfig(given);
    this.config = config;
    this.backend = backend;
    const layout = TwoTower.layout(config, this.store);
    this.userTower = layout.user;
    this.itemTower = layout.item;
    this.bias = layout.bias;
    this.threads = threads;
    this.store.allocate(backend, config.seed ?? 1, this.byRows, values);
    this.#pristine = true;
    if (grownFrom) this.#revision = grownFrom.#revision + 1;
    this.userTower.attach(backend, this.byRows);
    this.itemTower.attach(backend, this.byRows);
    this.pairs = new PairScratch(backend);
  }

  /**
   * Counts the changes to parameters and feature tables: every one goes through write(),
   * reinitialize() or a feature setter, each of which bumps it and drops the derived data.
   */
  get revision(): number {
    return this.#revision;
  }
  /**
   * True while the values are exactly the seeded initialisation (no optimizer step, no values
   * written): a failed first fit() restores such a model by initialising it again, without
   * keeping a copy.
   */
  get pristine(): boolean {
    return this.#pristine;
  }
  /** Optimizer steps taken so far; Adam's bias correction continues from here on the next fit(). Set inside write(). */
  get optimizerSteps(): number {
    return this.#steps;
  }
  set optimizerSteps(steps: number) {
    if (!this.#writing) fail('INTERNAL', 'optimizerSteps is set outside the write path (TwoTower.write)');
    this.#steps = steps;
  }

  /**
   * The one write path for parameter values, optimizer state and the step count: runs `change`
   * with the store open for writing (ParameterStore.writable, writableGroup, writablePointers),
   * then bumps the revision, marks the values as no longer the seeded initialisation and drops
   * the derived data (recommend's item index). All three happen when `change` throws too (some
   * values may be written). A write inside a write is part of the outer one.
   */
  write<T>(change: (store: ParameterStore) => T): T {
    this.live();
    if (this.#writing) return this.store.openForWrites(() => change(this.store));
    this.#writing = true;
    try {
      return this.store.openForWrites(() => change(this.store));
    } finally {
      this.#writing = false;
      this.#pristine = false;
      this.changed();
    }
  }

  /** Back to the seeded initial values with zeroed optimizer state and `optimizerSteps` steps, through write(): pristine again. */
  reinitialize(optimizerSteps = 0): void {
    this.write((store) => {
      store.initialize(this.byRows);
      store.zeroState();
      this.optimizerSteps = optimizerSteps;
    });
    this.#pristine = true;
  }

  /** Something the derived data reads changed: a new revision, the derived data dropped. */
  private changed(): void {
    this.#revision++;
    this.#derived.clear();
  }

  /**
   * The data derived from the parameters and feature tables that `key`'s owner keeps (the
   * ranking layer's item index): made by `make` when missing, dropped (freed) by every change,
   * freed with the model.
   */
  derived<T extends Freeable>(key: SlotKey<T>, make: () => T): T {
    this.live();
    return this.#derived.get(key, make);
  }

  /** The scratch `key`'s owner keeps on this model (training's): made by `make` on first use, freed with the model. */
  scratch<T extends Freeable>(key: SlotKey<T>, make: () => T): T {
    this.live();
    return this.#scratch.get(key, make);
  }

  /** Declares a config's towers and biases into `store` (no allocation). */
  private static layout(config: TwoTowerConfig, store: ParameterStore) {
    const std = config.embeddingInitStd ?? 0.05;
    const user = new Tower('user', config.user, config.dim, store, std, config.item);
    const item = new Tower('item', config.item, config.dim, store, std, config.user);
    const bias: TwoTower['bias'] = {};
    // The global bias trains with the dense group; the per-entity bias tables are tables (rows).
    if (config.bias?.global) bias.global = store.declare('bias.global', [1], { kind: 'zeros' }, 'dense');
    if (config.bias?.user) bias.user = store.declare('bias.user', [user.idFeature!.vocabSize], { kind: 'zeros' }, 'bias');
    if (config.bias?.item) bias.item = store.declare('bias.item', [item.idFeature!.vocabSize], { kind: 'zeros' }, 'bias');
    return { user, item, bias };
  }

  /** The parameter blocks a config declares (name and size), validated, without allocating anything. */
  static parameterBlocks(given: TwoTowerConfig): { name: string; size: number }[] {
    const store = new ParameterStore();
    TwoTower.layout(plainConfig(given), store);
    return store.blocks.map((b) => ({ name: b.name, size: b.size }));
  }

  /**
   * The parameter groups a config declares (for memory plans), checked to fit the allocator's
   * blocks (OUT_OF_MEMORY otherwise). Allocates nothing.
   */
  static parameterGroups(given: TwoTowerConfig): ParamGroup[] {
    const store = new ParameterStore();
    TwoTower.layout(plainConfig(given), store);
    const groups = groupBlocks(store.blocks);
    ParameterStore.checkFits(groups, 4);
    return groups;
  }

  get dim(): number {
    return this.config.dim;
  }
  /** Number of users the model can score (0 until user features are set, without an id feature). */
  get userCount(): number {
    return this.userTower.count;
  }
  get itemCount(): number {
    return this.itemTower.count;
  }

  tower(side: TowerSide): Tower {
    return side === 'user' ? this.userTower : this.itemTower;
  }

  /** Per-user feature columns for the user tower's non-id features. Validated; on error nothing changes. */
  setUserFeatures(table: FeatureTable): void {
    this.live();
    this.checkBiasRows('user', table);
    this.userTower.setFeatures(table);
    this.changed();
  }
  /** Per-item feature columns for the item tower's non-id features. */
  setItemFeatures(table: FeatureTable): void {
    this.live();
    this.checkBiasRows('item', table);
    this.itemTower.setFeatures(table);
    this.changed();
  }

  /**
   * A per-entity bias table has the id feature's vocabSize values and is read (and trained) at
   * the entity's row: a table whose id column gives a biased side more rows than that would read
   * and write past it, so it is refused. (embedUsersWith's tables of other users, which may be
   * longer, are set on the tower directly: nothing reads the biases of their rows.)
   */
  private checkBiasRows(side: TowerSide, table: FeatureTable): void {
    const id = this.tower(side).idFeature;
    if (!this.bias[side] || !id) return;
    // A malformed table is the feature-table validator's to name (Tower.setFeatures).
    const given = table as Partial<FeatureTable> | null | undefined;
    const count = given?.columns?.[id.name] === undefined ? undefined : given.count;
    if (typeof count !== 'number' || !(count > id.vocabSize)) return;
    fail(
      'BAD_CONFIG',
      `${side} features: config.bias.${side} keeps one bias per ${side} row, ${id.vocabSize} of them (the vocabSize of the id feature "${id.name}"), but the id column "${id.name}" gives the ${side} tower ${count} rows: remove config.bias.${side} or raise "${id.name}".vocabSize to at least ${count}`,
      { side, field: id.name, value: count },
    );
  }

  /** Records which items each user interacted with (fit() does this with its training data). */
  setSeen(users: Int32Array, items: Int32Array): void {
    checkIndices(users, this.userCount, 'seen users', 'user');
    checkIndices(items, this.itemCount, 'seen items', 'item');
    this.seen = groupByRow(users, items, this.userCount);
  }

  /**
   * Item rows that stand for no real item: the out-of-vocabulary row (index 0) of an exact item
   * vocabulary. Recommendations and rankings never return them.
   */
  unknownItemRows(): number[] {
    return this.vocabularies.items?.mode === 'exact' ? [0] : [];
  }

  /** Throws unless both towers have what they need to run. */
  ensureReady(): void {
    this.live();
    for (const side of ['user', 'item'] as const) {
      const t = this.tower(side);
      if (!t.ready) {
        const setter = side === 'user' ? 'setUserFeatures' : 'setItemFeatures';
        fail(
          'MISSING_FEATURE',
          `the ${side} tower reads features (${t.config.features.map((f) => f.name).join(', ')}) but none were set: call ${setter}() or pass ${side}Features to createModel()`,
        );
      }
    }
  }

  live(): void {
    if (this.disposed) fail('DISPOSED', 'this model was disposed');
  }

  /** Runs both towers and the pair score on the n rows staged in `pairs`. */
  forwardPairs(n: number, extraItems = 0): { user: number; item: number } {
    const k = this.backend.kernels;
    const p = this.pairs;
    this.userTower.reserve(n);
    this.itemTower.reserve(n + extraItems);
    const user = this.userTower.forward(this.store, p.users, n, p.items);
    // Extra item rows (training's sampled negatives, staged after the pairs) run the item tower only.
    const item = this.itemTower.forward(this.store, p.items, n + extraItems);
    k.rowwise_dot(p.scores, user, item, n, this.dim);
    const { global, user: ub, item: ib } = this.bias;
    if (global || ub || ib) {
      // Biases are read at the rows (checkBiasRows keeps every row inside the bias tables).
      if ((ub && this.userTower.count > ub.size) || (ib && this.itemTower.count > ib.size))
        fail('INTERNAL', 'a tower has more rows than its per-entity bias table');
      k.add_pair_bias(
        p.scores,
        global ? this.store.ptr(global) : 0,
        ub ? this.store.ptr(ub) : 0,
        p.users,
        ib ? this.store.ptr(ib) : 0,
        p.items,
        n,
      );
    }
    return { user, item };
  }

  /** Never hand out NaN or ±∞: parameters that overflow f32 (a tampered file, a diverged model) are an error. */
  private checkFinite(ptr: number, n: number, what: string): void {
    const bad = this.backend.kernels.count_nonfinite(ptr, n);
    if (bad > 0)
      fail(
        'DIVERGED',
        `the model computes ${bad} non-finite ${what} (its parameters overflow float32): it is corrupted or diverged`,
      );
  }

  /** Copies indices (and targets) for n rows into the pair scratch. */
  stagePairs(users: ArrayLike<number>, items: ArrayLike<number>, targets?: ArrayLike<number>): number {
    const n = users.length;
    this.pairs.reserve(n);
    const be = this.backend;
    be.ints(this.pairs.users, n).set(users);
    be.ints(this.pairs.items, n).set(items);
    if (targets) be.floats(this.pairs.targets, n).set(targets);
    return n;
  }

  /**
   * Scores (user, item) pairs: ⟨u, v⟩ plus the configured biases (the predicted rating, for a
   * model trained on ratings). `users` and `items` are entity indices of equal length.
   */
  predict(users: ArrayLike<number>, items: ArrayLike<number>): Float32Array {
    this.ensureReady();
    if (users.length !== items.length) {
      fail('DIMENSION_MISMATCH', `predict: users has ${users.length} entries but items has ${items.length}`);
    }
    checkIndices(users, this.userCount, 'predict: users', 'user');
    checkIndices(items, this.itemCount, 'predict: items', 'item');
    const out = new Float32Array(users.length);
    for (let start = 0; start < users.length; start += CHUNK) {
      const end = Math.min(users.length, start + CHUNK);
      const n = this.stagePairs(sliceOf(users, start, end), sliceOf(items, start, end));
      this.forwardPairs(n);
      const range = this.config.ratingRange;
      if (range) this.backend.kernels.clamp_f32(this.pairs.scores, n, range[0], range[1]);
      this.checkFinite(this.pairs.scores, n, 'scores');
      out.set(this.backend.floats(this.pairs.scores, n), start);
    }
    return out;
  }

  /** Embeddings of the given users (default: all), n×dim row-major. */
  userEmbeddings(users?: ArrayLike<number>): Float32Array {
    return this.embed('user', users);
  }
  /** Embeddings of the given items (default: all), n×dim row-major. */
  itemEmbeddings(items?: ArrayLike<number>): Float32Array {
    return this.embed('item', items);
  }

  private embed(side: TowerSide, indices?: ArrayLike<number>): Float32Array {
    this.ensureReady();
    const rows = indices ?? Int32Array.from({ length: this.tower(side).count }, (_, i) => i);
    return this.byChunks(side, rows, `${side}Embeddings`, this.dim, (tower, staged, n) => {
      const ptr = tower.forward(this.store, staged, n);
      this.checkFinite(ptr, n * this.dim, `${side} embeddings`);
      return ptr;
    });
  }

  /** The towers' inputs X0 of the given entities (n × the tower's inputWidth), every feature's columns side by side. */
  towerInputs(side: TowerSide, indices: ArrayLike<number>): Float32Array {
    this.ensureReady();
    return this.byChunks(side, indices, `${side} inputs`, this.tower(side).inputWidth, (tower, staged, n) =>
      tower.encode(this.store, staged, n),
    );
  }

  /**
   * Runs `produce` on the entity rows in chunks of CHUNK (bounded scratch) and gathers its
   * n × width outputs: the rows are staged in the pair scratch, the tower reserved.
   */
  private byChunks(
    side: TowerSide,
    rows: ArrayLike<number>,
    what: string,
    width: number,
    produce: (tower: Tower, staged: number, n: number) => number,
  ): Float32Array {
    const tower = this.tower(side);
    checkIndices(rows, tower.count, what, side);
    const out = new Float32Array(rows.length * width);
    for (let start = 0; start < rows.length; start += CHUNK) {
      const chunk = sliceOf(rows, start, Math.min(rows.length, start + CHUNK));
      const n = this.stagePairs(chunk, chunk);
      tower.reserve(n);
      const ptr = produce(tower, side === 'user' ? this.pairs.users : this.pairs.items, n);
      out.set(this.backend.floats(ptr, n * width), start * width);
    }
    return out;
  }

  /**
   * Embeddings of users described by a feature table of their own (rows are not the model's
   * users; an id column picks their id embedding). The model's user table is put back after.
   */
  embedUsersWith(table: FeatureTable): Float32Array {
    this.ensureReady();
    const saved = this.userTower.table;
    this.userTower.setFeatures(table);
    try {
      return this.userEmbeddings();
    } finally {
      if (saved) this.userTower.setFeatures(saved);
    }
  }

  /** Copies of every parameter block, by name (e.g. "user.dense0.weight"). */
  parameters(): Record<string, Float32Array> {
    this.live();
    const out: Record<string, Float32Array> = Object.create(null) as Record<string, Float32Array>;
    for (const block of this.store.blocks) out[block.name] = Float32Array.from(this.store.values(block));
    return out;
  }

  /** Frees the model's heap memory. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.#derived.clear();
    this.#scratch.clear();
    this.pairs.free();
    this.threads?.close();
    this.threads = null;
    this.userTower.free();
    this.itemTower.free();
    this.store.free();
    this.disposed = true;
  }
}

function sliceOf(values: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  if (start === 0 && end === values.length) return values;
  if (ArrayBuffer.isView(values)) return (values as unknown as Int32Array).subarray(start, end);
  return Array.prototype.slice.call(values, start, end) as number[];
}
