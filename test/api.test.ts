// The public surface: a Model exposes its documented members only (the core behind it is out of
// reach), changes go through methods that keep derived data valid, every error is a
// TwoTowerError with a code from the documented table, and parameter groups take their own
// optimizers.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createModel, generateSynthetic, Model, TwoTowerError, ERROR_CODES, type TwoTowerConfig } from '../src/index.js';
import { core } from './helpers.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';

const ROOT = resolve(import.meta.dirname, '..');

function idConfig(): TwoTowerConfig {
  return {
    dim: 4,
    seed: 2,
    user: { features: [{ kind: 'id', name: 'u', vocabSize: 20, dim: 4 }], hidden: [6] },
    item: { features: [{ kind: 'id', name: 'i', vocabSize: 30, dim: 4 }], hidden: [6] },
    bias: { item: true },
  };
}

describe('the public Model', () => {
  it('has no reachable internals: no store, scratch, caches or revision counter', async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    const members = new Set<string>([...Object.keys(model), ...Object.getOwnPropertyNames(Model.prototype)]);
    for (const internal of [
      'store',
      'pairs',
      'caches',
      'revision',
      'backend',
      'userTower',
      'itemTower',
      'bias',
      'seen',
      'stagePairs',
      'forwardPairs',
      'ensureReady',
    ]) {
      expect(members.has(internal), internal).toBe(false);
      expect((model as unknown as Record<string, unknown>)[internal], internal).toBeUndefined();
    }
    expect(() => new (Model as unknown as new () => Model)()).toThrow();
    model.dispose();
  });

  it('the shipped declarations do not mention the core (stripInternal) and Model has a private constructor', () => {
    const dts = readFileSync(resolve(ROOT, 'dist/api/model.d.ts'), 'utf8');
    expect(dts).not.toMatch(/internals|TwoTower\b/);
    expect(dts).toMatch(/private constructor/);
  });

  it('setParameters validates every block before writing any, and recommend sees the new values', async () => {
    const model = await createModel(idConfig());
    const data = generateSynthetic({ users: 20, items: 30, ratingsPerUser: 10, seed: 1 });
    model.fit(
      { users: data.train.users.map((u) => u % 20), items: data.train.items.map((i) => i % 30), ratings: data.train.ratings },
      { epochs: 1 },
    );
    const first = model.rows.recommend([0, 1], { k: 5, excludeSeen: false });
    const params = model.parameters();
    const before = model.parameters();
    expect(() => model.setParameters({ 'bias.item': new Float32Array(30), 'user.dense0.weight': new Float32Array(3) })).toThrow(
      TwoTowerError,
    );
    expect(() => model.setParameters({ 'bias.item': Float32Array.of(NaN, ...new Float32Array(29)) })).toThrow(
      /bias.item\[0\] is NaN/,
    );
    expect(() => model.setParameters({ nope: [] })).toThrow(/unknown parameter block "nope"/);
    expect(model.parameters()).toEqual(before);
    // Lift item 29 far above every other item: the next recommend must put it first.
    const bias = params['bias.item']!;
    bias[29] = 1000;
    model.setParameters({ 'bias.item': bias });
    const after = model.rows.recommend([0, 1], { k: 5, excludeSeen: false });
    expect(after.indices[0]).toBe(29);
    expect(after.indices[5]).toBe(29);
    expect(after).not.toEqual(first);
    model.dispose();
  });

  it('every error code thrown by src/ is in ERROR_CODES, and docs/errors.md documents each one', () => {
    const table = readFileSync(resolve(ROOT, 'docs/errors.md'), 'utf8');
    for (const code of ERROR_CODES) expect(table, code).toMatch(new RegExp(`\\| \`${code}\` \\|`));
    const thrown = new Set<string>();
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    for (const file of walk(resolve(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:fail|TwoTowerError)\(\s*'([A-Z_]+)'/g)) thrown.add(m[1]!);
    }
    expect([...thrown].filter((c) => !(ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
    expect(thrown.size).toBeGreaterThan(15);
  });

  it('the worker pool and kernel aborts report TwoTowerErrors, not plain Errors', () => {
    const pool =
      readFileSync(resolve(ROOT, 'src/wasm/pool.ts'), 'utf8') + readFileSync(resolve(ROOT, 'src/wasm/load.ts'), 'utf8');
    expect(pool).not.toMatch(/throw new Error\(/);
  });
});

describe('optimizers per parameter group', () => {
  it('embedding tables on SGD, dense layers and biases on Adam: each group moves by its own rule', async () => {
    const model = await createModel(idConfig());
    const data = { users: Int32Array.of(0, 1, 2, 3), items: Int32Array.of(0, 1, 2, 3), ratings: Float32Array.of(1, 2, 3, 4) };
    const c = core(model);
    const before = model.parameters();
    model.fit(data, {
      epochs: 1,
      batchSize: 4,
      shuffle: false,
      learningRate: 0.01,
      optimizers: { embeddings: { name: 'sgd', learningRate: 0.5 } },
    });
    const after = model.parameters();
    // SGD keeps no state: the embedding tables have none. Adam's groups have moments.
    const group = (name: string) => c.store.groups.find((g) => g.blocks.includes(c.store.find(name)!))!;
    expect(c.store.stateOf(group('user.u.embedding'))).toEqual([]);
    const dense = c.store.stateOf(group('user.dense0.weight'));
    expect(dense).toHaveLength(2);
    expect(Array.from(c.backend.floats(dense[0]!.ptr, dense[0]!.floats)).some((x) => x !== 0)).toBe(true);
    // One SGD step of 0.5 on a table: Δ = −0.5·g, so rows the batch never touched do not move.
    const moved = (name: string, row: number, dim: number) =>
      after[name]!.subarray(row * dim, row * dim + dim).some((x, i) => x !== before[name]![row * dim + i]);
    expect(moved('user.u.embedding', 0, 4)).toBe(true);
    expect(moved('user.u.embedding', 10, 4)).toBe(false);
    // The same fit with Adam everywhere moves a touched table row by about lr (Adam's first step is ±lr per weight).
    const adamModel = await createModel(idConfig());
    adamModel.fit(data, { epochs: 1, batchSize: 4, shuffle: false, learningRate: 0.01 });
    const adamStep = Math.abs(adamModel.parameters()['user.u.embedding']![0]! - before['user.u.embedding']![0]!);
    expect(adamStep).toBeCloseTo(0.01, 4);
    const sgdStep = Math.abs(after['user.u.embedding']![0]! - before['user.u.embedding']![0]!);
    expect(sgdStep).not.toBeCloseTo(0.01, 4);
    model.dispose();
    adamModel.dispose();
  });

  it('unknown optimizers and group kinds are refused by name', async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    const batch = tinyBatch(20);
    expect(() => model.fit(batch, { optimizers: { embeddings: 'lion' as 'adam' } })).toThrow(
      /options.optimizers.embeddings: unknown optimizer "lion"; available: adam, sgd/,
    );
    expect(() => model.fit(batch, { optimizers: { tables: 'sgd' } as never })).toThrow(
      /options.optimizers.tables: unknown group kind/,
    );
    expect(() => model.fit(batch, { optimizers: { dense: { name: 'sgd', learningRate: -1 } } })).toThrow(
      /learningRate must be > 0/,
    );
    model.dispose();
  });

  it('the parameter groups cover the store, their blocks contiguous and aligned: dense, each embedding table, each bias table', async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    const { groups, total } = core(model).store;
    let sum = 0;
    for (const g of groups) {
      let offset = 0;
      for (const b of g.blocks) {
        expect(b.offset).toBe(offset);
        offset += Math.ceil(b.size / 4) * 4;
      }
      expect(g.size).toBe(Math.max(4, offset));
      expect(g.rows).toBe(g.kind === 'dense' ? 0 : g.blocks[0]!.shape[0]);
      sum += g.size;
    }
    expect(sum).toBe(total);
    expect(groups.map((g) => `${g.kind}:${g.name}`)).toEqual([
      'embedding:user.user.embedding',
      'embedding:user.group.embedding',
      'embedding:user.seen.embedding',
      'dense:dense',
      'embedding:item.item.embedding',
      'embedding:item.tags.embedding',
      'embedding:item.words.embedding',
      'embedding:item.history.embedding',
      'bias:bias.user',
      'bias:bias.item',
    ]);
    model.dispose();
  });
});
