// Incremental updates on MovieLens 100K with its timestamps (all 100,000 ratings, u.data): train
// on the first 70% of time, then take the next 30% in six chunks, either with model.update()
// (continuing training on the chunk alone) or by retraining from scratch on every cumulative
// prefix with the same recipe (train(), early stopping and refit). After each chunk both are
// scored on the following one (the seventh part follows the sixth chunk): RMSE for the rating
// recipe, Recall@20 (training items excluded) for the retrieval recipe (every rating a positive),
// on test rows whose user and item both models know. Seconds are wall clock, plain node, one
// thread.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset } from '../src/node/dataset.js';
import { train, type Model, type TrainEvent, type Interactions } from '../src/index.js';
import { dataDir } from './movielens.js';

export interface UpdateStep {
  task: 'rating' | 'retrieval';
  chunk: number;
  events: number;
  testRows: number;
  update: { metric: number; seconds: number };
  retrain: { metric: number; seconds: number };
}

/** The test events the model knows (user and item both in its vocabularies), as its rows. */
export function knownRows(model: Model, test: TrainEvent[]): Interactions {
  const users = model.vocabularies.users!,
    items = model.vocabularies.items!;
  const known = test.filter((e) => users.has(String(e.user)) && items.has(String(e.item)));
  return {
    users: Int32Array.from(known, (e) => users.lookup(String(e.user))),
    items: Int32Array.from(known, (e) => items.lookup(String(e.item))),
    ratings: Float32Array.from(known, (e) => e.rating!),
  };
}

/** The test rows both models know, in their rows (the same vocabulary keys in both). */
function scoreOn(model: Model, test: TrainEvent[], task: 'rating' | 'retrieval'): { metric: number; rows: number } {
  const data = knownRows(model, test);
  if (task === 'rating') return { metric: model.evaluate(data).rmse, rows: data.users.length };
  return { metric: model.rows.evaluateRanking(data, { ks: [20], excludeSeen: true }).recall[20]!, rows: data.users.length };
}

/** MovieLens 100K's 100,000 ratings (u.data) as events in time order (ties by file order), or null when absent. */
export async function timeOrderedEvents(): Promise<TrainEvent[] | null> {
  const file = join(dataDir(), 'u.data');
  if (!existsSync(file)) return null;
  const ds = await loadDataset({ data: file, autoSideFiles: false });
  const t = ds.train.timestamps!;
  const order = Array.from(t, (_, i) => i).sort((a, b) => t[a]! - t[b]! || a - b);
  return order.map((i) => ({
    user: ds.users.key(ds.train.users[i]!)!,
    item: ds.items.key(ds.train.items[i]!)!,
    rating: ds.train.ratings[i]!,
    time: t[i]!,
  }));
}

export async function temporalUpdates(
  tasks: ('rating' | 'retrieval')[] = ['rating', 'retrieval'],
  chunks = 6,
  log: (line: string) => void = () => {},
): Promise<UpdateStep[] | null> {
  const events = await timeOrderedEvents();
  if (!events) return null;
  const base = Math.floor(events.length * 0.7);
  const part = Math.floor((events.length - base) / (chunks + 1));
  const cut = (c: number) => base + c * part; // chunk c (1-based) is events[cut(c − 1), cut(c))
  const steps: UpdateStep[] = [];
  for (const task of tasks) {
    let started = performance.now();
    let updated = await train(events.slice(0, base), { task });
    log(`${task}: base model on ${base} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (let c = 1; c <= chunks; c++) {
      const chunk = events.slice(cut(c - 1), cut(c));
      const test = events.slice(cut(c), c === chunks ? events.length : cut(c + 1));
      started = performance.now();
      updated.update(chunk);
      const updateSeconds = (performance.now() - started) / 1000;
      started = performance.now();
      const retrained = await train(events.slice(0, cut(c)), { task });
      const retrainSeconds = (performance.now() - started) / 1000;
      const u = scoreOn(updated, test, task);
      const r = scoreOn(retrained, test, task);
      retrained.dispose();
      steps.push({
        task,
        chunk: c,
        events: chunk.length,
        testRows: u.rows,
        update: { metric: u.metric, seconds: updateSeconds },
        retrain: { metric: r.metric, seconds: retrainSeconds },
      });
      log(
        `${task} chunk ${c}: update ${u.metric.toFixed(4)} in ${updateSeconds.toFixed(2)} s, retrain ${r.metric.toFixed(4)} in ${retrainSeconds.toFixed(1)} s (${u.rows} test rows)`,
      );
    }
    updated.dispose();
    updated = undefined as unknown as Model;
  }
  return steps;
}

export function updateTable(steps: UpdateStep[]): string {
  const row = (task: string, chunk: string, events: string, test: string, u: number, r: number, us: number, rs: number) =>
    `| ${task} | ${chunk} | ${events} | ${test} | ${u.toFixed(4)} | ${r.toFixed(4)} | ${(u / r).toFixed(3)} | ${us.toFixed(2)} | ${rs.toFixed(1)} | ${((100 * us) / rs).toFixed(1)}% |`;
  const rows: string[] = [];
  for (const task of ['rating', 'retrieval'] as const) {
    const mine = steps.filter((s) => s.task === task);
    if (mine.length === 0) continue;
    for (const s of mine)
      rows.push(
        row(
          task,
          String(s.chunk),
          String(s.events),
          String(s.testRows),
          s.update.metric,
          s.retrain.metric,
          s.update.seconds,
          s.retrain.seconds,
        ),
      );
    const mean = (f: (s: UpdateStep) => number) => mine.reduce((a, s) => a + f(s), 0) / mine.length;
    rows.push(
      row(
        `**${task}, mean**`,
        '',
        '',
        '',
        mean((s) => s.update.metric),
        mean((s) => s.retrain.metric),
        mean((s) => s.update.seconds),
        mean((s) => s.retrain.seconds),
      ),
    );
  }
  return [
    '| task | chunk | events | test rows | update: RMSE (lower is better) or Recall@20 (higher) | retrain | update / retrain | update s | retrain s | time |',
    '|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
  ].join('\n');
}

// Run directly: node --import tsx bench/updates.ts [rating|retrieval]
if (import.meta.url === `file://${process.argv[1]}`) {
  const tasks = (process.argv[2] ? [process.argv[2]] : ['rating', 'retrieval']) as ('rating' | 'retrieval')[];
  const steps = await temporalUpdates(tasks, 6, (line) => console.error(line));
  if (steps) console.log(updateTable(steps));
  process.exit(0);
}
