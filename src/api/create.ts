// Building a model's core: the backend (WASM, a given one, or the threads build with its worker
// pool where threads can run), the room check before anything is allocated, the core itself
// and its feature tables. createModel() and loadModel() wrap what this returns.
import { fail } from '../errors.js';
import type { Backend } from '../backend/contract.js';
import type { TwoTowerConfig } from '../config/model.js';
import type { FeatureTable } from '../config/feature-table.js';
import { TwoTower } from '../model/twotower.js';
import { loadWasmBackend, type LoadOptions } from '../wasm/load.js';
import { checkThreads, threadedBackend } from '../wasm/platform.js';
import { checkModelRoom } from '../train/memory.js';

export interface CreateModelOptions {
  /** How to load the WASM kernels (build choice, precompiled module, bytes or URL). Default: inlined, 'auto' build. */
  wasm?: LoadOptions;
  /** Run on this backend instead of WASM (e.g. `new ReferenceBackend()` for f64 checks). Default: WASM. */
  backend?: Backend;
  /** Per-user feature columns, when the user tower reads more than its id. Default none. */
  userFeatures?: FeatureTable;
  /** Per-item feature columns, when the item tower reads more than its id. Default none. */
  itemFeatures?: FeatureTable;
  /**
   * Threads for training (the calling one included; 1 to 64). With more than one, the model runs
   * on the threads build (shared memory, a 2 GiB heap) and the in-batch softmax's matrix work is
   * split by rows across worker threads (worker_threads in Node, Web Workers in a cross-origin
   * isolated page): every row is computed by one thread in the one summation order, so training
   * gives the same bits as one thread. Where threads cannot run (no shared memory, a browser's
   * main thread) the model uses one: see `model.threads`. Default 1.
   */
  threads?: number;
  /** The Web Worker script for threads > 1 in a browser. Default: the inlined one (a Blob URL). */
  workerUrl?: string | URL;
}

/**
 * A core for `config` with freshly initialised (seeded) parameters — or zeroed ones, `initialValues:
 * 'zeros'`, for a caller that writes every block next (loading a file); on any error nothing is
 * left allocated.
 */
export async function createCore(
  config: TwoTowerConfig,
  options: CreateModelOptions = {},
  initialValues: 'seeded' | 'zeros' = 'seeded',
): Promise<TwoTower> {
  const threads = options.threads ?? 1;
  checkThreads(threads);
  if (threads > 1 && options.backend)
    fail('BAD_OPTION', 'threads > 1 runs on its own WASM backend: give threads or backend, not both');
  const threaded = threads > 1 ? await threadedBackend(threads, options.wasm, options.workerUrl) : null;
  const backend = threaded?.backend ?? options.backend ?? (await loadWasmBackend(options.wasm));
  let core: TwoTower;
  try {
    // Before anything is allocated: the values, and the towers' activations for one chunk of rows.
    const groups = TwoTower.parameterGroups(config);
    const values = groups.reduce((sum, g) => sum + g.size, 0) * backend.floatBytes;
    checkModelRoom(config, values, backend.floatBytes, backend.stats().liveBytes, backend.memoryLimit);
    core = new TwoTower(config, backend, undefined, threaded?.pool ?? null, initialValues);
  } catch (error) {
    threaded?.pool.close();
    throw error;
  }
  core.threads = threaded?.pool ?? null;
  try {
    if (options.userFeatures) core.setUserFeatures(options.userFeatures);
    if (options.itemFeatures) core.setItemFeatures(options.itemFeatures);
  } catch (error) {
    core.dispose();
    throw error;
  }
  return core;
}
