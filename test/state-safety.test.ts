// State the package must never silently accept (issue 21, findings 3, 4 and 7): a dispose() inside
// update()'s callback that the grown model would undo; model-file headers that pass the checksum
// but contradict their own tables or the schema; and caller-chosen sizes that cost minutes and
// gigabytes before their error (hidden widths, epochs). Each ends in a typed error, quickly,
// before anything is allocated or changed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import {
  train,
  createModel,
  loadModel,
  modelMemory,
  Vocabulary,
  TwoTowerError,
  type Model,
  type TwoTowerConfig,
} from '../src/index.js';
import { createModel as createNodeModel, saveModel } from '../src/node/index.js';
import { split, type Tampered } from './model-file-bytes.js';
import { bandEvents as events } from './fixtures.js';

const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.js');

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** The TwoTowerError `act` throws (fails the test when it returns or throws anything else). */
async function thrown(act: () => unknown): Promise<TwoTowerError> {
  try {
    await act();
  } catch (error) {
    if (error instanceof TwoTowerError) return error;
    throw error;
  }
  throw new Error('expected a TwoTowerError, but the call succeeded');
}

describe('3. dispose() inside update()’s callbacks', () => {
  it.each(['onBatchEnd', 'onEpochEnd'] as const)(
    '%s: the update ends with DISPOSED, the model stays disposed and holds no memory',
    async (callback) => {
      const model = await train(events(1500, 40, 30, 0, 1), { epochs: 2, dim: 8 });
      let calls = 0;
      const error = await thrown(() =>
        model.update(events(300, 50, 35, 10_000, 2), {
          [callback]: () => {
            calls++;
            model.dispose();
          },
        }),
      );
      expect(error.code).toBe('DISPOSED');
      expect(error.message).toMatch(/disposed during update\(\)/);
      expect(calls).toBe(1);
      expect(() => model.recommend('u1')).toThrow(/disposed/);
      expect(() => model.predict('u1', 'i1')).toThrow(/disposed/);
      expect(() => model.toBytes()).toThrow(/disposed/);
      // Neither the old nor the grown model is left in the heap.
      expect(model.memory().liveBytes).toBe(0);
    },
  );

  it('with a thread pool: the update ends with DISPOSED and nothing hangs', async () => {
    const config: TwoTowerConfig = {
      dim: 8,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: 20, dim: 8 }] },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: 15, dim: 8 }] },
    };
    const model = await createNodeModel(config, { threads: 2 });
    const users = Int32Array.from({ length: 400 }, (_, i) => 1 + (i % 19));
    const items = Int32Array.from({ length: 400 }, (_, i) => 1 + ((i * 7) % 14));
    model.fit({ users, items, ratings: new Float32Array(400).fill(1) }, { loss: 'softmax', epochs: 1, batchSize: 64 });
    const error = await thrown(() =>
      model.update(
        Array.from({ length: 200 }, (_, i) => ({ user: 1 + (i % 19), item: 1 + (i % 14) })),
        { onBatchEnd: () => model.dispose() },
      ),
    );
    expect(error.code).toBe('DISPOSED');
    expect(() => model.rows.recommend([1])).toThrow(/disposed/);
  });
});

describe('4. tampered headers with a valid checksum are refused at load, naming the field and value', () => {
  let rated: Uint8Array;
  let hashed: Uint8Array;

  beforeAll(async () => {
    const model = await train(events(1500, 40, 30, 0, 1), { epochs: 2, dim: 8 });
    rated = model.toBytes();
    model.dispose();
    // A model with hashed user ids: 16 buckets, the id table's 16 rows.
    const config: TwoTowerConfig = {
      dim: 4,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: 16, dim: 4 }] },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: 12, dim: 4 }] },
      bias: { global: true, user: true },
    };
    const h = await createModel(config);
    const users = Int32Array.from({ length: 300 }, (_, i) => i % 16);
    const items = Int32Array.from({ length: 300 }, (_, i) => (i * 5) % 12);
    h.fit({ users, items, ratings: Float32Array.from(users, (u) => 1 + (u % 5)) }, { epochs: 1 });
    h.setVocabularies({ users: new Vocabulary('hash', 16) });
    hashed = h.toBytes();
    h.dispose();
  });

  const tamper = (bytes: Uint8Array, edit: (h: Tampered) => void): Uint8Array => {
    const { header, rebuild } = split(bytes);
    edit(header);
    return rebuild(header);
  };

  async function refused(bytes: Uint8Array, message: RegExp): Promise<void> {
    const started = performance.now();
    const error = await thrown(() => loadModel(bytes, { name: 'm.ttm' }));
    expect(error.code, error.message).toBe('BAD_MODEL_FILE');
    expect(error.message).toMatch(/^m\.ttm /);
    expect(error.message).toMatch(message);
    expect(performance.now() - started).toBeLessThan(2000);
  }

  it('the untampered files load', async () => {
    for (const bytes of [rated, hashed]) (await loadModel(bytes)).dispose();
  });

  it('a hash vocabulary whose bucket count disagrees with its table (every user into one bucket)', async () => {
    await refused(
      tamper(hashed, (h) => (h.vocabularies.user.buckets = 1)),
      /vocabularies\.user\.buckets is 1, but the user id table has 16 rows/,
    );
  });

  it('an exact key list one short, or one long', async () => {
    await refused(
      tamper(rated, (h) => h.vocabularies.user.keys.splice(3, 1)),
      /vocabularies\.user\.keys holds 39 keys, but the user id table has 41 rows \(40 keys and the unknown-id row 0\)/,
    );
    await refused(
      tamper(rated, (h) => h.vocabularies.item.keys.push('extra')),
      /vocabularies\.item\.keys holds 31 keys, but the item id table has 31 rows/,
    );
  });

  it('vocabulary fields of the other mode', async () => {
    await refused(
      tamper(hashed, (h) => (h.vocabularies.user.keys = ['a'])),
      /vocabularies\.user\.keys .*hash/,
    );
    await refused(
      tamper(rated, (h) => (h.vocabularies.user.buckets = 7)),
      /vocabularies\.user\.buckets .*exact/,
    );
  });

  it('a loss that contradicts the config, or the training settings', async () => {
    // The in-batch softmax scores by the dot product alone; this model has biases.
    await refused(
      tamper(rated, (h) => (h.loss = h.training.loss = 'softmax')),
      /loss is "softmax", but .*config\.bias/,
    );
    await refused(
      tamper(rated, (h) => (h.training.loss = 'bpr')),
      /training\.loss is "bpr", but the model was trained with loss "mse"/,
    );
    await refused(
      tamper(rated, (h) => delete h.loss),
      /training settings without a loss/,
    );
  });

  it('training settings of the wrong type or range, named as the file’s, not the caller’s', async () => {
    await refused(
      tamper(rated, (h) => (h.training.learningRate = 'abc')),
      /training\.learningRate must be > 0, got "abc"/,
    );
    await refused(
      tamper(rated, (h) => (h.training.batchSize = 0)),
      /training\.batchSize must be an integer ≥ 1, got 0/,
    );
    await refused(
      tamper(rated, (h) => (h.training.negatives = 2.5)),
      /training\.negatives must be an integer ≥ 1, got 2\.5/,
    );
    await refused(
      tamper(rated, (h) => (h.training.logQCorrection = 'no')),
      /training\.logQCorrection must be true or false, got "no"/,
    );
    await refused(
      tamper(rated, (h) => (h.training.optimizers = { embeddings: 'lion' })),
      /training\.optimizers .*lion/,
    );
    // Settings fit() does not carry (update() would spread them into its options).
    await refused(
      tamper(rated, (h) => (h.training.epochs = 1e9)),
      /training\.epochs is not a training setting a model carries/,
    );
    await refused(
      tamper(rated, (h) => (h.training.validationFraction = 0.5)),
      /training\.validationFraction is not a training setting/,
    );
  });

  it('parameter and section layouts that disagree with themselves', async () => {
    await refused(
      tamper(rated, (h) => (h.parameters.total += 1)),
      /parameters\.total is \d+, but parameters\.data holds \d+/,
    );
    await refused(
      tamper(rated, (h) => {
        // Two blocks over the same values.
        h.parameters.blocks[1].offset = h.parameters.blocks[0].offset;
      }),
      /parameters\.blocks\[1\]\.offset is \d+, expected \d+/,
    );
    await refused(
      tamper(rated, (h) => {
        // The seen items read from the parameters' bytes.
        h.seen.ids.offset = h.parameters.data.offset;
      }),
      /seen\.ids .*overlaps/,
    );
  });

  it('optimizer state given twice for one group', async () => {
    await refused(
      tamper(rated, (h) => h.optimizerState.push(h.optimizerState[0])),
      /optimizerState\[\d+\] repeats group "[^"]+"/,
    );
  });

  it('a loaded model is what was saved: an untampered round trip still recommends the same', async () => {
    const a = await loadModel(rated);
    const b = await loadModel(tamper(rated, () => {}));
    expect(b.recommend('u3', { k: 5 })).toEqual(a.recommend('u3', { k: 5 }));
    a.dispose();
    b.dispose();
  });
});

describe('7a. sizes a caller chooses are bounded before anything is allocated', () => {
  const idTower = (name: string, hidden?: number[]) => ({
    features: [{ kind: 'id' as const, name, vocabSize: 50, dim: 8 }],
    ...(hidden ? { hidden } : {}),
  });

  it('createModel({ hidden: [1e6] }) is BAD_CONFIG naming the width, at once', async () => {
    const started = performance.now();
    const error = await thrown(() => createModel({ dim: 8, user: idTower('u', [1e6]), item: idTower('i') }));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toMatch(/config\.user\.hidden\[0\] is 1000000, over the largest layer width 32768/);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(() => modelMemory({ dim: 8, user: idTower('u', [1e6]), item: idTower('i') })).toThrow(/hidden\[0\] is 1000000/);
    expect((await thrown(() => createModel({ dim: 1e6, user: idTower('u'), item: idTower('i') }))).message).toMatch(
      /config\.dim is 1000000, over the largest layer width 32768/,
    );
    const wide = { features: [{ kind: 'id' as const, name: 'u', vocabSize: 2, dim: 100_000 }] };
    expect((await thrown(() => createModel({ dim: 8, user: wide, item: idTower('i') }))).message).toMatch(
      /config\.user's input is 100000 wide .*over the largest layer width 32768/,
    );
  });

  it('createModel refuses towers whose activations for one chunk of rows cannot fit the heap, naming them', async () => {
    // Five layers of 30,000 units: small weights, but 4096 rows of activations take ~5 GB.
    const hidden = [30_000, 8, 30_000, 8, 30_000, 8, 30_000, 8, 30_000];
    const config = { dim: 8, user: idTower('u', hidden), item: idTower('i') };
    const started = performance.now();
    const error = await thrown(() => createModel(config));
    expect(error.code).toBe('OUT_OF_MEMORY');
    expect(error.message).toMatch(/activations/);
    expect(error.message).toMatch(/4096 rows/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('modelMemory counts the towers’ activations for a batch', () => {
    const config: TwoTowerConfig = { dim: 8, user: idTower('u', [100]), item: idTower('i') };
    // Per row: the user tower's input and its gradient (8 + 8), its layers' outputs and their
    // gradients (100 + 8, twice); the item tower's (8 + 8, and its 8-wide output twice); an i32
    // of row scratch for each id feature.
    const perRow = 4 * (2 * 8 + 2 * (100 + 8) + 2 * 8 + 2 * 8) + 2 * 4;
    expect(modelMemory(config, { batchSize: 10 }).training.activations).toBe(10 * perRow);
    const m = modelMemory(config);
    expect(m.training.total).toBe(m.training.optimizerState + m.training.gradients + m.training.activations);
  });

  it('fit refuses a batch whose activations cannot fit, before allocating anything; the model is unchanged', async () => {
    // A 20,000-unit layer: 4096 rows of serving scratch fit, but a batch of 100,000 rows does not.
    const model = await createModel({ dim: 8, user: idTower('u', [20_000, 500]), item: idTower('i') });
    const n = 100_000;
    const users = Int32Array.from({ length: n }, (_, i) => i % 50);
    const items = Int32Array.from({ length: n }, (_, i) => (i * 7) % 50);
    const before = model.parameters();
    const memory = model.memory();
    const started = performance.now();
    const error = await thrown(() => model.fit({ users, items, ratings: new Float32Array(n).fill(3) }, { batchSize: n }));
    expect(error.code).toBe('OUT_OF_MEMORY');
    expect(error.message).toMatch(/activations \d/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(model.memory()).toEqual(memory);
    const after = model.parameters();
    for (const [name, values] of Object.entries(before)) expect(bits(after[name]!).equals(bits(values)), name).toBe(true);
    model.dispose();
  });
});

describe('7b. counts a caller chooses for training have documented maxima', () => {
  let model: Model;
  beforeAll(async () => {
    model = await train(events(600, 20, 15, 0, 1), { epochs: 1, dim: 4 });
  });
  afterAll(() => model.dispose());

  it.each([
    [{ epochs: 1e9 }, /options\.epochs must be an integer in \[1, 10000\], got 1000000000/],
    [{ batchSize: 2 ** 21 }, /options\.batchSize must be an integer in \[1, 1048576\], got 2097152/],
  ])('update(%j) is BAD_OPTION before anything changes', async (options, message) => {
    const steps = model.optimizerSteps;
    const users = model.userCount;
    const started = performance.now();
    const error = await thrown(() => model.update(events(50, 30, 15, 5000, 2), options));
    expect(error.code).toBe('BAD_OPTION');
    expect(error.message).toMatch(message);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(model.optimizerSteps).toBe(steps);
    expect(model.userCount).toBe(users);
  });

  it('fit({ epochs: 1e9 }) is BAD_OPTION', async () => {
    const fresh = await createModel({
      dim: 4,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: 5, dim: 4 }] },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: 5, dim: 4 }] },
    });
    const data = { users: Int32Array.of(1, 2, 3), items: Int32Array.of(1, 2, 3), ratings: Float32Array.of(1, 2, 3) };
    expect(() => fresh.fit(data, { epochs: 1e9 })).toThrow(/options\.epochs must be an integer in \[1, 10000\]/);
    expect(() => fresh.fit(data, { epochs: 10_000 + 1 })).toThrow(TwoTowerError);
    fresh.dispose();
  });

  it('CLI: update --epochs 1e9 exits 1 at once with the bound, writing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twotower-state-'));
    try {
      const modelPath = join(dir, 'm.ttm');
      await saveModel(modelPath, model);
      const csv = join(dir, 'new.csv');
      writeFileSync(
        csv,
        'userId,itemId,rating\n' +
          events(40, 25, 15, 0, 3)
            .map((e) => `${e.user},${e.item},${e.rating}`)
            .join('\n') +
          '\n',
      );
      const out = join(dir, 'out.ttm');
      const started = performance.now();
      const r = spawnSync(
        process.execPath,
        [CLI, 'update', '--model', modelPath, '--data', csv, '--out', out, '--epochs', '1e9'],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/epochs must be an integer in \[1, 10000\], got 1000000000/);
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
