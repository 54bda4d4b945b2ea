// Loading the kernels: inlined builds, raw bytes, a precompiled WebAssembly.Module; memory growth
// keeps the model's data valid; and the core stays free of Node-only imports.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createModel, loadWasmBackend, supportsRelaxedSimd } from '../src/index.js';
import { tinyConfig, tinyFeatures } from './fixtures.js';
import { core } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('loading the kernels', () => {
  it("'auto' picks relaxed SIMD where the host validates it (vitest runs Node with the flag)", async () => {
    expect(supportsRelaxedSimd()).toBe(true);
    expect((await loadWasmBackend()).kind).toBe('relaxed');
    expect((await loadWasmBackend({ build: 'simd' })).kind).toBe('simd');
  });

  it('accepts the raw .wasm bytes and a precompiled module, with the same results as the inlined build', async () => {
    const bytes = readFileSync(join(ROOT, 'build/kernels-simd.wasm'));
    const module = await WebAssembly.compile(bytes);
    const users = [0, 1, 2, 6],
      items = [8, 7, 0, 3];
    const predict = async (wasm: object) => {
      const model = await createModel(tinyConfig(), { wasm, ...tinyFeatures() });
      const out = model.rows.predict(users, items);
      model.dispose();
      return out;
    };
    const inlined = await predict({ build: 'simd' });
    expect(await predict({ bytes })).toEqual(inlined);
    expect(await predict({ module })).toEqual(inlined);
  });

  it('rejects an unknown build name', async () => {
    await expect(loadWasmBackend({ build: 'avx' as never })).rejects.toThrow(
      /build must be 'auto', 'simd' or 'relaxed', got "avx"/,
    );
  });

  it('shared is true or false, never a truthy string (BAD_OPTION naming the option and the value)', async () => {
    for (const shared of ['yes', 'false', 1, null])
      await expect(loadWasmBackend({ shared: shared as never })).rejects.toMatchObject({
        code: 'BAD_OPTION',
        message: `loadWasmBackend: options.shared must be true or false, got ${JSON.stringify(shared)}`,
      });
    await expect(loadWasmBackend('simd' as never)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    expect((await loadWasmBackend({ shared: false, build: 'simd' })).shared).toBe(false);
  });

  it('keeps parameters valid when the heap grows under them', async () => {
    const model = await createModel(tinyConfig(), tinyFeatures());
    const before = model.rows.predict([1, 2], [3, 4]);
    const backend = core(model).backend;
    const size = model.memory().memoryBytes;
    const big = backend.alloc(64 << 20); // forces memory.grow: old views detach
    expect(model.memory().memoryBytes).toBeGreaterThan(size);
    expect(model.rows.predict([1, 2], [3, 4])).toEqual(before);
    backend.free(big);
    model.dispose();
  });
});

describe('the core is browser-safe', () => {
  it('imports no node: module outside the CLI and src/node/ (the file loaders)', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk(join(ROOT, 'src'));
    const nodeOnly = (f: string) =>
      f.endsWith('cli.ts') || f.includes(`${join('src', 'node')}/`) || f.includes(`${join('src', 'cli')}/`);
    const offenders = files.filter(
      (f) => !nodeOnly(f) && /from ['"](node:|\.\.?\/node\/)|require\(['"]node:|import\(['"]node:/.test(readFileSync(f, 'utf8')),
    );
    expect(files.length).toBeGreaterThan(10);
    expect(offenders).toEqual([]);
  });
});
