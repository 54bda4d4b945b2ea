// Phase 1 of the default recipe (recipe.ts), one penalty at a time: what every candidate shares
// (the config, the validation split, the features built from the split's training rows), one
// candidate's early-stopped fit, and tune's search order as a function of the figures known so
// far. The order is one function so that the candidates running one after another (recipe.ts)
// and at the same time in workers (parallel-penalties.ts) make the same choice by construction.
import { createModel, type Model } from './model.js';
import { modelMemory } from '../train/memory.js';
import type { FitResult } from '../train/options.js';
import { resolveLoss } from '../train/losses/index.js';
import { carveValidation, trainingRows } from '../train/prepare.js';
import type { Interactions } from '../data/interactions.js';
import { withoutPairs } from '../data/ratings.js';
import { fail } from '../errors.js';
import { checkBooleans } from '../data/checks.js';
import type { TwoTowerConfig } from '../config/model.js';
import { recipeConfig, recipeFeatures, type RecipeData, type RecipeOptions } from './recipe-config.js';
import type { RecipeReport } from './recipe-workers.js';
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
const CENTER = L2_LADDER.indexOf(1);
/** The walk's first three: `l2`, then its lower and upper neighbours. */
const FIRST_THREE: readonly number[] = [CENTER, CENTER - 1, CENTER + 1];

/** What every phase-1 candidate shares: the model's config and the split with its features. */
export interface SearchSetup {
  config: TwoTowerConfig;
  implicit: boolean;
  split: { train: Interactions; validation: Interactions };
  features: ReturnType<typeof recipeFeatures>;
  /** The penalties phase 1 may try (tune's ladder or grid; `l2` alone without tune). */
  penalties: number[];
  /** The penalties are the ladder, walked (else every one is tried, in order). */
  walk: boolean;
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

/** Checks `o` and builds what phase 1's candidates share (the same on the calling thread and in a worker). */
export function searchSetup(ds: RecipeData, o: RecipeOptions): SearchSetup {
  checkBooleans(o, 'train: options', ['refit', 'sideFeatures', 'tune', 'keepSearchModel']);
  const config = recipeConfig(ds, o);
  modelMemory(config, { optimizers: o.optimizers }); // a model that cannot fit fails here, before its feature tables are built
  const implicit = resolveLoss(o.loss).implicit;
  const walk = o.tune && o.l2Grid === undefined;
  const penalties = !o.tune ? [o.l2] : walk ? L2_LADDER.map((f) => Number((o.l2 * f).toPrecision(6))) : l2Candidates(o);
  // Phase 1's split, carved here as fit() would carve it (the same rows for the same seed), so
  // that the features built from interactions (rated, raters, history) read the 90% only: a
  // validation pair in its own user's or item's set would flatter the validation figure.
  const split = carveValidation(trainingRows(ds.train, { implicit }, o.minRating), o.validationFraction, o.splitSeed ?? o.seed);
  const features = recipeFeatures(
    {
      users: ds.users,
      items: ds.items,
      userSide: ds.userSide,
      itemSide: ds.itemSide,
      train: withoutPairs(ds.train, split.validation, ds.items.size),
    },
    o,
  );
  return { config, implicit, split, features, penalties, walk };
}

/** A model of the recipe's config on `features`, started from options.warmStart when given (whose blocks `log` reports). */
export async function recipeModel(
  ds: RecipeData,
  o: RecipeOptions,
  config: TwoTowerConfig,
  features: SearchSetup['features'],
  log?: (line: string) => void,
): Promise<Model> {
  const model = await createModel(config, { ...features, threads: o.threads });
  if (o.warmStart) {
    // Transfer: start from a trained model's values, matched by id (warm-start.ts).
    model.setVocabularies({ users: ds.users, items: ds.items });
    const copied = warmStart(model, o.warmStart);
    for (const b of copied.blocks)
      log?.(
        `warm start: ${b.name} ${b.how === 'kept' ? `kept (${b.reason})` : `${b.copied} of ${b.of} ${b.how === 'ids' ? 'rows by id' : 'values'}`}`,
      );
  }
  return model;
}

/** fit()'s options that both phases share. */
export function commonFitOptions(o: RecipeOptions) {
  return {
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    loss: o.loss,
    minRating: o.minRating,
    temperature: o.temperature,
    negatives: o.negatives,
    optimizers: o.optimizers,
  };
}

/** One candidate's phase 1: its record, its fit and its model (the caller's), and whether onEpochEnd said stop. */
export interface PenaltyRun {
  candidate: RecipeCandidate;
  search: FitResult;
  model: Model;
  stopped: boolean;
}

/**
 * Phase 1 at penalty `l2`: an early-stopped fit on the split's training rows, scored on its
 * validation rows (the test data is never an input). Log lines per epoch, prefixed by the
 * penalty with `tune`; a false from report.onEpochEnd ends it with its best epoch's weights.
 */
export async function searchPenalty(
  ds: RecipeData,
  o: RecipeOptions,
  setup: SearchSetup,
  l2: number,
  report: RecipeReport,
): Promise<PenaltyRun> {
  const model = await recipeModel(ds, o, setup.config, setup.features, report.onLog);
  const prefix = o.tune ? `l2 ${l2}, ` : '';
  let stopped = false;
  let search: FitResult;
  try {
    search = model.fit(setup.split.train, {
      ...commonFitOptions(o),
      l2,
      epochs: o.epochs,
      validation: setup.split.validation,
      earlyStopping: { patience: o.patience },
      onBatchEnd: (b) => report.onBatchEnd?.({ ...b, phase: 1, l2 }),
      onEpochEnd: (e) => {
        report.onLog?.(
          `${prefix}epoch ${e.epoch + 1}: train loss ${e.loss.toFixed(4)}, ` +
            (e.validationRecall !== undefined
              ? `validation Recall@20 ${e.validationRecall.toFixed(4)}`
              : `validation RMSE ${e.validationRmse!.toFixed(4)}`) +
            ` (${e.seconds.toFixed(2)} s)`,
        );
        if (report.onEpochEnd?.({ ...e, phase: 1, epochs: o.epochs, l2 }) === false) stopped = true;
        return !stopped;
      },
    });
  } catch (error) {
    model.dispose();
    throw error;
  }
  const bestEpoch = search.bestEpoch ?? search.history.length - 1;
  const at = search.history[bestEpoch];
  const candidate: RecipeCandidate = {
    l2,
    ...(setup.implicit ? { validationRecall: at?.validationRecall } : { validationRmse: at?.validationRmse }),
    epochs: bestEpoch + 1,
    seconds: search.seconds,
  };
  return { candidate, search, model, stopped };
}

/** The line `tune` says of a candidate once the search has taken it. */
export function candidateLine(c: RecipeCandidate, implicit: boolean): string {
  return `l2 ${c.l2}: best validation ${implicit ? `Recall@20 ${c.validationRecall?.toFixed(4)}` : `RMSE ${c.validationRmse?.toFixed(4)}`} at epoch ${c.epochs} (${c.seconds.toFixed(1)} s)`;
}

/** A candidate's validation figure as a loss (lower is better): its best epoch's. */
export function validationLoss(c: RecipeCandidate): number {
  const x = c.validationRecall !== undefined ? -c.validationRecall : c.validationRmse;
  return x === undefined || Number.isNaN(x) ? Infinity : x;
}

/** Where the search stands, given the figures known so far (by candidate index). */
export interface SearchPlan {
  /** The candidates the search has run, in its order: each one's figure is known. */
  ran: number[];
  /** The candidate it runs next (its figure is not known yet); undefined when the search is over. */
  next?: number;
  /** The other candidates it may still run after `next`, likeliest first (what idle workers may try ahead). */
  ahead: number[];
}

/**
 * The search as one function of what is known: `losses` holds candidate index → validationLoss.
 * A grid tries every candidate in order. The walk tries the centre and its lower and upper
 * neighbours, then steps onward from the best of the three (a tie keeps the earlier) while each
 * step improves strictly. Which candidate is chosen is `bestOf(ran)`.
 */
export function planSearch(walk: boolean, count: number, losses: ReadonlyMap<number, number>): SearchPlan {
  const all = Array.from({ length: count }, (_, i) => i);
  const unknown = (from: number[]) => from.filter((i) => !losses.has(i));
  if (!walk) {
    const ran = all.slice(0, unknown(all)[0] ?? count);
    return { ran, next: unknown(all)[0], ahead: unknown(all).slice(1) };
  }
  const loss = (i: number) => losses.get(i)!;
  const onward = (from: number, step: number) => all.filter((i) => (i - from) * step > 0).sort((a, b) => (a - b) * step);
  const firstUnknown = unknown([...FIRST_THREE]);
  if (firstUnknown.length > 0) {
    // Ahead while the first three run: the rest of them, then the steps beyond the best known
    // of them (beyond both neighbours while the centre leads), then every other rung, nearest the
    // centre first (each may yet be taken: which way the walk goes is not known).
    const known = FIRST_THREE.filter((i) => losses.has(i));
    const lead = known.reduce<number | undefined>((x, y) => (x === undefined || loss(y) < loss(x) ? y : x), undefined);
    const beyond =
      lead === undefined
        ? []
        : lead === CENTER
          ? firstUnknown.filter((i) => i !== CENTER).map((i) => i + Math.sign(i - CENTER))
          : onward(lead, Math.sign(lead - CENTER));
    const rest = unknown(all).sort((a, b) => Math.abs(a - CENTER) - Math.abs(b - CENTER) || a - b);
    const ahead = [...new Set([...firstUnknown.slice(1), ...beyond, ...rest])].filter(
      (i) => !losses.has(i) && i !== firstUnknown[0],
    );
    return { ran: known.slice(0, FIRST_THREE.indexOf(firstUnknown[0]!)), next: firstUnknown[0], ahead };
  }
  const ran = [...FIRST_THREE];
  let at = bestOf(ran, losses);
  const step = Math.sign(at - CENTER);
  for (let i = at + step; step !== 0 && i >= 0 && i < count; i += step) {
    if (!losses.has(i)) return { ran, next: i, ahead: unknown(onward(i, step)) };
    ran.push(i);
    if (!(loss(i) < loss(at))) break;
    at = i;
  }
  return { ran, ahead: [] };
}

/** The candidate chosen among `ran`: the lowest loss, a tie keeping the earlier. */
export function bestOf(ran: readonly number[], losses: ReadonlyMap<number, number>): number {
  return ran.reduce((x, y) => (losses.get(y)! < losses.get(x)! ? y : x));
}
