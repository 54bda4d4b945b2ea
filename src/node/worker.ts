// A worker_threads worker of the kernel pool (see src/wasm/pool.ts). Also inlined as a string
// (src/wasm/generated/worker-sources.ts, CommonJS) that threads.ts starts with `eval: true`, so
// a server bundled into one file still has its workers.
import { workerData } from 'node:worker_threads';
import { abandonJob, workerMain, type WorkerInit } from '../wasm/pool.js';
import { instantiateKernels } from '../wasm/instantiate.js';

// A thread that ends in the middle of a job (process.exit, an uncaught error) marks the job
// failed on its way out: the caller, blocked in Atomics.wait, would never see the 'exit' event.
process.on('exit', abandonJob);
void workerMain(workerData as WorkerInit, instantiateKernels);
