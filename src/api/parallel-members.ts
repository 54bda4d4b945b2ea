// recipe: 'best' with its members trained at the same time, each in its own worker on one kernel
// thread (best.ts decides when; the platform, src/wasm/platform.ts, starts the workers). Both
// sides are here: trainMembersInParallel, the scheduler on the calling thread, and
// memberWorkerMain, what a worker runs (src/node/member-worker.ts only wires it to worker_threads).
//
// A member gives the same bits wherever it trains (its own seed; kernels that sum in one order on
// any thread count), so the combined model equals the sequential run's. What crosses:
//   - to a worker (structured clone): the job, the RecipeData with its vocabularies as JSON
//     (Vocabulary is a class; the worker rebuilds it), the options without their callbacks, and a
//     shared stop flag;
//   - back: log lines, epoch figures, batches (at most one per BATCH_FORWARD_MS and each epoch's
//     last), then the member's model as model-file bytes (toBytes, optimizer state included),
//     loaded again here, with what the blend reads (the validation split and predictions).
import { TwoTowerError, ERROR_CODES, type ErrorCode, type ErrorDetails } from '../errors.js';
import type { Interactions } from '../data/interactions.js';
import type { RatingsData } from '../data/ratings.js';
import type { BuiltSideFeatures } from '../data/side-features.js';
import { Vocabulary, type VocabularyJSON } from '../data/vocabulary.js';
import type { MemberSpawner, MemberThread } from '../wasm/platform.js';
import { loadModel } from './model.js';
import { recipeCallbacks } from './recipe.js';
import type { RecipeBatch, RecipeData, RecipeEpoch, RecipeOptions } from './recipe-config.js';
import { memberTitle, trainMember, type BestMember, type MemberJob, type MemberOutcome } from './best-members.js';

/** A worker forwards a batch at most this often (and each epoch's last batch): a batch takes microseconds, a message more. */
export const BATCH_FORWARD_MS = 100;

/** What a member worker starts with (its workerData). */
export interface MemberWorkerInit {
  job: MemberJob;
  data: {
    train: RatingsData;
    users: VocabularyJSON;
    items: VocabularyJSON;
    userSide?: BuiltSideFeatures;
    itemSide?: BuiltSideFeatures;
  };
  /** The recipe's options without callbacks (a worker has its own, which post to the caller). */
  options: Omit<RecipeOptions, 'onLog' | 'onEpochEnd' | 'onBatchEnd' | 'onEpoch' | 'warmStart'>;
  /** Shared: set to 1 when the caller's onEpochEnd returned false or a member failed. Read at each epoch end. */
  stop: Int32Array;
  /** Post epoch figures (the caller has an onEpochEnd). */
  epochs: boolean;
  /** Post batches (the caller has an onBatchEnd). */
  batches: boolean;
}

/** What a member worker posts, in order: any number of log, epoch and batch messages, then one done or error. */
type MemberMessage =
  | { kind: 'log'; line: string }
  | { kind: 'epoch'; info: RecipeEpoch }
  | { kind: 'batch'; info: RecipeBatch }
  | {
      kind: 'done';
      member: BestMember;
      model: Uint8Array;
      searchModel?: Uint8Array;
      validation?: Interactions;
      validationPredictions?: Float32Array;
      stopped: boolean;
    }
  | { kind: 'error'; code: ErrorCode; message: string; details: ErrorDetails };

/** The members trained, in job order (those a stop left unstarted are missing), and whether a stop came. */
export interface ParallelMembers {
  outcomes: MemberOutcome[];
  stopped: boolean;
}

/**
 * Trains `jobs` in workers started by `spawn`, at most `parallel` at once. A tower job other than
 * the first tower waits for the first one and takes its penalty (l2), as the sequential recipe
 * does; the others start in job order. Callbacks run on the calling thread as the messages come
 * in, so they are asynchronous to the training: a false from onEpochEnd sets the shared stop
 * flag, which each running member reads at its next epoch end (it may finish the epoch it is
 * in), and no further member starts. A member that throws rejects with its error; a worker that
 * dies or cannot start rejects with WORKER_FAILED; either way the other workers are terminated
 * first and nothing is left running.
 */
export function trainMembersInParallel(
  ds: RecipeData,
  o: RecipeOptions,
  jobs: readonly MemberJob[],
  spawn: MemberSpawner,
  parallel: number,
): Promise<ParallelMembers> {
  const report = recipeCallbacks(o);
  const { onLog: _l, onEpochEnd: _e, onBatchEnd: _b, onEpoch: _o, warmStart: _w, ...plain } = o;
  const options = Object.fromEntries(
    Object.entries(plain).filter(([, value]) => typeof value !== 'function'),
  ) as MemberWorkerInit['options'];
  const data: MemberWorkerInit['data'] = {
    train: ds.train,
    users: ds.users.toJSON(),
    items: ds.items.toJSON(),
    ...(ds.userSide ? { userSide: ds.userSide } : {}),
    ...(ds.itemSide ? { itemSide: ds.itemSide } : {}),
  };
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const firstTower = jobs.find((j) => j.family === 'tower');
  const waiting = jobs.filter((j) => j.family === 'tower' && j !== firstTower);
  const ready = jobs.filter((j) => !waiting.includes(j));
  const running = new Map<number, MemberThread>();
  const outcomes: MemberOutcome[] = [];
  let stopped = false;
  let settled = false;

  return new Promise<ParallelMembers>((resolve, reject) => {
    const abort = (error: unknown) => {
      if (settled) return;
      settled = true;
      Atomics.store(stop, 0, 1);
      for (const thread of running.values()) thread.terminate();
      running.clear();
      for (const m of outcomes) {
        m.model.dispose();
        m.searchModel?.dispose();
      }
      reject(error);
    };
    const next = () => {
      if (settled) return;
      while (!stopped && running.size < parallel && ready.length > 0) start(ready.shift()!);
      if (running.size === 0) {
        settled = true;
        resolve({ outcomes: outcomes.sort((a, b) => a.job.index - b.job.index), stopped });
      }
    };
    const finished = async (job: MemberJob, m: Extract<MemberMessage, { kind: 'done' }>) => {
      const model = await loadModel(m.model);
      const searchModel = m.searchModel ? await loadModel(m.searchModel) : undefined;
      const outcome: MemberOutcome = {
        job,
        member: m.member,
        model,
        ...(searchModel ? { searchModel } : {}),
        ...(m.validation ? { validation: m.validation } : {}),
        ...(m.validationPredictions ? { validationPredictions: m.validationPredictions } : {}),
        stopped: m.stopped,
      };
      if (settled) {
        model.dispose();
        searchModel?.dispose();
        return;
      }
      outcomes.push(outcome);
      stopped ||= m.stopped;
      running.delete(job.index);
      // The first tower's penalty is the others' (tune off), as in the sequential recipe.
      if (job === firstTower) ready.unshift(...waiting.map((w) => ({ ...w, l2: m.member.l2! })));
      next();
    };
    const start = (job: MemberJob) => {
      report.onLog?.(`${memberTitle(job)} (in a worker)`);
      let done = false;
      const prefix = `member ${job.index + 1}: `;
      const onMessage = (message: unknown) => {
        if (settled || done) return;
        const m = message as MemberMessage;
        try {
          if (m.kind === 'log') report.onLog?.(prefix + m.line);
          else if (m.kind === 'batch') report.onBatchEnd?.(m.info);
          else if (m.kind === 'epoch') {
            if (report.onEpochEnd?.(m.info) === false && !stopped) {
              stopped = true;
              Atomics.store(stop, 0, 1);
              report.onLog?.('stop asked: every member stops at its next epoch end, and no other member starts');
            }
          } else if (m.kind === 'error') {
            done = true;
            const code = ERROR_CODES.includes(m.code) ? m.code : 'WORKER_FAILED';
            abort(new TwoTowerError(code, m.message, m.details));
          } else {
            done = true;
            finished(job, m).catch(abort);
          }
        } catch (error) {
          abort(error); // a callback of the caller's threw: as it would in the sequential recipe
        }
      };
      const onFailed = (reason: string) => {
        if (settled || done) return;
        done = true;
        abort(
          new TwoTowerError(
            'WORKER_FAILED',
            `recipe best: ${memberTitle(job)} stopped before it finished: ${reason}; the other members' workers were terminated`,
            { index: job.index },
          ),
        );
      };
      const init: MemberWorkerInit = { job, data, options, stop, epochs: !!report.onEpochEnd, batches: !!report.onBatchEnd };
      try {
        running.set(job.index, spawn(init, { message: onMessage, failed: onFailed }));
      } catch (error) {
        onFailed(`its worker did not start: ${(error as Error).message}`);
      }
    };
    try {
      next();
    } catch (error) {
      abort(error); // the caller's onLog threw with workers already started: they end too
    }
  });
}

/**
 * A member worker's whole life: rebuild the data, train its member on one kernel thread, post
 * the model's bytes (or the error), and return; the worker then ends by itself.
 */
export async function memberWorkerMain(
  init: MemberWorkerInit,
  post: (message: MemberMessage, transfer?: ArrayBuffer[]) => void,
): Promise<void> {
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
  let outcome: MemberOutcome | undefined;
  try {
    outcome = await trainMember(ds, o, init.job, stopRequested);
    const model = outcome.model.toBytes();
    const searchModel = outcome.searchModel?.toBytes();
    post(
      {
        kind: 'done',
        member: outcome.member,
        model,
        ...(searchModel ? { searchModel } : {}),
        ...(outcome.validation ? { validation: outcome.validation } : {}),
        ...(outcome.validationPredictions ? { validationPredictions: outcome.validationPredictions } : {}),
        stopped: outcome.stopped,
      },
      [model.buffer as ArrayBuffer, ...(searchModel ? [searchModel.buffer as ArrayBuffer] : [])],
    );
  } catch (error) {
    const known = error instanceof TwoTowerError;
    post({
      kind: 'error',
      code: known ? error.code : 'WORKER_FAILED',
      message: known ? error.message : `a member worker threw: ${(error as Error)?.message ?? String(error)}`,
      details: known ? error.details : {},
    });
  } finally {
    outcome?.model.dispose();
    outcome?.searchModel?.dispose();
  }
}
