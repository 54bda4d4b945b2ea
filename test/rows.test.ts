// model.rows: the id verbs over row indices. Model's 0.1 row-index names stay for 0.2 as
// deprecated aliases: each still works, gives the same result bit for bit, and warns once.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { createModel, type Model } from '../src/index.js';

const users = 6,
  items = 9;

async function model(): Promise<Model> {
  const offsets = Int32Array.from({ length: users + 1 }, (_, u) => 2 * u);
  const ids = Int32Array.from({ length: 2 * users }, (_, i) => (i * 5) % items);
  const m = await createModel(
    {
      dim: 4,
      user: {
        features: [
          { kind: 'id', name: 'user', vocabSize: users, dim: 4 },
          { kind: 'multiHot', name: 'history', vocabSize: items, dim: 4 },
        ],
      },
      item: { features: [{ kind: 'id', name: 'item', vocabSize: items, dim: 4 }], project: false },
    },
    { userFeatures: { count: users, columns: { history: { offsets, ids } } } },
  );
  const u = Int32Array.of(0, 1, 2, 3, 4, 5, 0, 2),
    i = Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  m.fit({ users: u, items: i, ratings: Float32Array.from(u, (x, n) => 1 + ((x + n) % 5)) }, { epochs: 2, batchSize: 4, seed: 1 });
  return m;
}

const bits = (x: unknown): string =>
  JSON.stringify(x, (_, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));

afterEach(() => vi.restoreAllMocks());

describe('model.rows', () => {
  it('has the id verbs over rows, with the options and results of the id verbs', async () => {
    const m = await model();
    expect(Object.keys(m.rows).sort()).toEqual(
      [
        'evaluate',
        'evaluateRanking',
        'itemEmbeddings',
        'predict',
        'recommend',
        'recommendFromHistory',
        'similarItems',
        'userEmbeddings',
      ].sort(),
    );
    expect(m.rows.similarItems(2).indices).toHaveLength(10); // k 10 by default, padded with -1
    expect(m.rows.similarItems(2, { k: 3 }).indices).toHaveLength(3);
    expect(m.rows.predict([1], [2])[0]).toBe(m.predict(1, 2));
    expect(m.rows.evaluate({ users: Int32Array.of(1), items: Int32Array.of(2), ratings: Float32Array.of(3) })).toEqual(
      m.evaluate({ users: Int32Array.of(1), items: Int32Array.of(2), ratings: Float32Array.of(3) }),
    );
    expect(m.rows.userEmbeddings()).toHaveLength(users * m.dim);
    m.dispose();
  });

  it('the deprecated names give the same results as the new verbs and warn once each', async () => {
    const m = await model();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const test = { users: Int32Array.of(0, 1, 2), items: Int32Array.of(3, 4, 5) };
    const pairs: [string, () => unknown, () => unknown][] = [
      ['recommendIndices', () => m.recommendIndices([0, 1], { k: 3 }), () => m.rows.recommend([0, 1], { k: 3 })],
      [
        'recommendForHistoryIndices',
        () => m.recommendForHistoryIndices([[1, 2]], { k: 3 }),
        () => m.rows.recommendFromHistory([[1, 2]], { k: 3 }),
      ],
      ['similarIndices', () => m.similarIndices(2, 4), () => m.rows.similarItems(2, { k: 4 })],
      ['predictIndices', () => m.predictIndices([0, 1], [2, 3]), () => m.rows.predict([0, 1], [2, 3])],
      ['evaluateRanking', () => m.evaluateRanking(test, { ks: [2] }), () => m.rows.evaluateRanking(test, { ks: [2] })],
      ['userEmbeddings', () => m.userEmbeddings([1, 2]), () => m.rows.userEmbeddings([1, 2])],
      ['itemEmbeddings', () => m.itemEmbeddings(), () => m.rows.itemEmbeddings()],
    ];
    for (const [name, old, now] of pairs) {
      warn.mockClear();
      expect(bits(old()), name).toBe(bits(now()));
      expect(bits(old()), name).toBe(bits(now()));
      expect(warn, name).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(new RegExp(`model\\.${name}\\(\\) is deprecated.*model\\.rows\\.`));
    }
    m.dispose();
  });
});
