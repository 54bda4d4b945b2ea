// Bad input gets a TwoTowerError whose message names the problem (argument, index, value), and
// leaves the model exactly as it was: same parameters, same optimizer state.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createModel, TwoTowerError, type Model, type TwoTowerConfig } from '../src/index.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';

let model: Model;
let before: Record<string, Float32Array>;

beforeEach(async () => {
  model = await createModel(tinyConfig(), tinyFeatures());
  model.fit(tinyBatch(64, 1), { epochs: 1, batchSize: 16 });
  before = model.parameters();
});

afterEach(() => {
  model.dispose();
});

function expectRejected(run: () => unknown, code: string, message: RegExp): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error, 'should throw').toBeInstanceOf(TwoTowerError);
  expect((error as TwoTowerError).code).toBe(code);
  expect((error as TwoTowerError).message).toMatch(message);
  expect(model.parameters()).toEqual(before);
  expect(model.optimizerSteps).toBe(4);
}

describe('bad input to fit()', () => {
  it('mismatched lengths name both arrays', () => {
    const data = tinyBatch(10);
    expectRejected(
      () => model.fit({ ...data, ratings: data.ratings.subarray(0, 9) }),
      'DIMENSION_MISMATCH',
      /train\.ratings has 9 entries but train\.users has 10/,
    );
    expectRejected(
      () => model.fit({ ...data, items: data.items.subarray(0, 3) }),
      'DIMENSION_MISMATCH',
      /train\.items has 3 entries/,
    );
  });

  it.each([NaN, Infinity, -Infinity])('a %s target names its index', (bad) => {
    const data = tinyBatch(10);
    data.ratings[6] = bad;
    expectRejected(() => model.fit(data), 'BAD_INPUT', new RegExp(`train\\.ratings\\[6\\] is ${bad}`));
  });

  it('a non-finite validation target is caught before training starts', () => {
    const validation = tinyBatch(5);
    validation.ratings[2] = NaN;
    expectRejected(() => model.fit(tinyBatch(10), { validation }), 'BAD_INPUT', /options\.validation\.ratings\[2\] is NaN/);
  });

  it('empty data', () => {
    const empty = { users: new Int32Array(0), items: new Int32Array(0), ratings: new Float32Array(0) };
    expectRejected(() => model.fit(empty), 'EMPTY_DATA', /train is empty/);
  });

  it.each([0, -1, 2.5])('batch size %s', (batchSize) => {
    expectRejected(
      () => model.fit(tinyBatch(10), { batchSize }),
      'BAD_OPTION',
      new RegExp(`options\\.batchSize must be an integer ≥ 1, got ${batchSize}`),
    );
  });

  it('other bad options', () => {
    expectRejected(
      () => model.fit(tinyBatch(10), { learningRate: -1 }),
      'BAD_OPTION',
      /options\.learningRate must be > 0, got -1/,
    );
    expectRejected(() => model.fit(tinyBatch(10), { epochs: 0 }), 'BAD_OPTION', /options\.epochs/);
    expectRejected(() => model.fit(tinyBatch(10), { loss: 'hinge' as never }), 'BAD_OPTION', /unknown loss "hinge"/);
  });

  it('an index outside the model names its position and value', () => {
    const data = tinyBatch(10);
    data.users[4] = 7;
    expectRejected(
      () => model.fit(data),
      'OUT_OF_RANGE',
      /train\.users\[4\] = 7 is not a valid user index: the model has 7 users/,
    );
  });

  it('a diverging fit restores the parameters it started from', () => {
    expectRejected(
      () => model.fit(tinyBatch(200), { learningRate: 1e30, epochs: 3, batchSize: 10 }),
      'DIVERGED',
      /training diverged.*restored/,
    );
  });

  it('a throwing callback leaves the model as it was', () => {
    let error: unknown;
    try {
      model.fit(tinyBatch(50), {
        batchSize: 10,
        onBatchEnd: (b) => {
          if (b.batch === 3) throw new Error('stop');
        },
      });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toBe('stop');
    expect(model.parameters()).toEqual(before);
    expect(model.optimizerSteps).toBe(4);
  });
});

describe('bad features', () => {
  it('an unknown feature name lists the ones the tower reads', () => {
    const { itemFeatures } = tinyFeatures();
    expectRejected(
      () => model.setItemFeatures({ ...itemFeatures, columns: { ...itemFeatures.columns, colour: new Int32Array(9) } }),
      'UNKNOWN_FEATURE',
      /unknown feature name "colour" \(the item tower reads: item, tags, words, history\)/,
    );
  });

  it('a missing column, a wrong length, an out-of-range category', () => {
    const { userFeatures } = tinyFeatures();
    const columns = userFeatures.columns;
    expectRejected(
      () => model.setUserFeatures({ count: 7, columns: { group: columns.group!, seen: columns.seen! } }),
      'MISSING_FEATURE',
      /user feature "score": no column given/,
    );
    expectRejected(
      () => model.setUserFeatures({ count: 7, columns: { ...columns, score: new Float32Array(13) } }),
      'DIMENSION_MISMATCH',
      /user feature "score" has 13 values; expected 7 rows × size 2 = 14/,
    );
    expectRejected(
      () => model.setUserFeatures({ count: 7, columns: { ...columns, group: Int32Array.from([0, 1, 2, 3, 4, 0, 1]) } }),
      'OUT_OF_RANGE',
      /user feature "group"\[4\] = 4 is out of range \[0, 4\)/,
    );
    expectRejected(
      () => model.setUserFeatures({ count: 8, columns }),
      'DIMENSION_MISMATCH',
      /vocabSize 7 but the table has 8 rows/,
    );
  });

  it('a NaN numeric feature and non-monotone multi-hot offsets', () => {
    const { userFeatures, itemFeatures } = tinyFeatures();
    const score = Float32Array.from(userFeatures.columns.score as Float32Array);
    score[3] = NaN;
    expectRejected(
      () => model.setUserFeatures({ count: 7, columns: { ...userFeatures.columns, score } }),
      'BAD_INPUT',
      /user feature "score"\[3\] is NaN/,
    );
    const tags = { offsets: Int32Array.from([0, 1, 3, 2, 4, 6, 7, 8, 10, 11]), ids: new Int32Array(11) };
    expectRejected(
      () => model.setItemFeatures({ count: 9, columns: { ...itemFeatures.columns, tags } }),
      'BAD_INPUT',
      /offsets must not decrease: offsets\[3\] = 2 < offsets\[2\] = 3/,
    );
  });
});

describe('bad calls to predict() and createModel()', () => {
  it('predict with arrays of different lengths or unknown ids', () => {
    expectRejected(() => model.rows.predict([0, 1], [0]), 'DIMENSION_MISMATCH', /users has 2 entries but items has 1/);
    expectRejected(
      () => model.rows.predict([0, 1], [0, 9]),
      'OUT_OF_RANGE',
      /predict: items\[1\] = 9 is not a valid item index: the model has 9 items/,
    );
  });

  it('configs with mismatched dimensions or unknown kinds', async () => {
    const bad = (patch: (c: TwoTowerConfig) => void) => {
      const c = tinyConfig();
      patch(c);
      return createModel(c, tinyFeatures());
    };
    await expect(bad((c) => (c.dim = 0))).rejects.toThrow(/config\.dim must be a positive integer, got 0/);
    await expect(
      bad((c) => (c.user = { features: [{ kind: 'id', name: 'user', vocabSize: 7, dim: 3 }], project: false })),
    ).rejects.toThrow(/config\.user\.project is false, so its input width \(3\) must equal config\.dim \(5\)/);
    await expect(bad((c) => ((c.item.features[1] as { kind: string }).kind = 'image'))).rejects.toThrow(
      /config\.item\.features\[1\]\.kind/,
    );
    await expect(bad((c) => (c.user.hidden = [4, 0]))).rejects.toThrow(/config\.user\.hidden\[1\] must be a positive integer/);
  });

  it('a tower that reads features cannot run before they are set', async () => {
    const bare = await createModel(tinyConfig());
    expect(() => bare.rows.predict([0], [0])).toThrow(
      /the user tower reads features \(user, group, score, seen\) but none were set/,
    );
    bare.dispose();
  });
});
