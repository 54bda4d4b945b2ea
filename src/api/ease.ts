// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data") as an ordinary
// two-tower Model. With X the users × items matrix of training positives (each pair once),
// P = (XᵀX + λI)⁻¹ and B = I − P·diag(1/diag(P)) with B_ii = 0, EASE scores
// score(u, i) = Σ_{j ∈ items of u} B_ji. That is a dot product of two towers, exactly:
//   - the user tower is one multi-hot interaction set, `history` (the user's training items),
//     sum-pooled over the table B (item rows × item rows), with no projection: u = Σ_j B_j·;
//   - the item tower is an id table holding the identity, with no projection: v_i = e_i;
//   - no biases; config.dim is the number of item rows.
// So recommend, the scorer, model files, ONNX and ensembles (combineModels) work unchanged, a
// user's scores follow the items added to their history set with no retraining (each adds its
// row of B), and recommendFromHistory serves new users. update() trains nothing on it: new events
// join the history sets (new users too); new items need a rebuild (src/api/update.ts
// closedFormUpdate). The closed form has one setting, λ, chosen by Recall@20
// on a validation split carved from the training data as the recipe carves it (never the test
// data). The arithmetic is assembly/ease.ts: the Gram matrix, the in-place SPD inverse, P → B.
//
// The same towers hold the denoising linear autoencoder (DLAE, Steck 2020, "Autoencoders that
// don't overfit towards the Identity"): with dropout p, the penalty is per item,
// Λ_j = λ + p/(1−p)·(XᵀX)_jj (what dropping each input with probability p costs in expectation),
// and B = (XᵀX + diag(Λ))⁻¹·XᵀX = I − P·diag(Λ), its diagonal kept. p = 0 is EASE exactly. On
// MovieLens 100K the dropout-shaped penalty measured better than EASE alone and blended with the
// tower (docs/accuracy.md), so the validation tries both by default (dropoutGrid).
import { fail } from '../errors.js';
import type { Backend } from '../backend/contract.js';
import type { TwoTowerConfig } from '../config/model.js';
import type { Interactions } from '../data/interactions.js';
import { csrGroup } from '../data/csr.js';
import { shown } from '../data/checks.js';
import { defined } from '../util/defined.js';
import { loadWasmBackend } from '../wasm/load.js';
import { carveValidation, trainingRows } from '../train/prepare.js';
import { createModel, type Model } from './model.js';
import type { RecipeData } from './recipe-config.js';

export interface EaseOptions {
  /** The ridge penalty λ (> 0). Default: chosen by validation (see lambdaGrid). Given alone, it is used as is. */
  lambda?: number;
  /**
   * The penalties the validation tries, every one, in this order (each > 0). Default: a walk over
   * EASE_LADDER from `lambda` (500 when not given): it and its two neighbours, then onward from
   * the better neighbour while each step improves Recall@20.
   */
  lambdaGrid?: number[];
  /**
   * DLAE's dropout p in [0, 1) (see the file's header; 0: EASE). Given alone, it is used as is;
   * otherwise the validation tries each of `dropoutGrid`.
   */
  dropout?: number;
  /** The dropouts the validation tries, each with its own λ walk (or `lambdaGrid`). Default [0, 0.5]: EASE and DLAE. */
  dropoutGrid?: number[];
  /** Seeds the validation split. Default 1. */
  seed: number;
  /** Seed of the split (default: `seed`), to share one split with the recipe's runs. */
  splitSeed?: number;
  /** Fraction of the training pairs carved for validation, in (0, 1). Default 0.1. */
  validationFraction: number;
  /** Ratings at or above this are the positives (default: every training row is one). */
  minRating?: number;
  /** Threads of the returned models (createModel's `threads`). Default 1. */
  threads: number;
  /** Also return the chosen λ's model built on the split's training pairs (`searchModel`; the caller disposes it). Default false. */
  keepSearchModel: boolean;
  /** One line per λ tried and one for the final build. Default none. */
  onLog?: (line: string) => void;
  /** Compute B on this backend (e.g. the f64 reference, for checks). Default: a fresh WASM instance. */
  backend?: Backend;
}

export const EASE_DEFAULTS: Readonly<Pick<EaseOptions, 'seed' | 'validationFraction' | 'threads' | 'keepSearchModel'>> =
  Object.freeze({ seed: 1, validationFraction: 0.1, threads: 1, keepSearchModel: false });

/** The dropouts the validation tries by default: EASE (0) and DLAE at 0.5. */
export const EASE_DROPOUTS: readonly number[] = Object.freeze([0, 0.5]);

/** The penalties the default walk steps over (from `lambda`, 500 unless given, when it is on the ladder). */
export const EASE_LADDER: readonly number[] = Object.freeze([10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000]);

/**
 * The largest catalogue (item rows, the unknown-id row included) EASE accepts: B and the work
 * matrix are |I|² floats each (6,000 rows: 144 MB each, plus the model's identity table of the
 * same size), and the inverse takes |I|³/2 multiply-adds per λ tried. Measured on this machine
 * (one thread, SIMD build, Node 20): MovieLens 100K's 1,683 rows take ≈ 0.45 s per inverse, ≈ 1.2 s
 * per λ tried (inverse, B, scoring the validation split over 1,683 dimensions), ≈ 6.7 s per fold
 * for trainEase with the default walk (4 or 5 λ, then the final build) and ≈ 1.9 s at a given λ;
 * 6,000 rows would take ≈ 45 times as long per inverse (≈ 20 s).
 */
export const EASE_MAX_ITEMS = 6000;

/** One λ the validation tried. */
export interface EaseCandidate {
  lambda: number;
  /** DLAE's dropout (0: EASE). */
  dropout: number;
  /** Recall@20 on the validation pairs, the split's training items excluded. */
  validationRecall: number;
  /** NDCG@20 on the same ranking. */
  validationNdcg: number;
  /** Wall-clock seconds of its build and its evaluation. */
  seconds: number;
}

export interface EaseResult {
  /** The model built on all the training positives with the chosen λ. */
  model: Model;
  /** The λ it was built with. */
  lambda: number;
  /** The dropout it was built with (0: EASE's zero-diagonal closed form; > 0: DLAE). */
  dropout: number;
  /** Every (λ, dropout) tried, in order (undefined when both were given without a grid). */
  candidates?: EaseCandidate[];
  /** The validation split: the pairs every candidate was scored on. */
  validation: Interactions;
  /** With keepSearchModel: the chosen λ's model built on the split's training pairs (the caller disposes it). */
  searchModel?: Model;
  /** Wall-clock seconds of the whole call. */
  seconds: number;
}

function checkOptions(o: EaseOptions): void {
  const bad = (name: string, expected: string, value: unknown = (o as unknown as Record<string, unknown>)[name]): never =>
    fail('BAD_OPTION', `trainEase: options.${name} must be ${expected}, got ${shown(value)}`, {
      option: `options.${name}`,
      value,
      expected,
    });
  const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;
  if (o.lambda !== undefined && !positive(o.lambda)) bad('lambda', 'a finite number > 0');
  if (o.lambdaGrid !== undefined) {
    if (!Array.isArray(o.lambdaGrid) || o.lambdaGrid.length === 0) bad('lambdaGrid', 'a non-empty array of numbers > 0');
    o.lambdaGrid.forEach((x, i) => {
      if (!positive(x)) bad(`lambdaGrid[${i}]`, 'a finite number > 0', x);
    });
  }
  const dropout = (x: unknown) => typeof x === 'number' && x >= 0 && x < 1;
  if (o.dropout !== undefined && !dropout(o.dropout)) bad('dropout', 'a number in [0, 1)');
  if (o.dropoutGrid !== undefined) {
    if (!Array.isArray(o.dropoutGrid) || o.dropoutGrid.length === 0) bad('dropoutGrid', 'a non-empty array of numbers in [0, 1)');
    o.dropoutGrid.forEach((x, i) => {
      if (!dropout(x)) bad(`dropoutGrid[${i}]`, 'a number in [0, 1)', x);
    });
  }
  if (typeof o.seed !== 'number' || !Number.isInteger(o.seed)) bad('seed', 'an integer');
  if (o.splitSeed !== undefined && (typeof o.splitSeed !== 'number' || !Number.isInteger(o.splitSeed)))
    bad('splitSeed', 'an integer');
  if (typeof o.validationFraction !== 'number' || !(o.validationFraction > 0 && o.validationFraction < 1))
    bad('validationFraction', 'a number in (0, 1)');
  if (o.minRating !== undefined && (typeof o.minRating !== 'number' || !Number.isFinite(o.minRating)))
    bad('minRating', 'a finite number');
  if (typeof o.threads !== 'number' || !Number.isInteger(o.threads) || o.threads < 1) bad('threads', 'an integer ≥ 1');
  if (typeof o.keepSearchModel !== 'boolean') bad('keepSearchModel', 'true or false');
  if (o.onLog !== undefined && typeof o.onLog !== 'function') bad('onLog', 'a function');
}

/**
 * B (items × items, row j = what item j adds to a user's scores) for the pairs whose Gram matrix
 * is at `gram`: EASE's when dropout is 0, else DLAE's with Λ_j = λ + p/(1−p)·G_jj.
 */
function weightsFor(backend: Backend, gram: number, m: number, lambda: number, dropout: number): Float32Array {
  const work = backend.alloc(m * m * backend.floatBytes);
  const penalty = dropout > 0 ? backend.alloc(m * backend.floatBytes) : 0;
  try {
    backend.kernels.copy_f32(work, gram, m * m);
    if (dropout > 0) {
      // The per-item penalty goes on the diagonal here (m numbers), so the inverse takes no shift.
      const g = backend.floats(work, m * m);
      const p = backend.floats(penalty, m);
      for (let j = 0; j < m; j++) {
        p[j] = lambda + (dropout / (1 - dropout)) * g[j * m + j]!;
        g[j * m + j] = g[j * m + j]! + p[j]!;
      }
    }
    const status = backend.kernels.spd_inverse(work, m, dropout > 0 ? 0 : lambda);
    if (status !== 0)
      fail(
        'DIVERGED',
        `trainEase: XᵀX + ${lambda}·I is not positive definite at row ${status - 1} (rounding; try a larger lambda)`,
      );
    if (dropout > 0) backend.kernels.dlae_weights(work, penalty, m);
    else backend.kernels.ease_weights(work, m);
    return Float32Array.from(backend.floats(work, m * m));
  } finally {
    backend.free(work);
    if (penalty) backend.free(penalty);
  }
}

/** XᵀX over the distinct (user, item) pairs given, on the backend's heap (the caller frees it). */
function gramOf(backend: Backend, pairs: Pick<Interactions, 'users' | 'items'>, userCount: number, m: number): number {
  const { offsets, ids } = csrGroup(pairs.users, pairs.items, userCount);
  const gram = backend.alloc(m * m * backend.floatBytes);
  const off = backend.alloc(offsets.length * 4);
  const idp = backend.alloc(Math.max(1, ids.length) * 4);
  try {
    backend.kernels.zero_f32(gram, m * m);
    backend.ints(off, offsets.length).set(offsets);
    backend.ints(idp, ids.length).set(ids);
    backend.kernels.ease_gram(gram, off, idp, 0, userCount, m);
  } catch (error) {
    backend.free(gram);
    throw error;
  } finally {
    backend.free(off);
    backend.free(idp);
  }
  return gram;
}

/** The two-tower Model of EASE weights B whose users' history sets are the given pairs. */
async function easeModel(
  ds: RecipeData,
  pairs: Pick<Interactions, 'users' | 'items'>,
  B: Float32Array,
  threads: number,
): Promise<Model> {
  const users = ds.users.size,
    m = ds.items.size;
  const config: TwoTowerConfig = {
    dim: m,
    user: {
      features: [{ kind: 'multiHot', name: 'history', vocabSize: m, dim: m, pooling: 'sum', interactions: {} }],
      project: false,
    },
    item: { features: [{ kind: 'id', name: 'item', vocabSize: m, dim: m }], project: false },
  };
  const history = csrGroup(pairs.users, pairs.items, users);
  const model = await createModel(config, { userFeatures: { count: users, columns: { history } }, threads });
  try {
    const identity = new Float32Array(m * m);
    for (let i = 0; i < m; i++) identity[i * m + i] = 1;
    model.setParameters({ 'user.history.embedding': B, 'item.item.embedding': identity });
    model.setVocabularies({ users: ds.users, items: ds.items });
    model.metadata = { ...model.metadata, family: 'ease' };
    model.setSeen(pairs.users, pairs.items);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Builds EASE on `ds.train` (row 0 of `ds.users` / `ds.items` the unknown-id bucket) and returns
 * it as an ordinary Model (see the file's header). λ: `options.lambda` when given alone, else the
 * best Recall@20 on the validation split over `lambdaGrid` or the walk. Bad options throw
 * BAD_OPTION naming the option; a catalogue over EASE_MAX_ITEMS rows throws BAD_OPTION too.
 */
export async function trainEase(ds: RecipeData, options: Partial<EaseOptions> = {}): Promise<EaseResult> {
  const started = performance.now();
  if (options === null || typeof options !== 'object')
    fail('BAD_OPTION', `trainEase: options must be an object, got ${shown(options)}`, { option: 'options', value: options });
  const o: EaseOptions = { ...EASE_DEFAULTS, ...defined(options) };
  checkOptions(o);
  const m = ds.items.size,
    userCount = ds.users.size;
  if (m > EASE_MAX_ITEMS)
    fail(
      'BAD_OPTION',
      `trainEase: the catalogue has ${m} item rows; EASE holds |I|² floats per matrix and inverts in |I|³ time, so it takes at most ${EASE_MAX_ITEMS} (see EASE_MAX_ITEMS)`,
      { option: 'items', value: m, expected: `at most ${EASE_MAX_ITEMS} item rows` },
    );
  const positives = trainingRows(ds.train, { implicit: true }, o.minRating);
  if (positives.users.length < 2) fail('EMPTY_DATA', 'trainEase: EASE needs at least two training positives');
  const split = carveValidation(positives, o.validationFraction, o.splitSeed ?? o.seed);
  const backend = o.backend ?? (await loadWasmBackend());
  // λ given alone keeps its meaning from before DLAE: EASE at that λ, nothing searched.
  const dropouts =
    o.dropoutGrid ??
    (o.dropout !== undefined ? [o.dropout] : o.lambda !== undefined && o.lambdaGrid === undefined ? [0] : EASE_DROPOUTS);
  const search = o.lambdaGrid !== undefined || o.lambda === undefined || dropouts.length > 1;
  const candidates: EaseCandidate[] = [];
  let best: { candidate: EaseCandidate; B: Float32Array } | undefined;
  let lambda = o.lambda ?? 500;
  let dropout = dropouts[0]!;
  // One model on the split's training pairs serves every λ tried (its B replaced each time);
  // without keepSearchModel it then becomes the final model (its history sets and B replaced).
  let held: { model: Model; B: Float32Array } | undefined;
  const gram = gramOf(backend, split.train, userCount, m);
  try {
    /** Builds at (λ, dropout) on the split's training pairs and scores the validation pairs; returns −Recall@20. */
    const tryLambda = async (l: number, p: number): Promise<number> => {
      const t0 = performance.now();
      const B = weightsFor(backend, gram, m, l, p);
      if (held) held.model.setParameters({ 'user.history.embedding': B });
      else held = { model: await easeModel(ds, split.train, B, o.threads), B };
      held.B = B;
      const metrics = held.model.rows.evaluateRanking(split.validation, { ks: [20], exclude: split.train });
      const candidate: EaseCandidate = {
        lambda: l,
        dropout: p,
        validationRecall: metrics.recall[20]!,
        validationNdcg: metrics.ndcg[20]!,
        seconds: (performance.now() - t0) / 1000,
      };
      candidates.push(candidate);
      o.onLog?.(
        `lambda ${l}${p > 0 ? `, dropout ${p}` : ''}: validation Recall@20 ${candidate.validationRecall.toFixed(4)}, NDCG@20 ${candidate.validationNdcg.toFixed(4)} (${candidate.seconds.toFixed(2)} s)`,
      );
      if (!best || candidate.validationRecall > best.candidate.validationRecall) best = { candidate, B };
      return -candidate.validationRecall;
    };
    if (!search) {
      if (o.keepSearchModel) {
        const B = weightsFor(backend, gram, m, lambda, dropout);
        held = { model: await easeModel(ds, split.train, B, o.threads), B };
      }
    } else
      for (const p of dropouts) {
        if (o.lambdaGrid !== undefined) for (const l of o.lambdaGrid) await tryLambda(l, p);
        else if (o.lambda !== undefined && o.dropoutGrid !== undefined) await tryLambda(o.lambda, p);
        else {
          // The walk: λ and its two neighbours on the ladder, then onward while each step improves.
          const start = o.lambda ?? 500;
          const ladder = EASE_LADDER.includes(start) ? [...EASE_LADDER] : [...EASE_LADDER, start].sort((a, b) => a - b);
          const center = ladder.indexOf(start);
          const scores = new Map<number, number>();
          for (const i of [center, center - 1, center + 1])
            if (i >= 0 && i < ladder.length) scores.set(i, await tryLambda(ladder[i]!, p));
          let at = [...scores].reduce((x, y) => (y[1] < x[1] ? y : x))[0];
          const step = Math.sign(at - center);
          for (let i = at + step; step !== 0 && i >= 0 && i < ladder.length; i += step) {
            const score = await tryLambda(ladder[i]!, p);
            if (!(score < scores.get(at)!)) break;
            scores.set(i, score);
            at = i;
          }
        }
      }
    if (best) {
      lambda = best.candidate.lambda;
      dropout = best.candidate.dropout;
      if (o.keepSearchModel && held!.B !== best.B) held!.model.setParameters({ 'user.history.embedding': best.B });
    }
  } catch (error) {
    held?.model.dispose();
    throw error;
  } finally {
    backend.free(gram);
  }
  const searchModel = o.keepSearchModel ? held?.model : undefined;
  // The final build: every training positive, the chosen λ.
  try {
    const t0 = performance.now();
    const all = gramOf(backend, positives, userCount, m);
    let B: Float32Array;
    try {
      B = weightsFor(backend, all, m, lambda, dropout);
    } finally {
      backend.free(all);
    }
    let model: Model;
    if (held && !o.keepSearchModel) {
      model = held.model;
      model.setUserFeatures({ count: userCount, columns: { history: csrGroup(positives.users, positives.items, userCount) } });
      model.setParameters({ 'user.history.embedding': B });
    } else model = await easeModel(ds, positives, B, o.threads);
    model.setSeen(ds.train.users, ds.train.items);
    o.onLog?.(
      `built on all ${positives.users.length} training positives with lambda ${lambda}${dropout > 0 ? `, dropout ${dropout}` : ''} (${((performance.now() - t0) / 1000).toFixed(2)} s)`,
    );
    return {
      model,
      lambda,
      dropout,
      ...(search ? { candidates } : {}),
      validation: split.validation,
      ...(searchModel ? { searchModel } : {}),
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    held?.model.dispose();
    throw error;
  }
}
