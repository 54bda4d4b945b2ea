// The failures a fault probe found (issue 9), each reproduced: every one now ends in a typed
// TwoTowerError or a correct result, and leaves the model or scorer as it was.
import { describe, it, expect } from 'vitest';
import { createModel, Vocabulary, TwoTowerError, type TwoTowerConfig } from '../src/index.js';
import { createScorer } from '../src/node/index.js';
import { Random, randomFloats } from './helpers.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';

async function rejected(run: () => unknown): Promise<TwoTowerError> {
  try {
    await run();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(TwoTowerError);
    return error as TwoTowerError;
  }
  return expect.fail('should throw');
}

const idConfig = (users: number, items: number, dim = 8): TwoTowerConfig => ({
  dim,
  user: { features: [{ kind: 'id', name: 'u', vocabSize: users, dim }], project: false },
  item: { features: [{ kind: 'id', name: 'i', vocabSize: items, dim }], project: false },
});

describe('1. a failed allocation leaves the scorer as it was', () => {
  it.each([1, 2])(
    'threads %i: items too large for one block are refused, and the old items still score exactly',
    async (threads) => {
      const random = new Random(3);
      const items = randomFloats(random, 20_000 * 64);
      const queries = randomFloats(random, 5 * 64);
      const scorer = await createScorer({ threads });
      const fresh = await createScorer();
      scorer.setItems(items, 64);
      fresh.setItems(items, 64);
      const want = fresh.topK(queries, null, 64, 10);
      const error = await rejected(() => scorer.setItems(new Float32Array(4_200_000 * 64), 64));
      expect(error.code).toBe('OUT_OF_MEMORY');
      expect(error.message).toMatch(/limit of 1 GiB per block/);
      expect(scorer.topK(queries, null, 64, 10)).toEqual(want);
      expect((await rejected(() => scorer.topK(new Float32Array(300_000 * 64), null, 64, 1000))).code).toBe('BAD_OPTION');
      expect(scorer.topK(queries, null, 64, 10)).toEqual(want);
      scorer.close();
      fresh.close();
    },
  );
});

describe('2. k is bounded by the memory it implies', () => {
  it('recommend and topK refuse a k that would need gigabytes, naming the limit', async () => {
    const model = await createModel(idConfig(10, 50));
    model.setSeen(Int32Array.of(0), Int32Array.of(1));
    expect((await rejected(() => model.rows.recommend([0], { k: 1e9 }))).message).toMatch(
      /k 1,000,000,000 = 1,000,000,000 result entries, over the limit of 16,777,216/,
    );
    expect((await rejected(() => model.rows.recommend([0, 1, 2], { k: 1e7 }))).code).toBe('BAD_OPTION');
    expect((await rejected(() => model.rows.similarItems(0, { k: 1e9 }))).code).toBe('BAD_OPTION');
    const top = model.rows.recommend([0], { k: 60 }); // k beyond the catalogue: padded, as documented
    expect(top.indices.length).toBe(60);
    expect(Array.from(top.indices.subarray(49))).toEqual(new Array(11).fill(-1));
    model.dispose();
  });
});

describe('4. dispose() inside a fit() callback', () => {
  it('ends the fit with DISPOSED, not a WebAssembly trap', async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    const error = await rejected(() =>
      model.fit(tinyBatch(100), { batchSize: 10, onBatchEnd: ({ batch }) => void (batch === 2 && model.dispose()) }),
    );
    expect(error.code).toBe('DISPOSED');
    expect(error.message).toMatch(/disposed during fit\(\) \(by onBatchEnd, at epoch 1, batch 3\)/);
    expect((await rejected(() => model.rows.predict([0], [0]))).code).toBe('DISPOSED');
    expect((await rejected(() => model.setSeen(Int32Array.of(0), Int32Array.of(0)))).code).toBe('DISPOSED');
  });
});

describe('5. the unknown-id row is never an output', () => {
  it('recommend, similarItems, cold start and ranking metrics skip item 0 of an exact vocabulary', async () => {
    const model = await createModel(idConfig(4, 6, 2));
    const items = new Vocabulary();
    for (const key of ['a', 'b', 'c', 'd', 'e']) items.add(key);
    model.setVocabularies({ items: items.freeze() });
    // Item 0 (the unknown id) scores highest for everyone.
    model.setParameters({
      'user.u.embedding': [1, 0, 1, 0, 1, 0, 1, 0],
      'item.i.embedding': [9, 0, 5, 0, 4, 0, 3, 0, 2, 0, 1, 0],
    });
    expect(Array.from(model.rows.recommend([0, 1], { k: 3, excludeSeen: false }).indices)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(Array.from(model.rows.recommend([0], { k: 6, excludeSeen: false }).indices)).toEqual([1, 2, 3, 4, 5, -1]);
    expect(Array.from(model.rows.similarItems(1, { k: 5 }).indices)).not.toContain(0);
    const m = model.rows.evaluateRanking({ users: Int32Array.of(0), items: Int32Array.of(1) }, { ks: [1] });
    expect(m.recall[1]).toBe(1);
    model.dispose();
  });
});

describe('7. memory walls are typed errors with a remedy, found before allocating', () => {
  it('a model of 10 million ids at dim 32 is refused at once by createModel', async () => {
    const started = performance.now();
    const error = await rejected(() => createModel(idConfig(10_000_000, 10, 32)));
    expect(error.code).toBe('OUT_OF_MEMORY');
    expect(error.message).toMatch(
      /"user.u.embedding" \(10000000 × 32\) needs 1\.19 GiB, over .* 1 GiB per block.*hashed ids.*smaller dim/,
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('BCE with 10 million negatives per positive is refused before training', async () => {
    const model = await createModel(idConfig(10, 10));
    const data = { users: Int32Array.of(0, 1, 2), items: Int32Array.of(0, 1, 2), ratings: Float32Array.of(1, 1, 1) };
    const before = model.parameters();
    expect((await rejected(() => model.fit(data, { loss: 'bce', negatives: 1e7 }))).message).toMatch(
      /a batch would have 30,000,003 rows .* over the limit of 1,048,576/,
    );
    expect(model.parameters()).toEqual(before);
    model.dispose();
  });
});

describe('8. thread counts', () => {
  it('a scorer with 1000 threads is refused at once', async () => {
    const error = await rejected(() => createScorer({ threads: 1000 }));
    expect(error.code).toBe('BAD_OPTION');
    expect(error.message).toMatch(/threads must be an integer from 1 to 64, got 1000/);
  });
});

describe('10. recommend inside fit() callbacks sees the weights of that moment', () => {
  it('each epoch the list is the one a fresh copy of the weights gives', async () => {
    const model = await createModel({ ...idConfig(6, 12), bias: { item: true } });
    const data = {
      users: Int32Array.from({ length: 36 }, (_, i) => i % 6),
      items: Int32Array.from({ length: 36 }, (_, i) => (i * 5) % 12),
      ratings: Float32Array.from({ length: 36 }, (_, i) => 1 + (i % 5)),
    };
    model.setSeen(data.users, data.items);
    const lists: Float32Array[] = [];
    const mismatches: number[] = [];
    const check = await createModel({ ...idConfig(6, 12), bias: { item: true } });
    model.fit(data, {
      epochs: 3,
      batchSize: 6,
      learningRate: 0.05,
      onEpochEnd: ({ epoch }) => {
        const got = model.rows.recommend([0, 1], { k: 5, excludeSeen: false });
        check.setParameters(model.parameters());
        const want = check.rows.recommend([0, 1], { k: 5, excludeSeen: false });
        if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(epoch);
        lists.push(got.scores);
      },
    });
    expect(mismatches).toEqual([]);
    expect(lists[0]).not.toEqual(lists[2]);
    model.dispose();
    check.dispose();
  });
});

describe('11. assorted silent acceptances', () => {
  it('allow-lists name each item once; candidates must give a usable count', async () => {
    const model = await createModel(idConfig(3, 8));
    expect(Array.from(model.rows.recommend([0], { k: 3, excludeSeen: false, allow: [3, 3, 3] }).indices)).toEqual([3, -1, -1]);
    model.dispose();
    const scorer = await createScorer({ quantize: 'int8', candidates: () => NaN });
    expect(
      (await rejected(() => scorer.topK(new Float32Array(16).fill(1), new Float32Array(64).fill(1), 16, 2))).message,
    ).toMatch(/candidates\(2\) must return an integer ≥ k, got NaN/);
    scorer.close();
  });

  it('configs: huge init, non-JSON values, cycles and wrong types are BAD_CONFIG', async () => {
    const base = idConfig(3, 4);
    expect((await rejected(() => createModel({ ...base, embeddingInitStd: 1e39 }))).code).toBe('BAD_CONFIG');
    const circular = { ...base } as TwoTowerConfig & { self?: unknown };
    circular.self = circular;
    expect((await rejected(() => createModel(circular))).message).toMatch(/config must be plain JSON data/);
    expect(
      (await rejected(() => createModel({ ...base, user: { ...base.user, hidden: '16' as unknown as number[] } }))).message,
    ).toMatch(/config.user.hidden must be a list/);
    expect((await rejected(() => createModel({ ...base, dim: (() => 8) as unknown as number }))).message).toMatch(
      /config.dim must be a positive integer/,
    );
  });

  it('garbage kernel bytes are LOAD_FAILED', async () => {
    const error = await rejected(() => createModel(idConfig(3, 4), { wasm: { bytes: Uint8Array.of(1, 2, 3, 4) } }));
    expect(error.code).toBe('LOAD_FAILED');
    expect(error.message).toMatch(/wasm.bytes is not a WebAssembly module/);
  });
});
