// The kernel interface is derived, not typed by hand: src/backend/generated/kernels.ts is written
// from asc's bindings of assembly/index.ts. Here the shipped modules' exports, the generated
// table and the TypeScript reference twins must name the same kernels with the same arities, and
// the kernels only benchmarks and tests call stay in the extras module, which is not shipped.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KERNEL_ARITY, KERNEL_ARGUMENTS } from '../src/backend/generated/kernels.js';
import { ReferenceBackend } from '../src/reference/backend.js';
import { loadWasmBackend } from '../src/wasm/load.js';
import { EXTRA_KERNELS } from './extra-kernels.js';

const ROOT = resolve(import.meta.dirname, '..');
/** Exports that are not kernels, and the one kernel the contract splits by data type. */
const ALLOCATOR = ['alloc', 'free'];
const SPLIT = { gather_32: ['gather_i32', 'gather_f32'] } as const;

async function moduleExports(file: string): Promise<Record<string, number>> {
  const module = await WebAssembly.compile(readFileSync(resolve(ROOT, 'build', file)));
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 32768, shared: file.includes('threads') });
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('abort');
      },
    },
  });
  return Object.fromEntries(
    Object.entries(instance.exports)
      .filter(([, v]) => typeof v === 'function')
      .map(([k, v]) => [k, (v as (...a: unknown[]) => unknown).length]),
  );
}

describe('kernel bindings', () => {
  it.each(['kernels-simd.wasm', 'kernels-relaxed.wasm', 'kernels-simd-threads.wasm', 'kernels-relaxed-threads.wasm'])(
    '%s exports exactly the generated functions, with the generated arities',
    async (file) => {
      expect(await moduleExports(file)).toEqual({ ...KERNEL_ARITY });
    },
  );

  it('the generated argument names agree with the arities, and follow outputs-first naming for the scans', () => {
    for (const [name, args] of Object.entries(KERNEL_ARGUMENTS))
      expect(args.length, name).toBe(KERNEL_ARITY[name as keyof typeof KERNEL_ARITY]);
    expect(KERNEL_ARGUMENTS.score_topk.slice(0, 3)).toEqual(['outIdx', 'outScore', 'counts']);
  });

  it('the reference backend has a twin of every kernel, with the same arity', () => {
    const twins = new ReferenceBackend().kernels as unknown as Record<string, (...a: unknown[]) => unknown>;
    const expected: Record<string, number> = {};
    for (const [name, arity] of Object.entries(KERNEL_ARITY)) {
      if (ALLOCATOR.includes(name)) continue;
      for (const twin of SPLIT[name as keyof typeof SPLIT] ?? [name]) expected[twin] = arity;
    }
    expect(Object.fromEntries(Object.entries(twins).map(([k, f]) => [k, f.length]))).toEqual(expected);
  });

  it('the extras module (benchmarks and tests only) holds the kernels no shipped module exports, and is not packed', async () => {
    for (const build of ['simd', 'relaxed']) {
      const extras = await moduleExports(`extras/kernels-extras-${build}.wasm`);
      expect(Object.keys(extras).sort(), build).toEqual([...ALLOCATOR, ...EXTRA_KERNELS].sort());
    }
    for (const name of EXTRA_KERNELS) expect(Object.keys(KERNEL_ARITY)).not.toContain(name);
    // package.json's "files" reach build/ only through patterns of its top level (build/*.wasm),
    // which do not match build/extras/.
    const { files } = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    const intoBuild = files.filter((f) => f === 'build' || f.startsWith('build/'));
    expect(intoBuild.length).toBeGreaterThan(0);
    for (const f of intoBuild) expect(f, f).toMatch(/^build\/[^/*]*\*?[^/*]*$/);
  });

  it('a module that lacks a kernel is refused at load time, by name', async () => {
    // A valid module exporting only memory: loadWasmBackend must name the first missing kernel.
    const bytes = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1, 7, 10, 1, 6, 109, 101, 109, 111, 114, 121, 2, 0]);
    await expect(loadWasmBackend({ bytes })).rejects.toMatchObject({
      code: 'LOAD_FAILED',
      message: expect.stringMatching(/does not export alloc\(\)/),
    });
  });
});
