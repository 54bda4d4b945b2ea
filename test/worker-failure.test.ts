// A pool worker that dies never leaves a caller waiting. Real worker threads die three ways here:
// terminated from outside through the handle their spawner (nodeSpawner, the Node platform's)
// returned, exiting (process.exit) in the middle of a job, and throwing from a kernel; the last
// two run the package's own worker script with one kernel replaced, so the job reaches them
// through the pool's real control block. Each time the pending call throws WORKER_FAILED at once,
// the pool closes, and the scorer or model carries on on the calling thread (threads: 1) with
// the bits of one thread. Each scenario runs in a child process: a caller blocked in
// Atomics.wait cannot be timed out from its own thread, so a hang shows as the child's timeout.
import { describe, it, expect, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const src = (path: string) => JSON.stringify(pathToFileURL(resolve(ROOT, 'src', path)).href);
/** A hang in a child is reported after this long. */
const HANG_MS = 10_000;

/**
 * What every scenario's child starts with: the Node entry, spawners that record or crash their
 * workers, and `use(spawner)`, which installs one as the platform (what the Node entry does with
 * nodeSpawner as it loads) for the threaded scorer or model created next.
 */
const PRELUDE = `
import { Worker } from 'node:worker_threads';
import { createScorer, createModel, TwoTowerError } from ${src('node/index.ts')};
import { nodeSpawner } from ${src('node/platform.ts')};
import { setPlatform } from ${src('wasm/platform.ts')};
import { NODE_WORKER_SOURCE } from ${src('wasm/generated/worker-sources.ts')};

const use = (spawner) => setPlatform({ spawner: () => spawner });

// nodeSpawner, keeping the handles it returns (what a caller could terminate).
const handles = [];
const recording = (init, failed) => {
  const handle = nodeSpawner(init, failed);
  handles.push(handle);
  return handle;
};
// The package's worker script with one kernel replaced by \`body\` (process.exit, a throw). Its
// events are deliberately not reported to the pool: only what the dying worker itself writes can
// wake a caller that is blocked waiting for it.
const crashing = (kernel, body) => (init) => {
  const patch = \`{ const real = WebAssembly.instantiate; WebAssembly.instantiate = async (...args) => {
    const instance = await real(...args);
    return { exports: { ...instance.exports, \${kernel}: () => { \${body} } } }; }; }\`;
  const worker = new Worker(NODE_WORKER_SOURCE.replace('"use strict";', '"use strict";' + patch), { eval: true, workerData: init });
  worker.on('error', () => {});
  worker.unref();
  return { terminate: () => void worker.terminate() };
};
// Runs f, timing it; a TwoTowerError is returned as { code, message, ms }.
const attempt = (f) => {
  const t0 = performance.now();
  try {
    f();
    return { code: null, ms: performance.now() - t0 };
  } catch (error) {
    if (!(error instanceof TwoTowerError)) throw error;
    return { code: error.code, message: error.message, ms: performance.now() - t0 };
  }
};
const random = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 2);
const done = (result) => { process.stdout.write(JSON.stringify(result)); process.exit(0); };
`;

const scripts = mkdtempSync(join(tmpdir(), 'twotower-worker-failure-'));
let scriptCount = 0;
afterAll(() => rmSync(scripts, { recursive: true, force: true }));

/** Runs `body` after PRELUDE in a child process; resolves to what it printed, or rejects after HANG_MS. */
function scenario(body: string): Promise<Record<string, unknown>> {
  const script = join(scripts, `scenario-${++scriptCount}.mjs`);
  writeFileSync(script, PRELUDE + body);
  return new Promise((ok, no) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script],
      { cwd: ROOT, timeout: HANG_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error?.killed) no(new Error(`the child hung: no answer within ${HANG_MS / 1000} s\n${stderr}`));
        else if (error) no(new Error(`the child failed: ${error.message}\n${stderr}`));
        else ok(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

/** A scorer over 1,000 items (two threads' shares) on `spawn`; searches once, kills a worker by `kill`, searches again. */
const SEARCH = (spawn: string, kill: string) => `
const dim = 8, items = random(1000 * dim, 1), queries = random(5 * dim, 2);
const one = await createScorer({ threads: 1 });
const expected = one.topK(queries, items, dim, 10);
use(${spawn});
const scorer = await createScorer({ threads: 2 });
const threadsBefore = scorer.threads;
scorer.setItems(items, dim);
const warm = ${kill.includes('terminate') ? 'attempt(() => scorer.topK(queries, null, dim, 10))' : 'null'};
${kill}
const failed = attempt(() => scorer.topK(queries, null, dim, 10));
let again;
const next = attempt(() => (again = scorer.topK(queries, null, dim, 10)));
done({
  threadsBefore, warm, failed, next, threadsAfter: scorer.threads,
  same: again !== undefined && String(again.indices) === String(expected.indices) && String(again.scores) === String(expected.scores),
});
`;

/** A model on 2 threads whose worker is killed by `kill`; fit fails, then fits on one thread like a one-thread model. */
const TRAIN = (spawn: string, kill: string) => `
// Layers wide enough that their rows split over the threads (a share must hold ~2¹⁸ multiply-adds).
const config = { dim: 8, seed: 3, user: { features: [{ kind: 'id', name: 'u', vocabSize: 60, dim: 64 }], hidden: [256] },
  item: { features: [{ kind: 'id', name: 'i', vocabSize: 40, dim: 64 }], hidden: [256] } };
const n = 1200;
const data = { users: Int32Array.from({ length: n }, (_, r) => (r * 7) % 60), items: Int32Array.from({ length: n }, (_, r) => (r * 13) % 40),
  ratings: Float32Array.from({ length: n }, (_, r) => 1 + ((r * 7) % 5)) };
const options = { epochs: 1, batchSize: 256, seed: 5 };
use(${spawn});
const model = await createModel(config, { threads: 2 });
const threadsBefore = model.threads;
${kill}
const failed = attempt(() => model.fit(data, options));
const next = attempt(() => model.fit(data, options));
const reference = await createModel(config, { threads: 1 });
reference.fit(data, options);
const pairs = { users: Int32Array.from([0, 5, 9, 33]), items: Int32Array.from([1, 4, 17, 39]) };
done({
  threadsBefore, failed, next, threadsAfter: model.threads,
  same: String(model.rows.predict(pairs.users, pairs.items)) === String(reference.rows.predict(pairs.users, pairs.items)),
});
`;

type Attempt = { code: string | null; message?: string; ms: number };

/** The pending call failed at once with WORKER_FAILED; the next ran on one thread with one thread's results. */
function expectFailedThenOneThread(result: Record<string, unknown>) {
  const failed = result.failed as Attempt,
    next = result.next as Attempt;
  expect(result.threadsBefore).toBe(2);
  expect(failed.code).toBe('WORKER_FAILED');
  expect(failed.message).toMatch(/the next calls run on the calling thread alone \(threads: 1\)/);
  expect(failed.ms).toBeLessThan(2000);
  expect(next.code).toBeNull();
  expect(result.threadsAfter).toBe(1);
  expect(result.same).toBe(true);
}

describe('a pool worker that dies', () => {
  it('terminated through its handle, then a search in the same tick: WORKER_FAILED at once, then one thread', async () => {
    const result = await scenario(SEARCH('recording', 'handles[0].terminate();'));
    expect((result.warm as Attempt).code).toBeNull();
    expectFailedThenOneThread(result);
    expect((result.failed as Attempt).message).toMatch(/^a twotower worker thread was terminated/);
  }, 15_000);

  it('terminated, then a search once the thread is gone: WORKER_FAILED at once, then one thread', async () => {
    const result = await scenario(
      SEARCH('recording', 'handles[0].terminate(); await new Promise((resolve) => setTimeout(resolve, 300));'),
    );
    expectFailedThenOneThread(result);
  }, 15_000);

  it('exits (process.exit) in the middle of a search while the caller waits in Atomics.wait: WORKER_FAILED at once', async () => {
    const result = await scenario(SEARCH(`crashing('score_topk', 'process.exit(3);')`, ''));
    expectFailedThenOneThread(result);
    expect((result.failed as Attempt).message).toMatch(/^worker thread 1 failed while running score_topk/);
  }, 15_000);

  it('throws from a kernel: WORKER_FAILED once, and the next search runs on one thread', async () => {
    const result = await scenario(SEARCH(`crashing('score_topk', "throw new Error('a kernel bug');")`, ''));
    expectFailedThenOneThread(result);
  }, 15_000);

  it('training on 2 threads, a worker terminated between fits: fit throws WORKER_FAILED at once, then trains on one thread', async () => {
    const result = await scenario(TRAIN('recording', 'handles[0].terminate();'));
    expectFailedThenOneThread(result);
  }, 15_000);

  it('training on 2 threads, a worker exiting in the middle of a step: WORKER_FAILED at once, then one thread', async () => {
    const result = await scenario(TRAIN(`crashing('dense_forward', 'process.exit(4);')`, ''));
    expectFailedThenOneThread(result);
    expect((result.failed as Attempt).message).toMatch(/^worker thread 1 failed while running dense_forward/);
  }, 15_000);
});
