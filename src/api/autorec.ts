// I-AutoRec (Sedhain, Menon, Sanner & Xie 2015, "AutoRec: Autoencoders Meet Collaborative
// Filtering"), item-based, as an ordinary twotower Model. An item's input is its column of
// training ratings; the encoder a_i = act(b + Σ_u r_ui·V_u) and the decoder r̂_ui = W_u·a_i + c_u
// are trained by src/train/autorec.ts. The decoder is already a dot product of a user row and
// an item vector plus a user bias, so the trained autoencoder IS a two-tower model:
//   - the user tower is an id table holding W (users × h), with c as the per-user bias;
//   - the item tower is an id table holding A, the autoencoder's ENCODER EVALUATED ONCE after
//     training over all training ratings (a_i for every item) and kept as the item table.
// score(u, i) = W_u·a_i + c_u is then exactly the autoencoder's prediction (without leave-out),
// and recommend, the scorer, the int8 index, ONNX, vector exports and model files work
// unchanged. What the Model does not keep is V and b: the item table does not follow new
// ratings until the next training (an update() trains the tables as any two-tower model's).
import { fail } from '../errors.js';
import type { Backend } from '../backend/contract.js';
import type { TwoTowerConfig } from '../config/model.js';
import type { Interactions } from '../data/interactions.js';
import { shown } from '../data/checks.js';
import { defined } from '../util/defined.js';
import { loadWasmBackend } from '../wasm/load.js';
import { trainAutoRecRows, type AutoRecEpoch, type AutoRecSettings } from '../train/autorec.js';
import { createModel, type Model } from './model.js';
import type { RecipeData } from './recipe-config.js';

export type { AutoRecEpoch } from '../train/autorec.js';

/** The autoencoder's settings (src/train/autorec.ts AutoRecSettings, each with its default), and how to follow it. */
export interface AutoRecOptions extends AutoRecSettings {
  /** Called after each epoch (phase 1: search, with validationRmse; phase 2: refit); false stops. Default none. */
  onEpochEnd?: (info: AutoRecEpoch) => boolean | void;
  /** One line of progress per epoch, in the CLI's words. Default none. */
  onLog?: (line: string) => void;
  /** Train on this backend (e.g. the f64 reference, for checks). Default: a fresh WASM instance. */
  backend?: Backend;
}

export const AUTOREC_DEFAULTS: Readonly<Omit<AutoRecOptions, 'onEpochEnd' | 'onLog' | 'backend'>> = Object.freeze({
  hidden: 200,
  activation: 'sigmoid',
  lambda: 100,
  learningRate: 0.003,
  lrDecay: 0.93,
  batchItems: 64,
  epochs: 300,
  patience: 10,
  leaveOut: true,
  seed: 1,
  validationFraction: 0.1,
  refit: true,
});

export interface AutoRecResult {
  model: Model;
  /** Epochs the model's weights were trained for. */
  epochs: number;
  /** Wall time of the whole call. */
  seconds: number;
  /** Phase 1's best validation RMSE (undefined with validationFraction 0). */
  validationRmse?: number;
  /** Phase 1's validation split (the recipe's for the same split seed), and its best epoch's predictions on it. */
  validation?: Interactions;
  validationPredictions?: Float32Array;
  /** Phase 1's epochs. */
  search: AutoRecEpoch[];
  /** The refit's epochs (or, without validation, the only phase's). */
  final?: AutoRecEpoch[];
  /** A callback returned false. */
  stopped: boolean;
}

function checkOptions(o: AutoRecOptions): void {
  const bad = (name: string, expected: string): never =>
    fail(
      'BAD_OPTION',
      `trainAutoRec: options.${name} must be ${expected}, got ${shown((o as unknown as Record<string, unknown>)[name])}`,
      {
        option: `options.${name}`,
        value: (o as unknown as Record<string, unknown>)[name],
        expected,
      },
    );
  const integer = (name: 'hidden' | 'batchItems' | 'epochs' | 'patience', min: number) => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(name, `an integer ≥ ${min}`);
  };
  integer('hidden', 1);
  integer('batchItems', 1);
  integer('epochs', 1);
  integer('patience', 1);
  if (typeof o.seed !== 'number' || !Number.isInteger(o.seed)) bad('seed', 'an integer');
  if (o.splitSeed !== undefined && (typeof o.splitSeed !== 'number' || !Number.isInteger(o.splitSeed)))
    bad('splitSeed', 'an integer');
  if (o.activation !== 'sigmoid' && o.activation !== 'tanh') bad('activation', "'sigmoid' or 'tanh'");
  if (typeof o.lambda !== 'number' || !Number.isFinite(o.lambda) || o.lambda < 0) bad('lambda', 'a finite number ≥ 0');
  if (typeof o.learningRate !== 'number' || !Number.isFinite(o.learningRate) || !(o.learningRate > 0))
    bad('learningRate', 'a finite number > 0');
  if (typeof o.lrDecay !== 'number' || !(o.lrDecay > 0 && o.lrDecay <= 1)) bad('lrDecay', 'a number in (0, 1]');
  if (typeof o.validationFraction !== 'number' || !(o.validationFraction >= 0 && o.validationFraction < 1))
    bad('validationFraction', 'a number in [0, 1)');
  for (const name of ['leaveOut', 'refit'] as const) if (typeof o[name] !== 'boolean') bad(name, 'true or false');
  for (const name of ['onEpochEnd', 'onLog'] as const)
    if (o[name] !== undefined && typeof o[name] !== 'function') bad(name, 'a function');
}

/**
 * Trains an I-AutoRec model on `ds.train` (rating rows over `ds.users` / `ds.items`, row 0 of
 * each the unknown-id bucket) and returns it as an ordinary Model: user table W, item table the
 * encoder's output a_i, user bias c, rating range the training ratings' [min, max]. Bad options
 * throw BAD_OPTION naming the option; a diverging run throws DIVERGED and leaves nothing behind.
 */
export async function trainAutoRec(ds: RecipeData, options: Partial<AutoRecOptions> = {}): Promise<AutoRecResult> {
  const started = performance.now();
  if (options === null || typeof options !== 'object')
    fail('BAD_OPTION', `trainAutoRec: options must be an object, got ${shown(options)}`, { option: 'options', value: options });
  const o: AutoRecOptions = { ...AUTOREC_DEFAULTS, ...defined(options) };
  checkOptions(o);
  const { users, items, ratings } = ds.train;
  if (users.length === 0) fail('EMPTY_DATA', 'trainAutoRec: no training ratings');
  let lo = Infinity,
    hi = -Infinity;
  for (let r = 0; r < ratings.length; r++) {
    const v = ratings[r]!;
    if (!Number.isFinite(v)) fail('BAD_INPUT', `trainAutoRec: rating ${r} is ${v} (must be finite)`);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === hi) hi = lo + 1; // the clamp needs an interval; one rating value gives [v, v + 1]
  const userCount = ds.users.size,
    itemCount = ds.items.size,
    h = o.hidden;
  const backend = o.backend ?? (await loadWasmBackend());
  const run = trainAutoRecRows(
    backend,
    { userCount, itemCount, users, items, ratings: Float32Array.from(ratings), ratingRange: [lo, hi] },
    o,
    { onEpochEnd: o.onEpochEnd, onLog: o.onLog },
  );
  const config: TwoTowerConfig = {
    dim: h,
    user: { features: [{ kind: 'id', name: 'user', vocabSize: userCount, dim: h }], project: false },
    item: { features: [{ kind: 'id', name: 'item', vocabSize: itemCount, dim: h }], project: false },
    bias: { user: true },
    ratingRange: [lo, hi],
  };
  const model = await createModel(config);
  try {
    model.setParameters({
      'user.user.embedding': run.weights.W,
      'item.item.embedding': run.weights.A,
      'bias.user': run.weights.c,
    });
    model.setVocabularies({ users: ds.users, items: ds.items });
    model.metadata = { family: 'autorec' };
    model.setSeen(users, items);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return {
    model,
    epochs: run.epochs,
    seconds: (performance.now() - started) / 1000,
    validationRmse: run.validationRmse,
    ...(run.validation
      ? {
          validation: {
            users: Int32Array.from(run.validation.rows, (r) => users[r]!),
            items: Int32Array.from(run.validation.rows, (r) => items[r]!),
            ratings: Float32Array.from(run.validation.rows, (r) => ratings[r]!),
          },
          validationPredictions: run.validation.predictions,
        }
      : {}),
    search: run.search,
    final: run.final,
    stopped: run.stopped,
  };
}
