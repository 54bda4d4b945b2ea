// Dense layer kernels at the training benchmark's shape: X[1024×64]·W[64×128] + b, and the two
// backward products, in both WASM builds and as the plain TypeScript loop.
import type { Case } from './harness.js';
import { loadWasmBackend } from '../src/wasm/load.js';
import { denseForward, denseBackwardInput, denseBackwardWeight } from '../src/reference/dense.js';
import { Random } from '../src/util/random.js';

const M = 1024,
  K = 64,
  N = 128;

export async function denseCases(): Promise<Case[]> {
  const random = new Random(1);
  const x = Float32Array.from({ length: M * K }, () => random.normal());
  const w = Float32Array.from({ length: K * N }, () => random.normal());
  const b = Float32Array.from({ length: N }, () => random.normal());
  const dy = Float32Array.from({ length: M * N }, () => random.normal());
  const flops = 2 * M * K * N;
  const expected = { y: new Float32Array(M * N), dx: new Float32Array(M * K), dw: new Float32Array(K * N) };
  denseForward(expected.y, x, w, b, M, K, N);
  denseBackwardInput(expected.dx, dy, w, M, K, N);
  denseBackwardWeight(expected.dw, x, dy, M, K, N, K, false);
  const agree = (what: string, got: Float32Array, want: Float32Array) => {
    for (let i = 0; i < want.length; i++) {
      if (Math.abs(got[i]! - want[i]!) > 1e-3 * (1 + Math.abs(want[i]!)))
        throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
    }
  };
  const cases: Case[] = [];
  for (const build of ['simd', 'relaxed'] as const) {
    const be = await loadWasmBackend({ build });
    const put = (a: Float32Array) => {
      const p = be.alloc(a.length * 4);
      be.floats(p, a.length).set(a);
      return p;
    };
    const [px, pw, pb, pdy] = [put(x), put(w), put(b), put(dy)];
    const [py, pdx, pdw] = [be.alloc(M * N * 4), be.alloc(M * K * 4), be.alloc(K * N * 4)];
    const k = be.kernels;
    const impl = `twotower ${build}`;
    cases.push(
      {
        name: `dense forward ${M}×${K}→${N}`,
        impl,
        flops,
        run: () => k.dense_forward(py, px, pw, pb, M, K, N),
        check: () => {
          k.dense_forward(py, px, pw, pb, M, K, N);
          agree(`${impl} forward`, be.floats(py, M * N) as Float32Array, expected.y);
        },
      },
      {
        name: `dense dX = dY·Wᵀ ${M}×${N}→${K}`,
        impl,
        flops,
        run: () => k.dense_backward_input(pdx, pdy, pw, M, K, N),
        check: () => {
          k.dense_backward_input(pdx, pdy, pw, M, K, N);
          agree(`${impl} dX`, be.floats(pdx, M * K) as Float32Array, expected.dx);
        },
      },
      {
        name: `dense dW = Xᵀ·dY ${K}×${N} over ${M}`,
        impl,
        flops,
        run: () => k.dense_backward_weight(pdw, px, pdy, M, K, N, K, 0),
        check: () => {
          k.dense_backward_weight(pdw, px, pdy, M, K, N, K, 0);
          agree(`${impl} dW`, be.floats(pdw, K * N) as Float32Array, expected.dw);
        },
      },
    );
  }
  const y = new Float32Array(M * N);
  cases.push({
    name: `dense forward ${M}×${K}→${N}`,
    impl: 'plain JS loop',
    flops,
    run: () => denseForward(y, x, w, b, M, K, N),
  });
  return cases;
}
