// The plug-in contracts are enough to add a loss, a feature kind's behaviour stays in its module,
// and the registries drive validation and the CLI. The loss here is docs/architecture.md's "Adding a loss"
// example, written outside src/ against the Loss interface only.
import { describe, it, expect } from 'vitest';
import { createModel, ReferenceBackend, type TwoTowerConfig } from '../src/index.js';
import { stagingRows, writePairs, type Loss } from '../src/train/losses/loss.js';
import { LOSSES, LOSS_NAMES } from '../src/train/losses/index.js';
import { FEATURE_KINDS } from '../src/model/features/index.js';
import { ImplicitSampler } from '../src/train/implicit-sampler.js';
import { TrainScratch } from '../src/train/scratch.js';
import { lossAndGradients } from '../src/train/step.js';
import { Random, expectFiniteDifferences, core } from './helpers.js';

export const implicitSquaredError: Loss = {
  name: 'imse',
  summary: 'squared error: 1 for positives, 0 for one sampled negative each (implicit)',
  kind: 'pair',
  implicit: true,
  rowsPerPositive: () => 2,
  stage({ core, train, rows, sampler, random }) {
    const out = stagingRows(sampler!, 2 * rows.length);
    let count = 0;
    for (const r of rows) {
      const user = train.users[r]!;
      out.users[count] = user;
      out.items[count] = train.items[r]!;
      out.targets[count++] = 1;
      out.users[count] = user;
      out.items[count] = sampler!.negative(user, random);
      out.targets[count++] = 0;
    }
    writePairs(core, out.users, out.items, out.targets, count);
    return count;
  },
  compute: (b) => b.backend.kernels.mse_loss(b.dScores, b.scores, b.targets, b.n),
};

const config: TwoTowerConfig = {
  dim: 3,
  seed: 4,
  user: { features: [{ kind: 'id', name: 'u', vocabSize: 6, dim: 3 }], hidden: [4] },
  item: { features: [{ kind: 'id', name: 'i', vocabSize: 8, dim: 3 }], hidden: [4] },
  bias: { item: true },
};

describe('a loss added through the Loss interface alone', () => {
  it('stages positives with sampled negatives and gets gradients that match central finite differences (f64)', async () => {
    const model = await createModel(config, { backend: new ReferenceBackend() });
    const c = core(model);
    const train = {
      users: Int32Array.of(0, 1, 2, 3, 4, 5, 0, 1),
      items: Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7),
      ratings: new Float32Array(8),
    };
    const sampler = new ImplicitSampler(train, c.itemCount, 'uniform');
    const settings = { negatives: 1, temperature: 1, logQCorrection: false, removeAccidentalHits: false };
    const rows = Int32Array.of(0, 3, 5, 6);
    c.pairs.reserve(8);
    const n = implicitSquaredError.stage({
      core: c,
      train,
      heap: { users: 0, items: 0, targets: 0 },
      rows,
      rowsPtr: 0,
      sampler,
      random: new Random(1),
      scratch: TrainScratch.of(c),
      settings,
    });
    expect(n).toBe(8);
    const staged = Array.from(c.backend.floats(c.pairs.targets, n));
    expect(staged).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
    const users = Array.from(c.backend.ints(c.pairs.users, n)),
      items = Array.from(c.backend.ints(c.pairs.items, n));
    // Rows come in pairs: the positive as given, then a negative for the same user.
    for (let r = 0; r < n; r += 2) {
      expect([users[r], items[r]]).toEqual([train.users[rows[r / 2]!], train.items[rows[r / 2]!]]);
      expect(users[r + 1]).toBe(users[r]);
      expect(items[r + 1]).toBeGreaterThanOrEqual(0);
      expect(items[r + 1]).toBeLessThan(8);
    }
    expectFiniteDifferences(c.store, () => lossAndGradients(c, n, implicitSquaredError, { l2: 0.05, biasL2: 0 }, settings));
    model.dispose();
  });
});

describe('registries', () => {
  it('every built-in loss is registered under its own name, with a summary for --help', () => {
    for (const name of LOSS_NAMES) {
      expect(LOSSES[name].name).toBe(name);
      expect(LOSSES[name].summary.length).toBeGreaterThan(10);
    }
    expect(LOSS_NAMES).toEqual(['mse', 'bce', 'bpr', 'softmax', 'ccl']);
  });

  it('every feature kind is registered under its kind and only numeric learns nothing of its own', () => {
    for (const [kind, module] of Object.entries(FEATURE_KINDS)) expect(module.kind).toBe(kind);
    expect(
      Object.entries(FEATURE_KINDS)
        .filter(([, m]) => m.backward === undefined)
        .map(([k]) => k),
    ).toEqual(['numeric']);
  });

  it('an unknown feature kind in a config is refused, listing the registered kinds', async () => {
    const bad = { ...config, item: { features: [{ kind: 'image', name: 'pic' }] } } as unknown as TwoTowerConfig;
    await expect(createModel(bad)).rejects.toThrow(
      /config.item.features\[0\].kind must be one of 'id', 'categorical', 'multiHot', 'numeric', got "image"/,
    );
  });
});
