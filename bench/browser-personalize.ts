// Personalisation in Chromium (Debian's, driven by playwright-core), as the example page's "Your
// taste" panel runs it: a serving bundle loaded in the page (loadBundle), then personalise +
// recommend({ k: 10 }) from 20 events, and the ten recommendations' words (Personal.explain). Two
// bundles: MovieLens 100K's retrieval recipe (5 epochs, trained in the page; a synthetic
// 943 × 1,682 log when the data is absent) and a 100,000-item one (dim 64, random vectors: the
// cost does not depend on their values). Medians: bundle load of 5, personalise of 30 histories.
// Run by `npm run bench -- --only=browser`, or alone: node --import tsx bench/browser-personalize.ts
// (after npm run build).
import { chromium } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHROMIUM_FLAGS } from '../test/helpers.js';
import { serveIsolated } from '../test/static-server.js';
import { ML100K } from '../test/data.js';

const ROOT = resolve(import.meta.dirname, '..');
const uData = join(ML100K, 'u.data');
const text = existsSync(uData) ? readFileSync(uData, 'utf8') : null;
const { server, origin } = await serveIsolated(ROOT);
const ctx = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'bp-')), {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: CHROMIUM_FLAGS,
});
const page = await ctx.newPage();
await page.goto(`${origin}/test/browser/index.html`);
// The page's function, as a string (called with the data's text: the page cannot read files).
const out = await page.evaluate(
  `(async (text) => {
  const tt = await import('/dist/twotower.browser.js');
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  let seed = 5;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  async function measure(name, model, ids) {
    const bytes = model.toBundle();
    const loads = [];
    let bundle = null;
    for (let r = 0; r < 5; r++) {
      bundle?.dispose();
      const t0 = performance.now();
      bundle = await tt.loadBundle(bytes);
      loads.push(performance.now() - t0);
    }
    const fits = [], words = [];
    let mode = '';
    for (let r = 0; r < 31; r++) {
      const events = Array.from({ length: 20 }, () => ({ item: ids[Math.floor(next() * ids.length)] }));
      const t0 = performance.now();
      const me = bundle.personalize(events);
      mode = me.mode;
      const top = me.recommend({ k: 10 });
      const t1 = performance.now();
      for (const x of top) me.explain(x.id, { because: 2 });
      if (r > 0) (fits.push(t1 - t0), words.push(performance.now() - t1)); // the first run warms up
    }
    bundle.dispose();
    return name + ': bundle ' + (bytes.length / 1024).toFixed(0) + ' KB, load ' + median(loads).toFixed(1) + ' ms; personalise + recommend ' +
      median(fits).toFixed(2) + ' ms, words for 10 ' + median(words).toFixed(1) + ' ms (' + mode + ')';
  }
  const res = [];
  let events;
  if (text) events = (await tt.parseEvents(text, { name: 'u.data' })).events.map(({ user, item, time }) => ({ user, item, time }));
  else events = Array.from({ length: 100000 }, (_, k) => ({ user: 'u' + (k % 943), item: 'i' + Math.floor(next() ** 2 * 1682) }));
  const ml = await tt.train(events, { task: 'retrieval', epochs: 5, refit: false });
  res.push(await measure(text ? 'MovieLens 100K retrieval (1,682 items)' : 'synthetic 943 x 1,682 retrieval', ml, ml.vocabularies.items.keys()));
  ml.dispose();
  const n = 100000;
  const big = await tt.createModel({
    dim: 64,
    user: { features: [{ kind: 'id', name: 'user', vocabSize: 1, dim: 64 }], project: false },
    item: { features: [{ kind: 'id', name: 'item', vocabSize: n, dim: 64 }], project: false },
  });
  big.fit({ users: Int32Array.of(0, 0), items: Int32Array.of(0, 1), ratings: Float32Array.of(1, 1) }, { loss: 'softmax', epochs: 1, batchSize: 2 });
  res.push(await measure('100,000 items, dim 64', big, Array.from({ length: n }, (_, i) => i)));
  big.dispose();
  return res;
})(${JSON.stringify(text)})`,
);
console.log((out as string[]).join('\n'));
await ctx.close();
server.close();
