// One write path for parameters (issue 22: 2). Every change to a model's values, optimizer state
// or feature tables goes through the core's write path (TwoTower.write, reinitialize, the
// feature setters), which bumps the revision and drops what was derived from the old values
// (recommend's item index). Checked two ways: every public way to change a model, run with the
// item index cached before it, leaves recommendations equal to a freshly loaded copy's and a
// larger revision; and src/ is read for writes that could go around the path.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createModel, loadModel, train, Vocabulary, type Model, type TrainEvent } from '../src/index.js';
import { internals } from '../src/api/model.js';
import type { TwoTowerError } from '../src/errors.js';
import { Random } from '../src/util/random.js';

const SRC = resolve(import.meta.dirname, '../src');

/** Item i (row ≥ 1) has genre (i − 1) mod 3; users like the genre of their row mod 3. */
async function genreModel(): Promise<Model> {
  const genre = (count: number) => ({
    offsets: Int32Array.from({ length: count + 1 }, (_, i) => Math.max(0, i - 1)),
    ids: Int32Array.from({ length: count - 1 }, (_, i) => i % 3),
  });
  const model = await createModel(
    {
      dim: 6,
      user: { features: [{ kind: 'id', name: 'user', vocabSize: 21, dim: 6 }] },
      item: {
        features: [
          { kind: 'id', name: 'item', vocabSize: 31, dim: 6 },
          { kind: 'multiHot', name: 'genre', vocabSize: 3, dim: 4 },
        ],
      },
      bias: { item: true },
      seed: 3,
    },
    { itemFeatures: { count: 31, columns: { genre: genre(31) } } },
  );
  const random = new Random(4);
  const users: number[] = [],
    items: number[] = [];
  for (let n = 0; n < 800; n++) {
    const u = 1 + random.int(20);
    users.push(u);
    items.push(1 + 3 * random.int(10) + (u % 3));
  }
  model.fit(
    { users: Int32Array.from(users), items: Int32Array.from(items), ratings: new Float32Array(users.length).fill(1) },
    { loss: 'bpr', epochs: 2, learningRate: 0.03 },
  );
  const vocabulary = (prefix: string, n: number) => {
    const v = new Vocabulary();
    for (let i = 1; i < n; i++) v.add(`${prefix}${i}`);
    return v.freeze();
  };
  model.setVocabularies({ users: vocabulary('u', 21), items: vocabulary('i', 31) });
  return model;
}

const everyUser = (model: Model) => Int32Array.from({ length: model.userCount }, (_, u) => u);
const top = (model: Model) => model.rows.recommend(everyUser(model), { k: 5, excludeSeen: false });

/**
 * Caches the item index, runs `change`, and expects a larger revision and the recommendations of
 * a copy loaded from the changed model's bytes (which has no cache).
 */
async function expectFresh(model: Model, what: string, change: () => unknown): Promise<void> {
  const before = internals(model).revision;
  top(model); // the item index is built and kept
  change();
  expect(internals(model).revision, `${what}: revision`).toBeGreaterThan(before);
  const fresh = await loadModel(model.toBytes());
  expect(top(model), `${what}: recommendations`).toEqual(top(fresh));
  fresh.dispose();
}

describe('one write path: every public change leaves recommendations fresh', () => {
  it('fit, setParameters, setItemFeatures, a failed fit (restored), update, addItems', async () => {
    const model = await genreModel();
    const rows = { users: Int32Array.of(1, 2, 3, 4), items: Int32Array.of(2, 3, 4, 5), ratings: new Float32Array(4).fill(1) };
    await expectFresh(model, 'fit', () => model.fit(rows, { loss: 'bpr', epochs: 1, learningRate: 0.05 }));
    await expectFresh(model, 'setParameters', () => {
      const table = model.parameters()['item.item.embedding']!;
      for (let i = 0; i < table.length; i++) table[i] = -table[i]!;
      model.setParameters({ 'item.item.embedding': table });
    });
    await expectFresh(model, 'setItemFeatures', () => {
      // Every item now reads genre 0.
      model.setItemFeatures({
        count: 31,
        columns: { genre: { offsets: Int32Array.from({ length: 32 }, (_, i) => Math.max(0, i - 1)), ids: new Int32Array(30) } },
      });
    });
    const beforeFailed = model.parameters();
    await expectFresh(model, 'a fit that throws (restored)', () =>
      expect(() =>
        model.fit(rows, {
          loss: 'bpr',
          epochs: 1,
          learningRate: 0.5,
          onBatchEnd: () => {
            throw new Error('stop');
          },
        }),
      ).toThrow('stop'),
    );
    expect(model.parameters()).toEqual(beforeFailed);
    await expectFresh(model, 'update', () =>
      model.update([
        { user: 'u1', item: 'i4' },
        { user: 'u21', item: 'i5' },
        { user: 'u2', item: 'i31' },
      ]),
    );
    await expectFresh(model, 'addItems', () =>
      model.addItems({
        ids: ['new0', 'new1'],
        columns: { genre: { offsets: Int32Array.of(0, 1, 2), ids: Int32Array.of(0, 2) } },
      }),
    );
    model.dispose();
  });

  it('foldIn', async () => {
    const random = new Random(9);
    const events: TrainEvent[] = Array.from({ length: 1200 }, () => {
      const u = random.int(30);
      return { user: `u${u}`, item: `i${(random.int(10) + u) % 25}`, rating: 1 + random.int(5) };
    });
    const model = await train(events, { epochs: 2, dim: 6, implicitDim: 0, sideFeatures: false, l2: 0.05 });
    await expectFresh(model, 'foldIn (known users)', () =>
      model.foldIn([
        { user: 'u1', item: 'i3', rating: 5 },
        { user: 'u1', item: 'i4', rating: 1 },
      ]),
    );
    await expectFresh(model, 'foldIn (a new user)', () => model.foldIn([{ user: 'new', item: 'i3', rating: 4 }]));
    model.dispose();
  });

  it('a failed first fit puts a pristine model back at its seeded values, through the write path', async () => {
    const model = await genreModel();
    const fresh = await createModel(internals(model).config, { itemFeatures: internals(model).itemTower.table });
    const core = internals(fresh);
    expect(core.pristine).toBe(true);
    const initial = fresh.parameters();
    const before = core.revision;
    top(fresh);
    expect(() =>
      fresh.fit(
        { users: Int32Array.of(1, 2), items: Int32Array.of(2, 3), ratings: new Float32Array(2).fill(1) },
        {
          loss: 'bpr',
          epochs: 1,
          onBatchEnd: () => {
            throw new Error('stop');
          },
        },
      ),
    ).toThrow('stop');
    expect(core.revision).toBeGreaterThan(before);
    expect(core.pristine).toBe(true);
    expect(fresh.optimizerSteps).toBe(0);
    expect(fresh.parameters()).toEqual(initial);
    const other = await createModel(internals(model).config, { itemFeatures: internals(model).itemTower.table });
    expect(top(fresh)).toEqual(top(other));
    for (const m of [model, fresh, other]) m.dispose();
  });
});

describe('one write path: the core guards its state', () => {
  it('revision and pristine are read-only; values, steps, initialisation are written only inside write()', async () => {
    const model = await genreModel();
    const core = internals(model);
    const block = core.store.blocks[0]!;
    const refused = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as TwoTowerError).code ?? (error as Error).name;
      }
      return 'ran';
    };
    expect(refused(() => ((core as unknown as { revision: number }).revision = 0))).toBe('TypeError');
    expect(refused(() => ((core as unknown as { pristine: boolean }).pristine = true))).toBe('TypeError');
    expect(refused(() => core.store.writable(block))).toBe('INTERNAL');
    expect(refused(() => core.store.writableGroup(core.store.groups[0]!))).toBe('INTERNAL');
    expect(refused(() => core.store.writablePointers(core.store.groups[0]!))).toBe('INTERNAL');
    expect(refused(() => core.store.initialize())).toBe('INTERNAL');
    expect(refused(() => core.store.zeroState())).toBe('INTERNAL');
    expect(refused(() => (core.optimizerSteps = 0))).toBe('INTERNAL');
    const revision = core.revision;
    const steps = model.optimizerSteps;
    core.write((store) => {
      store.writable(block)[0] = 0.25;
      core.optimizerSteps = steps;
    });
    expect(core.revision).toBe(revision + 1);
    expect(model.parameters()[block.name]![0]).toBe(0.25);
    model.dispose();
  });

  it('a write that throws still bumps the revision and drops the item index (values may be half written)', async () => {
    const model = await genreModel();
    const core = internals(model);
    const table = core.store.find('item.item.embedding')!;
    top(model);
    const revision = core.revision;
    expect(() =>
      core.write((store) => {
        store.writable(table).fill(0.5, 0, 6 * 10);
        throw new Error('half way');
      }),
    ).toThrow('half way');
    expect(core.revision).toBe(revision + 1);
    const fresh = await loadModel(model.toBytes());
    expect(top(model)).toEqual(top(fresh));
    for (const m of [model, fresh]) m.dispose();
  });

  it('derived data is freed by a write, scratch with the model only', async () => {
    const model = await genreModel();
    const core = internals(model);
    const held = () => model.memory().liveBytes;
    const bare = held();
    top(model); // builds and keeps the item index
    const withIndex = held();
    expect(withIndex).toBeGreaterThan(bare);
    core.write(() => undefined);
    expect(held()).toBe(bare);
    model.dispose();
  });
});

// ---- Reading src/: no write goes around the path ------------------------------------------

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

/** The code of a file with comments and string contents blanked (newlines kept, so offsets and lines stay). */
function codeOf(text: string): string {
  let out = '';
  let i = 0;
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  while (i < text.length) {
    const two = text.slice(i, i + 2);
    let end = i + 1;
    if (two === '//') end = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (two === '/*') end = text.indexOf('*/', i + 2) + 2;
    else if (text[i] === "'" || text[i] === '"' || text[i] === '`') {
      const quote = text[i]!;
      end = i + 1;
      while (end < text.length && text[end] !== quote) end += text[end] === '\\' ? 2 : 1;
      end += 1;
      out += quote + blank(text.slice(i + 1, end - 1)) + quote;
      i = end;
      continue;
    } else {
      out += text[i];
      i += 1;
      continue;
    }
    out += blank(text.slice(i, end));
    i = end;
  }
  return out;
}

/** The spans of code inside the parentheses of each `.write(` call. */
function writeSpans(code: string): [number, number][] {
  const spans: [number, number][] = [];
  for (const m of code.matchAll(/\.write\(/g)) {
    const start = m.index + m[0].length;
    let depth = 1,
      j = start;
    while (j < code.length && depth > 0) {
      if (code[j] === '(') depth++;
      else if (code[j] === ')') depth--;
      j++;
    }
    spans.push([start, j]);
  }
  return spans;
}

const sources = sourceFiles(SRC)
  .filter((f) => !f.includes('/generated/'))
  .map((file) => ({ file: relative(SRC, file), code: codeOf(readFileSync(file, 'utf8')) }));

/** `file:line: text` for every match of `pattern` in the files `where` selects. */
function findings(pattern: RegExp, where: (file: string, code: string, at: number) => boolean): string[] {
  const out: string[] = [];
  for (const { file, code } of sources) {
    for (const m of code.matchAll(pattern)) {
      if (!where(file, code, m.index)) continue;
      const line = code.slice(0, m.index).split('\n').length;
      out.push(`${file}:${line}: ${m[0].trim()}`);
    }
  }
  return out;
}

describe('one write path: src/ writes parameters only through it', () => {
  const CORE = 'model/twotower.ts';
  const STORE = 'model/parameters.ts';

  it('the blanking of comments and strings keeps code and offsets', () => {
    const text = "a('x(') // y)\nb(`z)`) /* ) */ c";
    expect(codeOf(text)).toHaveLength(text.length);
    expect(writeSpans(codeOf('s.write((x) => f(x), ")")'))).toEqual([[8, 25]]);
  });

  it('no file but the core assigns a revision or a pristine flag', () => {
    expect(
      findings(
        /[\w.#]*\b(revision|pristine)\s*(?:[-+*/]?=(?!=)|\+\+|--)|(?:\+\+|--)\s*[\w.#]*\b(revision|pristine)\b/g,
        (f) => f !== CORE,
      ),
    ).toEqual([]);
  });

  it('only the core opens the store or initialises it again', () => {
    expect(findings(/\.openForWrites\(/g, (f) => f !== CORE && f !== STORE)).toEqual([]);
    expect(findings(/\.initialize\(|\.zeroState\(/g, (f) => f !== CORE && f !== STORE)).toEqual([]);
  });

  it('nothing writes through a read view of the values', () => {
    // store.values(b)[i] = …, store.values(b).set(…), store.groupValues(g).set(…)
    const through = /\b(?:values|groupValues)\([^()]*\)\s*(?:\[[^\]]*\]\s*[-+*/]?=(?!=)|\.(?:set|fill|copyWithin)\()/g;
    expect(findings(through, (f) => f !== STORE)).toEqual([]);
    // const view = store.values(b); … view[i] = … / view.set(…), by name within a file.
    const named: string[] = [];
    for (const { file, code } of sources) {
      if (file === STORE) continue;
      // A view, not a copy (.slice()), an element ([i]) or an argument (Float64Array.from(…)).
      for (const m of code.matchAll(
        /\b(?:const|let)\s+(\w+)\s*=[^;]*?\b(?:values|groupValues)\([^()]*\)(?!\s*(?:\.slice\(|\[|\)))/g,
      )) {
        const view = new RegExp(`\\b${m[1]}\\s*(?:\\[[^\\]]*\\]\\s*[-+*/]?=(?!=)|\\.(?:set|fill|copyWithin)\\()`);
        if (view.test(code)) named.push(`${file}: ${m[0]}`);
      }
    }
    expect(named).toEqual([]);
  });

  it('writable views, optimizer pointers and the step count are used only inside a write() callback', () => {
    const inside = (code: string, at: number) => writeSpans(code).some(([a, b]) => a <= at && at < b);
    const uses = /\b(?:writable|writableGroup|writablePointers)\(|\boptimizerSteps\s*(?:[-+]?=(?!=)|\+\+)/g;
    expect(findings(uses, (f, code, at) => f !== CORE && f !== STORE && !inside(code, at))).toEqual([]);
  });

  it('slots on the core are reached only by their owner: no SlotKey is exported', () => {
    expect(findings(/export\s+(?:const|let|var)\s+\w+\s*(?::[^=]*)?=\s*new\s+SlotKey\b/g, () => true)).toEqual([]);
    expect(findings(/\.(?:caches|disposables)\b/g, () => true)).toEqual([]);
  });
});
