// One synthetic-log training run in its own process (so its peak RSS is its own): generate the
// log (bench/synthetic-log.ts), train one epoch of the retrieval loss (in-batch softmax) on id
// towers, then Recall@20 against the planted truth for 2,000 users (10 future events each, their
// training items excluded) beside the popularity baseline. Prints one JSON line.
//   node --import tsx bench/synthetic-child.ts <events> <users> <items> <batch> [threads] [dim]
import { createModel } from '../src/node/index.js';
import { syntheticLog } from './synthetic-log.js';
import { Random } from '../src/util/random.js';

const [events, users, items, batch, threads, dim] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
  number?,
  number?,
];
const d = dim ?? 32;
const t0 = performance.now();
const log = syntheticLog({ users, items, events });
const generateSeconds = (performance.now() - t0) / 1000;
const model = await createModel(
  {
    dim: d,
    seed: 1,
    user: { features: [{ kind: 'id', name: 'user', vocabSize: users, dim: d }], project: false },
    item: { features: [{ kind: 'id', name: 'item', vocabSize: items, dim: d }], project: false },
  },
  { threads: threads ?? 1 },
);
const rssBefore = process.resourceUsage().maxRSS / 1024;
const t1 = performance.now();
const result = model.fit(
  { users: log.users, items: log.items, ratings: new Float32Array(events) },
  { loss: 'softmax', epochs: 1, batchSize: batch, learningRate: 0.01 },
);
const trainSeconds = (performance.now() - t1) / 1000;
const peakRssMB = process.resourceUsage().maxRSS / 1024;

// The truth: 10 future events for 2,000 users who have training events, minus what they saw.
const seen = new Map<number, Set<number>>();
const random = new Random(99);
const sample: number[] = [];
while (sample.length < 2000) {
  const u = log.users[random.int(events)]!;
  if (!seen.has(u)) {
    seen.set(u, new Set());
    sample.push(u);
  }
}
for (let e = 0; e < events; e++) seen.get(log.users[e]!)?.add(log.items[e]!);
const testUsers: number[] = [],
  testItems: number[] = [];
const truth = new Map<number, Set<number>>();
for (const u of sample) {
  const future = new Set(Array.from(log.future(u, 10)).filter((i) => !seen.get(u)!.has(i)));
  if (future.size === 0) continue;
  truth.set(u, future);
  for (const i of future) {
    testUsers.push(u);
    testItems.push(i);
  }
}
const test = {
  users: Int32Array.from(testUsers),
  items: Int32Array.from(testItems),
  ratings: new Float32Array(testUsers.length),
};
const exclude = { users: log.users, items: log.items };
const t2 = performance.now();
const metrics = model.rows.evaluateRanking(test, { ks: [20], exclude });
const evalSeconds = (performance.now() - t2) / 1000;

// Popularity baseline: the 20 most frequent training items the user has not seen.
const counts = new Int32Array(items);
for (const i of log.items) counts[i]!++;
const popular = Int32Array.from({ length: items }, (_, i) => i)
  .sort((a, b) => counts[b]! - counts[a]! || a - b)
  .subarray(0, 5000);
let popRecall = 0;
for (const [u, rel] of truth) {
  let hits = 0,
    taken = 0;
  for (const i of popular) {
    if (seen.get(u)!.has(i)) continue;
    if (rel.has(i)) hits++;
    if (++taken === 20) break;
  }
  popRecall += hits / Math.min(20, rel.size);
}
popRecall /= truth.size;

const s = model.memory();
console.log(
  JSON.stringify({
    events,
    users,
    items,
    batch,
    threads: model.threads,
    dim: d,
    generateSeconds,
    trainSeconds,
    eventsPerSecond: events / trainSeconds,
    steps: result.steps,
    peakRssMB,
    rssBeforeFitMB: rssBefore,
    heapMB: s.memoryBytes / 2 ** 20,
    liveMB: s.liveBytes / 2 ** 20,
    recall20: metrics.recall[20],
    popularityRecall20: popRecall,
    evalUsers: metrics.users,
    evalSeconds,
  }),
);
process.exit(0);
