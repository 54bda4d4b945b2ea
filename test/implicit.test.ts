// Implicit feedback: the loss kernels against their twins, the softmax gradient through the
// whole model by finite differences, the direction of the logQ correction on synthetic data
// where the answer is known, the metrics on a hand-worked ranking, recommend and similarItems.
import { describe, it, expect, beforeAll } from 'vitest';
import { createModel, ReferenceBackend, type FitOptions, type Model, type TwoTowerConfig } from '../src/index.js';
import { bceLoss, bprLoss, softmaxXent, cclLoss, l2NormalizeRows, l2NormalizeBackward } from '../src/reference/loss.js';
import { rankTargets } from '../src/reference/score.js';
import { LOSSES } from '../src/train/losses/index.js';
import { lossAndGradients } from '../src/train/step.js';
import { TrainScratch } from '../src/train/scratch.js';
import {
  wasmBuilds,
  Random,
  randomFloats,
  randomInts,
  putFloats,
  putInts,
  getFloats,
  expectClose,
  f64,
  core,
  expectFiniteDifferences,
} from './helpers.js';
import type { WasmBackend } from '../src/wasm/load.js';

let builds: WasmBackend[] = [];
beforeAll(async () => {
  builds = await wasmBuilds();
});

describe('implicit loss kernels against their twins', () => {
  it('bce, bpr and in-batch softmax (with logQ and accidental hits) on odd sizes', () => {
    for (const B of builds) {
      const random = new Random(12);
      for (const n of [1, 3, 5, 17, 63]) {
        const s = randomFloats(random, 2 * n, 3),
          y = Float32Array.from({ length: n }, () => random.int(2));
        const ds = new Float64Array(n),
          expected = bceLoss(ds, f64(s), f64(y), n);
        const [ps, py, pds] = [putFloats(B, s), putFloats(B, y), B.alloc(2 * n * 4)];
        expect(B.kernels.bce_loss(pds, ps, py, n)).toBeCloseTo(expected, 5);
        expectClose(getFloats(B, pds, n), ds, 1e-6);
        const ds2 = new Float64Array(2 * n),
          expected2 = bprLoss(ds2, f64(s), n);
        expect(B.kernels.bpr_loss(pds, ps, n)).toBeCloseTo(expected2, 5);
        expectClose(getFloats(B, pds, 2 * n), ds2, 1e-6);
        // Square (in-batch only) and with extra columns (uniform negatives), whose ids may hit a row's own.
        // Logits of spread 40 at temperature 0.2 span hundreds: most exponentials underflow to 0
        // (the vector exp flushes below e^−87), the rest must still match the twin.
        for (const [cols, spread] of [
          [n, 1],
          [n + 5, 1],
          [n + 3, 40],
        ] as const) {
          const S = randomFloats(random, n * cols, spread),
            logq = randomFloats(random, cols),
            ids = randomInts(random, cols, Math.max(1, n >> 1));
          for (const [withQ, withIds] of [
            [false, false],
            [true, true],
          ]) {
            const dS = new Float64Array(n * cols),
              wantLosses = new Float64Array(n);
            softmaxXent(dS, f64(S), withQ ? f64(logq) : null, withIds ? ids : null, wantLosses, n, cols, 0, n, 0.2);
            const [pS, pq, pid, pl] = [putFloats(B, S), putFloats(B, logq), putInts(B, ids), B.alloc(8 * n)];
            // Two row ranges, as two threads would take them: rows are independent.
            const half = Math.floor(n / 2);
            B.kernels.softmax_xent(pS, pS, withQ ? pq : 0, withIds ? pid : 0, pl, n, cols, 0, half, 0.2);
            B.kernels.softmax_xent(pS, pS, withQ ? pq : 0, withIds ? pid : 0, pl, n, cols, half, n - half, 0.2);
            expectClose(new Float64Array(B.memory.buffer, pl, n), wantLosses, 1e-4, 1e-4);
            expectClose(getFloats(B, pS, n * cols), dS, 2e-5, 1e-4);
            [pS, pq, pid, pl].forEach((p) => B.free(p));
          }
        }
        [ps, py, pds].forEach((p) => B.free(p));
      }
    }
  });

  it('ccl_loss and the row normalisation (forward, backward in place) on odd sizes, in two row ranges', () => {
    for (const B of builds) {
      const random = new Random(13);
      for (const n of [1, 3, 5, 17, 63]) {
        for (const d of [1, 3, 7, 64]) {
          const x = randomFloats(random, n * d, 2),
            dy = randomFloats(random, n * d);
          const y = new Float64Array(n * d),
            norms = new Float64Array(n),
            dx = new Float64Array(n * d);
          l2NormalizeRows(y, norms, f64(x), n, d);
          l2NormalizeBackward(dx, f64(dy), y, norms, n, d);
          const [px, pn, pdy] = [putFloats(B, x), B.alloc(4 * n), putFloats(B, dy)];
          const half = Math.floor(n / 2);
          B.kernels.l2_normalize_rows(px, pn, px, half, d); // in place, as a second range would be
          B.kernels.l2_normalize_rows(px + half * d * 4, pn + half * 4, px + half * d * 4, n - half, d);
          expectClose(getFloats(B, px, n * d), y, 1e-5, 1e-5);
          expectClose(getFloats(B, pn, n), norms, 1e-5, 1e-5);
          B.kernels.l2_normalize_backward(pdy, pdy, px, pn, n, d);
          expectClose(getFloats(B, pdy, n * d), dx, 1e-4, 1e-4);
          [px, pn, pdy].forEach((p) => B.free(p));
        }
        for (const cols of [n, n + 5]) {
          const S = Float32Array.from(randomFloats(random, n * cols), (v) => Math.tanh(v)),
            ids = randomInts(random, cols, Math.max(1, n >> 1));
          for (const [withIds, margin, weight, from] of [
            [false, 0.2, 1, 0],
            [true, -0.1, 7.5, 0],
            [true, 0.1, 3, n],
          ] as const) {
            const dS = new Float64Array(n * cols),
              wantLosses = new Float64Array(n);
            cclLoss(dS, f64(S), withIds ? ids : null, wantLosses, n, cols, from, 0, n, margin, weight);
            const [pS, pid, pl] = [putFloats(B, S), putInts(B, ids), B.alloc(8 * n)];
            const half = Math.floor(n / 2);
            B.kernels.ccl_loss(pS, pS, withIds ? pid : 0, pl, n, cols, from, 0, half, margin, weight);
            B.kernels.ccl_loss(pS, pS, withIds ? pid : 0, pl, n, cols, from, half, n - half, margin, weight);
            expectClose(new Float64Array(B.memory.buffer, pl, n), wantLosses, 1e-4, 1e-4);
            expectClose(getFloats(B, pS, n * cols), dS, 1e-6, 1e-5);
            [pS, pid, pl].forEach((p) => B.free(p));
          }
        }
      }
    }
  });

  it('rank_targets counts the items ranked ahead, with ties to the lower index and exclusions skipped', () => {
    for (const B of builds) {
      const scores = Float32Array.of(0.5, 0.9, 0.5, 0.1, 0.9, 0.3);
      const targets = Int32Array.of(2, 4, 5),
        ex = Int32Array.of(1);
      const want = new Int32Array(3);
      rankTargets(want, f64(scores), 6, targets, 3, ex, 1);
      // Item 2 (0.5): ahead are 4 (0.9) and 0 (0.5, lower index); 1 is excluded → rank 3.
      // Item 4 (0.9): nothing ahead once 1 is excluded → rank 1. Item 5 (0.3): 0, 2, 4 → rank 4.
      expect(Array.from(want)).toEqual([3, 1, 4]);
      const [ps, pt, pe, pr] = [putFloats(B, scores), putInts(B, targets), putInts(B, ex), B.alloc(12)];
      B.kernels.rank_targets(pr, ps, 6, pt, 3, pe, 1);
      expect(Array.from(B.ints(pr, 3))).toEqual([3, 1, 4]);
      [ps, pt, pe, pr].forEach((p) => B.free(p));
    }
  });
});

const USERS = 6,
  ITEMS = 8;
function idConfig(bias = false): TwoTowerConfig {
  return {
    dim: 4,
    user: { features: [{ kind: 'id', name: 'u', vocabSize: USERS, dim: 5 }], hidden: [6] },
    item: {
      features: [
        { kind: 'id', name: 'i', vocabSize: ITEMS, dim: 3 },
        { kind: 'numeric', name: 'x', size: 2 },
      ],
      hidden: [5],
    },
    seed: 4,
    embeddingInitStd: 0.4,
    ...(bias ? { bias: { item: true, user: true, global: true } } : {}),
  };
}
const itemFeatures = { count: ITEMS, columns: { x: Float32Array.from({ length: ITEMS * 2 }, (_, i) => Math.sin(i)) } };

describe('implicit gradients by central finite differences (f64 reference)', () => {
  it.each([
    ['softmax', LOSSES.softmax, false],
    ['bpr', LOSSES.bpr, true],
    ['bce', LOSSES.bce, true],
  ] as const)('%s', async (_name, loss, bias) => {
    const model = await createModel(idConfig(bias), { backend: new ReferenceBackend(), itemFeatures });
    const random = new Random(3);
    const n = 8;
    const users = randomInts(random, n, USERS),
      items = Int32Array.of(0, 1, 2, 2, 3, 4, 5, 7);
    const targets = Float32Array.from({ length: n }, (_, r) => (r % 2 ? 1 : 0));
    const c = core(model),
      store = c.store;
    c.stagePairs(users, items, targets);
    const scratch = TrainScratch.of(c);
    scratch.reserve(n);
    c.backend.floats(scratch.logq, n).set(randomFloats(random, n));
    const settings = { negatives: 1, logQCorrection: true, removeAccidentalHits: true, temperature: 0.5 };
    expectFiniteDifferences(store, () => lossAndGradients(c, n, loss, { l2: 0.1, biasL2: 0 }, settings));
    model.dispose();
  });

  it("softmax with uniform negatives: extra item rows (one of them a row's own positive, one seen only there)", async () => {
    const model = await createModel(idConfig(), { backend: new ReferenceBackend(), itemFeatures });
    const random = new Random(5);
    const n = 6,
      extra = 3;
    const users = randomInts(random, n + extra, USERS),
      items = Int32Array.of(0, 1, 2, 2, 3, 4, /* extras: */ 6, 1, 6);
    const c = core(model),
      store = c.store;
    c.stagePairs(users, items, new Float32Array(n + extra));
    const scratch = TrainScratch.of(c);
    scratch.reserve(n, n + extra);
    c.backend.floats(scratch.logq, n + extra).set(randomFloats(random, n + extra));
    const settings = {
      negatives: 1,
      logQCorrection: true,
      removeAccidentalHits: true,
      temperature: 0.5,
      uniformNegatives: extra,
    };
    expectFiniteDifferences(store, () => lossAndGradients(c, n, LOSSES.softmax, { l2: 0.1, biasL2: 0 }, settings));
    model.dispose();
  });
});

describe('ccl gradients by central finite differences (f64 reference)', () => {
  it.each([
    ['in-batch only', 0, true],
    ["with uniform negatives (one a row's own positive)", 3, true],
    ['uniform negatives only (inBatchNegatives: false)', 3, false],
  ] as const)('%s', async (_name, extra, inBatchNegatives) => {
    const model = await createModel(idConfig(), { backend: new ReferenceBackend(), itemFeatures });
    const random = new Random(7);
    const n = 6;
    const users = randomInts(random, n + extra, USERS),
      items = Int32Array.of(0, 1, 2, 2, 3, 4, /* extras: */ 6, 1, 6).subarray(0, n + extra);
    const c = core(model),
      store = c.store;
    c.stagePairs(users, items, new Float32Array(n + extra));
    TrainScratch.of(c).reserve(n, n + extra);
    // A margin below most cosines of this small random model, so the hinges are active (and away from their kinks).
    const settings = {
      negatives: 1,
      logQCorrection: false,
      removeAccidentalHits: true,
      temperature: 1,
      uniformNegatives: extra,
      margin: -0.9,
      negativeWeight: 3,
      inBatchNegatives,
    };
    expectFiniteDifferences(store, () => lossAndGradients(c, n, LOSSES.ccl, { l2: 0.1, biasL2: 0 }, settings));
    model.dispose();
  });
});

describe('the logQ correction', () => {
  it('on data drawn from a known softmax, the corrected model ranks items closer to the truth and popular items no longer too low', async () => {
    // Truth: user u clicks item i with probability ∝ exp(⟨p_u, q_i⟩ + popularity_i). In-batch
    // negatives are drawn ∝ popularity, so without the correction popular items are pushed
    // down as negatives too often; subtracting log q(item) removes that sampling bias.
    const random = new Random(21);
    const nu = 300,
      ni = 120,
      k = 4;
    const p = randomFloats(random, nu * k, 0.7),
      q = randomFloats(random, ni * k, 0.7);
    const pop = Float32Array.from({ length: ni }, (_, i) => 2.5 * (1 - i / ni)); // item 0 most popular
    const truth = (u: number, i: number) => {
      let s = pop[i]!;
      for (let c = 0; c < k; c++) s += p[u * k + c]! * q[i * k + c]!;
      return s;
    };
    const users: number[] = [],
      items: number[] = [];
    for (let u = 0; u < nu; u++) {
      const w = Array.from({ length: ni }, (_, i) => Math.exp(truth(u, i)));
      const total = w.reduce((a, b) => a + b, 0);
      for (let t = 0; t < 40; t++) {
        let x = random.next() * total,
          i = 0;
        while (x > w[i]! && i < ni - 1) x -= w[i++]!;
        users.push(u);
        items.push(i);
      }
    }
    const train = { users: Int32Array.from(users), items: Int32Array.from(items), ratings: new Float32Array(users.length) };
    const config: TwoTowerConfig = {
      dim: 8,
      seed: 2,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: nu, dim: 8 }], project: false },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: ni, dim: 8 }], project: false },
    };
    const fitWith = async (logQCorrection: boolean) => {
      const model = await createModel(config);
      model.fit(train, {
        loss: 'softmax',
        epochs: 8,
        batchSize: 128,
        learningRate: 0.01,
        temperature: 1,
        logQCorrection,
        seed: 3,
      });
      return model;
    };
    const corrected = await fitWith(true),
      uncorrected = await fitWith(false);
    // How far each model's scores are from the truth, up to a per-user shift (softmax is shift-invariant).
    const error = (m: Model) => {
      let e = 0;
      for (let u = 0; u < nu; u++) {
        const s = m.rows.predict(
          new Int32Array(ni).fill(u),
          Int32Array.from({ length: ni }, (_, i) => i),
        );
        const diff = Array.from(s, (x, i) => x - truth(u, i));
        const mean = diff.reduce((a, b) => a + b, 0) / ni;
        e += diff.reduce((a, d) => a + (d - mean) ** 2, 0) / ni;
      }
      return e / nu;
    };
    // Mean rank (0 = best) of the 10 most popular items in each user's ranking.
    const popularRank = (m: Model) => {
      let total = 0;
      for (let u = 0; u < nu; u++) {
        const s = m.rows.predict(
          new Int32Array(ni).fill(u),
          Int32Array.from({ length: ni }, (_, i) => i),
        );
        for (let i = 0; i < 10; i++) total += s.filter((x) => x > s[i]!).length;
      }
      return total / (nu * 10);
    };
    const truthModel = {
      rows: { predict: (us: Int32Array, is: Int32Array) => Float32Array.from(is, (i, r) => truth(us[r]!, i)) },
    } as unknown as Model;
    expect(error(corrected)).toBeLessThan(error(uncorrected));
    const [rankTruth, rankCorrected, rankUncorrected] = [
      popularRank(truthModel),
      popularRank(corrected),
      popularRank(uncorrected),
    ];
    expect(rankUncorrected).toBeGreaterThan(rankTruth + 5);
    expect(Math.abs(rankCorrected - rankTruth)).toBeLessThan(Math.abs(rankUncorrected - rankTruth));
    corrected.dispose();
    uncorrected.dispose();
  });
});

describe('ranking metrics, recommend and similarItems', () => {
  it('match a hand-worked ranking', async () => {
    // Pure dot products with fixed embeddings: user 0 = (1, 0); items score 5, 4, 3, 2, 1, 0.
    const model = await createModel({
      dim: 2,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: 1, dim: 2 }], project: false },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: 6, dim: 2 }], project: false },
    });
    model.setParameters({ 'user.u.embedding': [1, 0], 'item.i.embedding': [5, 0, 4, 0, 3, 0, 2, 0, 1, 0, 0, 0] });
    // Item 0 was seen in training; test items 2 and 5. Ranking without 0: 1, 2, 3, 4, 5.
    const m = model.rows.evaluateRanking(
      { users: Int32Array.of(0, 0), items: Int32Array.of(2, 5) },
      { ks: [2, 3], exclude: { users: Int32Array.of(0), items: Int32Array.of(0) } },
    );
    expect(m.users).toBe(1);
    expect(m.recall[2]).toBeCloseTo(1 / 2); // item 2 at position 2
    expect(m.recall[3]).toBeCloseTo(1 / 2);
    expect(m.ndcg[2]).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)));
    expect(m.hitRate[2]).toBe(1);
    expect(m.map[2]).toBeCloseTo(1 / 2 / 2);
    expect(m.mrr).toBeCloseTo(1 / 2);
    // Negatives: items 1, 3, 4. Item 2 beats 3 and 4 (2 of 3); item 5 beats none → AUC 2/6.
    expect(m.auc).toBeCloseTo(2 / 6);
    expect(m.coverage[2]).toBeCloseTo(2 / 6);
    model.setSeen(Int32Array.of(0), Int32Array.of(0));
    expect(Array.from(model.rows.recommend([0], { k: 3 }).indices)).toEqual([1, 2, 3]);
    expect(Array.from(model.rows.recommend([0], { k: 3, excludeSeen: false }).indices)).toEqual([0, 1, 2]);
    expect(Array.from(model.rows.recommend([0], { k: 3, allow: [5, 3, 0] }).indices)).toEqual([3, 5, -1]);
    expect(() => model.rows.recommend([1])).toThrow(/recommend: users\[0\] = 1 is not a valid user index: the model has 1 users/);
    expect(() => model.rows.recommend([0], { k: 0 })).toThrow(/k must be an integer ≥ 1, got 0/);
    model.setParameters({ 'item.i.embedding': [1, 0, 0.9, 0.1, 0, 1, -1, 0, 0.1, 0.9, 0.7, 0.7] });
    expect(Array.from(model.rows.similarItems(0, { k: 2 }).indices)).toEqual([1, 5]);
    model.dispose();
  });
});

describe('history-pooled user tower and cold start', () => {
  it.each(['mean', 'attention'] as const)('a new user is served from their items alone (%s pooling)', async (pooling) => {
    // 4 clusters of 10 items; each user interacts with 6 items of one cluster.
    const random = new Random(30);
    const nu = 200,
      ni = 40;
    const users: number[] = [],
      items: number[] = [];
    const history: number[][] = Array.from({ length: nu + 1 }, () => []);
    for (let u = 1; u <= nu; u++) {
      const cluster = u % 4;
      const mine = new Set<number>();
      while (mine.size < 6) mine.add(cluster * 10 + random.int(10));
      for (const i of mine) {
        users.push(u);
        items.push(i);
        history[u]!.push(i);
      }
    }
    const offsets = new Int32Array(nu + 2);
    history.forEach((h, u) => (offsets[u + 1] = offsets[u]! + h.length));
    const model = await createModel(
      {
        dim: 8,
        seed: 5,
        user: {
          features: [
            { kind: 'id', name: 'user', vocabSize: nu + 1, dim: 8 },
            { kind: 'multiHot', name: 'history', vocabSize: ni, dim: 8, pooling },
          ],
        },
        item: { features: [{ kind: 'id', name: 'item', vocabSize: ni, dim: 8 }], project: false },
      },
      { userFeatures: { count: nu + 1, columns: { history: { offsets, ids: Int32Array.from(history.flat()) } } } },
    );
    model.fit(
      { users: Int32Array.from(users), items: Int32Array.from(items), ratings: new Float32Array(users.length) },
      { loss: 'softmax', epochs: 30, batchSize: 64, learningRate: 0.01, temperature: 0.2, seed: 2 },
    );
    const newcomer = [20, 23, 27]; // cluster 2
    const top = model.rows.recommendFromHistory([newcomer], { k: 5 });
    const fromCluster = Array.from(top.indices).filter((i) => i >= 20 && i < 30).length;
    expect(fromCluster).toBeGreaterThanOrEqual(4);
    for (const i of newcomer) expect(Array.from(top.indices)).not.toContain(i);
    // The model's own users are untouched by the cold-start pass.
    expect(model.userCount).toBe(nu + 1);
    expect(model.rows.recommend([1], { k: 3 }).indices).toEqual(model.rows.recommend([1], { k: 3 }).indices);
    model.dispose();
  });

  it('a model without a history feature says so', async () => {
    const model = await createModel(idConfig(), { itemFeatures });
    expect(() => model.rows.recommendFromHistory([[1, 2]])).toThrow(
      /the user tower has no multi-hot feature "history" over the 8 items/,
    );
    model.dispose();
  });
});

describe('recommend caches the item index until the model changes', () => {
  it('a second call reuses it, and fit() or new item features invalidate it', async () => {
    const model = await createModel(idConfig(true), { itemFeatures });
    const data = {
      users: Int32Array.of(0, 1, 2, 3, 4, 5, 0, 1),
      items: Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7),
      ratings: Float32Array.of(1, 2, 3, 4, 5, 1, 2, 3),
    };
    model.fit(data, { epochs: 1, batchSize: 4 });
    const first = model.rows.recommend([0, 1], { k: 4 });
    const blocks = model.memory().liveBlocks;
    expect(model.rows.recommend([0, 1], { k: 4 })).toEqual(first);
    expect(model.memory().liveBlocks).toBe(blocks);
    model.fit(data, { epochs: 3, batchSize: 4, learningRate: 0.05 });
    const after = model.rows.recommend([0, 1], { k: 4 });
    const fresh = await createModel(idConfig(true), { itemFeatures });
    fresh.setParameters(model.parameters());
    core(fresh).seen = core(model).seen;
    expect(after).toEqual(fresh.rows.recommend([0, 1], { k: 4 }));
    expect(after.scores).not.toEqual(first.scores);
    model.dispose();
    fresh.dispose();
    expect(model.memory().liveBlocks).toBe(0);
  });
});

describe('uniform negatives (mixed negative sampling)', () => {
  it('are seeded (the same fit twice gives the same model), change training, and 0 is the default', async () => {
    const random = new Random(8);
    const train = {
      users: randomInts(random, 400, USERS),
      items: Int32Array.from({ length: 400 }, () => Math.min(ITEMS - 1, Math.floor(random.next() ** 3 * ITEMS))),
      ratings: new Float32Array(400),
    };
    const scores = async (options: { uniformNegatives?: number }) => {
      const model = await createModel(idConfig(), { itemFeatures });
      model.fit(train, { loss: 'softmax', epochs: 2, batchSize: 32, seed: 3, ...options });
      const s = model.rows.predict(
        Int32Array.from({ length: USERS * ITEMS }, (_, i) => Math.floor(i / ITEMS)),
        Int32Array.from({ length: USERS * ITEMS }, (_, i) => i % ITEMS),
      );
      model.dispose();
      return Array.from(s);
    };
    const plain = await scores({}),
      zero = await scores({ uniformNegatives: 0 }),
      mixed = await scores({ uniformNegatives: 5 }),
      again = await scores({ uniformNegatives: 5 });
    expect(zero).toEqual(plain);
    expect(again).toEqual(mixed);
    expect(mixed).not.toEqual(plain);
    const model = await createModel(idConfig(), { itemFeatures });
    expect(() => model.fit(train, { loss: 'softmax', uniformNegatives: -1 })).toThrow(/uniformNegatives/);
    expect(() => model.fit(train, { loss: 'softmax', uniformNegatives: 1.5 })).toThrow(/uniformNegatives/);
    model.dispose();
  });
});

describe('ccl training', () => {
  it('trains on in-batch and uniform negatives (seeded, finite, options change it) and refuses bad options', async () => {
    const random = new Random(9);
    const train = {
      users: randomInts(random, 400, USERS),
      items: Int32Array.from({ length: 400 }, () => Math.min(ITEMS - 1, Math.floor(random.next() ** 3 * ITEMS))),
      ratings: new Float32Array(400),
    };
    const scores = async (options: FitOptions) => {
      const model = await createModel(idConfig(), { itemFeatures });
      const result = model.fit(train, { loss: 'ccl', epochs: 2, batchSize: 32, seed: 3, ...options });
      expect(result.history.every((e) => Number.isFinite(e.loss))).toBe(true);
      const s = model.rows.predict(
        Int32Array.from({ length: USERS * ITEMS }, (_, i) => Math.floor(i / ITEMS)),
        Int32Array.from({ length: USERS * ITEMS }, (_, i) => i % ITEMS),
      );
      model.dispose();
      return Array.from(s);
    };
    const plain = await scores({}),
      mixed = await scores({ uniformNegatives: 7, margin: 0.2, negativeWeight: 5 }),
      again = await scores({ uniformNegatives: 7, margin: 0.2, negativeWeight: 5 }),
      only = await scores({ uniformNegatives: 7, margin: 0.2, negativeWeight: 5, inBatchNegatives: false });
    expect(again).toEqual(mixed);
    expect(mixed).not.toEqual(plain);
    expect(only).not.toEqual(mixed);
    const model = await createModel(idConfig(), { itemFeatures });
    expect(() => model.fit(train, { loss: 'ccl', margin: 1 })).toThrow(/margin/);
    expect(() => model.fit(train, { loss: 'ccl', negativeWeight: -1 })).toThrow(/negativeWeight/);
    expect(() => model.fit(train, { loss: 'ccl', inBatchNegatives: 'no' as unknown as boolean })).toThrow(/inBatchNegatives/);
    model.dispose();
  });
});
