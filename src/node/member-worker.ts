// A worker_threads worker that runs one job of the recipes: a member of recipe: 'best'
// (src/api/parallel-members.ts) or a candidate penalty of tune's phase 1
// (src/api/parallel-penalties.ts), started with its job as workerData; src/api/recipe-worker-main.ts
// is what it runs. A file of the package, not an inlined string: it runs the training code, which
// the kernel pool's inlined worker does not hold.
import { parentPort, workerData } from 'node:worker_threads';
import { recipeWorkerMain } from '../api/recipe-worker-main.js';
import type { WorkerInit } from '../api/recipe-workers.js';
import type { MemberJob } from '../api/best-members.js';
import type { PenaltyJob } from '../api/parallel-penalties.js';

void recipeWorkerMain(workerData as WorkerInit<MemberJob | PenaltyJob>, (message, transfer) =>
  parentPort!.postMessage(message, transfer),
);
