// The initialisation kernels (assembly/random.ts): Philox4x32-10 against Random123's known-answer
// vectors; both builds bit-identical to the TypeScript twin (rounded to f32) on odd shapes; the
// values independent of how the rows are split (chunks, the rows of threads) and of the table's
// height; the distributions' moments; and a model's initial values depending on the seed and
// the block alone.
import { describe, it, expect, beforeAll } from 'vitest';
import type { WasmBackend } from '../src/wasm/load.js';
import { philox4x32, randomNormal, randomUniform } from '../src/reference/random.js';
import { ReferenceBackend } from '../src/reference/backend.js';
import { blockStream } from '../src/model/parameters.js';
import { createModel } from '../src/node/index.js';
import { wasmBuilds, ODD_SIZES, getFloats } from './helpers.js';
import { tinyConfig, tinyFeatures } from './fixtures.js';

let builds: WasmBackend[] = [];
beforeAll(async () => {
  builds = await wasmBuilds();
});

type Kind = 'normal' | 'uniform';
const KERNEL = { normal: 'random_normal_f32', uniform: 'random_uniform_f32' } as const;

/** The kernel's values for rows row0 … row0+rows−1 (one call). */
function drawn(
  be: WasmBackend,
  kind: Kind,
  rows: number,
  cols: number,
  row0: number,
  seed: [number, number],
  stream: number,
  scale: number,
): Float32Array {
  const p = be.alloc(Math.max(1, rows * cols) * 4);
  be.kernels[KERNEL[kind]](p, rows, cols, row0, seed[0], seed[1], stream, scale);
  const out = Float32Array.from(getFloats(be, p, rows * cols));
  be.free(p);
  return out;
}

/** The twin's values, rounded to f32. */
function twin(
  kind: Kind,
  rows: number,
  cols: number,
  row0: number,
  seed: [number, number],
  stream: number,
  scale: number,
): Float32Array {
  const out = new Float64Array(rows * cols);
  (kind === 'normal' ? randomNormal : randomUniform)(out, rows, cols, row0, seed[0], seed[1], stream, scale);
  return Float32Array.from(out);
}

describe('Philox4x32-10', () => {
  it("gives Random123's known-answer vectors (tests/kat_vectors)", () => {
    const hex = (w: number[]) => w.map((x) => x.toString(16).padStart(8, '0')).join(' ');
    expect(hex(philox4x32(0, 0, 0, 0, 0, 0))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const ones = 0xffffffff;
    expect(hex(philox4x32(ones, ones, ones, ones, ones, ones))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });
});

describe.each(['simd', 'relaxed'] as const)('initialisation kernels, %s build', (build) => {
  const be = () => builds.find((b) => b.kind === build)!;

  it.each(['normal', 'uniform'] as const)('%s: the same bits as the twin on odd shapes, seeds and row offsets', (kind) => {
    const seeds: [number, number][] = [
      [1, 0],
      [0xffffffff, 0xffffffff],
      [42, 7],
    ];
    for (const rows of [1, 3, 17])
      for (const cols of ODD_SIZES)
        for (const [s, seed] of seeds.entries()) {
          const row0 = [0, 5, 1_000_003][s]!,
            stream = blockStream(`t${rows}.${cols}`);
          const got = drawn(be(), kind, rows, cols, row0, seed, stream, 0.37);
          expect(got, `${rows} × ${cols}, row0 ${row0}`).toEqual(twin(kind, rows, cols, row0, seed, stream, 0.37));
        }
  });

  it.each(['normal', 'uniform'] as const)(
    '%s: a value depends on (seed, stream, row, column) only — any split of the rows, any table height, the same bits',
    (kind) => {
      const rows = 61,
        cols = 13,
        seed: [number, number] = [9, 0],
        stream = 77;
      const whole = drawn(be(), kind, rows, cols, 0, seed, stream, 1);
      // Chunks of every size (as rows split over 1, 2, 3, … threads).
      for (const chunk of [1, 2, 7, 30, 60]) {
        const parts = new Float32Array(rows * cols);
        for (let r = 0; r < rows; r += chunk) {
          const n = Math.min(chunk, rows - r);
          parts.set(drawn(be(), kind, n, cols, r, seed, stream, 1), r * cols);
        }
        expect(parts, `chunks of ${chunk}`).toEqual(whole);
      }
      // A taller table keeps the shorter one's rows; another seed, stream or column count does not.
      expect(drawn(be(), kind, rows + 40, cols, 0, seed, stream, 1).subarray(0, rows * cols)).toEqual(whole);
      const differ = (a: Float32Array) => a.some((x, i) => x !== whole[i]);
      expect(differ(drawn(be(), kind, rows, cols, 0, [10, 0], stream, 1))).toBe(true);
      expect(differ(drawn(be(), kind, rows, cols, 0, [9, 1], stream, 1))).toBe(true);
      expect(differ(drawn(be(), kind, rows, cols, 0, seed, stream + 1, 1))).toBe(true);
    },
  );

  it('normal: mean 0, variance std², no skew, normal tails, uncorrelated neighbours (2²⁰ values)', () => {
    const rows = 4096,
      cols = 256,
      std = 0.5;
    const x = drawn(be(), 'normal', rows, cols, 0, [3, 0], 11, std);
    const n = x.length;
    let m1 = 0,
      m2 = 0,
      m3 = 0,
      m4 = 0,
      lag = 0,
      beyond2 = 0,
      beyond3 = 0,
      max = 0;
    for (let i = 0; i < n; i++) {
      const z = x[i]! / std;
      m1 += z;
      m2 += z * z;
      m3 += z * z * z;
      m4 += z * z * z * z;
      if (i + 1 < n) lag += z * (x[i + 1]! / std);
      if (Math.abs(z) > 2) beyond2++;
      if (Math.abs(z) > 3) beyond3++;
      max = Math.max(max, Math.abs(z));
    }
    // Standard errors for n = 2²⁰: mean 0.001, variance 0.0014, skew 0.0024, kurtosis 0.0048; 5σ bounds.
    expect(Math.abs(m1 / n)).toBeLessThan(0.005);
    expect(Math.abs(m2 / n - 1)).toBeLessThan(0.007);
    expect(Math.abs(m3 / n)).toBeLessThan(0.012);
    expect(Math.abs(m4 / n - 3)).toBeLessThan(0.05);
    expect(Math.abs(lag / n)).toBeLessThan(0.005);
    // P(|z| > 2) = 0.0455, P(|z| > 3) = 0.0027; u ≥ 2⁻³² bounds |z| by √(64 ln 2) ≈ 6.66.
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.001);
    expect(Math.abs(beyond3 / n - 0.0027)).toBeLessThan(0.0003);
    expect(max).toBeLessThanOrEqual(6.67);
    // Each column (the four Box–Muller positions of a Philox call among them) is standard normal too.
    for (const c of [0, 1, 2, 3, 255]) {
      let s = 0,
        ss = 0;
      for (let r = 0; r < rows; r++) {
        const z = x[r * cols + c]! / std;
        s += z;
        ss += z * z;
      }
      expect(Math.abs(s / rows), `column ${c}`).toBeLessThan(0.08);
      expect(Math.abs(ss / rows - 1), `column ${c}`).toBeLessThan(0.12);
    }
  });

  it('uniform: in [−limit, limit), mean 0, variance limit²/3, flat deciles', () => {
    const limit = 2,
      x = drawn(be(), 'uniform', 1024, 1024, 0, [5, 0], 3, limit);
    const n = x.length,
      deciles = new Array<number>(10).fill(0);
    let m1 = 0,
      m2 = 0,
      outside = 0;
    for (const v of x) {
      if (!(v >= -limit && v <= limit)) outside++;
      m1 += v;
      m2 += v * v;
      deciles[Math.min(9, Math.floor(((v + limit) / (2 * limit)) * 10))]!++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(m1 / n)).toBeLessThan(0.006);
    expect(Math.abs(m2 / n - limit ** 2 / 3)).toBeLessThan(0.01);
    for (const d of deciles) expect(Math.abs(d / n - 0.1)).toBeLessThan(0.002);
  });
});

describe("a model's initial values", () => {
  const values = async (seed: number, backend?: ReferenceBackend) => {
    const model = await createModel({ ...tinyConfig(), seed }, { ...tinyFeatures(), ...(backend ? { backend } : {}) });
    const out = model.parameters();
    model.dispose();
    return out;
  };

  it('are the same for the same seed, differ for another, and equal the reference backend rounded to f32', async () => {
    const a = await values(7),
      b = await values(7),
      c = await values(8),
      r = await values(7, new ReferenceBackend());
    for (const name of Object.keys(a)) {
      expect(b[name], name).toEqual(a[name]);
      expect(Float32Array.from(r[name]!), name).toEqual(Float32Array.from(a[name]!));
    }
    const random = Object.keys(a).filter((name) => a[name]!.some((v) => v !== 0));
    expect(random.length).toBeGreaterThan(0);
    for (const name of random) expect(c[name], name).not.toEqual(a[name]);
  });

  it('are the same bits on 1 and 2 threads (tables split over the threads build and its shared memory)', async () => {
    // 301 and 150 rows: each table is split in two (row-split.ts splits 64 rows or more), a hidden layer drawn uniform.
    const config = {
      dim: 5,
      user: { features: [{ kind: 'id' as const, name: 'user', vocabSize: 301, dim: 19 }], hidden: [7] },
      item: { features: [{ kind: 'id' as const, name: 'item', vocabSize: 150, dim: 3 }] },
      seed: 11,
    };
    const one = await createModel(config);
    const two = await createModel(config, { threads: 2 });
    expect(two.threads).toBe(2);
    expect(two.parameters()).toEqual(one.parameters());
    one.dispose();
    two.dispose();
  });

  it('seeds beyond 32 bits and negative seeds are seeds of their own', async () => {
    const base = await values(5),
      high = await values(5 + 2 ** 32),
      negative = await values(-5);
    const name = Object.keys(base).find((n) => base[n]!.some((v) => v !== 0))!;
    expect(high[name]).not.toEqual(base[name]);
    expect(negative[name]).not.toEqual(base[name]);
  });
});
