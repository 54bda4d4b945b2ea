// `recipe: 'best'`: the most accurate combination measured (docs/accuracy.md), as one model.
// Members of different seeds and families each train by their own recipe on ONE shared
// validation split; their blend weights are chosen on that split alone (never on test data);
// combineModels (ensemble.ts) makes the refit members one two-tower model. Ratings: tower
// members (seeds) averaged, then blended with the autoencoder family. Retrieval: the tower
// blended with EASE's item-item closed form. The plain recipe stays the fast default.
import { fail } from '../errors.js';
import { withoutPairs } from '../data/ratings.js';
import { resolveLoss } from '../train/losses/index.js';
import type { Model } from './model.js';
import { combineModels } from './ensemble.js';
import { trainRecipe, type RecipeResult } from './recipe.js';
import type { RecipeData, RecipeOptions } from './recipe-config.js';
import { trainEase, EASE_MAX_ITEMS } from './ease.js';
import { trainAutoRec } from './autorec.js';

export interface BestOptions {
  /**
   * Tower members, one per seed (seed, seed + 1, …); the first searches the penalty, the others
   * reuse its choice. Default 5 for ratings, 1 for retrieval (where more seeds measured no gain).
   */
  seeds?: number;
  /** Ratings: autoencoder members, one per seed, averaged before the blend. Default 3. */
  autorecSeeds?: number;
}

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
  const owned = new Owned();
  let result: BestResult | undefined;
  try {
    const towers = await towerMembers(ds, o, seeds, owned);
    const blend = implicit ? await retrievalBlend(ds, o, towers, owned) : await ratingBlend(ds, o, towers, owned, autorecSeeds);
    const model =
      blend.models.length === 1
        ? blend.models[0]!
        : owned.add(await combineModels(blend.models, { weights: blend.weights, threads: o.threads }));
    model.metadata = { ...model.metadata, recipe: 'best' };
    result = {
      model,
      members: blend.members,
      weights: blend.weights,
      ...(blend.validationRmse !== undefined ? { validationRmse: blend.validationRmse } : {}),
      ...(blend.validationRecall !== undefined ? { validationRecall: blend.validationRecall } : {}),
      stopped: towers.stopped,
      seconds: (performance.now() - started) / 1000,
    };
    return result;
  } finally {
    owned.release(result?.model);
  }
}

interface Towers {
  runs: RecipeResult[];
  members: BestMember[];
  stopped: boolean;
}

/** The tower members, each by the recipe on the shared split (the first searches the penalty, the others reuse it). */
async function towerMembers(ds: RecipeData, o: RecipeOptions, seeds: number, owned: Owned): Promise<Towers> {
  const implicit = resolveLoss(o.loss).implicit;
  const splitSeed = o.splitSeed ?? o.seed;
  const runs: RecipeResult[] = [];
  const members: BestMember[] = [];
  let stopped = false;
  for (let k = 0; k < seeds && !stopped; k++) {
    const seed = o.seed + k;
    const fixed = k === 0 ? {} : { l2: runs[0]!.l2, tune: false };
    o.onLog?.(`member ${k + 1}: towers, seed ${seed}`);
    const run = await trainRecipe(ds, { ...o, ...fixed, seed, splitSeed, keepSearchModel: implicit });
    owned.add(run.model);
    owned.add(run.searchModel);
    run.model.metadata = { ...run.model.metadata, family: 'tower' };
    runs.push(run);
    stopped = run.stopped;
    const at = run.search.history[run.search.bestEpoch ?? run.search.history.length - 1];
    members.push({
      family: 'tower',
      seed,
      l2: run.l2,
      epochs: run.epochs,
      ...(implicit ? {} : { validationRmse: at?.validationRmse }),
      seconds: run.seconds,
    });
  }
  return { runs, members, stopped };
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
async function ratingBlend(ds: RecipeData, o: RecipeOptions, towers: Towers, owned: Owned, autorecSeeds: number): Promise<Blend> {
  const { runs } = towers;
  const validation = runs[0]!.validation;
  const [lo, hi] = runs[0]!.model.config.ratingRange ?? [-Infinity, Infinity];
  const mean = new Float32Array(validation.users.length);
  for (const run of runs) run.validationPredictions.forEach((p, r) => (mean[r] = mean[r]! + p / runs.length));
  const towersOnly: Blend = {
    models: runs.map((r) => r.model),
    weights: runs.map(() => 1 / runs.length),
    members: towers.members,
    validationRmse: rmseOf(mean, validation.ratings, lo, hi),
  };
  o.onLog?.(`${runs.length} tower members: validation RMSE ${towersOnly.validationRmse!.toFixed(4)}`);
  if (towers.stopped || autorecSeeds === 0) return towersOnly;
  const autorecs = [];
  const other = new Float32Array(mean.length);
  for (let k = 0; k < autorecSeeds; k++) {
    o.onLog?.(`member ${runs.length + k + 1}: autoencoder (I-AutoRec), seed ${o.seed + k}`);
    const autorec = await trainAutoRec(ds, {
      seed: o.seed + k,
      splitSeed: o.splitSeed ?? o.seed,
      validationFraction: o.validationFraction,
      onLog: o.onLog,
    });
    owned.add(autorec.model);
    autorecs.push(autorec);
    const v = autorec.validation;
    if (
      !v ||
      v.users.length !== validation.users.length ||
      v.users.some((u, r) => u !== validation.users[r] || v.items[r] !== validation.items[r])
    )
      fail('INTERNAL', 'recipe best: the autoencoder was validated on another split than the towers');
    autorec.validationPredictions!.forEach((p, r) => (other[r] = other[r]! + p / autorecSeeds));
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
    weights: [...runs.map(() => (1 - best.share) / runs.length), ...autorecs.map(() => best.share / autorecSeeds)],
    members: [
      ...towers.members,
      ...autorecs.map((a, k) => ({
        family: 'autorec' as const,
        seed: o.seed + k,
        epochs: a.epochs,
        validationRmse: a.validationRmse,
        seconds: a.seconds,
      })),
    ],
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
async function retrievalBlend(ds: RecipeData, o: RecipeOptions, towers: Towers, owned: Owned): Promise<Blend> {
  const only: Blend = {
    models: towers.runs.map((r) => r.model),
    weights: towers.runs.map(() => 1 / towers.runs.length),
    members: towers.members,
  };
  if (towers.stopped) return only;
  if (ds.items.size > EASE_MAX_ITEMS) {
    o.onLog?.(`no EASE member: ${ds.items.size} item rows, over its ${EASE_MAX_ITEMS} (|I|² memory, |I|³ time)`);
    return only;
  }
  o.onLog?.(`member ${towers.runs.length + 1}: EASE`);
  const ease = await trainEase(ds, {
    seed: o.seed,
    splitSeed: o.splitSeed ?? o.seed,
    validationFraction: o.validationFraction,
    minRating: o.minRating,
    threads: o.threads,
    keepSearchModel: true,
    onLog: o.onLog,
  });
  owned.add(ease.model);
  owned.add(ease.searchModel);
  const validation = towers.runs[0]!.validation;
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
    members: [
      ...towers.members,
      { family: 'ease', seed: o.seed, lambda: ease.lambda, dropout: ease.dropout, epochs: 0, seconds: ease.seconds },
    ],
    validationRecall,
  };
}

/** Equal shares for `towers` members and EASE at `ratio` to their sum, summing to 1. */
function blendWeights(towers: number, ratio: number): number[] {
  return [...Array.from({ length: towers }, () => 1 / towers / (1 + ratio)), ratio / (1 + ratio)];
}
