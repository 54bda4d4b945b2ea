// Runs inside a dedicated Web Worker of a cross-origin isolated page: a 2-thread scorer (whose
// pool starts nested Web Workers) against a 1-thread scorer on the same data.
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
