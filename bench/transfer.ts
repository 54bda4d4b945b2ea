// Transfer on MovieLens 100K's timestamps (u.data, issue 23: 6): a model trained on the first 70%
// of time is the source; a new model is trained on the first 90% either from scratch (cold) or
// warm-started from the source by id (RecipeOptions.warmStart), each by the recipe (epochs chosen
// on its validation split, then the refit), and scored on the last 10%, on test rows whose user
// and item the training data knows: RMSE for the rating recipe, Recall@20 / NDCG@20 (training
// items excluded) for the retrieval recipe. Reports the epochs each chose, its figure and seconds.
import { train, type Model, type TrainEvent } from '../src/index.js';
import { timeOrderedEvents, knownRows } from './updates.js';

export interface TransferRun {
  task: 'rating' | 'retrieval';
  start: 'cold' | 'warm';
  /** Epochs the recipe chose (phase 1's best) and trained in the refit. */
  epochs: number;
  rmse?: number;
  recall20?: number;
  ndcg20?: number;
  seconds: number;
}

function scored(model: Model, test: TrainEvent[], task: 'rating' | 'retrieval') {
  const data = knownRows(model, test);
  if (task === 'rating') return { rmse: model.evaluate(data).rmse };
  const m = model.rows.evaluateRanking(data, { ks: [20], excludeSeen: true });
  return { recall20: m.recall[20]!, ndcg20: m.ndcg[20]! };
}

export async function transferRuns(tasks: ('rating' | 'retrieval')[] = ['rating', 'retrieval']): Promise<TransferRun[] | null> {
  const events = await timeOrderedEvents();
  if (!events) return null;
  const old = events.slice(0, Math.floor(events.length * 0.7));
  const now = events.slice(0, Math.floor(events.length * 0.9));
  const test = events.slice(Math.floor(events.length * 0.9));
  const runs: TransferRun[] = [];
  for (const task of tasks) {
    const source = await train(old, { task });
    for (const start of ['cold', 'warm'] as const) {
      let epochs = 0;
      const t0 = performance.now();
      const model = await train(now, {
        task,
        ...(start === 'warm' ? { warmStart: source } : {}),
        onEpochEnd: (e) => void (e.phase === 2 && (epochs = e.epochs)),
      });
      const seconds = (performance.now() - t0) / 1000;
      runs.push({ task, start, epochs, seconds, ...scored(model, test, task) });
      model.dispose();
    }
    source.dispose();
  }
  return runs;
}

export function transferTable(runs: TransferRun[]): string {
  const f4 = (x?: number) => (x === undefined ? '' : x.toFixed(4));
  return [
    '| task | start | epochs | RMSE | Recall@20 | NDCG@20 | seconds |',
    '|:--|:--|--:|--:|--:|--:|--:|',
    ...runs.map(
      (r) =>
        `| ${r.task} | ${r.start} | ${r.epochs} | ${f4(r.rmse)} | ${f4(r.recall20)} | ${f4(r.ndcg20)} | ${r.seconds.toFixed(1)} |`,
    ),
  ].join('\n');
}
