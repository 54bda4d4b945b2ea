// `recipe: 'best'`: the most accurate combination measured (docs/accuracy.md), as one model.
// Members of different seeds (and, for ratings, the autoencoder family) each train by their own
// recipe on one shared validation split; their blend weights are chosen on that split alone
// (never on test data); combineModels (ensemble.ts) makes them one two-tower model. The plain
// recipe stays the fast default.
import { fail } from '../errors.js';
import type { Model } from './model.js';
import { combineModels } from './ensemble.js';
import { trainRecipe, type RecipeResult } from './recipe.js';
import type { RecipeData, RecipeOptions } from './recipe-config.js';
import { resolveLoss } from '../train/losses/index.js';

export interface BestOptions {
  /** Tower members, one per seed (seed, seed + 1, …); the first searches the penalty, the others reuse its choice. Default 5. */
  seeds?: number;
}

/** One member of the best recipe's ensemble, and how it scored on the shared validation split. */
export interface BestMember {
  family: 'tower';
  seed: number;
  l2: number;
  epochs: number;
  /** Its validation RMSE (ratings). */
  validationRmse?: number;
  seconds: number;
}

export interface BestResult {
  model: Model;
  members: BestMember[];
  /** Each member's weight in the blended score (they sum to 1). */
  weights: number[];
  /** The blend's RMSE on the shared validation split (ratings). */
  validationRmse?: number;
  /** True when a callback stopped training: the members trained so far are combined. */
  stopped: boolean;
  seconds: number;
}

export const BEST_DEFAULTS: Required<BestOptions> = { seeds: 5 };

/** RMSE of predictions against ratings, predictions clamped to [lo, hi]. */
function rmseOf(predictions: ArrayLike<number>, ratings: ArrayLike<number>, lo: number, hi: number): number {
  let se = 0;
  for (let r = 0; r < ratings.length; r++) se += (Math.min(hi, Math.max(lo, predictions[r]!)) - ratings[r]!) ** 2;
  return Math.sqrt(se / Math.max(1, ratings.length));
}

export async function trainBest(ds: RecipeData, o: RecipeOptions & BestOptions): Promise<BestResult> {
  const started = performance.now();
  const seeds = o.seeds ?? BEST_DEFAULTS.seeds;
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 64)
    fail('BAD_OPTION', `train: options.seeds must be an integer in [1, 64], got ${JSON.stringify(seeds)}`, {
      option: 'options.seeds',
      value: seeds,
    });
  const implicit = resolveLoss(o.loss).implicit;
  const splitSeed = o.splitSeed ?? o.seed;
  const runs: RecipeResult[] = [];
  const members: BestMember[] = [];
  let stopped = false;
  try {
    for (let k = 0; k < seeds && !stopped; k++) {
      const seed = o.seed + k;
      // The first member searches the penalty; the others train at its choice (the search is per data, not per seed).
      const fixed = k === 0 ? {} : { l2: runs[0]!.l2, tune: false };
      o.onLog?.(`member ${k + 1}/${seeds}: towers, seed ${seed}`);
      const run = await trainRecipe(ds, { ...o, ...fixed, seed, splitSeed });
      runs.push(run);
      stopped = run.stopped;
      members.push({
        family: 'tower',
        seed,
        l2: run.l2,
        epochs: run.epochs,
        ...(implicit ? {} : { validationRmse: validationRmseOf(run) }),
        seconds: run.seconds,
      });
    }
    const weights = runs.map(() => 1 / runs.length);
    const validation = runs[0]!.validation;
    let validationRmse: number | undefined;
    if (!implicit) {
      const blended = new Float32Array(validation.users.length);
      runs.forEach((run, k) => run.validationPredictions.forEach((p, r) => (blended[r] = blended[r]! + weights[k]! * p)));
      const [lo, hi] = ratingBounds(runs[0]!.model);
      validationRmse = rmseOf(blended, validation.ratings, lo, hi);
      o.onLog?.(`blend of ${runs.length} members: validation RMSE ${validationRmse.toFixed(4)}`);
    }
    const model =
      runs.length === 1
        ? runs[0]!.model
        : await combineModels(
            runs.map((r) => r.model),
            { weights, threads: o.threads },
          );
    if (runs.length > 1) for (const run of runs) run.model.dispose();
    model.metadata = { ...model.metadata, recipe: 'best' };
    return {
      model,
      members,
      weights,
      ...(validationRmse !== undefined ? { validationRmse } : {}),
      stopped,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    for (const run of runs) run.model.dispose();
    throw error;
  }
}

/** A rating run's best validation RMSE in phase 1. */
function validationRmseOf(run: RecipeResult): number | undefined {
  return run.search.history[run.search.bestEpoch ?? run.search.history.length - 1]?.validationRmse;
}

/** The model's rating range, or no clamp. */
function ratingBounds(model: Model): [number, number] {
  return model.config.ratingRange ?? [-Infinity, Infinity];
}
