// Instantiating the kernel module on a memory: the one piece a worker thread needs, kept apart
// from load.ts so that the inlined worker scripts do not carry the inlined kernels.
import { fail } from '../errors.js';

/** Instantiates the kernels (on a given shared memory for the threads build). */
export function instantiateKernels(module: WebAssembly.Module, memory?: WebAssembly.Memory): Promise<WebAssembly.Instance> {
  return WebAssembly.instantiate(module, {
    env: {
      ...(memory ? { memory } : {}),
      abort(_msg: number, _file: number, line: number, column: number) {
        fail('KERNEL_FAILED', `a twotower kernel aborted at ${line}:${column}`);
      },
    },
  });
}
