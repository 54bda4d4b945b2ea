// recipe: 'best' with its members in worker threads (issue 23: 2): the combined model has the
// bits of the sequential run; callbacks reach the caller and a false stops every member; a
// member that throws or a worker that dies rejects at once with the other workers terminated;
// where workers cannot run the members go one after another and the result says why.
// The workers run the TypeScript source (test/recipe-workers.ts), as the package's
// dist/node/member-worker.js runs the built one; they start through the platform seam, so the
// tests can wrap the spawner to corrupt a job or kill a worker.
import { describe, it, expect, afterAll } from 'vitest';
import { trainBest, recipeOptions, Vocabulary, TwoTowerError, type BestResult } from '../src/index.js';
import { nodePlatform } from '../src/node/platform.js';
import { setPlatform, webPlatform, type MemberThread } from '../src/wasm/platform.js';
import type { MemberWorkerInit } from '../src/api/parallel-members.js';
import type { MemberJob } from '../src/api/best-members.js';
import { Random } from '../src/util/random.js';
import { sourceSpawner, useWorkers as useMembers } from './recipe-workers.js';

afterAll(() => setPlatform(webPlatform));

/** A member worker as a failure test sees it: `ended` once it exited, failed or was terminated. */
interface Recorded {
  index: number;
  ended: boolean;
}

/**
 * Installs source member workers whose job `edit` may change, the worker of member `kill` (an
 * index) terminated from outside at its first message; returns the workers as they start.
 */
function recording(edit: (job: MemberJob, init: MemberWorkerInit) => MemberWorkerInit, kill?: number): Recorded[] {
  const workers: Recorded[] = [];
  useMembers((init, events) => {
    const job = (init as MemberWorkerInit).job;
    const record: Recorded = { index: job.index, ended: false };
    workers.push(record);
    const thread: MemberThread = sourceSpawner(edit(job, init as MemberWorkerInit), {
      message: (m) => {
        // A worker that posted its member ends by itself (its exit may come after the test looks).
        if ((m as { kind?: string }).kind === 'done') record.ended = true;
        events.message(m);
        if (job.index === kill) thread.terminate();
      },
      // nodeMemberSpawner reports every end here: exit (also after a finished member), error, terminate.
      failed: (reason) => {
        record.ended = true;
        events.failed(reason);
      },
    });
    return thread;
  });
  return workers;
}

/** Ratings from planted 2-d tastes plus noise: 120 users × 15 of 60 items each. */
function plantedData(seed = 4) {
  const random = new Random(seed);
  const taste = (n: number) => Array.from({ length: n }, () => [random.normal(), random.normal()] as const);
  const users = taste(120),
    items = taste(60);
  const userIds = new Vocabulary(),
    itemIds = new Vocabulary();
  const rows: [number, number, number][] = [];
  users.forEach((u, a) => {
    const picked = new Set<number>();
    while (picked.size < 15) picked.add(Math.floor(random.next() * items.length));
    for (const b of picked) {
      const v = items[b]!;
      const r = 3 + 0.8 * (u[0] * v[0] + u[1] * v[1]) + 0.5 * random.normal();
      rows.push([userIds.add(`u${a}`), itemIds.add(`i${b}`), Math.min(5, Math.max(1, Math.round(r)))]);
    }
  });
  const train = {
    users: Int32Array.from(rows, (r) => r[0]),
    items: Int32Array.from(rows, (r) => r[1]),
    ratings: Float32Array.from(rows, (r) => r[2]),
  };
  return { train, users: userIds.freeze(), items: itemIds.freeze() };
}

/** Member 0 searches two penalties (so the others wait for its choice); few epochs. */
const quick = { epochs: 4, patience: 4, dim: 8, implicitDim: 0, tune: true, l2Grid: [0.01, 0.1] };

/** What must agree between two runs: everything but wall time. */
function outcome(result: BestResult) {
  return {
    bytes: result.model.toBytes(),
    members: result.members.map(({ seconds: _, ...m }) => m),
    weights: result.weights,
    validationRmse: result.validationRmse,
    validationRecall: result.validationRecall,
    stopped: result.stopped,
  };
}

describe("recipe: 'best', members in worker threads", () => {
  it('ratings: towers and autoencoders trained two at a time give the sequential bits, members and weights', async () => {
    useMembers();
    const ds = plantedData();
    const o = { ...recipeOptions('mse', quick), seeds: 3, autorecSeeds: 2 };
    const sequential = await trainBest(ds, { ...o, threads: 1 });
    const parallel = await trainBest(ds, { ...o, threads: 2 });
    expect(sequential.parallelMembers).toBe(1);
    expect(sequential.sequentialReason).toBe('threads is 1');
    expect(parallel.parallelMembers).toBe(2);
    expect(parallel.sequentialReason).toBeUndefined();
    // Towers 2 and 3 took member 1's penalty from its search.
    expect(new Set(parallel.members.filter((m) => m.family === 'tower').map((m) => m.l2)).size).toBe(1);
    expect(outcome(parallel)).toEqual(outcome(sequential));
    sequential.model.dispose();
    parallel.model.dispose();
  });

  it('retrieval: the towers and EASE in workers give the sequential bits, blend ratio included', async () => {
    useMembers();
    const ds = plantedData(7);
    const o = { ...recipeOptions('softmax', { ...quick, tune: false }), seeds: 2 };
    const sequential = await trainBest(ds, { ...o, threads: 1 });
    const parallel = await trainBest(ds, { ...o, threads: 3 });
    expect(parallel.parallelMembers).toBe(3);
    expect(outcome(parallel)).toEqual(outcome(sequential));
    sequential.model.dispose();
    parallel.model.dispose();
  });

  it("forwards log lines (by member), epochs and batches; onEpochEnd's false stops every member", async () => {
    useMembers();
    const lines: string[] = [];
    const batches: number[] = [];
    let epochs = 0;
    const result = await trainBest(plantedData(), {
      ...recipeOptions('mse', quick),
      seeds: 3,
      autorecSeeds: 2,
      threads: 2,
      onLog: (line) => lines.push(line),
      onBatchEnd: (b) => batches.push(b.batch),
      onEpochEnd: () => ++epochs < 2,
    });
    expect(result.stopped).toBe(true);
    expect(result.parallelMembers).toBe(2);
    // The first tower's epochs stopped it (only towers report epochs): the towers waiting for its
    // penalty never started, and the autoencoders are left out of a stopped blend (as in sequence).
    expect(result.members.map((m) => m.family)).toEqual(['tower']);
    expect(lines[0]).toBe('5 members, up to 2 at once in worker threads');
    expect(lines).toContain('member 1: towers, seed 1 (in a worker)');
    expect(lines.some((l) => /^member 1: l2 0\.01, epoch 1: train loss/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('stop asked'))).toBe(true);
    expect(batches.length).toBeGreaterThan(0);
    result.model.dispose();
  });

  it('a member that throws in its worker rejects with its own error, and no worker is left running', async () => {
    const workers = recording((job, init) =>
      // The first tower's worker gets a job trainRecipe refuses: dim 0 is BAD_CONFIG.
      job.index === 0 ? { ...init, options: { ...init.options, dim: 0 } } : init,
    );
    const error = await trainBest(plantedData(), { ...recipeOptions('mse', quick), seeds: 2, autorecSeeds: 2, threads: 2 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TwoTowerError);
    expect((error as TwoTowerError).code).toBe('BAD_CONFIG');
    // The tower waiting for the first one's penalty never started; every worker that did has
    // ended: it finished its member before the failure or was terminated.
    expect(workers.map((w) => w.index)).not.toContain(1);
    expect(workers.every((w) => w.ended)).toBe(true);
  });

  it('a worker that dies mid-member rejects with WORKER_FAILED at once, and no worker is left running', async () => {
    // The first tower's worker is terminated from outside at its first message.
    const workers = recording((_, init) => init, 0);
    const error = await trainBest(plantedData(), { ...recipeOptions('mse', quick), seeds: 2, autorecSeeds: 2, threads: 2 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TwoTowerError);
    expect((error as TwoTowerError).code).toBe('WORKER_FAILED');
    expect((error as TwoTowerError).details).toEqual({ index: 0 });
    expect((error as Error).message).toMatch(
      /member 1: towers, seed 1 stopped before it finished: a member worker was terminated/,
    );
    expect(workers.map((w) => w.index)).not.toContain(1);
    expect(workers.every((w) => w.ended)).toBe(true);
  });

  it('without member workers (the browser entry, a bundle without the worker file) the members go one after another and say why', async () => {
    setPlatform(webPlatform);
    const lines: string[] = [];
    const result = await trainBest(plantedData(), {
      ...recipeOptions('mse', { ...quick, tune: false }),
      seeds: 2,
      autorecSeeds: 0,
      threads: 2,
      onLog: (line) => lines.push(line),
    });
    expect(result.parallelMembers).toBe(1);
    expect(result.sequentialReason).toBe("this entry has no worker_threads: import from 'twotower/node'");
    expect(lines[0]).toBe(`2 members, one after another: ${result.sequentialReason}`);
    result.model.dispose();
    // The Node platform looks for member-worker.js beside its own module: in the source tree
    // (as in a bundle) there is none, and it says so.
    expect(nodePlatform.members!()).toMatch(/member-worker\.js is missing \(the package was bundled into one file\?\)/);
  });
});
