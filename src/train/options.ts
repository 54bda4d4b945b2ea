// fit()'s options: every setting with its default, their validation, and the learning-rate
// schedule.
import { fail } from '../errors.js';
import type { Interactions } from '../data/interactions.js';
import { checkBooleans, shown } from '../data/checks.js';
import type { TwoTowerConfig } from '../config/model.js';
import { LOSS_NAMES, type Loss, type LossName } from './losses/index.js';
import type { OptimizerOptions } from './optimizers/index.js';
import { defined } from '../util/defined.js';

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
  /** Passes over the training data, 1 to 10,000 (MAX_EPOCHS). Default 10. */
  epochs?: number;
  /** Interactions per optimizer step, 1 to 2²⁰ (MAX_BATCH_ROWS; with its negatives, see docs/limits.md). Default 256. */
  batchSize?: number;
  /** The optimizers' step size (before the schedule). Default 0.003. */
  learningRate?: number;
  /** Optimizer per kind of parameter group (dense layers, embedding tables, biases). Default lazy Adam for embedding tables, Adam for the rest. */
  optimizers?: OptimizerOptions;
  /** Decoupled weight decay (AdamW; also applied by sgd) on every parameter. Default 0. */
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
  /** Training loss (src/train/losses/): 'mse' on ratings; for implicit feedback 'softmax'
   *  (in-batch sampled softmax), 'bpr' or 'bce' (logistic, with sampled negatives). Default 'mse'. */
  loss?: LossName;
  /** Implicit losses: only interactions with rating ≥ this are positives. Default: all. Repeated
   *  (user, item) rows count as one positive (the highest rating kept). */
  minRating?: number;
  /** bce: sampled negatives per positive; a batch's positives × (1 + negatives) is at most 2²⁰ rows. Default 4. (bpr samples one.) */
  negatives?: number;
  /** bce/bpr: draw negatives uniformly, or by popularity (count^0.75). Default 'uniform'. */
  negativeSampling?: 'uniform' | 'popularity';
  /** softmax: temperature τ of the logits ⟨u, v⟩/τ. Default 0.1. */
  temperature?: number;
  /** softmax: subtract log q (each item's in-batch sampling probability) from its logits. Default true. */
  logQCorrection?: boolean;
  /** softmax: mask other rows of the batch that hold the row's own positive item. Default true. */
  removeAccidentalHits?: boolean;
  /**
   * softmax: mixed negative sampling (Yang et al., WWW 2020): M items drawn uniformly per batch
   * (seeded, shared by its rows) join the in-batch negatives, so rare items are negatives too;
   * each column's log q is then that of the mixed pool, log(B·q_j + M/N) − log B. Default 0 (in-batch only).
   */
  uniformNegatives?: number;
  /** ccl: margin m in [-1, 1): negatives whose cosine with the user exceeds it are pushed down. Default 0.4. */
  margin?: number;
  /** ccl: weight w ≥ 0 of the negatives' mean hinge (w/|N|)·Σ max(0, cos − m) against the positive's 1 − cos. Default 5. */
  negativeWeight?: number;
  /** ccl: the batch's other items are negatives too (else only the uniformNegatives extras are). Default true. */
  inBatchNegatives?: boolean;
  /** Seed of the shuffling. Default: the model's config.seed (or 1). */
  seed?: number;
  /**
   * Most bytes the WebAssembly heap may hold during this fit (the model, its gradients and
   * optimizer state, the data and batch scratch). fit() estimates them before allocating and
   * throws OUT_OF_MEMORY, naming the need and remedies, where they would not fit. Default and
   * upper bound: the heap's own limit (4 GiB; 2 GiB for the threads build).
   */
  memoryLimit?: number;
  /** Shuffle the interactions every epoch. Default true. */
  shuffle?: boolean;
  /** Held-out interactions, scored after every epoch. */
  validation?: Interactions;
  /** Without `validation`: carve this fraction of the training rows (seeded) as validation. Default 0. */
  validationFraction?: number;
  /** Stop when the validation metric (RMSE, or Recall@20 for implicit losses) stops improving (needs validation or validationFraction). */
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
  /** Optimizer steps taken by this call. */
  steps: number;
  /** Wall-clock seconds of the whole call. */
  seconds: number;
  /** Epoch (0-based) with the lowest validation RMSE, when validating. */
  bestEpoch?: number;
  /** True when early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
}

/**
 * The settings a model keeps from its last fit (saved in model files): what update() continues
 * training with unless told otherwise. Epochs, schedules, seeds, validation and callbacks are
 * per call and not kept.
 */
export const CARRIED_SETTINGS = [
  'batchSize',
  'learningRate',
  'weightDecay',
  'l2',
  'biasL2',
  'beta1',
  'beta2',
  'epsilon',
  'loss',
  'minRating',
  'negatives',
  'negativeSampling',
  'temperature',
  'logQCorrection',
  'removeAccidentalHits',
  'optimizers',
] as const satisfies readonly (keyof FitOptions)[];

/** The fit settings a model carries (see CARRIED_SETTINGS). */
export type TrainingSettings = Pick<FitOptions, (typeof CARRIED_SETTINGS)[number]>;

/** The carried settings of resolved options, as plain JSON data. */
export function carriedSettings(o: FitOptions): TrainingSettings {
  const out: Record<string, unknown> = {};
  for (const key of CARRIED_SETTINGS) if (o[key] !== undefined) out[key] = structuredClone(o[key]);
  return out as TrainingSettings;
}

/**
 * Checks settings a model carries (a model file's `training`) as fit() would check them, and that
 * they hold nothing else: update() spreads them into its fit options, so a stray `epochs` or
 * `validationFraction` would change what it does. Throws BAD_OPTION naming `where`.field and the
 * value (the optimizers are checked against the model's groups by planOptimizers).
 */
export function checkCarriedSettings(settings: unknown, where = 'training'): asserts settings is TrainingSettings {
  if (!settings || typeof settings !== 'object' || Array.isArray(settings))
    fail('BAD_OPTION', `${where} must be an object of training settings, got ${shown(settings)}`, {
      option: where,
      value: settings,
      expected: 'an object of training settings',
    });
  for (const key of Object.keys(settings))
    if (!(CARRIED_SETTINGS as readonly string[]).includes(key))
      fail('BAD_OPTION', `${where}.${key} is not a training setting a model carries (${CARRIED_SETTINGS.join(', ')})`, {
        option: `${where}.${key}`,
        expected: `one of ${CARRIED_SETTINGS.join(', ')}`,
      });
  resolveOptions(settings as FitOptions, 1, where);
}

/**
 * Why `loss` cannot train a model of `config`, or undefined when it can: a matrix loss (the
 * in-batch softmax) scores pairs by the dot product alone, so the model must have no biases.
 */
export function lossConflict(loss: Loss, config: TwoTowerConfig): string | undefined {
  const bias = config.bias;
  if (loss.kind === 'matrix' && (bias?.global || bias?.user || bias?.item))
    return `loss '${loss.name}' scores pairs by the dot product alone: remove config.bias to train with it`;
  return undefined;
}

export type ResolvedFitOptions = Required<
  Omit<FitOptions, 'validation' | 'onBatchEnd' | 'onEpochEnd' | 'earlyStopping' | 'minRating' | 'optimizers' | 'memoryLimit'>
> &
  FitOptions;

/** Most epochs one fit() or update() runs (docs/limits.md). */
export const MAX_EPOCHS = 10_000;
/**
 * Most rows one training batch may stage (positives and their negatives): bounds the scratch
 * memory, and so batchSize (docs/limits.md).
 */
export const MAX_BATCH_ROWS = 2 ** 20;

/**
 * The options with their defaults, validated; `seed` defaults to the model's config.seed. `where`
 * names the options in messages ('options', or 'training' for the settings a model file carries).
 */
export function resolveOptions(options: FitOptions, modelSeed: number, where = 'options'): ResolvedFitOptions {
  if (options.loss !== undefined && !LOSS_NAMES.includes(options.loss)) {
    fail(
      'BAD_OPTION',
      `unknown loss ${shown(options.loss)}${where === 'options' ? '' : ` (${where}.loss)`}; available: ${LOSS_NAMES.join(', ')}`,
      { option: `${where}.loss`, value: options.loss, expected: `one of ${LOSS_NAMES.join(', ')}` },
    );
  }
  checkBooleans(options, where, ['shuffle', 'logQCorrection', 'removeAccidentalHits', 'inBatchNegatives']);
  if (typeof options.earlyStopping === 'object') checkBooleans(options.earlyStopping, `${where}.earlyStopping`, ['restoreBest']);
  const o: ResolvedFitOptions = {
    epochs: 10,
    batchSize: 256,
    learningRate: 0.003,
    weightDecay: 0,
    l2: 0,
    biasL2: 0,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    loss: 'mse',
    seed: modelSeed,
    shuffle: true,
    validationFraction: 0,
    schedule: { kind: 'constant' },
    negatives: 4,
    negativeSampling: 'uniform',
    temperature: 0.1,
    logQCorrection: true,
    removeAccidentalHits: true,
    uniformNegatives: 0,
    margin: 0.4,
    negativeWeight: 5,
    inBatchNegatives: true,
    ...defined(options),
  };
  // Counts are bounded: each one multiplies the work or the memory before any other check could.
  const int = (name: keyof FitOptions, min: number, max = Infinity) => {
    const v = o[name] as number;
    const details = { option: `${where}.${name}`, value: v };
    if (!Number.isInteger(v) || v < min)
      fail('BAD_OPTION', `${where}.${name} must be an integer ≥ ${min}, got ${shown(v)}`, {
        ...details,
        expected: `an integer ≥ ${min}`,
      });
    if (v > max)
      fail('BAD_OPTION', `${where}.${name} must be an integer in [${min}, ${max}], got ${shown(v)} (docs/limits.md)`, {
        ...details,
        expected: `an integer in [${min}, ${max}]`,
      });
  };
  int('epochs', 1, MAX_EPOCHS);
  int('batchSize', 1, MAX_BATCH_ROWS);
  int('seed', -(2 ** 31));
  const finite = (name: keyof FitOptions, ok: (v: number) => boolean, rule: string) => {
    const v = o[name] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
      fail('BAD_OPTION', `${where}.${name} must be ${rule}, got ${shown(v)}`, {
        option: `${where}.${name}`,
        value: v,
        expected: rule,
      });
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
  finite('margin', (v) => v >= -1 && v < 1, 'in [-1, 1)');
  finite('negativeWeight', (v) => v >= 0, '≥ 0');
  if (o.memoryLimit !== undefined) finite('memoryLimit', (v) => v > 0, 'a number of bytes > 0');
  // Bounded with the batch: a positive and its negatives are rows of it (fit's MAX_BATCH_ROWS check).
  int('negatives', 1);
  int('uniformNegatives', 0, MAX_BATCH_ROWS);
  if (o.negativeSampling !== 'uniform' && o.negativeSampling !== 'popularity') {
    fail('BAD_OPTION', `${where}.negativeSampling must be 'uniform' or 'popularity', got ${shown(o.negativeSampling)}`, {
      option: `${where}.negativeSampling`,
      value: o.negativeSampling,
      expected: "'uniform' or 'popularity'",
    });
  }
  if (o.minRating !== undefined && !Number.isFinite(o.minRating))
    fail('BAD_OPTION', `${where}.minRating must be a number, got ${shown(o.minRating)}`, {
      option: `${where}.minRating`,
      value: o.minRating,
      expected: 'a finite number',
    });
  const sch = o.schedule;
  if (!sch || !['constant', 'cosine', 'step'].includes(sch.kind)) {
    fail('BAD_OPTION', `${where}.schedule.kind must be 'constant', 'cosine' or 'step', got ${shown(sch?.kind)}`, {
      option: `${where}.schedule.kind`,
      value: sch?.kind,
      expected: "'constant', 'cosine' or 'step'",
    });
  }
  if (sch.kind === 'cosine' && sch.final !== undefined && !(sch.final >= 0 && sch.final <= 1)) {
    fail('BAD_OPTION', `${where}.schedule.final must be in [0, 1], got ${shown(sch.final)}`, {
      option: `${where}.schedule.final`,
      value: sch.final,
      expected: 'in [0, 1]',
    });
  }
  if (sch.kind === 'step' && !(Number.isInteger(sch.every) && sch.every >= 1 && sch.factor > 0)) {
    fail(
      'BAD_OPTION',
      `${where}.schedule needs an integer every ≥ 1 and factor > 0, got every ${sch.every}, factor ${sch.factor}`,
      { option: `${where}.schedule`, value: sch, expected: 'an integer every ≥ 1 and factor > 0' },
    );
  }
  if (o.earlyStopping) {
    const p = o.earlyStopping.patience ?? 3;
    if (!Number.isInteger(p) || p < 1)
      fail('BAD_OPTION', `${where}.earlyStopping.patience must be an integer ≥ 1, got ${shown(p)}`, {
        option: `${where}.earlyStopping.patience`,
        value: p,
        expected: 'an integer ≥ 1',
      });
    if (!o.validation && !(o.validationFraction > 0)) {
      fail('BAD_OPTION', `${where}.earlyStopping needs validation data: pass options.validation or options.validationFraction`, {
        option: `${where}.earlyStopping`,
      });
    }
  }
  return o;
}

/** Learning rate at step t (0-based) of `total`, in epoch `epoch`. */
export function learningRateAt(o: ResolvedFitOptions, t: number, total: number, epoch: number): number {
  const s = o.schedule;
  if (s.kind === 'cosine') {
    const final = s.final ?? 0.05;
    return o.learningRate * (final + (1 - final) * 0.5 * (1 + Math.cos((Math.PI * t) / Math.max(1, total))));
  }
  if (s.kind === 'step') return o.learningRate * s.factor ** Math.floor(epoch / s.every);
  return o.learningRate;
}
