// Changing a trained model in place: update() on new events (new ids grow the model, training
// resumes from the kept optimizer state, exactly as after a save and a load), addItems() for
// items known only by their features, and the guarantee that a failed call changes nothing.
import { describe, it, expect } from 'vitest';
import { train, loadModel, createModel, type TwoTowerError, type Model } from '../src/index.js';
import { internals } from '../src/api/model.js';
import { Random } from '../src/util/random.js';
import { bandEvents as events } from './fixtures.js';

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectSameParameters(a: Model, b: Model): void {
  const pa = a.parameters(),
    pb = b.parameters();
  expect(Object.keys(pb)).toEqual(Object.keys(pa));
  for (const name of Object.keys(pa)) expect(bits(pa[name]!).equals(bits(pb[name]!)), name).toBe(true);
}

describe('update: training continues on new events', () => {
  it.each([
    ['rating', { implicitDim: 8 }],
    ['retrieval', { history: 10 }],
  ] as const)('%s: save → load → update equals update without the save, bit for bit', async (task, extra) => {
    const model = await train(events(2000, 50, 40, 0, 1), { task, epochs: 3, dim: 8, ...extra });
    const saved = model.toBytes();
    const more = events(400, 60, 45, 10_000, 2);
    const a = model.update(more);
    const copy = await loadModel(saved);
    const b = copy.update(more);
    expect(a.newUsers).toBe(10);
    expect(a.newItems).toBe(5);
    expect(b.fit.history.map((h) => h.loss)).toEqual(a.fit.history.map((h) => h.loss));
    expectSameParameters(model, copy);
    expect(copy.optimizerSteps).toBe(model.optimizerSteps);
    // And once more after saving the updated model: the second update resumes exactly too.
    const again = await loadModel(model.toBytes());
    const third = events(200, 60, 45, 20_000, 3);
    model.update(third);
    again.update(third);
    expectSameParameters(model, again);
    for (const m of [model, copy, again]) m.dispose();
  });

  it('toBytes({ optimizerState: false }) is a smaller serving file that predicts the same; its update restarts the moments', async () => {
    const model = await train(events(2000, 50, 40, 0, 1), { epochs: 3, dim: 8, implicitDim: 8 });
    const full = model.toBytes();
    const lean = model.toBytes({ optimizerState: false });
    // Adam's and lazy Adam's two moments: twice the parameters' bytes (each group padded to 4 floats).
    const values = Object.values(model.parameters()).reduce((n, p) => n + p.length, 0);
    expect(full.length - lean.length).toBeGreaterThanOrEqual(2 * 4 * values);
    const served = await loadModel(lean);
    expectSameParameters(model, served);
    expect(served.predict('u1', 'i3')).toBe(model.predict('u1', 'i3'));
    const more = events(300, 55, 42, 10_000, 4);
    const resumed = await loadModel(full);
    resumed.update(more);
    served.update(more);
    const [a, b] = [resumed.parameters()['user.user.embedding']!, served.parameters()['user.user.embedding']!];
    expect(bits(a).equals(bits(b))).toBe(false); // different moments, different steps
    expect(() => model.toBytes({ optimizerState: 'no' as unknown as boolean })).toThrow(/optimizerState must be true or false/);
    for (const m of [model, served, resumed]) m.dispose();
  });

  it('grows vocabularies and tables; a new user is recommended unseen items; new rows start at the mean trained row and bias', async () => {
    const model = await train(events(2000, 50, 40, 0, 1), { epochs: 3, dim: 8, implicitDim: 8 });
    const before = model.parameters();
    const [users, items] = [model.userCount, model.itemCount];
    const steps = model.optimizerSteps;
    const r = model.update(events(300, 55, 42, 10_000, 4), { epochs: 1 });
    expect(model.userCount).toBe(users + r.newUsers);
    expect(model.itemCount).toBe(items + r.newItems);
    expect(model.vocabularies.users!.has('u54')).toBe(true);
    expect(model.optimizerSteps).toBeGreaterThan(steps);
    const list = model.recommend('u54', { k: 5 });
    const seen = new Set(Array.from(model.seenItems(model.vocabularies.users!.lookup('u54'))));
    expect(list).toHaveLength(5);
    for (const x of list) expect(seen.has(model.vocabularies.items!.lookup(String(x.id)))).toBe(false);
    // Old rows moved by training only where the update's events touched them (lazy Adam).
    const after = model.parameters();
    expect(after['user.user.embedding']!.length).toBe((users + r.newUsers) * 8);
    expect(Array.from(after['bias.user']!.subarray(0, users)).some((x, i) => x !== before['bias.user']![i])).toBe(true);
    model.dispose();
  });

  it('appends the new events to the interaction sets: the latest N in time order, 1/√n weights recomputed', async () => {
    const model = await train(events(1500, 30, 40, 0, 5), { task: 'retrieval', epochs: 2, dim: 8, history: 4 });
    const core = () => internals(model);
    const row = model.vocabularies.users!.lookup('u3');
    model.update([
      { user: 'u3', item: 'i7', time: 50_000 },
      { user: 'u3', item: 'new-item', time: 40_000 },
      { user: 'newcomer', item: 'i1', time: 60_000 },
    ]);
    const history = core().userTower.table!.columns.history as { offsets: Int32Array; ids: Int32Array };
    const items = model.vocabularies.items!;
    const mine = Array.from(history.ids.subarray(history.offsets[row]!, history.offsets[row + 1]!));
    expect(mine).toHaveLength(4);
    expect(mine.slice(-2)).toEqual([items.lookup('new-item'), items.lookup('i7')]);
    const newcomer = model.vocabularies.users!.lookup('newcomer');
    expect(Array.from(history.ids.subarray(history.offsets[newcomer]!, history.offsets[newcomer + 1]!))).toEqual([
      items.lookup('i1'),
    ]);
    model.dispose();

    const rated = await train(events(1500, 30, 40, 0, 5), { epochs: 2, dim: 8, implicitDim: 8 });
    rated.update([{ user: 'u3', item: 'i9', rating: 4, time: 50_000 }]);
    const set = internals(rated).userTower.table!.columns.rated as { offsets: Int32Array; weights: Float32Array };
    const u3 = rated.vocabularies.users!.lookup('u3');
    const n = set.offsets[u3 + 1]! - set.offsets[u3]!;
    for (let q = set.offsets[u3]!; q < set.offsets[u3 + 1]!; q++) expect(set.weights[q]).toBeCloseTo(1 / Math.sqrt(n), 6);
    rated.dispose();
  });

  it('a failed update changes nothing: bad events, a diverging run', async () => {
    const model = await train(events(1500, 30, 40, 0, 6), { epochs: 2, dim: 8, implicitDim: 8 });
    const before = model.parameters();
    const counts = [model.userCount, model.itemCount, model.optimizerSteps];
    const check = () => {
      expect([model.userCount, model.itemCount, model.optimizerSteps]).toEqual(counts);
      expectSameParameters(model, model); // still usable
      const now = model.parameters();
      for (const name of Object.keys(before)) expect(bits(now[name]!).equals(bits(before[name]!)), name).toBe(true);
      expect(model.vocabularies.users!.has('fresh')).toBe(false);
    };
    expect(() => model.update([{ user: 'fresh', item: 'i1' }])).toThrow(
      /events\[0\]\.rating is undefined: a rating model needs a finite rating/,
    );
    check();
    expect(() => model.update([{ user: 'fresh', item: 'i1', rating: 3, weight: -1 }])).toThrow(/weights must be finite and ≥ 0/);
    check();
    expect(() => model.update(events(300, 40, 40, 9000, 7), { learningRate: 1e30 })).toThrow(
      expect.objectContaining({ code: 'DIVERGED' }),
    );
    check();
    expect(model.recommend('u1', { k: 3 })).toHaveLength(3);
    model.dispose();
  });

  it('refuses what it cannot do, with a typed error', async () => {
    const fresh = await createModel({
      dim: 4,
      user: { features: [{ kind: 'id', name: 'user', vocabSize: 5, dim: 4 }] },
      item: { features: [{ kind: 'id', name: 'item', vocabSize: 5, dim: 4 }] },
    });
    expect(() => fresh.update([{ user: 1, item: 2, rating: 3 }])).toThrow(expect.objectContaining({ code: 'NOT_TRAINED' }));
    fresh.fit({ users: Int32Array.of(0, 1), items: Int32Array.of(1, 2), ratings: Float32Array.of(3, 4) }, { epochs: 1 });
    // No vocabulary: ids are rows, and new ones cannot be added.
    const error = (() => {
      try {
        fresh.update([{ user: 7, item: 2, rating: 3 }]);
      } catch (e) {
        return e as TwoTowerError;
      }
    })();
    expect(error?.code).toBe('UNKNOWN_ID');
    expect(error?.message).toMatch(/no user vocabulary .* cannot add users/);
    fresh.update([{ user: 4, item: 2, rating: 3 }]);
    fresh.dispose();
  });
});

describe('addItems: cold items from their features', () => {
  async function withGenres(hidden: number[] = []): Promise<{ model: Model; genres: number[][] }> {
    // Items carry a genre set; users like one genre each: item i has genre i mod 3.
    const random = new Random(8);
    const genres = Array.from({ length: 30 }, (_, i) => [i % 3]);
    const model = await createModel(
      {
        dim: 6,
        user: { features: [{ kind: 'id', name: 'user', vocabSize: 41, dim: 6 }] },
        item: {
          features: [
            { kind: 'id', name: 'item', vocabSize: 31, dim: 6 },
            { kind: 'multiHot', name: 'genre', vocabSize: 3, dim: 4 },
          ],
          hidden,
        },
        bias: { item: true },
        seed: 2,
      },
      {
        itemFeatures: {
          count: 31,
          columns: {
            genre: {
              offsets: Int32Array.from({ length: 32 }, (_, i) => Math.max(0, i - 1)),
              ids: Int32Array.from(genres.flat()),
            },
          },
        },
      },
    );
    const users: number[] = [],
      items: number[] = [];
    for (let n = 0; n < 3000; n++) {
      const u = 1 + random.int(40);
      const item = 1 + 3 * random.int(10) + (u % 3); // item row i has genre (i − 1) mod 3: here u mod 3
      users.push(u);
      items.push(item);
    }
    model.fit(
      { users: Int32Array.from(users), items: Int32Array.from(items), ratings: new Float32Array(users.length).fill(1) },
      { loss: 'bpr', epochs: 8, learningRate: 0.03 },
    );
    const { Vocabulary } = await import('../src/index.js');
    const v = (prefix: string, n: number) => {
      const vocab = new Vocabulary();
      for (let i = 1; i < n; i++) vocab.add(`${prefix}${i}`);
      return vocab.freeze();
    };
    model.setVocabularies({ users: v('u', 41), items: v('i', 31) });
    return { model, genres };
  }

  it('embeds new items by the item tower, recommends them to the users of their genre, and rejects bad rows', async () => {
    const { model } = await withGenres();
    const before = model.rows.itemEmbeddings();
    const count = model.itemCount;
    const added = model.addItems({
      ids: ['new0', 'new1', 'new2'],
      columns: { genre: { offsets: Int32Array.of(0, 1, 2, 3), ids: Int32Array.of(0, 1, 2) } },
    });
    expect(added).toEqual({ added: 3, start: 'regressed' });
    expect(model.itemCount).toBe(count + 3);
    // Old items keep their embeddings bit for bit.
    expect(bits(model.rows.itemEmbeddings().subarray(0, before.length)).equals(bits(before))).toBe(true);
    // Each user's own genre wins among the new items.
    let right = 0;
    for (let u = 1; u <= 40; u++) {
      const top = model.recommend(`u${u}`, { k: 1, filter: ['new0', 'new1', 'new2'], excludeSeen: false });
      if (top[0]!.id === `new${u % 3}`) right++;
    }
    expect(right).toBeGreaterThanOrEqual(36);
    expect(() =>
      model.addItems({ ids: ['i3'], columns: { genre: { offsets: Int32Array.of(0, 1), ids: Int32Array.of(0) } } }),
    ).toThrow(/item "i3" is already in the model/);
    expect(() =>
      model.addItems({ ids: ['x'], columns: { genre: { offsets: Int32Array.of(0, 1), ids: Int32Array.of(7) } } }),
    ).toThrow(/genre/);
    expect(model.itemCount).toBe(count + 3);
    model.dispose();
  });

  it('with hidden layers a new item starts at the mean trained id row and bias', async () => {
    const { model } = await withGenres([5]);
    const count = model.itemCount;
    const start = model.addItems({
      ids: ['n'],
      columns: { genre: { offsets: Int32Array.of(0, 1), ids: Int32Array.of(2) } },
    }).start;
    expect(start).toBe('mean');
    const p = model.parameters();
    const table = p['item.item.embedding']!;
    for (let c = 0; c < 6; c++) {
      let mean = 0;
      for (let r = 1; r < count; r++) mean += table[r * 6 + c]! / (count - 1);
      expect(table[count * 6 + c]).toBeCloseTo(mean, 5);
    }
    let bias = 0;
    for (let r = 1; r < count; r++) bias += p['bias.item']![r]! / (count - 1);
    expect(p['bias.item']![count]).toBeCloseTo(bias, 5);
    model.dispose();
  });

  it('a linear tower: where trained items’ id parts are an affine function of their features, a cold twin of an item gets its embedding and bias', async () => {
    const { model } = await withGenres();
    // Every trained item's id row and bias made an exact function of its genre: the regression must recover them.
    const random = new Random(21);
    const byGenre = [0, 1, 2].map(() => Array.from({ length: 6 }, () => random.normal()));
    const biasByGenre = [0.3, -0.2, 0.5];
    const p = model.parameters();
    const table = p['item.item.embedding']!;
    const bias = p['bias.item']!;
    for (let r = 1; r < 31; r++) {
      table.set(byGenre[(r - 1) % 3]!, r * 6);
      bias[r] = biasByGenre[(r - 1) % 3]!;
    }
    model.setParameters({ 'item.item.embedding': table, 'bias.item': bias });
    model.addItems({ ids: ['twin'], columns: { genre: { offsets: Int32Array.of(0, 1), ids: Int32Array.of(1) } } });
    const twin = model.vocabularies.items!.lookup('twin');
    const v = model.rows.itemEmbeddings([2, twin]); // item row 2 has genre 1
    for (let c = 0; c < 6; c++) expect(Math.abs(v[6 + c]! - v[c]!)).toBeLessThan(2e-2 * (1 + Math.abs(v[c]!)));
    // The ridge shrinks the fit by an amount that depends on the genre table's initial values: 2e-2, as for the rows.
    expect(Math.abs(model.parameters()['bias.item']![twin]! + 0.2)).toBeLessThan(2e-2);
    model.dispose();
  });
});

describe('foldIn: users solved against the fixed item tower', () => {
  /** Plain biased matrix factorisation (ids only, no projection), trained on ratings. */
  async function mf(): Promise<Model> {
    return train(events(2500, 40, 30, 0, 9), { epochs: 4, dim: 6, implicitDim: 0, sideFeatures: false, l2: 0.05 });
  }

  it('gives each user the minimiser of their squared error + the model’s L2: every direction of change costs more', async () => {
    const model = await mf();
    const mine = events(40, 1, 30, 50_000, 10).map((e) => ({ ...e, user: 'solo' }));
    mine.push(...events(25, 1, 30, 60_000, 11).map((e) => ({ ...e, user: 'u2' })));
    const before = model.rows.itemEmbeddings();
    expect(model.foldIn(mine).users).toBe(2);
    expect(bits(model.rows.itemEmbeddings()).equals(bits(before))).toBe(true); // items untouched
    const p = model.parameters();
    for (const user of ['solo', 'u2']) {
      const row = model.vocabularies.users!.lookup(user);
      const theirs = mine.filter((e) => e.user === user);
      const items = theirs.map((e) => model.vocabularies.items!.lookup(String(e.item)));
      const objective = (du: number[], db: number) => {
        const u = Array.from(p['user.user.embedding']!.subarray(row * 6, row * 6 + 6), (x, c) => x + du[c]!);
        const bu = p['bias.user']![row]! + db;
        const v = model.rows.itemEmbeddings(items);
        let total = 0;
        theirs.forEach((e, i) => {
          let s = p['bias.global']![0]! + bu + p['bias.item']![items[i]!]!;
          for (let c = 0; c < 6; c++) s += u[c]! * v[i * 6 + c]!;
          total += (s - e.rating!) ** 2 + 0.05 * u.reduce((a, x) => a + x * x, 0);
        });
        return total;
      };
      const best = objective([0, 0, 0, 0, 0, 0], 0);
      for (let c = 0; c <= 6; c++)
        for (const step of [-1e-2, 1e-2]) {
          const du = [0, 0, 0, 0, 0, 0];
          if (c < 6) du[c] = step;
          expect(objective(du, c === 6 ? step : 0)).toBeGreaterThan(best);
        }
      // And the model now predicts with it.
      expect(model.predict(user, String(theirs[0]!.item))).toBeCloseTo(
        Math.min(5, Math.max(1, model.explain(user, String(theirs[0]!.item)).score)),
        4,
      );
    }
    model.dispose();
  });

  it('refuses models it does not apply to, and unknown items, changing nothing', async () => {
    const rich = await train(events(1500, 30, 30, 0, 12), { epochs: 2, dim: 6, implicitDim: 6 });
    expect(() => rich.foldIn([{ user: 'x', item: 'i1', rating: 4 }])).toThrow(/not a plain id embedding.*use update\(\) instead/);
    rich.dispose();
    const model = await mf();
    const count = model.userCount;
    expect(() => model.foldIn([{ user: 'x', item: 'nope', rating: 4 }])).toThrow(/item "nope" is not in the model/);
    expect(() => model.foldIn([{ user: 'x', item: 'i1' }])).toThrow(/needs a finite rating/);
    expect(model.userCount).toBe(count);
    model.dispose();
  });
});

describe('update on two threads', () => {
  it('keeps the thread pool through the growth, and gives the bits of one thread', async () => {
    const { train: trainNode } = await import('../src/node/index.js');
    const base = events(1500, 40, 30, 0, 13);
    const more = events(300, 47, 33, 5000, 14);
    const [one, two] = [await trainNode(base, { epochs: 2, dim: 8 }), await trainNode(base, { epochs: 2, dim: 8, threads: 2 })];
    expect(two.threads).toBe(2);
    one.update(more);
    two.update(more);
    expect(two.threads).toBe(2);
    expectSameParameters(one, two);
    one.dispose();
    two.dispose();
  });
});
