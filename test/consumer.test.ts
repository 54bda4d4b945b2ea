// The package as a consumer gets it: `npm pack`, the tarball installed in an app outside the
// repository, the README-style code run in Node (plain, and bundled into one file by esbuild:
// the worker threads must still start), and bundled by esbuild for a browser, run inside a Web
// Worker of a cross-origin isolated page in Chromium with a 2-thread scorer.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { build, transform } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let app = '';

interface AppResult {
  top: string[];
  kernels: string;
  threads: number;
  same: boolean;
  trainThreads: number;
  sameModel: boolean;
  parsed: unknown;
  error?: string;
}

function expectGood(result: AppResult, kernels: string): void {
  expect(result.error).toBeUndefined();
  expect(result.top).toHaveLength(5);
  for (const item of result.top) expect(item).toMatch(/^film-\d+$/);
  expect(result.kernels).toBe(kernels);
  expect(result.threads).toBe(2);
  expect(result.same).toBe(true);
  expect(result.trainThreads).toBe(2);
  expect(result.sameModel).toBe(true);
  expect(result.parsed).toEqual([
    { user: 'a, b', item: 'x', rating: 4 },
    { user: 'c', item: 'y\nz', rating: 5 },
  ]);
}

/** What the page evaluates: starts /worker.js (a module worker running the app) and resolves to its result. */
const WORKER_RESULT = `new Promise((resolve) => {
  const worker = new Worker('/worker.js', { type: 'module' });
  worker.onmessage = (event) => resolve(event.data);
  worker.onerror = (event) => resolve({ error: event.message || 'worker error' });
  worker.postMessage('go');
})`;

/** Serves `dir` with COOP/COEP headers, opens `page` in Chromium and returns what `expression` resolves to. */
async function runPage(dir: string, page: string, expression: string): Promise<AppResult> {
  const types: Record<string, string> = {
    '.js': 'text/javascript',
    '.mjs': 'text/javascript',
    '.html': 'text/html',
    '.wasm': 'application/wasm',
  };
  const server: Server = createServer((req, res) => {
    const path = join(dir, new URL(req.url ?? '/', 'http://x').pathname);
    if (!existsSync(path) || path.includes('..')) return void res.writeHead(404).end();
    res
      .writeHead(200, {
        'content-type': types[extname(path)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      })
      .end(readFileSync(path));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const profile = mkdtempSync(join(tmpdir(), 'twotower-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  try {
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}${page}`);
    const result = (await tab.evaluate(expression)) as AppResult;
    expect(errors).toEqual([]);
    return result;
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'twotower-consumer-'));
  // The suite has just built dist/ (npm test's pretest): pack it as is.
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', app], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop()!;
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent', join(app, packed)], {
    cwd: app,
    stdio: 'inherit',
  });
  cpSync(join(ROOT, 'test/consumer'), app, { recursive: true });
}, 300_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('the packed package in a consumer app', () => {
  it('installs no build step and ships its license', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/twotower/package.json'), 'utf8'));
    expect(pkg.scripts?.install ?? pkg.scripts?.postinstall ?? pkg.scripts?.prepare).toBeUndefined();
    expect(existsSync(join(app, 'node_modules/twotower/LICENSE'))).toBe(true);
    const version = spawnSync(join(app, 'node_modules/.bin/twotower'), ['--version'], { encoding: 'utf8' });
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it('runs in Node: events → recommendations by id, and a 2-thread scorer equal to one thread', () => {
    const r = spawnSync(process.execPath, [join(app, 'node-main.mjs')], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expectGood(JSON.parse(r.stdout.trim().split('\n').pop()!), 'simd');
  });

  it('runs bundled into one file by esbuild, away from node_modules: its worker threads still start', async () => {
    const out = mkdtempSync(join(tmpdir(), 'twotower-bundled-'));
    await build({
      entryPoints: [join(app, 'node-main.mjs')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: join(out, 'server.mjs'),
      absWorkingDir: app,
      logLevel: 'error',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    const r = spawnSync(process.execPath, [join(out, 'server.mjs')], { cwd: out, encoding: 'utf8', timeout: 120_000 });
    rmSync(out, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    expectGood(JSON.parse(r.stdout.trim().split('\n').pop()!), 'simd');
  });

  it.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')(
    'runs bundled by esbuild for the browser, in a Web Worker of a COOP/COEP page, with 2 threads',
    async () => {
      await build({
        entryPoints: [join(app, 'browser-worker.mjs')],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        target: 'es2022',
        outfile: join(app, 'web/worker.js'),
        absWorkingDir: app,
        logLevel: 'error',
      });
      writeFileSync(join(app, 'web/index.html'), '<!doctype html><title>consumer</title>');
      expectGood(await runPage(join(app, 'web'), '/index.html', WORKER_RESULT), 'relaxed');
    },
  );
});

describe('the consumer app built by webpack', () => {
  it.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')(
    'runs in Chromium from a webpack production build, 2 threads, with no configuration for twotower',
    async () => {
      const { default: webpack } = await import('webpack');
      const compiler = webpack({
        mode: 'production',
        target: 'webworker',
        context: app,
        entry: './browser-worker.mjs',
        output: { path: join(app, 'webpack-dist'), filename: 'worker.js', module: true, chunkFormat: 'module' },
        experiments: { outputModule: true },
        resolve: { modules: [join(app, 'node_modules')] },
        performance: { hints: false },
      });
      const stats = await new Promise<{ hasErrors(): boolean; toString(o: unknown): string }>((done, failed) =>
        compiler.run((error, result) => (error ? failed(error) : done(result!))),
      );
      expect(stats.hasErrors(), stats.toString('errors-only')).toBe(false);
      writeFileSync(join(app, 'webpack-dist/index.html'), '<!doctype html><title>consumer (webpack)</title>');
      const result = await runPage(join(app, 'webpack-dist'), '/index.html', WORKER_RESULT);
      expectGood(result, 'relaxed');
    },
  );
});

describe('the consumer app built by Vite', () => {
  it.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')(
    'runs in Chromium from a Vite production build, 2 threads, with no configuration for twotower',
    async () => {
      cpSync(join(app, 'vite-index.html'), join(app, 'index.html'));
      const { build: viteBuild } = await import('vite');
      await viteBuild({
        root: app,
        base: './',
        logLevel: 'error',
        worker: { format: 'es' },
        build: { outDir: join(app, 'vite-dist'), emptyOutDir: true },
      });
      const result = await runPage(join(app, 'vite-dist'), '/index.html', 'window.appResult');
      expectGood(result, 'relaxed');
    },
  );
});

describe('every code sample of the README and docs/, run in the consumer app', () => {
  // Interface listings (declarations, not programs) and samples written inside the repository
  // (they import its modules by relative path; test/plugins.test.ts runs the one in
  // docs/architecture.md) are the only blocks not run here.
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const samples = files.flatMap((file) =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(/```(js|ts)\n([\s\S]*?)```/g)]
      .map((m, i) => ({ name: `${file} #${i + 1}`, lang: m[1]!, code: m[2]! }))
      .filter((s) => !/^\s*interface /.test(s.code) && !/from '\.\.?\//.test(s.code)),
  );
  it('there are samples to run, in the README and in docs/', () => {
    expect(samples.filter((s) => s.name.startsWith('README')).length).toBeGreaterThanOrEqual(4);
    expect(samples.filter((s) => s.name.startsWith('docs/')).length).toBeGreaterThanOrEqual(4);
  });
  it.each(samples.map((s) => [s.name, s] as const))('%s runs with plain node', async (_name, sample) => {
    const file = join(app, `sample-${sample.name.replace(/[^a-z0-9]+/gi, '-')}.mjs`);
    const js = sample.lang === 'ts' ? (await transform(sample.code, { loader: 'ts', format: 'esm' })).code : sample.code;
    writeFileSync(file, js);
    const r = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${r.stderr}\n--- ${sample.name} ---\n${sample.code}`).toBe(0);
  });
});
