// The browser example (examples/browser) as a visitor uses it: built by its own build script,
// served by its own COOP/COEP server, opened in headless Chromium (Debian's, playwright-core).
// Checked: no console errors; the synthetic data trains to a test RMSE below 0.75 (its noise
// floor is about 0.5); the chart has one point per epoch reported; the worker's model runs on 2
// threads; ten recommendations with reasons for a user; nearest items on the map; recommendations
// for a new user from picked items; the scoring speed; saving to IndexedDB and loading back. A
// screenshot goes to artifacts/example-page.png (the synthetic model) and
// artifacts/example-page-event-log.png (the end). CI installs chromium; there a missing browser
// fails the run instead of skipping it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS } from './helpers.js';
import { ML100K, HAVE_ML100K } from './data.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'examples/browser');
const available = existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist/twotower.browser.js'));
if (!available && process.env.CI === 'true') {
  throw new Error(`the example's test needs ${CHROMIUM} and a built dist/ (run npm run build); CI must not skip it`);
}

let server: Server;
let context: BrowserContext;
let page: Page;
let profile = '';
const problems: string[] = [];

beforeAll(async () => {
  if (!available) return;
  execFileSync(process.execPath, [join(EXAMPLE, 'build.mjs')], { stdio: 'pipe' });
  // @ts-expect-error plain JS: the example's own server
  const { serve } = (await import('../examples/browser/serve.mjs')) as { serve: (port: number) => Promise<Server> };
  server = await serve(0);
  profile = await mkdtemp(join(tmpdir(), 'twotower-example-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1100, height: 900 },
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('Ready'));
}, 120_000);

afterAll(async () => {
  await context?.close();
  server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const text = (selector: string) => page.locator(selector).innerText();
/** Waits until the page reports a finished training run. */
const trained = (timeout: number) =>
  page.waitForFunction(() => document.getElementById('train-summary')!.textContent!.startsWith('Trained'), null, { timeout });

describe.skipIf(!available)('the browser example page', () => {
  it('is cross-origin isolated on its own server, and trains the synthetic data in its worker on 2 threads', async () => {
    expect(await text('#status')).toMatch(/cross-origin isolated/);
    await page.click('#synthetic');
    await page.waitForFunction(() => document.getElementById('data-summary')!.textContent!.includes('events'));
    expect(await text('#data-summary')).toMatch(
      /synthetic: [\d,]+ events, 300 users, 200 items; [\d,]+ held out for testing \(the generator's test split\)/,
    );
    await page.fill('#epochs', '12');
    await page.click('#train');
    await trained(120_000);
    const summary = page.locator('#train-summary');
    expect(await summary.getAttribute('data-test-metric')).toBe('RMSE');
    const rmse = Number(await summary.getAttribute('data-test-value'));
    expect(rmse).toBeGreaterThan(0);
    expect(rmse).toBeLessThan(0.75);
    expect(await summary.getAttribute('data-threads')).toBe('2');
    expect(await text('#train-summary')).toMatch(/2 threads/);
  }, 180_000);

  it('charts one point per epoch reported, with the progress bar full at the end', async () => {
    const label = await text('#progress-label');
    // The last label names the final refit's last epoch: "final refit: epoch E/E".
    const [, done, planned] = /final refit: epoch (\d+)\/(\d+)/.exec(label) ?? [];
    expect(Number(done)).toBe(Number(planned));
    const points = Number(await page.locator('#chart').getAttribute('data-points'));
    const searched = await page.evaluate(() => (globalThis as unknown as { __epochs?: number }).__epochs);
    expect(points).toBe(searched);
    expect(points).toBeGreaterThanOrEqual(Number(planned) + 1);
    expect(await page.locator('#progress').evaluate((p: HTMLProgressElement) => p.value)).toBe(1);
  });

  it('lists ten recommendations with their reasons for a user', async () => {
    await page.fill('#user', 'user-3');
    await page.click('#recommend');
    await page.waitForFunction(() => document.querySelectorAll('#recs li').length === 10);
    const rows = await page.locator('#recs li').allInnerTexts();
    expect(rows).toHaveLength(10);
    for (const row of rows) {
      // Reasons in words, never the numbers' internal names.
      // The synthetic items carry invented titles: "item-12 The Quiet Garden (1994) 4.123 …".
      expect(row).toMatch(/^item-\d+ The [A-Z][a-z]+ [A-Z][a-z]+ \(\d{4}\) -?\d+\.\d{3} \S.+/);
      expect(row).not.toMatch(/\bbias\b|\bid [+−]|embedding|why:/);
    }
    const items = await page.locator('#recs li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.item));
    expect(new Set(items).size).toBe(10);
  });

  it('maps the items: clicking a point lists its ten nearest items', async () => {
    const box = (await page.locator('#map').boundingBox())!;
    // Click where a point is drawn: ask the page for the first point's position.
    const [x, y] = await page.evaluate(() => {
      const canvas = document.getElementById('map') as HTMLCanvasElement;
      const g = canvas.getContext('2d')!;
      const { data, width, height } = g.getImageData(0, 0, canvas.width, canvas.height);
      for (let py = 0; py < height; py++)
        for (let px = 0; px < width; px++) if (data[(py * width + px) * 4 + 3]! > 200) return [px + 2, py + 2];
      return [-1, -1];
    });
    expect(x).toBeGreaterThanOrEqual(0);
    await page.mouse.move(box.x + x, box.y + y);
    await page.waitForFunction(() => !document.getElementById('map-tip')!.hidden);
    expect(await text('#map-tip')).toMatch(/^item-\d+$/);
    await page.mouse.click(box.x + x, box.y + y);
    await page.waitForFunction(() => document.querySelectorAll('#similar li').length === 10);
    expect(await page.locator('#similar li').first().innerText()).toMatch(/cosine/);
  });

  it('recommends for a new user from a few picked items, and measures scoring on 2 threads', async () => {
    await page.fill('#history', 'item-1, item-2, item-3');
    await page.click('#from-history');
    await page.waitForFunction(() => document.querySelectorAll('#history-recs li').length === 10);
    await page.click('#speed');
    await page.waitForFunction(() => document.getElementById('speed-out')!.dataset.threads !== undefined, null, {
      timeout: 60_000,
    });
    expect(await text('#speed-out')).toMatch(
      /^200 items, 2 threads, (relaxed|simd) kernels: [\d.]+ ms for one user's top 10, [\d.]+ ms per user/,
    );
    // The page with every section filled from the synthetic model: docs/browser-example.md's picture.
    await mkdir(join(ROOT, 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'artifacts/example-page.png'), fullPage: true });
  });

  it('“Your taste”: search by title, pick items, and the recommendations follow on the device with reasons in words — no network request after load', async () => {
    await page.waitForFunction(() => !(document.getElementById('taste-search') as HTMLInputElement).disabled);
    expect(await text('#taste-status')).toMatch(/^Serving bundle: \d+ KB, loaded in [\d.]+ ms\. Pick items you like\.$/);
    const requests: string[] = [];
    const record = (r: { url(): string }) => requests.push(r.url());
    context.on('request', record);
    try {
      // The search box filters the titles: every match contains the text.
      await page.fill('#taste-search', 'harbor');
      await page.waitForFunction(() => document.querySelectorAll('#taste-matches li').length > 0);
      for (const match of await page.locator('#taste-matches li').allInnerTexts())
        expect(match.toLowerCase()).toContain('harbor');
      const picks: string[] = [];
      for (let n = 1; n <= 3; n++) {
        const title = await page.locator('#taste-matches button').first().innerText();
        picks.push(title);
        await page.locator('#taste-matches button').first().click();
        await page.waitForFunction(
          (n) =>
            document.querySelectorAll('#taste-mine li').length === n &&
            /from \d+ item/.test(document.getElementById('taste-status')!.textContent!) &&
            document.getElementById('taste-status')!.textContent!.includes(`from ${n} item`),
          n,
        );
        await page.waitForFunction(() => document.querySelectorAll('#taste-recs li').length === 10);
      }
      expect(await page.locator('#taste-mine li').allInnerTexts()).toEqual(picks);
      const recs = await page.locator('#taste-recs li').allInnerTexts();
      for (const row of recs) {
        // A title, the predicted rating, the reasons in words; none of the picks.
        expect(row).toMatch(/^The [A-Z][a-z]+ [A-Z][a-z]+ \(\d{4}\) -?\d+\.\d{2}\n?\s*\S/);
        expect(picks.some((p) => row.startsWith(p))).toBe(false);
        expect(row).not.toMatch(/\bbias\b|embedding|effect/);
      }
      // The person's own items, by title and with the stars a pick stands for.
      const said = recs.join('\n');
      expect(said).toMatch(/Because you liked “The [A-Z][a-z]+ Harbor \(\d{4}\)” \(\d★\)/);
      // Scores before clamping: they differ (a handful of likes would clamp every predicted rating to the top).
      const scores = recs.map((row) => Number(/\) (-?\d+\.\d{2})/.exec(row)![1]));
      expect(new Set(scores).size).toBeGreaterThan(1);
      // Clicking a recommendation adds it; clicking a pick removes it.
      await page.locator('#taste-recs li').first().click();
      await page.waitForFunction(() => document.getElementById('taste-status')!.textContent!.includes('from 4 items'));
      await page.locator('#taste-mine button').first().click();
      await page.waitForFunction(() => document.getElementById('taste-status')!.textContent!.includes('from 3 items'));
      expect(await text('#taste-status')).toMatch(
        /Personalised from 3 items \(fold-in\) and ranked in [\d.]+ ms, reasons in [\d.]+ ms, on this device\.$/,
      );
      await page.fill('#taste-search', '');
      // docs/personalisation.png is this picture (or the MovieLens one below), copied by hand.
      await page.locator('#taste-section').screenshot({ path: join(ROOT, 'artifacts/taste-synthetic.png') });
      // Timings (reported, not asserted: the machine is shared): 20 picks on this model's bundle.
      const bench = await page.evaluate(() =>
        (globalThis as unknown as { __tasteBench: (o: object) => Promise<Record<string, unknown>> }).__tasteBench({ picks: 20 }),
      );
      console.log(`Your taste in Chromium, synthetic model: ${JSON.stringify(bench)}`);
      if (process.env.TASTE_BENCH_100K) {
        const big = await page.evaluate(() =>
          (globalThis as unknown as { __tasteBench: (o: object) => Promise<Record<string, unknown>> }).__tasteBench({
            picks: 20,
            items: 100_000,
            runs: 9,
          }),
        );
        console.log(`Your taste in Chromium, 100k-item bundle: ${JSON.stringify(big)}`);
      }
    } finally {
      context.off('request', record);
    }
    expect(requests).toEqual([]);
  }, 120_000);

  it('saves the model in IndexedDB and loads it back with the same recommendations', async () => {
    const before = await page.locator('#recs li').allInnerTexts();
    await page.click('#idb-save');
    await page.waitForFunction(() => document.getElementById('store-status')!.textContent!.startsWith('Saved'));
    await page.click('#idb-load');
    await page.waitForFunction(() => document.getElementById('store-status')!.textContent!.startsWith('Loaded'));
    // The person's taste handle, kept in IndexedDB with each pick, comes back with the model (toBytes → personal(bytes)).
    // The status says so before the picks are drawn (and said so before the load too): wait for both.
    await page.waitForFunction(
      () =>
        document.getElementById('taste-status')!.textContent!.includes('from 3 items') &&
        document.querySelectorAll('#taste-mine li').length === 3,
    );
    expect(await page.locator('#taste-mine li').count()).toBe(3);
    await page.click('#recommend');
    await page.waitForFunction(() => document.querySelectorAll('#recs li').length === 10);
    expect(await page.locator('#recs li').allInnerTexts()).toEqual(before);
  });

  it('downloads the model file and loads it back through the file input', async () => {
    const before = await page.locator('#recs li').allInnerTexts();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('model.ttm');
    const saved = join(profile, 'model.ttm');
    await download.saveAs(saved);
    await page.setInputFiles('#upload', saved);
    await page.waitForFunction(() => document.getElementById('store-status')!.textContent!.startsWith('Loaded from model.ttm'));
    await page.click('#recommend');
    await page.waitForFunction(() => document.querySelectorAll('#recs li').length === 10);
    expect(await page.locator('#recs li').allInnerTexts()).toEqual(before);
  });

  it('a dropped event log (no ratings) trains a retrieval model, charted by Recall@20, and Stop keeps the best epoch', async () => {
    // 2,000 users in 4 taste groups, each playing 12 of its group's 30 items, shaped as Last.fm
    // publishes its log (userID, artistID, a play count; tab-separated, with a header): the page
    // takes artistID as the item column and the count as confidence, and says so. Enough events
    // that an epoch lasts long enough to press Stop in the search.
    const lines = ['userID\tartistID\tweight'];
    for (let u = 0; u < 2000; u++)
      for (let j = 0; j < 12; j++) lines.push(`v${u}\tp${(u % 4) * 30 + ((u * 7 + j) % 30)}\t${1 + ((u + j) % 5)}`);
    const dropped = await page.evaluateHandle((text) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], 'clicks.tsv', { type: 'text/tab-separated-values' }));
      return transfer;
    }, lines.join('\n'));
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: dropped });
    await page.waitForFunction(() => document.getElementById('data-summary')!.textContent!.startsWith('clicks.tsv'));
    expect(await text('#data-summary')).toMatch(
      /clicks\.tsv: [\d,]+ events, 2000 users, 120 items; [\d,]+ held out for testing \(10% of the events, at random\) \(delimiter "\\t", header userID, artistID, weight, an event log/,
    );
    expect(await text('#data-summary')).toMatch(/item column: "artistID" .*; confidence: "weight" weights each row/);
    await page.fill('#epochs', '200');
    await page.click('#train');
    await page.waitForFunction(() => Number(document.getElementById('chart')!.dataset.points) >= 2, null, { timeout: 60_000 });
    await page.click('#stop');
    await trained(120_000);
    expect(await text('#train-summary')).toMatch(/softmax loss.*Stopped: the best epoch so far was kept\./);
    expect(await text('#progress-label')).toMatch(/^searching: epoch \d+\/200, loss [\d.]+, validation Recall@20 [\d.]+$/);
    expect(Number(await page.locator('#chart').getAttribute('data-points'))).toBeLessThan(200);
    await page.fill('#user', 'v5');
    await page.click('#recommend');
    await page.waitForFunction(() => document.querySelectorAll('#recs li').length === 10);
    // v5 is in group 1: after two epochs most of its top items come from that group's 30
    // (p30 … p59), where chance would put 2.5 of 10 (in Node: 8 after one epoch, 10 after two).
    const items = await page
      .locator('#recs li')
      .evaluateAll((lis) => lis.map((li) => Number((li as HTMLElement).dataset.item!.slice(1))));
    expect(items.filter((i) => i >= 30 && i < 60).length).toBeGreaterThanOrEqual(8);
  }, 180_000);

  it('a dropped file whose columns it does not know: the person picks them in the page, then trains', async () => {
    // Italian names, in no usual order: when, item, who, rating (semicolons, a header).
    const lines = ['quando;articolo;persona;voto'];
    let t = 1_000_000;
    for (let u = 0; u < 150; u++)
      for (let j = 0; j < 20; j++) {
        const i = (u * 7 + j * 3) % 60;
        lines.push(`${t++};art${i};p${u};${1 + (((u % 5) + (i % 5)) % 5)}`);
      }
    const dropped = await page.evaluateHandle((text) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], 'valutazioni.csv', { type: 'text/csv' }));
      return transfer;
    }, lines.join('\n'));
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: dropped });
    await page.waitForFunction(() => document.getElementById('data-summary')!.textContent!.includes('which column is which'));
    expect(await text('#data-summary')).toBe(
      'valutazioni.csv: which column is which? The header (quando, articolo, persona, voto) names no user or item column I know: pick them below, then train.',
    );
    expect(await text('#data-summary')).not.toMatch(/--user-col/);
    expect(await page.locator('#train').isDisabled()).toBe(true);
    expect(await page.locator('#col-user option').allInnerTexts()).toEqual([
      '— pick a column —',
      'quando (e.g. 1000000)',
      'articolo (e.g. art0)',
      'persona (e.g. p0)',
      'voto (e.g. 1)',
    ]);
    // Each pick reads the file again; the pickers are disabled meanwhile, so each waits for the last.
    await page.selectOption('#col-user', { label: 'persona (e.g. p0)' });
    await page.selectOption('#col-item', { label: 'articolo (e.g. art0)' });
    await page.selectOption('#col-rating', { label: 'voto (e.g. 1)' });
    await page.selectOption('#col-time', { label: 'quando (e.g. 1000000)' });
    await page.waitForFunction(() => document.getElementById('data-summary')!.textContent!.endsWith('ratings)'));
    expect(await text('#data-summary')).toMatch(
      /^valutazioni\.csv: [\d,]+ events, 150 users, 60 items; [\d,]+ held out for testing \(10% of the events, at random\) \(delimiter ";", header quando, articolo, persona, voto, ratings\)$/,
    );
    await page.fill('#epochs', '5');
    await page.click('#train');
    await trained(120_000);
    expect(await text('#train-summary')).toMatch(
      /^Trained in [\d.]+ s: 150 users, 60 items, .*mse loss.*Test RMSE [\d.]+ on [\d,]+ held-out events/,
    );
  }, 180_000);

  it('on a page that is not cross-origin isolated, asking for 2 threads says once in the console why it runs on 1', async () => {
    const plain = await context.newPage();
    // The same server, its COOP/COEP headers removed on the way.
    await plain.route('**/*', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
    const warnings: string[] = [];
    plain.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    await plain.goto(page.url());
    await plain.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('Ready'));
    expect(await plain.locator('#status').innerText()).toMatch(/not cross-origin isolated/);
    await plain.selectOption('#threads', '2');
    await plain.click('#synthetic');
    await plain.waitForFunction(() => document.getElementById('data-summary')!.textContent!.includes('events'));
    await plain.fill('#epochs', '2');
    for (let run = 0; run < 2; run++) {
      await plain.click('#train');
      await plain.waitForFunction(() => document.getElementById('train-summary')!.textContent!.startsWith('Trained'), null, {
        timeout: 60_000,
      });
      expect(await plain.locator('#train-summary').getAttribute('data-threads')).toBe('1');
    }
    const said = warnings.filter((w) => w.startsWith('twotower:'));
    expect(said).toEqual([
      'twotower: 2 threads were asked for, running on 1: this page is not cross-origin isolated, so it cannot share WebAssembly memory with workers: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp.',
    ]);
    await plain.close();
  }, 120_000);

  it.skipIf(!HAVE_ML100K)(
    'MovieLens 100K chosen as three files (u1.base, u1.test, u.item): trains in the page, scores the official test fold, and the taste panel speaks titles',
    async () => {
      // u.item beside them: titles for the items (read as Latin-1), not events.
      await page.setInputFiles('#file', [join(ML100K, 'u1.base'), join(ML100K, 'u1.test'), join(ML100K, 'u.item')]);
      await page.waitForFunction(() => document.getElementById('data-summary')!.textContent!.startsWith('u1.base'));
      expect(await text('#data-summary')).toMatch(
        /^u1\.base: 80,000 events, 943 users, 1650 items; 20,000 held out for testing \(u1\.test\) \(delimiter "\\t", no header, ratings\)/,
      );
      await page.fill('#epochs', '20');
      await page.click('#train');
      await trained(300_000);
      const summary = page.locator('#train-summary');
      expect(await summary.getAttribute('data-test-metric')).toBe('RMSE');
      const rmse = Number(await summary.getAttribute('data-test-value'));
      // Node, the same recipe and files: 0.9162 (biased SVD on u1: 0.954); the page's threads keep its bits.
      console.log(`MovieLens u1 in Chromium: ${await text('#train-summary')}`);
      expect(rmse).toBeLessThan(0.93);
      expect(await text('#train-summary')).toMatch(/on 19,968 held-out events.*32 with an id not in training left out/);
      // "Your taste" with MovieLens titles: three films picked by searching their titles.
      await page.waitForFunction(() => !(document.getElementById('taste-search') as HTMLInputElement).disabled);
      for (const [n, query] of ['star wars', 'empire strikes', 'raiders of the lost'].entries()) {
        await page.fill('#taste-search', query);
        await page.waitForFunction((q) => {
          const first = document.querySelector('#taste-matches button');
          return first !== null && first.textContent!.toLowerCase().includes(q);
        }, query);
        await page.locator('#taste-matches button').first().click();
        await page.waitForFunction(
          (n) => document.getElementById('taste-status')!.textContent!.includes(`from ${n} item`),
          n + 1,
        );
      }
      expect(await page.locator('#taste-mine li').allInnerTexts()).toEqual([
        'Star Wars (1977)',
        'Empire Strikes Back, The (1980)',
        'Raiders of the Lost Ark (1981)',
      ]);
      const recs = await page.locator('#taste-recs li').allInnerTexts();
      expect(recs).toHaveLength(10);
      expect(recs.join('\n')).toMatch(
        /Because you liked “(Star Wars \(1977\)|Empire Strikes Back, The \(1980\)|Raiders of the Lost Ark \(1981\))” \(5★\)/,
      );
      await page.fill('#taste-search', '');
      await page.locator('#taste-section').screenshot({ path: join(ROOT, 'artifacts/taste-movielens.png') });
      const bench = await page.evaluate(() =>
        (globalThis as unknown as { __tasteBench: (o: object) => Promise<Record<string, unknown>> }).__tasteBench({ picks: 20 }),
      );
      console.log(`Your taste in Chromium, MovieLens u1 (rating model): ${JSON.stringify(bench)}`);
    },
    360_000,
  );

  it('showed no console errors, and leaves a screenshot of the end', async () => {
    await page.screenshot({ path: join(ROOT, 'artifacts/example-page-event-log.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
