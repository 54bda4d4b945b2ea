// Tied pooling (graph-aware towers, issue 23: 4): a multi-hot interaction set with `tied: true`
// pools the other tower's own id embeddings (one hop of LightGCN's propagation), and one with
// `tokens: 'self'` its own tower's (two hops); one table, read by two features, trained by both
// and saved once. Properties checked here:
//   - graphColumns gives LightGCN's symmetric weights 1/√(|N(u)|·|N(i)|) and two-hop weights Σ_i w_ui w_iu';
//   - the towers compute W·[e_u; Σ w_ui e_i; Σ w_uu' e_u'] + b from the shared tables, for every user and item,
//     and with combine: 'sum' and no projection LightGCN's e_u + Σ w_ui e_i + Σ w_uu' e_u' (finite
//     differences, ONNX and exact explanations for that form too);
//   - the model's gradient matches central finite differences (f64 reference), the shared table
//     getting the contributions of both its readers, and lazy Adam's first step equals Adam's;
//   - model files round-trip bit-exact with the shared table saved once;
//   - update() grows the shared tables and recomputes the symmetric weights;
//   - ONNX Runtime computes the package's embeddings from the exported towers;
//   - bad configs fail with BAD_CONFIG naming the field.
import { describe, it, expect } from 'vitest';
import { createModel, loadModel, ReferenceBackend, type Model, type TwoTowerConfig } from '../src/index.js';
import type { MultiHotColumn } from '../src/config/feature-table.js';
import { graphColumns } from '../src/data/graph-columns.js';
import { squaredError } from '../src/train/losses/mse.js';
import { lossAndGradients } from '../src/train/step.js';
import { core, expectClose } from './helpers.js';
import { expectOnnxTowerMatches } from './onnx-session.js';
import { Random } from '../src/util/random.js';
import { Vocabulary } from '../src/data/vocabulary.js';
import { explainPairs } from '../src/rank/explain.js';

const USERS = 7;
const ITEMS = 9;
const D = 4;

/** Distinct-ish random interactions with every user and item in at least one. */
function interactions(seed = 1) {
  const random = new Random(seed);
  const users: number[] = [];
  const items: number[] = [];
  const add = (u: number, i: number) => {
    users.push(u);
    items.push(i);
  };
  for (let u = 0; u < USERS; u++) add(u, u % ITEMS);
  for (let i = 0; i < ITEMS; i++) add(i % USERS, i);
  for (let k = 0; k < 20; k++) add(random.int(USERS), random.int(ITEMS));
  const ratings = users.map(() => 1 + random.int(5));
  return { users: Int32Array.from(users), items: Int32Array.from(items), ratings: Float32Array.from(ratings) };
}

function tiedConfig(twoHop = true, sum = false): TwoTowerConfig {
  const towers = sum ? { combine: 'sum' as const, project: false } : {};
  return {
    dim: D,
    user: {
      features: [
        { kind: 'id', name: 'user', vocabSize: USERS, dim: D },
        {
          kind: 'multiHot',
          name: 'history',
          vocabSize: ITEMS,
          dim: D,
          pooling: 'sum',
          tied: true,
          interactions: { weighting: 'symmetric' },
        },
        ...(twoHop
          ? [
              {
                kind: 'multiHot' as const,
                name: 'near',
                vocabSize: USERS,
                dim: D,
                pooling: 'sum' as const,
                tied: true,
                tokens: 'self' as const,
              },
            ]
          : []),
      ],
      ...towers,
    },
    item: {
      features: [
        { kind: 'id', name: 'item', vocabSize: ITEMS, dim: D },
        {
          kind: 'multiHot',
          name: 'raters',
          vocabSize: USERS,
          dim: D,
          pooling: 'sum',
          tied: true,
          interactions: { weighting: 'symmetric' },
        },
      ],
      ...towers,
    },
    bias: { user: true, item: true },
    seed: 4,
    embeddingInitStd: 0.3,
  };
}

function tables(twoHop = true) {
  const g = graphColumns(interactions(), { users: USERS, items: ITEMS }, { twoHop: true });
  const user: Record<string, MultiHotColumn> = { history: g.userItems };
  if (twoHop) user.near = g.userUsers!;
  return {
    userFeatures: { count: USERS, columns: user },
    itemFeatures: { count: ITEMS, columns: { raters: g.itemUsers } },
  };
}

async function tiedModel(reference = false, twoHop = true, sum = false): Promise<Model> {
  return createModel(tiedConfig(twoHop, sum), { ...(reference ? { backend: new ReferenceBackend() } : {}), ...tables(twoHop) });
}

/** Row r of a weighted bag pooled (sum) from a row-major table of width D, in f64. */
function pool(column: MultiHotColumn, r: number, table: ArrayLike<number>): number[] {
  const out = new Array<number>(D).fill(0);
  for (let q = column.offsets[r]!; q < column.offsets[r + 1]!; q++)
    for (let c = 0; c < D; c++) out[c]! += column.weights![q]! * table[column.ids[q]! * D + c]!;
  return out;
}

/** x·W + b for a row x, W [in, out] row-major. */
function linear(x: number[], w: ArrayLike<number>, b: ArrayLike<number>): number[] {
  return Array.from({ length: b.length }, (_, o) => x.reduce((s, v, i) => s + v * w[i * b.length + o]!, b[o]!));
}

describe('graphColumns', () => {
  it("gives LightGCN's one-hop weights 1/√(|N(u)|·|N(i)|) over distinct pairs and two-hop weights Σ_i w_ui·w_iu'", () => {
    // Users 0: {0, 1}, 1: {1}, 2: {} ; items 0: {0}, 1: {0, 1}, 2: {} (a repeated pair counts once).
    const g = graphColumns({ users: [0, 0, 1, 0], items: [0, 1, 1, 1] }, { users: 3, items: 3 }, { twoHop: true });
    expect(Array.from(g.userItems.offsets)).toEqual([0, 2, 3, 3]);
    expect(Array.from(g.userItems.ids)).toEqual([0, 1, 1]);
    expectClose(Array.from(g.userItems.weights!), [1 / Math.sqrt(2), 1 / 2, 1 / Math.sqrt(2)], 1e-7, 0);
    expect(Array.from(g.itemUsers.ids)).toEqual([0, 0, 1]);
    expectClose(Array.from(g.itemUsers.weights!), [1 / Math.sqrt(2), 1 / 2, 1 / Math.sqrt(2)], 1e-7, 0);
    // u0 → u0: ½ (via 0) + ¼ (via 1); u0 → u1: ½·(1/√2); u1 → u1: ½.
    expect(Array.from(g.userUsers!.ids)).toEqual([0, 1, 0, 1]);
    expectClose(Array.from(g.userUsers!.weights!), [0.75, 0.5 / Math.sqrt(2), 0.5 / Math.sqrt(2), 0.5], 1e-7, 0);
    // The heaviest neighbour only.
    const top = graphColumns(
      { users: [0, 0, 1, 0], items: [0, 1, 1, 1] },
      { users: 3, items: 3 },
      { twoHop: true, twoHopLimit: 1 },
    );
    expect(Array.from(top.userUsers!.ids)).toEqual([0, 1]);
    expect(() => graphColumns({ users: [0], items: [3] }, { users: 3, items: 3 })).toThrow(/outside 3 users × 3 items/);
  });
});

describe('tied pooling', () => {
  it('declares one table per side, read by both towers: the towers compute W·[e_u; Σ w e_i; Σ w e_u′] + b for every row', async () => {
    const model = await tiedModel();
    const p = model.parameters();
    expect(Object.keys(p).sort()).toEqual(
      [
        'bias.item',
        'bias.user',
        'item.dense0.bias',
        'item.dense0.weight',
        'item.item.embedding',
        'user.dense0.bias',
        'user.dense0.weight',
        'user.user.embedding',
      ].sort(),
    );
    const t = tables();
    const [U, I] = [p['user.user.embedding']!, p['item.item.embedding']!];
    const users = model.rows.userEmbeddings();
    for (let u = 0; u < USERS; u++) {
      const x = [
        ...Array.from(U.subarray(u * D, (u + 1) * D)),
        ...pool(t.userFeatures.columns.history!, u, I),
        ...pool(t.userFeatures.columns.near!, u, U),
      ];
      expectClose(
        Array.from(users.subarray(u * D, (u + 1) * D)),
        linear(x, p['user.dense0.weight']!, p['user.dense0.bias']!),
        1e-5,
        1e-5,
      );
    }
    const items = model.rows.itemEmbeddings();
    for (let i = 0; i < ITEMS; i++) {
      const x = [...Array.from(I.subarray(i * D, (i + 1) * D)), ...pool(t.itemFeatures.columns.raters, i, U)];
      expectClose(
        Array.from(items.subarray(i * D, (i + 1) * D)),
        linear(x, p['item.dense0.weight']!, p['item.dense0.bias']!),
        1e-5,
        1e-5,
      );
    }
    model.dispose();
  });

  it('gradients match central finite differences (f64 reference); the shared tables get both readers’ contributions', async () => {
    const model = await tiedModel(true);
    const c = core(model);
    const data = interactions(2);
    const batch = { users: data.users.subarray(0, 6), items: data.items.subarray(0, 6), ratings: data.ratings.subarray(0, 6) };
    const n = c.stagePairs(batch.users, batch.items, batch.ratings);
    const lossOf = () => lossAndGradients(c, n, squaredError);
    lossOf();
    const store = c.store;
    const H = 1e-6;
    const analytic = new Map(store.blocks.map((b) => [b, Float64Array.from(store.grads(b))]));
    for (const block of store.blocks) {
      const numeric: number[] = [];
      for (let i = 0; i < block.size; i++) {
        const values = store.values(block);
        const original = values[i]!;
        values[i] = original + H;
        const up = lossOf();
        store.values(block)[i] = original - H;
        const down = lossOf();
        store.values(block)[i] = original;
        numeric.push((up - down) / (2 * H));
      }
      expectClose(numeric, Array.from(analytic.get(block)!), 1e-7, 1e-6);
    }
    // An item no batch row scores but a batch user's history holds gets gradient through the user tower alone.
    lossOf();
    const history = tables().userFeatures.columns.history!;
    const scored = new Set(batch.items);
    const viaHistory = [...new Set(batch.users)].flatMap((u) =>
      Array.from(history.ids.subarray(history.offsets[u]!, history.offsets[u + 1]!)),
    );
    const only = viaHistory.find((i) => !scored.has(i))!;
    expect(only).toBeDefined();
    const g = store.grads(store.find('item.item.embedding')!);
    expect(Array.from(g.subarray(only * D, (only + 1) * D)).some((x) => x !== 0)).toBe(true);
    model.dispose();
  });

  it("lazy Adam's compact gradients hold every row either reader touches: its first step equals Adam's", async () => {
    const [a, b] = [await tiedModel(), await tiedModel()];
    const data = interactions(3);
    a.fit(data, { epochs: 1, batchSize: 1024, optimizers: { embeddings: 'adam', biases: 'adam' } });
    b.fit(data, { epochs: 1, batchSize: 1024, optimizers: { embeddings: 'lazyAdam', biases: 'lazyAdam' } });
    const [pa, pb] = [a.parameters(), b.parameters()];
    for (const name of Object.keys(pa)) expectClose(Array.from(pb[name]!), Array.from(pa[name]!), 1e-6, 1e-6);
    a.dispose();
    b.dispose();
  });

  it('model files round-trip bit-exact, the shared table saved once', async () => {
    const model = await tiedModel();
    model.fit(interactions(4), { epochs: 3 });
    const loaded = await loadModel(model.toBytes());
    expect(Object.keys(loaded.parameters()).sort()).toEqual(Object.keys(model.parameters()).sort());
    expect(loaded.rows.userEmbeddings()).toEqual(model.rows.userEmbeddings());
    expect(loaded.rows.itemEmbeddings()).toEqual(model.rows.itemEmbeddings());
    // Training continues alike (the shared table's optimizer state came back too).
    model.fit(interactions(5), { epochs: 1 });
    loaded.fit(interactions(5), { epochs: 1 });
    expect(loaded.rows.userEmbeddings()).toEqual(model.rows.userEmbeddings());
    model.dispose();
    loaded.dispose();
  });

  it('update() grows the shared tables, appends the events to the one-hop sets with the symmetric weights recomputed, and widens the two-hop set', async () => {
    const model = await tiedModel();
    model.fit(interactions(4), { epochs: 2 });
    // Exact vocabularies: row 0 is the unknown id, rows 1… the keys.
    const vocabulary = (prefix: string, count: number) => {
      const v = new Vocabulary();
      for (let r = 1; r < count; r++) v.add(`${prefix}${r}`);
      return v;
    };
    model.setVocabularies({ users: vocabulary('u', USERS), items: vocabulary('i', ITEMS) });
    model.update([{ user: 'newcomer', item: 'i2', rating: 4 }], { epochs: 1 });
    expect(model.userCount).toBe(USERS + 1);
    expect(model.parameters()['user.user.embedding']!.length).toBe((USERS + 1) * D);
    const c = core(model);
    const history = c.userTower.table!.columns.history as MultiHotColumn;
    const raters = c.itemTower.table!.columns.raters as MultiHotColumn;
    expect(Array.from(history.ids.subarray(history.offsets[USERS]!, history.offsets[USERS + 1]!))).toEqual([2]);
    // w = 1/√(n_u·n_i), both counted in the grown sets.
    const holders = (column: MultiHotColumn, rows: number, t: number) => {
      let m = 0;
      for (let r = 0; r < rows; r++) if (column.ids.subarray(column.offsets[r]!, column.offsets[r + 1]!).includes(t)) m++;
      return m;
    };
    expect(history.weights![history.offsets[USERS]!]).toBeCloseTo(1 / Math.sqrt(1 * holders(history, USERS + 1, 2)), 6);
    const last = raters.offsets[3]! - 1;
    expect(raters.ids[last]).toBe(USERS);
    expect(raters.weights![last]).toBeCloseTo(
      1 / Math.sqrt((raters.offsets[3]! - raters.offsets[2]!) * holders(raters, ITEMS, USERS)),
      6,
    );
    expect(
      c.config.user.features.find((f) => f.name === 'near')!.kind === 'multiHot' &&
        (c.config.user.features[2] as { vocabSize: number }).vocabSize,
    ).toBe(USERS + 1);
    // The grown towers still compute from the one shared table.
    const loaded = await loadModel(model.toBytes());
    expect(loaded.rows.userEmbeddings()).toEqual(model.rows.userEmbeddings());
    model.dispose();
    loaded.dispose();
  });

  it('addItems() grows the shared item table and the tied history over it; the new row is regressed from the side features (the tied sets count as structure, not side features)', async () => {
    const config = tiedConfig(false);
    config.item.features.push({ kind: 'categorical', name: 'genre', vocabSize: 3, dim: 2 });
    const t = tables(false);
    const itemFeatures = {
      count: ITEMS,
      columns: { ...t.itemFeatures.columns, genre: Int32Array.from({ length: ITEMS }, (_, i) => i % 3) },
    };
    const model = await createModel(config, { userFeatures: t.userFeatures, itemFeatures });
    model.fit(interactions(4), { epochs: 2 });
    const vocabulary = (prefix: string, count: number) => {
      const v = new Vocabulary();
      for (let r = 1; r < count; r++) v.add(`${prefix}${r}`);
      return v;
    };
    model.setVocabularies({ users: vocabulary('u', USERS), items: vocabulary('i', ITEMS) });
    const { added, start } = model.addItems({ ids: ['fresh'], columns: { genre: Int32Array.of(1) } });
    expect([added, start]).toEqual([1, 'regressed']);
    expect(model.parameters()['item.item.embedding']!.length).toBe((ITEMS + 1) * D);
    const history = model.config.user.features[1]!;
    expect(history.kind === 'multiHot' && history.vocabSize).toBe(ITEMS + 1);
    expect(Array.from(model.rows.itemEmbeddings()).every(Number.isFinite)).toBe(true);
    const loaded = await loadModel(model.toBytes());
    expect(loaded.rows.userEmbeddings()).toEqual(model.rows.userEmbeddings());
    model.dispose();
    loaded.dispose();
  });

  it.each(['user', 'item'] as const)(
    'the %s tower in ONNX Runtime gives the package’s embeddings (the shared table copied in)',
    async (side) => {
      const model = await tiedModel();
      model.fit(interactions(4), { epochs: 2 });
      await expectOnnxTowerMatches(model, side);
      model.dispose();
    },
  );

  it("with combine: 'sum' and no projection, the towers are LightGCN's: e_u + Σ w_ui e_i + Σ w_uu′ e_u′ and e_i + Σ w_iu e_u (and load back alike)", async () => {
    const model = await tiedModel(false, true, true);
    const p = model.parameters();
    expect(Object.keys(p).sort()).toEqual(['bias.item', 'bias.user', 'item.item.embedding', 'user.user.embedding']);
    const t = tables();
    const [U, I] = [p['user.user.embedding']!, p['item.item.embedding']!];
    const users = model.rows.userEmbeddings();
    for (let u = 0; u < USERS; u++) {
      const [h, near] = [pool(t.userFeatures.columns.history!, u, I), pool(t.userFeatures.columns.near!, u, U)];
      const want = h.map((x, c) => U[u * D + c]! + x + near[c]!);
      expectClose(Array.from(users.subarray(u * D, (u + 1) * D)), want, 1e-6, 1e-5);
    }
    const items = model.rows.itemEmbeddings();
    for (let i = 0; i < ITEMS; i++) {
      const want = pool(t.itemFeatures.columns.raters!, i, U).map((x, c) => I[i * D + c]! + x);
      expectClose(Array.from(items.subarray(i * D, (i + 1) * D)), want, 1e-6, 1e-5);
    }
    const loaded = await loadModel(model.toBytes());
    expect(loaded.config.user.combine).toBe('sum');
    expect(loaded.rows.userEmbeddings()).toEqual(users);
    expect(loaded.rows.itemEmbeddings()).toEqual(items);
    loaded.dispose();
    model.dispose();
  });

  it.each([
    ['no projection', false],
    ['a hidden layer', true],
  ])("with combine: 'sum' (%s), gradients match central finite differences (f64 reference)", async (_, hidden) => {
    const config = tiedConfig(true, true);
    if (hidden) for (const side of ['user', 'item'] as const) config[side] = { ...config[side], hidden: [3], project: true };
    const model = await createModel(config, { backend: new ReferenceBackend(), ...tables() });
    const c = core(model);
    const data = interactions(2);
    const n = c.stagePairs(data.users.subarray(0, 6), data.items.subarray(0, 6), data.ratings.subarray(0, 6));
    const lossOf = () => lossAndGradients(c, n, squaredError);
    lossOf();
    const store = c.store;
    const analytic = new Map(store.blocks.map((b) => [b, Float64Array.from(store.grads(b))]));
    for (const block of store.blocks) {
      const numeric: number[] = [];
      for (let i = 0; i < block.size; i++) {
        const original = store.values(block)[i]!;
        store.values(block)[i] = original + 1e-6;
        const up = lossOf();
        store.values(block)[i] = original - 1e-6;
        const down = lossOf();
        store.values(block)[i] = original;
        numeric.push((up - down) / 2e-6);
      }
      expectClose(numeric, Array.from(analytic.get(block)!), 1e-7, 1e-6);
    }
    model.dispose();
  });

  it.each(['user', 'item'] as const)(
    "with combine: 'sum', the %s tower in ONNX Runtime gives the package's embeddings; explanations add up",
    async (side) => {
      const model = await tiedModel(false, true, true);
      model.fit(interactions(4), { epochs: 2 });
      await expectOnnxTowerMatches(model, side);
      // The explanation's shares and biases sum to the score.
      const [e] = explainPairs(core(model), [2], [3]);
      expect(e!.method).toBe('exact');
      expect(e!.completenessError).toBeLessThan(1e-5);
      expect(e!.features.map((f) => f.feature)).toEqual(['user', 'history', 'near', 'item', 'raters']);
      model.dispose();
    },
  );

  it('refuses bad tied sets with BAD_CONFIG naming the field', async () => {
    const bad = (edit: (c: TwoTowerConfig) => void, message: RegExp) => {
      const config = tiedConfig();
      edit(config);
      return expect(createModel(config, tables())).rejects.toThrow(
        expect.objectContaining({ code: 'BAD_CONFIG', message: expect.stringMatching(message) }),
      );
    };
    const history = (c: TwoTowerConfig) =>
      c.user.features[1] as Extract<TwoTowerConfig['user']['features'][number], { kind: 'multiHot' }>;
    await bad((c) => (history(c).dim = 3), /features\[1\]\.dim \("history"\) is 3.*must equal its dim \(4\)/);
    await bad((c) => (history(c).vocabSize = 5), /features\[1\]\.vocabSize \("history"\)/);
    await bad((c) => delete history(c).interactions, /features\[1\]\.tied \("history"\).*needs interactions/);
    await bad((c) => (history(c).pooling = 'attention'), /features\[1\]\.tied \("history"\).*not 'attention'/);
    await bad((c) => (history(c).tokens = 'both' as 'self'), /features\[1\]\.tokens must be 'other' or 'self'/);
    await bad((c) => (history(c).tied = 'yes' as unknown as boolean), /features\[1\]\.tied/);
    await bad((c) => {
      history(c).tied = false;
      history(c).tokens = 'self';
    }, /features\[1\]\.tokens \("history"\) is for a tied set/);
    await bad(
      (c) => ((c.user.features[2] as { interactions?: object }).interactions = {}),
      /features\[2\]\.interactions \("near"\).*not an interaction set/,
    );
    await bad((c) => {
      c.user.combine = 'sum';
      history(c).dim = 3;
      history(c).tied = false;
    }, /config\.user\.combine is 'sum', so every feature must have the same width: config\.user\.features\[1\] \("history"\) is 3 wide/);
    await bad((c) => (c.user.combine = 'add' as 'sum'), /config\.user\.combine must be 'concat' or 'sum'/);
    await bad((c) => {
      c.item.features = [{ kind: 'categorical', name: 'genre', vocabSize: 3, dim: D }];
      c.bias = {};
    }, /reads the items' id table, but config.item has no id feature/);
  });
});

describe("the recipe's graph option (train(events, { graph }))", () => {
  const clicks = () =>
    Array.from({ length: 900 }, (_, i) => ({ user: `u${i % 60}`, item: `i${(i * 7 + Math.floor(i / 60)) % 45}` }));

  it('graph 1 and 2 build tied, summed towers over the same id tables, and recommend in ids', async () => {
    const { train } = await import('../src/index.js');
    for (const graph of [1, 2] as const) {
      const model = await train(clicks(), { graph, epochs: 2, dim: 8 });
      const user = model.config.user;
      expect(user.combine).toBe('sum');
      expect(user.features.map((f) => f.name)).toEqual(graph === 1 ? ['user', 'graph'] : ['user', 'graph', 'graph2']);
      // The tied set owns no table: the parameters hold the two id tables only.
      expect(
        Object.keys(model.parameters())
          .filter((n) => n.endsWith('.embedding'))
          .sort(),
      ).toEqual(['item.item.embedding', 'user.user.embedding']);
      expect(model.recommend('u3', { k: 3 })).toHaveLength(3);
      model.dispose();
    }
  });

  it('refuses options that would add inputs a summed graph tower cannot read', async () => {
    const { train } = await import('../src/index.js');
    const ratings = clicks().map((e, i) => ({ ...e, rating: 1 + (i % 5) }));
    await expect(train(ratings, { graph: 1, epochs: 1 })).rejects.toThrow(
      /graph towers read ids and the graph only: turn options\.implicitDim off/,
    );
    await expect(train(clicks(), { graph: 3 as 1, epochs: 1 })).rejects.toThrow(/options\.graph must be 0, 1 or 2, got 3/);
  });
});
