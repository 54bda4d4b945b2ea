// What a call costs besides its training steps, against the catalogue's size (issue 25 item 2):
// id towers with user and item bias tables (dim 32, squared error, lazy Adam on the tables) of
// 100,000 and 1,000,000 ids per side, trained once so that they hold optimizer state. Measured:
//   - fit()'s fixed cost: a fit of one batch of 8 events, one epoch, minus one training step
//     timed alone (the snapshot, the checks, data preparation, the memory plan);
//   - update() of 1,000 events on known ids, all in (three epochs of batches of 256, the seen
//     sets): nothing grows, so it trains the model in place;
//   - for comparison, update() of 1,000 events of which 10 name new users: the model grows (a
//     new core of the grown size, every table and its state copied), timed once.
// Targets at 1M ids per side: fit's fixed cost ≤ 20 ms, update() of 1,000 events ≤ 100 ms.
import type { Case, Record } from './harness.js';
import { createModel, Vocabulary, type Model } from '../src/index.js';
import { internals } from '../src/api/model.js';
import { squaredError } from '../src/train/losses/mse.js';
import { planOptimizers } from '../src/train/optimizers/index.js';
import { lossAndGradients, optimizerStep, prepareGroups } from '../src/train/step.js';
import { Random } from '../src/util/random.js';

export const PERCALL_IDS = [100_000, 1_000_000];
const TINY = 8;
const UPDATE_EVENTS = 1_000;

function events(random: Random, ids: number, n: number) {
  return {
    users: Int32Array.from({ length: n }, () => random.int(ids)),
    items: Int32Array.from({ length: n }, () => random.int(ids)),
    ratings: Float32Array.from({ length: n }, () => 1 + random.int(5)),
  };
}

export async function perCallCases(): Promise<{ cases: Case[]; notes: string[]; close(): void }> {
  const cases: Case[] = [];
  const notes: string[] = [];
  const models: Model[] = [];
  const random = new Random(25);
  for (const ids of PERCALL_IDS) {
    const config = {
      dim: 32,
      seed: 1,
      user: { features: [{ kind: 'id' as const, name: 'u', vocabSize: ids, dim: 32 }], project: false },
      item: { features: [{ kind: 'id' as const, name: 'i', vocabSize: ids, dim: 32 }], project: false },
      bias: { global: true, user: true, item: true },
    };
    const label = `${ids.toLocaleString('en-US')} ids per side, dim 32`;
    let started = performance.now();
    const model = await createModel(config);
    const created = performance.now() - started;
    models.push(model);
    // Exact vocabularies, key String(row) at row (row 0 is the unknown id), so that update() can add ids.
    const vocabulary = () => {
      const v = new Vocabulary('exact');
      for (let r = 1; r < ids; r++) v.add(String(r));
      return v;
    };
    model.setVocabularies({ users: vocabulary(), items: vocabulary() });
    // Trained once on 20,000 events: the model holds optimizer state, as a served one does.
    started = performance.now();
    model.fit(events(random, ids, 20_000), { epochs: 1, batchSize: 256 });
    const firstFit = performance.now() - started;
    notes.push(`${label}: created in ${created.toFixed(0)} ms, first fit (20,000 events, 79 steps) ${firstFit.toFixed(0)} ms`);
    const tiny = events(random, ids, TINY);
    const settings = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
    // The core of the moment (an update that grows the model replaces it) and its plans.
    let at: { core: ReturnType<typeof internals>; plans: ReturnType<typeof planOptimizers> } | undefined;
    const step = () => {
      const core = internals(model);
      if (at?.core !== core) at = { core, plans: planOptimizers(core.store.groups, undefined, 1e-3) };
      const { plans } = at;
      prepareGroups(core, plans);
      const n = core.stagePairs(tiny.users, tiny.items, tiny.ratings);
      lossAndGradients(core, n, squaredError);
      optimizerStep(core, plans, settings);
    };
    cases.push({
      name: `fit() of ${TINY} events (one step), ${label}`,
      impl: 'twotower fit()',
      run: () => model.fit(tiny, { epochs: 1, batchSize: TINY, learningRate: 1e-3 }),
    });
    cases.push({
      name: `one training step of ${TINY} events alone, ${label}`,
      impl: 'twotower step',
      run: step,
      check: () => step(),
    });
    const batches = Array.from({ length: 8 }, () => {
      const e = events(random, ids - 1, UPDATE_EVENTS);
      return Array.from(e.users, (user, i) => ({ user: user + 1, item: e.items[i]! + 1, rating: e.ratings[i]! }));
    });
    let b = 0;
    cases.push({
      name: `update() of ${UPDATE_EVENTS.toLocaleString('en-US')} events, all in, ${label}`,
      impl: 'twotower update()',
      run: () => {
        model.update(batches[b++ % batches.length]!, { batchSize: 256 });
      },
      check: () => {
        const r = model.update(batches[0]!, { batchSize: 256 });
        if (r.events !== UPDATE_EVENTS || r.fit.steps !== 12 || r.newUsers !== 0)
          throw new Error(`update: ${r.fit.steps} steps, ${r.newUsers} new users`);
      },
    });
    let grown = 0;
    cases.push({
      name: `update() of ${UPDATE_EVENTS.toLocaleString('en-US')} events, 10 of new users (the model grows), ${label}`,
      impl: 'twotower update() growing',
      slow: true,
      run: () => {
        const chunk = batches[b++ % batches.length]!.map((e, i) => (i < 10 ? { ...e, user: `new${grown}-${i}` } : e));
        grown++;
        const r = model.update(chunk, { batchSize: 256 });
        if (r.newUsers !== 10) throw new Error(`update: ${r.newUsers} new users`);
      },
    });
  }
  return { cases, notes, close: () => models.forEach((m) => m.dispose()) };
}

/** fit()'s fixed cost per size: the median fit() of one step minus the median step alone. */
export function perCallNotes(records: readonly Record[]): string[] {
  return PERCALL_IDS.map((ids) => {
    const label = `${ids.toLocaleString('en-US')} ids per side, dim 32`;
    const fit = records.find((r) => r.name === `fit() of ${TINY} events (one step), ${label}`);
    const step = records.find((r) => r.name === `one training step of ${TINY} events alone, ${label}`);
    const update = records.find((r) => r.name.includes('events, all in') && r.name.endsWith(label));
    if (!fit || !step) return `${label}: not measured`;
    return `${label}: fit()'s fixed cost ${(fit.medianMs - step.medianMs).toFixed(2)} ms (target ≤ 20 ms at 1M), update() of ${UPDATE_EVENTS.toLocaleString('en-US')} events ${update?.medianMs.toFixed(1) ?? '?'} ms (target ≤ 100 ms at 1M)`;
  });
}
