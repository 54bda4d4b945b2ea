// Training cost against the catalogue's size: one training step (stage a batch of 256, forward,
// backward, one optimizer step on every group) of id towers with user and item bias tables
// (dim 32, squared error), for 1,000, 100,000, 1,000,000 and 4,000,000 ids per side, with each
// table optimizer: dense Adam (every row every step), lazy Adam (the default: the rows a batch
// touches) and row-wise Adagrad (those rows, 4 bytes of state a row). A configuration that cannot
// fit the 4 GiB heap is reported with fit()'s refusal instead of a time.
import type { Case } from './harness.js';
import { createModel, TwoTowerError, type Model, type OptimizerName } from '../src/index.js';
import { internals } from '../src/api/model.js';
import { squaredError } from '../src/train/losses/mse.js';
import { planOptimizers } from '../src/train/optimizers/index.js';
import { lossAndGradients, optimizerStep, prepareGroups } from '../src/train/step.js';
import { Random } from '../src/util/random.js';

const BATCH = 256;
const BATCHES = 64;
export const SCALE_IDS = [1_000, 100_000, 1_000_000, 4_000_000];
const OPTIMIZERS: [OptimizerName, string][] = [
  ['adam', 'dense Adam'],
  ['lazyAdam', 'lazy Adam'],
  ['rowwiseAdagrad', 'row-wise Adagrad'],
];

export async function scaleCases(): Promise<{ cases: Case[]; notes: string[]; close(): void }> {
  const cases: Case[] = [];
  const notes: string[] = [];
  const models: Model[] = [];
  const random = new Random(8);
  for (const ids of SCALE_IDS) {
    const batches = Array.from({ length: BATCHES }, () => ({
      users: Int32Array.from({ length: BATCH }, () => random.int(ids)),
      items: Int32Array.from({ length: BATCH }, () => random.int(ids)),
      ratings: Float32Array.from({ length: BATCH }, () => 1 + random.int(5)),
    }));
    for (const [name, label] of OPTIMIZERS) {
      const model = await createModel({
        dim: 32,
        seed: 1,
        user: { features: [{ kind: 'id', name: 'u', vocabSize: ids, dim: 32 }], project: false },
        item: { features: [{ kind: 'id', name: 'i', vocabSize: ids, dim: 32 }], project: false },
        bias: { global: true, user: true, item: true },
      });
      const optimizers = { embeddings: name, biases: name };
      try {
        // fit()'s own memory check, on one batch: refuses what cannot fit before allocating.
        model.fit(batches[0]!, { epochs: 1, batchSize: BATCH, optimizers });
      } catch (error) {
        if (!(error instanceof TwoTowerError) || error.code !== 'OUT_OF_MEMORY') throw error;
        notes.push(`${ids.toLocaleString('en-US')} ids per side, ${label}: refused by fit() — ${error.message}`);
        model.dispose();
        continue;
      }
      models.push(model);
      const core = internals(model);
      const plans = planOptimizers(core.store.groups, optimizers, 1e-3);
      prepareGroups(core, plans);
      const settings = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
      let b = 0;
      cases.push({
        name: `training step, ${ids.toLocaleString('en-US')} ids per side, dim 32, batch ${BATCH}`,
        impl: `twotower ${label}`,
        examples: BATCH,
        run: () => {
          const batch = batches[b++ % BATCHES]!;
          const n = core.stagePairs(batch.users, batch.items, batch.ratings);
          lossAndGradients(core, n, squaredError);
          optimizerStep(core, plans, settings);
        },
      });
    }
  }
  return { cases, notes, close: () => models.forEach((m) => m.dispose()) };
}
