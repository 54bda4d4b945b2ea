// A Web Worker of the kernel pool (see pool.ts). Bundled twice: as dist/twotower.worker.js, and
// inlined as a string (src/wasm/generated/worker-sources.ts) that the pool starts from a Blob
// URL, so that threads work in any bundle without copying or configuring a worker file.
import { workerMain, type WorkerInit } from './pool.js';
import { instantiateKernels } from './instantiate.js';

const scope = globalThis as unknown as { onmessage: ((event: { data: WorkerInit }) => void) | null };
scope.onmessage = (event) => {
  scope.onmessage = null;
  void workerMain(event.data, instantiateKernels);
};
