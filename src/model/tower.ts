// One tower: entity indices → feature lookups concatenated into X0 → Dense(+ReLU)… → Dense → the
// d-dimensional embedding. Forward and backward sit side by side; each step is one kernel call.
import type { Backend } from '../wasm/backend.js';
import { featureWidth, type FeatureSpec, type TowerConfig, type TowerSide, type IdFeature } from './config.js';
import type { ParamBlock, ParameterStore } from './parameters.js';
import { validateFeatureTable, type FeatureTable, type MultiHotColumn } from './features.js';

interface DenseLayer {
  readonly w: ParamBlock;
  readonly b: ParamBlock;
  readonly inWidth: number;
  readonly outWidth: number;
  readonly relu: boolean;
}

interface FeatureSlot {
  readonly spec: FeatureSpec;
  /** First column of this feature in X0. */
  readonly column: number;
  /** Embedding table (absent for numeric features). */
  readonly table?: ParamBlock;
  /** Attention pooling's learned query vector. */
  readonly attention?: ParamBlock;
  /** Uploaded column data in the heap (0 when not applicable). */
  data: number;
  offsets: number;
  ids: number;
  weights: number;
}

export class Tower {
  readonly inputWidth: number;
  readonly layers: DenseLayer[] = [];
  readonly slots: FeatureSlot[] = [];
  readonly idFeature: IdFeature | undefined;
  /** Number of entities this tower can encode (0 until features are set, if it has no id feature). */
  count = 0;
  /** The feature table last set (kept for saving the model). */
  table: FeatureTable | undefined;
  private backend: Backend | null = null;
  private capacity = 0;
  private scratch: number[] = [];
  private x0 = 0;
  private dx0 = 0;
  private acts: number[] = [];
  private dActs: number[] = [];
  private catIds = new Map<FeatureSlot, number>();
  /** The `scored` pointer of the last forward call, which backward must use too. */
  private scored = 0;

  constructor(readonly side: TowerSide, readonly config: TowerConfig, readonly dim: number,
              store: ParameterStore, embeddingStd: number) {
    let column = 0;
    for (const spec of config.features) {
      const table = spec.kind === 'numeric' ? undefined
        : store.declare(`${side}.${spec.name}.embedding`, [spec.vocabSize, spec.dim], { kind: 'normal', std: embeddingStd });
      const attention = spec.kind === 'multiHot' && spec.pooling === 'attention'
        ? store.declare(`${side}.${spec.name}.attention`, [spec.dim], { kind: 'zeros' }) : undefined;
      this.slots.push({ spec, column, table, attention, data: 0, offsets: 0, ids: 0, weights: 0 });
      column += featureWidth(spec);
    }
    this.inputWidth = column;
    this.idFeature = config.features.find((f): f is IdFeature => f.kind === 'id');
    if (this.idFeature) this.count = this.idFeature.vocabSize;
    const widths = [...(config.hidden ?? [])];
    if (config.project !== false) widths.push(dim);
    let inWidth = column;
    widths.forEach((outWidth, l) => {
      const relu = l < (config.hidden ?? []).length;
      // He-uniform before a ReLU keeps activations' variance; Glorot-uniform for the linear output.
      const limit = relu ? Math.sqrt(6 / inWidth) : Math.sqrt(6 / (inWidth + outWidth));
      const w = store.declare(`${side}.dense${l}.weight`, [inWidth, outWidth], { kind: 'uniform', limit });
      const b = store.declare(`${side}.dense${l}.bias`, [outWidth], { kind: 'zeros' });
      this.layers.push({ w, b, inWidth, outWidth, relu });
      inWidth = outWidth;
    });
  }

  /** Does any input feature carry gradient back to a table? */
  private get learnsInputs(): boolean {
    return this.slots.some((s) => s.table !== undefined);
  }

  attach(backend: Backend): void {
    this.backend = backend;
  }

  private get be(): Backend {
    if (!this.backend) throw new Error('Tower: not attached');
    return this.backend;
  }

  /** Whether every feature has its data: true for an id-only tower, else after setFeatures(). */
  get ready(): boolean {
    return this.count > 0 && this.slots.every((s) => s.spec.kind === 'id' || s.data !== 0 || s.offsets !== 0);
  }

  /** Rows this tower's id feature reads: the entity indices themselves, or an id column. */
  private idRows(slot: FeatureSlot, rows: number, n: number): number {
    if (slot.data === 0) return rows;
    const ids = this.catIds.get(slot)!;
    this.be.kernels.gather_i32(ids, slot.data, rows, n);
    return ids;
  }

  /** Validates then uploads per-entity feature columns; on error nothing changes. */
  setFeatures(table: FeatureTable): void {
    validateFeatureTable(table, this.config.features, this.side);
    const be = this.be;
    this.freeFeatureData();
    for (const slot of this.slots) {
      const column = table.columns[slot.spec.name];
      if (slot.spec.kind === 'categorical' || (slot.spec.kind === 'id' && column !== undefined)) {
        slot.data = upload(be, column as Int32Array);
      } else if (slot.spec.kind === 'numeric') {
        slot.data = uploadFloats(be, column as Float32Array);
      } else if (slot.spec.kind === 'multiHot') {
        const bag = column as MultiHotColumn;
        slot.offsets = upload(be, bag.offsets);
        slot.ids = upload(be, bag.ids);
        slot.weights = bag.weights ? uploadFloats(be, bag.weights) : 0;
      }
    }
    this.count = table.count;
    this.table = table;
  }

  private freeFeatureData(): void {
    for (const slot of this.slots) {
      for (const key of ['data', 'offsets', 'ids', 'weights'] as const) {
        if (slot[key] !== 0) this.be.free(slot[key]);
        slot[key] = 0;
      }
    }
  }

  /** Sizes scratch for batches of up to n rows; reallocates only when n grows. */
  reserve(n: number): void {
    if (n <= this.capacity) return;
    this.freeScratch();
    const be = this.be;
    const f = be.floatBytes;
    const take = (bytes: number): number => {
      const p = be.alloc(bytes);
      this.scratch.push(p);
      return p;
    };
    this.x0 = take(n * this.inputWidth * f);
    this.dx0 = this.learnsInputs ? take(n * this.inputWidth * f) : 0;
    this.acts = this.layers.map((l) => take(n * l.outWidth * f));
    this.dActs = this.layers.map((l) => take(n * l.outWidth * f));
    for (const slot of this.slots) if (slot.spec.kind === 'categorical' || slot.spec.kind === 'id') this.catIds.set(slot, take(n * 4));
    this.capacity = n;
  }

  private freeScratch(): void {
    for (const p of this.scratch) this.be.free(p);
    this.scratch = [];
    this.catIds.clear();
    this.capacity = 0;
  }

  /**
   * Embeds rows (i32 entity indices at `rows`, n ≤ reserved) and returns the n×dim output
   * pointer. `scored` (i32 per row, or 0) is the item each row is being scored against: features
   * marked excludeScoredItem leave it out of their set.
   */
  forward(store: ParameterStore, rows: number, n: number, scored = 0): number {
    this.scored = scored;
    const k = this.be.kernels;
    const f = this.be.floatBytes;
    const ld = this.inputWidth;
    for (const slot of this.slots) {
      const out = this.x0 + slot.column * f;
      const spec = slot.spec;
      if (spec.kind === 'id') {
        k.embedding_gather(out, store.ptr(slot.table!), this.idRows(slot, rows, n), n, spec.dim, ld);
      } else if (spec.kind === 'categorical') {
        const ids = this.catIds.get(slot)!;
        k.gather_i32(ids, slot.data, rows, n);
        k.embedding_gather(out, store.ptr(slot.table!), ids, n, spec.dim, ld);
      } else if (spec.kind === 'multiHot' && slot.attention) {
        k.embedding_bag_attention(out, store.ptr(slot.table!), slot.offsets, slot.ids, rows, n, spec.dim, ld, store.ptr(slot.attention));
      } else if (spec.kind === 'multiHot') {
        k.embedding_bag(out, store.ptr(slot.table!), slot.offsets, slot.ids, slot.weights, rows,
          spec.excludeScoredItem ? scored : 0, n, spec.dim, ld, spec.pooling === 'sum' ? 0 : 1);
      } else {
        k.gather_rows(out, slot.data, rows, n, spec.size, ld);
      }
    }
    let input = this.x0;
    this.layers.forEach((layer, l) => {
      const out = this.acts[l]!;
      k.dense_forward(out, input, store.ptr(layer.w), store.ptr(layer.b), n, layer.inWidth, layer.outWidth);
      if (layer.relu) k.relu_forward(out, out, n * layer.outWidth);
      input = out;
    });
    return input;
  }

  /**
   * Back-propagates dOut (n×dim, at `dOut`) through the rows of the last forward call, adding
   * parameter gradients into the store's gradient region. May overwrite dOut.
   */
  backward(store: ParameterStore, rows: number, n: number, dOut: number): void {
    const k = this.be.kernels;
    const f = this.be.floatBytes;
    let dY = dOut;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      const input = l === 0 ? this.x0 : this.acts[l - 1]!;
      if (layer.relu) k.relu_backward(dY, dY, this.acts[l]!, n * layer.outWidth);
      k.dense_backward_weight(store.gradPtr(layer.w), input, dY, n, layer.inWidth, layer.outWidth, 1);
      k.bias_backward(store.gradPtr(layer.b), dY, n, layer.outWidth, 1);
      if (l > 0) {
        k.dense_backward_input(this.dActs[l - 1]!, dY, store.ptr(layer.w), n, layer.inWidth, layer.outWidth);
        dY = this.dActs[l - 1]!;
      } else if (this.learnsInputs) {
        k.dense_backward_input(this.dx0, dY, store.ptr(layer.w), n, layer.inWidth, layer.outWidth);
        dY = this.dx0;
      } else {
        return;
      }
    }
    // dY is now the gradient of X0 (n × inputWidth): scatter each feature's block to its table.
    const ld = this.inputWidth;
    for (const slot of this.slots) {
      const spec = slot.spec;
      const src = dY + slot.column * f;
      if (spec.kind === 'id') {
        k.embedding_scatter_add(store.gradPtr(slot.table!), src, slot.data === 0 ? rows : this.catIds.get(slot)!, n, spec.dim, ld);
      } else if (spec.kind === 'categorical') {
        k.embedding_scatter_add(store.gradPtr(slot.table!), src, this.catIds.get(slot)!, n, spec.dim, ld);
      } else if (spec.kind === 'multiHot' && slot.attention) {
        k.embedding_bag_attention_backward(store.gradPtr(slot.table!), store.gradPtr(slot.attention), src, store.ptr(slot.table!),
          slot.offsets, slot.ids, rows, n, spec.dim, ld, store.ptr(slot.attention));
      } else if (spec.kind === 'multiHot') {
        k.embedding_bag_scatter_add(store.gradPtr(slot.table!), src, slot.offsets, slot.ids, slot.weights, rows,
          spec.excludeScoredItem ? this.scored : 0, n, spec.dim, ld, spec.pooling === 'sum' ? 0 : 1);
      }
    }
  }

  free(): void {
    if (!this.backend) return;
    this.freeScratch();
    this.freeFeatureData();
    this.backend = null;
  }
}

/** Copies an Int32Array into a fresh heap block and returns its address. */
export function upload(be: Backend, values: Int32Array): number {
  const p = be.alloc(Math.max(1, values.length) * 4);
  be.ints(p, values.length).set(values);
  return p;
}

/** Copies floats into a fresh heap block (converted to the backend's float width). */
export function uploadFloats(be: Backend, values: Float32Array | Float64Array): number {
  const p = be.alloc(Math.max(1, values.length) * be.floatBytes);
  be.floats(p, values.length).set(values);
  return p;
}
