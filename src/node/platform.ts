// twotower's platform in Node: worker_threads start the kernel pool's threads. Importing this
// module installs it (src/wasm/platform.ts), so it is the one module of the package with a side
// effect at load: the Node entry (index.ts) and the CLI import it before anything else, and
// package.json's "sideEffects" lists it and the Node entry, so that a bundler never drops the
// import (a server bundled into one file would otherwise train and scan on one thread, silently).
// The worker script is inlined (CommonJS, started with eval: true): a server bundled into one
// file by esbuild or webpack keeps its threads, with no worker file to ship beside it.
import { Worker } from 'node:worker_threads';
import type { Spawner } from '../wasm/pool.js';
import { setPlatform, type Platform } from '../wasm/platform.js';
import { NODE_WORKER_SOURCE } from '../wasm/generated/worker-sources.js';

/** Starts one pool worker on worker_threads (see Spawner). */
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

/** worker_threads, whatever `workerUrl` says (a browser's option). */
export const nodePlatform: Platform = { spawner: () => nodeSpawner };

setPlatform(nodePlatform);
