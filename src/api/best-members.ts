// The members of recipe: 'best' (best.ts), each trained by one function wherever it runs: one
// after another on the calling thread, or each in its own worker (parallel-members.ts). A job is
// plain data (which family, which seed, the penalty when it is fixed), so that it crosses to a
// worker by structured clone; an outcome is the member's model and what the blend weighs it by.
import type { Interactions } from '../data/interactions.js';
import { resolveLoss } from '../train/losses/index.js';
import type { Model } from './model.js';
import { trainRecipe } from './recipe.js';
import type { RecipeData, RecipeOptions } from './recipe-config.js';
import { trainEase } from './ease.js';
import { trainAutoRec } from './autorec.js';

/** One member of the best recipe's ensemble, and how it did. */
export interface BestMember {
  /** 'tower': the recipe's two-tower model; 'autorec': the item autoencoder (ratings); 'ease': the item-item closed form, EASE or DLAE (retrieval). */
  family: 'tower' | 'autorec' | 'ease';
  seed: number;
  /** A tower's output penalty. */
  l2?: number;
  /** EASE's ridge penalty. */
  lambda?: number;
  /** EASE's dropout (0: EASE; > 0: its denoising form, DLAE). */
  dropout?: number;
  /** Epochs it trained (0 for a closed form). */
  epochs: number;
  /** Its validation RMSE (ratings). */
  validationRmse?: number;
  seconds: number;
}

/**
 * A member to train. `index` is its place in the ensemble's order (towers, then the autoencoders
 * or EASE), which also numbers it in log lines (index + 1). A tower with `l2` reuses member 0's
 * penalty without a search; without it, it searches (member 0).
 */
export type MemberJob =
  | { family: 'tower'; index: number; seed: number; l2?: number }
  | { family: 'autorec'; index: number; seed: number }
  | { family: 'ease'; index: number; seed: number };

/** A trained member: its model and what the blend reads of it. */
export interface MemberOutcome {
  job: MemberJob;
  member: BestMember;
  model: Model;
  /** Retrieval: the model trained on the split's training rows, scored on the validation rows. */
  searchModel?: Model;
  /** The shared validation split and this member's predictions on it (ratings). */
  validation?: Interactions;
  validationPredictions?: Float32Array;
  /** A callback (or the stop of another member) ended its training early. */
  stopped: boolean;
}

/** The log line that announces a member, as the sequential recipe has always printed it. */
export function memberTitle(job: MemberJob): string {
  const name =
    job.family === 'tower'
      ? `towers, seed ${job.seed}`
      : job.family === 'autorec'
        ? `autoencoder (I-AutoRec), seed ${job.seed}`
        : 'EASE';
  return `member ${job.index + 1}: ${name}`;
}

/**
 * Trains one member on the shared split (`o.splitSeed`, else `o.seed`). The towers take `o`'s
 * callbacks (trainRecipe's); the autoencoder and EASE take its onLog only, and the autoencoder
 * stops at an epoch end where `stopRequested` says so (another member was stopped). The caller
 * owns the models of the outcome.
 */
export async function trainMember(
  ds: RecipeData,
  o: RecipeOptions,
  job: MemberJob,
  stopRequested?: () => boolean,
): Promise<MemberOutcome> {
  const splitSeed = o.splitSeed ?? o.seed;
  if (job.family === 'tower') {
    const implicit = resolveLoss(o.loss).implicit;
    const fixed = job.l2 === undefined ? {} : { l2: job.l2, tune: false };
    const run = await trainRecipe(ds, { ...o, ...fixed, seed: job.seed, splitSeed, keepSearchModel: implicit });
    run.model.metadata = { ...run.model.metadata, family: 'tower' };
    const at = run.search.history[run.search.bestEpoch ?? run.search.history.length - 1];
    return {
      job,
      member: {
        family: 'tower',
        seed: job.seed,
        l2: run.l2,
        epochs: run.epochs,
        ...(implicit ? {} : { validationRmse: at?.validationRmse }),
        seconds: run.seconds,
      },
      model: run.model,
      ...(run.searchModel ? { searchModel: run.searchModel } : {}),
      validation: run.validation,
      validationPredictions: run.validationPredictions,
      stopped: run.stopped,
    };
  }
  if (job.family === 'autorec') {
    const autorec = await trainAutoRec(ds, {
      seed: job.seed,
      splitSeed,
      validationFraction: o.validationFraction,
      onLog: o.onLog,
      ...(stopRequested ? { onEpochEnd: () => !stopRequested() } : {}),
    });
    return {
      job,
      member: {
        family: 'autorec',
        seed: job.seed,
        epochs: autorec.epochs,
        validationRmse: autorec.validationRmse,
        seconds: autorec.seconds,
      },
      model: autorec.model,
      ...(autorec.validation ? { validation: autorec.validation } : {}),
      ...(autorec.validationPredictions ? { validationPredictions: autorec.validationPredictions } : {}),
      stopped: autorec.stopped,
    };
  }
  const ease = await trainEase(ds, {
    seed: job.seed,
    splitSeed,
    validationFraction: o.validationFraction,
    minRating: o.minRating,
    threads: o.threads,
    keepSearchModel: true,
    onLog: o.onLog,
  });
  return {
    job,
    member: { family: 'ease', seed: job.seed, lambda: ease.lambda, dropout: ease.dropout, epochs: 0, seconds: ease.seconds },
    model: ease.model,
    ...(ease.searchModel ? { searchModel: ease.searchModel } : {}),
    stopped: false,
  };
}
