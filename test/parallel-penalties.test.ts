// tune's phase 1 with its candidate penalties in worker threads (issue 25: 5): threads 2 gives
// the bits of threads 1 — chosen penalty, epochs, candidates, model, search model, validation
// predictions and the onLog lines — for the ladder walk (one that walks past its first three)
// and for a grid; the search order itself equals the sequential walk as it was written before
// it became one function (planSearch), and never cancels a candidate the walk will take; a
// candidate that throws or a worker that dies rejects with every worker ended; without workers
// the candidates go one after another and say why. Workers run the source (test/recipe-workers.ts).
import { describe, it, expect, afterAll } from 'vitest';
import { trainRecipe, recipeOptions, TwoTowerError, type RecipeData, type RecipeResult } from '../src/index.js';
import type { RecipeOptions } from '../src/api/recipe-config.js';
import { setPlatform, webPlatform, type MemberThread } from '../src/wasm/platform.js';
import type { PenaltyJob, PenaltyWorkerInit } from '../src/api/parallel-penalties.js';
import { planSearch } from '../src/api/recipe-search.js';
import { Random } from '../src/util/random.js';
import { noisyRatings } from './noisy-ratings.js';
import { sourceSpawner, useWorkers } from './recipe-workers.js';

afterAll(() => setPlatform(webPlatform));

const quick = { epochs: 8, patience: 2, dim: 8, implicitDim: 4, batchSize: 128, learningRate: 0.03 };

/** A log line without its wall times. */
const untimed = (line: string) => line.replace(/\(\d+\.\d+ s\)/g, '(… s)');

/** Trains with `threads`, recording the onLog lines; what must agree between thread counts. */
async function run(ds: RecipeData, o: RecipeOptions, threads: number) {
  const lines: string[] = [];
  const result: RecipeResult = await trainRecipe(ds, { ...o, threads, onLog: (line) => lines.push(untimed(line)) });
  const same = {
    bytes: result.model.toBytes(),
    searchBytes: result.searchModel?.toBytes(),
    l2: result.l2,
    epochs: result.epochs,
    candidates: result.candidates!.map(({ seconds: _, ...c }) => c),
    history: result.search.history.map(({ seconds: _, ...e }) => e),
    validationPredictions: result.validationPredictions,
    stopped: result.stopped,
    // The sequential run's lines, in its order (the parallel run says first how it runs).
    lines: lines.filter((l) => !l.startsWith('tune: ')),
  };
  result.model.dispose();
  result.searchModel?.dispose();
  return { result, same, lines };
}

describe('tune: candidate penalties in worker threads', () => {
  it('the ladder walk past its first three: threads 2 gives threads 1’s choice, candidates, lines and bits (no refit: the phase-1 model comes back)', async () => {
    useWorkers();
    const ds = noisyRatings(200, 60, 5, 1, 11);
    const o = recipeOptions('mse', { ...quick, l2: 0.2, tune: true, refit: false });
    const one = await run(ds, o, 1);
    const two = await run(ds, o, 2);
    expect(one.result.candidates!.length).toBeGreaterThan(3);
    expect(one.result.parallelCandidates).toBe(1);
    expect(one.result.sequentialReason).toBe('threads is 1');
    expect(two.result.parallelCandidates).toBe(2);
    expect(two.result.sequentialReason).toBeUndefined();
    expect(two.lines[0]).toBe('tune: up to 2 penalties at once in worker threads');
    expect(two.same).toEqual(one.same);
  });

  it('the walk with a refit and the search model kept; a grid: the same bits on 1 and 3 threads', async () => {
    useWorkers();
    const ds = noisyRatings(150, 50, 8, 1, 3);
    for (const o of [
      recipeOptions('mse', { ...quick, keepSearchModel: true }),
      recipeOptions('mse', { ...quick, l2Grid: [0.001, 0.3, 0.01, 3], keepSearchModel: true }),
    ]) {
      const one = await run(ds, o, 1);
      const three = await run(ds, o, 3);
      expect(three.result.parallelCandidates).toBe(3);
      expect(three.same.searchBytes).toBeDefined();
      expect(three.same).toEqual(one.same);
    }
  });

  it('planSearch runs the ladder as the sequential walk did, and what it may still run always holds what it will run', () => {
    /** The walk as trainRecipe wrote it before planSearch (issue 24), over given losses. */
    const walked = (loss: (i: number) => number) => {
      const order: number[] = [];
      const tried = (i: number) => (order.push(i), loss(i));
      const scores = new Map<number, number>();
      for (const i of [3, 2, 4]) scores.set(i, tried(i));
      let at = [...scores].reduce((x, y) => (y[1] < x[1] ? y : x))[0];
      const step = Math.sign(at - 3);
      for (let i = at + step; step !== 0 && i >= 0 && i < 7; i += step) {
        const score = tried(i);
        if (!(score < scores.get(at)!)) break;
        scores.set(i, score);
        at = i;
      }
      return order;
    };
    const random = new Random(5);
    for (let t = 0; t < 2000; t++) {
      // Few distinct values: ties are common; Infinity is a candidate without a figure.
      const values = Array.from({ length: 7 }, () => [0.1, 0.2, 0.3, Infinity][Math.floor(random.next() * 4)]!);
      const expected = walked((i) => values[i]!);
      const losses = new Map<number, number>();
      for (;;) {
        const plan = planSearch(true, 7, losses);
        expect(plan.ran).toEqual(expected.slice(0, plan.ran.length));
        if (plan.next === undefined) break;
        // Every candidate the walk has yet to run is next or ahead: a cancelled one is never needed.
        for (const i of expected.slice(plan.ran.length).filter((i) => !losses.has(i)))
          expect([plan.next, ...plan.ahead]).toContain(i);
        // Learn a figure in some other order than the walk's (as workers finish): next, or one ahead.
        const learn = random.next() < 0.5 || plan.ahead.length === 0 ? plan.next : plan.ahead[0]!;
        losses.set(learn, values[learn]!);
      }
      expect(planSearch(true, 7, losses).ran).toEqual(expected);
    }
  });

  it('a candidate that throws in its worker rejects with its own error, and no worker is left running', async () => {
    const ended: boolean[] = [];
    useWorkers((init, events) => {
      const job = (init as PenaltyWorkerInit).job;
      const at = ended.push(false) - 1;
      // The second candidate gets options its setup refuses: dim 0 is BAD_CONFIG.
      const edited =
        job.index === 2 ? { ...(init as PenaltyWorkerInit), options: { ...(init as PenaltyWorkerInit).options, dim: 0 } } : init;
      return sourceSpawner(edited, {
        message: (m) => {
          if ((m as { kind?: string }).kind === 'done') ended[at] = true;
          events.message(m);
        },
        failed: (reason) => {
          ended[at] = true;
          events.failed(reason);
        },
      });
    });
    const error = await trainRecipe(
      noisyRatings(100, 40, 6, 1, 2),
      recipeOptions('mse', { ...quick, tune: true, threads: 2 }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TwoTowerError);
    expect((error as TwoTowerError).code).toBe('BAD_CONFIG');
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.every(Boolean)).toBe(true);
  });

  it('a worker that dies rejects with WORKER_FAILED naming its penalty, and no worker is left running', async () => {
    const ended: boolean[] = [];
    useWorkers((init, events) => {
      const job: PenaltyJob = (init as PenaltyWorkerInit).job;
      const at = ended.push(false) - 1;
      const thread: MemberThread = sourceSpawner(init, {
        message: (m) => {
          if ((m as { kind?: string }).kind === 'done') ended[at] = true;
          events.message(m);
          if (job.index === 3) thread.terminate(); // the centre's worker, killed at its first message
        },
        failed: (reason) => {
          ended[at] = true;
          events.failed(reason);
        },
      });
      return thread;
    });
    const o = recipeOptions('mse', { ...quick, l2: 0.05, tune: true, threads: 2 });
    const error = await trainRecipe(noisyRatings(100, 40, 6, 1, 2), o).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TwoTowerError);
    expect((error as TwoTowerError).code).toBe('WORKER_FAILED');
    expect((error as Error).message).toMatch(
      /tune's phase 1 at l2 0\.05 stopped before it finished: a member worker was terminated/,
    );
    expect(ended.every(Boolean)).toBe(true);
  });

  it("forwards epochs and batches of every candidate; onEpochEnd's false stops them all and skips the refit", async () => {
    useWorkers();
    const lines: string[] = [];
    const penalties = new Set<number>();
    let batches = 0;
    const result = await trainRecipe(noisyRatings(100, 40, 6, 1, 2), {
      ...recipeOptions('mse', { ...quick, l2Grid: [0.01, 0.1, 1] }),
      threads: 2,
      onLog: (line) => lines.push(line),
      onBatchEnd: () => void batches++,
      onEpochEnd: (e) => penalties.add(e.l2).size < 2, // a stop once both running candidates have reported
    });
    expect(result.stopped).toBe(true);
    expect(result.final).toBeUndefined();
    expect(batches).toBeGreaterThan(0);
    expect(penalties.size).toBeGreaterThan(1);
    expect(lines.some((l) => l.startsWith('stop asked'))).toBe(true);
    // The search takes what finished in its order: the first candidate at least.
    expect(result.candidates![0]!.l2).toBe(0.01);
    result.model.dispose();
  });

  it('without recipe workers (the browser entry, a bundle without the worker file) the candidates go one after another and say why', async () => {
    setPlatform(webPlatform);
    const lines: string[] = [];
    const result = await trainRecipe(noisyRatings(100, 40, 6, 1, 2), {
      ...recipeOptions('mse', { ...quick, l2Grid: [0.01, 1] }),
      threads: 2,
      onLog: (line) => lines.push(line),
    });
    expect(result.parallelCandidates).toBe(1);
    expect(result.sequentialReason).toBe("this entry has no worker_threads: import from 'twotower/node'");
    expect(lines[0]).toBe(`tune: penalties one after another: ${result.sequentialReason}`);
    expect(result.candidates!.map((c) => c.l2)).toEqual([0.01, 1]);
    result.model.dispose();
  });
});
