// One workload in a fresh process, reporting its peak resident memory (maxRSS) as JSON: run by
// bench/run.ts so that each figure is the workload's own.
import { Random } from '../src/util/random.js';

const which = process.argv[2];
const random = new Random(1);
const N = 100_000,
  D = 64,
  B = 256;
const items = Float32Array.from({ length: N * D }, () => random.normal());
const queries = Float32Array.from({ length: B * D }, () => random.normal());

if (which === 'twotower-scoring') {
  const { createScorer } = await import('../src/node/index.js');
  const s = await createScorer();
  s.setItems(items, D);
  for (let i = 0; i < 10; i++) s.topK(queries, null, D, 10);
} else if (which === 'tfjs-scoring') {
  const { tf, useBackend } = await import('./tfjs.js');
  await useBackend('wasm');
  const itemsT = tf.transpose(tf.tensor2d(items, [N, D]));
  const q = tf.tensor2d(queries, [B, D]);
  for (let i = 0; i < 10; i++) tf.tidy(() => tf.topk(tf.matMul(q, itemsT), 10).indices.dataSync());
} else if (which === 'twotower-training') {
  const { benchModel, BATCH } = await import('./train.js');
  const { squaredError } = await import('../src/train/losses/mse.js');
  const { lossAndGradients, optimizerStep, prepareGroups } = await import('../src/train/step.js');
  const { planOptimizers } = await import('../src/train/optimizers/index.js');
  const { internals } = await import('../src/api/model.js');
  const { supportsRelaxedSimd } = await import('../src/wasm/load.js');
  const core = internals(await benchModel(supportsRelaxedSimd() ? 'relaxed' : 'simd'));
  const users = Int32Array.from({ length: BATCH }, () => random.int(4096)),
    its = Int32Array.from({ length: BATCH }, () => random.int(4096));
  const n = core.stagePairs(
    users,
    its,
    Float32Array.from({ length: BATCH }, () => random.normal()),
  );
  const settings = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
  const plans = planOptimizers(core.store.groups, undefined, settings.learningRate);
  prepareGroups(core, plans);
  for (let i = 0; i < 50; i++) {
    lossAndGradients(core, n, squaredError);
    optimizerStep(core, plans, settings);
  }
} else if (which === 'tfjs-training') {
  const { tfjsTrainCases } = await import('./train.js');
  const step = (await tfjsTrainCases()).find((c) => c.impl.endsWith('wasm'))!;
  for (let i = 0; i < 50; i++) await step.run();
} else {
  throw new Error(`unknown workload ${which}`);
}
console.log(JSON.stringify({ workload: which, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
process.exit(0);
