// Which kernel build a plain `node` picks, for the Node running the suite (CI runs it on the
// machine's Node 20 and on Node 22 and 24: scripts/node-versions.mjs). Node 22 and later validate
// relaxed SIMD by default, so 'auto' must pick the relaxed build there, with no flag, and a model
// (one thread and the threads build) must run on it; Node 20 picks the plain build unless it runs
// with --experimental-wasm-relaxed-simd (as vitest does there: vitest.config.ts).
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createModel, loadWasmBackend, supportsRelaxedSimd } from '../src/node/index.js';
import { tinyConfig, tinyFeatures } from './fixtures.js';

const major = Number(process.versions.node.split('.')[0]);

const child = fileURLToPath(new URL('./node-build-child.ts', import.meta.url));

/** What a child `node` started with `flags` (and tsx) picks: see node-build-child.ts. */
function childBuilds(flags: string[]): { auto: string; model: string; threaded: string } {
  const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', child], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as ReturnType<typeof childBuilds>;
}

describe(`the kernel build on Node ${process.versions.node}`, () => {
  it.runIf(major >= 22)(
    'Node 22 and later: relaxed SIMD with no flag, for loadWasmBackend and models (one thread and the threads build)',
    async () => {
      expect(supportsRelaxedSimd()).toBe(true);
      expect((await loadWasmBackend()).kind).toBe('relaxed');
      for (const threads of [1, 2]) {
        const model = await createModel(tinyConfig(), { ...tinyFeatures(), threads });
        expect([model.kernels, model.threads]).toEqual(['relaxed', threads]);
        model.dispose();
      }
      expect(childBuilds([])).toEqual({ auto: 'relaxed', model: 'relaxed', threaded: 'relaxed × 2' });
    },
  );

  it.runIf(major < 22)('Node 20: the plain build without the flag, relaxed SIMD with it', () => {
    expect(childBuilds([])).toEqual({ auto: 'simd', model: 'simd', threaded: 'simd × 2' });
    expect(childBuilds(['--experimental-wasm-relaxed-simd'])).toEqual({
      auto: 'relaxed',
      model: 'relaxed',
      threaded: 'relaxed × 2',
    });
  });
});
