// Per-entity biases are tables of the id feature's vocabSize, indexed by the entity's row. An id
// feature that reads an id column lets a tower have more rows than that: a biased side would then
// read and write past its bias table (into the next parameter block). Such a feature table is
// refused (BAD_CONFIG, naming the side and the feature) wherever a model's table is set.
import { describe, it, expect } from 'vitest';
import { createModel, TwoTowerError, type TwoTowerConfig, type FeatureTable } from '../src/index.js';

const USERS = 3;
const ITEMS = 4;
function config(bias: { user?: boolean; item?: boolean }): TwoTowerConfig {
  return {
    dim: 2,
    user: { features: [{ kind: 'id', name: 'user', vocabSize: USERS, dim: 2 }], project: false },
    item: { features: [{ kind: 'id', name: 'item', vocabSize: ITEMS, dim: 2 }], project: false },
    bias: { global: true, ...bias },
    seed: 1,
  };
}
/** Six user rows reading the three user ids through an id column. */
const moreRows: FeatureTable = { count: 6, columns: { user: Int32Array.from([0, 1, 2, 0, 1, 2]) } };

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof TwoTowerError ? `${error.code}: ${error.message}` : String(error);
  }
  return undefined;
}

describe('per-entity biases and id columns', () => {
  it('a biased side whose id column gives more rows than vocabSize is refused (createModel and setUserFeatures)', async () => {
    await expect(createModel(config({ user: true }), { userFeatures: moreRows })).rejects.toThrow(/BAD_CONFIG|bias\.user/);
    const model = await createModel(config({ user: true, item: true }));
    const before = model.parameters();
    const message = code(() => model.setUserFeatures(moreRows));
    expect(message).toMatch(
      /^BAD_CONFIG: user features: config\.bias\.user keeps one bias per user row, 3 of them .*"user".* 6 rows/,
    );
    // Nothing changed: the model still has its 3 users and scores them.
    expect(model.userCount).toBe(USERS);
    expect(model.parameters()).toEqual(before);
    expect(Array.from(model.rows.predict([2], [3]))).toHaveLength(1);
    const item: FeatureTable = { count: 9, columns: { item: Int32Array.from({ length: 9 }, (_, r) => r % ITEMS) } };
    expect(code(() => model.setItemFeatures(item))).toMatch(
      /^BAD_CONFIG: item features: config\.bias\.item .* 4 of them .*"item".* 9 rows/,
    );
    model.dispose();
  });

  it('without a bias on that side, or with no more rows than vocabSize, an id column stays allowed', async () => {
    const unbiased = await createModel(config({ item: true }), { userFeatures: moreRows });
    expect(unbiased.userCount).toBe(6);
    // Rows 3…5 read ids 0…2: the same embeddings and scores.
    const s = unbiased.rows.predict([0, 1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1]);
    expect(Array.from(s.subarray(3))).toEqual(Array.from(s.subarray(0, 3)));
    unbiased.fit(
      { users: Int32Array.from([3, 4, 5]), items: Int32Array.from([0, 1, 2]), ratings: Float32Array.from([1, 2, 3]) },
      { epochs: 1 },
    );
    unbiased.dispose();
    const fewer = await createModel(config({ user: true }), {
      userFeatures: { count: 2, columns: { user: Int32Array.from([2, 0]) } },
    });
    expect(fewer.userCount).toBe(2);
    fewer.dispose();
  });

  it('fitting rows past the bias table is a typed error before any kernel runs (it was a wasm trap)', async () => {
    const model = await createModel(config({ user: true, item: true }));
    const before = model.parameters();
    let error: unknown;
    try {
      model.setUserFeatures(moreRows);
      const rows = { users: Int32Array.from([3, 4, 5]), items: Int32Array.from([0, 1, 2]) };
      model.fit({ ...rows, ratings: Float32Array.from([1, 2, 3]) }, { epochs: 1 });
    } catch (caught) {
      error = caught;
    }
    // Before the fix: RuntimeError "memory access out of bounds" from the bias gradient's scatter.
    expect(error).toBeInstanceOf(TwoTowerError);
    expect((error as TwoTowerError).code).toBe('BAD_CONFIG');
    expect((error as TwoTowerError).details).toEqual({ side: 'user', field: 'user', value: 6 });
    expect(model.parameters()).toEqual(before);
    model.dispose();
  });
});
