// One tower: entity indices → each feature's columns of X0 (by its kind's module) → Dense(+ReLU)…
// → Dense → the d-dimensional embedding. Forward and backward sit side by side; each step is one
// kernel call.
import { leastRowsFor, type ByRows } from './row-split.js';
import type { Backend } from '../backend/contract.js';
import { fail } from '../errors.js';
import type { TowerConfig, TowerSide, IdFeature, FeatureSpec } from '../config/model.js';
import type { FeatureTable } from '../config/feature-table.js';
import type { ParamBlock, ParameterStore } from './parameters.js';
import { featureKind, type FeatureSlot, type FeaturePass } from './features/index.js';
import { validateFeatureTable } from './features/table.js';

const kindWidth = (spec: FeatureSpec) => featureKind(spec).width(spec);

/**
 * The prefix of a feature's parameter blocks: "<side>.<name>", or for a tied set the id feature's
 * of the side its tokens belong to ("item.<id name>"), so that it declares that very table.
 */
export function tablePrefix(side: TowerSide, spec: FeatureSpec, own: TowerConfig, other: TowerConfig | undefined): string {
  if (spec.kind !== 'multiHot' || !spec.tied) return `${side}.${spec.name}`;
  const self = spec.tokens === 'self';
  const id = (self ? own : other)?.features.find((f) => f.kind === 'id');
  if (!id) fail('BAD_CONFIG', `the ${side} tower's tied set "${spec.name}" needs an id feature on the side of its tokens`);
  return `${self ? side : side === 'user' ? 'item' : 'user'}.${id.name}`;
}

interface DenseLayer {
  readonly w: ParamBlock;
  readonly b: ParamBlock;
  readonly inWidth: number;
  readonly outWidth: number;
  readonly relu: boolean;
}

export class Tower {
  /** Width of X0, every feature's columns side by side. */
  readonly inputWidth: number;
  /**
   * Width of what the dense layers read (or, without layers, the embedding): inputWidth, or for
   * a tower with `combine: 'sum'` one feature's width — X0's blocks summed (X0·S, S the blocks'
   * identities stacked, a constant the tower keeps in the heap).
   */
  readonly mixWidth: number;
  readonly layers: DenseLayer[] = [];
  readonly slots: FeatureSlot[] = [];
  readonly idFeature: IdFeature | undefined;
  /** Number of entities this tower can encode (0 until features are set, if it has no id feature). */
  count = 0;
  /** The feature table last set (kept for saving the model). */
  table: FeatureTable | undefined;
  /** Does any input feature carry gradient back to parameters of its own? */
  private readonly learnsInputs: boolean;
  private backend: Backend | null = null;
  private capacity = 0;
  private scratch: number[] = [];
  private x0 = 0;
  private dx0 = 0;
  private acts: number[] = [];
  private dActs: number[] = [];
  /** The `scored` pointer of the last forward call, which backward must use too. */
  private scored = 0;

  constructor(
    readonly side: TowerSide,
    readonly config: TowerConfig,
    readonly dim: number,
    store: ParameterStore,
    embeddingStd: number,
    /** The other tower's config: a tied set over its rows reads its id feature's table. */
    other?: TowerConfig,
  ) {
    let column = 0;
    for (const spec of config.features) {
      const kind = featureKind(spec);
      const params = kind.declare(spec, tablePrefix(side, spec, config, other), store, embeddingStd);
      this.slots.push({ spec, column, params, data: {}, rowIds: 0 });
      column += kind.width(spec);
    }
    this.inputWidth = column;
    this.mixWidth = config.combine === 'sum' ? kindWidth(config.features[0]!) : column;
    this.learnsInputs = this.slots.some((s) => featureKind(s.spec).backward !== undefined);
    this.idFeature = config.features.find((f): f is IdFeature => f.kind === 'id');
    if (this.idFeature) this.count = this.idFeature.vocabSize;
    const widths = [...(config.hidden ?? [])];
    if (config.project !== false) widths.push(dim);
    let inWidth = this.mixWidth;
    widths.forEach((outWidth, l) => {
      const relu = l < (config.hidden ?? []).length;
      // He-uniform before a ReLU keeps activations' variance; Glorot-uniform for the linear output.
      const limit = relu ? Math.sqrt(6 / inWidth) : Math.sqrt(6 / (inWidth + outWidth));
      const w = store.declare(`${side}.dense${l}.weight`, [inWidth, outWidth], { kind: 'uniform', limit }, 'dense');
      const b = store.declare(`${side}.dense${l}.bias`, [outWidth], { kind: 'zeros' }, 'dense');
      this.layers.push({ w, b, inWidth, outWidth, relu });
      inWidth = outWidth;
    });
  }

  attach(backend: Backend, byRows: ByRows): void {
    this.backend = backend;
    this.byRows = byRows;
    if (this.mixWidth !== this.inputWidth) {
      // S (inputWidth × mixWidth): the identity once per feature, stacked; and a zero bias.
      const w = this.mixWidth;
      this.sumMatrix = backend.alloc(this.inputWidth * w * backend.floatBytes);
      const view = backend.floats(this.sumMatrix, this.inputWidth * w);
      view.fill(0);
      for (let r = 0; r < this.inputWidth; r++) view[r * w + (r % w)] = 1;
      this.zeroBias = backend.alloc(w * backend.floatBytes);
      backend.floats(this.zeroBias, w).fill(0);
    }
  }

  /** combine: 'sum' only: X0's blocks summed (n × mixWidth) into `out`, through the dense kernel with S. */
  private mix(n: number, out: number): void {
    const f = this.be.floatBytes;
    const [x, s, b, w] = [this.x0, this.sumMatrix, this.zeroBias, this.mixWidth];
    this.byRows!(
      n,
      (r, m) => ({
        kernel: 'dense_forward',
        args: [out + r * w * f, x + r * this.inputWidth * f, s, b, m, this.inputWidth, w],
      }),
      leastRowsFor(this.inputWidth * w),
    );
  }

  /** combine: 'sum' only: dX0 = dMixed·Sᵀ, every block of dX0 a copy of dMixed; returns dX0. */
  private spread(n: number, dMixed: number): number {
    const f = this.be.floatBytes;
    const w = this.mixWidth;
    this.byRows!(
      n,
      (r, m) => ({
        kernel: 'dense_backward_input',
        args: [this.dx0 + r * this.inputWidth * f, dMixed + r * w * f, this.sumMatrix, m, this.inputWidth, w],
      }),
      leastRowsFor(this.inputWidth * w),
    );
    return this.dx0;
  }

  private sumMatrix = 0;
  private zeroBias = 0;
  /** combine: 'sum' only: X0's blocks summed, and its gradient (n × mixWidth each). */
  private mixed = 0;
  private dMixed = 0;

  /** Runs the dense layers' row-parallel kernels on the model's threads. */
  private byRows: ByRows | null = null;

  private get be(): Backend {
    if (!this.backend) fail('INTERNAL', `the ${this.side} tower is not attached to a backend`);
    return this.backend;
  }

  /** Whether every feature has its data: true for an id-only tower, else after setFeatures(). */
  get ready(): boolean {
    return this.count > 0 && this.slots.every((s) => !featureKind(s.spec).needsColumn || Object.keys(s.data).length > 0);
  }

  /** Validates then uploads per-entity feature columns; on error nothing changes. */
  setFeatures(table: FeatureTable): void {
    validateFeatureTable(table, this.config.features, this.side);
    const be = this.be;
    this.freeFeatureData();
    for (const slot of this.slots) slot.data = featureKind(slot.spec).upload(be, slot.spec, table.columns[slot.spec.name]);
    this.count = table.count;
    this.table = table;
  }

  private freeFeatureData(): void {
    for (const slot of this.slots) {
      for (const ptr of Object.values(slot.data)) if (ptr !== 0) this.be.free(ptr);
      slot.data = {};
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
    // dX0 also serves explanations' input gradients (inputGradient), even in towers that learn no inputs.
    this.dx0 = take(n * this.inputWidth * f);
    this.acts = this.layers.map((l) => take(n * l.outWidth * f));
    this.dActs = this.layers.map((l) => take(n * l.outWidth * f));
    if (this.sumMatrix !== 0) {
      this.mixed = take(n * this.mixWidth * f);
      this.dMixed = take(n * this.mixWidth * f);
    }
    for (const slot of this.slots) if (featureKind(slot.spec).rowScratch) slot.rowIds = take(n * 4);
    this.capacity = n;
  }

  private freeScratch(): void {
    for (const p of this.scratch) this.be.free(p);
    this.scratch = [];
    for (const slot of this.slots) slot.rowIds = 0;
    this.capacity = 0;
  }

  /** The batch a feature works on (one object per tower, refilled: forward allocates nothing). */
  private readonly batch: FeaturePass = {
    be: null!,
    k: null!,
    store: null!,
    rows: 0,
    n: 0,
    at: 0,
    ld: 0,
    scored: 0,
    byRows: null!,
  };

  private pass(store: ParameterStore, rows: number, n: number, at: number): FeaturePass {
    const be = this.be,
      p = this.batch;
    p.be = be;
    p.k = be.kernels;
    p.store = store;
    p.rows = rows;
    p.n = n;
    p.at = at;
    p.ld = this.inputWidth;
    p.scored = this.scored;
    p.byRows = this.byRows!;
    return p;
  }

  /**
   * Embeds rows (i32 entity indices at `rows`, n ≤ reserved) and returns the n×dim output
   * pointer. `scored` (i32 per row, or 0) is the item each row is being scored against: features
   * marked excludeScoredItem leave it out of their set.
   */
  forward(store: ParameterStore, rows: number, n: number, scored = 0): number {
    this.encode(store, rows, n, scored);
    return this.runLayers(store, n);
  }

  /** The tower's input X0 (n × inputWidth, row-major) for the rows of the last encode(): explanations scale it. */
  get inputs(): number {
    return this.x0;
  }

  /** Writes every feature's columns of X0 for n rows (forward's first half); returns X0's address. */
  encode(store: ParameterStore, rows: number, n: number, scored = 0): number {
    this.scored = scored;
    const f = this.be.floatBytes;
    for (const slot of this.slots) featureKind(slot.spec).forward(slot, this.pass(store, rows, n, this.x0 + slot.column * f));
    return this.x0;
  }

  /** Runs the dense layers on the n rows of X0 in place (forward's second half); returns the n×dim output. */
  runLayers(store: ParameterStore, n: number): number {
    const k = this.be.kernels;
    const f = this.be.floatBytes;
    let input = this.x0;
    if (this.sumMatrix !== 0) {
      this.mix(n, this.mixed);
      input = this.mixed;
    }
    this.layers.forEach((layer, l) => {
      const out = this.acts[l]!;
      const [w, b, from] = [store.ptr(layer.w), store.ptr(layer.b), input];
      // Rows are independent: split across the model's threads, with the bits of one thread.
      this.byRows!(
        n,
        (r, m) => ({
          kernel: 'dense_forward',
          args: [out + r * layer.outWidth * f, from + r * layer.inWidth * f, w, b, m, layer.inWidth, layer.outWidth],
        }),
        leastRowsFor(layer.inWidth * layer.outWidth),
      );
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
      const input = l > 0 ? this.acts[l - 1]! : this.sumMatrix !== 0 ? this.mixed : this.x0;
      if (layer.relu) k.relu_backward(dY, dY, this.acts[l]!, n * layer.outWidth);
      // dW's rows (one per input column) are independent: split them across the threads.
      const [dW, x, g0] = [store.gradPtr(layer.w), input, dY];
      this.byRows!(
        layer.inWidth,
        (p, rows) => ({
          kernel: 'dense_backward_weight',
          args: [dW + p * layer.outWidth * f, x + p * f, g0, n, rows, layer.outWidth, layer.inWidth, 1],
        }),
        leastRowsFor(n * layer.outWidth),
      );
      k.bias_backward(store.gradPtr(layer.b), dY, n, layer.outWidth, 1);
      if (l === 0 && !this.learnsInputs) return;
      dY = this.layerInputGradient(store, l, n, dY);
    }
    if (this.sumMatrix !== 0) dY = this.spread(n, dY);
    // dY is now the gradient of X0 (n × inputWidth): each feature takes its block of columns.
    for (const slot of this.slots) featureKind(slot.spec).backward?.(slot, this.pass(store, rows, n, dY + slot.column * f));
  }

  /**
   * The gradient of ⟨output, dOut⟩ with respect to X0 for the n rows of the last runLayers(),
   * with no parameter gradient touched (explanations); returns dX0's address (n × inputWidth).
   * May overwrite dOut.
   */
  inputGradient(store: ParameterStore, n: number, dOut: number): number {
    const k = this.be.kernels;
    if (this.layers.length === 0) {
      if (this.sumMatrix !== 0) return this.spread(n, dOut);
      k.copy_f32(this.dx0, dOut, n * this.inputWidth);
      return this.dx0;
    }
    let dY = dOut;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      if (layer.relu) k.relu_backward(dY, dY, this.acts[l]!, n * layer.outWidth);
      dY = this.layerInputGradient(store, l, n, dY);
    }
    return this.sumMatrix !== 0 ? this.spread(n, dY) : dY;
  }

  /** dX = dY·Wᵀ for layer l (rows split across the threads); returns dX's address (dActs[l − 1], or dX0 for layer 0). */
  private layerInputGradient(store: ParameterStore, l: number, n: number, dY: number): number {
    const layer = this.layers[l]!;
    const f = this.be.floatBytes;
    const dX = l > 0 ? this.dActs[l - 1]! : this.sumMatrix !== 0 ? this.dMixed : this.dx0;
    const w = store.ptr(layer.w);
    this.byRows!(
      n,
      (r, m) => ({
        kernel: 'dense_backward_input',
        args: [dX + r * layer.inWidth * f, dY + r * layer.outWidth * f, w, m, layer.inWidth, layer.outWidth],
      }),
      leastRowsFor(layer.inWidth * layer.outWidth),
    );
    return dX;
  }

  free(): void {
    if (!this.backend) return;
    this.freeScratch();
    this.freeFeatureData();
    for (const p of [this.sumMatrix, this.zeroBias]) if (p !== 0) this.backend.free(p);
    this.sumMatrix = this.zeroBias = 0;
    this.backend = null;
  }
}
