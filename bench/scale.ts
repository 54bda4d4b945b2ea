// Training cost against the catalogue's size: id-only towers (dim 32), batch 256, one whole
// fit() call of 20 steps, dense Adam on the embedding tables against lazy Adam (the default), for
// 1,000, 100,000 and 1,000,000 ids per side. Dense Adam touches every row every step; lazy Adam
// the rows the batch touches. A fit() call also has costs that grow with the model, whatever the
// optimizer: its snapshot (restored if training fails), a non-finite check per epoch, recording
// the training history — they dominate the lazy rows here (20 steps are ~19 ms of 1.4 s at 1M).
import type { Case } from './harness.js';
import { createModel, type Model } from '../src/index.js';

const BATCH = 256;
const STEPS = 20;

export async function scaleCases(): Promise<{ cases: Case[]; close(): void }> {
  const cases: Case[] = [];
  const models: Model[] = [];
  for (const ids of [1_000, 100_000, 1_000_000]) {
    const n = BATCH * STEPS;
    const data = {
      users: Int32Array.from({ length: n }, (_, i) => (i * 7919) % ids),
      items: Int32Array.from({ length: n }, (_, i) => (i * 104729) % ids),
      ratings: Float32Array.from({ length: n }, (_, i) => 1 + (i % 5)),
    };
    for (const embeddings of ['adam', 'lazyAdam'] as const) {
      const model = await createModel({
        dim: 32,
        seed: 1,
        user: { features: [{ kind: 'id', name: 'u', vocabSize: ids, dim: 32 }], project: false },
        item: { features: [{ kind: 'id', name: 'i', vocabSize: ids, dim: 32 }], project: false },
      });
      models.push(model);
      cases.push({
        name: `${STEPS} training steps, ${ids.toLocaleString('en-US')} ids per side, dim 32, batch ${BATCH}`,
        impl: `twotower ${embeddings === 'adam' ? 'dense Adam' : 'lazy Adam'}`,
        examples: n,
        run: () => model.fit(data, { epochs: 1, batchSize: BATCH, shuffle: false, optimizers: { embeddings } }),
      });
    }
  }
  return { cases, close: () => models.forEach((m) => m.dispose()) };
}
