// What a recipe worker runs (src/node/member-worker.ts only wires it to worker_threads): one job,
// either a member of recipe: 'best' (parallel-members.ts schedules them) or one candidate
// penalty of tune's phase 1 (parallel-penalties.ts), on one kernel thread; then it posts the
// model's bytes (or the error) and returns, and the worker ends by itself.
import type { MemberJob, MemberOutcome } from './best-members.js';
import { trainMember } from './best-members.js';
import type { MemberResult } from './parallel-members.js';
import type { PenaltyJob, PenaltyResult } from './parallel-penalties.js';
import type { Model } from './model.js';
import { searchPenalty, searchSetup } from './recipe-search.js';
import { errorMessage, workerSide, type WorkerInit, type WorkerMessage } from './recipe-workers.js';

/** A recipe worker's whole life (see the file's head). */
export async function recipeWorkerMain(
  init: WorkerInit<MemberJob | PenaltyJob>,
  post: (message: WorkerMessage<MemberResult | PenaltyResult>, transfer?: ArrayBuffer[]) => void,
): Promise<void> {
  const { ds, o, stopRequested } = workerSide(init, post);
  const owned: (Model | undefined)[] = [];
  try {
    const job = init.job;
    if ('penalty' in job) {
      const run = await searchPenalty(ds, o, searchSetup(ds, o), job.penalty, o);
      owned.push(run.model);
      const model = run.model.toBytes();
      const result: PenaltyResult = { candidate: run.candidate, search: run.search, model, stopped: run.stopped };
      post({ kind: 'done', result }, [model.buffer as ArrayBuffer]);
      return;
    }
    const outcome: MemberOutcome = await trainMember(ds, o, job, stopRequested);
    owned.push(outcome.model, outcome.searchModel);
    const model = outcome.model.toBytes();
    const searchModel = outcome.searchModel?.toBytes();
    const result: MemberResult = {
      member: outcome.member,
      model,
      ...(searchModel ? { searchModel } : {}),
      ...(outcome.validation ? { validation: outcome.validation } : {}),
      ...(outcome.validationPredictions ? { validationPredictions: outcome.validationPredictions } : {}),
      stopped: outcome.stopped,
    };
    post({ kind: 'done', result }, [model.buffer as ArrayBuffer, ...(searchModel ? [searchModel.buffer as ArrayBuffer] : [])]);
  } catch (error) {
    post(errorMessage(error));
  } finally {
    for (const model of owned) model?.dispose();
  }
}
