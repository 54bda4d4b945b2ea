// Batch scoring with top-10 over 100,000 items of width 64, for 256 queries and for 1 query:
// twotower (1 and 2 threads, f32 and the int8 index; for one query also f32 over the interleaved
// copy of the items and over the rows, each asked for), TensorFlow.js ('wasm' and 'cpu':
// matMul against the items stored pre-transposed, its fastest layout, then topk), ONNX Runtime
// (onnxruntime-web's WASM backend and onnxruntime-node's native kernels, 1 and 2 threads, on a
// MatMul + TopK graph), a plain JavaScript loop, and, for one query, the memory-bandwidth floor:
// the time to read the item matrix once. Every contender's top-10 is checked against
// twotower's before timing (the int8 index reports its recall@10 instead).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Case } from './harness.js';
import { TFJS_WASM, ORT_NODE } from './harness.js';
import { createScorer } from '../src/node/index.js';
import { loadExtraKernels } from '../test/extra-kernels.js';
import { Random } from '../src/util/random.js';
import { tf, useBackend } from './tfjs.js';
import { matmulTopKModel } from './onnx-graph.js';

export const N = 100_000;
export const D = 64;
const K = 10;

/** The top-k sets of two results must agree (the order of near-equal scores may differ between
 *  summation orders, so rows are compared as sets, and each score must match within 1e-3). */
function sameTopK(name: string, want: Int32Array, got: ArrayLike<number | bigint>, b: number): void {
  let mismatches = 0;
  for (let r = 0; r < b; r++) {
    const a = new Set(Array.from(want.subarray(r * K, r * K + K)));
    for (let c = 0; c < K; c++) if (!a.has(Number(got[r * K + c]))) mismatches++;
  }
  // Random Gaussian scores leave 10th/11th near-ties: allow one swap in a thousand entries.
  if (mismatches > Math.max(1, (b * K) / 1000))
    throw new Error(`${name}: ${mismatches} of ${b * K} top-10 entries differ from twotower's`);
}

function jsTopK(q: Float32Array, items: Float32Array, b: number): Int32Array {
  const out = new Int32Array(b * K);
  const best = new Float64Array(K),
    idx = new Int32Array(K);
  for (let r = 0; r < b; r++) {
    best.fill(-Infinity);
    idx.fill(-1);
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += q[r * D + c]! * items[j * D + c]!;
      if (s <= best[K - 1]!) continue;
      let p = K - 1;
      while (p > 0 && best[p - 1]! < s) {
        best[p] = best[p - 1]!;
        idx[p] = idx[p - 1]!;
        p--;
      }
      best[p] = s;
      idx[p] = j;
    }
    out.set(idx, r * K);
  }
  return out;
}

export interface ScoringSuite {
  cases: Case[];
  close(): Promise<void>;
}

export async function scoringCases(options: { plainJs?: boolean } = {}): Promise<ScoringSuite> {
  const random = new Random(11);
  const items = Float32Array.from({ length: N * D }, () => random.normal());
  const itemsT = new Float32Array(D * N);
  for (let j = 0; j < N; j++) for (let c = 0; c < D; c++) itemsT[c * N + j] = items[j * D + c]!;
  const closers: (() => unknown)[] = [];
  const cases: Case[] = [];

  const scorers = {
    one: await createScorer({ threads: 1 }),
    two: await createScorer({ threads: 2 }),
    int8: await createScorer({ quantize: 'int8' }),
    int8two: await createScorer({ quantize: 'int8', threads: 2 }),
    // A lone query: the interleaved copy of the items (score_topk_il, the default on V8 13+:
    // Node 24) and the rows (score_topk, the default on Node 20 and 22), each asked for.
    il: await createScorer({ threads: 1, interleave: true }),
    ilTwo: await createScorer({ threads: 2, interleave: true }),
    rows: await createScorer({ threads: 1, interleave: false }),
    rowsTwo: await createScorer({ threads: 2, interleave: false }),
  };
  for (const s of Object.values(scorers)) {
    s.setItems(items, D);
    closers.push(() => s.close());
  }

  // TensorFlow.js: items pre-transposed (d × N) on each backend.
  await useBackend('wasm');
  const tfWasm = { itemsT: tf.tensor2d(itemsT, [D, N]) };
  await useBackend('cpu');
  const tfCpu = { itemsT: tf.tensor2d(itemsT, [D, N]) };
  closers.push(() => {
    tfWasm.itemsT.dispose();
    tfCpu.itemsT.dispose();
  });

  // ONNX Runtime: one model, sessions per runtime and thread count.
  const model = matmulTopKModel(itemsT, D, N, K);
  const ortNode = await import('onnxruntime-node');
  const ortWeb = await import('onnxruntime-web');
  const require = createRequire(import.meta.url);
  ortWeb.env.wasm.wasmPaths = dirname(require.resolve('onnxruntime-web')) + '/';
  // numThreads is one setting for the whole process, read when the first session starts: a
  // session's intraOpNumThreads does not change it. (Set to 2 here before, it made the row
  // labelled "1 thread" run on two.) So onnxruntime-web is measured on one thread only.
  ortWeb.env.wasm.numThreads = 1;
  // ONNX Runtime's intra-op threads spin between runs by default, which would steal the core the
  // next contender runs on: make them sleep, so that the interleaved runs measure each alone.
  const noSpin = { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } };
  const sessions = {
    node1: await ortNode.InferenceSession.create(model, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      ...noSpin,
    }),
    node2: await ortNode.InferenceSession.create(model, {
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      ...noSpin,
    }),
    web1: await ortWeb.InferenceSession.create(model, { intraOpNumThreads: 1, executionProviders: ['wasm'], ...noSpin }),
  };
  closers.push(async () => {
    for (const s of Object.values(sessions)) await s.release();
  });

  // The bandwidth floor: the f32 item matrix streamed once by a SIMD read loop (a kernel of the
  // benchmark-only extras module, not of the shipped ones).
  const floor = await loadExtraKernels();
  const itemsPtr = floor.alloc(items.length * 4);
  floor.floats(itemsPtr, items.length).set(items);
  // The int8 copy's floor: the same number of rows at d bytes each (padded as the index pads).
  const int8Bytes = N * Math.ceil(D / 16) * 16;
  const int8Ptr = floor.alloc(int8Bytes);
  floor.bytes(int8Ptr, int8Bytes).set(Uint8Array.from({ length: int8Bytes }, (_, i) => (i * 37) & 127));

  for (const b of [256, 1]) {
    const name = `top-10, ${b} × ${N.toLocaleString('en-US')} items × d=${D}`;
    const q = Float32Array.from({ length: b * D }, () => random.normal());
    const flops = 2 * b * N * D;
    const reference = scorers.one.topK(q, null, D, K).indices;
    const qWasm = (await useBackend('wasm'), tf.tensor2d(q, [b, D]));
    const qCpu = (await useBackend('cpu'), tf.tensor2d(q, [b, D]));
    closers.push(() => {
      qWasm.dispose();
      qCpu.dispose();
    });
    const tfTopK = async (backend: 'wasm' | 'cpu') => {
      await useBackend(backend);
      const { qt, itemsT: it } = backend === 'wasm' ? { qt: qWasm, itemsT: tfWasm.itemsT } : { qt: qCpu, itemsT: tfCpu.itemsT };
      const result = tf.tidy(() => tf.topk(tf.matMul(qt, it), K));
      const idx = result.indices.dataSync();
      result.values.dispose();
      result.indices.dispose();
      return idx;
    };
    const ortRun = async (
      session: { run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>> },
      Tensor: new (t: 'float32', d: Float32Array, dims: number[]) => unknown,
    ) => {
      const out = await session.run({ queries: new Tensor('float32', q, [b, D]) });
      return out.indices!.data as BigInt64Array;
    };
    const tw = (label: string, scorer: typeof scorers.one, exact: boolean): Case => ({
      name,
      impl: label,
      flops,
      run: () => scorer.topK(q, null, D, K),
      check: () => {
        const got = scorer.topK(q, null, D, K).indices;
        if (exact) {
          sameTopK(label, reference, got, b);
          return undefined;
        }
        let hits = 0;
        for (let r = 0; r < b; r++) {
          const want = new Set(reference.subarray(r * K, r * K + K));
          for (let c = 0; c < K; c++) hits += want.has(got[r * K + c]!) ? 1 : 0;
        }
        return `recall@10 ${(hits / (b * K)).toFixed(4)}`;
      },
    });
    cases.push(
      tw('twotower 1 thread', scorers.one, true),
      tw('twotower 2 threads', scorers.two, true),
      tw('twotower int8, 1 thread', scorers.int8, false),
      tw('twotower int8, 2 threads', scorers.int8two, false),
      {
        name,
        impl: TFJS_WASM,
        flops,
        run: () => tfTopK('wasm'),
        check: async () => sameTopK(TFJS_WASM, reference, await tfTopK('wasm'), b),
      },
      {
        name,
        impl: 'TensorFlow.js cpu',
        flops,
        slow: b > 1,
        run: () => tfTopK('cpu'),
        check: async () => sameTopK('tfjs cpu', reference, await tfTopK('cpu'), b),
      },
      {
        name,
        impl: ORT_NODE,
        flops,
        run: () => ortRun(sessions.node1, ortNode.Tensor as never),
        check: async () => sameTopK(ORT_NODE, reference, await ortRun(sessions.node1, ortNode.Tensor as never), b),
      },
      {
        name,
        impl: 'onnxruntime-node 2 threads',
        flops,
        run: () => ortRun(sessions.node2, ortNode.Tensor as never),
        check: async () => sameTopK('ort-node 2', reference, await ortRun(sessions.node2, ortNode.Tensor as never), b),
      },
      {
        name,
        impl: 'onnxruntime-web 1 thread',
        flops,
        run: () => ortRun(sessions.web1, ortWeb.Tensor as never),
        check: async () => sameTopK('ort-web 1', reference, await ortRun(sessions.web1, ortWeb.Tensor as never), b),
      },
    );
    if (options.plainJs !== false) {
      cases.push({
        name,
        impl: 'plain JavaScript loop',
        flops,
        slow: b > 1,
        run: () => jsTopK(q, items, b),
        check: () => sameTopK('plain JS', reference, jsTopK(q, items, b), b),
      });
    }
    if (b === 1) {
      cases.push(
        tw('twotower 1 thread, interleaved (interleave: true)', scorers.il, true),
        tw('twotower 2 threads, interleaved (interleave: true)', scorers.ilTwo, true),
        tw('twotower 1 thread, rows (interleave: false)', scorers.rows, true),
        tw('twotower 2 threads, rows (interleave: false)', scorers.rowsTwo, true),
        {
          name,
          impl: 'bandwidth floor, f32 items (read once, 8 chains)',
          bytes: items.length * 4,
          run: () => floor.kernels.stream_sum(itemsPtr, items.length),
        },
        {
          name,
          impl: 'bandwidth floor, int8 items (read once, 8 chains)',
          bytes: int8Bytes,
          run: () => floor.kernels.stream_sum_i8(int8Ptr, int8Bytes),
        },
      );
    }
  }
  return {
    cases,
    close: async () => {
      for (const c of closers) await c();
      floor.free(itemsPtr);
      floor.free(int8Ptr);
    },
  };
}
