// A Web Worker of the kernel pool (see pool.ts), bundled as dist/twotower.worker.js.
import { workerMain, type WorkerInit } from './pool.js';
import { instantiateKernels } from './load.js';

const scope = globalThis as unknown as { onmessage: ((event: { data: WorkerInit }) => void) | null };
scope.onmessage = (event) => {
  scope.onmessage = null;
  void workerMain(event.data, instantiateKernels);
};
