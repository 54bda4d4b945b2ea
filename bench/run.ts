// npm run bench [-- --json] [-- --quick]: every suite, a table on stdout (or one JSON array).
// Run by `npm run bench` with --experimental-wasm-relaxed-simd so both WASM builds are measured.
import { cpus } from 'node:os';
import { measure, table, type Record } from './harness.js';
import { denseCases } from './dense.js';
import { trainCases } from './train.js';

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
if (json) console.log(JSON.stringify(records));
