// One training step of the benchmark model: batch 1024; user and item towers both read a
// 64-wide numeric input, 64→128 (ReLU)→64; squared error on the dot product; Adam, lr 1e-3.
// The same model TensorFlow.js is compared on. Also a whole fit() epoch, which adds batch
// assembly and shuffling to the step.
import type { Case } from './harness.js';
import { createModel, type Model, type TwoTowerConfig } from '../src/index.js';
import { squaredError } from '../src/train/losses.js';
import { adamStep } from '../src/train/adam.js';
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

async function benchModel(build: 'simd' | 'relaxed'): Promise<Model> {
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
    const n = model.stagePairs(users.subarray(0, BATCH), items.subarray(0, BATCH), ratings.subarray(0, BATCH));
    const settings = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
    const step = () => {
      model.lossAndGradients(n, squaredError);
      model.optimizerSteps += 1;
      adamStep(model.backend, model.store, model.optimizerSteps, settings);
    };
    cases.push({
      name: `train step, batch ${BATCH}, towers 64→128→64`, impl: `twotower ${build}`, examples: BATCH, run: step,
      check: () => {
        const first = model.lossAndGradients(n, squaredError);
        for (let i = 0; i < 20; i++) step();
        const later = model.lossAndGradients(n, squaredError);
        if (!(later < first)) throw new Error(`${build}: the loss did not fall over 20 steps (${first} → ${later})`);
      },
    });
    const fitModel = await benchModel(build);
    cases.push({
      name: `fit() epoch of ${EPOCH.toLocaleString('en-US')} examples, batch ${BATCH}`, impl: `twotower ${build}`, examples: EPOCH,
      run: () => fitModel.fit({ users, items, ratings }, { epochs: 1, batchSize: BATCH, learningRate: 1e-3 }),
    });
  }
  return cases;
}
