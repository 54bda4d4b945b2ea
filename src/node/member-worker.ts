// A worker_threads worker that trains one member of recipe: 'best' (src/api/parallel-members.ts
// starts it, with its job as workerData, and reads its messages). A file of the package, not an
// inlined string: it runs the training code, which the kernel pool's inlined worker does not hold.
import { parentPort, workerData } from 'node:worker_threads';
import { memberWorkerMain, type MemberWorkerInit } from '../api/parallel-members.js';

void memberWorkerMain(workerData as MemberWorkerInit, (message, transfer) => parentPort!.postMessage(message, transfer));
