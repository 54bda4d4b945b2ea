// The default way to train an explicit-feedback model on a loaded dataset: the architecture the
// CLI builds, and its two-phase training. Phase 1 finds the number of epochs by early stopping
// on a validation split carved from the training data; phase 2 trains a fresh model on all the
// training data for that many epochs with a cosine learning-rate decay. With `tune`, phase 1
// runs once per candidate output penalty on the same validation split and phase 2 refits with
// the best one; the test data is never an input. Shared by the CLI and the benchmarks so that
// both measure the same thing. What the recipe builds (options, features, configuration) is
// recipe-config.ts.
import { createModel, type Model } from './model.js';
import { modelMemory } from '../train/memory.js';
import type { FitResult, EpochInfo, BatchInfo } from '../train/options.js';
import { resolveLoss } from '../train/losses/index.js';
import { carveValidation, trainingRows } from '../train/prepare.js';
import type { Interactions } from '../data/interactions.js';
import { withoutPairs } from '../data/ratings.js';
import { fail } from '../errors.js';
import { checkBooleans } from '../data/checks.js';
import {
  recipeConfig,
  recipeFeatures,
  type RecipeData,
  type RecipeOptions,
  type RecipeBatch,
  type RecipeEpoch,
} from './recipe-config.js';
import { warnDeprecated } from '../util/deprecation.js';
import { warmStart } from './warm-start.js';

/** One penalty `tune` tried: how its early-stopped phase 1 scored on the validation split. */
export interface RecipeCandidate {
  l2: number;
  /** Its best epoch's validation RMSE (rating losses; lower is better). */
  validationRmse?: number;
  /** Its best epoch's validation Recall@20 (implicit losses; higher is better). */
  validationRecall?: number;
  /** Epochs to its best validation figure (what phase 2 would train). */
  epochs: number;
  /** Wall-clock seconds of its phase 1. */
  seconds: number;
}

/** The ladder `tune` walks when no `l2Grid` is given, as multiples of `l2` (see RecipeOptions.tune). */
const L2_LADDER: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface RecipeResult {
  model: Model;
  /** True when onEpochEnd returned false. */
  stopped: boolean;
  /** Phase 1 (epoch search) and phase 2 (final) results; with `tune`, phase 1 of the chosen penalty. */
  search: FitResult;
  final?: FitResult;
  /** Epochs the final model trained. */
  epochs: number;
  /** The output penalty the model trained with: `tune`'s choice, else options.l2. */
  l2: number;
  /** With `tune`: every candidate tried, in order, with its validation figure. */
  candidates?: RecipeCandidate[];
  /** Phase 1's validation split (carved by `splitSeed`): the rows every candidate was scored on. */
  validation: Interactions;
  /** The chosen phase-1 model's predictions on `validation`, row by row (to weigh models against each other on it). */
  validationPredictions: Float32Array;
  /**
   * With `keepSearchModel` and a refit: the chosen phase-1 model, trained on the split's training
   * rows and reading their interaction sets only (its seen items are those rows'), to score the
   * validation split with; the caller disposes it.
   */
  searchModel?: Model;
  seconds: number;
}

/** The penalties of options.l2Grid, checked. */
function l2Candidates(o: Pick<RecipeOptions, 'l2Grid'>): number[] {
  if (!Array.isArray(o.l2Grid) || o.l2Grid.length === 0)
    fail('BAD_OPTION', `train: options.l2Grid must be a non-empty array of penalties ≥ 0, got ${JSON.stringify(o.l2Grid)}`);
  o.l2Grid.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      fail('BAD_OPTION', `train: options.l2Grid[${i}] must be a finite number ≥ 0, got ${JSON.stringify(x)}`);
  });
  return [...o.l2Grid];
}

/** A candidate's validation figure as a loss (lower is better): its best epoch's. */
function validationLoss(c: RecipeCandidate): number {
  const x = c.validationRecall !== undefined ? -c.validationRecall : c.validationRmse;
  return x === undefined || Number.isNaN(x) ? Infinity : x;
}

/** The recipe's three callbacks in their 0.2 form, with 0.1's spellings mapped onto them (each warned once). */
export function recipeCallbacks(o: RecipeOptions): {
  onBatchEnd?: (info: RecipeBatch) => void;
  onEpochEnd?: (info: RecipeEpoch) => void | boolean;
  onLog?: (line: string) => void;
} {
  const { onBatchEnd, onEpochEnd, onEpoch, onLog } = o;
  for (const [name, value] of Object.entries({ onBatchEnd, onEpochEnd, onEpoch, onLog }))
    if (value !== undefined && typeof value !== 'function')
      fail('BAD_OPTION', `train: options.${name} must be a function, got ${typeof value}`, {
        option: `options.${name}`,
        value: String(value),
      });
  if (onEpoch && onEpochEnd)
    fail('BAD_OPTION', 'train: options.onEpoch is the 0.1 name of options.onEpochEnd: pass one of them', {
      option: 'options.onEpoch',
    });
  if (onEpoch) warnDeprecated('train option onEpoch', 'use onEpochEnd (same argument, return false to stop)');
  // 0.1's onBatchEnd took (epoch, loss, phase, batch, batches); a function declaring more than one
  // parameter is that form.
  const positional = onBatchEnd !== undefined && onBatchEnd.length > 1;
  if (positional)
    warnDeprecated(
      'the positional train option onBatchEnd(epoch, loss, phase, batch, batches)',
      'take one argument: { epoch, batch, batches, loss, phase, l2 }',
    );
  const legacyBatch = onBatchEnd as unknown as (
    epoch: number,
    loss: number,
    phase: 1 | 2,
    batch: number,
    batches: number,
  ) => void;
  return {
    onBatchEnd: positional ? (b) => legacyBatch(b.epoch, b.loss, b.phase, b.batch, b.batches) : onBatchEnd,
    onEpochEnd: onEpochEnd ?? onEpoch,
    onLog,
  };
}

export async function trainRecipe(ds: RecipeData, o: RecipeOptions): Promise<RecipeResult> {
  const started = performance.now();
  checkBooleans(o, 'train: options', ['refit', 'sideFeatures', 'tune', 'keepSearchModel']);
  const report = recipeCallbacks(o);
  const config = recipeConfig(ds, o);
  modelMemory(config, { optimizers: o.optimizers }); // a model that cannot fit fails here, before its feature tables are built
  const implicit = resolveLoss(o.loss).implicit;
  // Phase 1's split, carved here as fit() would carve it (the same rows for the same seed), so
  // that the features built from interactions (rated, raters, history) read the 90% only: a
  // validation pair in its own user's or item's set would flatter the validation figure.
  const split = carveValidation(trainingRows(ds.train, { implicit }, o.minRating), o.validationFraction, o.splitSeed ?? o.seed);
  const searchFeatures = recipeFeatures(
    {
      users: ds.users,
      items: ds.items,
      userSide: ds.userSide,
      itemSide: ds.itemSide,
      train: withoutPairs(ds.train, split.validation, ds.items.size),
    },
    o,
  );
  const features = recipeFeatures(ds, o);
  const make = async (phase: 1 | 2) => {
    const model = await createModel(config, { ...(phase === 1 ? searchFeatures : features), threads: o.threads });
    if (o.warmStart) {
      // Transfer: start from a trained model's values, matched by id (warm-start.ts).
      model.setVocabularies({ users: ds.users, items: ds.items });
      const copied = warmStart(model, o.warmStart);
      if (phase === 1)
        for (const b of copied.blocks)
          report.onLog?.(
            `warm start: ${b.name} ${b.how === 'kept' ? `kept (${b.reason})` : `${b.copied} of ${b.of} ${b.how === 'ids' ? 'rows by id' : 'values'}`}`,
          );
    }
    return model;
  };
  const common = {
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    loss: o.loss,
    minRating: o.minRating,
    temperature: o.temperature,
    negatives: o.negatives,
    optimizers: o.optimizers,
  };
  let stopped = false;
  const progress = (e: EpochInfo, phase: 1 | 2, epochs: number, l2: number) => {
    if (report.onEpochEnd?.({ ...e, phase, epochs, l2 }) === false) stopped = true;
    return !stopped;
  };
  const batchEnd = (b: BatchInfo, phase: 1 | 2, l2: number) => report.onBatchEnd?.({ ...b, phase, l2 });
  // Phase 1, once per candidate penalty, each on the same validation split (the fit's seed
  // carves it) and scored by that split alone: the test data is never an input here. The best
  // candidate's model is kept (it is the result without a refit, or after a stop).
  const candidates: RecipeCandidate[] = [];
  let best: { candidate: RecipeCandidate; search: FitResult; model: Model } | undefined;
  /** Phase 1 at one penalty: its candidate record, and the model kept when it is the best so far. */
  const tryPenalty = async (l2: number): Promise<number> => {
    const model = await make(1);
    const prefix = o.tune ? `l2 ${l2}, ` : '';
    let search: FitResult;
    try {
      search = model.fit(split.train, {
        ...common,
        l2,
        epochs: o.epochs,
        validation: split.validation,
        earlyStopping: { patience: o.patience },
        onBatchEnd: (b) => batchEnd(b, 1, l2),
        onEpochEnd: (e) => {
          report.onLog?.(
            `${prefix}epoch ${e.epoch + 1}: train loss ${e.loss.toFixed(4)}, ` +
              (e.validationRecall !== undefined
                ? `validation Recall@20 ${e.validationRecall.toFixed(4)}`
                : `validation RMSE ${e.validationRmse!.toFixed(4)}`) +
              ` (${e.seconds.toFixed(2)} s)`,
          );
          return progress(e, 1, o.epochs, l2);
        },
      });
    } catch (error) {
      model.dispose();
      best?.model.dispose();
      throw error;
    }
    const bestEpoch = search.bestEpoch ?? search.history.length - 1;
    const at = search.history[bestEpoch];
    const candidate: RecipeCandidate = {
      l2,
      ...(implicit ? { validationRecall: at?.validationRecall } : { validationRmse: at?.validationRmse }),
      epochs: bestEpoch + 1,
      seconds: search.seconds,
    };
    candidates.push(candidate);
    if (o.tune)
      report.onLog?.(
        `l2 ${l2}: best validation ${implicit ? `Recall@20 ${candidate.validationRecall?.toFixed(4)}` : `RMSE ${candidate.validationRmse?.toFixed(4)}`} at epoch ${candidate.epochs} (${search.seconds.toFixed(1)} s)`,
      );
    if (!best || validationLoss(candidate) < validationLoss(best.candidate)) {
      best?.model.dispose();
      best = { candidate, search, model };
    } else model.dispose();
    return validationLoss(candidate);
  };
  if (!o.tune) await tryPenalty(o.l2);
  else if (o.l2Grid !== undefined) {
    for (const l2 of l2Candidates(o)) if (!stopped) await tryPenalty(l2);
  } else {
    // A walk over the ladder l2 × L2_LADDER: l2 and its two neighbours, then onward from the
    // better neighbour while each step improves (three runs when l2 is already the best).
    const ladder = L2_LADDER.map((f) => Number((o.l2 * f).toPrecision(6)));
    const center = L2_LADDER.indexOf(1);
    const scores = new Map<number, number>();
    for (const i of [center, center - 1, center + 1]) if (!stopped) scores.set(i, await tryPenalty(ladder[i]!));
    let at = [...scores].reduce((x, y) => (y[1] < x[1] ? y : x))[0];
    const step = Math.sign(at - center);
    for (let i = at + step; step !== 0 && i >= 0 && i < ladder.length && !stopped; i += step) {
      const score = await tryPenalty(ladder[i]!);
      if (!(score < scores.get(at)!)) break;
      scores.set(i, score);
      at = i;
    }
  }
  const chosen = best!;
  const searchModel = chosen.model;
  const validationPredictions = searchModel.rows.predict(split.validation.users, split.validation.items);
  const l2 = chosen.candidate.l2;
  const epochs = chosen.candidate.epochs;
  let final: FitResult | undefined;
  let model = searchModel;
  let kept: Model | undefined;
  if (o.refit && !stopped) {
    // Said in the task's words: a retrieval model is chosen by Recall@20 on events, not by RMSE on ratings.
    report.onLog?.(
      `best validation ${implicit ? 'Recall@20' : 'RMSE'} at epoch ${epochs}: retraining on all ${ds.train.users.length} training ${implicit ? 'events' : 'ratings'} for ${epochs} epochs with cosine decay${o.tune ? `, l2 ${l2}` : ''}`,
    );
    if (o.keepSearchModel) {
      kept = searchModel;
      kept.setVocabularies({ users: ds.users, items: ds.items });
      kept.setSeen(split.train.users, split.train.items);
    } else searchModel.dispose();
    try {
      model = await make(2);
      final = model.fit(ds.train, {
        ...common,
        l2,
        epochs,
        schedule: { kind: 'cosine' },
        onBatchEnd: (b) => batchEnd(b, 2, l2),
        onEpochEnd: (e) => {
          report.onLog?.(`final epoch ${e.epoch + 1}/${epochs}: train loss ${e.loss.toFixed(4)} (${e.seconds.toFixed(2)} s)`);
          return progress(e, 2, epochs, l2);
        },
      });
    } catch (error) {
      kept?.dispose();
      throw error;
    }
  } else {
    // Without a refit the phase-1 model is the result: it serves with the sets of all the training data.
    if (features.userFeatures) model.setUserFeatures(features.userFeatures);
    if (features.itemFeatures) model.setItemFeatures(features.itemFeatures);
  }
  model.setVocabularies({ users: ds.users, items: ds.items });
  model.setSeen(ds.train.users, ds.train.items);
  return {
    model,
    stopped,
    search: chosen.search,
    final,
    epochs: final ? final.history.length : epochs,
    l2,
    ...(o.tune ? { candidates } : {}),
    validation: split.validation,
    validationPredictions,
    ...(kept ? { searchModel: kept } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}
