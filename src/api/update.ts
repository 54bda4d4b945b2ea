// Changing a trained model without retraining it from scratch, in the user's ids:
//   - update(events): new ids grow the vocabularies and the tables (src/train/grow.ts), the
//     interaction sets take the new events, and training continues from the saved optimizer
//     state on the new events alone;
//   - addItems(items): new items described by their features, embedded by the item tower
//     without any training (cold items);
//   - foldIn(events): rating models whose user tower is a plain id embedding get each given
//     user's embedding and bias solved against the fixed item tower (src/train/fold-in.ts).
// Each checks everything before it changes anything, and leaves the old model as it was when it
// fails. The events are mapped to rows in update-events.ts, the grown core built in grow-core.ts.
import { fail } from '../errors.js';
import { checkId } from '../data/checks.js';
import type { TwoTower } from '../model/twotower.js';
import { interactionSets } from '../model/interaction-sets.js';
import { fit } from '../train/fit.js';
import { foldInBlocker, foldInUsers } from '../train/fold-in.js';
import { regressColdRows } from '../train/cold-rows.js';
import { resolveLoss } from '../train/losses/index.js';
import { resolveOptions, type FitOptions, type FitResult } from '../train/options.js';
import { defined } from '../util/defined.js';
import { encodeEvents, type Encoded, type UpdateEvent } from './update-events.js';
import { grownCore, mergedSeen, type EntityFeatures } from './grow-core.js';

export interface UpdateOptions extends Omit<FitOptions, 'validation' | 'validationFraction' | 'earlyStopping' | 'loss'> {
  /** Feature rows of new (or changed) users. */
  userFeatures?: EntityFeatures;
  /** Feature rows of new (or changed) items. */
  itemFeatures?: EntityFeatures;
}

export interface UpdateResult {
  /** Events trained on. */
  events: number;
  /** Ids the update added. */
  newUsers: number;
  newItems: number;
  /** The training run (epochs, loss per epoch, seconds). */
  fit: FitResult;
  /** Wall-clock seconds of the whole update. */
  seconds: number;
}

/** update()'s default epochs over the new events (measured on MovieLens 100K: docs/updates.md). */
export const UPDATE_EPOCHS = 3;
/**
 * update()'s default learning rate against the last training's: a third. Chunks of new events
 * are small; at the full rate their rows overfit them (MovieLens 100K, six chunks: mean RMSE
 * 1.5% over a full retrain at the full rate, 0.6% at a third; docs/updates.md).
 */
export const UPDATE_RATE_SCALE = 1 / 3;

/**
 * The caller's callbacks, each followed by a check that they did not dispose the model: training
 * runs on the grown core, so fit() cannot see a dispose() of the old one, and the update would
 * install the grown core over it. It ends with DISPOSED instead (as fit() does), and the caller
 * of updateCore frees the grown core.
 */
function disposalChecks(
  core: TwoTower,
  given: Pick<FitOptions, 'onBatchEnd' | 'onEpochEnd'>,
): Pick<FitOptions, 'onBatchEnd' | 'onEpochEnd'> {
  const { onBatchEnd, onEpochEnd } = given;
  return {
    ...(onBatchEnd
      ? {
          onBatchEnd: (info) => {
            onBatchEnd(info);
            if (core.disposed)
              fail(
                'DISPOSED',
                `the model was disposed during update() (by onBatchEnd, at epoch ${info.epoch + 1}, batch ${info.batch + 1})`,
              );
          },
        }
      : {}),
    ...(onEpochEnd
      ? {
          onEpochEnd: (info) => {
            const carryOn = onEpochEnd(info);
            if (core.disposed)
              fail('DISPOSED', `the model was disposed during update() (by onEpochEnd, after epoch ${info.epoch + 1})`);
            return carryOn;
          },
        }
      : {}),
  };
}

/**
 * Trains the model further on new events: see the file's header. Returns the grown core (the
 * caller swaps it in and disposes the old one) and what happened.
 */
export function updateCore(
  core: TwoTower,
  events: readonly UpdateEvent[],
  options: UpdateOptions = {},
): { core: TwoTower; result: UpdateResult } {
  const started = performance.now();
  core.ensureReady();
  const trained = core.trainedWith;
  if (!trained && core.metadata.family === 'ease') return closedFormUpdate(core, events, options, started);
  if (!trained)
    fail('NOT_TRAINED', 'update: the model was never trained; train it first (fit, train) and update it with new events');
  const loss = resolveLoss(trained.loss as FitOptions['loss'] & string);
  const encoded = encodeEvents(core, events, !loss.implicit, 'update');
  const { userFeatures, itemFeatures, ...given } = options;
  const carried = (trained.settings ?? {}) as FitOptions;
  const fitOptions: FitOptions = {
    ...carried,
    loss: loss.name as FitOptions['loss'],
    epochs: UPDATE_EPOCHS,
    learningRate: (carried.learningRate ?? 0.003) * UPDATE_RATE_SCALE,
    ...defined(given),
    ...disposalChecks(core, given),
  };
  // Every option is checked before the model grows (an epochs of 1e9 costs nothing).
  resolveOptions(fitOptions, core.config.seed ?? 1);
  // Nothing to grow (known ids, no feature rows, no interaction sets to extend): training runs on
  // the model itself, whose fit() snapshot restores it exactly when it fails, so the call costs
  // the rows it touches. Otherwise on a grown core, the old one untouched.
  const inPlace =
    encoded.added.user === 0 &&
    encoded.added.item === 0 &&
    !userFeatures &&
    !itemFeatures &&
    interactionSets(core.config, 'user').length === 0 &&
    interactionSets(core.config, 'item').length === 0;
  if (inPlace) return updateInPlace(core, events.length, encoded.data, fitOptions, given, started);
  const next = grownCore(core, encoded, { user: userFeatures, item: itemFeatures }, encoded.data, 'update');
  try {
    // New entities of a linear tower with side features start where their features point (as in addItems).
    for (const side of ['user', 'item'] as const) {
      const before = side === 'user' ? core.userCount : core.itemCount;
      const after = encoded.counts[side];
      if (after > before)
        regressColdRows(
          next,
          side,
          Array.from({ length: before - 1 }, (_, i) => i + 1),
          Array.from({ length: after - before }, (_, i) => before + i),
        );
    }
    const result = fit(next, encoded.data, fitOptions);
    // The carried settings stay what training set them to, but for settings this call gave.
    const overrides = Object.fromEntries(Object.entries(given).filter(([key]) => key in (next.trainedWith?.settings ?? {})));
    next.trainedWith = { ...trained, settings: { ...(trained.settings ?? {}), ...overrides } };
    next.seen = mergedSeen(core, encoded.counts.user, encoded.data);
    return {
      core: next,
      result: {
        events: events.length,
        newUsers: encoded.added.user,
        newItems: encoded.added.item,
        fit: result,
        seconds: (performance.now() - started) / 1000,
      },
    };
  } catch (error) {
    next.threads = null; // the pool still belongs to the old core
    next.dispose();
    throw error;
  }
}

/** update() on the model itself (see updateCore): on failure fit() has restored it, seen items and settings untouched. */
function updateInPlace(
  core: TwoTower,
  events: number,
  data: Encoded['data'],
  fitOptions: FitOptions,
  given: Partial<FitOptions>,
  started: number,
): { core: TwoTower; result: UpdateResult } {
  const trained = core.trainedWith!;
  const seen = mergedSeen(core, core.userCount, data);
  const result = fit(core, data, fitOptions);
  const overrides = Object.fromEntries(Object.entries(given).filter(([key]) => key in (core.trainedWith?.settings ?? {})));
  core.trainedWith = { ...trained, settings: { ...(trained.settings ?? {}), ...overrides } };
  core.seen = seen;
  return {
    core,
    result: { events, newUsers: 0, newItems: 0, fit: result, seconds: (performance.now() - started) / 1000 },
  };
}

/**
 * update() of a closed-form model (EASE, src/api/ease.ts): nothing is trained — the new events join
 * the users' history sets (so each adds its item's row of B to its user's vector) and their seen
 * items; new users start from their events. New items have no row or column of B: rebuilding is
 * the only honest way to add them, so they are refused.
 */
function closedFormUpdate(
  core: TwoTower,
  events: readonly UpdateEvent[],
  options: UpdateOptions,
  started: number,
): { core: TwoTower; result: UpdateResult } {
  const { userFeatures, itemFeatures, ...given } = options;
  const trainingOptions = Object.keys(defined(given));
  if (trainingOptions.length || userFeatures || itemFeatures)
    fail(
      'BAD_OPTION',
      `update: an EASE model is a closed form, not trained: options ${trainingOptions.join(', ') || 'userFeatures/itemFeatures'} do not apply`,
      {
        option: `options.${trainingOptions[0] ?? 'userFeatures'}`,
      },
    );
  const encoded = encodeEvents(core, events, false, 'update');
  if (encoded.added.item > 0) {
    const id = events.find((e) => !core.vocabularies.items?.has(String(e.item)))?.item;
    fail(
      'UNKNOWN_ID',
      `update: item ${JSON.stringify(id)} is new, and an EASE model has no row of B for new items: rebuild it with trainEase`,
      {
        id,
        side: 'item',
      },
    );
  }
  const next = grownCore(core, encoded, {}, encoded.data, 'update');
  try {
    next.seen = mergedSeen(core, encoded.counts.user, encoded.data);
    const fitResult: FitResult = { history: [], steps: 0, seconds: 0, stoppedEarly: false };
    return {
      core: next,
      result: {
        events: events.length,
        newUsers: encoded.added.user,
        newItems: 0,
        fit: fitResult,
        seconds: (performance.now() - started) / 1000,
      },
    };
  } catch (error) {
    next.threads = null;
    next.dispose();
    throw error;
  }
}

/**
 * Adds items described by their features, without training. In a linear item tower each new
 * item's id row and bias are predicted from its features by a regression fitted on the trained
 * items (src/train/cold-rows.ts: 'regressed'); otherwise they start at the mean trained row and
 * bias (src/train/grow.ts: 'mean'). Returns the grown core.
 */
export function addItemsCore(
  core: TwoTower,
  items: EntityFeatures,
): { core: TwoTower; added: number; start: 'regressed' | 'mean' } {
  core.ensureReady();
  if (!items || !Array.isArray(items.ids) || !items.columns || typeof items.columns !== 'object')
    fail('BAD_INPUT', 'addItems: items must be { ids, columns }');
  if (items.ids.length === 0) fail('EMPTY_DATA', 'addItems: no items given');
  const vocab = core.vocabularies.items;
  if (!vocab || vocab.mode !== 'exact')
    fail(
      'BAD_INPUT',
      `addItems: the model has ${vocab ? 'hashed item ids' : 'no item vocabulary'}; adding items needs an exact one (train(), the CLI)`,
    );
  const sets = new Set(interactionSets(core.config, 'item').map((s) => s.spec.name));
  const described = core.config.item.features.filter((f) => f.kind !== 'id' && !sets.has(f.name));
  if (described.length === 0)
    fail(
      'BAD_CONFIG',
      'addItems: the item tower reads only ids (and interactions): a new item has no features to be embedded from; update() with its events instead',
    );
  const seen = new Set<string>();
  items.ids.forEach((id, r) => {
    checkId(id, `addItems: ids[${r}]`);
    if (vocab.has(String(id))) fail('BAD_INPUT', `addItems: item ${JSON.stringify(id)} is already in the model`);
    if (seen.has(String(id))) fail('BAD_INPUT', `addItems: item ${JSON.stringify(id)} is given twice`);
    seen.add(String(id));
  });
  const missing = described.filter((f) => items.columns[f.name] === undefined).map((f) => f.name);
  if (missing.length === described.length)
    fail('MISSING_FEATURE', `addItems: no column for any of the item tower's features (${missing.join(', ')})`);
  const items2 = vocab.extended(seen);
  const next = grownCore(
    core,
    { vocabularies: { users: core.vocabularies.users, items: items2 }, counts: { user: core.userCount, item: items2.size } },
    { item: items },
    undefined,
    'addItems',
  );
  // Their id rows and biases predicted from their features where the item tower is linear (src/train/cold-rows.ts).
  let regressed = false;
  try {
    const warm = Array.from({ length: core.itemCount - 1 }, (_, i) => i + 1);
    const cold = Array.from({ length: items.ids.length }, (_, i) => core.itemCount + i);
    regressed = regressColdRows(next, 'item', warm, cold);
  } catch (error) {
    next.threads = null;
    next.dispose();
    throw error;
  }
  return { core: next, added: items.ids.length, start: regressed ? 'regressed' : 'mean' };
}

export interface FoldInOptions {
  /** The L2 of the solve. Default: the last training's l2. */
  l2?: number;
  /** The user-bias L2 of the solve. Default: the last training's biasL2. */
  biasL2?: number;
}

/**
 * Fold-in (src/train/fold-in.ts): each user in `events` — new or known — gets the embedding and
 * bias that best fit the ratings given for them with the item tower fixed. A known user's
 * vectors are replaced, so give all of their ratings, not only the new ones. Items must be
 * known. Returns the grown core (the same one when no user is new).
 */
export function foldInCore(
  core: TwoTower,
  events: readonly UpdateEvent[],
  options: FoldInOptions = {},
): { core: TwoTower; users: number } {
  core.ensureReady();
  if (!core.trainedWith) fail('NOT_TRAINED', 'foldIn: the model was never trained; train it first');
  const blocker = foldInBlocker(core);
  if (blocker) fail('UNSUPPORTED', `foldIn: ${blocker}; use update() instead`);
  const encoded = encodeEvents(core, events, true, 'foldIn');
  if (encoded.added.item > 0) {
    const vocab = encoded.vocabularies.items!;
    const unknown = events.find((e) => vocab.lookup(String(e.item)) >= core.itemCount)!;
    fail(
      'UNKNOWN_ID',
      `foldIn: item ${JSON.stringify(unknown.item)} is not in the model: fold-in solves users against known items (update() adds items)`,
      { id: unknown.item, side: 'item' },
    );
  }
  const carried = (core.trainedWith.settings ?? {}) as FitOptions;
  const l2 = options.l2 ?? carried.l2 ?? 0;
  const biasL2 = options.biasL2 ?? carried.biasL2 ?? 0;
  for (const [name, value] of [
    ['l2', l2],
    ['biasL2', biasL2],
  ] as const)
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      fail('BAD_OPTION', `foldIn: ${name} must be ≥ 0, got ${value}`);
  const next =
    encoded.added.user > 0
      ? grownCore(
          core,
          { ...encoded, vocabularies: { ...encoded.vocabularies, items: core.vocabularies.items } },
          {},
          undefined,
          'foldIn',
        )
      : core;
  try {
    const users = foldInUsers(next, encoded.data.users, encoded.data.items, encoded.data.ratings, l2, biasL2);
    next.seen = mergedSeen(core, encoded.counts.user, encoded.data);
    return { core: next, users };
  } catch (error) {
    if (next !== core) {
      next.threads = null;
      next.dispose();
    }
    throw error;
  }
}
