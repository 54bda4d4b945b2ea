import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Node 20 runs the relaxed-SIMD build only behind this V8 flag; with it both builds are tested.
    execArgv: ['--experimental-wasm-relaxed-simd'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: keep heavy files (training, browser) from fighting over them.
    fileParallelism: false,
  },
});
