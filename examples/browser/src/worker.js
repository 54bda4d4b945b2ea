// The model's worker: it owns the data and the model, so training (and the kernels' own threads)
// never blocks the page. The page sends requests { id, type, ... } and gets { id, result } or
// { id, error }; while training it also gets { type: 'epoch' } and { type: 'batch' } messages.
import { train, parseEvents, generateSynthetic, loadModel, loadBundle, createModel, TwoTowerError } from 'twotower';
import { syntheticTitles, readItemTitles, isTitleFile } from './titles.js';

/** @type {{ events: import('twotower').TrainEvent[], test: import('twotower').TrainEvent[], source: string, floorRmse?: number } | null} */
let data = null;
/** @type {import('twotower').Model | null} */
let model = null;
/** The files dropped last, as text, to read again with other columns. @type {{ name: string, text: string }[] | null} */
let texts = null;
/**
 * "Your taste": the model's serving bundle, loaded as a device would load it (model.toBundle()
 * then loadBundle: item vectors in int8, no other people's rows), and the person's handle on it.
 * @type {import('twotower').Model | null}
 */
let bundle = null;
/** @type {{ bytes: number, loadMs: number } | null} */
let bundleInfo = null;
/** @type {import('twotower').Personal | null} */
let personal = null;

const handlers = {
  /** Built-in synthetic ratings with planted structure (the package's generator), in string ids. */
  synthetic({ users = 300, items = 200, ratingsPerUser = 40, seed = 7 }) {
    const s = generateSynthetic({ users, items, ratingsPerUser, seed });
    const toEvents = (part) =>
      Array.from(part.users, (u, r) => ({ user: `user-${u}`, item: `item-${part.items[r]}`, rating: part.ratings[r] }));
    data = {
      events: toEvents(s.train),
      test: toEvents(s.test),
      source: 'synthetic',
      heldOut: "the generator's test split",
      floorRmse: s.floorRmse,
      // Readable titles for the page's search box ("Silent Harbor (1987)"): invented, one per item.
      labels: syntheticTitles(items),
    };
    return describeData();
  },

  /**
   * Dropped CSV/TSV files: the CLI's sniffing (delimiter, header, columns), every line checked.
   * A file named like a test split (u1.test, test.csv) is held out for testing; otherwise a
   * seeded 10% of the events is. `columns` (0-based fields picked in the page, and whether the
   * first line is a header) overrides the recognised columns; when the columns are not
   * recognised the answer is `{ pick }`: the file's layout, for the page to ask which is which.
   */
  async text({ files, columns }) {
    texts = files;
    data = null;
    const parsed = [];
    // MovieLens u.item beside u.data: titles for the items (id|title|date|…), not events.
    const titles = files.filter(isTitleFile);
    for (const { text, name } of files.filter((f) => !isTitleFile(f))) {
      const options = columns ? { name, columns: columns.fields, header: columns.header } : { name };
      try {
        parsed.push({ name, ...(await parseEvents(text, options)) });
      } catch (error) {
        if (error?.code !== 'MISSING_COLUMN') throw error;
        return { pick: { name, ...(await layout(text, name)) } };
      }
    }
    const isTest = (p) => /(^|[^a-z])test([^a-z]|$)/i.test(p.name);
    const trainFiles = parsed.filter((p) => !isTest(p)),
      testFiles = parsed.filter(isTest);
    if (trainFiles.length === 0)
      throw new Error('every file looks like a test split (its name says test): add the training file');
    let events = trainFiles.flatMap((p) => p.events),
      test = testFiles.flatMap((p) => p.events);
    let heldOut = testFiles.map((p) => p.name).join(', ');
    if (test.length === 0) {
      [events, test] = holdOut(events, 0.1, 7);
      heldOut = '10% of the events, at random';
    }
    const first = trainFiles[0];
    data = { events, test, source: trainFiles.map((p) => p.name).join(', '), heldOut };
    if (titles.length) data.labels = titles.flatMap((f) => readItemTitles(f.text));
    return {
      ...describeData(),
      delimiter: first.delimiter,
      header: first.header,
      hasRatings: first.hasRatings,
      columns: first.columns,
      // What parseEvents decided by itself (an inferred item column, a count column as confidence).
      notes: first.notes ?? [],
      layout: await layout(files.find((f) => f.name === first.name).text, first.name),
    };
  },

  /** The files dropped last, read again with the columns picked in the page. */
  columns({ columns }) {
    if (!texts) throw new Error('drop a file first');
    return handlers.text({ files: texts, columns });
  },

  async train({ epochs, threads, stop }) {
    if (!data) throw new Error('load data first');
    model?.dispose();
    model = null;
    const stopFlag = stop ? new Int32Array(stop) : null;
    let lastBatch = 0;
    const rating = data.events.every((e) => e.rating !== undefined);
    model = await train(data.events, {
      epochs,
      threads,
      // Retrieval models read each user's last 20 items, so that a "new user" can be served
      // from a few picked items (recommendFromHistory); rating models read their rated items.
      ...(rating ? {} : { history: 20 }),
      onBatchEnd: ({ epoch, loss, phase, batch, batches }) => {
        const now = performance.now();
        if (now - lastBatch < 50 && batch + 1 < batches) return;
        lastBatch = now;
        postMessage({ type: 'batch', phase, epoch, batch, batches, loss });
      },
      onEpochEnd: (info) => {
        postMessage({ type: 'epoch', info });
        return !(stopFlag && Atomics.load(stopFlag, 0) === 1);
      },
    });
    if (data.labels?.length) model.setLabels({ items: data.labels });
    await makeBundle();
    return summary();
  },

  embeddings() {
    const m = need();
    const ids = m.vocabularies.items.keys();
    // Row i + 1 of the tables holds ids[i] (row 0 is the unknown-id bucket).
    return { ids, vectors: m.rows.itemEmbeddings(Int32Array.from(ids, (_, i) => i + 1)), dim: m.dim };
  },

  users({ limit = 500 }) {
    return need().vocabularies.users.keys().slice(0, limit);
  },

  recommend({ user, k = 10 }) {
    return need()
      .recommend(user, { k, explain: true })
      .map(({ id, score, label, words, reasons }) => ({ id, score, label, words, reasons }));
  },

  fromHistory({ items, k = 10 }) {
    return need().recommendFromHistory(items, { k });
  },

  similar({ item, k = 10 }) {
    return need().similarItems(item, { k });
  },

  /** Milliseconds per query over the whole catalogue: one user at a time, and 64 at once. */
  speed() {
    const m = need();
    const users = m.vocabularies.users.keys();
    const one = users[0];
    const batch = Array.from({ length: 64 }, (_, i) => users[i % users.length]);
    m.recommend(batch, { k: 10 }); // warm up (and let the kernels tier up)
    let t = performance.now(),
      runs = 0;
    for (; performance.now() - t < 300 || runs < 5; runs++) m.recommend(one, { k: 10 });
    const single = (performance.now() - t) / runs;
    t = performance.now();
    runs = 0;
    for (; performance.now() - t < 300 || runs < 3; runs++) m.recommend(batch, { k: 10 });
    const batched = (performance.now() - t) / runs / batch.length;
    return { threads: m.threads, kernels: m.kernels, items: idCount(m.vocabularies.items), single, batched };
  },

  save() {
    return need().toBytes({ optimizerState: false });
  },

  async load({ bytes }) {
    model?.dispose();
    model = null;
    model = await loadModel(bytes);
    await makeBundle();
    return summary();
  },

  // ---- "Your taste": everything below runs on the serving bundle, in this worker, offline ----

  /** Every item with its label (null without one), for the page's search box. */
  catalogue() {
    const b = needBundle();
    const labels = b.labels.items;
    return b.vocabularies.items.keys().map((id) => ({ id, label: labels.get(id) ?? null }));
  },

  /**
   * The person's picked items → their handle (personalised on the bundle) and its top k, each
   * with its reasons in words. A pick is a like: on a rating model, the top of its rating range (see pickedEvents).
   * `ms`: personalise + recommend; `wordsMs`: the explanations after it (leave-one-out refits).
   */
  taste({ items, k = 10 }) {
    const b = needBundle();
    personal = null;
    if (items.length === 0) return { recs: [], ms: 0, wordsMs: 0 };
    const t0 = performance.now();
    personal = b.personalize(pickedEvents(b, items), { unknownItems: 'skip' });
    const top = personal.recommend({ k });
    const t1 = performance.now();
    const recs = top.map((r) => {
      const why = personal.explain(r.id, { because: 2 });
      // The score before clamping to the rating range: a few likes lift the person's bias so far
      // that every predicted rating would read as the maximum (the order is the same).
      return { id: r.id, label: r.label ?? null, score: why.score, words: why.words };
    });
    return { recs, ms: t1 - t0, wordsMs: performance.now() - t1, mode: personal.mode };
  },

  /** The handle's bytes, for IndexedDB (null without one). */
  tasteBytes() {
    return personal ? personal.toBytes() : null;
  },

  /** A handle kept in IndexedDB: its picked items, or null when it belongs to another model. */
  restoreTaste({ bytes }) {
    try {
      personal = needBundle().personal(bytes);
    } catch (error) {
      if (error?.code === 'BAD_MODEL_FILE') return null;
      throw error;
    }
    return [...new Set(personal.events.map((e) => String(e.item)))];
  },

  /**
   * Timing (the page's test and the bench read it): the median of `runs` personalise + recommend
   * from `picks` items drawn from the catalogue, on this model's bundle, or (`items`) on a
   * synthetic bundle of that many items (random vectors, dim 64: the cost does not depend on
   * their values), with that bundle's load time.
   */
  async tasteBench({ picks = 20, runs = 15, items = 0 }) {
    let b = bundle,
      made = null,
      info = bundleInfo;
    if (items > 0) {
      made = await createModel({
        dim: 64,
        user: { features: [{ kind: 'id', name: 'user', vocabSize: 1, dim: 64 }], project: false },
        item: { features: [{ kind: 'id', name: 'item', vocabSize: items, dim: 64 }], project: false },
      });
      // One step on two events: a retrieval model as far as personalisation is concerned.
      made.fit(
        { users: Int32Array.of(0, 0), items: Int32Array.of(0, 1), ratings: Float32Array.of(1, 1) },
        { loss: 'softmax', epochs: 1, batchSize: 2 },
      );
      const bytes = made.toBundle();
      const t0 = performance.now();
      b = await loadBundle(bytes);
      info = { bytes: bytes.length, loadMs: performance.now() - t0 };
    }
    if (!b) throw new Error('train or load a model first');
    const ids = b.vocabularies?.items?.keys() ?? Array.from({ length: items }, (_, i) => i);
    let state = 11;
    const draw = () => ids[(state = (Math.imul(state, 1103515245) + 12345) >>> 0) % ids.length];
    const times = [],
      words = [];
    for (let r = 0; r < runs; r++) {
      const picked = Array.from({ length: picks }, draw);
      const t0 = performance.now();
      const handle = b.personalize(pickedEvents(b, picked));
      const top = handle.recommend({ k: 10 });
      const t1 = performance.now();
      for (const x of top) handle.explain(x.id, { because: 2 });
      times.push(t1 - t0);
      words.push(performance.now() - t1);
    }
    const median = (xs) => xs.sort((x, y) => x - y)[xs.length >> 1];
    const result = { items: ids.length, picks, runs, medianMs: median(times), wordsMedianMs: median(words), bundle: info };
    if (made) {
      b.dispose();
      made.dispose();
    }
    return result;
  },
};

/** Picked items as events: a like (on a rating model, the top of its rating range, in whole stars where it has room). */
function pickedEvents(b, items) {
  const range = b.trainedWith && !b.trainedWith.implicit ? (b.config.ratingRange ?? [1, 5]) : null;
  const top = range && Math.floor(range[1]) >= range[0] + 0.75 * (range[1] - range[0]) ? Math.floor(range[1]) : range?.[1];
  return items.map((item) => (range ? { item, rating: top } : { item }));
}

/** The serving bundle of the model, timed as a page loads it. */
async function makeBundle() {
  bundle?.dispose();
  bundle = null;
  personal = null;
  const bytes = need().toBundle();
  const t0 = performance.now();
  bundle = await loadBundle(bytes);
  bundleInfo = { bytes: bytes.length, loadMs: performance.now() - t0 };
}

function needBundle() {
  if (!bundle) throw new Error('train or load a model first');
  return bundle;
}

/** Ids in a vocabulary: its rows less the unknown-id row 0. */
const idCount = (vocabulary) => vocabulary.size - 1;

function need() {
  if (!model) throw new Error('train or load a model first');
  return model;
}

function describeData() {
  const users = new Set(data.events.map((e) => e.user)).size;
  const items = new Set(data.events.map((e) => e.item)).size;
  return {
    source: data.source,
    events: data.events.length,
    test: data.test.length,
    heldOut: data.heldOut,
    users,
    items,
    floorRmse: data.floorRmse,
  };
}

/**
 * How a file is laid out, for picking its columns: its header (null if it has none), how many
 * fields a line has, and the first data line's fields as examples. Read by parseEvents itself
 * (first two lines, user and item taken as fields 0 and 1), so the delimiter and header are
 * recognised exactly as they are for the whole file.
 */
async function layout(text, name) {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .slice(0, 2);
  const probe = await parseEvents(lines.join('\n'), { name, columns: { user: 0, item: 1 } });
  const sample = (lines[probe.header ? 1 : 0] ?? '').split(probe.delimiter).map((field) => field.trim());
  return { header: probe.header, count: probe.header?.length ?? sample.length, sample };
}

/** A seeded random split: `fraction` of the events for testing, the rest for training. */
function holdOut(events, fraction, seed) {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296;
  const train = [],
    test = [];
  for (const e of events) (next() < fraction ? test : train).push(e);
  return [train, test];
}

/**
 * The model on the held-out events: RMSE for a rating model; for a retrieval model Recall@20
 * (the share of each test user's held-out items in their top 20 unseen items, averaged over up
 * to 2,000 users). Events with an id the model has not seen are left out and counted.
 */
function testScore(m) {
  const users = m.vocabularies.users,
    items = m.vocabularies.items;
  const known = data.test.filter((e) => users.has(String(e.user)) && items.has(String(e.item)));
  if (known.length === 0) return undefined;
  if (m.trainedWith?.loss === 'mse') {
    let se = 0;
    for (const e of known) se += (m.predict(e.user, e.item) - e.rating) ** 2;
    return {
      metric: 'RMSE',
      value: Math.sqrt(se / known.length),
      events: known.length,
      skipped: data.test.length - known.length,
    };
  }
  const byUser = new Map();
  for (const e of known) byUser.set(String(e.user), (byUser.get(String(e.user)) ?? new Set()).add(String(e.item)));
  let sum = 0,
    n = 0;
  for (const [user, wanted] of [...byUser].slice(0, 2000)) {
    const top = m.recommend(user, { k: 20 });
    sum += top.filter((r) => wanted.has(r.id)).length / Math.min(20, wanted.size);
    n++;
  }
  return { metric: 'Recall@20', value: sum / n, events: known.length, users: n, skipped: data.test.length - known.length };
}

/** What the page shows about the model: its size, threads, and its score on the held-out events. */
function summary() {
  const m = need();
  return {
    users: idCount(m.vocabularies.users),
    items: idCount(m.vocabularies.items),
    dim: m.dim,
    threads: m.threads,
    kernels: m.kernels,
    loss: m.trainedWith?.loss,
    test: data?.test.length ? testScore(m) : undefined,
    floorRmse: data?.floorRmse,
    bundle: bundleInfo,
  };
}

onmessage = async ({ data: request }) => {
  const { id, type, ...args } = request;
  try {
    const result = await handlers[type](args);
    postMessage({ id, result }, result instanceof Uint8Array ? [result.buffer] : []);
  } catch (error) {
    const code = error instanceof TwoTowerError ? error.code : undefined;
    postMessage({ id, error: { message: error.message, code } });
  }
};
postMessage({ type: 'ready', isolated: self.crossOriginIsolated === true });
