// Sparse table training: lazy Adam and row-wise Adagrad update only the rows a batch touched,
// from a compact gradient (only those rows, numbered through a row map). The kernels against
// their twins; a compact gradient holds exactly the touched rows of the full one; on a first
// step lazy Adam equals dense Adam exactly (untouched rows have zero gradient and zero moments,
// so dense Adam does not move them either); untouched rows keep their values and state;
// optimizer state is as large as each optimizer says; determinism.
import { describe, it, expect } from 'vitest';
import { createModel, type TwoTowerConfig } from '../src/index.js';
import { wasmBuilds, Random, randomFloats, putFloats, putInts, getFloats, expectClose, f64, core } from './helpers.js';
import { adamRows, adagradRows } from '../src/reference/optimizers.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';
import { lossAndGradients } from '../src/train/step.js';
import { squaredError } from '../src/train/losses/mse.js';
import { TouchedRows } from '../src/train/touched-rows.js';

describe('adam_rows and adagrad_rows', () => {
  it('match their twins on odd widths; untouched rows and their state are bit-identical', async () => {
    const random = new Random(9);
    for (const be of await wasmBuilds()) {
      for (const dim of [1, 3, 4, 7, 17]) {
        const rowsN = 23;
        const rows = Int32Array.of(0, 5, 6, 22, 11);
        // The compact gradient: one row per listed table row.
        const g = randomFloats(random, rows.length * dim);
        const [p, m, v] = [0, 1, 2].map(() => randomFloats(random, rowsN * dim));
        const vv = Float32Array.from(v!, Math.abs);
        const ptrs = [p!, g, m!, vv].map((a) => putFloats(be, a));
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
        const want = [p!, g, m!, vv].map(f64);
        adamRows(want[0]!, want[1]!, want[2]!, want[3]!, rows, dim, 0.01, 0.9, 0.999, 1e-8, 0.1, 0.19, 0.002);
        [0, 2, 3].forEach((i) => expectClose(getFloats(be, ptrs[i]!, rowsN * dim), want[i]!, 2e-6, 2e-5));
        const got = getFloats(be, ptrs[0]!, rowsN * dim),
          gotM = getFloats(be, ptrs[2]!, rowsN * dim);
        for (let r = 0; r < rowsN; r++) {
          if (rows.includes(r)) continue;
          for (let c = 0; c < dim; c++) {
            expect(got[r * dim + c]).toBe(p![r * dim + c]);
            expect(gotM[r * dim + c]).toBe(m![r * dim + c]);
          }
        }
        // Row-wise Adagrad: one accumulator per table row.
        const acc = Float32Array.from({ length: rowsN }, () => random.next());
        const pa = putFloats(be, p!),
          accPtr = putFloats(be, acc);
        be.kernels.adagrad_rows(pa, ptrs[1]!, accPtr, rp, rows.length, dim, 0.05, 1e-8, 0.1);
        const wantP = f64(p!),
          wantAcc = f64(acc);
        adagradRows(wantP, f64(g), wantAcc, rows, dim, 0.05, 1e-8, 0.1);
        expectClose(getFloats(be, pa, rowsN * dim), wantP, 2e-6, 2e-5);
        expectClose(getFloats(be, accPtr, rowsN), wantAcc, 2e-6, 2e-5);
        const gotP = getFloats(be, pa, rowsN * dim),
          gotAcc = getFloats(be, accPtr, rowsN);
        for (let r = 0; r < rowsN; r++) {
          if (rows.includes(r)) continue;
          expect(gotAcc[r]).toBe(acc[r]);
          for (let c = 0; c < dim; c++) expect(gotP[r * dim + c]).toBe(p![r * dim + c]);
        }
        [...ptrs, rp, pa, accPtr].forEach((ptr) => be.free(ptr));
      }
    }
  });
});

describe('compact gradients', () => {
  it('hold exactly the rows of the full gradient a batch touches, for every feature kind and the bias tables', async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    const c = core(model);
    const batch = tinyBatch(40, 5);
    const n = c.stagePairs(batch.users, batch.items, batch.ratings);
    const tables = c.store.groups.filter((g) => g.rows > 0);
    expect(tables.map((g) => g.kind)).toContain('bias');
    c.store.useGradients();
    const full = lossAndGradients(c, n, squaredError);
    const fullGrads = new Map(tables.map((g) => [g, Float64Array.from(c.store.grads(g.blocks[0]!))]));
    c.store.useGradients((g) => g.rows > 0);
    const compact = lossAndGradients(c, n, squaredError);
    expect(compact).toBe(full);
    for (const g of tables) {
      const { ptr, count } = TouchedRows.of(c).rows(g);
      const rows = Array.from(c.backend.ints(ptr, count));
      expect(new Set(rows).size, g.name).toBe(count);
      const grads = c.backend.floats(c.store.groupPointers(g).grads, count * g.width);
      const want = fullGrads.get(g)!;
      rows.forEach((row, i) => {
        for (let k = 0; k < g.width; k++) expect(grads[i * g.width + k], `${g.name}[${row}]`).toBe(want[row * g.width + k]);
      });
      // Every row the batch did not touch has a zero gradient in the full one.
      for (let row = 0; row < g.rows; row++)
        if (!rows.includes(row)) for (let k = 0; k < g.width; k++) expect(want[row * g.width + k]).toBe(0);
    }
    model.dispose();
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

  it('with every feature kind: a first step equals dense Adam; training is deterministic, the loss falls, gradients are freed after fit', async () => {
    const make = () => createModel(tinyConfig(), tinyFeatures());
    const batch = tinyBatch(200, 3);
    const [lazy, dense] = [await make(), await make()];
    const once = { epochs: 1, batchSize: 200, shuffle: false, learningRate: 0.01 };
    lazy.fit(batch, once);
    dense.fit(batch, { ...once, optimizers: { embeddings: 'adam', biases: 'adam' } });
    expect(lazy.parameters()).toEqual(dense.parameters());
    const [a, b] = [await make(), await make()];
    const options = { epochs: 4, batchSize: 16, learningRate: 0.01 };
    const result = a.fit(batch, options);
    b.fit(batch, options);
    expect(a.parameters()).toEqual(b.parameters());
    expect(result.history.at(-1)!.loss).toBeLessThan(result.history[0]!.loss);
    expect(core(a).store.bytes().gradients).toBe(0);
    [lazy, dense, a, b].forEach((m) => m.dispose());
  });

  it('is for tables only', async () => {
    const model = await createModel(idConfig);
    for (const name of ['lazyAdam', 'rowwiseAdagrad'] as const)
      expect(() => model.fit(data, { optimizers: { dense: name } })).toThrow(
        new RegExp(`options.optimizers.dense: '${name}' updates table rows; use it for embeddings or biases`),
      );
    model.dispose();
  });
});

describe('row-wise Adagrad', () => {
  it('keeps one accumulator per table row, trains deterministically, and leaves untouched rows alone', async () => {
    const options = { epochs: 3, batchSize: 3, optimizers: { embeddings: 'rowwiseAdagrad' as const } };
    const [a, b] = [await createModel(idConfig), await createModel(idConfig)];
    const before = a.parameters()['user.u.embedding']!;
    const result = a.fit(data, options);
    b.fit(data, options);
    expect(a.parameters()).toEqual(b.parameters());
    expect(result.history.at(-1)!.loss).toBeLessThan(result.history[0]!.loss);
    const store = core(a).store;
    const table = store.groups.find((g) => g.name === 'user.u.embedding')!;
    expect(store.stateOf(table).map((s) => s.floats)).toEqual([30]);
    const acc = core(a).backend.floats(store.stateOf(table)[0]!.ptr, 30);
    const after = a.parameters()['user.u.embedding']!;
    for (let r = 0; r < 30; r++) {
      const used = data.users.includes(r);
      expect(acc[r]! > 0, `row ${r}`).toBe(used);
      expect(
        after.subarray(r * 4, r * 4 + 4).some((x, c) => x !== before[r * 4 + c]),
        `row ${r}`,
      ).toBe(used);
    }
    a.dispose();
    b.dispose();
  });
});

describe('memory plans', () => {
  it('modelMemory counts values, and training state by optimizer: Adam 8 bytes a parameter, row-wise Adagrad 4 a row', async () => {
    const { modelMemory } = await import('../src/index.js');
    const config: TwoTowerConfig = {
      dim: 8,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: 1000, dim: 8 }] },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: 500, dim: 8 }] },
    };
    const adam = modelMemory(config);
    // The tables, and the dense group: each tower's 8 → 8 output layer (64 weights + 8 biases).
    const tables = 1500 * 8,
      dense = 2 * 72;
    expect(adam.parameters).toBe(tables + dense);
    expect(adam.bytes).toBe(4 * (tables + dense));
    expect(adam.training.optimizerState).toBe(2 * adam.bytes);
    const adagrad = modelMemory(config, { optimizers: { embeddings: 'rowwiseAdagrad' } });
    expect(adagrad.training.optimizerState).toBe(4 * 1500 + 8 * dense);
    // Sparse optimizers' gradients: a row map (4 bytes a row) and one batch's rows; the dense group's in full.
    expect(adagrad.training.gradients).toBe(4 * 1500 + 2 * 256 * 8 * 4 + 4 * dense);
  });

  it('fit refuses, before allocating, what memoryLimit cannot hold, and names the remedies; the model is unchanged', async () => {
    const model = await createModel(idConfig);
    const before = model.parameters();
    const held = model.memory().liveBytes;
    expect(() => model.fit(data, { memoryLimit: held + 100 })).toThrow(
      /fit\(\) needs .* over options.memoryLimit of .*rowwiseAdagrad/,
    );
    expect(model.parameters()).toEqual(before);
    expect(model.memory().liveBytes).toBe(held);
    expect(() => model.fit(data, { memoryLimit: -1 })).toThrow(/options.memoryLimit must be a number of bytes > 0/);
    model.dispose();
  });
});
