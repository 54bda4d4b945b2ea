// Training on several threads: the in-batch softmax's matrix work split by rows over worker
// threads (src/train/row-split.ts). Each output row is computed by one thread in the one
// summation order, so a model trained on two threads has the same bits as one trained on one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createModel } from '../src/node/index.js';
import { ReferenceBackend } from '../src/index.js';
import type { TwoTowerConfig, FitOptions } from '../src/index.js';
import { wasmBuilds, Random, randomFloats, putFloats, getFloats } from './helpers.js';
import { SPLIT_TUNING } from '../src/model/row-split.js';

// These shapes are small: a real run would not split them (a share must hold ~2¹⁸ multiply-adds
// to pay). Split them anyway, so that every split path's bits are checked.
const shippedWork = SPLIT_TUNING.minWorkPerShare;
beforeAll(() => {
  SPLIT_TUNING.minWorkPerShare = 0;
});
afterAll(() => {
  SPLIT_TUNING.minWorkPerShare = shippedWork;
});

const config: TwoTowerConfig = {
  dim: 16,
  seed: 4,
  user: {
    features: [
      { kind: 'id', name: 'u', vocabSize: 300, dim: 8 },
      { kind: 'multiHot', name: 'seen', vocabSize: 200, dim: 8, pooling: 'mean' },
    ],
    hidden: [24],
  },
  item: { features: [{ kind: 'id', name: 'i', vocabSize: 200, dim: 8 }], hidden: [24] },
};

function data(seed: number) {
  const random = new Random(seed);
  const n = 3000;
  return {
    users: Int32Array.from({ length: n }, () => random.int(300)),
    items: Int32Array.from({ length: n }, () => Math.floor(200 * random.next() ** 2)),
    ratings: new Float32Array(n),
  };
}

function features() {
  const random = new Random(8);
  const offsets = new Int32Array(301);
  const ids: number[] = [];
  for (let u = 0; u < 300; u++) {
    const k = random.int(6);
    for (let j = 0; j < k; j++) ids.push(random.int(200));
    offsets[u + 1] = ids.length;
  }
  return { userFeatures: { count: 300, columns: { seen: { offsets, ids: Int32Array.from(ids) } } } };
}

describe('training on two threads', () => {
  it('gives the same bits as one thread (in-batch softmax, a multi-hot feature, hidden layers), and says how many threads it used', async () => {
    const options = { loss: 'softmax' as const, epochs: 2, batchSize: 256 };
    const one = await createModel(config, features());
    const two = await createModel(config, { ...features(), threads: 2 });
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    const a = one.fit(data(1), options);
    const b = two.fit(data(1), options);
    expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
    const pa = one.parameters(),
      pb = two.parameters();
    for (const name of Object.keys(pa)) expect(pb[name], name).toEqual(pa[name]);
    expect(b.history.at(-1)!.loss).toBeLessThan(b.history[0]!.loss);
    one.dispose();
    two.dispose();
  });

  /** One epoch of `options` on one thread and on two: the same losses and the same parameters, bit for bit. */
  async function expectSameBitsOnTwoThreads(options: FitOptions): Promise<void> {
    const one = await createModel(config, features());
    const two = await createModel(config, { ...features(), threads: 2 });
    const a = one.fit(data(3), options);
    const b = two.fit(data(3), options);
    expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
    expect(two.parameters()).toEqual(one.parameters());
    one.dispose();
    two.dispose();
  }

  it('gives the same bits as one thread with uniform negatives (a B × (B + M) softmax)', async () => {
    await expectSameBitsOnTwoThreads({ loss: 'softmax', epochs: 1, batchSize: 256, uniformNegatives: 37 });
  });

  it('gives the same bits as one thread with the cosine contrastive loss (ccl, uniform negatives)', async () => {
    for (const inBatchNegatives of [true, false])
      await expectSameBitsOnTwoThreads({ loss: 'ccl', epochs: 1, batchSize: 256, uniformNegatives: 37, inBatchNegatives });
  });

  it('gives the same bits as one thread with a pair loss (squared error, biases), and predicts alike', async () => {
    const withBias = { ...config, bias: { global: true, user: true, item: true } };
    const one = await createModel(withBias, features());
    const two = await createModel(withBias, { ...features(), threads: 2 });
    const d = data(2);
    const rated = { ...d, ratings: Float32Array.from(d.users, (u, i) => 1 + ((u + d.items[i]!) % 5)) };
    one.fit(rated, { epochs: 2, batchSize: 512 });
    two.fit(rated, { epochs: 2, batchSize: 512 });
    expect(two.parameters()).toEqual(one.parameters());
    expect(Array.from(two.rows.predict(d.users.subarray(0, 500), d.items.subarray(0, 500)))).toEqual(
      Array.from(one.rows.predict(d.users.subarray(0, 500), d.items.subarray(0, 500))),
    );
    one.dispose();
    two.dispose();
  });

  it('gives the same bits as one thread with wide multi-hot sets (bags and their gradient split over the threads, lazy Adam rows)', async () => {
    // dim 40: the gradient's 16-column blocks split 16+16 | 8 (the tail on the last thread); a
    // history that leaves the scored item out; weighted sum and mean pooling; every table on lazy Adam.
    const wide: TwoTowerConfig = {
      dim: 24,
      seed: 6,
      user: {
        features: [
          { kind: 'id', name: 'u', vocabSize: 300, dim: 40 },
          { kind: 'multiHot', name: 'seen', vocabSize: 200, dim: 40, pooling: 'sum', excludeScoredItem: true },
        ],
        hidden: [],
      },
      item: {
        features: [
          { kind: 'id', name: 'i', vocabSize: 200, dim: 32 },
          { kind: 'multiHot', name: 'tags', vocabSize: 50, dim: 48, pooling: 'mean' },
        ],
        hidden: [],
      },
      bias: { global: true, user: true, item: true },
    };
    const random = new Random(9);
    const bag = (count: number, vocab: number, most: number, weighted: boolean) => {
      const offsets = new Int32Array(count + 1);
      const ids: number[] = [];
      for (let e = 0; e < count; e++) {
        for (let j = random.int(most); j > 0; j--) ids.push(random.int(vocab));
        offsets[e + 1] = ids.length;
      }
      const weights = weighted ? Float32Array.from(ids, () => 0.5 + random.next()) : undefined;
      return { offsets, ids: Int32Array.from(ids), ...(weights ? { weights } : {}) };
    };
    const sides = {
      userFeatures: { count: 300, columns: { seen: bag(300, 200, 40, true) } },
      itemFeatures: { count: 200, columns: { tags: bag(200, 50, 6, false) } },
    };
    const d = data(5);
    const rated = { ...d, ratings: Float32Array.from(d.users, (u, i) => 1 + ((u + d.items[i]!) % 5)) };
    const one = await createModel(wide, sides);
    const two = await createModel(wide, { ...sides, threads: 2 });
    const a = one.fit(rated, { epochs: 2, batchSize: 256 });
    const b = two.fit(rated, { epochs: 2, batchSize: 256 });
    expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
    expect(two.parameters()).toEqual(one.parameters());
    one.dispose();
    two.dispose();
  });

  it('refuses thread counts it cannot honour, and a backend given with threads', async () => {
    await expect(createModel(config, { threads: 0 })).rejects.toThrow(/threads must be an integer from 1 to 64, got 0/);
    await expect(createModel(config, { threads: 1000 })).rejects.toThrow(/threads must be an integer from 1 to 64/);
    await expect(createModel(config, { threads: 2, backend: new ReferenceBackend() })).rejects.toThrow(
      /give threads or backend, not both/,
    );
  });
});

describe('row kernels split by rows with the same bits', () => {
  it('score_matrix, dense_forward, dense_backward_input and dense_backward_weight over row ranges equal one call', async () => {
    const random = new Random(12);
    for (const be of await wasmBuilds()) {
      for (const [rows, k, n] of [
        [37, 16, 29],
        [64, 33, 8],
        [9, 5, 70],
      ] as const) {
        const x = putFloats(be, randomFloats(random, rows * k)),
          w = putFloats(be, randomFloats(random, k * n)),
          v = putFloats(be, randomFloats(random, n * k));
        const whole = be.alloc(rows * n * 4),
          split = be.alloc(rows * n * 4);
        const cut = 4 * Math.floor(rows / 8);
        for (const [kernel, make] of [
          [
            'dense_forward',
            (out: number, r: number, m: number) => be.kernels.dense_forward(out + r * n * 4, x + r * k * 4, w, 0, m, k, n),
          ],
          [
            'score_matrix',
            (out: number, r: number, m: number) => be.kernels.score_matrix(out + r * n * 4, x + r * k * 4, v, m, n, k),
          ],
        ] as const) {
          make(whole, 0, rows);
          make(split, 0, cut);
          make(split, cut, rows - cut);
          expect(getFloats(be, split, rows * n), `${be.kind} ${kernel} ${rows}×${k}×${n}`).toEqual(
            getFloats(be, whole, rows * n),
          );
        }
        // dense_backward_weight: dW[k × n] = Xᵀ·dY, its rows (X's columns) in two ranges.
        const dy = putFloats(be, randomFloats(random, rows * n));
        const dwWhole = be.alloc(k * n * 4),
          dwSplit = be.alloc(k * n * 4);
        be.kernels.dense_backward_weight(dwWhole, x, dy, rows, k, n, k, 0);
        const p = 4 * Math.floor(k / 8);
        be.kernels.dense_backward_weight(dwSplit, x, dy, rows, p, n, k, 0);
        be.kernels.dense_backward_weight(dwSplit + p * n * 4, x + p * 4, dy, rows, k - p, n, k, 0);
        expect(getFloats(be, dwSplit, k * n), `${be.kind} dense_backward_weight ${rows}×${k}×${n}`).toEqual(
          getFloats(be, dwWhole, k * n),
        );
        [x, w, v, whole, split, dy, dwWhole, dwSplit].forEach((ptr) => be.free(ptr));
      }
    }
  });

  it('touch_rows and touch_bag_rows list each touched row once, in first-touch order, as their reference twins do', async () => {
    const random = new Random(14);
    const [entities, vocab, n] = [40, 25, 30];
    const counts = Array.from({ length: entities }, () => random.int(7));
    const offsets = Int32Array.from([0, ...counts.map((_, i) => counts.slice(0, i + 1).reduce((x, y) => x + y, 0))]);
    const ids = Int32Array.from({ length: offsets[entities]! }, () => random.int(vocab));
    const column = Int32Array.from({ length: entities }, () => random.int(vocab));
    const rows = Int32Array.from({ length: n }, () => random.int(entities));
    // What the kernels must give: a Set keeps first-insertion order.
    const expected = (stamped: number[]) => {
      const seen = new Set<number>();
      for (const e of rows) for (let q = offsets[e]!; q < offsets[e + 1]!; q++) seen.add(ids[q]!);
      for (const e of rows) seen.add(column[e]!);
      for (const e of rows) if (e < vocab) seen.add(e);
      return [...seen].filter((row) => !stamped.includes(row));
    };
    for (const be of [...(await wasmBuilds()), new ReferenceBackend()]) {
      const put = (a: Int32Array) => {
        const p = be.alloc(a.length * 4 + 4);
        be.ints(p, a.length).set(a);
        return p;
      };
      const [po, pi, pc] = [put(offsets), put(ids), put(column)];
      const small = rows.filter((e) => e < vocab);
      const [pr, ps] = [put(rows), put(small)];
      const stamps = put(new Int32Array(vocab));
      be.ints(stamps, vocab)[3] = 7; // row 3 already listed by this batch (stamp 7)
      const list = be.alloc(4 * (ids.length + 2 * n));
      let count = be.kernels.touch_bag_rows(list, stamps, 7, po, pi, pr, n, 0);
      count = be.kernels.touch_rows(list, stamps, 7, pc, pr, n, count);
      count = be.kernels.touch_rows(list, stamps, 7, 0, ps, small.length, count);
      expect(Array.from(be.ints(list, count)), be.kind).toEqual(expected([3]));
      expect(Array.from(be.ints(stamps, vocab)).filter((s) => s === 7).length, be.kind).toBe(count + 1);
      [po, pi, pc, pr, ps, stamps, list].forEach((ptr) => be.free(ptr));
    }
  });

  it('embedding_bag_scatter_add_cols over 16-column blocks equals embedding_bag_scatter_add (the reference twin too)', async () => {
    const random = new Random(13);
    for (const be of [...(await wasmBuilds()), new ReferenceBackend()]) {
      for (const dim of [16, 37, 64]) {
        const [n, vocab, ld] = [23, 30, dim + 3];
        const counts = Array.from({ length: n }, () => random.int(9));
        const offsets = Int32Array.from([0, ...counts.map((_, i) => counts.slice(0, i + 1).reduce((x, y) => x + y, 0))]);
        const ids = Int32Array.from({ length: offsets[n]! }, () => random.int(vocab));
        const put = (a: Int32Array) => {
          const p = be.alloc(a.length * 4 + 4);
          be.ints(p, a.length).set(a);
          return p;
        };
        const [po, pi, rows] = [put(offsets), put(ids), put(Int32Array.from({ length: n }, (_, r) => r))];
        const skip = put(Int32Array.from({ length: n }, () => random.int(vocab)));
        const weights = putFloats(be, randomFloats(random, ids.length + 1));
        const dout = putFloats(be, randomFloats(random, n * ld));
        const start = randomFloats(random, vocab * dim);
        const whole = putFloats(be, start),
          split = putFloats(be, start);
        be.kernels.embedding_bag_scatter_add(whole, dout, po, pi, weights, rows, skip, 0, n, dim, ld, 1);
        const blocks = Math.ceil(dim / 16);
        for (let b = blocks - 1; b >= 0; b--) {
          const c1 = Math.min(dim, 16 * (b + 1));
          be.kernels.embedding_bag_scatter_add_cols(split, dout, po, pi, weights, rows, skip, 0, n, dim, ld, 1, 16 * b, c1);
        }
        expect(getFloats(be, split, vocab * dim), `${be.kind} dim ${dim}`).toEqual(getFloats(be, whole, vocab * dim));
        [po, pi, rows, skip, weights, dout, whole, split].forEach((ptr) => be.free(ptr));
      }
    }
  });
});
