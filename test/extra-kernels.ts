// The kernels the package never calls, loaded for the benchmarks and tests that do: the
// bandwidth floors a scan is measured against (stream_sum, stream_sum_i8; bench/scoring.ts) and
// the relaxed-dot probe (relaxed_dot_probe; test/int8-tiers.test.ts). They live in a module of
// their own, assembly/extras/index.ts, built by `npm run build:wasm` to build/extras/ (outside
// package.json's "files"), so that the shipped modules export only what src/ calls.
// Their types come from asc's raw bindings of that module (build/extras/kernels-extras-simd.d.ts),
// as the shipped kernels' do; asc's JavaScript glue is not used.
import { readFileSync } from 'node:fs';
import type { instantiate } from '../build/extras/kernels-extras-simd.js';

type ExtraExports = Awaited<ReturnType<typeof instantiate>>;

/** The extras module's kernels (everything but its memory and allocator). */
export type ExtraKernels = Omit<ExtraExports, 'memory' | 'alloc' | 'free'>;

/** Names of the extras module's kernels: none of them is exported by a shipped module. */
export const EXTRA_KERNELS = [
  'stream_sum',
  'stream_sum_i8',
  'relaxed_dot_probe',
] as const satisfies readonly (keyof ExtraKernels)[];

/** The path of one build of the extras module. */
export const extrasFile = (build: 'simd' | 'relaxed'): URL =>
  new URL(`../build/extras/kernels-extras-${build}.wasm`, import.meta.url);

/** One instance of the extras module: its own memory and allocator, and heap views over them. */
export interface ExtraKernelModule {
  readonly kernels: ExtraKernels;
  alloc(bytes: number): number;
  free(ptr: number): void;
  floats(ptr: number, n: number): Float32Array;
  bytes(ptr: number, n: number): Uint8Array;
}

/**
 * Instantiates the extras module's `build` ('relaxed' needs a host that runs relaxed SIMD: Node 20
 * with --experimental-wasm-relaxed-simd).
 */
export async function loadExtraKernels(build: 'simd' | 'relaxed' = 'simd'): Promise<ExtraKernelModule> {
  const { instance } = await WebAssembly.instantiate(readFileSync(extrasFile(build)), {
    env: {
      abort: () => {
        throw new Error('an extras kernel aborted');
      },
    },
  });
  const exports = instance.exports as unknown as ExtraExports;
  for (const name of EXTRA_KERNELS)
    if (typeof exports[name] !== 'function') throw new Error(`${extrasFile(build).pathname} does not export ${name}()`);
  const { memory, alloc, free, ...kernels } = exports;
  return {
    kernels,
    alloc: (bytes) => alloc(bytes) >>> 0,
    free: (ptr) => free(ptr),
    floats: (ptr, n) => new Float32Array(memory.buffer, ptr, n),
    bytes: (ptr, n) => new Uint8Array(memory.buffer, ptr, n),
  };
}
