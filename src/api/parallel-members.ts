// recipe: 'best' with its members trained at the same time, each in its own worker on one kernel
// thread (best.ts decides when; the platform, src/wasm/platform.ts, starts the workers; the
// plumbing both sides share is recipe-workers.ts). Here: trainMembersInParallel, the scheduler on
// the calling thread; what a member worker runs is recipe-worker-main.ts.
//
// A member gives the same bits wherever it trains (its own seed; kernels that sum in one order on
// any thread count), so the combined model equals the sequential run's. What crosses: to a worker
// (structured clone) the job, the data, the options without their callbacks and a shared stop
// flag; back, log lines, epoch figures and batches, then the member's model as model-file bytes
// (toBytes, optimizer state included), loaded again here, with what the blend reads (the
// validation split and predictions).
import { TwoTowerError } from '../errors.js';
import type { Interactions } from '../data/interactions.js';
import type { MemberSpawner } from '../wasm/platform.js';
import { loadModel } from './model.js';
import { recipeCallbacks } from './recipe.js';
import type { RecipeData, RecipeOptions } from './recipe-config.js';
import { RecipeWorkers, type WorkerInit } from './recipe-workers.js';
import { memberTitle, type BestMember, type MemberJob, type MemberOutcome } from './best-members.js';

/** What a member worker starts with (its workerData). */
export type MemberWorkerInit = WorkerInit<MemberJob>;

/** A member as its worker posts it: the models as model-file bytes. */
export interface MemberResult {
  member: BestMember;
  model: Uint8Array;
  searchModel?: Uint8Array;
  validation?: Interactions;
  validationPredictions?: Float32Array;
  stopped: boolean;
}

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
  const firstTower = jobs.find((j) => j.family === 'tower');
  const waiting = jobs.filter((j) => j.family === 'tower' && j !== firstTower);
  const ready = jobs.filter((j) => !waiting.includes(j));
  const outcomes: MemberOutcome[] = [];

  return new Promise<ParallelMembers>((resolve, reject) => {
    const workers = new RecipeWorkers<MemberJob, MemberResult>(spawn, ds, o, report, {
      stopLine: 'stop asked: every member stops at its next epoch end, and no other member starts',
      died: (job, reason) =>
        new TwoTowerError(
          'WORKER_FAILED',
          `recipe best: ${memberTitle(job)} stopped before it finished: ${reason}; the other members' workers were terminated`,
          { index: job.index },
        ),
      failed: (error) => {
        for (const m of outcomes) {
          m.model.dispose();
          m.searchModel?.dispose();
        }
        reject(error);
      },
    });
    const next = () => {
      if (workers.settled) return;
      while (!workers.stopped && workers.size < parallel && ready.length > 0) start(ready.shift()!);
      if (workers.size === 0) {
        workers.settled = true;
        resolve({ outcomes: outcomes.sort((a, b) => a.job.index - b.job.index), stopped: workers.stopped });
      }
    };
    const finished = async (job: MemberJob, m: MemberResult) => {
      const model = await loadModel(m.model);
      const searchModel = m.searchModel ? await loadModel(m.searchModel) : undefined;
      if (workers.settled) {
        model.dispose();
        searchModel?.dispose();
        return;
      }
      outcomes.push({
        job,
        member: m.member,
        model,
        ...(searchModel ? { searchModel } : {}),
        ...(m.validation ? { validation: m.validation } : {}),
        ...(m.validationPredictions ? { validationPredictions: m.validationPredictions } : {}),
        stopped: m.stopped,
      });
      // A member stopped by a stop it read from the flag set elsewhere counts as a stop too.
      if (m.stopped) workers.stopped = true;
      // The first tower's penalty is the others' (tune off), as in the sequential recipe.
      if (job === firstTower) ready.unshift(...waiting.map((w) => ({ ...w, l2: m.member.l2! })));
    };
    const start = (job: MemberJob) => {
      report.onLog?.(`${memberTitle(job)} (in a worker)`);
      const prefix = `member ${job.index + 1}: `;
      workers.start(job, {
        log: (line) => report.onLog?.(prefix + line),
        done: (m) => finished(job, m),
        after: next,
      });
    };
    try {
      next();
    } catch (error) {
      workers.fail(error); // the caller's onLog threw with workers already started: they end too
    }
  });
}
