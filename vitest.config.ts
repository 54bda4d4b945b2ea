import { defineConfig, configDefaults } from 'vitest/config';

/**
 * The end-to-end project (`npm run test:e2e`): the package as users run it — the CLI in child
 * processes, the packed tarball in a consumer app, Chromium, the browser example page — and the
 * long probes: the full training recipes on MovieLens 100K and the fuzz suite (thousands of
 * generated cases), and the PyTorch hand-off (a real PyTorch in child processes, a 2-process DDP
 * run). Every other test file is the unit project (`npm test`, about a minute on 2
 * cores). `npx vitest run test/<file>` finds a file in either; CI runs both, and
 * test/projects.test.ts checks that every test file belongs to exactly one project.
 */
export const E2E_FILES = [
  'test/cli.test.ts',
  'test/event-logs.test.ts',
  'test/write-safety.test.ts',
  'test/consumer.test.ts',
  'test/browser.test.ts',
  'test/example.test.ts',
  'test/movielens.test.ts',
  'test/fuzz.test.ts',
  'test/pytorch.test.ts',
];

/** What both projects share. */
const common = {
  // Node 20 runs the relaxed-SIMD build only behind this V8 flag; with it both builds are tested.
  // Node 22 and later run it by default and reject the flag (scripts/node-versions.mjs).
  execArgv: Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [],
  testTimeout: 60_000,
  hookTimeout: 120_000,
  // Two cores: keep heavy files (training, browser) from fighting over them.
  fileParallelism: false,
};

export default defineConfig({
  test: {
    ...common,
    projects: [
      {
        test: {
          ...common,
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...E2E_FILES],
        },
      },
      { test: { ...common, name: 'e2e', include: E2E_FILES } },
    ],
  },
});
