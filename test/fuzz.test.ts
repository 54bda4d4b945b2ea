// A standing fuzz suite (fast-check, seeded, bounded in cases and time): model files with bit
// flips, truncations, and header or body mutations whose checksum is fixed up; delimited files
// built from quotes, separators, numbers and odd bytes; API arguments (sizes, k, exclusions).
// Each case must end in a typed TwoTowerError or a correct result: never a raw error, a trap, a
// hang, memory beyond a stated bound, or a changed input file. Case counts are printed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createModel, loadModel, TwoTowerError, Vocabulary, type Model } from '../src/index.js';
import { createScorer } from '../src/node/index.js';
import { loadRatingsFile } from '../src/node/ratings-file.js';
import { crc32 } from '../src/util/crc32.js';
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

/** The header JSON of a model file, and a function that rebuilds the file around a new header (checksum fixed). */
function split(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength))) as Record<string, unknown>;
  const body = bytes.subarray(16 + headerLength, bytes.length - 4);
  const rebuild = (h: unknown, newBody = body): Uint8Array => {
    const json = new TextEncoder().encode(typeof h === 'string' && h.startsWith('{') ? h : (JSON.stringify(h) ?? 'null'));
    const padded = Math.ceil(json.length / 4) * 4;
    const out = new Uint8Array(16 + padded + newBody.length + 4);
    out.set(bytes.subarray(0, 12));
    new DataView(out.buffer).setUint32(12, padded, true);
    out.set(json, 16);
    out.fill(0x20, 16 + json.length, 16 + padded);
    out.set(newBody, 16 + padded);
    new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
    return out;
  };
  return { header, body, rebuild };
}

/** A loaded model must work: finite predictions for its own users and items, and bounded memory. */
async function checkLoaded(bytes: Uint8Array): Promise<void> {
  const result = await typedOrOk(() => loadModel(bytes));
  if (result instanceof TwoTowerError) return;
  try {
    expect(result.memory().memoryBytes).toBeLessThan(MEMORY_BOUND);
    if (result.userCount > 0 && result.itemCount > 0) {
      const p = await typedOrOk(() => result.predictIndices([0, result.userCount - 1], [0, result.itemCount - 1]));
      if (!(p instanceof TwoTowerError)) expect(Array.from(p).every(Number.isFinite)).toBe(true);
      const top = await typedOrOk(() => result.recommendIndices([0], { k: 3, excludeSeen: result.hasTrainingHistory }));
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

describe('delimited files', () => {
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
          const r = await typedOrOk(() => model.recommendIndices(users, { k: kk, allow: allow ?? undefined }));
          if (!(r instanceof TwoTowerError)) {
            expect(r.indices.length).toBe(users.length * kk);
            for (const j of r.indices)
              expect(j === -1 || (j >= 0 && j < model.itemCount && (allow === null || allow.includes(j)))).toBe(true);
          }
          const s = await typedOrOk(() => model.similarIndices(users[0] ?? 0, kk));
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

// A header seen loosely, for edits that break its schema on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tampered = Record<string, any>;

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
