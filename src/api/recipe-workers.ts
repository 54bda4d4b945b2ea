// The worker plumbing the recipes share: recipe: 'best''s members (parallel-members.ts) and
// tune's penalties (parallel-penalties.ts) each run whole in a worker on one kernel thread,
// started through the platform's member spawner (src/wasm/platform.ts). Here is what both need:
//   - what a worker starts with (WorkerInit: the job, the data, the options without callbacks, a
//     shared stop flag) and what it posts back (log lines, epochs, batches, then its result or
//     its error), both sides of it;
//   - RecipeWorkers, the calling side: it forwards a worker's epochs and batches to the caller's
//     callbacks, turns a false from onEpochEnd into the shared stop, and on the first failure (a
//     job that throws, a worker that dies, a callback that throws) terminates every worker
//     before it reports the error once.
// The schedulers decide which jobs start when; the worker's side of a job is recipe-worker-main.ts.
import { TwoTowerError, ERROR_CODES, type ErrorCode, type ErrorDetails } from '../errors.js';
import type { RatingsData } from '../data/ratings.js';
import type { BuiltSideFeatures } from '../data/side-features.js';
import { Vocabulary, type VocabularyJSON } from '../data/vocabulary.js';
import type { MemberSpawner, MemberThread } from '../wasm/platform.js';
import type { RecipeBatch, RecipeData, RecipeEpoch, RecipeOptions } from './recipe-config.js';

/** A worker forwards a batch at most this often (and each epoch's last batch): a batch takes microseconds, a message more. */
export const BATCH_FORWARD_MS = 100;

/** The recipe's options as they cross to a worker: no callbacks (the worker has its own, which post to the caller), no warmStart model. */
export type WorkerOptions = Omit<RecipeOptions, 'onLog' | 'onEpochEnd' | 'onBatchEnd' | 'onEpoch' | 'warmStart'>;

/** The training data as it crosses to a worker: vocabularies as JSON (Vocabulary is a class; the worker rebuilds it). */
export interface WorkerData {
  train: RatingsData;
  users: VocabularyJSON;
  items: VocabularyJSON;
  userSide?: BuiltSideFeatures;
  itemSide?: BuiltSideFeatures;
}

/** What a recipe worker starts with (its workerData). */
export interface WorkerInit<Job> {
  job: Job;
  data: WorkerData;
  options: WorkerOptions;
  /** Shared: set to 1 when the caller's onEpochEnd returned false or a job failed. Read at each epoch end. */
  stop: Int32Array;
  /** Post epoch figures (the caller has an onEpochEnd). */
  epochs: boolean;
  /** Post batches (the caller has an onBatchEnd). */
  batches: boolean;
}

/** What a recipe worker posts, in order: any number of log, epoch and batch messages, then one done or error. */
export type WorkerMessage<Result> =
  | { kind: 'log'; line: string }
  | { kind: 'epoch'; info: RecipeEpoch }
  | { kind: 'batch'; info: RecipeBatch }
  | { kind: 'done'; result: Result }
  | { kind: 'error'; code: ErrorCode; message: string; details: ErrorDetails };

/** The recipe's callbacks, resolved (recipeCallbacks in recipe.ts). */
export interface RecipeReport {
  onBatchEnd?: (info: RecipeBatch) => void;
  onEpochEnd?: (info: RecipeEpoch) => void | boolean;
  onLog?: (line: string) => void;
}

/** `ds` as it crosses to a worker. */
export function workerData(ds: RecipeData): WorkerData {
  return {
    train: ds.train,
    users: ds.users.toJSON(),
    items: ds.items.toJSON(),
    ...(ds.userSide ? { userSide: ds.userSide } : {}),
    ...(ds.itemSide ? { itemSide: ds.itemSide } : {}),
  };
}

/** `o` as it crosses to a worker: every function dropped. */
export function workerOptions(o: RecipeOptions): WorkerOptions {
  const { onLog: _l, onEpochEnd: _e, onBatchEnd: _b, onEpoch: _o, warmStart: _w, ...plain } = o;
  return Object.fromEntries(Object.entries(plain).filter(([, value]) => typeof value !== 'function')) as WorkerOptions;
}

/**
 * The worker's side of the start: the data rebuilt, and options on one kernel thread whose
 * callbacks post to the caller (batches at most every BATCH_FORWARD_MS and at each epoch's end)
 * and whose onEpochEnd says stop once the shared flag is set.
 */
export function workerSide<Job>(
  init: WorkerInit<Job>,
  post: (message: WorkerMessage<never>) => void,
): { ds: RecipeData; o: RecipeOptions; stopRequested: () => boolean } {
  const stopRequested = () => Atomics.load(init.stop, 0) !== 0;
  const ds: RecipeData = {
    ...init.data,
    users: Vocabulary.fromJSON(init.data.users),
    items: Vocabulary.fromJSON(init.data.items),
  };
  let forwarded = -Infinity;
  const o: RecipeOptions = {
    ...init.options,
    threads: 1,
    onLog: (line) => post({ kind: 'log', line }),
    onEpochEnd: (info) => {
      if (init.epochs) post({ kind: 'epoch', info });
      return !stopRequested();
    },
    ...(init.batches
      ? {
          onBatchEnd: (info: RecipeBatch) => {
            const now = performance.now();
            if (info.batch !== info.batches - 1 && now - forwarded < BATCH_FORWARD_MS) return;
            forwarded = now;
            post({ kind: 'batch', info });
          },
        }
      : {}),
  };
  return { ds, o, stopRequested };
}

/** The error message a worker posts for what its job threw (a TwoTowerError keeps its code and details). */
export function errorMessage(error: unknown): WorkerMessage<never> {
  const known = error instanceof TwoTowerError;
  return {
    kind: 'error',
    code: known ? error.code : 'WORKER_FAILED',
    message: known ? error.message : `a recipe worker threw: ${(error as Error)?.message ?? String(error)}`,
    details: known ? error.details : {},
  };
}

/** How a scheduler hears from RecipeWorkers. */
export interface WorkerHooks<Job> {
  /** The error of a worker that ended without its result (it could not start, died, or was terminated from outside). */
  died(job: Job, reason: string): TwoTowerError;
  /** The onLog line said once when onEpochEnd first returns false. */
  stopLine: string;
  /** The first failure, after every worker was terminated: the scheduler rejects with it. Called at most once. */
  failed(error: unknown): void;
}

/** What a scheduler does with one job's messages. */
export interface JobHandlers<Result> {
  /** A log line of the job's (the scheduler prefixes, forwards or holds it). */
  log(line: string): void;
  /** The job's result. The job counts as running until what this returns settles; a rejection is a failure. */
  done(result: Result): void | Promise<void>;
  /** After `done` settled: the scheduler starts what comes next, or finishes. */
  after(): void;
}

/**
 * The calling side of a set of recipe workers, all on one shared stop flag. Jobs are keyed by
 * `index`. Callbacks run on the calling thread as the messages come in, so they are
 * asynchronous to the training: a false from onEpochEnd sets the shared flag, which each running
 * job reads at its next epoch end. After a failure everything a worker posts is ignored.
 */
export class RecipeWorkers<Job extends { index: number }, Result> {
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));
  /** Each running job's worker, and whether its messages still count (a cancelled or finished job's do not). */
  private readonly running = new Map<number, { thread: MemberThread; state: { finished: boolean } }>();
  private readonly data: WorkerData;
  private readonly options: WorkerOptions;
  /** onEpochEnd returned false: no further job should start. */
  stopped = false;
  /** The run is over: a failure was reported (nothing else will be), or the scheduler resolved. */
  settled = false;

  constructor(
    private readonly spawn: MemberSpawner,
    ds: RecipeData,
    o: RecipeOptions,
    private readonly report: RecipeReport,
    private readonly hooks: WorkerHooks<Job>,
  ) {
    this.data = workerData(ds);
    this.options = workerOptions(o);
  }

  /** Jobs started and not yet through their `done`. */
  get size(): number {
    return this.running.size;
  }

  isRunning(index: number): boolean {
    return this.running.has(index);
  }

  /** Starts `job` in a worker (a spawner that throws is the job's failure). */
  start(job: Job, on: JobHandlers<Result>): void {
    const state = { finished: false };
    const onMessage = (message: unknown) => {
      if (this.settled || state.finished) return;
      const m = message as WorkerMessage<Result>;
      try {
        if (m.kind === 'log') on.log(m.line);
        else if (m.kind === 'batch') this.report.onBatchEnd?.(m.info);
        else if (m.kind === 'epoch') {
          if (this.report.onEpochEnd?.(m.info) === false && !this.stopped) {
            this.stopped = true;
            Atomics.store(this.stop, 0, 1);
            this.report.onLog?.(this.hooks.stopLine);
          }
        } else if (m.kind === 'error') {
          state.finished = true;
          const code = ERROR_CODES.includes(m.code) ? m.code : 'WORKER_FAILED';
          this.fail(new TwoTowerError(code, m.message, m.details));
        } else {
          state.finished = true;
          Promise.resolve()
            .then(() => on.done(m.result))
            .then(() => {
              if (this.settled) return;
              this.running.delete(job.index);
              on.after();
            })
            .catch((error: unknown) => this.fail(error));
        }
      } catch (error) {
        this.fail(error); // a callback of the caller's threw: as it would on one thread
      }
    };
    const onFailed = (reason: string) => {
      if (this.settled || state.finished) return;
      state.finished = true;
      this.fail(this.hooks.died(job, reason));
    };
    const init: WorkerInit<Job> = {
      job,
      data: this.data,
      options: this.options,
      stop: this.stop,
      epochs: !!this.report.onEpochEnd,
      batches: !!this.report.onBatchEnd,
    };
    try {
      const thread = this.spawn(init, { message: onMessage, failed: onFailed });
      // Its end may be heard before the spawner returned: then it is not running.
      if (!state.finished) this.running.set(job.index, { thread, state });
    } catch (error) {
      onFailed(`its worker did not start: ${(error as Error).message}`);
    }
  }

  /** Ends a running job whose result is no longer wanted (not a failure: nothing is reported). */
  cancel(index: number): void {
    const job = this.running.get(index);
    if (!job) return;
    job.state.finished = true; // its 'failed' event, which terminate() brings, is no failure
    this.running.delete(index);
    job.thread.terminate();
  }

  /** Terminates every worker and reports `error` to the scheduler, once. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    Atomics.store(this.stop, 0, 1);
    const jobs = [...this.running.values()];
    this.running.clear();
    for (const job of jobs) job.thread.terminate();
    this.hooks.failed(error);
  }
}
