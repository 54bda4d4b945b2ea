// Scoring in Chromium (Debian's, driven by playwright-core): the f32 and int8 scorers of the
// built browser bundle on 100,000 × 64 items, 1 and 256 queries, both kernel builds: the
// relaxed int8 path as browsers run it, with no flag (Node 20 needs
// --experimental-wasm-relaxed-simd for the relaxed build at all). Each figure is the
// median of 9 samples, the better of two passes. Run by `npm run bench -- --only=browser`, or
// alone: node --import tsx bench/browser-scoring.ts (after npm run build).
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../test/helpers.js';
import { serveIsolated } from '../test/static-server.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
const ROOT = resolve(import.meta.dirname, '..');
const { server, origin } = await serveIsolated(ROOT);
const ctx = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'cb-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: CHROMIUM_FLAGS,
});
const page = await ctx.newPage();
await page.goto(`${origin}/test/browser/index.html`);
const out = await page.evaluate(`(async () => {
  const tt = await import('/dist/twotower.browser.js');
  let seed = 7; const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const n = 100000, d = 64, k = 10;
  const items = Float32Array.from({ length: n * d }, rand);
  const res = [];
  for (const build of ['relaxed', 'simd']) {
    const f32 = await tt.createScorer({ wasm: { build } }), i8 = await tt.createScorer({ quantize: 'int8', wasm: { build } });
    const rows = await tt.createScorer({ interleave: false, wasm: { build } });
    f32.setItems(items, d); i8.setItems(items, d); rows.setItems(items, d);
    for (const b of [1, 256]) {
      const q = Float32Array.from({ length: b * d }, rand);
      const time = (s) => { for (let i = 0; i < 3; i++) s.topK(q, null, d, k); const reps = b === 1 ? 50 : 2; const xs = []; for (let r = 0; r < 9; r++) { const t0 = performance.now(); for (let i = 0; i < reps; i++) s.topK(q, null, d, k); xs.push((performance.now() - t0) / reps); } xs.sort((a, c) => a - c); return xs[4]; };
      const a = time(f32), c = time(i8), a2 = time(f32), c2 = time(i8);
      res.push(build + ' b=' + b + ' f32 ' + Math.min(a, a2).toFixed(3) + ' ms, int8 (' + i8.int8Dot + ') ' + Math.min(c, c2).toFixed(3) + ' ms, f32/int8 ' + (Math.min(a, a2) / Math.min(c, c2)).toFixed(2));
      // A lone query: the default (browsers keep the interleaved copy: f32.interleavedBytes > 0) against the row layout.
      if (b === 1) { const r1 = time(rows), a3 = time(f32), r2 = time(rows); res.push(build + ' b=1 f32 layouts: default (interleaved copy ' + f32.interleavedBytes + ' bytes) ' + Math.min(a, a2, a3).toFixed(3) + ' ms, rows ' + Math.min(r1, r2).toFixed(3) + ' ms, rows/default ' + (Math.min(r1, r2) / Math.min(a, a2, a3)).toFixed(2)); }
    }
    f32.close(); i8.close(); rows.close();
  }
  return res;
})()`);
console.log((out as string[]).join('\n'));
await ctx.close();
server.close();
