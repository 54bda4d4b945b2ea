// Runs inside a dedicated Web Worker of a cross-origin isolated page: a 2-thread scorer (whose
// pool starts nested Web Workers) against a 1-thread scorer on the same data, and a model
// trained on 2 threads against one trained on 1.
import * as tt from '/dist/twotower.browser.js';

self.onmessage = async (event) => {
  if (event.data === 'missing-worker-script') {
    // A worker script that does not load must reject createScorer, typed, within seconds.
    const started = Date.now();
    try {
      await tt.createScorer({ threads: 2, workerUrl: '/no-such-worker.js' });
      self.postMessage({ error: 'createScorer resolved' });
    } catch (error) {
      self.postMessage({ code: error.code, message: error.message, ms: Date.now() - started });
    }
    return;
  }
  if (event.data === 'train') {
    // A model trained with the in-batch softmax on 2 threads (nested Web Workers) against 1 thread.
    try {
      let seed = 3;
      const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const n = 4000;
      const data = {
        users: Int32Array.from({ length: n }, () => Math.floor(next() * 500)),
        items: Int32Array.from({ length: n }, () => Math.floor(300 * next() ** 2)),
        ratings: new Float32Array(n),
      };
      const config = {
        dim: 16,
        seed: 5,
        user: { features: [{ kind: 'id', name: 'u', vocabSize: 500, dim: 16 }], hidden: [32] },
        item: { features: [{ kind: 'id', name: 'i', vocabSize: 300, dim: 16 }], hidden: [32] },
      };
      const one = await tt.createModel(config),
        two = await tt.createModel(config, { threads: 2 });
      const options = { loss: 'softmax', epochs: 2, batchSize: 256 };
      one.fit(data, options);
      const b = two.fit(data, options);
      const pa = one.parameters(),
        pb = two.parameters();
      const same = Object.keys(pa).every((k) => pa[k].every((x, i) => Object.is(x, pb[k][i])));
      self.postMessage({ threads: two.threads, same, losses: b.history.map((h) => h.loss), kernels: two.kernels });
      one.dispose();
      two.dispose();
    } catch (error) {
      self.postMessage({ error: String((error && error.stack) || error) });
    }
    return;
  }
  try {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const d = 32,
      n = 30_000,
      b = 5,
      k = 10;
    const items = Float32Array.from({ length: n * d }, next),
      queries = Float32Array.from({ length: b * d }, next);
    const one = await tt.createScorer({ threads: 1 }),
      two = await tt.createScorer({ threads: 2 });
    const a = one.topK(queries, items, d, k),
      c = two.topK(queries, items, d, k);
    const same = a.indices.every((x, i) => x === c.indices[i]) && a.scores.every((x, i) => x === c.scores[i]);
    self.postMessage({
      threads: two.threads,
      same,
      isolated: self.crossOriginIsolated,
      first: Array.from(c.indices.subarray(0, k)),
    });
    one.close();
    two.close();
  } catch (error) {
    self.postMessage({ error: String((error && error.stack) || error) });
  }
};
