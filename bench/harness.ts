// Measurement: every case is checked before it is timed, then all cases of a suite are timed in
// interleaved rounds (tinybench, a short window each) so that drift on this shared machine hits
// every contender alike. A record keeps the median of the round medians, the min and the max.
import { Bench } from 'tinybench';

export interface Case {
  /** What is measured, e.g. "dense forward 1024×64→128". Cases with one name are compared. */
  name: string;
  /** Who does it, e.g. "twotower relaxed". */
  impl: string;
  run: () => void;
  /** Floating-point operations per run (a multiply-add counts 2). */
  flops?: number;
  /** Training examples per run. */
  examples?: number;
  /** Throws if the implementation's result is wrong; called once before timing. */
  check?: () => void;
}

export interface Record {
  name: string;
  impl: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  gflops?: number;
  examplesPerSecond?: number;
  /** Speed relative to the case named as baseline in the same run (> 1: faster than it). */
  ratio?: number;
  ratioTo?: string;
}

export interface MeasureOptions {
  /** Interleaved rounds. */
  rounds: number;
  /** Milliseconds per case per round. */
  time: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function measure(cases: Case[], options: MeasureOptions, baseline?: string): Promise<Record[]> {
  for (const c of cases) c.check?.();
  const rounds = new Map<Case, { p50: number[]; min: number; max: number }>(cases.map((c) => [c, { p50: [], min: Infinity, max: 0 }]));
  for (let r = 0; r < options.rounds; r++) {
    for (const c of cases) {
      const bench = new Bench({ time: options.time, warmupTime: Math.min(100, options.time / 2), iterations: 3 });
      bench.add(`${c.impl} ${c.name}`, c.run);
      await bench.run();
      const result = bench.tasks[0]!.result;
      if (!('latency' in result)) throw new Error(`${c.impl} ${c.name}: ${result.state} ${'error' in result ? String(result.error) : ''}`);
      const acc = rounds.get(c)!;
      acc.p50.push(result.latency.p50);
      acc.min = Math.min(acc.min, result.latency.min);
      acc.max = Math.max(acc.max, result.latency.max);
    }
  }
  const records = cases.map((c): Record => {
    const acc = rounds.get(c)!;
    const medianMs = median(acc.p50);
    const rec: Record = { name: c.name, impl: c.impl, medianMs, minMs: acc.min, maxMs: acc.max };
    if (c.flops) rec.gflops = c.flops / (medianMs * 1e6);
    if (c.examples) rec.examplesPerSecond = c.examples / (medianMs / 1000);
    return rec;
  });
  if (baseline) {
    for (const rec of records) {
      const base = records.find((b) => b.name === rec.name && b.impl === baseline);
      if (base) {
        rec.ratio = base.medianMs / rec.medianMs;
        rec.ratioTo = baseline;
      }
    }
  }
  return records;
}

const fmt = (x: number | undefined, digits: number) => (x === undefined ? '' : x.toFixed(digits));

export function table(records: Record[]): string {
  const rows = [['case', 'implementation', 'median ms', 'min ms', 'max ms', 'GFLOP/s', 'examples/s', 'ratio']];
  for (const r of records) {
    rows.push([r.name, r.impl, fmt(r.medianMs, 3), fmt(r.minMs, 3), fmt(r.maxMs, 3), fmt(r.gflops, 1),
      r.examplesPerSecond === undefined ? '' : Math.round(r.examplesPerSecond).toLocaleString('en-US'),
      r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× vs ${r.ratioTo}`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w, i) => (i < 2 ? ':' : '-') + '-'.repeat(w) + (i < 2 ? '-' : ':')).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
