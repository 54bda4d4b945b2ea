// Shared test helpers: both WASM builds, seeded random arrays, heap staging, closeness checks.
import { expect } from 'vitest';
import { loadWasmBackend, type WasmBackend } from '../src/wasm/load.js';
import type { Backend, Floats } from '../src/backend/contract.js';
import { internals, type Model } from '../src/api/model.js';
import type { TwoTower } from '../src/model/twotower.js';
import type { ParameterStore } from '../src/model/parameters.js';
import { Random } from '../src/util/random.js';

/** The plain SIMD build and the relaxed-SIMD (FMA) build; vitest runs with the V8 flag for the latter. */
export async function wasmBuilds(): Promise<WasmBackend[]> {
  return [await loadWasmBackend({ build: 'simd' }), await loadWasmBackend({ build: 'relaxed' })];
}

/** Sizes that exercise every SIMD tail: not multiples of 4 or 8, and one past a block. */
export const ODD_SIZES = [1, 3, 5, 17, 63, 130];

export function randomFloats(random: Random, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * random.normal());
}

export function randomInts(random: Random, n: number, limit: number): Int32Array {
  return Int32Array.from({ length: n }, () => random.int(limit));
}

/** Copies floats into the backend's heap; returns the address. */
export function putFloats(be: Backend, values: ArrayLike<number>): number {
  const p = be.alloc(Math.max(1, values.length) * be.floatBytes);
  be.floats(p, values.length).set(values);
  return p;
}

export function putInts(be: Backend, values: ArrayLike<number>): number {
  const p = be.alloc(Math.max(1, values.length) * 4);
  be.ints(p, values.length).set(values);
  return p;
}

export function getFloats(be: Backend, p: number, n: number): Float64Array {
  return Float64Array.from(be.floats(p, n));
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, reporting the worst index.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = atol): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`element ${worst}: got ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/**
 * Checks every parameter's analytic gradient (what `lossOf` leaves in the store) against central
 * finite differences (L(θ+h) − L(θ−h)) / 2h of the loss it returns; meant for the f64 reference.
 */
export function expectFiniteDifferences(store: ParameterStore, lossOf: () => number, atol = 1e-7, rtol = 1e-5, h = 1e-6): void {
  lossOf();
  const analytic = new Map(store.blocks.map((b) => [b.name, Float64Array.from(store.grads(b))]));
  for (const block of store.blocks) {
    const numeric: number[] = [];
    for (let i = 0; i < block.size; i++) {
      const v = () => store.values(block);
      const original = v()[i]!;
      v()[i] = original + h;
      const up = lossOf();
      v()[i] = original - h;
      const down = lossOf();
      v()[i] = original;
      numeric.push((up - down) / (2 * h));
    }
    expectClose(numeric, analytic.get(block.name)!, atol, rtol);
  }
}

/** The internal core of a public Model, for tests of internals (parameter store, staging). */
export function core(model: Model): TwoTower {
  return internals(model);
}

/** Debian Chromium's flags for tests: headless, and nothing that reaches for the network. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function f64(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values);
}

export type { Floats };
export { Random };

/** Random sorted exclusion lists, `perQuery` distinct items of n per query, as offsets and ids. */
export function randomExclusions(random: Random, b: number, n: number, perQuery: number) {
  const offsets = new Int32Array(b + 1),
    ids: number[] = [];
  for (let q = 0; q < b; q++) {
    const mine = new Set<number>();
    while (mine.size < Math.min(perQuery, n)) mine.add(random.int(n));
    ids.push(...[...mine].sort((x, y) => x - y));
    offsets[q + 1] = ids.length;
  }
  return { offsets, ids: Int32Array.from(ids) };
}
