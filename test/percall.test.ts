// What a call costs besides its steps follows the rows it touches (issue 25 item 2): fit()'s
// restore-on-failure snapshot and early stopping's best copy journal table rows on first touch
// (src/train/snapshot.ts). Properties: a failed fit restores every value, moment and the step
// count bit for bit (rows touched several times, rows touched in epoch 1 only, a replaced
// optimizer); early stopping's best equals the parameters recorded at the best epoch; untouched
// rows are never copied; update() of known ids journals what its events touch, whatever the size
// of the tables, and leaves the model as it was when it fails.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { createModel, TwoTowerError, type Model, type TwoTowerConfig, type FitOptions } from '../src/index.js';
import { internals } from '../src/api/model.js';
import { Snapshot } from '../src/train/snapshot.js';
import { planOptimizers } from '../src/train/optimizers/index.js';
import { lossAndGradients, optimizerStep, prepareGroups } from '../src/train/step.js';
import { squaredError } from '../src/train/losses/mse.js';
import { TouchedRows } from '../src/train/touched-rows.js';
import { Random } from '../src/util/random.js';

const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every group's values and optimizer state slots (copies), the state's owner, and the step count. */
function state(model: Model) {
  const core = internals(model);
  const { store, backend } = core;
  return {
    steps: core.optimizerSteps,
    groups: store.groups.map((g) => ({
      name: g.name,
      owner: store.stateOwner(g),
      values: store.groupValues(g).slice(),
      state: store.stateOf(g).map((s) => backend.floats(s.ptr, s.floats).slice()),
    })),
  };
}

function expectSameBits(a: ReturnType<typeof state>, b: ReturnType<typeof state>): void {
  expect(b.steps).toBe(a.steps);
  expect(b.groups.map((g) => [g.name, g.owner, g.state.length])).toEqual(a.groups.map((g) => [g.name, g.owner, g.state.length]));
  a.groups.forEach((g, i) => {
    expect(bytes(b.groups[i]!.values).equals(bytes(g.values)), `values of ${g.name}`).toBe(true);
    g.state.forEach((s, j) => expect(bytes(b.groups[i]!.state[j]!).equals(bytes(s)), `state ${j} of ${g.name}`).toBe(true));
  });
}

function config(ids: number, hidden = true): TwoTowerConfig {
  return {
    dim: 8,
    seed: 3,
    user: {
      features: [{ kind: 'id', name: 'u', vocabSize: ids, dim: 8 }],
      ...(hidden ? { hidden: [8] } : { project: false }),
    },
    item: { features: [{ kind: 'id', name: 'i', vocabSize: ids, dim: 8 }], project: false },
    bias: { global: true, user: true, item: true },
  } as TwoTowerConfig;
}

function events(random: Random, users: number, items: number, n: number) {
  return {
    users: Int32Array.from({ length: n }, () => random.int(users)),
    items: Int32Array.from({ length: n }, () => random.int(items)),
    ratings: Float32Array.from({ length: n }, () => 1 + random.int(5)),
  };
}

const models: Model[] = [];
afterEach(() => {
  while (models.length) models.pop()!.dispose();
  vi.restoreAllMocks();
});

async function trained(ids: number, optimizers?: FitOptions['optimizers'], hidden = true): Promise<Model> {
  const model = await createModel(config(ids, hidden));
  models.push(model);
  model.fit(events(new Random(1), ids, ids, 600), { epochs: 2, batchSize: 64, ...(optimizers ? { optimizers } : {}) });
  return model;
}

/** The snapshots fit() made in the calls `act` runs, each's size() read when it is freed. */
function snapshotSizes(act: () => unknown): ReturnType<Snapshot['size']>[] {
  const sizes: ReturnType<Snapshot['size']>[] = [];
  const free = Snapshot.prototype.free;
  const spy = vi.spyOn(Snapshot.prototype, 'free').mockImplementation(function (this: Snapshot) {
    sizes.push(this.size());
    free.call(this);
  });
  try {
    act();
  } catch (error) {
    if (!(error instanceof TwoTowerError)) throw error;
  } finally {
    spy.mockRestore();
  }
  return sizes;
}

describe('a failed fit() restores the model bit for bit', () => {
  it.each([
    ['lazy Adam (the default)', undefined],
    ['row-wise Adagrad', { embeddings: 'rowwiseAdagrad', biases: 'rowwiseAdagrad' }],
    ['dense Adam on the tables (copied whole)', { embeddings: 'adam', biases: 'adam' }],
  ] as const)('%s: a callback throwing in epoch 2, after rows touched in epoch 1 only', async (_, optimizers) => {
    const model = await trained(300, optimizers);
    const before = state(model);
    // 40 users × 50 items, 400 events in batches of 32: every row touched several times in epoch
    // 1; epoch 2 stops after 2 batches, so most rows were touched in epoch 1 only.
    const data = events(new Random(2), 40, 50, 400);
    let batches = 0;
    const error = (() => {
      try {
        model.fit(data, {
          epochs: 3,
          batchSize: 32,
          ...(optimizers ? { optimizers } : {}),
          onBatchEnd: ({ epoch, batch }) => {
            batches++;
            if (epoch === 1 && batch === 1) throw new Error('stop');
          },
        });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toBe('stop');
    expect(batches).toBe(13 + 2);
    expectSameBits(before, state(model));
  });

  it('a learning rate that diverges (DIVERGED), from a model trained by another optimizer (its state brought back)', async () => {
    const model = await trained(300);
    const before = state(model);
    expect(before.groups.find((g) => g.name === 'user.u.embedding')!.owner).toBe('lazyAdam');
    const data = events(new Random(4), 300, 300, 2000);
    let error: unknown;
    try {
      model.fit(data, { epochs: 3, batchSize: 100, learningRate: 1e30, optimizers: { embeddings: 'rowwiseAdagrad' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TwoTowerError);
    expect((error as TwoTowerError).code).toBe('DIVERGED');
    expectSameBits(before, state(model));
  });

  it('the journal is what makes it exact: restoring an empty journal after steps differs', async () => {
    // The check above can fail: a snapshot that forgets its journal leaves the trained rows.
    const model = await trained(300);
    const core = internals(model);
    const before = state(model);
    const plans = planOptimizers(core.store.groups, undefined, 1e-2);
    const snapshot = new Snapshot(core, plans);
    prepareGroups(core, plans);
    const batch = events(new Random(5), 300, 300, 50);
    const settings = { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
    for (let i = 0; i < 3; i++) {
      const n = core.stagePairs(batch.users, batch.items, batch.ratings);
      lossAndGradients(core, n, squaredError);
      if (i < 2) snapshot.beforeStep(); // the third step's first touches are not journaled…
      optimizerStep(core, plans, settings);
    }
    snapshot.restore();
    const after = state(model);
    // …but the same batch touched the same rows, so all were journaled by the first step: exact.
    expectSameBits(before, after);
    // Without any beforeStep, the rows stay trained.
    const lone = new Snapshot(core, plans);
    const n = core.stagePairs(batch.users, batch.items, batch.ratings);
    lossAndGradients(core, n, squaredError);
    optimizerStep(core, plans, settings);
    lone.restore();
    const table = (s: ReturnType<typeof state>) => s.groups.find((g) => g.name === 'user.u.embedding')!.values;
    expect(bytes(table(state(model))).equals(bytes(table(before)))).toBe(false);
    snapshot.free();
    lone.free();
    core.store.releaseGradients();
  });
});

describe('early stopping', () => {
  it('restores parameters bit-identical to those recorded at the best epoch', async () => {
    const model = await trained(200);
    const random = new Random(7);
    const train = events(random, 200, 200, 1500);
    const validation = events(random, 200, 200, 400);
    const recorded: ReturnType<typeof state>[] = [];
    const result = model.fit(train, {
      epochs: 12,
      batchSize: 64,
      learningRate: 0.05,
      validation,
      earlyStopping: { patience: 3 },
      onEpochEnd: () => void recorded.push(state(model)),
    });
    // The restore must have happened: a best epoch before the last.
    expect(result.bestEpoch).toBeDefined();
    expect(result.bestEpoch!).toBeLessThan(result.history.length - 1);
    const best = recorded[result.bestEpoch!]!;
    const now = state(model);
    now.groups.forEach((g, i) => expect(bytes(g.values).equals(bytes(best.groups[i]!.values)), g.name).toBe(true));
    // Values only: the moments and the step count are the last epoch's.
    expect(now.steps).toBe(recorded.at(-1)!.steps);
  });
});

describe('the journal holds the rows touched, never the others', () => {
  it('a step on a large model copies its touched rows (values and both moments) and the dense group', async () => {
    const model = await trained(20_000, undefined, false);
    const core = internals(model);
    const plans = planOptimizers(core.store.groups, undefined, 1e-3);
    const snapshot = new Snapshot(core, plans);
    prepareGroups(core, plans);
    const batch = events(new Random(6), 20_000, 20_000, 100);
    const n = core.stagePairs(batch.users, batch.items, batch.ratings);
    lossAndGradients(core, n, squaredError);
    snapshot.beforeStep();
    const touched = TouchedRows.of(core);
    const distinct = (a: Int32Array) => new Set(a).size;
    const users = distinct(batch.users),
      items = distinct(batch.items);
    for (const g of core.store.groups.filter((g) => g.rows > 0))
      expect(touched.list(g).length).toBe(g.name.includes('user') || g.name === 'bias.user' ? users : items);
    const size = snapshot.size();
    // Two embedding tables (width 8) and two bias tables (width 1): values, m and v per row.
    expect(size.rows).toBe(2 * (users + items));
    expect(size.journalBytes).toBe((users + items) * (8 + 1) * 3 * 4);
    // Whole copies: the dense group only (the global bias here), nowhere near a table.
    expect(size.wholeBytes).toBeLessThan(1024);
    // The non-finite check reads what can have changed: a touched row and the dense group count,
    // an untouched row (which no step of this call wrote) is not read.
    optimizerStep(core, plans, { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    expect(snapshot.countNonFinite()).toBe(0);
    const table = core.store.groups.find((g) => g.name === 'user.u.embedding')!;
    const untouched = [...Array(20_000).keys()].find((r) => !batch.users.includes(r))!;
    core.write((store) => {
      store.writableGroup(table)[batch.users[0]! * 8 + 3] = NaN;
      store.writableGroup(table)[untouched * 8] = Infinity;
      store.writable(core.bias.global!)[0] = -Infinity;
    });
    expect(snapshot.countNonFinite()).toBe(2);
    snapshot.restore();
    expect(snapshot.countNonFinite()).toBe(0);
    snapshot.free();
    core.store.releaseGradients();
  });

  it('update() of known ids: the same journal for a table of 2,000 rows as for one of 200,000', async () => {
    const sizes: ReturnType<Snapshot['size']>[] = [];
    for (const ids of [2_000, 200_000]) {
      const model = await trained(ids, undefined, false);
      const random = new Random(9);
      const chunk = Array.from({ length: 300 }, () => ({ user: random.int(1000), item: random.int(1000), rating: 3 }));
      const [size, ...more] = snapshotSizes(() => model.update(chunk));
      expect(more).toHaveLength(0);
      sizes.push(size!);
    }
    expect(sizes[0]!.rows).toBeGreaterThan(0);
    expect(sizes[1]).toEqual(sizes[0]);
    // ∝ touched rows: three floats of four bytes per journaled float, 8 + 1 floats per (user or item) entity.
    expect(sizes[0]!.journalBytes).toBe((sizes[0]!.rows / 2) * 9 * 3 * 4);
  });

  it('update() of known ids that fails leaves the model as it was (values, moments, steps, seen items)', async () => {
    const model = await trained(300);
    const core = internals(model);
    const before = state(model);
    const seen = { offsets: core.seen!.offsets.slice(), ids: core.seen!.ids.slice() };
    const trainedWith = structuredClone(core.trainedWith);
    const random = new Random(10);
    const chunk = Array.from({ length: 200 }, () => ({ user: random.int(300), item: random.int(300), rating: 2 }));
    expect(() =>
      model.update(chunk, {
        onBatchEnd: ({ epoch }) => {
          if (epoch === 2) throw new Error('stop');
        },
      }),
    ).toThrow('stop');
    expect(internals(model)).toBe(core);
    expectSameBits(before, state(model));
    expect(core.seen!.offsets).toEqual(seen.offsets);
    expect(core.seen!.ids).toEqual(seen.ids);
    expect(core.trainedWith).toEqual(trainedWith);
    // And one that succeeds trains the same core and merges the events into the seen items.
    const result = model.update(chunk);
    expect(internals(model)).toBe(core);
    expect(result.fit.steps).toBeGreaterThan(0);
    expect(core.optimizerSteps).toBe(before.steps + result.fit.steps);
    for (const { user, item } of chunk) {
      const row = core.seen!.ids.subarray(core.seen!.offsets[user]!, core.seen!.offsets[user + 1]!);
      expect(row.includes(item)).toBe(true);
    }
  });
});
