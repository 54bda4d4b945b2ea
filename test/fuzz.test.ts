// A standing fuzz suite (fast-check, seeded, bounded in cases and time): model files with bit
// flips, truncations, and header or body mutations whose checksum is fixed up; delimited files
// built from quotes, separators, numbers and odd bytes; API arguments (sizes, k, exclusions); and
// the surfaces added since: update, addItems, export, the vector index and parseEvents.
// Each case must end in a typed TwoTowerError or a correct result: never a raw error, a trap, a
// hang, memory beyond a stated bound, or a changed input file. Case counts are printed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  createModel,
  createIndex,
  loadModel,
  parseEvents,
  train,
  TwoTowerError,
  Vocabulary,
  type Id,
  type IndexId,
  type Model,
  type ParseEventsOptions,
  type TrainEvent,
  type UpdateEvent,
  type UpdateOptions,
} from '../src/index.js';
import { createScorer } from '../src/node/index.js';
import { loadRatingsFile } from '../src/node/ratings-file.js';
import { split, type Tampered } from './model-file-bytes.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';

const SEED = 20261128;
/** Heap a loaded model may hold: a file of a few KB must never make the package allocate more. */
const MEMORY_BOUND = 256 << 20;
const counts: Record<string, number> = {};
const count = (suite: string) => (counts[suite] = (counts[suite] ?? 0) + 1);

/** Runs `act`; a TwoTowerError is an accepted outcome, anything else thrown fails the case. */
async function typedOrOk<T>(act: () => T | Promise<T>): Promise<T | TwoTowerError> {
  try {
    return await act();
  } catch (error) {
    if (error instanceof TwoTowerError) return error;
    throw new Error(`not a TwoTowerError: ${(error as Error)?.stack ?? String(error)}`);
  }
}

let good: Uint8Array;
let model: Model;
let dir: string;

beforeAll(async () => {
  model = await createModel({ ...tinyConfig(), ratingRange: [1, 5] }, tinyFeatures());
  model.fit(tinyBatch(120, 8), { epochs: 1, batchSize: 32 });
  const users = new Vocabulary();
  for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) users.add(key);
  model.setVocabularies({ users: users.freeze() });
  model.metadata = { note: 'fuzz' };
  good = model.toBytes();
  dir = mkdtempSync(join(tmpdir(), 'twotower-fuzz-'));
});

afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `fuzz cases: ${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
});

/** A loaded model must work: finite predictions for its own users and items, and bounded memory. */
async function checkLoaded(bytes: Uint8Array): Promise<void> {
  const result = await typedOrOk(() => loadModel(bytes));
  if (result instanceof TwoTowerError) return;
  try {
    expect(result.memory().memoryBytes).toBeLessThan(MEMORY_BOUND);
    if (result.userCount > 0 && result.itemCount > 0) {
      const p = await typedOrOk(() => result.rows.predict([0, result.userCount - 1], [0, result.itemCount - 1]));
      if (!(p instanceof TwoTowerError)) expect(Array.from(p).every(Number.isFinite)).toBe(true);
      const top = await typedOrOk(() => result.rows.recommend([0], { k: 3, excludeSeen: result.hasTrainingHistory }));
      if (!(top instanceof TwoTowerError)) expect(top.indices.length).toBe(3);
    }
  } finally {
    result.dispose();
  }
}

/** Paths to every value of a JSON tree (arrays capped), for mutations. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.slice(0, 4).forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete at[last];
  else at[last] = value;
  return copy;
}

const odd = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    1,
    2 ** 31,
    1e9,
    6e7,
    -(2 ** 40),
    0.5,
    NaN,
    null,
    '',
    'abc',
    'f64',
    'i32',
    'bag',
    true,
    [],
    {},
    [1, 2, 3],
  ),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.constant(Array.from({ length: 2000 }, () => [[[]]])),
);

describe('model files', () => {
  it('single bit flips anywhere fail the checksum, typed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 0, max: 7 }), async (at, bit) => {
        count('bit flips');
        const bad = Uint8Array.from(good);
        bad[at % bad.length]! ^= 1 << bit;
        const r = await typedOrOk(() => loadModel(bad));
        expect(r).toBeInstanceOf(TwoTowerError);
        expect(['BAD_MODEL_FILE', 'MODEL_FILE_VERSION']).toContain((r as TwoTowerError).code);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('truncations at any length are typed errors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1 << 20 }), async (cut) => {
        count('truncations');
        const r = await typedOrOk(() => loadModel(good.subarray(0, cut % good.length)));
        expect((r as TwoTowerError).code).toBe('BAD_MODEL_FILE');
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('header mutations with the checksum fixed: a typed error or a model that works', async () => {
    const { header, rebuild } = split(good);
    const all = paths(header);
    await fc.assert(
      fc.asyncProperty(fc.nat(), odd, fc.boolean(), async (which, value, remove) => {
        count('header mutations');
        await checkLoaded(rebuild(setAt(header, all[which % all.length]!, value, remove)));
      }),
      { seed: SEED, numRuns: 3000, interruptAfterTimeLimit: 60_000 },
    );
  });

  it('body bytes changed with the checksum fixed: a typed error or a model that works', async () => {
    const { header, body, rebuild } = split(good);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        async (edits) => {
          count('body mutations');
          const changed = Uint8Array.from(body);
          for (const [at, byte] of edits) changed[at % changed.length] = byte;
          await checkLoaded(rebuild(header, changed));
        },
      ),
      { seed: SEED, numRuns: 1500, interruptAfterTimeLimit: 60_000 },
    );
  });
});

/** Pieces of delimited text: separators, quotes, numbers, header names and odd bytes. */
const piece = fc.oneof(
  fc.constantFrom(
    ',',
    ';',
    '\t',
    '|',
    '"',
    '""',
    '\n',
    '\r\n',
    '\r',
    ' ',
    '.',
    '-',
    'e',
    '0x10',
    '1e39',
    'NaN',
    'Infinity',
    '\u00e9',
    '\ufeff',
    '\u0000',
    'userId',
    'movieId',
    'rating',
    'timestamp',
    '::',
  ),
  fc.integer({ min: -5, max: 2000 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.string({ maxLength: 4 }),
);

describe('delimited files', () => {
  it('any text: ratings loaded, or a typed error naming the file; the file is never changed', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(piece, { maxLength: 80 }), async (header, pieces) => {
        count('delimited files');
        const text = (header ? 'userId,movieId,rating\n' : '') + pieces.join('');
        const path = join(dir, `f${n++}.csv`);
        writeFileSync(path, text);
        const r = await typedOrOk(() => loadRatingsFile(path));
        if (r instanceof TwoTowerError) expect(r.message).toMatch(new RegExp(`f${n - 1}\\.csv`));
        else for (const x of r.data.ratings) expect(Number.isFinite(x)).toBe(true);
        expect(readFileSync(path, 'utf8')).toBe(text);
      }),
      { seed: SEED, numRuns: 1500, interruptAfterTimeLimit: 60_000 },
    );
  });
});

describe('API arguments', () => {
  const k = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.constantFrom(0, 1e9, 2 ** 31, NaN, Infinity, 1.5, -1));
  it('recommend and similarItems with any k, users and allow-list: a correct shape or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        k,
        fc.array(fc.integer({ min: -2, max: 9 }), { maxLength: 5 }),
        fc.option(fc.array(fc.integer({ min: -1, max: 10 }), { maxLength: 6 })),
        async (kk, users, allow) => {
          count('recommend arguments');
          const r = await typedOrOk(() => model.rows.recommend(users, { k: kk, allow: allow ?? undefined }));
          if (!(r instanceof TwoTowerError)) {
            expect(r.indices.length).toBe(users.length * kk);
            for (const j of r.indices)
              expect(j === -1 || (j >= 0 && j < model.itemCount && (allow === null || allow.includes(j)))).toBe(true);
          }
          const s = await typedOrOk(() => model.rows.similarItems(users[0] ?? 0, { k: kk }));
          if (!(s instanceof TwoTowerError)) expect(s.indices.length).toBe(kk);
        },
      ),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('the scorer with any shapes, k and exclusions: the reference result or a typed error', async () => {
    const scorer = await createScorer();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -1, max: 5 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 9 }),
        k,
        fc.option(fc.array(fc.integer({ min: -2, max: 32 }), { maxLength: 8 })),
        async (b, n, d, kk, ex) => {
          count('scorer arguments');
          const queries = new Float32Array(Math.max(0, b * d)).map((_, i) => Math.sin(i));
          const items = new Float32Array(n * d).map((_, i) => Math.cos(i));
          const exclude = ex
            ? {
                offsets: Int32Array.from({ length: Math.max(0, b) + 1 }, (_, q) => (q === Math.max(0, b) ? ex.length : 0)),
                ids: Int32Array.from(ex),
              }
            : undefined;
          const r = await typedOrOk(() => scorer.topK(queries, items, d, kk, { exclude }));
          if (!(r instanceof TwoTowerError)) {
            expect(r.indices.length).toBe(b * kk);
            for (const j of r.indices) expect(j >= -1 && j < n).toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
    scorer.close();
  });
});

describe('the surfaces added since (update, add-items, export, index, parseEvents)', () => {
  /** Ids as callers send them: known, new, and values that are not ids at all. */
  const anyId = fc.oneof(
    { arbitrary: fc.constantFrom('u1', 'u2', 'u3', 'i1', 'i2', 'i3', 'new-1', 'new-2', 7), weight: 6 },
    { arbitrary: fc.constantFrom(0, -1, 1.5, NaN, Infinity, '', null, undefined, {}, []), weight: 1 },
    { arbitrary: fc.string({ maxLength: 4 }), weight: 1 },
    { arbitrary: fc.integer({ min: -3, max: 30 }), weight: 1 },
  );
  const anyNumber = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 6 },
    { arbitrary: fc.constantFrom(undefined, NaN, Infinity, -1, 0, 1e30, '4', null), weight: 1 },
    { arbitrary: fc.double(), weight: 1 },
  );
  const anyEvent = fc.record(
    { user: anyId, item: anyId, rating: anyNumber, time: anyNumber, weight: anyNumber },
    { requiredKeys: ['user', 'item', 'rating'] },
  );
  const anyOption = fc.oneof(
    { arbitrary: fc.constantFrom(undefined, 1, 2, 0.001), weight: 6 },
    { arbitrary: odd, weight: 1 },
    { arbitrary: fc.constantFrom(3, 1e9, 'no', false), weight: 1 },
  );

  /** What a caller can observe of a model: sizes and a few predictions (bit patterns). */
  const observe = (m: Model) =>
    JSON.stringify({ users: m.userCount, items: m.itemCount, p: Array.from(m.rows.predict([0, 1, 2], [0, 1, 2])) });

  let byId: Model;
  beforeAll(async () => {
    const events: TrainEvent[] = [];
    for (let u = 1; u <= 6; u++)
      for (let i = 1; i <= 6; i++)
        if ((u + i) % 3 !== 0) events.push({ user: `u${u}`, item: `i${i}`, rating: 1 + ((u * i) % 5) });
    byId = await train(events, { epochs: 2, seed: 3 });
  });
  afterAll(() => byId.dispose());

  it('update with any events and options: a model that works, or a typed error and nothing changed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(anyEvent, { minLength: 1, maxLength: 6 }),
        fc.record({ epochs: anyOption, learningRate: anyOption, batchSize: anyOption }, { requiredKeys: [] }),
        async (events, options) => {
          count('update');
          const before = observe(byId);
          const r = await typedOrOk(() => byId.update(events as UpdateEvent[], options as UpdateOptions));
          if (r instanceof TwoTowerError) expect(observe(byId)).toBe(before);
          else {
            count('update trained');
            expect(Array.from(byId.rows.predict([0], [0])).every(Number.isFinite)).toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: 300, interruptAfterTimeLimit: 30_000 },
    );
  });

  it('addItems with any ids and columns: added rows, or a typed error and nothing changed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(anyId, { maxLength: 4 }),
        fc.option(fc.dictionary(fc.constantFrom('genre', 'id', 'x'), odd)),
        async (ids, columns) => {
          count('add-items');
          const before = observe(byId);
          const r = await typedOrOk(() => byId.addItems({ ids: ids as Id[], columns: (columns ?? {}) as Record<string, never> }));
          if (r instanceof TwoTowerError) expect(observe(byId)).toBe(before);
          else {
            count('add-items added');
            expect(byId.itemCount).toBe(JSON.parse(before).items + r.added);
          }
        },
      ),
      { seed: SEED, numRuns: 300, interruptAfterTimeLimit: 30_000 },
    );
  });

  it('export (ONNX towers and vector files) with any options: bytes, or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom('user', 'item'), odd),
        fc.oneof(fc.constantFrom('jsonl', 'npy'), odd),
        fc.oneof(fc.boolean(), odd, fc.constant(undefined)),
        async (side, format, augment) => {
          count('export');
          const onnx = await typedOrOk(() => byId.toOnnx({ tower: side as 'user' }));
          if (!(onnx instanceof TwoTowerError)) expect(onnx.length).toBeGreaterThan(0);
          const vectors = await typedOrOk(() =>
            byId.exportEmbeddings({ side: side as 'user', format: format as 'npy', augment: augment as boolean }),
          );
          if (!(vectors instanceof TwoTowerError)) {
            // Every known id once (the unknown row 0 has no id and is not exported).
            expect(vectors.count).toBe((side === 'user' ? byId.userCount : byId.itemCount) - 1);
            expect(new Set(vectors.ids).size).toBe(vectors.count);
          }
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('the vector index under any adds, removes and searches: the brute-force ranking, or a typed error and nothing changed', async () => {
    const dim = 3;
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        ids: fc.array(anyId, { maxLength: 3 }),
        values: fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(NaN, Infinity, 0.5)), { maxLength: 10 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), ids: fc.array(anyId, { maxLength: 2 }) }),
      fc.record({
        kind: fc.constant('search' as const),
        k: fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constantFrom(NaN, 1.5, 1e9)),
        exclude: fc.option(fc.array(anyId, { maxLength: 2 })),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
        count('index');
        const index = await createIndex({ dim });
        const truth = new Map<IndexId, number[]>();
        try {
          for (const o of ops) {
            if (o.kind === 'add') {
              const r = await typedOrOk(() => index.add(o.values, o.ids as IndexId[]));
              if (!(r instanceof TwoTowerError))
                o.ids.forEach((id, n) => truth.set(id as IndexId, o.values.slice(n * dim, n * dim + dim)));
            } else if (o.kind === 'remove') {
              const r = await typedOrOk(() => index.remove(o.ids as IndexId[]));
              if (!(r instanceof TwoTowerError)) for (const id of o.ids) truth.delete(id as IndexId);
            } else {
              const query = [1, -0.5, 0.25];
              const r = await typedOrOk(() =>
                index.search(query, o.k, { exclude: (o.exclude ?? undefined) as IndexId[] | undefined }),
              );
              if (r instanceof TwoTowerError) continue;
              const excluded = new Set(o.exclude ?? []);
              const expected = [...truth.entries()]
                .filter(([id]) => !excluded.has(id))
                .map(([, v]) => Math.fround(v[0]! * 1 + v[1]! * -0.5 + v[2]! * 0.25))
                .sort((a, b) => b - a)
                .slice(0, o.k);
              expect(r[0]!.map((h) => h.score)).toEqual(expected);
              for (const h of r[0]!) expect(truth.has(h.id)).toBe(true);
            }
            expect(index.size).toBe(truth.size);
          }
        } finally {
          index.close();
        }
      }),
      { seed: SEED, numRuns: 500, interruptAfterTimeLimit: 30_000 },
    );
  });

  it('parseEvents with any text and options: events with finite numbers, or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(piece, { maxLength: 80 }),
        fc.record(
          {
            header: fc.oneof(fc.constantFrom(true, false, 'auto'), odd),
            delimiter: fc.oneof(fc.constantFrom('auto', ',', '\t', '::'), odd),
          },
          { requiredKeys: [] },
        ),
        async (header, pieces, options) => {
          count('parseEvents');
          const text = (header ? 'user,item,rating\n' : '') + pieces.join('');
          const r = await typedOrOk(() => parseEvents(text, options as ParseEventsOptions));
          if (r instanceof TwoTowerError) return;
          for (const e of r.events) {
            for (const v of [e.rating, e.time, e.weight]) if (v !== undefined) expect(Number.isFinite(v)).toBe(true);
            expect(typeof e.user === 'string' && typeof e.item === 'string').toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: 1500, interruptAfterTimeLimit: 30_000 },
    );
  });
});

describe("the probe's tampered headers (checksum fixed), one by one", () => {
  const tamper = (edit: (h: Tampered) => void): Uint8Array => {
    const { header, rebuild } = split(good);
    const h = structuredClone(header);
    edit(h);
    return rebuild(h);
  };
  const cases: [string, (h: Tampered) => void, RegExp][] = [
    [
      'a renamed section field',
      (h) => {
        h.seen.iDs = h.seen.ids;
        delete h.seen.ids;
      },
      /seen\.ids is missing/,
    ],
    [
      'an f64 section type',
      (h) => {
        h.parameters.data.type = 'f64';
      },
      /parameters\.data\.type must be "f32"/,
    ],
    [
      'a negative section length',
      (h) => {
        h.parameters.data.length = -4;
      },
      /parameters\.data\.length must be an integer/,
    ],
    [
      'a vocabulary of 60 million ids',
      (h) => {
        h.config.user.features[0].vocabSize = 6e7;
      },
      /parameter block "user\.user\.embedding" is \d+ values, expected 180000000/,
    ],
    [
      'vocabulary keys as a string',
      (h) => {
        h.vocabularies.user.keys = 'abcdef';
      },
      /vocabularies\.user\.keys must be a list of strings/,
    ],
    [
      'optimizerSteps −1',
      (h) => {
        h.optimizerSteps = -1;
      },
      /optimizerSteps must be an integer/,
    ],
    [
      'optimizerSteps missing',
      (h) => {
        delete h.optimizerSteps;
      },
      /optimizerSteps must be an integer/,
    ],
  ];
  it.each(cases)('%s', async (_label, edit, message) => {
    const started = performance.now();
    const r = await typedOrOk(() => loadModel(tamper(edit), { name: 'm.ttm' }));
    expect(r).toBeInstanceOf(TwoTowerError);
    expect((r as TwoTowerError).code).toBe('BAD_MODEL_FILE');
    expect((r as TwoTowerError).message).toMatch(message);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a header nested 100,000 deep', async () => {
    const { header, rebuild } = split(good);
    const text = JSON.stringify({ ...header, metadata: { deep: '@' } }).replace('"@"', '['.repeat(100_000) + ']'.repeat(100_000));
    const r = await typedOrOk(() => loadModel(rebuild(text)));
    expect((r as TwoTowerError).code).toBe('BAD_MODEL_FILE');
  });

  it('out-of-range seen offsets and NaN parameters are refused', async () => {
    const { header, body, rebuild } = split(good);
    const h = header as { seen: { offsets: { offset: number } }; parameters: { data: { offset: number } } };
    const seenOffsets = Uint8Array.from(body);
    new DataView(seenOffsets.buffer).setInt32(h.seen.offsets.offset + 4, 1e6, true);
    expect(((await typedOrOk(() => loadModel(rebuild(header, seenOffsets)))) as TwoTowerError).message).toMatch(/seen/);
    const nan = Uint8Array.from(body);
    new DataView(nan.buffer).setFloat32(h.parameters.data.offset, NaN, true);
    expect(((await typedOrOk(() => loadModel(rebuild(header, nan)))) as TwoTowerError).message).toMatch(
      /parameter value 0 is NaN/,
    );
  });
});
