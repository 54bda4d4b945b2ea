// The relaxed build's int8 scan checks inline whether the code it was compiled to computes
// relaxed_dot_i8x16_i7x16_add_s as specified, and uses the integer dot products where it does
// not: V8 11.3 (Node 20) gets it wrong in its baseline tier (Liftoff) and right in its optimizing
// tier (TurboFan). A kernel runs in both tiers in one process (first calls, then hot), so the
// property checked here: the same candidates with the same scores whichever tier runs it, each
// tier forced in a child process by V8's flags.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./int8-tier-child.ts', import.meta.url));
/** Node 20 runs relaxed SIMD behind a flag; Node 22 and later by default (and reject the flag). */
const RELAXED_FLAGS = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [];

function runTier(flag: string): { probe: number; results: { indices: number[]; scores: number[] }[] } {
  const out = execFileSync(process.execPath, [...RELAXED_FLAGS, flag, '--import', 'tsx', child], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as ReturnType<typeof runTier>;
}

describe('int8 index, relaxed build, across V8 compiler tiers', () => {
  it('the baseline and the optimizing tier keep the same candidates with the same scores', () => {
    const baseline = runTier('--liftoff-only'),
      optimized = runTier('--no-liftoff');
    // The optimizing tier computes the instruction as specified (4·(−3)·5 + 10); the baseline
    // tier may not (it does not in Node 20), which is what the scan's inline check is for.
    expect(optimized.probe).toBe(-50);
    expect(baseline.results.length).toBe(3);
    for (let r = 0; r < baseline.results.length; r++) {
      expect(optimized.results[r]!.indices, `run ${r}: candidates`).toEqual(baseline.results[r]!.indices);
      expect(optimized.results[r]!.scores, `run ${r}: scores`).toEqual(baseline.results[r]!.scores);
      expect(baseline.results[r]!.indices.every((i) => i >= 0)).toBe(true);
    }
  }, 60_000);
});
