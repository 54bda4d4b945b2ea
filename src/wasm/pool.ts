// Threads for the item scan and for training's row-parallel kernels: worker instances of the
// threads build run kernels on one shared WebAssembly.Memory. Only the main instance allocates;
// a worker is handed pointers. Dispatch goes through a control block in the shared memory: per
// worker a slot of 32 i32 — [state, kernel, pad, args as f64…] (f64 holds every i32 pointer and
// f32 setting exactly) with state STARTING → IDLE → READY (job posted) → DONE → IDLE, or QUIT —
// woken with Atomics.notify and waited on with Atomics.wait. The calling thread takes a share
// of every job itself, then waits for the others, so the API stays synchronous. Hosts whose
// calling thread may not block (a browser's main thread) get no pool: threads = 1.
import { fail } from '../errors.js';
import { KERNEL_ARITY, type KernelExports } from '../backend/generated/kernels.js';
import type { WasmBackend } from './load.js';
import { ROW_KERNELS, type KernelThreads } from '../backend/contract.js';

export const SLOT_INTS = 32;
/** Where a slot's arguments start, in f64 units from the slot (after state, kernel and padding). */
const ARGS_AT = 1;
export const STATE = { STARTING: -2, FAILED: -1, IDLE: 0, READY: 1, DONE: 2, QUIT: 3 } as const;
/** Kernels a worker can run, by number. */
export const KERNELS = ['score_topk', 'score_topk_i8', ...ROW_KERNELS] as const;
export type PoolKernel = (typeof KERNELS)[number];

/**
 * One thread's share of a scan: a kernel and its arguments, typed by the generated signature
 * (the tuple is checked against the kernel's parameter list at compile time).
 */
export type PoolJob = { [K in PoolKernel]: { kernel: K; args: Parameters<KernelExports[K]> } }[PoolKernel];

/** What a platform (worker_threads, Web Workers) provides to start one worker. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block. */
  control: number;
  /** This worker's slot (1-based: slot 0 is the calling thread's, unused). */
  index: number;
}

export interface SpawnedWorker {
  terminate(): void;
}

/**
 * Starts one worker. `failed` is called, with a reason, if the worker cannot start (a script
 * that does not load, an error while it starts): the pool then rejects at once instead of waiting.
 */
export type Spawner = (init: WorkerInit, failed: (reason: string) => void) => SpawnedWorker;

/** How long a pool waits for its workers to report ready before giving up. */
export const START_TIMEOUT_MS = 10_000;

/** Whether the calling thread may block on Atomics.wait (false on a browser's main thread). */
export function canBlock(): boolean {
  const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
  return g.document === undefined || g.WorkerGlobalScope !== undefined;
}

export class KernelPool implements KernelThreads {
  private readonly workers: SpawnedWorker[] = [];
  private closed = false;

  private constructor(
    private readonly backend: WasmBackend,
    private readonly control: number,
    readonly size: number,
  ) {}

  private view(): Int32Array {
    return new Int32Array(this.backend.memory.buffer);
  }

  private slot(index: number): number {
    return (this.control >> 2) + index * SLOT_INTS;
  }

  /** Starts `threads − 1` workers (the calling thread is the first thread) and waits until all are idle. */
  static async start(backend: WasmBackend, threads: number, spawn: Spawner): Promise<KernelPool> {
    const control = backend.alloc(threads * SLOT_INTS * 4);
    const pool = new KernelPool(backend, control, threads);
    const ctrl = pool.view();
    for (let i = 1; i < threads; i++) Atomics.store(ctrl, pool.slot(i), STATE.STARTING);
    let failure: string | undefined;
    try {
      for (let i = 1; i < threads; i++) {
        pool.workers.push(
          spawn({ module: backend.module, memory: backend.memory, control, index: i }, (reason) => (failure ??= reason)),
        );
      }
    } catch (cause) {
      pool.close();
      fail('WORKER_FAILED', `could not start a worker thread: ${(cause as Error).message}`, { cause });
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let i = 1; i < threads; i++) {
      while (Atomics.load(pool.view(), pool.slot(i)) === STATE.STARTING) {
        if (failure !== undefined) {
          pool.close();
          fail('WORKER_FAILED', failure);
        }
        if (Date.now() > deadline) {
          pool.close();
          fail('WORKER_FAILED', `worker threads did not start within ${START_TIMEOUT_MS / 1000} s (thread ${i} of ${threads})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      if (Atomics.load(pool.view(), pool.slot(i)) === STATE.FAILED) {
        pool.close();
        fail('WORKER_FAILED', `worker thread ${i} failed to start`);
      }
    }
    return pool;
  }

  /**
   * Runs jobs[t] on thread t (jobs[0] on the calling thread) and returns when all are done.
   * Each job is a kernel name and its integer arguments (pointers, sizes).
   */
  run(jobs: PoolJob[]): void {
    const ctrl = this.view();
    for (let t = 1; t < jobs.length; t++) {
      const s = this.slot(t);
      ctrl[s + 1] = KERNELS.indexOf(jobs[t]!.kernel);
      new Float64Array(ctrl.buffer, (s + 2 * ARGS_AT) * 4, KERNEL_ARITY[jobs[t]!.kernel]).set(jobs[t]!.args);
      Atomics.store(ctrl, s, STATE.READY);
      Atomics.notify(ctrl, s);
    }
    const own = jobs[0]!;
    runJob(this.backend.kernels, own);
    for (let t = 1; t < jobs.length; t++) {
      const s = this.slot(t);
      let state: number;
      while ((state = Atomics.load(this.view(), s)) === STATE.READY) Atomics.wait(this.view(), s, STATE.READY, 1000);
      if (state !== STATE.DONE)
        fail('WORKER_FAILED', `worker thread ${t} failed while running ${jobs[t]!.kernel} (state ${state})`);
      Atomics.store(this.view(), s, STATE.IDLE);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const ctrl = this.view();
    for (let t = 1; t < this.size; t++) {
      Atomics.store(ctrl, this.slot(t), STATE.QUIT);
      Atomics.notify(ctrl, this.slot(t));
    }
    for (const w of this.workers) w.terminate();
    this.backend.free(this.control);
  }
}

/** Calls a job's kernel with its typed arguments. */
export function runJob(kernels: Pick<KernelExports, PoolKernel>, job: PoolJob): void {
  (kernels[job.kernel] as (...args: number[]) => unknown)(...job.args);
}

/**
 * The body of a worker thread, the same on every platform: instantiate the module on the shared
 * memory, mark the slot idle, then run posted jobs until told to quit.
 */
export async function workerMain(
  init: WorkerInit,
  instantiate: (m: WebAssembly.Module, mem: WebAssembly.Memory) => Promise<WebAssembly.Instance>,
): Promise<void> {
  const slot = (init.control >> 2) + init.index * SLOT_INTS;
  const view = () => new Int32Array(init.memory.buffer);
  let exports: KernelExports;
  try {
    exports = (await instantiate(init.module, init.memory)).exports as unknown as KernelExports;
  } catch (error) {
    Atomics.store(view(), slot, STATE.FAILED);
    throw error;
  }
  Atomics.store(view(), slot, STATE.IDLE);
  for (;;) {
    let state = Atomics.load(view(), slot);
    while (state === STATE.IDLE || state === STATE.DONE) {
      Atomics.wait(view(), slot, state);
      state = Atomics.load(view(), slot);
    }
    if (state === STATE.QUIT) return;
    const ctrl = view();
    const kernel = KERNELS[ctrl[slot + 1]!]!;
    // The slot holds the arguments the caller wrote from a typed PoolJob of this kernel.
    const args = Array.from(new Float64Array(ctrl.buffer, (slot + 2 * ARGS_AT) * 4, KERNEL_ARITY[kernel]));
    try {
      runJob(exports, { kernel, args } as PoolJob);
      Atomics.store(view(), slot, STATE.DONE);
    } catch {
      Atomics.store(view(), slot, STATE.FAILED);
    }
    Atomics.notify(view(), slot);
  }
}
