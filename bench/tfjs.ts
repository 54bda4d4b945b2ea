// TensorFlow.js as the peer: the same work on its 'wasm' backend (XNNPACK, SIMD; one thread in
// Node) and its 'cpu' backend (plain JavaScript kernels).
// The union package: tfjs-core with every gradient registered, and the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

let ready: Promise<void> | null = null;

/** Registers both backends once; the wasm files come from the installed package (no network). */
export function tfjsReady(): Promise<void> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + '/');
    await tf.setBackend('wasm');
    await tf.ready();
  })();
  return ready;
}

export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  await tfjsReady();
  if (tf.getBackend() !== name) {
    await tf.setBackend(name);
    await tf.ready();
  }
}

export { tf };
