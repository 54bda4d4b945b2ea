// tune's phase 1 with its candidate penalties at the same time, each in its own worker on one
// kernel thread (recipe.ts decides when; recipe-workers.ts is the plumbing it shares with
// recipe: 'best''s members). A candidate gives the same bits wherever it trains, and the choice
// is planSearch's (recipe-search.ts), the one function the sequential search follows too: the
// candidates it takes are taken in its order, whatever order the workers finish in, so the
// chosen penalty, epochs, `candidates` and model are the sequential run's.
//
// Idle workers run ahead: a grid's later candidates, the walk's first three at once and the next
// steps of the walk before the search knows it will take them. A candidate the search will no
// longer take is terminated, and one it never took is said nowhere: its log lines are held and
// said when the search takes it (the candidate the search waits for speaks as it trains), so the
// onLog lines are the sequential run's, in its order. onEpochEnd and onBatchEnd hear every
// candidate as it trains, those run ahead included (each with its l2).
import { TwoTowerError } from '../errors.js';
import type { FitResult } from '../train/options.js';
import type { MemberSpawner } from '../wasm/platform.js';
import { loadModelOnThreads, type Model } from './model.js';
import type { RecipeData, RecipeOptions } from './recipe-config.js';
import { RecipeWorkers, type RecipeReport, type WorkerInit } from './recipe-workers.js';
import { bestOf, candidateLine, planSearch, validationLoss, type RecipeCandidate, type SearchSetup } from './recipe-search.js';

/** One candidate of tune's phase 1 to run in a worker: its place in the search's penalties, and the penalty. */
export interface PenaltyJob {
  index: number;
  penalty: number;
}

/** What a penalty worker starts with (its workerData). */
export type PenaltyWorkerInit = WorkerInit<PenaltyJob>;

/** A candidate as its worker posts it: its phase-1 model as model-file bytes. */
export interface PenaltyResult {
  candidate: RecipeCandidate;
  search: FitResult;
  model: Uint8Array;
  stopped: boolean;
}

/** Phase 1's outcome, however it ran: the candidates taken in the search's order, and the chosen one with its model. */
export interface SearchOutcome {
  candidates: RecipeCandidate[];
  chosen: { candidate: RecipeCandidate; search: FitResult; model: Model };
  stopped: boolean;
}

/**
 * Runs phase 1's search (setup.penalties, planSearch's order) in workers started by `spawn`, at
 * most `parallel` at once; the chosen model comes back on `o.threads` kernel threads. A false
 * from onEpochEnd stops every running candidate at its next epoch end and starts no other: the
 * search then takes what finished in its order (after a stop, candidates run ahead may count
 * where the sequential run had stopped before them). A candidate that throws rejects with its
 * error, a worker that dies with WORKER_FAILED; either way every worker is terminated first.
 */
export function searchPenaltiesInParallel(
  ds: RecipeData,
  o: RecipeOptions,
  setup: SearchSetup,
  report: RecipeReport,
  spawn: MemberSpawner,
  parallel: number,
): Promise<SearchOutcome> {
  const { penalties, walk, implicit } = setup;
  const results = new Map<number, PenaltyResult>();
  const losses = new Map<number, number>();
  const held = new Map<number, string[]>();
  let taken = 0;
  /** The candidate the search waits for: its lines are said as they come. */
  let head: number | undefined;

  return new Promise<SearchOutcome>((resolve, reject) => {
    const workers = new RecipeWorkers<PenaltyJob, PenaltyResult>(spawn, ds, o, report, {
      stopLine: 'stop asked: every penalty being tried stops at its next epoch end, and no other starts',
      died: (job, reason) =>
        new TwoTowerError(
          'WORKER_FAILED',
          `train: tune's phase 1 at l2 ${job.penalty} stopped before it finished: ${reason}; the other candidates' workers were terminated`,
          { index: job.index, value: job.penalty },
        ),
      failed: reject,
    });
    const say = (index: number) => {
      for (const line of held.get(index) ?? []) report.onLog?.(line);
      held.delete(index);
    };
    const finish = async (ran: number[]) => {
      const index = bestOf(ran, losses);
      const chosen = results.get(index)!;
      const model = await loadModelOnThreads(chosen.model, o.threads ?? 1);
      if (workers.settled) return model.dispose();
      workers.settled = true;
      resolve({
        candidates: ran.map((i) => results.get(i)!.candidate),
        chosen: { candidate: chosen.candidate, search: chosen.search, model },
        stopped: workers.stopped,
      });
    };
    const step = () => {
      if (workers.settled) return;
      const plan = planSearch(walk, penalties.length, losses);
      // Say what the search has newly taken, in its order; a model it will not choose is dropped.
      for (; taken < plan.ran.length; taken++) {
        const index = plan.ran[taken]!;
        say(index);
        report.onLog?.(candidateLine(results.get(index)!.candidate, implicit));
      }
      const keep = plan.ran.length > 0 ? bestOf(plan.ran, losses) : undefined;
      for (const i of plan.ran) if (i !== keep) results.get(i)!.model = new Uint8Array(0);
      head = plan.next;
      if (head !== undefined) say(head);
      const wanted = plan.next === undefined ? [] : [plan.next, ...plan.ahead];
      for (let i = 0; i < penalties.length; i++) if (!wanted.includes(i)) workers.cancel(i);
      if (!workers.stopped)
        for (const i of wanted) {
          if (workers.size >= parallel) break;
          if (losses.has(i) || workers.isRunning(i)) continue;
          workers.start(
            { index: i, penalty: penalties[i]! },
            {
              log: (line) => {
                if (i === head) report.onLog?.(line);
                else
                  held
                    .set(i, held.get(i) ?? [])
                    .get(i)!
                    .push(line);
              },
              done: (result) => {
                results.set(i, result);
                losses.set(i, validationLoss(result.candidate));
                if (result.stopped) workers.stopped = true;
              },
              after: step,
            },
          );
        }
      if (workers.size === 0) finish(plan.ran).catch((error: unknown) => workers.fail(error));
    };
    try {
      step();
    } catch (error) {
      workers.fail(error);
    }
  });
}
