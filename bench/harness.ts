// Measurement: every case is checked before it is timed, then all cases of a suite are timed in
// interleaved rounds (tinybench, a short window each) so that drift on this shared machine hits
// every contender alike. A record keeps the median of the round medians, the min and the max.
import { Bench } from 'tinybench';

export interface Case {
  /** What is measured, e.g. "dense forward 1024×64→128". Cases with one name are compared. */
  name: string;
  /** Who does it, e.g. "twotower relaxed". */
  impl: string;
  /** One timed operation (may be async: ONNX Runtime's run is). */
  run: () => unknown;
  /** Floating-point operations per run (a multiply-add counts 2). */
  flops?: number;
  /** Training examples per run. */
  examples?: number;
  /** Seconds per run: timed in the first round only, once after one warm-up run. */
  slow?: boolean;
  /** Bytes read per run (bandwidth cases). */
  bytes?: number;
  /** Throws if the implementation's result is wrong; called once before timing. May return a note. */
  check?: () => unknown;
}

export interface Record {
  name: string;
  impl: string;
  medianMs: number;
  /** The same call timed alone after the rounds (a plain loop of awaited calls): a check on medianMs. */
  aloneMs?: number;
  minMs: number;
  maxMs: number;
  gflops?: number;
  examplesPerSecond?: number;
  /** Speed relative to TensorFlow.js 'wasm' on the same case, in the same run (> 1: faster). */
  ratioVsTfjsWasm?: number;
  /** Speed relative to onnxruntime-node (1 thread) on the same case, in the same run. */
  ratioVsOrtNode?: number;
  /** GB/s for bandwidth cases. */
  gbps?: number;
  /** Anything else worth reporting (e.g. recall@10 of an approximate method). */
  note?: string;
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

export const TFJS_WASM = 'TensorFlow.js wasm';
export const ORT_NODE = 'onnxruntime-node 1 thread';

export async function measure(cases: Case[], options: MeasureOptions): Promise<Record[]> {
  const notes = new Map<Case, string>();
  for (const c of cases) {
    const note = await c.check?.();
    if (typeof note === 'string') notes.set(c, note);
  }
  const rounds = new Map<Case, { p50: number[]; min: number; max: number }>(
    cases.map((c) => [c, { p50: [], min: Infinity, max: 0 }]),
  );
  for (let r = 0; r < options.rounds; r++) {
    for (const c of cases) {
      if (c.slow && r > 0) continue;
      const bench = c.slow
        ? new Bench({ time: 0, iterations: 1, warmupIterations: 1, warmupTime: 0 })
        : new Bench({ time: options.time, warmupTime: Math.min(100, options.time / 2), warmupIterations: 2, iterations: 3 });
      bench.add(`${c.impl} ${c.name}`, c.run);
      await bench.run();
      const result = bench.tasks[0]!.result;
      if (!('latency' in result))
        throw new Error(`${c.impl} ${c.name}: ${result.state} ${'error' in result ? String(result.error) : ''}`);
      const acc = rounds.get(c)!;
      acc.p50.push(result.latency.p50);
      acc.min = Math.min(acc.min, result.latency.min);
      acc.max = Math.max(acc.max, result.latency.max);
    }
  }
  // Each case once more, alone: a plain loop of awaited calls. A bench figure far from this one
  // means the harness measured something else than the call (an unawaited promise, a cache).
  const alone = new Map<Case, number>();
  for (const c of cases) {
    if (c.slow) continue;
    const samples: number[] = [];
    let reps = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await c.run();
      const ms = performance.now() - t0;
      if (ms >= 20 || reps >= 1024) break;
      reps *= 2;
    }
    for (let s = 0; s < 7; s++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await c.run();
      samples.push((performance.now() - t0) / reps);
    }
    alone.set(c, median(samples));
  }
  const records = cases.map((c): Record => {
    const acc = rounds.get(c)!;
    const medianMs = median(acc.p50);
    const rec: Record = { name: c.name, impl: c.impl, medianMs, minMs: acc.min, maxMs: acc.max };
    if (alone.has(c)) {
      rec.aloneMs = alone.get(c);
      const ratio = medianMs / rec.aloneMs!;
      if (ratio < 0.75 || ratio > 1.33)
        notes.set(c, `${notes.get(c) ?? ''}${notes.has(c) ? '; ' : ''}bench/alone ${ratio.toFixed(2)}`);
    }
    if (c.flops) rec.gflops = c.flops / (medianMs * 1e6);
    if (c.examples) rec.examplesPerSecond = c.examples / (medianMs / 1000);
    if (c.bytes) rec.gbps = c.bytes / (medianMs * 1e6);
    if (notes.has(c)) rec.note = notes.get(c);
    return rec;
  });
  for (const rec of records) {
    const tfjs = records.find((b) => b.name === rec.name && b.impl === TFJS_WASM);
    if (tfjs) rec.ratioVsTfjsWasm = tfjs.medianMs / rec.medianMs;
    const ort = records.find((b) => b.name === rec.name && b.impl === ORT_NODE);
    if (ort) rec.ratioVsOrtNode = ort.medianMs / rec.medianMs;
  }
  return records;
}

const fmt = (x: number | undefined, digits: number) => (x === undefined ? '' : x.toFixed(digits));

export function table(records: Record[]): string {
  const rows = [
    [
      'case',
      'implementation',
      'median ms',
      'alone ms',
      'min ms',
      'max ms',
      'GFLOP/s',
      'examples/s',
      '× tfjs-wasm',
      '× ort-node',
      'note',
    ],
  ];
  for (const r of records) {
    rows.push([
      r.name,
      r.impl,
      fmt(r.medianMs, 3),
      fmt(r.aloneMs, 3),
      fmt(r.minMs, 3),
      fmt(r.maxMs, 3),
      r.gbps !== undefined ? `${r.gbps.toFixed(1)} GB/s` : fmt(r.gflops, 1),
      r.examplesPerSecond === undefined ? '' : Math.round(r.examplesPerSecond).toLocaleString('en-US'),
      r.ratioVsTfjsWasm === undefined ? '' : `${r.ratioVsTfjsWasm.toFixed(2)}×`,
      r.ratioVsOrtNode === undefined ? '' : `${r.ratioVsOrtNode.toFixed(2)}×`,
      r.note ?? '',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w, i) => (i < 2 ? ':' : '-') + '-'.repeat(w) + (i < 2 ? '-' : ':')).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}
