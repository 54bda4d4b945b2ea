// Instantiating the kernel module on a memory: the one piece a worker thread needs, kept apart
// from load.ts so that the inlined worker scripts do not carry the inlined kernels.
import { fail } from '../errors.js';

/**
 * Awaits a WebAssembly promise with the host's event loop kept busy. Node, finding its loop
 * empty while V8 still has compile tasks in flight, waits for V8's background tasks in a way
 * that can deadlock under load (the main thread parked in NodePlatform::DrainTasks, the promise
 * never resolved: nodejs/node#36616, #49615); a timer keeps the loop turning until the promise
 * settles. Harmless elsewhere.
 */
export async function settled<T>(promise: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 20);
  try {
    return await promise;
  } finally {
    clearInterval(timer);
  }
}

/** Instantiates the kernels (on a given shared memory for the threads build). */
export function instantiateKernels(module: WebAssembly.Module, memory?: WebAssembly.Memory): Promise<WebAssembly.Instance> {
  return settled(
    WebAssembly.instantiate(module, {
      env: {
        ...(memory ? { memory } : {}),
        abort(_msg: number, _file: number, line: number, column: number) {
          fail('KERNEL_FAILED', `a twotower kernel aborted at ${line}:${column}`);
        },
      },
    }),
  );
}
