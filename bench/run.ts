// npm run bench [-- --json] [-- --quick]: every suite, a table on stdout (or one JSON array).
// Run by `npm run bench` with --experimental-wasm-relaxed-simd so both WASM builds are measured.
import { cpus } from 'node:os';
import { measure, table, type Record } from './harness.js';
import { denseCases } from './dense.js';
import { trainCases } from './train.js';
import { movieLensFolds, foldTable } from './movielens.js';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const quick = args.has('--quick');
const options = quick ? { rounds: 2, time: 100 } : { rounds: 5, time: 400 };

const records: Record[] = [];
const say = (line: string) => { if (!json) console.log(line); };
say(`twotower bench, ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}, Node ${process.version}`);
for (const [title, cases, baseline] of [
  ['Dense kernels', denseCases, 'twotower simd'],
  ['Training', trainCases, 'twotower simd'],
] as const) {
  const suite = await measure(await cases(), options, baseline);
  records.push(...suite);
  say(`\n${title}\n${table(suite)}`);
}
const folds = args.has('--no-movielens') ? null : await movieLensFolds();
if (folds) {
  for (const f of folds) {
    records.push({ name: `MovieLens 100K u${f.fold}: load + train (RMSE ${f.rmse.toFixed(4)})`, impl: 'twotower', medianMs: (f.loadSeconds + f.trainSeconds) * 1000,
      minMs: (f.loadSeconds + f.trainSeconds) * 1000, maxMs: (f.loadSeconds + f.trainSeconds) * 1000 });
  }
  say(`\nMovieLens 100K, official folds, CLI defaults (twotower train --data uK.base --test uK.test)\n${foldTable(folds)}`);
} else {
  say('\nMovieLens 100K: not found (set TWOTOWER_DATA), skipped');
}
if (json) console.log(JSON.stringify(records));
