// The training loop: options resolved, data prepared, a snapshot taken, then epochs of seeded
// shuffles and mini-batches (staged by the loss, stepped by each group's optimizer), validated
// and tracked for early stopping. A fit that diverges or throws restores the model exactly. What
// a call costs besides its steps follows the rows it touches, not the model's size: the snapshot
// journals table rows on first touch, and the non-finite checks read what changed (snapshot.ts).
import { fail } from '../errors.js';
import type { TwoTower } from '../model/twotower.js';
import type { Interactions } from '../data/interactions.js';
import { upload, uploadFloats } from '../backend/heap.js';
import { Random } from '../util/random.js';
import { rmse } from '../eval/regression.js';
import { evaluateRanking } from '../eval/ranking.js';
import { resolveLoss, type Loss, type LossSettings } from './losses/index.js';
import { planOptimizers } from './optimizers/index.js';
import {
  resolveOptions,
  learningRateAt,
  type FitOptions,
  type FitResult,
  type EpochInfo,
  type ResolvedFitOptions,
  carriedSettings,
  lossConflict,
  MAX_BATCH_ROWS,
} from './options.js';
import { prepareData } from './prepare.js';
import { Snapshot } from './snapshot.js';
import { EpochTracker } from './early-stopping.js';
import { ImplicitSampler } from './implicit-sampler.js';
import { TrainScratch } from './scratch.js';
import { lossAndGradients, optimizerStep, prepareGroups } from './step.js';
import { trainingBytes, checkHeapRoom, activationBytesPerRow, SERVING_ROWS } from './memory.js';

/** Draws row indices with probability ∝ log(1 + weight) (binary search in the cumulative sums). */
class WeightedDraw {
  private readonly cumulative: Float64Array;
  constructor(weights: Float32Array) {
    this.cumulative = new Float64Array(weights.length);
    let acc = 0;
    weights.forEach((w, i) => (this.cumulative[i] = acc += Math.log1p(w)));
  }
  draw(random: Random): number {
    const c = this.cumulative;
    const x = random.next() * c[c.length - 1]!;
    let lo = 0,
      hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export { MAX_BATCH_ROWS };

/** The validation metric after an epoch, as a loss (lower is better), recorded into `info`. */
function validate(
  core: TwoTower,
  loss: Loss,
  train: Interactions,
  validation: Interactions | undefined,
  info: EpochInfo,
): number | undefined {
  if (!validation) return undefined;
  if (loss.implicit) {
    info.validationRecall = evaluateRanking(core, validation, { ks: [20], exclude: train }).recall[20]!;
    return -info.validationRecall;
  }
  info.validationRmse = rmse(core.predict(validation.users, validation.items), validation.ratings);
  return info.validationRmse;
}

/** Starts the global bias at the mean target: saves the first epochs from learning an offset. */
function initGlobalBias(core: TwoTower, loss: Loss, train: Interactions): void {
  if (!core.bias.global || core.optimizerSteps !== 0 || loss.implicit) return;
  let mean = 0;
  for (const r of train.ratings) mean += r;
  const global = core.bias.global;
  core.write((store) => (store.writable(global)[0] = mean / train.ratings.length));
}

/** Trains the model in place; see FitOptions for every setting and its default. */
export function fit(core: TwoTower, data: Interactions, options: FitOptions = {}): FitResult {
  const started = performance.now();
  const o: ResolvedFitOptions = resolveOptions(options, core.config.seed ?? 1);
  const loss = resolveLoss(o.loss);
  core.ensureReady();
  const conflict = lossConflict(loss, core.config);
  if (conflict) fail('BAD_CONFIG', conflict);
  const plans = planOptimizers(core.store.groups, o.optimizers, o.learningRate);
  const { train, validation } = prepareData(core, data, o, loss);
  const settings: LossSettings = {
    negatives: o.negatives,
    temperature: o.temperature,
    logQCorrection: o.logQCorrection,
    removeAccidentalHits: o.removeAccidentalHits,
    uniformNegatives: o.uniformNegatives,
    margin: o.margin,
    negativeWeight: o.negativeWeight,
    inBatchNegatives: o.inBatchNegatives,
  };
  const n = train.users.length;
  const batchSize = Math.min(o.batchSize, n);
  const rowsPerBatch = batchSize * loss.rowsPerPositive(settings);
  // A matrix loss's extra item rows (uniform negatives) after each batch's pairs.
  const extraItems = loss.kind === 'matrix' ? (loss.extraItems?.(settings) ?? 0) : 0;
  if (rowsPerBatch > MAX_BATCH_ROWS) {
    fail(
      'BAD_OPTION',
      `a batch would have ${rowsPerBatch.toLocaleString('en-US')} rows (batchSize ${batchSize} × ${loss.rowsPerPositive(settings)} rows per positive for '${loss.name}'), over the limit of ${MAX_BATCH_ROWS.toLocaleString('en-US')}: use a smaller batchSize or fewer negatives (docs/limits.md)`,
    );
  }
  const be = core.backend;
  // Before allocating anything: training's state and gradients, the data and the batch scratch
  // must fit the heap beside what it holds (snapshots live in JavaScript memory).
  const limit = Math.min(be.memoryLimit, o.memoryLimit ?? Infinity);
  const training = trainingBytes(plans, be.floatBytes, rowsPerBatch, (g, name) => core.store.hasState(g, name));
  checkHeapRoom(
    {
      'optimizer state': training.optimizerState,
      gradients: core.store.hasGradients ? 0 : training.gradients,
      data: n * (12 + be.floatBytes),
      // The towers' scratch serves a batch, and chunks of rows when validating.
      activations:
        Math.max(rowsPerBatch + extraItems, validation ? SERVING_ROWS : 0) * activationBytesPerRow(core.config, be.floatBytes),
      'batch scratch': (rowsPerBatch + extraItems) * (32 + 4 * core.dim * be.floatBytes),
      // A matrix loss's in-batch logits: rows × (rows + extra items).
      'in-batch logits': loss.kind === 'matrix' ? rowsPerBatch * (rowsPerBatch + extraItems) * be.floatBytes : 0,
    },
    be.stats().liveBytes,
    limit,
    o.memoryLimit !== undefined && o.memoryLimit < be.memoryLimit ? 'options.memoryLimit' : 'the WebAssembly heap limit',
  );
  const owned: { free(): void }[] = [];
  const heapBlock = (ptr: number) => (owned.push({ free: () => be.free(ptr) }), ptr);
  const snapshot = new Snapshot(core, plans);
  owned.push(snapshot);
  try {
    prepareGroups(core, plans);
    const tracker = new EpochTracker(core, plans, o.earlyStopping);
    owned.push(tracker);
    const heap = {
      users: heapBlock(upload(be, train.users)),
      items: heapBlock(upload(be, train.items)),
      targets: heapBlock(uploadFloats(be, loss.implicit ? new Float32Array(n) : train.ratings)),
    };
    const order = heapBlock(
      upload(
        be,
        Int32Array.from({ length: n }, (_, i) => i),
      ),
    );
    const sampler = loss.implicit ? new ImplicitSampler(train, core.itemCount, o.negativeSampling) : null;
    core.pairs.reserve(rowsPerBatch + extraItems);
    const scratch = TrainScratch.of(core);
    scratch.reserve(rowsPerBatch, rowsPerBatch + extraItems);
    initGlobalBias(core, loss, train);

    const random = new Random(o.seed);
    const confidence = train.weights ? new WeightedDraw(train.weights) : null;
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    const batches = Math.ceil(n / batchSize);
    const totalSteps = batches * o.epochs;
    const history: EpochInfo[] = [];
    const regularization = { l2: o.l2, biasL2: o.biasL2 };
    let steps = 0;
    let stoppedEarly = false;
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const epochStart = performance.now();
      if (confidence) {
        // Weighted: this epoch's n examples drawn with replacement, ∝ log(1 + weight).
        for (let i = 0; i < n; i++) perm[i] = confidence.draw(random);
        be.ints(order, n).set(perm);
      } else if (o.shuffle) {
        random.shuffle(perm);
        be.ints(order, n).set(perm);
      }
      let total = 0;
      for (let b = 0; b < batches; b++) {
        const start = b * batchSize;
        const m = Math.min(batchSize, n - start);
        const rows = loss.stage({
          core,
          train,
          heap,
          rows: perm.subarray(start, start + m),
          rowsPtr: order + start * 4,
          sampler,
          random,
          scratch,
          settings,
        });
        const value = lossAndGradients(core, rows, loss, regularization, settings);
        if (!Number.isFinite(value)) {
          snapshot.restore();
          fail(
            'DIVERGED',
            `training diverged: the loss became ${value} at epoch ${epoch + 1}, batch ${b + 1} (try a smaller learningRate); the parameters were restored to their values before fit()`,
          );
        }
        // The rows this step writes for the first time, copied before it writes them.
        snapshot.beforeStep();
        tracker.beforeStep();
        const learningRate = learningRateAt(o, steps, totalSteps, epoch);
        optimizerStep(core, plans, {
          learningRate,
          beta1: o.beta1,
          beta2: o.beta2,
          epsilon: o.epsilon,
          weightDecay: o.weightDecay,
        });
        steps += 1;
        total += value * m;
        o.onBatchEnd?.({ epoch, batch: b, batches, loss: value });
        if (core.disposed)
          fail('DISPOSED', `the model was disposed during fit() (by onBatchEnd, at epoch ${epoch + 1}, batch ${b + 1})`);
      }
      // Over what can have changed: the dense groups and the table rows touched in this fit.
      const bad = snapshot.countNonFinite();
      if (bad > 0) {
        snapshot.restore();
        fail(
          'DIVERGED',
          `training diverged: ${bad} parameters became NaN or infinite in epoch ${epoch + 1}; the parameters were restored to their values before fit()`,
        );
      }
      const info: EpochInfo = { epoch, loss: total / n, seconds: (performance.now() - epochStart) / 1000 };
      const score = validate(core, loss, train, validation, info);
      history.push(info);
      const patienceOut = tracker.record(epoch, score);
      const carryOn = o.onEpochEnd?.(info);
      if (core.disposed) fail('DISPOSED', `the model was disposed during fit() (by onEpochEnd, after epoch ${epoch + 1})`);
      if (carryOn === false) break;
      if (patienceOut) {
        stoppedEarly = true;
        break;
      }
    }
    tracker.restoreBest(history.length - 1);
    core.setSeen(train.users, train.items);
    core.trainedWith = { loss: loss.name, implicit: loss.implicit, settings: carriedSettings(o) };
    return { history, steps, seconds: (performance.now() - started) / 1000, bestEpoch: tracker.bestEpoch, stoppedEarly };
  } catch (error) {
    snapshot.restore(); // whatever failed (a callback too), the model is left as it was before fit()
    throw error;
  } finally {
    for (const block of owned) block.free();
    // Gradients are training's scratch: a served model holds its values and optimizer state only.
    if (!core.disposed) core.store.releaseGradients();
  }
}
