#!/usr/bin/env node
// Times the fused score + top-k kernel of two kernel builds of the same kind against each other:
// a baseline .wasm and a new one, both instantiated directly (no src/ imports), on the same
// seeded data, in alternating rounds so that a noisy shared machine slows both alike. Before
// timing it checks that both return the same top-k index sets.
//
//   node scripts/compare-scoring.mjs [--build simd|relaxed] [--baseline FILE] [--new FILE]
//        [--rounds 15] [--n 100000] [--d 64] [--b 256] [--k 10] [--no-odd] [--no-batch] [--clock cpu|wall]
//   node --experimental-wasm-relaxed-simd scripts/compare-scoring.mjs --build relaxed
//
// Reports, per case, the median over rounds of each build's mean time per call and the median
// of the per-round ratios new/baseline (< 1: the new build is faster), and the ratio of the
// fastest rounds.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

function parseArgs(argv) {
  const o = {
    build: 'simd',
    baseline: '',
    new: '',
    rounds: 15,
    n: 100_000,
    d: 64,
    b: 256,
    k: 10,
    odd: true,
    batch: true,
    clock: 'cpu',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--build') o.build = next();
    else if (a === '--baseline') o.baseline = next();
    else if (a === '--new') o.new = next();
    else if (a === '--rounds') o.rounds = Number(next());
    else if (a === '--n') o.n = Number(next());
    else if (a === '--d') o.d = Number(next());
    else if (a === '--b') o.b = Number(next());
    else if (a === '--k') o.k = Number(next());
    else if (a === '--no-odd') o.odd = false;
    else if (a === '--no-batch') o.batch = false;
    else if (a === '--clock') o.clock = next();
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node scripts/compare-scoring.mjs [--build simd|relaxed] [--baseline FILE] [--new FILE] [--rounds R] [--n N] [--d D] [--b B] [--k K] [--no-odd] [--no-batch] [--clock cpu|wall]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.build !== 'simd' && o.build !== 'relaxed') throw new Error(`--build must be simd or relaxed, got ${o.build}`);
  if (o.clock !== 'cpu' && o.clock !== 'wall') throw new Error(`--clock must be cpu or wall, got ${o.clock}`);
  o.baseline ||= `/work/baseline/kernels-${o.build}.wasm`;
  o.new ||= new URL(`../build/kernels-${o.build}.wasm`, import.meta.url).pathname;
  return o;
}

/** mulberry32 with Box–Muller: seeded standard normal floats. */
function gaussian(seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u = 1 - uniform(),
      v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** One instance of a kernel .wasm, with its inputs staged in its own heap. */
async function instantiate(file, label) {
  const bytes = readFileSync(file);
  if (!WebAssembly.validate(bytes)) {
    throw new Error(
      `${file} does not validate here${/relaxed/.test(file) ? ' (relaxed builds need node --experimental-wasm-relaxed-simd)' : ''}`,
    );
  }
  const module = await WebAssembly.compile(bytes);
  const env = {
    abort(_msg, _file, line, col) {
      throw new Error(`${label}: kernel aborted at ${line}:${col}`);
    },
  };
  // Threads builds import a shared memory; the others own theirs.
  if (WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === 'memory')) {
    env.memory = new WebAssembly.Memory({ initial: 32, maximum: 32768, shared: true });
  }
  const instance = await WebAssembly.instantiate(module, { env });
  const x = instance.exports;
  for (const name of ['alloc', 'topk_reset', 'score_topk', 'topk_finish']) {
    if (typeof x[name] !== 'function') throw new Error(`${file} does not export ${name}()`);
  }
  return { label, file, x, memory: env.memory ?? x.memory };
}

function stage(inst, items, queries, maxB, k) {
  const { x } = inst;
  const p = {
    items: x.alloc(items.length * 4) >>> 0,
    queries: x.alloc(queries.length * 4) >>> 0,
    outIdx: x.alloc(maxB * k * 4) >>> 0,
    outScore: x.alloc(maxB * k * 4) >>> 0,
    counts: x.alloc(maxB * 4) >>> 0,
  };
  // Views only after every alloc: a memory.grow detaches older ones.
  new Float32Array(inst.memory.buffer, p.items, items.length).set(items);
  new Float32Array(inst.memory.buffer, p.queries, queries.length).set(queries);
  inst.p = p;
}

/** topk_reset + score_topk + topk_finish for queries [q0, q0 + b) of width d. */
function scan(inst, b, q0, n, d, k) {
  const { x, p } = inst;
  x.topk_reset(p.counts, b);
  x.score_topk(p.outIdx, p.outScore, p.counts, p.queries + q0 * d * 4, p.items, 0, 0, b, n, d, k, 0);
  x.topk_finish(p.outIdx, p.outScore, p.counts, b, k);
}

function results(inst, b, k) {
  return {
    idx: Int32Array.from(new Int32Array(inst.memory.buffer, inst.p.outIdx, b * k)),
    score: Float32Array.from(new Float32Array(inst.memory.buffer, inst.p.outScore, b * k)),
  };
}

/** Same top-k index set for every query? Returns the number of rows that differ and the max score gap. */
function compareResults(a, c, b, k) {
  let rows = 0,
    gap = 0;
  for (let q = 0; q < b; q++) {
    const sa = new Set(a.idx.subarray(q * k, q * k + k));
    if (![...c.idx.subarray(q * k, q * k + k)].every((j) => sa.has(j))) rows++;
    for (let r = q * k; r < q * k + k; r++) gap = Math.max(gap, Math.abs(a.score[r] - c.score[r]));
  }
  return { rows, gap };
}

const median = (xs) => {
  const s = [...xs].sort((u, v) => u - v),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Milliseconds now, by wall clock or by this process's CPU time. On a shared machine a process
 * that is descheduled still sees the wall clock run; its CPU time does not, so 'cpu' (the
 * default) is the steadier clock (after warm-up no other thread of ours is busy).
 */
let clock = () => performance.now();
const cpuClock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Mean ms per call of `calls` calls. */
function timeCalls(inst, calls, b, n, d, k, nq) {
  const t0 = clock();
  for (let c = 0; c < calls; c++) scan(inst, b, b === 1 ? c % nq : 0, n, d, k);
  return (clock() - t0) / calls;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.clock === 'cpu') clock = cpuClock;
  const dMax = o.odd ? Math.max(o.d, 65) : o.d;
  const rand = gaussian(12345);
  const items = Float32Array.from({ length: o.n * dMax }, rand);
  const queries = Float32Array.from({ length: o.b * dMax }, rand);
  // Two instances of each build, their memories first touched in the order B N N B. Where the
  // items land in physical memory changes a streaming scan's speed by a few per cent (measured
  // here: the memory touched first scanned ~3% slower, same code), which would read as a
  // difference between builds; the ABBA order cancels a trend, and each round times all four.
  const base = [await instantiate(o.baseline, 'baseline'), await instantiate(o.baseline, 'baseline')];
  const next = [await instantiate(o.new, 'new'), await instantiate(o.new, 'new')];
  for (const inst of [base[0], next[0], next[1], base[1]]) stage(inst, items, queries, o.b, o.k);

  const cases = [];
  if (o.batch) cases.push({ name: `b=${o.b}`, b: o.b, d: o.d, calls: 1 });
  cases.push({ name: 'b=1', b: 1, d: o.d, calls: 10 });
  if (o.odd) {
    for (const d of [63, 65]) if (d !== o.d) cases.push({ name: 'b=1', b: 1, d, calls: 10 });
  }

  console.log(`score_topk ${o.build}: n=${o.n} k=${o.k}, ${o.rounds} alternating rounds, ${o.clock} time`);
  console.log(`  baseline ${o.baseline}\n  new      ${o.new}`);
  // Correctness first: same top-k index sets for every query, alone and in a batch.
  for (const cs of cases) {
    const bq = cs.b === 1 ? Math.min(o.b, 16) : 1;
    for (let q0 = 0; q0 < bq; q0++) {
      scan(base[0], cs.b, q0, o.n, cs.d, o.k);
      const ra = results(base[0], cs.b, o.k);
      scan(next[0], cs.b, q0, o.n, cs.d, o.k);
      const rn = results(next[0], cs.b, o.k);
      const { rows, gap } = compareResults(ra, rn, cs.b, o.k);
      if (rows > 0) {
        console.error(`MISMATCH ${cs.name} d=${cs.d} (query ${q0}): ${rows} rows with different top-${o.k} sets`);
        process.exitCode = 1;
      }
      cs.gap = Math.max(cs.gap ?? 0, gap);
    }
  }
  if (process.exitCode) return;
  console.log('  top-k index sets agree for every case checked\n');

  const rows = [];
  for (const cs of cases) {
    const time = (inst) => timeCalls(inst, cs.calls, cs.b, o.n, cs.d, o.k, o.b);
    // Warm up every instance (tier-up to the optimizing compiler) before timing.
    for (let w = 0; w < 3; w++) for (const inst of [...base, ...next]) time(inst);
    const tb = [],
      tn = [],
      ratios = [];
    for (let r = 0; r < o.rounds; r++) {
      // B N N B, then N B B N: each build runs first, last, after itself and after the other.
      let b0, n0, n1, b1;
      if (r % 2 === 0) {
        b0 = time(base[0]);
        n0 = time(next[0]);
        n1 = time(next[1]);
        b1 = time(base[1]);
      } else {
        n1 = time(next[1]);
        b1 = time(base[1]);
        b0 = time(base[0]);
        n0 = time(next[0]);
      }
      const a = (b0 + b1) / 2,
        c = (n0 + n1) / 2;
      tb.push(a);
      tn.push(c);
      ratios.push(c / a);
    }
    const mb = median(tb),
      mn = median(tn),
      lb = Math.min(...tb),
      ln = Math.min(...tn);
    const gflops = (ms) => (2 * cs.b * o.n * cs.d) / (ms * 1e6);
    rows.push({
      case: `${cs.name} d=${cs.d}`,
      'baseline ms': mb.toFixed(3),
      'new ms': mn.toFixed(3),
      'new GFLOP/s': gflops(mn).toFixed(1),
      'ratio of medians': (mn / mb).toFixed(3),
      'median ratio': median(ratios).toFixed(3),
      'ratio of minima': (ln / lb).toFixed(3),
      'ratio range': `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      'max |Δscore|': cs.gap.toExponential(1),
    });
  }
  console.table(rows);
  console.log('ms = median over rounds of the mean time per call. ratio = new / baseline (< 1: new is faster);');
  console.log('"median ratio" pairs the timings of each round, "ratio of minima" compares the fastest rounds');
  console.log('(contention only ever adds time). max |Δscore| = largest top-k score difference between builds.');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
