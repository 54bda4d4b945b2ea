// Node's worker_threads behind the kernel pool, and the Node flavour of createScorer (threads
// available). `twotower` resolves here in Node through the package's "node" export condition.
// The worker script is inlined (CommonJS, started with eval: true): a server bundled into one
// file by esbuild or webpack keeps its threads, with no worker file to ship beside it.
import { Worker } from 'node:worker_threads';
import type { Spawner } from '../wasm/pool.js';
import { NODE_WORKER_SOURCE } from '../wasm/generated/worker-sources.js';
import { createScorer as createCoreScorer, type Scorer, type ScorerOptions } from '../rank/scorer.js';
import { createModel as createCoreModel, type CreateModelOptions, type Model } from '../api/model.js';
import type { TwoTowerConfig } from '../index.js';
import { createIndex as createCoreIndex, type IndexOptions, type VectorIndex } from '../rank/index-api.js';

export const nodeSpawner: Spawner = (init, failed) => {
  const worker = new Worker(NODE_WORKER_SOURCE, { eval: true, workerData: init });
  // 'error' comes before 'exit': the pool keeps the first reason it hears.
  worker.on('error', (error) => failed(`a twotower worker thread failed: ${error.message}`));
  worker.on('exit', (code) => failed(`a twotower worker thread exited (exit code ${code})`));
  worker.unref();
  return {
    terminate: () => {
      failed('a twotower worker thread was terminated');
      void worker.terminate();
    },
  };
};

/** createModel with worker_threads for `threads > 1`. */
export function createModel(config: TwoTowerConfig, options: CreateModelOptions = {}): Promise<Model> {
  return createCoreModel(config, options, nodeSpawner);
}

/** createIndex with worker_threads for `threads > 1`. */
export function createIndex(options: IndexOptions): Promise<VectorIndex> {
  return createCoreIndex(options, nodeSpawner);
}

/** createScorer with worker_threads for `threads > 1`. */
export function createScorer(options: ScorerOptions = {}): Promise<Scorer> {
  return createCoreScorer(options, nodeSpawner);
}
