// The I-AutoRec training loop (Sedhain et al. 2015, item-based): the kernels are
// assembly/autorec.ts, the optimizer is the fused Adam kernel over one contiguous block of
// parameters. Layout of that block (and of its gradient and two moments), in floats:
//   V: users × h | W: users × h | b: h | c: users
// The objective per step is the full objective divided by the number N of training ratings, so
// that its scale does not depend on the data's size: (1/n_b)·Σ_batch (r̂ − r)² + (λ/(2N))·(‖V‖² + ‖W‖²),
// with n_b the batch's ratings — an unbiased estimate of (1/N)·[Σ_all (r̂ − r)² + (λ/2)(‖V‖² + ‖W‖²)],
// the paper's loss with the squared errors summed. The penalty is plain L2 in the gradient (not
// decoupled decay), as in the paper.
import { fail } from '../errors.js';
import type { Backend } from '../backend/contract.js';
import { Random } from '../util/random.js';
import { validationRows } from './prepare.js';

/** What the loop needs, resolved and checked by its caller (src/api/autorec.ts). */
export interface AutoRecSettings {
  /** Width h of the hidden layer (the model's dim). Default 200 (validation on MovieLens 100K: docs/autorec.md). */
  hidden: number;
  /** The encoder's activation. Default 'sigmoid'. */
  activation: 'sigmoid' | 'tanh';
  /**
   * L2 penalty λ on V and W against the squared errors SUMMED over all training ratings:
   * (λ/2)(‖V‖² + ‖W‖²) + Σ (r̂ − r)². (Each step minimises that divided by the number of
   * training ratings, estimated on its batch.) Default 100.
   */
  lambda: number;
  /** Adam's learning rate (of the first epoch). Default 0.003. */
  learningRate: number;
  /** Per-epoch decay of the learning rate: epoch e (0-based, in the search and in the refit alike) runs at learningRate · lrDecay^e. Default 0.93. */
  lrDecay: number;
  /** Items per Adam step. Default 64. */
  batchItems: number;
  /** Most epochs of the search (and, without validation, the epochs trained). Default 300. */
  epochs: number;
  /** Epochs without a better validation RMSE before the search stops. Default 10. */
  patience: number;
  /** Leave the scored rating out of the encoder's input while training on it. Default true. */
  leaveOut: boolean;
  /** Seeds the validation split, the initial values and the item order. Default 1. */
  seed: number;
  /** Seed of the validation split (default: seed): the recipe's split for the same seed, to weigh this model against others on it. */
  splitSeed?: number;
  /** Share of the training ratings held out to choose the epoch count (0: none, train `epochs`). Default 0.1. */
  validationFraction: number;
  /** After the search, train again on all ratings for the best epoch count. Default true. */
  refit: boolean;
}

/** Ratings as row indices: users and items are rows of tables with `userCount` / `itemCount` rows. */
export interface AutoRecRows {
  userCount: number;
  itemCount: number;
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  ratingRange: [number, number];
}

export interface AutoRecEpoch {
  /** 1 while choosing the epoch count on the validation split, 2 in the refit on all rows. */
  phase: 1 | 2;
  /** 0-based. */
  epoch: number;
  /** The phase's epoch budget. */
  epochs: number;
  /** Mean squared error of the epoch's training ratings (the penalty not included), as trained. */
  loss: number;
  /** RMSE on the validation rows after the epoch (predictions clamped to the rating range); phase 1 with validation only. */
  validationRmse?: number;
  seconds: number;
}

export interface AutoRecCallbacks {
  onEpochEnd?: (info: AutoRecEpoch) => boolean | void;
  onLog?: (line: string) => void;
}

/** The trained parameters, as the score W_u·a_i + c_u reads them. */
export interface AutoRecWeights {
  /** users × h: the decoder's rows, the user tower's table. */
  W: Float32Array;
  /** items × h: the serving item vectors a_i = act(b + Σ r_ui V_u) over all training ratings. */
  A: Float32Array;
  /** One per user: the decoder's bias. */
  c: Float32Array;
}

export interface AutoRecRun {
  weights: AutoRecWeights;
  /** Epochs the returned weights were trained for. */
  epochs: number;
  /** The best validation RMSE of phase 1 (undefined without validation). */
  validationRmse?: number;
  /** Phase 1's validation rows (indices into the given rows), and its best epoch's predictions on them (clamped). */
  validation?: { rows: Int32Array; predictions: Float32Array };
  search: AutoRecEpoch[];
  final?: AutoRecEpoch[];
  /** A callback returned false. */
  stopped: boolean;
}

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Item-major CSR of the listed rows (in row order within an item). */
export function itemCsr(
  rows: AutoRecRows,
  keep: ArrayLike<number>,
): { offsets: Int32Array; raters: Int32Array; ratings: Float32Array } {
  const offsets = new Int32Array(rows.itemCount + 1);
  for (let k = 0; k < keep.length; k++) offsets[rows.items[keep[k]!]! + 1]!++;
  for (let i = 0; i < rows.itemCount; i++) offsets[i + 1] = offsets[i + 1]! + offsets[i]!;
  const fill = offsets.slice(0, rows.itemCount);
  const raters = new Int32Array(keep.length),
    ratings = new Float32Array(keep.length);
  for (let k = 0; k < keep.length; k++) {
    const r = keep[k]!,
      at = fill[rows.items[r]!]!++;
    raters[at] = rows.users[r]!;
    ratings[at] = rows.ratings[r]!;
  }
  return { offsets, raters, ratings };
}

/** One model's parameters, gradient, moments, CSR and scratch on a backend's heap. */
class AutoRecState {
  private readonly blocks: number[] = [];
  readonly total: number;
  readonly P: number;
  readonly G: number;
  readonly M: number;
  readonly S: number;
  readonly offsets: number;
  readonly raters: number;
  readonly ratingsPtr: number;
  readonly itemList: number;
  readonly scratch: number;
  readonly count: number;
  private step = 0;

  constructor(
    private readonly backend: Backend,
    private readonly rows: AutoRecRows,
    private readonly s: AutoRecSettings,
    keep: ArrayLike<number>,
    random: Random,
  ) {
    const { userCount: U, itemCount: I } = rows;
    const h = s.hidden;
    this.total = 2 * U * h + h + U;
    const fb = backend.floatBytes;
    const csr = itemCsr(rows, keep);
    this.count = keep.length;
    try {
      this.P = this.alloc(this.total * fb);
      this.G = this.alloc(this.total * fb);
      this.M = this.alloc(this.total * fb);
      this.S = this.alloc(this.total * fb);
      this.offsets = this.alloc((I + 1) * 4);
      this.raters = this.alloc(Math.max(1, keep.length) * 4);
      this.ratingsPtr = this.alloc(Math.max(1, keep.length) * fb);
      this.itemList = this.alloc(I * 4);
      this.scratch = this.alloc(4 * h * fb);
    } catch (error) {
      this.dispose();
      throw error;
    }
    backend.ints(this.offsets, I + 1).set(csr.offsets);
    backend.ints(this.raters, keep.length).set(csr.raters);
    backend.floats(this.ratingsPtr, keep.length).set(csr.ratings);
    // Glorot-scaled normal tables, zero encoder bias, the decoder's bias at the mean rating.
    const p = new Float64Array(this.total);
    const std = Math.sqrt(2 / (U + h));
    for (let k = 0; k < 2 * U * h; k++) p[k] = random.normal() * std;
    let mean = 0;
    for (let k = 0; k < csr.ratings.length; k++) mean += csr.ratings[k]!;
    mean = csr.ratings.length ? mean / csr.ratings.length : (rows.ratingRange[0] + rows.ratingRange[1]) / 2;
    p.fill(mean, 2 * U * h + h);
    backend.floats(this.P, this.total).set(p);
    backend.kernels.zero_f32(this.M, this.total);
    backend.kernels.zero_f32(this.S, this.total);
  }

  private alloc(bytes: number): number {
    const ptr = this.backend.alloc(bytes);
    this.blocks.push(ptr);
    return ptr;
  }

  private at(floats: number): number {
    return floats * this.backend.floatBytes;
  }

  /** One epoch over the items in `order` at learning rate `lr`; returns the mean squared error of its ratings. */
  epoch(order: Int32Array, lr: number): number {
    const { backend, s } = this;
    const k = backend.kernels;
    const { userCount: U } = this.rows;
    const h = s.hidden;
    const offsets = backend.ints(this.offsets, this.rows.itemCount + 1).slice();
    const V = this.P,
      W = this.P + this.at(U * h),
      b = this.P + this.at(2 * U * h),
      c = this.P + this.at(2 * U * h + h);
    const dV = this.G,
      dW = this.G + this.at(U * h),
      db = this.G + this.at(2 * U * h),
      dc = this.G + this.at(2 * U * h + h);
    const decay = this.count > 0 ? s.lambda / this.count : 0;
    let sum = 0,
      seen = 0;
    for (let start = 0; start < order.length; start += s.batchItems) {
      const batch = order.subarray(start, Math.min(order.length, start + s.batchItems));
      let n = 0;
      for (let j = 0; j < batch.length; j++) n += offsets[batch[j]! + 1]! - offsets[batch[j]!]!;
      if (n === 0) continue;
      backend.ints(this.itemList, batch.length).set(batch);
      k.zero_f32(this.G, this.total);
      const loss = k.autorec_grad(
        dV,
        db,
        dW,
        dc,
        this.scratch,
        V,
        b,
        W,
        c,
        this.offsets,
        this.raters,
        this.ratingsPtr,
        this.itemList,
        batch.length,
        h,
        s.leaveOut ? 1 : 0,
        s.activation === 'tanh' ? 1 : 0,
        1 / n,
      );
      if (!Number.isFinite(loss))
        fail(
          'DIVERGED',
          `AutoRec training diverged (the batch loss is ${loss}): lower learningRate (now ${s.learningRate}) or raise lambda (now ${s.lambda})`,
        );
      sum += loss;
      seen += n;
      if (decay > 0) k.l2_penalty(this.G, this.P, 2 * U * h, decay);
      const t = ++this.step;
      const bc1 = 1 - Math.pow(ADAM.beta1, t),
        bc2 = 1 - Math.pow(ADAM.beta2, t);
      k.adam_update(this.P, this.G, this.M, this.S, this.total, lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon, 0, bc1, bc2);
    }
    if (k.count_nonfinite(this.P, this.total) > 0)
      fail(
        'DIVERGED',
        `AutoRec training diverged (non-finite weights): lower learningRate (now ${s.learningRate}) or raise lambda (now ${s.lambda})`,
      );
    return seen ? sum / seen : 0;
  }

  /** The serving item vectors a_i over this state's ratings (items × h). */
  encode(): Float32Array {
    const { backend, s } = this;
    const { userCount: U, itemCount: I } = this.rows;
    const h = s.hidden;
    const out = backend.alloc(Math.max(1, I * h) * backend.floatBytes);
    try {
      backend.kernels.autorec_encode(
        out,
        this.P,
        this.P + this.at(2 * U * h),
        this.offsets,
        this.raters,
        this.ratingsPtr,
        I,
        h,
        s.activation === 'tanh' ? 1 : 0,
      );
      return Float32Array.from(backend.floats(out, I * h));
    } finally {
      backend.free(out);
    }
  }

  weights(): AutoRecWeights {
    const { userCount: U } = this.rows;
    const h = this.s.hidden;
    const p = this.backend.floats(this.P, this.total);
    return {
      W: Float32Array.from(p.subarray(U * h, 2 * U * h)),
      c: Float32Array.from(p.subarray(2 * U * h + h)),
      A: this.encode(),
    };
  }

  dispose(): void {
    for (const ptr of this.blocks.splice(0)) this.backend.free(ptr);
  }
}

/** Predictions W_u·a_i + c_u of the listed rows, clamped to the rating range. */
export function autorecPredict(weights: AutoRecWeights, h: number, rows: AutoRecRows, which: ArrayLike<number>): Float32Array {
  const { W, A, c } = weights;
  const [lo, hi] = rows.ratingRange;
  const out = new Float32Array(which.length);
  for (let k = 0; k < which.length; k++) {
    const u = rows.users[which[k]!]!,
      i = rows.items[which[k]!]!;
    let p = c[u]!;
    for (let e = 0; e < h; e++) p += W[u * h + e]! * A[i * h + e]!;
    out[k] = Math.min(hi, Math.max(lo, p));
  }
  return out;
}

/** RMSE of the listed rows, predictions W_u·a_i + c_u clamped to the rating range. */
export function autorecRmse(weights: AutoRecWeights, h: number, rows: AutoRecRows, which: ArrayLike<number>): number {
  const { W, A, c } = weights;
  const [lo, hi] = rows.ratingRange;
  let sum = 0;
  for (let k = 0; k < which.length; k++) {
    const r = which[k]!,
      u = rows.users[r]!,
      i = rows.items[r]!;
    let p = c[u]!;
    for (let e = 0; e < h; e++) p += W[u * h + e]! * A[i * h + e]!;
    const err = Math.min(hi, Math.max(lo, p)) - rows.ratings[r]!;
    sum += err * err;
  }
  return which.length ? Math.sqrt(sum / which.length) : NaN;
}

/**
 * Trains I-AutoRec: phase 1 on all but a seeded `validationFraction` of the rows (removed from
 * both the encoder's inputs and the targets), early-stopped on the validation RMSE with
 * `patience`; then, with `refit`, phase 2 on all rows for phase 1's best epoch count. Without
 * validation, `epochs` epochs on all rows. Deterministic for a seed. Frees everything it
 * allocates on `backend`, also when it throws (DIVERGED for a non-finite loss or weight).
 */
export function trainAutoRecRows(
  backend: Backend,
  rows: AutoRecRows,
  s: AutoRecSettings,
  callbacks: AutoRecCallbacks = {},
): AutoRecRun {
  const N = rows.users.length;
  const all = Int32Array.from({ length: N }, (_, r) => r);
  const validating = s.validationFraction > 0;
  let fitRows: Int32Array = all,
    heldOut: Int32Array = new Int32Array(0);
  if (validating) {
    // The recipe's split for the same seed (src/train/prepare.ts), so that members can be weighed on one split.
    const split = validationRows(N, s.validationFraction, s.splitSeed ?? s.seed);
    heldOut = split.validation;
    fitRows = split.train;
  }
  let stopped = false;
  const itemOrder = Int32Array.from({ length: rows.itemCount }, (_, i) => i);
  /** Runs one phase; returns its history and the weights to keep. */
  const phase = (
    which: 1 | 2,
    keep: Int32Array,
    epochs: number,
    validation: Int32Array | null,
  ): { history: AutoRecEpoch[]; weights: AutoRecWeights; best: number; bestRmse?: number } => {
    const random = new Random(s.seed + 1);
    const state = new AutoRecState(backend, rows, s, keep, random);
    try {
      const history: AutoRecEpoch[] = [];
      let best = -1,
        bestRmse = Infinity,
        bestWeights: AutoRecWeights | undefined;
      for (let epoch = 0; epoch < epochs && !stopped; epoch++) {
        const started = performance.now();
        const order = itemOrder.slice();
        random.shuffle(order);
        const loss = state.epoch(order, s.learningRate * Math.pow(s.lrDecay, epoch));
        const info: AutoRecEpoch = { phase: which, epoch, epochs, loss, seconds: 0 };
        if (validation) {
          const weights = state.weights();
          info.validationRmse = autorecRmse(weights, s.hidden, rows, validation);
          if (info.validationRmse < bestRmse) {
            bestRmse = info.validationRmse;
            best = epoch;
            bestWeights = weights;
          }
        }
        info.seconds = (performance.now() - started) / 1000;
        history.push(info);
        callbacks.onLog?.(
          `${which === 2 ? 'final ' : ''}epoch ${epoch + 1}/${epochs}: train RMSE ${Math.sqrt(loss).toFixed(4)}` +
            (info.validationRmse !== undefined ? `, validation RMSE ${info.validationRmse.toFixed(4)}` : '') +
            ` (${info.seconds.toFixed(2)} s)`,
        );
        if (callbacks.onEpochEnd?.(info) === false) stopped = true;
        if (validation && epoch - best >= s.patience) break;
      }
      if (validation && bestWeights) {
        return { history, weights: bestWeights!, best, bestRmse };
      }
      return { history, weights: state.weights(), best: history.length - 1 };
    } finally {
      state.dispose();
    }
  };
  if (!validating) {
    const run = phase(2, all, s.epochs, null);
    return { weights: run.weights, epochs: run.history.length, search: [], final: run.history, stopped };
  }
  const search = phase(1, fitRows, s.epochs, heldOut);
  const bestEpochs = search.best + 1;
  const validation = { rows: heldOut, predictions: autorecPredict(search.weights, s.hidden, rows, heldOut) };
  if (!s.refit || stopped || bestEpochs === 0) {
    return {
      weights: search.weights,
      epochs: bestEpochs,
      validationRmse: search.bestRmse,
      validation,
      search: search.history,
      stopped,
    };
  }
  callbacks.onLog?.(
    `best validation RMSE ${search.bestRmse!.toFixed(4)} at epoch ${bestEpochs}: retraining on all ${N} ratings for ${bestEpochs} epochs`,
  );
  const final = phase(2, all, bestEpochs, null);
  return {
    weights: final.weights,
    epochs: final.history.length,
    validationRmse: search.bestRmse,
    validation,
    search: search.history,
    final: final.history,
    stopped,
  };
}
