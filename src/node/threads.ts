// Node's worker_threads behind the kernel pool, and the Node flavour of createScorer (threads
// available). `twotower` resolves here in Node through the package's "node" export condition.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Spawner } from '../wasm/pool.js';
import { createScorer as createCoreScorer, type Scorer, type ScorerOptions } from '../rank/scorer.js';

/** The compiled worker script beside this file (or in dist/ when running from sources). */
function workerUrl(): URL {
  const beside = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../../dist/node/worker.js', import.meta.url);
}

export const nodeSpawner: Spawner = (init) => {
  const worker = new Worker(workerUrl(), { workerData: init });
  worker.unref();
  return { terminate: () => void worker.terminate() };
};

/** createScorer with worker_threads for `threads > 1`. */
export function createScorer(options: ScorerOptions = {}): Promise<Scorer> {
  return createCoreScorer(options, nodeSpawner);
}
