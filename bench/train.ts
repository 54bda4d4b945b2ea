// One training step of the benchmark model: batch 1024; user and item towers both read a
// 64-wide numeric input, 64→128 (ReLU)→64; squared error on the dot product; Adam, lr 1e-3.
// The same model TensorFlow.js is compared on. Also a whole fit() epoch, which adds batch
// assembly and shuffling to the step.
import type { Case } from './harness.js';
import { createModel, type Model, type TwoTowerConfig } from '../src/index.js';
import { squaredError } from '../src/train/losses/mse.js';
import { lossAndGradients, optimizerStep, prepareGroups } from '../src/train/step.js';
import { planOptimizers } from '../src/train/optimizers/index.js';
import { internals } from '../src/api/model.js';
import { Random } from '../src/util/random.js';

export const BATCH = 1024;
const ENTITIES = 4096;
const EPOCH = 64 * BATCH;

export function benchConfig(): TwoTowerConfig {
  const tower = { features: [{ kind: 'numeric' as const, name: 'x', size: 64 }], hidden: [128] };
  return { dim: 64, user: tower, item: structuredClone(tower), seed: 1 };
}

function features(random: Random) {
  return { count: ENTITIES, columns: { x: Float32Array.from({ length: ENTITIES * 64 }, () => random.normal() / 8) } };
}

export async function benchModel(build: 'simd' | 'relaxed'): Promise<Model> {
  const random = new Random(2);
  return createModel(benchConfig(), { wasm: { build }, userFeatures: features(random), itemFeatures: features(random) });
}

export async function trainCases(): Promise<Case[]> {
  const random = new Random(3);
  const users = Int32Array.from({ length: EPOCH }, () => random.int(ENTITIES));
  const items = Int32Array.from({ length: EPOCH }, () => random.int(ENTITIES));
  const ratings = Float32Array.from({ length: EPOCH }, () => random.normal());
  const cases: Case[] = [];
  for (const build of ['simd', 'relaxed'] as const) {
    const model = await benchModel(build);
    const core = internals(model);
    const n = core.stagePairs(users.subarray(0, BATCH), items.subarray(0, BATCH), ratings.subarray(0, BATCH));
    const settings = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
    const plans = planOptimizers(core.store.groups, undefined, settings.learningRate);
    prepareGroups(core, plans);
    const step = () => {
      lossAndGradients(core, n, squaredError);
      optimizerStep(core, plans, settings);
    };
    cases.push({
      name: `train step, batch ${BATCH}, towers 64→128→64`,
      impl: `twotower ${build}`,
      examples: BATCH,
      run: step,
      check: () => {
        const first = lossAndGradients(core, n, squaredError);
        for (let i = 0; i < 20; i++) step();
        const later = lossAndGradients(core, n, squaredError);
        if (!(later < first)) throw new Error(`${build}: the loss did not fall over 20 steps (${first} → ${later})`);
      },
    });
    const fitModel = await benchModel(build);
    cases.push({
      name: `fit() epoch of ${EPOCH.toLocaleString('en-US')} examples, batch ${BATCH}`,
      impl: `twotower ${build}`,
      examples: EPOCH,
      run: () => fitModel.fit({ users, items, ratings }, { epochs: 1, batchSize: BATCH, learningRate: 1e-3 }),
    });
  }
  return cases;
}

/**
 * The same step in TensorFlow.js: both towers Dense(64→128, ReLU) → Dense(128→64) on a batch of
 * 64-wide inputs, squared error of the row-wise dot product, tf.train.adam(1e-3).minimize.
 */
export async function tfjsTrainCases(): Promise<Case[]> {
  const { tf, useBackend } = await import('./tfjs.js');
  const { TFJS_WASM } = await import('./harness.js');
  const cases: Case[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    await useBackend(backend);
    const random = new Random(4);
    const tensor = (shape: number[], scale: number) =>
      tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => scale * random.normal()),
        shape,
      );
    const layer = (i: number, o: number) => ({ w: tf.variable(tensor([i, o], Math.sqrt(2 / i))), b: tf.variable(tf.zeros([o])) });
    const towers = [
      [layer(64, 128), layer(128, 64)],
      [layer(64, 128), layer(128, 64)],
    ] as const;
    const xu = tensor([BATCH, 64], 1 / 8),
      xi = tensor([BATCH, 64], 1 / 8),
      y = tensor([BATCH], 1);
    const optimizer = tf.train.adam(1e-3);
    const forward = (x: ReturnType<typeof tensor>, t: (typeof towers)[0]) =>
      tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, t[0].w), t[0].b)), t[1].w), t[1].b);
    const step = async () => {
      await useBackend(backend);
      const cost = optimizer.minimize(
        () => tf.losses.meanSquaredError(y, tf.sum(tf.mul(forward(xu, towers[0]), forward(xi, towers[1])), 1)) as never,
        true,
      );
      cost!.dataSync();
      cost!.dispose();
    };
    cases.push({
      name: `train step, batch ${BATCH}, towers 64→128→64`,
      impl: backend === 'wasm' ? TFJS_WASM : 'TensorFlow.js cpu',
      examples: BATCH,
      run: step,
      check: async () => {
        await useBackend(backend);
        const loss = () =>
          tf.tidy(
            () =>
              (
                tf.losses.meanSquaredError(y, tf.sum(tf.mul(forward(xu, towers[0]), forward(xi, towers[1])), 1)) as ReturnType<
                  typeof tensor
                >
              ).dataSync()[0]!,
          );
        const first = loss();
        for (let i = 0; i < 5; i++) await step();
        if (!(loss() < first)) throw new Error(`TensorFlow.js ${backend}: the loss did not fall`);
      },
    });
  }
  return cases;
}
