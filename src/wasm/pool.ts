// Threads for the item scan and for training's row-parallel kernels: worker instances of the
// threads build run kernels on one shared WebAssembly.Memory. Only the main instance allocates;
// a worker is handed pointers. Dispatch goes through a control block in the shared memory: per
// worker a slot of 32 i32 — [state, kernel, pad, args as f64…] (f64 holds every i32 pointer and
// f32 setting exactly) with state STARTING → IDLE → READY (job posted) → DONE → IDLE, or QUIT or FAILED —
// woken with Atomics.notify and waited on with Atomics.wait. The calling thread takes a share
// of every job itself, then waits for the others, so the API stays synchronous. Hosts whose
// calling thread may not block (a browser's main thread) get no pool: threads = 1.
//
// A worker that dies never leaves a caller waiting. The calling thread, blocked in Atomics.wait,
// cannot see a worker's 'exit' or 'error' event (its event loop is not turning), so each way a
// worker can stop writes FAILED where the caller looks: a job that throws, and a thread that
// ends in the middle of a job (its platform's exit hook calls abandonJob), mark the slot
// themselves; a worker that stops between jobs (its events, or terminate() on its handle, which
// reports at once) marks the pool failed before the next call posts anything. That call throws
// WORKER_FAILED and the pool closes: later calls run every share on the calling thread (the same
// bits, as the row and item splits guarantee), and `size` becomes 1. The one case no JavaScript
// sees is a thread the host kills mid-job without running its exit hook (out of memory in its own
// heap, which a pool worker barely uses).
import { fail } from '../errors.js';
import { KERNEL_ARITY, type KernelExports } from '../backend/generated/kernels.js';
import type { WasmBackend } from './load.js';
import { ROW_KERNELS, type KernelThreads } from '../backend/contract.js';

export const SLOT_INTS = 32;
/** Where a slot's arguments start, in f64 units from the slot (after state, kernel and padding). */
const ARGS_AT = 1;
export const STATE = { STARTING: -2, FAILED: -1, IDLE: 0, READY: 1, DONE: 2, QUIT: 3 } as const;
/** Kernels a worker can run, by number. */
export const KERNELS = ['score_topk', 'score_topk_i8', 'score_topk_il', ...ROW_KERNELS] as const;
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
 * Starts one worker (a Platform gives one: src/wasm/platform.ts). `failed` is called, with a
 * reason, whenever the worker stops other than by the pool's close(): it cannot start (a script
 * that does not load), it throws, it exits, or its handle's terminate() is called (at once, not
 * when the thread has gone: a caller may terminate a worker and call the pool in the same tick).
 * The pool then fails at once instead of waiting.
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
  /** Why a worker stopped, once one has: the next run() throws it (once), later runs use the calling thread. */
  private failure: string | undefined;
  private reported = false;

  private constructor(
    private readonly backend: WasmBackend,
    private readonly control: number,
    private readonly threads: number,
  ) {}

  /** Threads, the calling one included: 1 once a worker's failure has been reported. */
  get size(): number {
    return this.reported ? 1 : this.threads;
  }

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
    try {
      for (let i = 1; i < threads; i++) {
        const init = { module: backend.module, memory: backend.memory, control, index: i };
        pool.workers.push(spawn(init, (reason) => pool.lost(reason)));
      }
    } catch (cause) {
      pool.abort(`could not start a worker thread: ${(cause as Error).message}`, cause);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let i = 1; i < threads; i++) {
      let state: number;
      while ((state = Atomics.load(pool.view(), pool.slot(i))) === STATE.STARTING && pool.failure === undefined) {
        if (Date.now() > deadline)
          pool.abort(`worker threads did not start within ${START_TIMEOUT_MS / 1000} s (thread ${i} of ${threads})`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      if (state !== STATE.IDLE) pool.abort(pool.failure ?? `worker thread ${i} failed to start`);
    }
    return pool;
  }

  /** A pool that could not start: stopped, and WORKER_FAILED. */
  private abort(reason: string, cause?: unknown): never {
    this.failure ??= reason;
    this.stop();
    fail('WORKER_FAILED', this.failure, {}, cause === undefined ? undefined : { cause });
  }

  /**
   * A worker stopped outside run() (its spawner's report): the pool stops now, and the next
   * run() throws. Never called while run() waits: the calling thread is blocked then.
   */
  private lost(reason: string): void {
    if (this.closed) return;
    this.failure ??= reason;
    this.stop();
  }

  /**
   * Runs jobs[t] on thread t (jobs[0] on the calling thread) and returns when all are done.
   * Each job is a kernel name and its integer arguments (pointers, sizes). Throws WORKER_FAILED,
   * once, for a worker that failed; after that (or after close) every job runs on the calling thread.
   */
  run(jobs: PoolJob[]): void {
    if (this.closed) {
      if (this.failure !== undefined && !this.reported) this.report(this.failure);
      for (const job of jobs) runJob(this.backend.kernels, job);
      return;
    }
    const ctrl = this.view();
    for (let t = 1; t < jobs.length; t++) {
      const s = this.slot(t);
      ctrl[s + 1] = KERNELS.indexOf(jobs[t]!.kernel);
      new Float64Array(ctrl.buffer, (s + 2 * ARGS_AT) * 4, KERNEL_ARITY[jobs[t]!.kernel]).set(jobs[t]!.args);
      Atomics.store(ctrl, s, STATE.READY);
      Atomics.notify(ctrl, s);
    }
    let own: { error: unknown } | undefined;
    try {
      runJob(this.backend.kernels, jobs[0]!);
    } catch (error) {
      own = { error };
    }
    // Every worker is waited for, even after one failed: none may still write when this returns.
    let failed: string | undefined;
    for (let t = 1; t < jobs.length; t++) {
      const s = this.slot(t);
      let state: number;
      state = spin(this.view(), s, STATE.READY);
      while (state === STATE.READY) {
        Atomics.wait(this.view(), s, STATE.READY, 1000);
        state = Atomics.load(this.view(), s);
      }
      if (state === STATE.DONE) Atomics.store(this.view(), s, STATE.IDLE);
      else failed ??= `worker thread ${t} failed while running ${jobs[t]!.kernel}`;
    }
    if (failed !== undefined) {
      this.failure ??= failed;
      this.stop();
      this.report(this.failure);
    }
    if (own) throw own.error;
  }

  private report(reason: string): never {
    this.reported = true;
    fail(
      'WORKER_FAILED',
      `${reason}: the worker threads are closed, and the next calls run on the calling thread alone (threads: 1)`,
    );
  }

  close(): void {
    this.stop();
  }

  /**
   * Tells every worker to quit and terminates it. The control block is freed only when the pool
   * closes healthy: a failed worker may still be writing to its slot, which is then never reused.
   */
  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    const ctrl = this.view();
    for (let t = 1; t < this.threads; t++) {
      Atomics.store(ctrl, this.slot(t), STATE.QUIT);
      Atomics.notify(ctrl, this.slot(t));
    }
    for (const w of this.workers) w.terminate();
    if (this.failure === undefined) this.backend.free(this.control);
  }
}

/**
 * Polls a slot while it holds `state`, for at most SPIN_POLLS loads (tens of microseconds), and
 * returns what it holds then. A training step posts several small jobs a millisecond: waking a
 * thread parked in Atomics.wait costs tens of microseconds each time, polling a moment first
 * costs none when the next job (or the worker's answer) comes soon. Then the caller parks.
 */
function spin(ctrl: Int32Array, slot: number, state: number): number {
  let now = Atomics.load(ctrl, slot);
  for (let i = 0; i < SPIN_POLLS && now === state; i++) now = Atomics.load(ctrl, slot);
  return now;
}

/** Loads a waiting thread polls before it parks (≈ 8 µs here: longer spins cost more than they save when the host has other work for the cores). */
const SPIN_POLLS = 1000;

/** Calls a job's kernel with its typed arguments. */
export function runJob(kernels: Pick<KernelExports, PoolKernel>, job: PoolJob): void {
  (kernels[job.kernel] as (...args: number[]) => unknown)(...job.args);
}

/** Marks the job in flight on this worker failed (set while a job runs). */
let abandon: (() => void) | undefined;

/**
 * For a platform's exit hook (Node: process 'exit' in the worker): a thread that ends in the
 * middle of a job marks the job failed on its way out, so the caller waiting on it wakes to
 * WORKER_FAILED instead of waiting forever. Does nothing between jobs.
 */
export function abandonJob(): void {
  abandon?.();
}

/**
 * The body of a worker thread, the same on every platform: instantiate the module on the shared
 * memory, mark the slot idle, then run posted jobs until told to quit. A job that throws marks
 * its slot FAILED and ends the worker (the pool closes).
 */
export async function workerMain(
  init: WorkerInit,
  instantiate: (m: WebAssembly.Module, mem: WebAssembly.Memory) => Promise<WebAssembly.Instance>,
): Promise<void> {
  const slot = (init.control >> 2) + init.index * SLOT_INTS;
  const view = () => new Int32Array(init.memory.buffer);
  const mark = (state: number) => {
    Atomics.store(view(), slot, state);
    Atomics.notify(view(), slot);
  };
  let exports: KernelExports;
  try {
    exports = (await instantiate(init.module, init.memory)).exports as unknown as KernelExports;
  } catch (error) {
    mark(STATE.FAILED);
    throw error;
  }
  mark(STATE.IDLE);
  for (;;) {
    let state = Atomics.load(view(), slot);
    if (state === STATE.IDLE || state === STATE.DONE) state = spin(view(), slot, state);
    while (state === STATE.IDLE || state === STATE.DONE) {
      Atomics.wait(view(), slot, state);
      state = Atomics.load(view(), slot);
    }
    if (state !== STATE.READY) return; // QUIT, or FAILED: the pool closed
    const ctrl = view();
    const kernel = KERNELS[ctrl[slot + 1]!]!;
    // The slot holds the arguments the caller wrote from a typed PoolJob of this kernel.
    const args = Array.from(new Float64Array(ctrl.buffer, (slot + 2 * ARGS_AT) * 4, KERNEL_ARITY[kernel]));
    abandon = () => mark(STATE.FAILED);
    try {
      runJob(exports, { kernel, args } as PoolJob);
    } catch {
      abandon = undefined;
      mark(STATE.FAILED);
      return;
    }
    abandon = undefined;
    mark(STATE.DONE);
  }
}
