// A worker_threads worker of the kernel pool (see src/rank/pool.ts).
import { workerData } from 'node:worker_threads';
import { workerMain, type WorkerInit } from '../wasm/pool.js';
import { instantiateKernels } from '../wasm/load.js';

await workerMain(workerData as WorkerInit, instantiateKernels);
