// Sparse embedding training: lazy Adam updates only the rows a batch touched. Its kernel
// against the twin; on a first step it equals dense Adam exactly (untouched rows have zero
// gradient and zero moments, so dense Adam does not move them either); untouched rows keep
// their values and moments; the tables' gradients are zero after every step; determinism.
import { describe, it, expect } from 'vitest';
import { createModel, type TwoTowerConfig } from '../src/index.js';
import { wasmBuilds, Random, randomFloats, putFloats, putInts, getFloats, expectClose, f64, core } from './helpers.js';
import { adamRows } from '../src/reference/optimizers.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';

describe('adam_rows', () => {
  it('matches its twin on odd widths; untouched rows are bit-identical, touched gradient rows zeroed', async () => {
    const random = new Random(9);
    for (const be of await wasmBuilds()) {
      for (const dim of [1, 3, 4, 7, 17]) {
        const rowsN = 23;
        const rows = Int32Array.of(0, 5, 6, 22, 11);
        const [p, g, m, v] = [0, 1, 2, 3].map(() => randomFloats(random, rowsN * dim));
        const vv = Float32Array.from(v!, Math.abs);
        const ptrs = [p!, g!, m!, vv].map((a) => putFloats(be, a));
        const rp = putInts(be, rows);
        be.kernels.adam_rows(
          ptrs[0]!,
          ptrs[1]!,
          ptrs[2]!,
          ptrs[3]!,
          rp,
          rows.length,
          dim,
          0.01,
          0.9,
          0.999,
          1e-8,
          0.1,
          0.19,
          0.002,
        );
        const want = [p!, g!, m!, vv].map(f64);
        adamRows(want[0]!, want[1]!, want[2]!, want[3]!, rows, dim, 0.01, 0.9, 0.999, 1e-8, 0.1, 0.19, 0.002);
        ptrs.forEach((ptr, i) => expectClose(getFloats(be, ptr, rowsN * dim), want[i]!, 2e-6, 2e-5));
        const got = getFloats(be, ptrs[0]!, rowsN * dim);
        for (let r = 0; r < rowsN; r++) {
          if (rows.includes(r)) continue;
          for (let c = 0; c < dim; c++) expect(got[r * dim + c]).toBe(p![r * dim + c]);
        }
        for (const r of rows) for (let c = 0; c < dim; c++) expect(getFloats(be, ptrs[1]!, rowsN * dim)[r * dim + c]).toBe(0);
        [...ptrs, rp].forEach((ptr) => be.free(ptr));
      }
    }
  });
});

const idConfig: TwoTowerConfig = {
  dim: 4,
  seed: 6,
  user: { features: [{ kind: 'id', name: 'u', vocabSize: 30, dim: 4 }], hidden: [5] },
  item: { features: [{ kind: 'id', name: 'i', vocabSize: 40, dim: 4 }], hidden: [5] },
};
const data = {
  users: Int32Array.of(1, 2, 3, 4, 5, 6),
  items: Int32Array.of(7, 8, 9, 10, 11, 12),
  ratings: Float32Array.of(1, 2, 3, 4, 5, 1),
};

describe('lazy Adam on embedding tables', () => {
  it('a first step equals dense Adam exactly; untouched rows and their moments stay as they were', async () => {
    const lazy = await createModel(idConfig),
      dense = await createModel(idConfig);
    lazy.fit(data, { epochs: 1, batchSize: 6, shuffle: false, optimizers: { embeddings: 'lazyAdam' } });
    dense.fit(data, { epochs: 1, batchSize: 6, shuffle: false, optimizers: { embeddings: 'adam' } });
    expect(lazy.parameters()).toEqual(dense.parameters());
    // More steps: rows outside the batch never move under lazy Adam.
    const before = lazy.parameters()['user.u.embedding']!;
    lazy.fit(data, { epochs: 3, batchSize: 3, optimizers: { embeddings: 'lazyAdam' } });
    const after = lazy.parameters()['user.u.embedding']!;
    for (let r = 0; r < 30; r++) {
      const moved = after.subarray(r * 4, r * 4 + 4).some((x, c) => x !== before[r * 4 + c]);
      expect(moved, `row ${r}`).toBe(data.users.includes(r));
    }
    lazy.dispose();
    dense.dispose();
  });

  it("with every feature kind: the tables' gradients are zero after fit, training is deterministic and the loss falls", async () => {
    const make = () => createModel(tinyConfig(), tinyFeatures());
    const a = await make(),
      b = await make();
    const batch = tinyBatch(200, 3);
    const options = { epochs: 4, batchSize: 16, optimizers: { embeddings: 'lazyAdam' as const }, learningRate: 0.01 };
    const result = a.fit(batch, options);
    b.fit(batch, options);
    expect(a.parameters()).toEqual(b.parameters());
    expect(result.history.at(-1)!.loss).toBeLessThan(result.history[0]!.loss);
    const store = core(a).store;
    for (const group of store.groups.filter((g) => g.kind === 'embedding')) {
      expect(
        Array.from(store.grads(group.blocks[0]!)).every((x) => x === 0),
        group.name,
      ).toBe(true);
    }
    a.dispose();
    b.dispose();
  });

  it('is for embedding tables only', async () => {
    const model = await createModel(idConfig);
    expect(() => model.fit(data, { optimizers: { dense: 'lazyAdam' } })).toThrow(
      /options.optimizers.dense: 'lazyAdam' updates embedding rows; use it for embeddings/,
    );
    model.dispose();
  });
});
