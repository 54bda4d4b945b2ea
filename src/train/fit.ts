// The training loop: seeded shuffling, mini-batches assembled in the heap by gather kernels,
// loss and gradients, one Adam call per step, per-batch and per-epoch callbacks, validation.
// A fit that diverges (non-finite loss or weights) restores the parameters it started from.
import { fail } from '../errors.js';
import type { TwoTower } from '../model/twotower.js';
import { validateInteractions, type Interactions } from '../data/interactions.js';
import { Random } from '../util/random.js';
import { resolveLoss, type LossName } from './losses.js';
import { adamStep, type AdamSettings } from './adam.js';
import { rmse } from '../eval/regression.js';
import { upload, uploadFloats } from '../model/tower.js';
import { evaluateRanking } from '../eval/ranking.js';
import { BatchSampler } from './sampler.js';

export interface BatchInfo {
  /** 0-based epoch. */
  epoch: number;
  /** 0-based batch within the epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Mean loss of this batch. */
  loss: number;
}

export interface EpochInfo {
  epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  loss: number;
  /** RMSE on options.validation after this epoch (rating losses). */
  validationRmse?: number;
  /** Recall@20 on options.validation after this epoch, training items excluded (implicit losses). */
  validationRecall?: number;
  /** Wall-clock seconds the epoch took. */
  seconds: number;
}

/** How the learning rate changes over the steps of one fit() call. */
export type LearningRateSchedule =
  | { kind: 'constant' }
  /** Cosine decay from learningRate to learningRate·final over all planned steps. */
  | { kind: 'cosine'; final?: number }
  /** Multiply by `factor` every `every` epochs. */
  | { kind: 'step'; every: number; factor: number };

export interface EarlyStopping {
  /** Epochs without improvement of the validation RMSE before stopping. Default 3. */
  patience?: number;
  /** Smallest decrease that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when training ends. Default true. */
  restoreBest?: boolean;
}

export interface FitOptions {
  /** Passes over the training data. Default 10. */
  epochs?: number;
  /** Interactions per Adam step. Default 256. */
  batchSize?: number;
  /** Adam's step size. Default 0.003. */
  learningRate?: number;
  /** Decoupled weight decay (AdamW) applied to every parameter. Default 0. */
  weightDecay?: number;
  /** Per-example L2 penalty λ·(‖u‖² + ‖v‖²) on the towers' output embeddings. Default 0. */
  l2?: number;
  /** Per-example L2 penalty on the user and item biases. Default 0. */
  biasL2?: number;
  /** Adam's β1. Default 0.9. */
  beta1?: number;
  /** Adam's β2. Default 0.999. */
  beta2?: number;
  /** Adam's ε. Default 1e-8. */
  epsilon?: number;
  /** Training loss: 'mse' on ratings; for implicit feedback 'softmax' (in-batch sampled
   *  softmax), 'bpr' or 'bce' (logistic, with sampled negatives). Default 'mse'. */
  loss?: LossName;
  /** Implicit losses: only interactions with rating ≥ this are positives. Default: all. */
  minRating?: number;
  /** bce: sampled negatives per positive. Default 4. (bpr samples one.) */
  negatives?: number;
  /** bce/bpr: draw negatives uniformly, or by popularity (count^0.75). Default 'uniform'. */
  negativeSampling?: 'uniform' | 'popularity';
  /** softmax: temperature τ of the logits ⟨u, v⟩/τ. Default 0.1. */
  temperature?: number;
  /** softmax: subtract log q (each item's in-batch sampling probability) from its logits. Default true. */
  logQCorrection?: boolean;
  /** softmax: mask other rows of the batch that hold the row's own positive item. Default true. */
  removeAccidentalHits?: boolean;
  /** Seed of the shuffling. Default: the model's config.seed (or 1). */
  seed?: number;
  /** Shuffle the interactions every epoch. Default true. */
  shuffle?: boolean;
  /** Held-out interactions, scored after every epoch. */
  validation?: Interactions;
  /** Without `validation`: carve this fraction of the training rows (seeded) as validation. Default 0. */
  validationFraction?: number;
  /** Stop when the validation RMSE stops improving (needs validation or validationFraction). */
  earlyStopping?: EarlyStopping;
  /** Learning-rate schedule. Default constant. */
  schedule?: LearningRateSchedule;
  /** Called after every batch (drive a progress bar from here). */
  onBatchEnd?: (info: BatchInfo) => void;
  /** Called after every epoch; return false to stop training early. */
  onEpochEnd?: (info: EpochInfo) => void | boolean;
}

export interface FitResult {
  /** One record per completed epoch. */
  history: EpochInfo[];
  /** Adam steps taken by this call. */
  steps: number;
  /** Wall-clock seconds of the whole call. */
  seconds: number;
  /** Epoch (0-based) with the lowest validation RMSE, when validating. */
  bestEpoch?: number;
  /** True when early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
}

type Resolved = Required<Omit<FitOptions, 'validation' | 'onBatchEnd' | 'onEpochEnd' | 'earlyStopping' | 'minRating'>> & FitOptions;

function resolveOptions(model: TwoTower, options: FitOptions): Resolved {
  const o: Resolved = {
    epochs: 10, batchSize: 256, learningRate: 0.003, weightDecay: 0, l2: 0, biasL2: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
    loss: 'mse', seed: model.config.seed ?? 1, shuffle: true, validationFraction: 0, schedule: { kind: 'constant' },
    negatives: 4, negativeSampling: 'uniform', temperature: 0.1, logQCorrection: true, removeAccidentalHits: true,
    ...options,
  };
  const int = (name: keyof FitOptions, min: number) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min) fail('BAD_OPTION', `options.${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int('epochs', 1);
  int('batchSize', 1);
  int('seed', -(2 ** 31));
  const finite = (name: keyof FitOptions, ok: (v: number) => boolean, rule: string) => {
    const v = o[name] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail('BAD_OPTION', `options.${name} must be ${rule}, got ${v}`);
  };
  finite('learningRate', (v) => v > 0, '> 0');
  finite('weightDecay', (v) => v >= 0, '≥ 0');
  finite('l2', (v) => v >= 0, '≥ 0');
  finite('biasL2', (v) => v >= 0, '≥ 0');
  finite('beta1', (v) => v >= 0 && v < 1, 'in [0, 1)');
  finite('beta2', (v) => v >= 0 && v < 1, 'in [0, 1)');
  finite('epsilon', (v) => v > 0, '> 0');
  finite('validationFraction', (v) => v >= 0 && v < 1, 'in [0, 1)');
  finite('temperature', (v) => v > 0, '> 0');
  int('negatives', 1);
  if (o.negativeSampling !== 'uniform' && o.negativeSampling !== 'popularity') {
    fail('BAD_OPTION', `options.negativeSampling must be 'uniform' or 'popularity', got ${JSON.stringify(o.negativeSampling)}`);
  }
  if (o.minRating !== undefined && !Number.isFinite(o.minRating)) fail('BAD_OPTION', `options.minRating must be a number, got ${o.minRating}`);
  const sch = o.schedule;
  if (!sch || !['constant', 'cosine', 'step'].includes(sch.kind)) {
    fail('BAD_OPTION', `options.schedule.kind must be 'constant', 'cosine' or 'step', got ${JSON.stringify(sch?.kind)}`);
  }
  if (sch.kind === 'cosine' && sch.final !== undefined && !(sch.final >= 0 && sch.final <= 1)) {
    fail('BAD_OPTION', `options.schedule.final must be in [0, 1], got ${sch.final}`);
  }
  if (sch.kind === 'step' && !(Number.isInteger(sch.every) && sch.every >= 1 && sch.factor > 0)) {
    fail('BAD_OPTION', `options.schedule needs an integer every ≥ 1 and factor > 0, got every ${sch.every}, factor ${sch.factor}`);
  }
  if (o.earlyStopping) {
    const p = o.earlyStopping.patience ?? 3;
    if (!Number.isInteger(p) || p < 1) fail('BAD_OPTION', `options.earlyStopping.patience must be an integer ≥ 1, got ${p}`);
    if (!o.validation && !(o.validationFraction > 0)) {
      fail('BAD_OPTION', 'options.earlyStopping needs validation data: pass options.validation or options.validationFraction');
    }
  }
  return o;
}

/** Learning rate at step t (0-based) of `total`, in epoch `epoch`. */
function learningRateAt(o: Resolved, t: number, total: number, epoch: number): number {
  const s = o.schedule;
  if (s.kind === 'cosine') {
    const final = s.final ?? 0.05;
    return o.learningRate * (final + (1 - final) * 0.5 * (1 + Math.cos((Math.PI * t) / Math.max(1, total))));
  }
  if (s.kind === 'step') return o.learningRate * s.factor ** Math.floor(epoch / s.every);
  return o.learningRate;
}

/** Trains the model in place with Adam; see FitOptions for every setting and its default. */
/** The interactions rated ≥ threshold (implicit positives). */
function positivesOf(data: Interactions, threshold: number, name: string): Interactions {
  const keep: number[] = [];
  for (let r = 0; r < data.users.length; r++) if (data.ratings[r]! >= threshold) keep.push(r);
  if (keep.length === 0) fail('EMPTY_DATA', `${name} has no rating ≥ ${threshold}: no positives to train on`);
  return {
    users: Int32Array.from(keep, (r) => data.users[r]!), items: Int32Array.from(keep, (r) => data.items[r]!),
    ratings: Float32Array.from(keep, (r) => data.ratings[r]!),
  };
}

/** A seeded random `fraction` of the rows as validation, the rest as training. */
export function carveValidation(data: Interactions, fraction: number, seed: number): { train: Interactions; validation: Interactions } {
  const n = data.users.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Random(seed ^ 0x5eed).shuffle(order);
  const cut = n - Math.max(1, Math.round(n * fraction));
  if (cut < 1) fail('BAD_OPTION', `validationFraction ${fraction} leaves no training rows out of ${n}`);
  const pick = (rows: Int32Array): Interactions => {
    const sorted = Int32Array.from(rows).sort();
    return {
      users: Int32Array.from(sorted, (r) => data.users[r]!),
      items: Int32Array.from(sorted, (r) => data.items[r]!),
      ratings: data.ratings ? Float32Array.from(sorted, (r) => data.ratings[r]!) : new Float32Array(sorted.length),
    };
  };
  return { train: pick(order.subarray(0, cut)), validation: pick(order.subarray(cut)) };
}

export function fit(model: TwoTower, train: Interactions, options: FitOptions = {}): FitResult {
  const started = performance.now();
  const o = resolveOptions(model, options);
  const loss = resolveLoss(o.loss);
  model.ensureReady();
  if (loss.kind === 'matrix' && (model.bias.global || model.bias.user || model.bias.item)) {
    fail('BAD_CONFIG', `loss '${loss.name}' scores pairs by the dot product alone: remove config.bias to train with it`);
  }
  validateInteractions(train, model.userCount, model.itemCount, 'train', !loss.implicit || o.minRating !== undefined);
  if (o.validation) validateInteractions(o.validation, model.userCount, model.itemCount, 'options.validation', !loss.implicit);
  if (loss.implicit && o.minRating !== undefined) {
    train = positivesOf(train, o.minRating, 'train');
    if (o.validation && o.validation.ratings) o.validation = positivesOf(o.validation, o.minRating, 'options.validation');
  }
  if (!o.validation && o.validationFraction > 0) {
    const carved = carveValidation(train, o.validationFraction, o.seed);
    train = carved.train;
    o.validation = carved.validation;
  }

  const be = model.backend;
  const k = be.kernels;
  const store = model.store;
  const n = train.users.length;
  const batchSize = Math.min(o.batchSize, n);
  const adam: AdamSettings = { learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay: o.weightDecay };
  const stopping = o.earlyStopping ? { patience: 3, minDelta: 0, restoreBest: true, ...o.earlyStopping } : undefined;

  const owned: number[] = [];
  const keep = (p: number) => (owned.push(p), p);
  const users = keep(upload(be, train.users));
  const items = keep(upload(be, train.items));
  const targets = keep(uploadFloats(be, loss.implicit ? new Float32Array(n) : train.ratings));
  const rowsPerPositive = loss.name === 'bce' ? 1 + o.negatives : loss.name === 'bpr' ? 2 : 1;
  const sampler = loss.implicit ? new BatchSampler(train, model.itemCount, o, batchSize * rowsPerPositive) : null;
  const order = keep(upload(be, Int32Array.from({ length: n }, (_, i) => i)));
  // Snapshot of values and both moments: restored if training diverges, so a failed fit
  // leaves the model exactly as it was.
  const regions = store.regions;
  const snapshot = keep(be.alloc(3 * store.total * be.floatBytes));
  const best = stopping?.restoreBest ? keep(be.alloc(store.total * be.floatBytes)) : 0;
  const stride = store.total * be.floatBytes;
  k.copy_f32(snapshot, regions.values, store.total);
  k.copy_f32(snapshot + stride, regions.m, store.total);
  k.copy_f32(snapshot + 2 * stride, regions.v, store.total);
  const stepsBefore = model.optimizerSteps;
  const restore = () => {
    model.revision++;
    k.copy_f32(regions.values, snapshot, store.total);
    k.copy_f32(regions.m, snapshot + stride, store.total);
    k.copy_f32(regions.v, snapshot + 2 * stride, store.total);
    model.optimizerSteps = stepsBefore;
  };

  try {
    // Start the global bias at the mean target: saves the first epochs from learning an offset.
    if (model.bias.global && model.optimizerSteps === 0 && loss.name === 'mse') {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += train.ratings[i]!;
      store.values(model.bias.global)[0] = mean / n;
    }
    model.pairs.reserve(batchSize * rowsPerPositive);
    const random = new Random(o.seed);
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    const batches = Math.ceil(n / batchSize);
    const history: EpochInfo[] = [];
    let steps = 0;
    const totalSteps = batches * o.epochs;
    // Early stopping watches the validation RMSE (ratings) or Recall@20 (implicit), as a loss.
    let bestScore = Infinity;
    let bestEpoch: number | undefined;
    let stale = 0;
    let stoppedEarly = false;
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const epochStart = performance.now();
      if (o.shuffle) {
        random.shuffle(perm);
        be.ints(order, n).set(perm);
      }
      let total = 0;
      for (let b = 0; b < batches; b++) {
        const start = b * batchSize;
        const m = Math.min(batchSize, n - start);
        const idx = order + start * 4;
        let rows = m;
        if (sampler) {
          rows = sampler.stage(model, perm.subarray(start, start + m), loss.name, random);
        } else {
          k.gather_i32(model.pairs.users, users, idx, m);
          k.gather_i32(model.pairs.items, items, idx, m);
          k.gather_f32(model.pairs.targets, targets, idx, m);
        }
        const value = model.lossAndGradients(rows, loss, { l2: o.l2, biasL2: o.biasL2 }, {
          logq: sampler && o.logQCorrection ? model.pairs.logq : 0,
          removeAccidentalHits: o.removeAccidentalHits, temperature: o.temperature,
        });
        if (!Number.isFinite(value)) {
          restore();
          fail('DIVERGED', `training diverged: the loss became ${value} at epoch ${epoch + 1}, batch ${b + 1} (try a smaller learningRate); the parameters were restored to their values before fit()`);
        }
        model.optimizerSteps += 1;
        adam.learningRate = learningRateAt(o, steps, totalSteps, epoch);
        adamStep(be, store, model.optimizerSteps, adam);
        steps += 1;
        total += value * m;
        o.onBatchEnd?.({ epoch, batch: b, batches, loss: value });
      }
      const bad = k.count_nonfinite(regions.values, store.total);
      if (bad > 0) {
        restore();
        fail('DIVERGED', `training diverged: ${bad} parameters became NaN or infinite in epoch ${epoch + 1}; the parameters were restored to their values before fit()`);
      }
      const info: EpochInfo = { epoch, loss: total / n, seconds: (performance.now() - epochStart) / 1000 };
      let score: number | undefined;
      if (o.validation && loss.implicit) {
        info.validationRecall = evaluateRanking(model, o.validation, { ks: [20], exclude: train }).recall[20]!;
        score = -info.validationRecall;
      } else if (o.validation) {
        info.validationRmse = rmse(model.predict(o.validation.users, o.validation.items), o.validation.ratings);
        score = info.validationRmse;
      }
      history.push(info);
      if (score !== undefined) {
        if (score < bestScore - (stopping?.minDelta ?? 0)) {
          bestScore = score;
          bestEpoch = epoch;
          stale = 0;
          if (best) k.copy_f32(best, regions.values, store.total);
        } else {
          stale += 1;
        }
      }
      if (o.onEpochEnd?.(info) === false) break;
      if (stopping && stale >= stopping.patience) {
        stoppedEarly = true;
        break;
      }
    }
    if (best && bestEpoch !== undefined && bestEpoch !== history.length - 1) k.copy_f32(regions.values, best, store.total);
    model.setSeen(train.users, train.items);
    model.revision++;
    return { history, steps, seconds: (performance.now() - started) / 1000, bestEpoch, stoppedEarly };
  } catch (error) {
    restore(); // whatever failed (a callback too), the model is left as it was before fit()
    throw error;
  } finally {
    for (const p of owned) be.free(p);
  }
}
