// Child process of int8-tiers.test.ts: runs the relaxed build's int8 pass under whatever V8
// flags it was started with (one compiler tier) and prints the candidates as JSON, with what the
// relaxed dot computes in that tier (the test-only probe, from the extras module).
import { loadWasmBackend } from '../src/wasm/load.js';
import { loadExtraKernels } from './extra-kernels.js';
import { runInt8Scan } from './int8-scan.js';

const B = await loadWasmBackend({ build: 'relaxed' });
const extras = await loadExtraKernels('relaxed');
const runs = [
  { seed: 1, b: 1, n: 4099, d: 64, m: 74, seven: 1, excluded: 0 },
  { seed: 2, b: 5, n: 2051, d: 48, m: 20, seven: 1, excluded: 7 },
  { seed: 3, b: 2, n: 301, d: 17, m: 9, seven: 1, excluded: 0 },
] as const;
process.stdout.write(
  JSON.stringify({
    probe: extras.kernels.relaxed_dot_probe(-3, 5, 10),
    results: runs.map((shape) => {
      const { indices, scores } = runInt8Scan(B, shape);
      return { indices, scores };
    }),
  }),
);
