// twotower's platform in Node: worker_threads start the kernel pool's threads. Importing this
// module installs it (src/wasm/platform.ts), so it is the one module of the package with a side
// effect at load: the Node entry (index.ts) and the CLI import it before anything else, and
// package.json's "sideEffects" lists it and the Node entry, so that a bundler never drops the
// import (a server bundled into one file would otherwise train and scan on one thread, silently).
// The worker script is inlined (CommonJS, started with eval: true): a server bundled into one
// file by esbuild or webpack keeps its threads, with no worker file to ship beside it.
// The recipe workers (recipe: 'best''s members, tune's candidate penalties) are another matter:
// they run the package's training code, so their script is a file of the package
// (member-worker.js beside this one); where it is missing (a bundle) they train one after
// another and trainBest or trainRecipe says why.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Spawner } from '../wasm/pool.js';
import { setPlatform, type MemberSpawner, type Platform } from '../wasm/platform.js';
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

/**
 * Starts member workers from `script` (the package's member-worker.js; tests give a bootstrap
 * that runs the TypeScript source). A worker that ends without its result is a failure.
 */
export function nodeMemberSpawner(script: URL): MemberSpawner {
  return (init, events) => {
    const worker = new Worker(script, { workerData: init });
    worker.on('message', (message) => events.message(message));
    worker.on('error', (error) => events.failed(`a member worker failed: ${error.message}`));
    worker.on('exit', (code) => events.failed(`a member worker exited (exit code ${code})`));
    return {
      terminate: () => {
        events.failed('a member worker was terminated');
        void worker.terminate();
      },
    };
  };
}

/** The member worker script beside this module, or why there is none (a bundle has no files beside it). */
function memberWorkers(): MemberSpawner | string {
  let script: URL;
  try {
    // The base through a variable: bundlers (webpack, Vite) rewrite `new URL('…', import.meta.url)`
    // into a copied asset, which would be this one file without the modules it imports.
    const here = import.meta.url;
    script = new URL('./member-worker.js', here);
  } catch {
    return 'this module has no file URL (bundled?), so there is no member worker script beside it';
  }
  if (script.protocol !== 'file:' || !existsSync(fileURLToPath(script)))
    return `the member worker script ${script.href} is missing (the package was bundled into one file?)`;
  return nodeMemberSpawner(script);
}

/** worker_threads, whatever `workerUrl` says (a browser's option). */
export const nodePlatform: Platform = { spawner: () => nodeSpawner, members: memberWorkers };

setPlatform(nodePlatform);
