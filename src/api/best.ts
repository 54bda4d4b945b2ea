// `recipe: 'best'`: the most accurate combination measured (docs/accuracy.md), as one model.
// Members of different seeds and families each train by their own recipe on ONE shared
// validation split; their blend weights are chosen on that split alone (never on test data);
// combineModels (ensemble.ts) makes the refit members one two-tower model. Ratings: tower
// members (seeds) averaged, then blended with the autoencoder family. Retrieval: the tower
// blended with EASE's item-item closed form. The plain recipe stays the fast default.
// With `threads` ≥ 2 where workers can run the package's code (Node), the members train at the
// same time, each in a worker (parallel-members.ts), to the same bits as one after another.
import { fail } from '../errors.js';
import { withoutPairs } from '../data/ratings.js';
import { resolveLoss } from '../train/losses/index.js';
import { memberSpawner, type MemberSpawner } from '../wasm/platform.js';
import { loadModelOnThreads, type Model } from './model.js';
import { combineModels } from './ensemble.js';
import type { RecipeData, RecipeOptions } from './recipe-config.js';
import { EASE_MAX_ITEMS } from './ease.js';
import { memberTitle, trainMember, type BestMember, type MemberJob, type MemberOutcome } from './best-members.js';
import { trainMembersInParallel } from './parallel-members.js';

export type { BestMember } from './best-members.js';

export interface BestOptions {
  /**
   * Tower members, one per seed (seed, seed + 1, …); the first searches the penalty, the others
   * reuse its choice. Default 5 for ratings, 1 for retrieval (where more seeds measured no gain).
   */
  seeds?: number;
  /** Ratings: autoencoder members, one per seed, averaged before the blend. Default 3. */
  autorecSeeds?: number;
}

export interface BestResult {
  model: Model;
  /** The members in the combined model, in the order of its vectors' blocks. */
  members: BestMember[];
  /** Each member's weight in the blended score (they sum to 1). */
  weights: number[];
  /** The blend's RMSE on the shared validation split (ratings). */
  validationRmse?: number;
  /** The blend's Recall@20 on the shared validation split (retrieval). */
  validationRecall?: number;
  /** True when a callback stopped training: the members trained so far are combined. */
  stopped: boolean;
  /**
   * Members that trained at the same time, each in its own worker: up to `threads` (1: one after
   * another on the calling thread, and `sequentialReason` says why).
   */
  parallelMembers: number;
  /** Why the members trained one after another (threads 1, no worker for the package's code here, …). */
  sequentialReason?: string;
  seconds: number;
}

export const BEST_DEFAULTS = Object.freeze({ seeds: 5, retrievalSeeds: 1, autorecSeeds: 3 });

/** Ratios w_ease / w_towers the retrieval blend tries on validation (the two score on scales orders of magnitude apart). */
const RATIO_LADDER: readonly number[] = [0, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100];

/** The models a best run made, disposed on the way out unless handed to the caller. */
class Owned {
  private readonly models = new Set<Model>();
  add<M extends Model | undefined>(model: M): M {
    if (model) this.models.add(model);
    return model;
  }
  /** Disposes everything but `kept`. */
  release(kept?: Model): void {
    for (const m of this.models) if (m !== kept) m.dispose();
    this.models.clear();
  }
}

/**
 * Trains the members and blends them (see the file's head). With `threads` ≥ 2 and a platform
 * that starts workers on the package's own code (the Node entry, the package's files on disk),
 * up to `threads` members train at once, each in a worker on one kernel thread: the first tower
 * with the autoencoders or EASE, then the other towers with its penalty. The combined model has
 * the same bits as the sequential run. Callbacks then run on the calling thread as the workers
 * report (onBatchEnd at most every 100 ms per member and at each epoch's end), and a false from
 * onEpochEnd stops every member at its next epoch end. Elsewhere (threads 1, a browser, a bundle
 * without the member worker file, a warmStart model) the members train one after another, and
 * an onLog line and `sequentialReason` say why.
 */
export async function trainBest(ds: RecipeData, o: RecipeOptions & BestOptions): Promise<BestResult> {
  const started = performance.now();
  const implicit = resolveLoss(o.loss).implicit;
  const seeds = o.seeds ?? (implicit ? BEST_DEFAULTS.retrievalSeeds : BEST_DEFAULTS.seeds);
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 64)
    fail('BAD_OPTION', `train: options.seeds must be an integer in [1, 64], got ${JSON.stringify(seeds)}`, {
      option: 'options.seeds',
      value: seeds,
    });
  const autorecSeeds = o.autorecSeeds ?? BEST_DEFAULTS.autorecSeeds;
  if (!Number.isInteger(autorecSeeds) || autorecSeeds < 0 || autorecSeeds > 64)
    fail('BAD_OPTION', `train: options.autorecSeeds must be an integer in [0, 64], got ${JSON.stringify(autorecSeeds)}`, {
      option: 'options.autorecSeeds',
      value: autorecSeeds,
    });
  const jobs = memberJobs(ds, o, seeds, autorecSeeds);
  const plan = memberPlan(o, jobs);
  o.onLog?.(
    plan.parallel > 1
      ? `${jobs.length} members, up to ${plan.parallel} at once in worker threads`
      : `${jobs.length} members, one after another: ${plan.reason}`,
  );
  const owned = new Owned();
  let result: BestResult | undefined;
  try {
    const trained =
      plan.spawn && plan.parallel > 1
        ? await trainMembersInParallel(ds, o, jobs, plan.spawn, plan.parallel)
        : await sequentialMembers(ds, o, jobs);
    for (const m of trained.outcomes) {
      owned.add(m.model);
      owned.add(m.searchModel);
    }
    const towers: Towers = { runs: trained.outcomes.filter((m) => m.job.family === 'tower'), stopped: trained.stopped };
    const others = trained.outcomes.filter((m) => m.job.family !== 'tower');
    const blend = implicit ? await retrievalBlend(ds, o, towers, others[0]) : ratingBlend(o, towers, others);
    // A lone member from a worker was loaded on one thread: the caller's model runs on theirs.
    const threads = o.threads ?? 1;
    const model =
      blend.models.length > 1
        ? owned.add(await combineModels(blend.models, { weights: blend.weights, threads: o.threads }))
        : plan.spawn && threads > 1
          ? owned.add(await loadModelOnThreads(blend.models[0]!.toBytes(), threads))
          : blend.models[0]!;
    model.metadata = { ...model.metadata, recipe: 'best' };
    result = {
      model,
      members: blend.members,
      weights: blend.weights,
      ...(blend.validationRmse !== undefined ? { validationRmse: blend.validationRmse } : {}),
      ...(blend.validationRecall !== undefined ? { validationRecall: blend.validationRecall } : {}),
      stopped: trained.stopped,
      parallelMembers: plan.parallel,
      ...(plan.parallel > 1 ? {} : { sequentialReason: plan.reason }),
      seconds: (performance.now() - started) / 1000,
    };
    return result;
  } finally {
    owned.release(result?.model);
  }
}

/** The members, in the combined model's order: the towers (seed, seed + 1, …), then the autoencoders (ratings) or EASE (retrieval). */
function memberJobs(ds: RecipeData, o: RecipeOptions, seeds: number, autorecSeeds: number): MemberJob[] {
  const jobs: MemberJob[] = Array.from({ length: seeds }, (_, k) => ({ family: 'tower', index: k, seed: o.seed + k }));
  if (!resolveLoss(o.loss).implicit)
    for (let k = 0; k < autorecSeeds; k++) jobs.push({ family: 'autorec', index: seeds + k, seed: o.seed + k });
  else if (ds.items.size > EASE_MAX_ITEMS)
    o.onLog?.(`no EASE member: ${ds.items.size} item rows, over its ${EASE_MAX_ITEMS} (|I|² memory, |I|³ time)`);
  else jobs.push({ family: 'ease', index: seeds, seed: o.seed });
  return jobs;
}

/** How many members train at once (up to `threads`, in workers), or why one after another. */
function memberPlan(o: RecipeOptions, jobs: readonly MemberJob[]): { parallel: number; spawn?: MemberSpawner; reason?: string } {
  const threads = o.threads ?? 1;
  if (threads < 2) return { parallel: 1, reason: 'threads is 1' };
  if (jobs.length < 2) return { parallel: 1, reason: 'there is one member' };
  if (o.warmStart) return { parallel: 1, reason: 'a warmStart model cannot be sent to a worker' };
  const spawn = memberSpawner();
  if (typeof spawn === 'string') return { parallel: 1, reason: spawn };
  return { parallel: Math.min(threads, jobs.length), spawn };
}

/** The members one after another on the calling thread; after a stop, none further. */
async function sequentialMembers(
  ds: RecipeData,
  o: RecipeOptions,
  jobs: readonly MemberJob[],
): Promise<{ outcomes: MemberOutcome[]; stopped: boolean }> {
  const outcomes: MemberOutcome[] = [];
  try {
    for (const job of jobs) {
      // Towers after the first reuse its penalty without a search.
      const first = outcomes[0];
      const fixed = job.family === 'tower' && first ? { ...job, l2: first.member.l2! } : job;
      o.onLog?.(memberTitle(fixed));
      const outcome = await trainMember(ds, o, fixed);
      outcomes.push(outcome);
      if (outcome.stopped) return { outcomes, stopped: true };
    }
  } catch (error) {
    for (const m of outcomes) {
      m.model.dispose();
      m.searchModel?.dispose();
    }
    throw error;
  }
  return { outcomes, stopped: false };
}

interface Towers {
  runs: MemberOutcome[];
  stopped: boolean;
}

interface Blend {
  models: Model[];
  weights: number[];
  members: BestMember[];
  validationRmse?: number;
  validationRecall?: number;
}

/** RMSE of predictions (clamped to [lo, hi]) against the ratings. */
function rmseOf(predictions: ArrayLike<number>, ratings: ArrayLike<number>, lo: number, hi: number): number {
  let se = 0;
  for (let r = 0; r < ratings.length; r++) se += (Math.min(hi, Math.max(lo, predictions[r]!)) - ratings[r]!) ** 2;
  return Math.sqrt(se / Math.max(1, ratings.length));
}

/**
 * Ratings: the tower members in equal shares, then the autoencoder family (trainAutoRec on the
 * same split) blended in at the share w ∈ {0, 0.01, …, 1} with the lowest validation RMSE.
 */
function ratingBlend(o: RecipeOptions, towers: Towers, autorecs: MemberOutcome[]): Blend {
  const { runs } = towers;
  const validation = runs[0]!.validation!;
  const [lo, hi] = runs[0]!.model.config.ratingRange ?? [-Infinity, Infinity];
  const mean = new Float32Array(validation.users.length);
  for (const run of runs) run.validationPredictions!.forEach((p, r) => (mean[r] = mean[r]! + p / runs.length));
  const towersOnly: Blend = {
    models: runs.map((r) => r.model),
    weights: runs.map(() => 1 / runs.length),
    members: runs.map((r) => r.member),
    validationRmse: rmseOf(mean, validation.ratings, lo, hi),
  };
  o.onLog?.(`${runs.length} tower members: validation RMSE ${towersOnly.validationRmse!.toFixed(4)}`);
  if (towers.stopped || autorecs.length === 0) return towersOnly;
  const other = new Float32Array(mean.length);
  for (const autorec of autorecs) {
    const v = autorec.validation;
    if (
      !v ||
      v.users.length !== validation.users.length ||
      v.users.some((u, r) => u !== validation.users[r] || v.items[r] !== validation.items[r])
    )
      fail('INTERNAL', 'recipe best: the autoencoder was validated on another split than the towers');
    autorec.validationPredictions!.forEach((p, r) => (other[r] = other[r]! + p / autorecs.length));
  }
  const autorecRmse = rmseOf(other, validation.ratings, lo, hi);
  let best = { share: 0, rmse: towersOnly.validationRmse! };
  const blended = new Float32Array(mean.length);
  for (let step = 1; step <= 100; step++) {
    const w = step / 100;
    for (let r = 0; r < mean.length; r++) blended[r] = (1 - w) * mean[r]! + w * other[r]!;
    const rmse = rmseOf(blended, validation.ratings, lo, hi);
    if (rmse < best.rmse) best = { share: w, rmse };
  }
  o.onLog?.(
    `blend on validation: towers ${towersOnly.validationRmse!.toFixed(4)}, autoencoders ${autorecRmse.toFixed(4)}, ` +
      `${(100 * best.share).toFixed(0)}% autoencoder ${best.rmse.toFixed(4)}`,
  );
  if (best.share === 0) return towersOnly;
  return {
    models: [...towersOnly.models, ...autorecs.map((a) => a.model)],
    weights: [...runs.map(() => (1 - best.share) / runs.length), ...autorecs.map(() => best.share / autorecs.length)],
    members: [...towersOnly.members, ...autorecs.map((a) => a.member)],
    validationRmse: best.rmse,
  };
}

/**
 * Retrieval: the towers (equal shares) and EASE, each built on the shared split and scored
 * together on its validation rows (the split's training items excluded) at each ratio of the
 * ladder, refined around the best; the refit members are combined at that ratio. The ratio is
 * chosen by NDCG@100, not Recall@20: on MovieLens 100K the blend's Recall@20 moves by less than
 * its noise over a wide band of ratios, and a choice by Recall@20 on one half of a fold's users
 * missed the other half's best by 2.2× as much as a choice by NDCG@100, which reads the whole
 * top of the ranking (docs/accuracy.md).
 */
async function retrievalBlend(ds: RecipeData, o: RecipeOptions, towers: Towers, ease: MemberOutcome | undefined): Promise<Blend> {
  const only: Blend = {
    models: towers.runs.map((r) => r.model),
    weights: towers.runs.map(() => 1 / towers.runs.length),
    members: towers.runs.map((r) => r.member),
  };
  if (towers.stopped || !ease) return only;
  const validation = towers.runs[0]!.validation!;
  const exclude = withoutPairs(ds.train, validation, ds.items.size);
  const searchModels = [...towers.runs.map((r) => r.searchModel!), ease.searchModel!];
  const scoreAt = async (ratio: number): Promise<{ ndcg100: number; recall20: number }> => {
    const n = ratio === 0 ? searchModels.length - 1 : searchModels.length;
    const m =
      n === 1
        ? searchModels[0]!
        : await combineModels(searchModels.slice(0, n), {
            weights: blendWeights(towers.runs.length, ratio).slice(0, n),
            threads: o.threads,
          });
    try {
      const metrics = m.rows.evaluateRanking(validation, { ks: [20, 100], exclude });
      return { ndcg100: metrics.ndcg[100]!, recall20: metrics.recall[20]! };
    } finally {
      if (n > 1) m.dispose();
    }
  };
  const tried = new Map<number, { ndcg100: number; recall20: number }>();
  const bestTried = () => [...tried].reduce((a, b) => (b[1].ndcg100 > a[1].ndcg100 ? b : a));
  for (const r of RATIO_LADDER) tried.set(r, await scoreAt(r));
  // Refine between the best step and its neighbours (a factor of √3 either side).
  const step = bestTried()[0];
  if (step > 0) for (const r of [step / Math.sqrt(3), step * Math.sqrt(3)]) tried.set(r, await scoreAt(r));
  const [ratio, { recall20: validationRecall }] = bestTried();
  o.onLog?.(
    `blend on validation NDCG@100 / Recall@20 (EASE : towers): ${[...tried]
      .sort((a, b) => a[0] - b[0])
      .map(([r, x]) => `${Number(r.toPrecision(3))} → ${x.ndcg100.toFixed(4)} / ${x.recall20.toFixed(4)}`)
      .join(', ')}; chosen ${Number(ratio.toPrecision(3))}`,
  );
  if (ratio === 0) return { ...only, validationRecall };
  return {
    models: [...only.models, ease.model],
    weights: blendWeights(towers.runs.length, ratio),
    members: [...only.members, ease.member],
    validationRecall,
  };
}

/** Equal shares for `towers` members and EASE at `ratio` to their sum, summing to 1. */
function blendWeights(towers: number, ratio: number): number[] {
  return [...Array.from({ length: towers }, () => 1 / towers / (1 + ratio)), ratio / (1 + ratio)];
}
