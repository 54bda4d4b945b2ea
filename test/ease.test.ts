// EASE (assembly/ease.ts, src/reference/ease.ts, src/api/ease.ts): the kernels against their f64
// twins, the inverse's defining property, and the trained model as an ordinary two-tower Model
// whose every score is Σ_{j ∈ history} B_ji.
import { describe, it, expect, beforeAll } from 'vitest';
import type { WasmBackend } from '../src/wasm/load.js';
import type { Backend } from '../src/backend/contract.js';
import { ReferenceBackend } from '../src/reference/backend.js';
import { easeGram, spdInverse, easeWeights, dlaeWeights } from '../src/reference/ease.js';
import { trainEase, EASE_MAX_ITEMS, type EaseOptions } from '../src/api/ease.js';
import type { RecipeData } from '../src/api/recipe-config.js';
import { Vocabulary } from '../src/data/vocabulary.js';
import { csrFromLists } from '../src/data/csr.js';
import { carveValidation, trainingRows } from '../src/train/prepare.js';
import { TwoTowerError } from '../src/errors.js';
import { wasmBuilds, Random, putFloats, putInts, getFloats, expectClose } from './helpers.js';

let builds: WasmBackend[] = [];
beforeAll(async () => {
  builds = await wasmBuilds();
});

/** Random CSR rows over m items: each user's items distinct, some users empty, one with every item. */
function users(random: Random, n: number, m: number): { offsets: Int32Array; ids: Int32Array; weights: Float32Array } {
  const offsets = new Int32Array(n + 1);
  const ids: number[] = [];
  for (let u = 0; u < n; u++) {
    const count = u % 5 === 0 ? 0 : u === 1 ? m : random.int(Math.min(m, 12) + 1);
    const all = Int32Array.from({ length: m }, (_, i) => i);
    random.shuffle(all);
    ids.push(...all.subarray(0, count));
    offsets[u + 1] = ids.length;
  }
  return { offsets, ids: Int32Array.from(ids), weights: Float32Array.from(ids, () => 0.5 + random.next()) };
}

/** A random symmetric positive-definite matrix: RᵀR/k + I (well conditioned), row-major. */
function spd(random: Random, n: number): Float64Array {
  const k = n + 3;
  const R = Float64Array.from({ length: k * n }, () => random.normal());
  const A = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += R[r * n + a]! * R[r * n + b]!;
      A[a * n + b] = s / k + (a === b ? 1 : 0);
    }
  return A;
}

function gramOn(be: Backend, p: ReturnType<typeof users>, n: number, m: number, weighted: boolean, prefill: Float64Array) {
  const G = putFloats(be, prefill);
  be.kernels.ease_gram(G, putInts(be, p.offsets), putInts(be, p.ids), weighted ? putFloats(be, p.weights) : 0, n, m);
  return getFloats(be, G, m * m);
}

function inverseOn(be: Backend, A: ArrayLike<number>, n: number, shift: number): { status: number; inverse: Float64Array } {
  const p = putFloats(be, A);
  const status = be.kernels.spd_inverse(p, n, shift);
  return { status, inverse: getFloats(be, p, n * n) };
}

function product(A: ArrayLike<number>, B: ArrayLike<number>, n: number): Float64Array {
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const a = A[i * n + k]!;
      for (let j = 0; j < n; j++) C[i * n + j]! += a * B[k * n + j]!;
    }
  return C;
}

const identity = (n: number) => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));

describe('EASE kernels', () => {
  it('ease_gram adds x_a·x_b for every ordered pair of each user’s items (empty users, a user with all items), on top of G', () => {
    const random = new Random(3);
    for (const [n, m] of [
      [1, 1],
      [7, 5],
      [23, 13],
      [40, 1],
    ] as const) {
      const p = users(random, n, m);
      const prefill = Float64Array.from({ length: m * m }, () => random.int(3));
      for (const weighted of [false, true]) {
        // Independent of the twin: the dense definition G += XᵀX over the rows' weights.
        const X = new Float64Array(n * m);
        for (let u = 0; u < n; u++)
          for (let q = p.offsets[u]!; q < p.offsets[u + 1]!; q++)
            X[u * m + p.ids[q]!] = weighted ? Math.fround(p.weights[q]!) : 1;
        const expected = Float64Array.from(prefill);
        for (let u = 0; u < n; u++)
          for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) expected[a * m + b]! += X[u * m + a]! * X[u * m + b]!;
        const twin = Float64Array.from(prefill);
        const w = Float64Array.from(p.weights, (x) => Math.fround(x));
        easeGram(twin, p.offsets, p.ids, weighted ? w : null, n, m);
        expectClose(twin, expected, 1e-12);
        // Counts are exact in f32; weighted sums agree within f32 rounding.
        for (const be of [...builds, new ReferenceBackend()])
          expectClose(gramOn(be, p, n, m, weighted, prefill), expected, weighted ? 1e-5 : 0);
      }
    }
  });

  it('spd_inverse: A·A⁻¹ = I (the twin to 1e-10, the kernels to f32 precision) on sizes 1 to 130 with a shift, and the kernels agree with the twin', () => {
    const random = new Random(5);
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 17, 31, 64, 130]) {
      const A = spd(random, n);
      const shift = n % 2 ? 0.5 : 0;
      const shifted = Float64Array.from(A, (x, i) => x + (i % (n + 1) === 0 ? shift : 0));
      const twin = Float64Array.from(A);
      expect(spdInverse(twin, n, shift)).toBe(0);
      expectClose(product(shifted, twin, n), identity(n), 1e-10);
      // The inverse is symmetric, written in full.
      for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) expect(twin[a * n + b]).toBeCloseTo(twin[b * n + a]!, 12);
      const f32 = Float32Array.from(A);
      for (const be of builds) {
        const { status, inverse } = inverseOn(be, f32, n, shift);
        expect(status).toBe(0);
        expectClose(product(shifted, inverse, n), identity(n), 2e-4);
        expectClose(inverse, twin, 1e-4, 1e-4);
        for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) expect(inverse[a * n + b]).toBe(inverse[b * n + a]);
      }
      const ref = new ReferenceBackend();
      expectClose(inverseOn(ref, A, n, shift).inverse, twin, 0);
    }
  });

  it('spd_inverse reads only the lower triangle, and says which pivot fails when the matrix is not positive definite', () => {
    const random = new Random(9);
    const n = 11;
    const A = spd(random, n);
    const garbage = Float32Array.from(A, (x, i) => (i % n > Math.floor(i / n) ? 1e6 * random.normal() : x));
    const clean = Float32Array.from(A);
    for (const be of builds) expect(inverseOn(be, garbage, n, 0).inverse).toEqual(inverseOn(be, clean, n, 0).inverse);
    // A zero row and column at index 6: pivot 6 is 0.
    const singular = Float64Array.from(A, (x, i) => (i % n === 6 || Math.floor(i / n) === 6 ? 0 : x));
    for (const be of [...builds, new ReferenceBackend()]) expect(inverseOn(be, singular, n, 0).status).toBe(7);
    expect(spdInverse(Float64Array.from(singular), n, 0)).toBe(7);
    // A shift makes it positive definite again.
    for (const be of builds) expect(inverseOn(be, singular, n, 1).status).toBe(0);
  });

  it('dlae_weights: B_ij = δ_ij − P_ij·Λ_j, the kernels as the twin on odd sizes', () => {
    const random = new Random(17);
    for (const m of [1, 3, 7, 18]) {
      const P = spd(random, m);
      const penalty = Float64Array.from({ length: m }, () => 1 + 10 * random.next());
      const expected = Float64Array.from({ length: m * m }, (_, k) => {
        const i = Math.floor(k / m),
          j = k % m;
        return (i === j ? 1 : 0) - P[k]! * penalty[j]!;
      });
      const twin = Float64Array.from(P);
      dlaeWeights(twin, penalty, m);
      expectClose(twin, expected, 1e-15);
      for (const be of builds) {
        const p = putFloats(be, P);
        const l = putFloats(be, penalty);
        be.kernels.dlae_weights(p, l, m);
        expectClose(getFloats(be, p, m * m), expected, 1e-5, 1e-5);
      }
    }
  });

  it('ease_weights: B_ij = −P_ij / P_jj off the diagonal, 0 on it', () => {
    const random = new Random(13);
    for (const m of [1, 2, 5, 18]) {
      const P = spd(random, m);
      const expected = Float64Array.from({ length: m * m }, (_, k) => {
        const i = Math.floor(k / m),
          j = k % m;
        return i === j ? 0 : -P[k]! / P[j * m + j]!;
      });
      const twin = Float64Array.from(P);
      easeWeights(twin, m);
      expectClose(twin, expected, 1e-15);
      for (const be of builds) {
        const p = putFloats(be, P);
        be.kernels.ease_weights(p, m);
        expectClose(getFloats(be, p, m * m), expected, 1e-6, 1e-6);
      }
    }
  });
});

/** Users with tastes in two groups of items: a user's items come mostly from their group. */
function planted(seed: number, userCount = 60, itemCount = 24, perUser = 6): RecipeData {
  const random = new Random(seed);
  const users: number[] = [],
    items: number[] = [],
    ratings: number[] = [];
  for (let u = 1; u <= userCount; u++) {
    const group = u % 2;
    const picked = new Set<number>();
    while (picked.size < perUser) {
      const own = random.next() < 0.85;
      const half = Math.floor(itemCount / 2);
      const i = 1 + (own === (group === 0) ? random.int(half) : half + random.int(itemCount - half));
      picked.add(i);
    }
    for (const i of picked) {
      users.push(u);
      items.push(i);
      ratings.push(1 + random.int(5));
    }
  }
  // One pair twice: EASE counts each (user, item) once.
  users.push(users[0]!);
  items.push(items[0]!);
  ratings.push(5);
  const uv = new Vocabulary(),
    iv = new Vocabulary();
  for (let u = 1; u <= userCount; u++) uv.add(`u${u}`);
  for (let i = 1; i <= itemCount; i++) iv.add(`i${i}`);
  return {
    train: { users: Int32Array.from(users), items: Int32Array.from(items), ratings: Float32Array.from(ratings) },
    users: uv.freeze(),
    items: iv.freeze(),
  };
}

/** The data with a test fold that throws when anything reads it (as the CLI's Dataset carries one). */
function withUnreadableTest(ds: RecipeData): RecipeData {
  return Object.defineProperty({ ...ds }, 'test', {
    enumerable: true,
    get() {
      throw new Error('the search read the test fold');
    },
  });
}

/** Each user's distinct items (rows 0 … users − 1), from the data's pairs. */
function histories(pairs: { users: Int32Array; items: Int32Array }, userCount: number): number[][] {
  const sets = Array.from({ length: userCount }, () => new Set<number>());
  pairs.users.forEach((u, r) => sets[u]!.add(pairs.items[r]!));
  return sets.map((s) => [...s]);
}

/** B computed independently in f64 by the twins: XᵀX over the distinct pairs, inverted at λ, P → B. */
function referenceB(hist: number[][], m: number, lambda: number, dropout = 0): Float64Array {
  const offsets = new Int32Array(hist.length + 1);
  hist.forEach((h, u) => (offsets[u + 1] = offsets[u]! + h.length));
  const G = new Float64Array(m * m);
  easeGram(G, offsets, Int32Array.from(hist.flat()), null, hist.length, m);
  if (dropout === 0) {
    expect(spdInverse(G, m, lambda)).toBe(0);
    easeWeights(G, m);
    return G;
  }
  // DLAE, solved independently of the kernels' route: B = (G + diag Λ)⁻¹ G by the f64 inverse.
  const penalty = Float64Array.from({ length: m }, (_, j) => lambda + (dropout / (1 - dropout)) * G[j * m + j]!);
  const A = Float64Array.from(G);
  for (let j = 0; j < m; j++) A[j * m + j]! += penalty[j]!;
  expect(spdInverse(A, m, 0)).toBe(0);
  const B = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let k = 0; k < m; k++) {
      const a = A[i * m + k]!;
      if (a !== 0) for (let j = 0; j < m; j++) B[i * m + j]! += a * G[k * m + j]!;
    }
  return B;
}

/** Σ_{j ∈ history} B_ji for every item i. */
function scoresOf(B: Float64Array, history: readonly number[], m: number): Float64Array {
  const s = new Float64Array(m);
  for (const j of history) for (let i = 0; i < m; i++) s[i]! += B[j * m + i]!;
  return s;
}

/** An EASE model of planted(2) at λ 5, its B, the users' histories, and user 7 with an item j not in their history and their scores before. */
async function userSeven() {
  const ds = planted(2);
  const { model } = await trainEase(ds, { lambda: 5 });
  const m = ds.items.size,
    n = ds.users.size;
  const B = Float64Array.from(model.parameters()['user.history.embedding']!);
  const hist = histories(ds.train, n);
  const user = 7;
  const j = [...Array(m).keys()].find((i) => i > 0 && !hist[user]!.includes(i))!;
  const all = Int32Array.from({ length: m }, (_, i) => i);
  const before = model.rows.predict(new Int32Array(m).fill(user), all);
  return { ds, model, m, n, B, hist, user, j, all, before };
}

describe('trainEase', () => {
  it("every (user, item) score is Σ_{j ∈ user's training items} B_ji, B computed independently by the f64 twins; no biases, items e_i", async () => {
    const ds = planted(1);
    const lambda = 3;
    const { model, lambda: used, candidates } = await trainEase(ds, { lambda });
    expect(used).toBe(lambda);
    expect(candidates).toBeUndefined();
    const m = ds.items.size,
      n = ds.users.size;
    expect(model.dim).toBe(m);
    expect(Object.keys(model.parameters()).sort()).toEqual(['item.item.embedding', 'user.history.embedding']);
    const B = referenceB(histories(ds.train, n), m, lambda);
    // Row 0 (the unknown item) has no interactions: its row and column of B are 0.
    for (let i = 0; i < m; i++) expect(B[i]! === 0 && B[i * m]! === 0).toBe(true);
    const users = Int32Array.from({ length: n * m }, (_, k) => Math.floor(k / m));
    const items = Int32Array.from({ length: n * m }, (_, k) => k % m);
    const predicted = model.rows.predict(users, items);
    const hist = histories(ds.train, n);
    const expected = Float64Array.from({ length: n * m }, () => 0);
    for (let u = 0; u < n; u++) expected.set(scoresOf(B, hist[u]!, m), u * m);
    expectClose(predicted, expected, 2e-5, 1e-4);
    // The item tower is the identity, the user tower the sum of B's rows.
    expectClose(model.rows.itemEmbeddings(), identity(m), 0);
    expectClose(model.parameters()['user.history.embedding']!, B, 2e-6, 1e-4);
    // The same model on the f64 reference backend's B.
    const onReference = await trainEase(ds, { lambda, backend: new ReferenceBackend() });
    expectClose(onReference.model.parameters()['user.history.embedding']!, Float32Array.from(B), 0);
    onReference.model.dispose();
    model.dispose();
  });

  it('a user’s history set growing by item j changes their scores by exactly B_j· (no retraining); recommendFromHistory ranks new users by Σ B_j·', async () => {
    const { model, m, n, B, hist, user, j, all, before } = await userSeven();
    // What update() does to an interaction set: the new event appended to the user's history.
    const grown = hist.map((h, u) => (u === user ? [...h, j] : h));
    model.setUserFeatures({ count: n, columns: { history: csrFromLists(grown) } });
    const after = model.rows.predict(new Int32Array(m).fill(user), all);
    expectClose(
      Float64Array.from(after, (x, i) => x - before[i]!),
      B.subarray(j * m, (j + 1) * m),
      1e-6,
    );
    // Other users' scores are still their own Σ B_j·.
    const other = Int32Array.from({ length: m }, () => 3);
    const hist3 = scoresOf(B, hist[3]!, m);
    expectClose(model.rows.predict(other, all), hist3, 1e-6, 1e-6);
    // A new user: the ranking of Σ_{j ∈ H} B_j· over the items not in H (row 0 never recommended).
    const H = [1, 2, 14];
    const top = model.rows.recommendFromHistory([H], { k: 5 });
    const s = scoresOf(B, H, m);
    const order = [...Array(m).keys()].filter((i) => i > 0 && !H.includes(i)).sort((a, b) => s[b]! - s[a]! || a - b);
    expect(Array.from(top.indices.subarray(0, 5))).toEqual(order.slice(0, 5));
    model.dispose();
  });

  it("update() trains nothing: a user's new event adds its item's row of B to their scores, a new user is served from their events, a new item is UNKNOWN_ID", async () => {
    const { ds, model, m, B, user, j, all, before } = await userSeven();
    const result = model.update([
      { user: ds.users.key(user)!, item: ds.items.key(j)! },
      { user: 'someone new', item: ds.items.key(1)! },
    ]);
    expect(result).toMatchObject({ events: 2, newUsers: 1, newItems: 0 });
    expect(result.fit.steps).toBe(0);
    expect(model.parameters()['user.history.embedding']).toEqual(Float32Array.from(B));
    const after = model.rows.predict(new Int32Array(m).fill(user), all);
    expectClose(
      Float64Array.from(after, (x, i) => x - before[i]!),
      B.subarray(j * m, (j + 1) * m),
      1e-6,
    );
    expect(model.recommend('someone new', { k: 3 }).map((r) => r.id)).not.toContain(ds.items.key(1));
    const error = (() => {
      try {
        model.update([{ user: ds.users.key(1)!, item: 'brand-new item' }]);
      } catch (e) {
        return e as TwoTowerError;
      }
    })();
    expect(error?.code).toBe('UNKNOWN_ID');
    expect(error?.message).toMatch(
      /item "brand-new item" is new, and an EASE model has no row of B for new items: rebuild it with trainEase/,
    );
    expect(() => model.update([{ user: ds.users.key(1)!, item: ds.items.key(2)! }], { epochs: 3 })).toThrow(
      /a closed form, not trained: options epochs do not apply/,
    );
    model.dispose();
  });

  it('is deterministic: the same data and options give the same λ and the same bits', async () => {
    const ds = planted(3);
    const a = await trainEase(ds, { lambdaGrid: [1, 10, 100] });
    const b = await trainEase(ds, { lambdaGrid: [1, 10, 100] });
    expect(b.lambda).toBe(a.lambda);
    const figures = (r: typeof a) =>
      r.candidates!.map(({ lambda, validationRecall, validationNdcg }) => [lambda, validationRecall, validationNdcg]);
    expect(figures(b)).toEqual(figures(a));
    expect(b.model.parameters()['user.history.embedding']).toEqual(a.model.parameters()['user.history.embedding']);
    a.model.dispose();
    b.model.dispose();
  });

  it('chooses λ by Recall@20 on the validation split alone (the test fold is never read), then builds on all the positives', async () => {
    const ds = withUnreadableTest(planted(4, 120, 30, 8));
    const logs: string[] = [];
    const result = await trainEase(ds, { keepSearchModel: true, onLog: (line) => logs.push(line) });
    const candidates = result.candidates!;
    // The walk: 500, its neighbours 200 and 1000, then onward from the better one while it improves.
    expect(candidates.slice(0, 3).map((c) => c.lambda)).toEqual([500, 200, 1000]);
    const best = candidates.reduce((x, y) => (y.validationRecall > x.validationRecall ? y : x));
    expect(result.lambda).toBe(best.lambda);
    expect(logs).toHaveLength(candidates.length + 1);
    // The split: carved from the positives as fit() carves it; the search model's history sets
    // hold the split's training pairs only, and it scores the validation pairs as the search did.
    const { train, validation } = carveValidation(trainingRows(ds.train, { implicit: true }, undefined), 0.1, 1);
    expect(result.validation).toEqual(validation);
    // Both forms were walked: EASE (dropout 0) first, then DLAE at 0.5; the best of all is built.
    expect(new Set(candidates.map((c) => c.dropout))).toEqual(new Set([0, 0.5]));
    expect(result.dropout).toBe(best.dropout);
    const search = result.searchModel!;
    const m = ds.items.size;
    const B = referenceB(histories(train, ds.users.size), m, result.lambda, result.dropout);
    expectClose(search.parameters()['user.history.embedding']!, B, 2e-6, 1e-4);
    const again = search.rows.evaluateRanking(validation, { ks: [20], exclude: train });
    expect(again.recall[20]).toBe(best.validationRecall);
    for (let r = 0; r < validation.users.length; r++)
      expect(search.seenItems(validation.users[r]!)).not.toContain(validation.items[r]!);
    // The served model: B of every positive at the chosen λ, its seen items every training row.
    const full = referenceB(histories(ds.train, ds.users.size), m, result.lambda, result.dropout);
    expectClose(result.model.parameters()['user.history.embedding']!, full, 2e-6, 1e-4);
    expect(Array.from(result.model.seenItems(1))).toEqual(
      [...new Set(histories(ds.train, ds.users.size)[1])].sort((a, b) => a - b),
    );
    search.dispose();
    result.model.dispose();
  });

  it('a given λ is used as is; a grid is tried in order; splitSeed and minRating shape the split and the positives', async () => {
    const ds = planted(5);
    const grid = await trainEase(ds, { lambdaGrid: [50, 2, 8] });
    // The grid in order, for each of the default dropouts (EASE, then DLAE at 0.5).
    expect(grid.candidates!.map((c) => [c.lambda, c.dropout])).toEqual([
      [50, 0],
      [2, 0],
      [8, 0],
      [50, 0.5],
      [2, 0.5],
      [8, 0.5],
    ]);
    grid.model.dispose();
    const positives = trainingRows(ds.train, { implicit: true }, 4);
    const rated = await trainEase(ds, { lambda: 4, minRating: 4, splitSeed: 9 });
    expect(rated.validation).toEqual(carveValidation(positives, 0.1, 9).validation);
    const B = referenceB(histories(positives, ds.users.size), ds.items.size, 4);
    expectClose(rated.model.parameters()['user.history.embedding']!, B, 2e-6, 1e-4);
    rated.model.dispose();
    // DLAE: B = (XᵀX + diag Λ)⁻¹ XᵀX with Λ_j = λ + p/(1−p)·(XᵀX)_jj, its diagonal kept; a
    // given dropout alone walks λ at that dropout, a dropout grid at a given λ tries each.
    const dlae = await trainEase(ds, { lambda: 6, dropout: 0.4 });
    expect([dlae.lambda, dlae.dropout, dlae.candidates]).toEqual([6, 0.4, undefined]);
    const D = referenceB(histories(ds.train, ds.users.size), ds.items.size, 6, 0.4);
    expectClose(dlae.model.parameters()['user.history.embedding']!, D, 2e-5, 1e-4);
    dlae.model.dispose();
    const walked = await trainEase(ds, { dropout: 0.3 });
    expect(new Set(walked.candidates!.map((c) => c.dropout))).toEqual(new Set([0.3]));
    walked.model.dispose();
    const dropouts = await trainEase(ds, { lambda: 5, dropoutGrid: [0, 0.2, 0.6] });
    expect(dropouts.candidates!.map((c) => [c.lambda, c.dropout])).toEqual([
      [5, 0],
      [5, 0.2],
      [5, 0.6],
    ]);
    dropouts.model.dispose();
  });

  it('refuses bad options with BAD_OPTION naming the option, and a catalogue over EASE_MAX_ITEMS rows saying why', async () => {
    const ds = planted(6, 10, 8, 3);
    const cases: [Partial<EaseOptions>, string][] = [
      [{ lambda: 0 }, 'options.lambda'],
      [{ lambda: -1 }, 'options.lambda'],
      [{ lambda: Number.NaN }, 'options.lambda'],
      [{ lambdaGrid: [] }, 'options.lambdaGrid'],
      [{ lambdaGrid: [1, -2] }, 'options.lambdaGrid[1]'],
      [{ dropout: 1 }, 'options.dropout'],
      [{ dropout: -0.1 }, 'options.dropout'],
      [{ dropoutGrid: [] }, 'options.dropoutGrid'],
      [{ dropoutGrid: [0, Number.NaN] }, 'options.dropoutGrid[1]'],
      [{ seed: 1.5 }, 'options.seed'],
      [{ splitSeed: Number.POSITIVE_INFINITY }, 'options.splitSeed'],
      [{ validationFraction: 0 }, 'options.validationFraction'],
      [{ validationFraction: 1 }, 'options.validationFraction'],
      [{ minRating: Number.NaN }, 'options.minRating'],
      [{ threads: 0 }, 'options.threads'],
      [{ keepSearchModel: 'yes' as unknown as boolean }, 'options.keepSearchModel'],
      [{ onLog: 3 as unknown as () => void }, 'options.onLog'],
    ];
    for (const [options, option] of cases) {
      const error = await trainEase(ds, options).catch((e: unknown) => e);
      expect(error, option).toBeInstanceOf(TwoTowerError);
      expect((error as TwoTowerError).code).toBe('BAD_OPTION');
      expect((error as TwoTowerError).message).toContain(option);
    }
    const big = new Vocabulary();
    for (let i = 0; i < EASE_MAX_ITEMS; i++) big.add(`i${i}`);
    const error = await trainEase({ ...ds, items: big.freeze() }, { lambda: 1 }).catch((e: unknown) => e);
    expect((error as TwoTowerError).code).toBe('BAD_OPTION');
    expect((error as TwoTowerError).message).toMatch(/6001 item rows.*\|I\|².*\|I\|³/);
  });
});
