// Training on two threads against one, in one run: the retrieval loss (in-batch softmax, whose
// matrix work splits by rows over the threads) at batch 1024 with towers 64 → 128 → 64, and
// squared error at the same shape (a pair loss: its work does not split yet, so it shows the
// threads' overhead). Each run is one fit() epoch of 16 batches on 10,000 ids per side; both
// models give the same bits (test/threads-training.test.ts).
import type { Case } from './harness.js';
import { createModel } from '../src/node/index.js';
import type { Model, TwoTowerConfig } from '../src/index.js';
import { Random } from '../src/util/random.js';

const BATCH = 1024;
const BATCHES = 16;

export async function threadCases(): Promise<{ cases: Case[]; close(): void }> {
  const random = new Random(5);
  const n = BATCH * BATCHES;
  const data = {
    users: Int32Array.from({ length: n }, () => random.int(10_000)),
    items: Int32Array.from({ length: n }, () => Math.floor(10_000 * random.next() ** 2)),
    ratings: Float32Array.from({ length: n }, () => 1 + random.int(5)),
  };
  const config: TwoTowerConfig = {
    dim: 64,
    seed: 1,
    user: { features: [{ kind: 'id', name: 'u', vocabSize: 10_000, dim: 64 }], hidden: [128] },
    item: { features: [{ kind: 'id', name: 'i', vocabSize: 10_000, dim: 64 }], hidden: [128] },
  };
  const models: Model[] = [];
  const cases: Case[] = [];
  for (const loss of ['softmax', 'mse'] as const) {
    for (const threads of [1, 2]) {
      const model = await createModel(config, { threads });
      models.push(model);
      cases.push({
        name: `fit epoch, ${loss}, batch ${BATCH}, towers 64→128→64`,
        impl: `twotower ${model.threads} thread${model.threads > 1 ? 's' : ''}`,
        examples: n,
        run: () => model.fit(data, { loss, epochs: 1, batchSize: BATCH }),
      });
    }
  }
  return { cases, close: () => models.forEach((m) => m.dispose()) };
}
