// A consumer's code, as the README tells it: events in its own ids → a model → recommendations
// by id, the same model trained on 2 threads, a 2-thread scorer, and events parsed from a quoted CSV. Run by test/consumer.test.ts in Node (installed from the packed
// tarball, plain and bundled by esbuild) and, bundled for the browser, inside a Web Worker of a
// cross-origin isolated page. Prints (or posts) one JSON result.
import { train, createScorer, parseEvents } from 'twotower';

export async function run() {
  const events = [];
  for (let i = 0; i < 600; i++) events.push({ user: `u${i % 40}`, item: `film-${(i * 7) % 60}` });
  const model = await train(events, { epochs: 3 });
  const top = model.recommend('u3', { k: 5 });
  const threaded = await train(events, { epochs: 3, threads: 2 });
  const sameModel = JSON.stringify(threaded.recommend('u3', { k: 5 })) === JSON.stringify(top);
  const trainThreads = threaded.threads;
  threaded.dispose();
  let seed = 3;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const items = Float32Array.from({ length: 20_000 * 16 }, next);
  const queries = Float32Array.from({ length: 4 * 16 }, next);
  const one = await createScorer({ threads: 1 });
  const two = await createScorer({ threads: 2 });
  const a = one.topK(queries, items, 16, 10);
  const b = two.topK(queries, items, 16, 10);
  const same = a.indices.every((x, i) => x === b.indices[i]) && a.scores.every((x, i) => x === b.scores[i]);
  // A quoted CSV takes parseEvents' csv-parse path, a dynamic import each bundler must follow.
  const parsed = (await parseEvents('user,item,rating\n"a, b",x,4\nc,"y\nz",5\n')).events;
  const result = {
    top: top.map((x) => x.id),
    kernels: model.kernels,
    threads: two.threads,
    same,
    trainThreads,
    sameModel,
    parsed,
  };
  one.close();
  two.close();
  model.dispose();
  return result;
}
