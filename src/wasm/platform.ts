// The platform: how this host starts the kernel pool's worker threads. It is chosen once, by the
// entry point, and no public function takes it: createModel, createScorer, createIndex, train
// and trainRecipe all ask this module. The default is Web Workers (the inlined worker script
// from a Blob URL, or a caller's `workerUrl`), where the host has them and shares memory; the
// Node entry (src/node/index.ts, which `twotower` resolves to in Node) and the CLI install
// worker_threads as they load (src/node/platform.ts), before any call can start a pool.
//
// Here too is everything else about whether threads run: the `threads` option's check, why they
// cannot run on this host (shared memory, a calling thread that may block, a way to start
// workers), and the one console warning per reason when a caller falls back to one thread.
import { fail } from '../errors.js';
import { loadWasmBackend, supportsSharedMemory, type LoadOptions, type WasmBackend } from './load.js';
import { KernelPool, canBlock, type Spawner } from './pool.js';
import { WEB_WORKER_SOURCE } from './generated/worker-sources.js';

/** How a host starts worker threads. */
export interface Platform {
  /**
   * What starts the pool's workers here, or a sentence saying why nothing can (with how to fix
   * it). `workerUrl` is the Web Worker script a caller gave (other platforms ignore it).
   */
  spawner(workerUrl: string | URL | undefined): Spawner | string;
  /**
   * What starts a recipe worker on the package's own code — one member of recipe: 'best'
   * (src/api/parallel-members.ts) or one candidate penalty of tune (src/api/parallel-penalties.ts)
   * — or a sentence saying why nothing can here. Absent: nothing can.
   */
  members?(): MemberSpawner | string;
}

/** What a member worker reports to its starter: its messages in order, then at most one failure. */
export interface MemberEvents {
  /** A message the worker posted (structured-cloned). */
  message(message: unknown): void;
  /** The worker failed to start, threw outside its job, exited or was terminated: why, in a sentence. */
  failed(reason: string): void;
}

/** A started member worker. */
export interface MemberThread {
  /** Ends the worker at once (its 'failed' event may follow; a finished job ignores it). */
  terminate(): void;
}

/** Starts one member worker with `init` (structured-cloned into it) as its job. */
export type MemberSpawner = (init: unknown, events: MemberEvents) => MemberThread;

/** The inlined worker script as a Blob URL (made once): no file to serve, so bundlers need no configuration. */
let inlineWorkerUrl: string | undefined;
function webWorkerUrl(): string {
  inlineWorkerUrl ??= URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
  return inlineWorkerUrl;
}

/**
 * Web Workers, where the host has them and they may share memory (cross-origin isolated). The
 * worker script is inlined (a Blob URL) unless the caller names one.
 */
export const webPlatform: Platform = {
  spawner(url) {
    type WebWorker = {
      postMessage(m: unknown): void;
      terminate(): void;
      addEventListener(type: 'error', f: (e: { message?: string }) => void): void;
    };
    const g = globalThis as {
      Worker?: new (url: string | URL, options?: { type?: string }) => WebWorker;
      crossOriginIsolated?: boolean;
      process?: { versions?: { node?: string } };
    };
    if (typeof g.Worker !== 'function')
      return g.process?.versions?.node
        ? "this entry has no worker_threads: import from 'twotower/node'"
        : 'this host has no Web Workers';
    if (g.crossOriginIsolated !== true)
      return 'this host is not cross-origin isolated, so its Web Workers cannot share WebAssembly memory';
    return (init, failed) => {
      const worker = new g.Worker!(url ?? webWorkerUrl(), { type: 'module' });
      // workerMain catches what a job throws: an 'error' event is a script that did not load or start.
      worker.addEventListener('error', (e) =>
        failed(
          `the scorer's Web Worker failed to start${url ? ` from ${String(url)}` : ''}: ${e.message ?? 'its script did not load'}`,
        ),
      );
      worker.postMessage(init);
      return {
        terminate: () => {
          failed("the scorer's Web Worker was terminated");
          worker.terminate();
        },
      };
    };
  },
  // Recipe workers (recipe: 'best''s members, tune's penalties) need the package's training code,
  // which the inlined kernel worker does not carry: in a browser they train one after another.
  members() {
    return (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
      ? "this entry has no worker_threads: import from 'twotower/node'"
      : "a browser has no worker script that runs the package's training code";
  },
};

let platform: Platform = webPlatform;

/** The platform's member spawner, or why members cannot run in workers here. */
export function memberSpawner(): MemberSpawner | string {
  return platform.members?.() ?? 'this platform starts no member workers';
}

/**
 * Installs the platform. Called once by an entry point as it loads (the Node entry and the CLI:
 * worker_threads), never by a public function; tests call it to start workers their own way.
 * @internal
 */
export function setPlatform(next: Platform): void {
  platform = next;
}

/** Most worker threads a model, scorer or index may start: each holds its own instance of the kernels. */
export const MAX_THREADS = 64;

function hardwareThreads(): number {
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/** Checks a `threads` option: an integer from 1 to MAX_THREADS. */
export function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    fail(
      'BAD_OPTION',
      `threads must be an integer from 1 to ${MAX_THREADS}, got ${threads} (this host has ${hardwareThreads()} hardware threads)`,
    );
  }
}

/** The platform's spawner where threads can run here, else why not (with how to fix it). */
function spawnerOrReason(workerUrl: string | URL | undefined): Spawner | string {
  if (!supportsSharedMemory()) {
    return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false
      ? 'this page is not cross-origin isolated, so it cannot share WebAssembly memory with workers: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp'
      : 'this host cannot share WebAssembly memory between threads (no SharedArrayBuffer)';
  }
  if (!canBlock()) return "a page's main thread may not block on workers: create the model, scorer or index inside a Web Worker";
  return platform.spawner(workerUrl);
}

/** Why `threads > 1` cannot run here (undefined when they can). */
export function threadsUnavailable(workerUrl?: string | URL): string | undefined {
  const found = spawnerOrReason(workerUrl);
  return typeof found === 'string' ? found : undefined;
}

/** Reasons already warned about: each is said once per page or process. */
const warned = new Set<string>();

/**
 * A WASM instance on shared memory and a pool of `threads` over it (the calling thread is the
 * first), where this host can run them; null for `threads ≤ 1` or where it cannot: the caller
 * then uses one thread, and the first time for each reason a one-line console.warn says why and
 * how to fix it (a page that is not cross-origin isolated: the COOP/COEP headers). A pool that
 * fails to start is WORKER_FAILED.
 */
export async function threadedBackend(
  threads: number,
  wasm: LoadOptions | undefined,
  workerUrl?: string | URL,
): Promise<{ backend: WasmBackend; pool: KernelPool } | null> {
  if (threads <= 1) return null;
  const spawn = spawnerOrReason(workerUrl);
  if (typeof spawn === 'string') {
    if (!warned.has(spawn)) {
      warned.add(spawn);
      console.warn(`twotower: ${threads} threads were asked for, running on 1: ${spawn}.`);
    }
    return null;
  }
  const backend = (await loadWasmBackend({ ...wasm, shared: true })) as WasmBackend;
  return { backend, pool: await KernelPool.start(backend, threads, spawn) };
}
