// The default way to train an explicit-feedback model on a loaded dataset: the architecture the
// CLI builds, and its two-phase training. Phase 1 finds the number of epochs by early stopping
// on a validation split carved from the training data; phase 2 trains a fresh model on all the
// training data for that many epochs with a cosine learning-rate decay. With `tune`, phase 1
// runs once per candidate output penalty on the same validation split and phase 2 refits with
// the best one; the test data is never an input. Shared by the CLI and the benchmarks so that
// both measure the same thing. What the recipe builds (options, features, configuration) is
// recipe-config.ts; phase 1, candidate by candidate, is recipe-search.ts; its candidates at the
// same time in worker threads (threads ≥ 2 in Node), parallel-penalties.ts.
import type { Model } from './model.js';
import type { FitResult, EpochInfo } from '../train/options.js';
import type { Interactions } from '../data/interactions.js';
import { fail } from '../errors.js';
import { memberSpawner, type MemberSpawner } from '../wasm/platform.js';
import { recipeFeatures, type RecipeData, type RecipeOptions, type RecipeBatch, type RecipeEpoch } from './recipe-config.js';
import { warnDeprecated } from '../util/deprecation.js';
import {
  candidateLine,
  commonFitOptions,
  planSearch,
  recipeModel,
  searchPenalty,
  searchSetup,
  validationLoss,
  type PenaltyRun,
  type RecipeCandidate,
  type SearchSetup,
} from './recipe-search.js';
import { searchPenaltiesInParallel, type SearchOutcome } from './parallel-penalties.js';
import type { RecipeReport } from './recipe-workers.js';

export type { RecipeCandidate } from './recipe-search.js';

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
  /**
   * Phase-1 candidates that trained at the same time, each in its own worker: up to `threads`
   * (1: one after another on the calling thread, and `sequentialReason` says why).
   */
  parallelCandidates: number;
  /** Why phase 1's candidates trained one after another (tune off, threads 1, no worker for the package's code here, …). */
  sequentialReason?: string;
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

/**
 * Trains the recipe (see the file's head). With `tune` and `threads` ≥ 2 where workers can run
 * the package's code (the Node entry, its files on disk), phase 1's candidates train up to
 * `threads` at once, each in a worker on one kernel thread (parallel-penalties.ts), and the
 * search takes them in its own order: the same choice, candidates and bits as one after
 * another. Phase 2 runs here on `threads` kernel threads. Elsewhere the candidates run one after
 * another, and an onLog line (with threads ≥ 2) and `sequentialReason` say why.
 */
export async function trainRecipe(ds: RecipeData, o: RecipeOptions): Promise<RecipeResult> {
  const started = performance.now();
  const setup = searchSetup(ds, o);
  const { implicit, split } = setup;
  const callbacks = recipeCallbacks(o);
  let stopped = false;
  // The caller's onEpochEnd, with a false remembered: no further candidate, no refit.
  const report: RecipeReport = {
    ...callbacks,
    onEpochEnd: (e) => {
      if (callbacks.onEpochEnd?.(e) === false) stopped = true;
      return !stopped;
    },
  };
  const plan = candidatePlan(o, setup);
  if (o.tune && (o.threads ?? 1) > 1)
    report.onLog?.(
      plan.spawn
        ? `tune: up to ${plan.parallel} penalties at once in worker threads`
        : `tune: penalties one after another: ${plan.reason}`,
    );
  // Phase 1, once per candidate penalty, each on the same validation split (the fit's seed
  // carves it) and scored by that split alone: the test data is never an input here. The best
  // candidate's model is kept (it is the result without a refit, or after a stop).
  const searched = plan.spawn
    ? await searchPenaltiesInParallel(ds, o, setup, report, plan.spawn, plan.parallel)
    : await searchInSequence(ds, o, setup, report, () => stopped);
  stopped ||= searched.stopped;
  const { candidates } = searched;
  const features = recipeFeatures(ds, o);
  const progress = (e: EpochInfo, phase: 1 | 2, epochs: number, l2: number) =>
    report.onEpochEnd!({ ...e, phase, epochs, l2 }) !== false;
  const batchEnd = (b: RecipeBatch) => report.onBatchEnd?.(b);
  const common = commonFitOptions(o);
  const chosen = searched.chosen;
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
      model = await recipeModel(ds, o, setup.config, features);
      final = model.fit(ds.train, {
        ...common,
        l2,
        epochs,
        schedule: { kind: 'cosine' },
        onBatchEnd: (b) => batchEnd({ ...b, phase: 2, l2 }),
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
    parallelCandidates: plan.parallel,
    ...(plan.spawn ? {} : { sequentialReason: plan.reason }),
    validation: split.validation,
    validationPredictions,
    ...(kept ? { searchModel: kept } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}

/** How many phase-1 candidates train at once (up to `threads`, in workers), or why one after another. */
function candidatePlan(o: RecipeOptions, setup: SearchSetup): { parallel: number; spawn?: MemberSpawner; reason?: string } {
  const threads = o.threads ?? 1;
  if (!o.tune) return { parallel: 1, reason: 'tune is off: phase 1 has one penalty' };
  if (threads < 2) return { parallel: 1, reason: 'threads is 1' };
  if (setup.penalties.length < 2) return { parallel: 1, reason: 'l2Grid has one penalty' };
  if (o.warmStart) return { parallel: 1, reason: 'a warmStart model cannot be sent to a worker' };
  const spawn = memberSpawner();
  if (typeof spawn === 'string') return { parallel: 1, reason: spawn };
  return { parallel: Math.min(threads, setup.penalties.length), spawn };
}

/**
 * Phase 1's search one candidate after another on the calling thread, in planSearch's order,
 * until it is over or `stopped()`; two models at once at most (the best so far and the one training).
 */
async function searchInSequence(
  ds: RecipeData,
  o: RecipeOptions,
  setup: SearchSetup,
  report: RecipeReport,
  stopped: () => boolean,
): Promise<SearchOutcome> {
  const candidates: RecipeCandidate[] = [];
  const losses = new Map<number, number>();
  let best: { index: number; run: PenaltyRun } | undefined;
  const next = () => (stopped() ? undefined : planSearch(setup.walk, setup.penalties.length, losses).next);
  try {
    for (let i = next(); i !== undefined; i = next()) {
      const run = await searchPenalty(ds, o, setup, setup.penalties[i]!, report);
      candidates.push(run.candidate);
      losses.set(i, validationLoss(run.candidate));
      if (o.tune) report.onLog?.(candidateLine(run.candidate, setup.implicit));
      if (!best || losses.get(i)! < losses.get(best.index)!) {
        best?.run.model.dispose();
        best = { index: i, run };
      } else run.model.dispose();
    }
  } catch (error) {
    best?.run.model.dispose();
    throw error;
  }
  return { candidates, chosen: best!.run, stopped: stopped() };
}
