// Explanations: a pair's score split into biases, a baseline and one share per feature of both
// towers (exact for towers without hidden layers, integrated gradients otherwise), and a user's
// interaction-set items by their share, checked against leaving each item out.
import { describe, it, expect } from 'vitest';
import {
  combineModels,
  createModel,
  train,
  type Model,
  type TwoTowerConfig,
  type FeatureTable,
  type MultiHotColumn,
} from '../src/index.js';
import { tinyConfig, tinyFeatures, tinyBatch, USERS, ITEMS } from './fixtures.js';
import { Random } from '../src/util/random.js';

/** The tiny every-kind model, its user set marked as an interaction set; `linear` drops the hidden layers. */
async function tinyModel(options: {
  linear: boolean;
  seed?: number;
  pooling?: 'mean' | 'sum' | 'attention';
  /** Give each user every item but (u + 2) mod ITEMS in its set, eight instead of the fixture's three. */
  wide?: boolean;
}): Promise<Model> {
  const config = tinyConfig(options.seed ?? 3);
  if (options.linear) {
    config.user.hidden = [];
    config.item.hidden = [];
  }
  const seen = config.user.features[3] as Extract<TwoTowerConfig['user']['features'][number], { kind: 'multiHot' }>;
  seen.interactions = {};
  if (options.pooling) {
    seen.pooling = options.pooling;
    if (options.pooling === 'attention') delete seen.excludeScoredItem;
  }
  const model = await createModel(config, { ...tinyFeatures(), userFeatures: userTable(options.wide ?? false) });
  // Random dense biases and score biases too, so every term of the score is at work.
  const random = new Random(options.seed ?? 3);
  const params = model.parameters();
  const set: Record<string, Float32Array> = {};
  for (const [name, values] of Object.entries(params))
    if (name.endsWith('.bias') || name.startsWith('bias.') || name.endsWith('.attention'))
      set[name] = values.map(() => 0.5 * random.normal());
  model.setParameters(set);
  return model;
}

/** The fixture's user features, or with the wide sets (see tinyModel). */
function userTable(wide: boolean): FeatureTable {
  const table = tinyFeatures().userFeatures;
  if (!wide) return table;
  const lists = Array.from({ length: USERS }, (_, u) =>
    Array.from({ length: ITEMS }, (_, j) => j).filter((j) => j !== (u + 2) % ITEMS),
  );
  const offsets = Int32Array.from({ length: USERS + 1 }, (_, u) => u * (ITEMS - 1));
  return { count: USERS, columns: { ...table.columns, seen: { offsets, ids: Int32Array.from(lists.flat()) } } };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('explain: the parts add up to the score', () => {
  it.each([1, 2, 3, 4])('linear towers, every feature kind (seed %i): exact, within 1e-4 of predict()', async (seed) => {
    const model = await tinyModel({ linear: true, seed });
    const random = new Random(seed);
    for (let trial = 0; trial < 10; trial++) {
      const [u, i] = [random.int(USERS), random.int(ITEMS)];
      const e = model.explain(u, i);
      expect(e.method).toBe('exact');
      expect(e.features).toHaveLength(8);
      const total = e.biases.global + e.biases.user + e.biases.item + e.baseline + sum(e.features.map((f) => f.contribution));
      expect(Math.abs(total - model.rows.predict([u], [i])[0]!)).toBeLessThan(1e-4);
      expect(Math.abs(e.score - total)).toBeLessThan(1e-4);
      expect(e.completenessError).toBeLessThan(1e-5);
    }
    model.dispose();
  });

  it('hidden layers: integrated gradients, the shares miss dot − baseline by exactly the reported error, which shrinks with more steps', async () => {
    const model = await tinyModel({ linear: false, seed: 7 });
    let coarse = 0,
      fine = 0,
      scale = 0;
    for (let u = 0; u < USERS; u++) {
      for (let i = 0; i < ITEMS; i += 2) {
        for (const steps of [4, 1024]) {
          const e = model.explain(u, i, { steps });
          expect(e.method).toBe('integrated-gradients');
          expect(e.steps).toBe(steps);
          const shares = sum(e.features.map((f) => f.contribution));
          expect(Math.abs(Math.abs(shares + e.baseline - e.dot) - e.completenessError)).toBeLessThan(1e-9);
          expect(Math.abs(e.score - model.rows.predict([u], [i])[0]!)).toBeLessThan(1e-4);
          if (steps === 4) coarse += e.completenessError;
          else fine += e.completenessError;
          scale += steps === 4 ? sum(e.features.map((f) => Math.abs(f.contribution))) : 0;
        }
      }
    }
    expect(fine).toBeLessThan(coarse);
    expect(fine).toBeLessThan(1e-3 * scale);
  });

  it('a hand-worked pair: user [1, 2] against item (id 3, number 2) through W = I, b = [0.5, −1]', async () => {
    const config: TwoTowerConfig = {
      dim: 2,
      user: { features: [{ kind: 'id', name: 'user', vocabSize: 1, dim: 2 }], project: false },
      item: {
        features: [
          { kind: 'id', name: 'item', vocabSize: 1, dim: 1 },
          { kind: 'numeric', name: 'size', size: 1 },
        ],
      },
    };
    const model = await createModel(config, { itemFeatures: { count: 1, columns: { size: Float32Array.of(2) } } });
    model.setParameters({
      'user.user.embedding': [1, 2],
      'item.item.embedding': [3],
      'item.dense0.weight': [1, 0, 0, 1],
      'item.dense0.bias': [0.5, -1],
    });
    // u = [1, 2], v = [3.5, 1]: dot 5.5. The user id and the item id split ⟨[1,2],[3,0]⟩ = 3 evenly,
    // the user id and the number ⟨[1,2],[0,2]⟩ = 4; the user takes ⟨u, b⟩ = −1.5 whole.
    const e = model.explain(0, 0);
    expect(e.dot).toBeCloseTo(5.5, 6);
    expect(e.baseline).toBe(0);
    const share = (side: string, name: string) => e.features.find((f) => f.side === side && f.feature === name)!.contribution;
    expect(share('user', 'user')).toBeCloseTo(2, 6);
    expect(share('item', 'item')).toBeCloseTo(1.5, 6);
    expect(share('item', 'size')).toBeCloseTo(2, 6);
    model.dispose();
  });
});

/** Scores of (user, item) with each of the user's set items left out in turn, against the full score. */
function leaveOneOut(model: Model, user: number, item: number, wide = false): Map<number, number> {
  const features = userTable(wide);
  const column = features.columns.seen as MultiHotColumn;
  const full = model.rows.predict([user], [item])[0]!;
  const drops = new Map<number, number>();
  const mine = Array.from(column.ids.subarray(column.offsets[user]!, column.offsets[user + 1]!));
  for (const h of new Set(mine)) {
    const lists = Array.from({ length: USERS }, (_, u) =>
      Array.from(column.ids.subarray(column.offsets[u]!, column.offsets[u + 1]!)),
    );
    lists[user] = mine.filter((x) => x !== h);
    const offsets = new Int32Array(USERS + 1);
    lists.forEach((l, u) => (offsets[u + 1] = offsets[u]! + l.length));
    const table: FeatureTable = {
      count: USERS,
      columns: { ...features.columns, seen: { offsets, ids: Int32Array.from(lists.flat()) } },
    };
    model.setUserFeatures(table);
    drops.set(h, full - model.rows.predict([user], [item])[0]!);
  }
  model.setUserFeatures(features);
  return drops;
}

/** Spearman rank correlation of two equally long lists. */
function spearman(a: number[], b: number[]): number {
  const rank = (xs: number[]) => {
    const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(xs.length);
    order.forEach(([, i], k) => (r[i] = k));
    return r;
  };
  const [ra, rb] = [rank(a), rank(b)];
  const n = a.length;
  return 1 - (6 * sum(ra.map((x, i) => (x - rb[i]!) ** 2))) / (n * (n * n - 1));
}

describe('explain: the items behind a score, against leaving each out', () => {
  it('linear tower, sum pooling: each item’s share is exactly what leaving it out takes away', async () => {
    const model = await tinyModel({ linear: true, pooling: 'sum' });
    for (let u = 0; u < USERS; u++) {
      const item = (u + 2) % ITEMS; // not in the user's set: nothing is excluded
      const shares = model.explain(u, item, { because: 10 }).because;
      const drops = leaveOneOut(model, u, item);
      expect(shares).toHaveLength(drops.size);
      for (const b of shares) {
        expect(b.kind).toBe('history');
        if (b.kind === 'history') expect(b.contribution).toBeCloseTo(drops.get(b.item as number)!, 4);
      }
    }
    model.dispose();
  });

  it('linear tower, mean pooling: leaving item h out takes (L·share_h − Σ shares)/(L − 1): the same order', async () => {
    const model = await tinyModel({ linear: true, pooling: 'mean' });
    for (let u = 0; u < USERS; u++) {
      const item = (u + 2) % ITEMS;
      const shares = model.explain(u, item, { because: 10 }).because.flatMap((b) => (b.kind === 'history' ? [b] : []));
      const drops = leaveOneOut(model, u, item);
      const L = shares.length,
        total = sum(shares.map((s) => s.contribution));
      for (const s of shares) expect(drops.get(s.item as number)!).toBeCloseTo((L * s.contribution - total) / (L - 1), 4);
    }
    model.dispose();
  });

  it.each(['attention', 'mean'] as const)(
    'hidden layers (%s pooling): shares rank the items as leaving them out does (Spearman ≥ 0.8 on average)',
    async (pooling) => {
      // Sets of eight items: leaving one out is a small step, as the gradients see it.
      const model = await tinyModel({ linear: false, pooling, seed: 11, wide: true });
      let total = 0;
      for (let u = 0; u < USERS; u++) {
        const item = (u + 2) % ITEMS;
        const shares = model.explain(u, item, { because: 10, steps: 256 }).because;
        const drops = leaveOneOut(model, u, item, true);
        const ids = [...drops.keys()];
        const byItem = new Map(shares.map((b) => [b.item as number, b.kind === 'history' ? b.contribution : NaN]));
        total += spearman(
          ids.map((h) => byItem.get(h)!),
          ids.map((h) => drops.get(h)!),
        );
      }
      expect(total / USERS).toBeGreaterThanOrEqual(0.8);
      model.dispose();
    },
  );

  it('without an interaction set, "because" lists the user’s training items most like the scored one, labelled similar', async () => {
    const model = await createModel({
      dim: 4,
      user: { features: [{ kind: 'id', name: 'user', vocabSize: USERS, dim: 4 }], project: false },
      item: { features: [{ kind: 'id', name: 'item', vocabSize: ITEMS, dim: 4 }], project: false },
      embeddingInitStd: 0.5,
    });
    const data = tinyBatch(40, 2);
    model.fit(data, { epochs: 1 });
    const user = data.users[0]!;
    const seen = Array.from(model.seenItems(user));
    const e = model.explain(user, 0, { because: 3 });
    const v = model.rows.itemEmbeddings();
    const cos = (a: number, b: number) => {
      let ab = 0,
        aa = 0,
        bb = 0;
      for (let c = 0; c < 4; c++) {
        ab += v[a * 4 + c]! * v[b * 4 + c]!;
        aa += v[a * 4 + c]! ** 2;
        bb += v[b * 4 + c]! ** 2;
      }
      return ab / Math.sqrt(aa * bb);
    };
    const expected = seen
      .filter((j) => j !== 0)
      .map((j) => ({ j, s: cos(0, j) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 3);
    expect(e.because.map((b) => b.item)).toEqual(expected.map((x) => x.j));
    e.because.forEach((b, r) => {
      expect(b.kind).toBe('similar');
      if (b.kind === 'similar') expect(b.similarity).toBeCloseTo(expected[r]!.s, 5);
    });
    model.dispose();
  });
});

describe('recommend with explain', () => {
  it('each recommended item carries its reasons and an explanation whose score is the recommendation’s', async () => {
    const events = [];
    const random = new Random(4);
    for (let n = 0; n < 3000; n++) {
      const user = `u${random.int(60)}`;
      const item = `i${(random.int(40) + Number(user.slice(1))) % 40}`;
      events.push({ user, item, rating: 1 + random.int(5) });
    }
    const model = await train(events, { epochs: 3, dim: 8, implicitDim: 8 });
    const list = model.recommend('u3', { k: 5, explain: true });
    expect(list).toHaveLength(5);
    for (const r of list) {
      expect(r.explanation!.item).toBe(r.id);
      expect(r.explanation!.prediction).toBeCloseTo(r.score, 4);
      expect(r.reasons!.length).toBeGreaterThan(0);
      for (const reason of r.reasons!) if ('contribution' in reason) expect(reason.contribution).toBeGreaterThan(0);
      // The default rating recipe reads the user's rated items ("rated"): the reasons name them.
      expect(r.explanation!.because.every((b) => b.kind === 'history' && b.feature === 'rated')).toBe(true);
    }
    expect(() => model.explain('nobody', 'i1')).toThrow(/not in the model's vocabulary/);
    model.dispose();
  });

  it('an ensemble whose members each read the rated set names each item once, its shares summed over the members', async () => {
    const events = [];
    const random = new Random(5);
    for (let n = 0; n < 3000; n++) {
      const user = `u${random.int(60)}`;
      events.push({ user, item: `i${(random.int(40) + Number(user.slice(1))) % 40}`, rating: 1 + random.int(5) });
    }
    const a = await train(events, { epochs: 3, dim: 8, implicitDim: 8, seed: 1 });
    const b = await train(events, { epochs: 3, dim: 8, implicitDim: 8, seed: 2 });
    const both = await combineModels([a, b], { weights: [0.5, 0.5] });
    const items = (m: Model) => m.explain('u3', 'i7', { because: 100 }).because;
    const shares = (m: Model, scale: number) =>
      new Map(items(m).map((x) => [x.item, x.kind === 'history' ? x.contribution * scale : 0]));
    const [fromA, fromB] = [shares(a, 0.5), shares(b, 0.5)];
    const merged = items(both);
    expect(new Set(merged.map((x) => x.item)).size).toBe(merged.length);
    expect(merged.length).toBe(new Set([...fromA.keys(), ...fromB.keys()]).size);
    for (const x of merged) {
      expect(x.kind).toBe('history');
      if (x.kind === 'history') expect(x.contribution).toBeCloseTo((fromA.get(x.item) ?? 0) + (fromB.get(x.item) ?? 0), 4);
    }
    const [top] = both.recommend('u3', { k: 1, explain: true });
    const named = top!.explanation!.because.slice(0, 2).map((x) => x.item);
    expect(new Set(named).size).toBe(named.length);
    for (const m of [a, b, both]) m.dispose();
  });
});
