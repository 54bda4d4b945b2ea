// The core in a real browser: the built ESM bundle served from a local static server, opened in
// headless Chromium (Debian's, driven by playwright-core), trains a small model; its loss must
// fall and its predictions equal Node's for the same seed within 1e-5. CI installs chromium;
// there, a missing browser fails the run instead of skipping it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS } from './helpers.js';
import { serveIsolated } from './static-server.js';
import { towerInputs } from './onnx-inputs.js';
import * as twotower from '../src/index.js';
// @ts-expect-error plain JS shared with the browser page
import { scenario } from './browser/scenario.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '..');
const SERVED = ['/dist/', '/build/', '/test/browser/', '/node_modules/onnxruntime-web/dist/'];

const available = existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist/twotower.browser.js'));
if (!available && process.env.CI === 'true') {
  throw new Error(`browser test needs ${CHROMIUM} and a built dist/ (run npm run build); CI must not skip it`);
}

let server: Server;
let origin = '';
let context: BrowserContext;
let page: Page;
let profile = '';

beforeAll(async () => {
  if (!available) return;
  ({ server, origin } = await serveIsolated(ROOT, SERVED));
  profile = await mkdtemp(join(tmpdir(), 'twotower-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  page = await context.newPage();
  await page.goto(`${origin}/test/browser/index.html`);
});

afterAll(async () => {
  await context?.close();
  server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

type Result = { before: number; after: number; losses: number[]; predictions: number[]; kernels: string; steps: number };

function inBrowser(wasm: object): Promise<Result> {
  // Passed as source text: vitest would rewrite an import() written inline here.
  return page.evaluate(`(async () => {
    const tt = await import('/dist/twotower.browser.js');
    const { scenario } = await import('/test/browser/scenario.js');
    return scenario(tt, ${JSON.stringify(wasm)});
  })()`);
}

describe.skipIf(!available)('in headless Chromium', () => {
  it("trains from the bundle with inlined kernels: the loss falls and predictions equal Node's within 1e-5", async () => {
    const browser = await inBrowser({ build: 'relaxed' });
    const node: Result = await scenario(twotower, { build: 'relaxed' });
    expect(browser.kernels).toBe('relaxed');
    expect(browser.steps).toBeGreaterThan(0);
    expect(browser.after).toBeLessThan(browser.before);
    expect(browser.losses.at(-1)).toBeLessThan(browser.losses[0]!);
    expect(browser.predictions).toHaveLength(50);
    browser.predictions.forEach((p, i) =>
      expect(Math.abs(p - node.predictions[i]!), `prediction ${i}`).toBeLessThanOrEqual(1e-5),
    );
  });

  it('picks relaxed SIMD on its own, and loads the plain build from a URL', async () => {
    const auto = await inBrowser({});
    expect(auto.kernels).toBe('relaxed');
    const fromUrl = await inBrowser({ url: `${origin}/build/kernels-simd.wasm` });
    const node: Result = await scenario(twotower, { build: 'simd' });
    expect(fromUrl.kernels).toBe('simd');
    fromUrl.predictions.forEach((p, i) =>
      expect(Math.abs(p - node.predictions[i]!), `prediction ${i}`).toBeLessThanOrEqual(1e-5),
    );
  });

  it("runs an exported item tower in onnxruntime-web and gets the package's embeddings within 1e-5", async () => {
    const data = twotower.generateSynthetic({ users: 40, items: 30, ratingsPerUser: 10, seed: 3 });
    const model = await twotower.createModel(data.suggestedConfig(8), {
      userFeatures: data.userFeatures,
      itemFeatures: data.itemFeatures,
    });
    model.fit(data.train, { epochs: 2, batchSize: 32 });
    const onnx = Buffer.from(model.toOnnx({ tower: 'item' })).toString('base64');
    // The item tower's inputs for every item, from its feature table (sets padded with vocabSize).
    const rows = Array.from({ length: model.itemCount }, (_, i) => i);
    const inputs = towerInputs(model.config.item.features, data.itemFeatures, rows);
    const expected = Array.from(model.rows.itemEmbeddings());
    model.dispose();
    const got = (await page.evaluate(`(async () => {
      const ort = await import('/node_modules/onnxruntime-web/dist/ort.min.mjs');
      ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
      ort.env.wasm.numThreads = 1;
      const bytes = Uint8Array.from(atob(${JSON.stringify(onnx)}), (c) => c.charCodeAt(0));
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      const given = ${JSON.stringify(inputs)};
      const feeds = {};
      for (const [name, x] of Object.entries(given))
        feeds[name] = new ort.Tensor(x.type, x.type === 'int64' ? BigInt64Array.from(x.data, BigInt) : Float32Array.from(x.data), x.dims);
      const out = await session.run(feeds);
      return Array.from(out.embedding.data);
    })()`)) as number[];
    expect(got).toHaveLength(expected.length);
    got.forEach((x, i) => expect(Math.abs(x - expected[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected[i]!))));
  });

  it('loads a model file from bytes and predicts exactly as Node does', async () => {
    const data = twotower.generateSynthetic({ users: 40, items: 30, ratingsPerUser: 10, seed: 2 });
    const model = await twotower.createModel(data.suggestedConfig(8), {
      wasm: { build: 'simd' },
      userFeatures: data.userFeatures,
      itemFeatures: data.itemFeatures,
    });
    model.fit(data.train, { epochs: 2, batchSize: 32 });
    const bytes = Buffer.from(model.toBytes()).toString('base64');
    const users = Array.from(data.test.users.subarray(0, 20)),
      items = Array.from(data.test.items.subarray(0, 20));
    const expected = Array.from(model.rows.predict(users, items));
    model.dispose();
    const got = await page.evaluate(`(async () => {
      const tt = await import('/dist/twotower.browser.js');
      const bytes = Uint8Array.from(atob(${JSON.stringify(bytes)}), (c) => c.charCodeAt(0));
      const model = await tt.loadModel(bytes, { wasm: { build: 'simd' } });
      return Array.from(model.rows.predict(${JSON.stringify(users)}, ${JSON.stringify(items)}));
    })()`);
    expect(got).toEqual(expected);
  });

  it('runs a 2-thread scorer on Web Workers inside a worker of a cross-origin isolated page, equal to one thread', async () => {
    const result = (await page.evaluate(`new Promise((resolve) => {
      const worker = new Worker('/test/browser/threads-worker.js', { type: 'module' });
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => resolve({ error: event.message });
      worker.postMessage('go');
    })`)) as { threads?: number; same?: boolean; isolated?: boolean; error?: string };
    expect(result.error).toBeUndefined();
    expect(result.isolated).toBe(true);
    expect(result.threads).toBe(2);
    expect(result.same).toBe(true);
  });

  it('trains a model on 2 threads (Web Workers) inside a worker of a cross-origin isolated page, with the bits of one thread', async () => {
    const result = (await page.evaluate(`new Promise((resolve) => {
      const worker = new Worker('/test/browser/threads-worker.js', { type: 'module' });
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => resolve({ error: event.message });
      worker.postMessage('train');
    })`)) as { threads?: number; same?: boolean; losses?: number[]; error?: string };
    expect(result.error).toBeUndefined();
    expect(result.threads).toBe(2);
    expect(result.same).toBe(true);
    expect(result.losses![1]).toBeLessThan(result.losses![0]!);
  });

  it('a worker script that does not load rejects createScorer with WORKER_FAILED within seconds, never a hang', async () => {
    const result = (await page.evaluate(`new Promise((resolve) => {
      const worker = new Worker('/test/browser/threads-worker.js', { type: 'module' });
      worker.onmessage = (event) => resolve(event.data);
      worker.postMessage('missing-worker-script');
    })`)) as { code?: string; message?: string; ms?: number; error?: string };
    expect(result.error).toBeUndefined();
    expect(result.code).toBe('WORKER_FAILED');
    expect(result.message).toMatch(/Web Worker failed to start from \/no-such-worker\.js/);
    expect(result.ms).toBeLessThan(10_000);
  });

  it('scores the int8 index with the relaxed i8 × i7 dot where the engine computes it right (recall@10 ≥ 0.99 against f32)', async () => {
    const result = (await page.evaluate(`(async () => {
      const tt = await import('/dist/twotower.browser.js');
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
      const n = 20000, d = 64, b = 8, k = 10;
      const items = Float32Array.from({ length: n * d }, rand), q = Float32Array.from({ length: b * d }, rand);
      const exact = await tt.createScorer({ wasm: { build: 'relaxed' } });
      const int8 = await tt.createScorer({ quantize: 'int8', wasm: { build: 'relaxed' } });
      exact.setItems(items, d);
      int8.setItems(items, d);
      const want = exact.topK(q, null, d, k), got = int8.topK(q, null, d, k);
      let hits = 0;
      for (let r = 0; r < b; r++) {
        const w = new Set(want.indices.subarray(r * k, r * k + k));
        for (let c = 0; c < k; c++) hits += w.has(got.indices[r * k + c]) ? 1 : 0;
      }
      const dot = int8.int8Dot;
      exact.close();
      int8.close();
      return { recall: hits / (b * k), dot };
    })()`)) as { recall: number; dot: string };
    expect(result.dot).toBe('relaxed');
    expect(result.recall).toBeGreaterThanOrEqual(0.99);
  });

  it('a lone query in Chromium scans the interleaved copy (the default there) and returns the row scan’s ids and scores, bit for bit', async () => {
    const result = (await page.evaluate(`(async () => {
      const tt = await import('/dist/twotower.browser.js');
      let seed = 11; const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
      const n = 1003, d = 37, k = 25;
      const items = Float32Array.from({ length: n * d }, rand);
      const out = [];
      for (const build of ['relaxed', 'simd']) {
        const byDefault = await tt.createScorer({ wasm: { build } }), rows = await tt.createScorer({ interleave: false, wasm: { build } });
        byDefault.setItems(items, d); rows.setItems(items, d);
        for (let t = 0; t < 5; t++) {
          const q = Float32Array.from({ length: d }, rand);
          const a = byDefault.topK(q, null, d, k), b = rows.topK(q, null, d, k);
          out.push({ same: a.indices.length === k && JSON.stringify(Array.from(a.indices)) === JSON.stringify(Array.from(b.indices)) && JSON.stringify(Array.from(a.scores)) === JSON.stringify(Array.from(b.scores)) });
        }
        out.push({ bytes: byDefault.interleavedBytes, rowsBytes: rows.interleavedBytes });
        byDefault.close(); rows.close();
      }
      return out;
    })()`)) as { same?: boolean; bytes?: number; rowsBytes?: number }[];
    for (const r of result) {
      if (r.same !== undefined) expect(r.same).toBe(true);
      else {
        expect(r.bytes).toBe(Math.ceil(1003 / 8) * 8 * 37 * 4);
        expect(r.rowsBytes).toBe(0);
      }
    }
  });

  it("on the page's main thread (which may not block) a scorer asked for 2 threads uses 1", async () => {
    const threads = await page.evaluate(`(async () => {
      const tt = await import('/dist/twotower.browser.js');
      const s = await tt.createScorer({ threads: 2 });
      const t = s.threads;
      s.close();
      return t;
    })()`);
    expect(threads).toBe(1);
  });
});
