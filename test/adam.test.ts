// Adam: a two-step example worked by hand, then many steps of the WASM kernel against the twin.
import { describe, it, expect, beforeAll } from 'vitest';
import type { WasmBackend } from '../src/wasm/load.js';
import { adamUpdate } from '../src/reference/optimizers.js';
import { wasmBuilds, Random, randomFloats, putFloats, getFloats, expectClose, f64 } from './helpers.js';

let builds: WasmBackend[] = [];
beforeAll(async () => {
  builds = await wasmBuilds();
});

// lr 0.1, β1 0.9, β2 0.999, ε 1e-8; p₀ = 1; gradients 0.5 then −1.
// Step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25 → p = 1 − 0.1·0.5/0.5 = 0.9.
// Step 2: m = 0.9·0.05 − 0.1 = −0.055, v = 0.999·0.00025 + 0.001 = 0.00124975,
//         m̂ = −0.055/0.19, v̂ = 0.00124975/0.001999 → p = 0.9 + 0.1·0.2894737/0.7906881 = 0.9366104.
// With decoupled decay 0.01 each step first scales p by (1 − 0.1·0.01): 0.899, then 0.9347114.
const HAND = [
  { decay: 0, p: [0.9, 0.9366104] },
  { decay: 0.01, p: [0.899, 0.9347114] },
];

function bc(beta: number, t: number): number {
  return 1 - beta ** t;
}

describe('adam_update', () => {
  it.each(HAND)('matches the hand-worked two-step example (decay $decay)', ({ decay, p: expected }) => {
    for (const B of builds) {
      const p = putFloats(B, [1]),
        m = putFloats(B, [0]),
        v = putFloats(B, [0]),
        g = putFloats(B, [0.5]);
      B.kernels.adam_update(p, g, m, v, 1, 0.1, 0.9, 0.999, 1e-8, decay, bc(0.9, 1), bc(0.999, 1));
      expect(B.floats(p, 1)[0]).toBeCloseTo(expected[0]!, 6);
      expect(B.floats(m, 1)[0]).toBeCloseTo(0.05, 7);
      expect(B.floats(v, 1)[0]).toBeCloseTo(0.00025, 9);
      B.floats(g, 1)[0] = -1;
      B.kernels.adam_update(p, g, m, v, 1, 0.1, 0.9, 0.999, 1e-8, decay, bc(0.9, 2), bc(0.999, 2));
      expect(B.floats(p, 1)[0]).toBeCloseTo(expected[1]!, 6);
      expect(B.floats(m, 1)[0]).toBeCloseTo(-0.055, 7);
      expect(B.floats(v, 1)[0]).toBeCloseTo(0.00124975, 9);
      [p, m, v, g].forEach((x) => B.free(x));
    }
  });

  it('the same example through the twin', () => {
    const p = f64([1]),
      m = f64([0]),
      v = f64([0]);
    adamUpdate(p, f64([0.5]), m, v, 1, 0.1, 0.9, 0.999, 1e-8, 0, bc(0.9, 1), bc(0.999, 1));
    adamUpdate(p, f64([-1]), m, v, 1, 0.1, 0.9, 0.999, 1e-8, 0, bc(0.9, 2), bc(0.999, 2));
    expect(p[0]).toBeCloseTo(0.9366104, 7);
  });

  it('stays with the twin over 50 steps on 130 parameters (SIMD body and scalar tail)', () => {
    for (const B of builds) {
      const random = new Random(11);
      const n = 130;
      const p0 = randomFloats(random, n);
      const ref = { p: f64(p0), m: new Float64Array(n), v: new Float64Array(n) };
      const [pp, pm, pv, pg] = [
        putFloats(B, p0),
        putFloats(B, new Float32Array(n)),
        putFloats(B, new Float32Array(n)),
        B.alloc(n * 4),
      ];
      for (let t = 1; t <= 50; t++) {
        const g = randomFloats(random, n, 0.1);
        B.floats(pg, n).set(g);
        B.kernels.adam_update(pp, pg, pm, pv, n, 0.01, 0.9, 0.999, 1e-8, 0.05, bc(0.9, t), bc(0.999, t));
        adamUpdate(ref.p, f64(g), ref.m, ref.v, n, 0.01, 0.9, 0.999, 1e-8, 0.05, bc(0.9, t), bc(0.999, t));
      }
      expectClose(getFloats(B, pp, n), ref.p, 2e-5);
      expectClose(getFloats(B, pm, n), ref.m, 1e-6);
      expectClose(getFloats(B, pv, n), ref.v, 1e-7);
      [pp, pm, pv, pg].forEach((x) => B.free(x));
    }
  });
});
