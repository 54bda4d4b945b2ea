// I-AutoRec (assembly/autorec.ts, src/reference/autorec.ts, src/train/autorec.ts,
// src/api/autorec.ts): the kernels against their f64 twins, the twins' gradients against central
// finite differences, and the trained model as an ordinary two-tower Model.
import { describe, it, expect, beforeAll } from 'vitest';
import type { WasmBackend } from '../src/wasm/load.js';
import { loadWasmBackend } from '../src/wasm/load.js';
import type { Backend } from '../src/backend/contract.js';
import { ReferenceBackend } from '../src/reference/backend.js';
import { autorecEncode, autorecGrad } from '../src/reference/autorec.js';
import { trainAutoRecRows, type AutoRecRows, type AutoRecSettings } from '../src/train/autorec.js';
import { trainAutoRec, AUTOREC_DEFAULTS, type AutoRecOptions } from '../src/api/autorec.js';
import type { RecipeData } from '../src/api/recipe-config.js';
import { loadModel } from '../src/api/model.js';
import { Vocabulary } from '../src/data/vocabulary.js';
import { TwoTowerError } from '../src/errors.js';
import { wasmBuilds, Random, randomFloats, putFloats, putInts, getFloats, expectClose } from './helpers.js';

let builds: WasmBackend[] = [];
beforeAll(async () => {
  builds = await wasmBuilds();
});

/**
 * Random I-AutoRec inputs: `users` × `h` tables, and items whose rater counts include 0, 1 and
 * many (every user), ratings in 1..5, in item-major CSR.
 */
function problem(seed: number, users: number, items: number, h: number) {
  const random = new Random(seed);
  const counts = Array.from({ length: items }, (_, i) => (i === 0 ? 0 : i === 1 ? 1 : i === 2 ? users : 1 + random.int(users)));
  const offsets = new Int32Array(items + 1);
  const raters: number[] = [],
    ratings: number[] = [];
  counts.forEach((count, i) => {
    const who = Int32Array.from({ length: users }, (_, u) => u);
    random.shuffle(who);
    for (let k = 0; k < count; k++) {
      raters.push(who[k]!);
      ratings.push(1 + random.int(5));
    }
    offsets[i + 1] = offsets[i]! + count;
  });
  const order = Int32Array.from({ length: items }, (_, i) => i);
  random.shuffle(order);
  return {
    V: randomFloats(random, users * h, 0.3),
    b: randomFloats(random, h, 0.3),
    W: randomFloats(random, users * h, 0.3),
    c: randomFloats(random, users, 1),
    offsets,
    raters: Int32Array.from(raters),
    ratings: Float32Array.from(ratings),
    items: order,
  };
}
type Problem = ReturnType<typeof problem>;

/** Runs autorec_grad on a backend (gradients pre-filled with `prefill`); returns loss and gradients. */
function gradOn(be: Backend, p: Problem, users: number, h: number, leaveOut: boolean, tanh: boolean, scale: number, prefill = 0) {
  const fill = (n: number) => new Float64Array(n).fill(prefill);
  const ptrs = {
    dV: putFloats(be, fill(users * h)),
    db: putFloats(be, fill(h)),
    dW: putFloats(be, fill(users * h)),
    dc: putFloats(be, fill(users)),
    scratch: be.alloc(4 * h * be.floatBytes),
    V: putFloats(be, p.V),
    b: putFloats(be, p.b),
    W: putFloats(be, p.W),
    c: putFloats(be, p.c),
    offsets: putInts(be, p.offsets),
    raters: putInts(be, p.raters),
    ratings: putFloats(be, p.ratings),
    items: putInts(be, p.items),
  };
  const loss = be.kernels.autorec_grad(
    ptrs.dV,
    ptrs.db,
    ptrs.dW,
    ptrs.dc,
    ptrs.scratch,
    ptrs.V,
    ptrs.b,
    ptrs.W,
    ptrs.c,
    ptrs.offsets,
    ptrs.raters,
    ptrs.ratings,
    ptrs.items,
    p.items.length,
    h,
    leaveOut ? 1 : 0,
    tanh ? 1 : 0,
    scale,
  );
  const out = {
    loss,
    dV: getFloats(be, ptrs.dV, users * h),
    db: getFloats(be, ptrs.db, h),
    dW: getFloats(be, ptrs.dW, users * h),
    dc: getFloats(be, ptrs.dc, users),
  };
  for (const ptr of Object.values(ptrs)) be.free(ptr);
  return out;
}

function encodeOn(be: Backend, p: Problem, items: number, h: number, tanh: boolean): Float64Array {
  const ptrs = [be.alloc(items * h * be.floatBytes), putFloats(be, p.V), putFloats(be, p.b), putInts(be, p.offsets)];
  const more = [putInts(be, p.raters), putFloats(be, p.ratings)];
  be.kernels.autorec_encode(ptrs[0]!, ptrs[1]!, ptrs[2]!, ptrs[3]!, more[0]!, more[1]!, items, h, tanh ? 1 : 0);
  const out = getFloats(be, ptrs[0]!, items * h);
  for (const ptr of [...ptrs, ...more]) be.free(ptr);
  return out;
}

const SHAPES = [
  { users: 5, items: 6, h: 1 },
  { users: 7, items: 6, h: 3 },
  { users: 9, items: 8, h: 17 },
  { users: 6, items: 5, h: 130 },
];

describe('autorec kernels against the f64 reference', () => {
  describe.each(['simd', 'relaxed'] as const)('%s build', (kind) => {
    const be = () => builds.find((b) => b.kind === kind)!;
    for (const { users, items, h } of SHAPES) {
      for (const tanh of [false, true]) {
        for (const leaveOut of [false, true]) {
          it(`autorec_grad: loss and every gradient agree (users ${users}, items ${items} with 0/1/all raters, h ${h}, ${tanh ? 'tanh' : 'sigmoid'}, leaveOut ${leaveOut}), and the gradients are ADDED to what the buffers held`, () => {
            const p = problem(h * 31 + users, users, items, h);
            const expected = gradOn(new ReferenceBackend(), p, users, h, leaveOut, tanh, 0.37, 0.5);
            const actual = gradOn(be(), p, users, h, leaveOut, tanh, 0.37, 0.5);
            expect(actual.loss).toBeCloseTo(expected.loss, Math.max(1, 4 - Math.log10(Math.max(1, expected.loss))));
            expect(Math.abs(actual.loss - expected.loss)).toBeLessThan(1e-4 * Math.max(1, expected.loss));
            for (const key of ['dV', 'db', 'dW', 'dc'] as const) {
              const scale = Math.max(1, ...Array.from(expected[key], Math.abs));
              expectClose(actual[key], expected[key], 2e-4 * scale, 2e-4);
            }
          });
        }
        it(`autorec_encode: every item's vector agrees (users ${users}, items ${items}, h ${h}, ${tanh ? 'tanh' : 'sigmoid'}), an item with no raters gets act(b)`, () => {
          const p = problem(h * 7 + items, users, items, h);
          const expected = encodeOn(new ReferenceBackend(), p, items, h, tanh);
          const actual = encodeOn(be(), p, items, h, tanh);
          expectClose(actual, expected, 2e-6, 2e-5);
          const act = (x: number) => (tanh ? Math.tanh(x) : 1 / (1 + Math.exp(-x)));
          expectClose(actual.subarray(0, h), Array.from(p.b, act), 2e-6, 2e-5);
        });
      }
    }
  });

  it('autorec_grad with an empty item list or only rater-less items returns 0 and writes nothing', () => {
    const p = problem(3, 4, 3, 5);
    p.items = Int32Array.from([0]);
    for (const be of [...builds, new ReferenceBackend()]) {
      const out = gradOn(be, p, 4, 5, true, false, 1);
      expect(out.loss).toBe(0);
      for (const key of ['dV', 'db', 'dW', 'dc'] as const) expect(Array.from(out[key]).every((x) => x === 0)).toBe(true);
    }
  });
});

describe('autorec reference gradients by central finite differences (f64)', () => {
  for (const tanh of [false, true]) {
    for (const leaveOut of [false, true]) {
      it(`every parameter's gradient is the derivative of scale·Σ(r̂ − r)² (${tanh ? 'tanh' : 'sigmoid'}, leaveOut ${leaveOut})`, () => {
        const users = 5,
          items = 5,
          h = 3,
          scale = 0.7;
        const p = problem(11, users, items, h);
        const params = {
          V: Float64Array.from(p.V),
          b: Float64Array.from(p.b),
          W: Float64Array.from(p.W),
          c: Float64Array.from(p.c),
        };
        const run = () => {
          const g = {
            V: new Float64Array(users * h),
            b: new Float64Array(h),
            W: new Float64Array(users * h),
            c: new Float64Array(users),
          };
          const loss = autorecGrad(
            g.V,
            g.b,
            g.W,
            g.c,
            params.V,
            params.b,
            params.W,
            params.c,
            p.offsets,
            p.raters,
            Float64Array.from(p.ratings),
            p.items,
            p.items.length,
            h,
            leaveOut,
            tanh,
            scale,
          );
          return { loss: scale * loss, g };
        };
        const { g } = run();
        const eps = 1e-6;
        for (const key of ['V', 'b', 'W', 'c'] as const) {
          const numeric = params[key].map((x, k) => {
            params[key][k] = x + eps;
            const up = run().loss;
            params[key][k] = x - eps;
            const down = run().loss;
            params[key][k] = x;
            return (up - down) / (2 * eps);
          });
          expectClose(g[key], numeric, 1e-5, 1e-6);
        }
      });
    }
  }

  it('leave-out changes the gradient only through the left-out inputs: with one rater per item, the encoder sees b alone', () => {
    const users = 4,
      h = 3;
    const p = problem(5, users, 3, h);
    // Item 1 has exactly one rater: left out, its input is empty, so its hidden vector is act(b).
    const a = new Float64Array(3 * h);
    autorecEncode(
      a,
      Float64Array.from(p.b),
      Float64Array.from(p.b),
      new Int32Array(4),
      p.raters,
      Float64Array.from(p.ratings),
      3,
      h,
      false,
    );
    const only = { ...p, items: Int32Array.from([1]) };
    const out = gradOn(new ReferenceBackend(), only, users, h, true, false, 1);
    const u = p.raters[p.offsets[1]!]!;
    let pred = p.c[u]!;
    for (let e = 0; e < h; e++) pred += p.W[u * h + e]! * a[e]!;
    expect(out.loss).toBeCloseTo((pred - p.ratings[p.offsets[1]!]!) ** 2, 10);
    // Nothing reaches V: the only input was left out.
    expect(Array.from(out.dV).every((x) => x === 0)).toBe(true);
  });
});

/** A planted structure: two user groups and two item groups; a user rates its own group's items 4.5, the other's 1.5 (± noise). */
function planted(seed: number, users = 60, items = 40, density = 0.4) {
  const random = new Random(seed);
  const group = (k: number) => k % 2;
  const rows: { u: number; i: number; r: number }[] = [];
  for (let u = 1; u <= users; u++)
    for (let i = 1; i <= items; i++)
      if (random.next() < density)
        rows.push({ u, i, r: Math.min(5, Math.max(1, (group(u) === group(i) ? 4.5 : 1.5) + 0.3 * random.normal())) });
  random.shuffle(Int32Array.from(rows.keys()));
  const order = Int32Array.from(rows.keys());
  random.shuffle(order);
  const test = Array.from(order.subarray(0, Math.floor(rows.length / 5)), (k) => rows[k]!);
  const train = Array.from(order.subarray(Math.floor(rows.length / 5)), (k) => rows[k]!);
  const uv = new Vocabulary(),
    iv = new Vocabulary();
  for (let u = 1; u <= users; u++) uv.add(`u${u}`);
  for (let i = 1; i <= items; i++) iv.add(`i${i}`);
  const ds: RecipeData = {
    train: {
      users: Int32Array.from(train, (x) => x.u),
      items: Int32Array.from(train, (x) => x.i),
      ratings: Float32Array.from(train, (x) => x.r),
    },
    users: uv.freeze(),
    items: iv.freeze(),
  };
  return { ds, test };
}

const SMALL: Partial<AutoRecOptions> = { hidden: 6, lambda: 1, learningRate: 0.01, batchItems: 4, epochs: 60, patience: 5 };

describe('trainAutoRec', () => {
  it('AUTOREC_DEFAULTS are the validated ones (docs/autorec.md), frozen', () => {
    expect(AUTOREC_DEFAULTS).toMatchObject({ hidden: 200, activation: 'sigmoid', lambda: 100, leaveOut: true, batchItems: 64 });
    expect(Object.isFrozen(AUTOREC_DEFAULTS)).toBe(true);
  });

  it("the model's predict is W_u·a_i + c_u (clamped to the rating range) from the trainer's own weights, with the same seed", async () => {
    const { ds, test } = planted(1);
    const result = await trainAutoRec(ds, SMALL);
    const settings: AutoRecSettings = { ...(AUTOREC_DEFAULTS as AutoRecSettings), ...(SMALL as AutoRecSettings) };
    let lo = Infinity,
      hi = -Infinity;
    for (const r of ds.train.ratings) [lo, hi] = [Math.min(lo, r), Math.max(hi, r)];
    const rows: AutoRecRows = {
      userCount: ds.users.size,
      itemCount: ds.items.size,
      users: ds.train.users,
      items: ds.train.items,
      ratings: ds.train.ratings as Float32Array,
      ratingRange: [lo, hi],
    };
    const run = trainAutoRecRows(await loadWasmBackend(), rows, settings);
    expect(result.epochs).toBe(run.epochs);
    const h = SMALL.hidden!;
    for (const { u, i } of test.slice(0, 50)) {
      let p = run.weights.c[u]!;
      for (let e = 0; e < h; e++) p += run.weights.W[u * h + e]! * run.weights.A[i * h + e]!;
      expect(result.model.predict(`u${u}`, `i${i}`)).toBeCloseTo(Math.min(hi, Math.max(lo, p)), 5);
    }
    // The item table is the encoder's output: a sigmoid's, inside (0, 1).
    const A = result.model.parameters()['item.item.embedding']!;
    expect(A.every((x) => x > 0 && x < 1)).toBe(true);
    result.model.dispose();
  });

  it("the existing paths work unchanged: recommend ranks a user's own planted group first, and a model file round trip predicts the same bits", async () => {
    const { ds } = planted(7);
    const result = await trainAutoRec(ds, SMALL);
    for (const u of [1, 2, 5, 8]) {
      const top = result.model.recommend(`u${u}`, { k: 5, excludeSeen: false });
      expect(top).toHaveLength(5);
      for (const r of top) expect(Number(String(r.id).slice(1)) % 2).toBe(u % 2);
    }
    const copy = await loadModel(result.model.toBytes());
    const users = Int32Array.from({ length: 40 }, (_, k) => 1 + (k % 60));
    const items = Int32Array.from({ length: 40 }, (_, k) => 1 + ((k * 7) % 40));
    expect(
      Buffer.from(copy.rows.predict(users, items).buffer).equals(Buffer.from(result.model.rows.predict(users, items).buffer)),
    ).toBe(true);
    copy.dispose();
    result.model.dispose();
  });

  it('trains the same model on the f64 reference backend as on WASM (3 epochs, within float tolerance)', async () => {
    const { ds } = planted(8, 20, 12);
    const options = { ...SMALL, validationFraction: 0, epochs: 3 };
    const wasm = await trainAutoRec(ds, options);
    const reference = await trainAutoRec(ds, { ...options, backend: new ReferenceBackend() });
    const a = wasm.model.parameters(),
      b = reference.model.parameters();
    for (const name of Object.keys(a)) expectClose(a[name]!, b[name]!, 1e-3, 1e-3);
    wasm.model.dispose();
    reference.model.dispose();
  });

  it('is deterministic: the same seed gives the same bits, another seed other values', async () => {
    const { ds } = planted(2);
    const [a, b, c] = [
      await trainAutoRec(ds, SMALL),
      await trainAutoRec(ds, SMALL),
      await trainAutoRec(ds, { ...SMALL, seed: 2 }),
    ];
    const pa = a.model.parameters(),
      pb = b.model.parameters(),
      pc = c.model.parameters();
    for (const name of Object.keys(pa)) expect(Buffer.from(pb[name]!.buffer).equals(Buffer.from(pa[name]!.buffer))).toBe(true);
    expect(Array.from(pc['user.user.embedding']!)).not.toEqual(Array.from(pa['user.user.embedding']!));
    for (const m of [a, b, c]) m.model.dispose();
  });

  for (const leaveOut of [true, false]) {
    it(`learns a planted two-group structure: test RMSE well under the global mean's (leaveOut ${leaveOut})`, async () => {
      const { ds, test } = planted(3);
      const result = await trainAutoRec(ds, { ...SMALL, leaveOut, epochs: 80 });
      let mean = 0;
      for (const r of ds.train.ratings) mean += r;
      mean /= ds.train.ratings.length;
      const rmse = (f: (x: { u: number; i: number }) => number) =>
        Math.sqrt(test.reduce((s, x) => s + (f(x) - x.r) ** 2, 0) / test.length);
      const model = rmse((x) => result.model.predict(`u${x.u}`, `i${x.i}`));
      const baseline = rmse(() => mean);
      expect(baseline).toBeGreaterThan(1.2);
      expect(model).toBeLessThan(0.5 * baseline);
      expect(result.validationRmse).toBeLessThan(0.6 * baseline);
      expect(result.final?.length).toBe(result.epochs);
      result.model.dispose();
    });
  }

  it('onEpochEnd returning false stops after that epoch (no refit), onLog gets one line per epoch', async () => {
    const { ds } = planted(4);
    const lines: string[] = [];
    const result = await trainAutoRec(ds, { ...SMALL, onEpochEnd: () => false, onLog: (l) => lines.push(l) });
    expect(result.stopped).toBe(true);
    expect(result.search.length).toBe(1);
    expect(result.final).toBeUndefined();
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/validation RMSE/);
    result.model.dispose();
  });

  it('without validation trains exactly `epochs` epochs on all rows', async () => {
    const { ds } = planted(4);
    const result = await trainAutoRec(ds, { ...SMALL, validationFraction: 0, epochs: 3 });
    expect(result.epochs).toBe(3);
    expect(result.validationRmse).toBeUndefined();
    result.model.dispose();
  });

  it('a diverging run throws DIVERGED and frees every block it allocated on the backend', async () => {
    const { ds } = planted(5);
    const backend = await loadWasmBackend();
    const before = backend.stats().liveBlocks;
    const error = await trainAutoRec(ds, { ...SMALL, learningRate: 1e37, backend }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TwoTowerError);
    expect((error as TwoTowerError).code).toBe('DIVERGED');
    expect(backend.stats().liveBlocks).toBe(before);
  });

  const BAD: [string, Record<string, unknown>][] = [
    ['hidden', { hidden: 0 }],
    ['hidden', { hidden: 2.5 }],
    ['activation', { activation: 'relu' }],
    ['lambda', { lambda: -1 }],
    ['learningRate', { learningRate: 0 }],
    ['lrDecay', { lrDecay: 0 }],
    ['lrDecay', { lrDecay: 1.5 }],
    ['batchItems', { batchItems: '8' }],
    ['epochs', { epochs: 0 }],
    ['patience', { patience: NaN }],
    ['validationFraction', { validationFraction: 1 }],
    ['leaveOut', { leaveOut: 'yes' }],
    ['refit', { refit: 1 }],
    ['seed', { seed: 1.5 }],
    ['onEpochEnd', { onEpochEnd: 5 }],
  ];
  for (const [name, options] of BAD) {
    it(`a bad option throws BAD_OPTION naming options.${name} (${JSON.stringify(options)})`, async () => {
      const { ds } = planted(6, 6, 5);
      const error = await trainAutoRec(ds, options as Partial<AutoRecOptions>).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TwoTowerError);
      expect((error as TwoTowerError).code).toBe('BAD_OPTION');
      expect((error as TwoTowerError).message).toContain(`options.${name}`);
    });
  }
});
