// Reasons in words (src/api/reason-words.ts): an explanation's exact attributions grouped into
// phrases people read. Properties that can fail: no phrase holds a feature name of the model or
// an internal word; phrases come in the order of their shares, and each share is the exact sum
// of the attributions it names; items are named by label (their id quoted without one); known
// ratings are said. Then MovieLens 100K u1 with its side files, as the CLI trains it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  train,
  reasonPhrases,
  reasonWords,
  type Model,
  type TrainEvent,
  type Explanation,
  type WordsContext,
  type ReasonPhrase,
  type MultiHotColumn,
} from '../src/index.js';
import { internals } from '../src/api/model.js';
import { interactionSets } from '../src/model/interaction-sets.js';
import { loadDataset, trainRecipe, RECIPE_DEFAULTS, recipeOptions } from '../src/node/index.js';
import { bucketWords } from '../src/api/feature-words.js';
import { Random } from '../src/util/random.js';
import { ML100K, HAVE_ML100K } from './data.js';

/** Words a phrase must never hold: the numbers' vocabulary. */
const INTERNAL = /\bbias\b|embedding|\bid [+−]|\bdot\b|[+−]\d\.\d{3}|\bcosine\b/i;

/**
 * A phrase without the labels and ids it quotes (a title may hold any word) and without the verb
 * of "you rated" (English, though the recipe names a feature "rated" too).
 */
const unquoted = (text: string) => text.replace(/“[^”]*”/g, '“”').replace(/\byou rated\b/gi, 'you');

/** Every feature name of both towers. */
function featureNames(model: Model): string[] {
  return [...model.config.user.features, ...model.config.item.features].map((f) => f.name);
}

function expectPlainWords(model: Model, words: readonly string[]): void {
  const names = featureNames(model);
  for (const w of words) {
    expect(w).not.toMatch(INTERNAL);
    for (const name of names) expect(unquoted(w).toLowerCase()).not.toMatch(new RegExp(`\\b${name.toLowerCase()}\\b`));
  }
}

/** The attribution a phrase part names, read back from the explanation. */
function partValue(x: Explanation, part: string): number {
  if (part === 'item bias') return x.biases.item;
  const had = /^had (.+)$/.exec(part);
  if (had) {
    const b = x.because.find((b) => String(b.item) === had[1]);
    return b && b.kind === 'history' ? b.contribution : NaN;
  }
  const [side, ...rest] = part.split(' ');
  const name = rest.join(' ');
  const f = x.features.find((f) => f.side === side && (name === 'id' ? f.featureKind === 'id' : f.feature === name));
  return f ? f.contribution : NaN;
}

function expectFaithful(x: Explanation, phrases: readonly ReasonPhrase[]): void {
  for (let i = 1; i < phrases.length; i++) expect(phrases[i]!.contribution).toBeLessThanOrEqual(phrases[i - 1]!.contribution);
  for (const p of phrases) {
    expect(p.contribution).toBeGreaterThan(0);
    const sum = p.parts.reduce((s, part) => s + partValue(x, part), 0);
    expect(sum).toBeCloseTo(p.contribution, 9);
  }
  expect(x.words).toEqual(phrases.map((p) => p.text));
}

/** A context from plain maps (the words' inputs without a model). */
function context(options: {
  labels?: Record<string, string>;
  ratings?: Record<string, number>;
  range?: [number, number];
  values?: Record<string, string[]>;
}): WordsContext {
  return {
    values: (side, feature) => {
      const words = options.values?.[`${side} ${feature}`];
      return words ? { kind: 'categorical', words } : undefined;
    },
    label: (item) => options.labels?.[String(item)],
    sets: { user: new Set(['history']), item: new Set(['raters']) },
    rating: (item) => options.ratings?.[String(item)],
    ...(options.range ? { ratingRange: options.range } : {}),
  };
}

describe('reasonPhrases: attributions → phrases', () => {
  const source = {
    biases: { item: 0.3 },
    features: [
      { side: 'item' as const, feature: 'raters', featureKind: 'multiHot' as const, contribution: 0.5 },
      { side: 'user' as const, feature: 'history', featureKind: 'multiHot' as const, contribution: 0.35 },
      { side: 'item' as const, feature: 'genre', featureKind: 'categorical' as const, contribution: 0.2 },
      { side: 'item' as const, feature: 'decade', featureKind: 'categorical' as const, contribution: 0.05 },
      { side: 'user' as const, feature: 'occupation', featureKind: 'categorical' as const, contribution: 0.04 },
      { side: 'user' as const, feature: 'user', featureKind: 'id' as const, contribution: 0.1 },
      { side: 'item' as const, feature: 'item', featureKind: 'id' as const, contribution: -0.2 },
      { side: 'item' as const, feature: 'noise', featureKind: 'categorical' as const, contribution: -0.4 },
    ],
    because: [
      { item: 50, contribution: 0.25 },
      { item: 181, contribution: 0.08 },
      { item: 7, contribution: -0.02 },
    ],
  };
  const values = { 'item genre': ['Sci-Fi'], 'item decade': ['1970s'], 'user occupation': ['student'], 'item noise': ['x'] };

  it('ranks phrases by their shares, keeps only positive ones, and says them without internal names', () => {
    const phrases = reasonPhrases(source, context({ values, labels: { 50: 'Star Wars (1977)' } }), { count: 10 });
    expect(phrases.map((p) => [p.kind, p.text, +p.contribution.toFixed(6)])).toEqual([
      ['raters', 'Liked by people with tastes like yours', 0.5],
      ['items', 'Because you liked “Star Wars (1977)” and “181”', 0.33],
      ['popular', 'Liked by many', 0.3],
      ['item', 'Sci-Fi · 1970s', 0.25],
      ['taste', 'Matches your taste', 0.1],
      ['people', 'Popular with people like you (student)', 0.04],
    ]);
    expect(phrases.find((p) => p.kind === 'item')!.parts).toEqual(['item genre', 'item decade']);
    expect(reasonWords(source, context({ values }))).toHaveLength(3);
    expect(() => reasonPhrases(source, context({}), { count: 1.5 })).toThrow(/count must be an integer/);
    for (const p of phrases)
      for (const name of ['raters', 'history', 'genre', 'decade', 'occupation', 'noise'])
        expect(unquoted(p.text)).not.toContain(name);
  });

  it('says what is known of the ratings: liked (high), rated n★ (otherwise), rated (a rating model, unknown)', () => {
    const labels = { 50: 'Star Wars (1977)', 181: 'Return of the Jedi (1983)' };
    const say = (ratings: Record<string, number> | undefined, range?: [number, number]) =>
      reasonPhrases(source, context({ labels, range, ...(ratings ? { ratings } : {}) })).find((p) => p.kind === 'items')!.text;
    expect(say({ 50: 5, 181: 4 }, [1, 5])).toBe('Because you liked “Star Wars (1977)” (5★) and “Return of the Jedi (1983)” (4★)');
    expect(say({ 50: 5, 181: 2 }, [1, 5])).toBe('Because you rated “Star Wars (1977)” 5★ and “Return of the Jedi (1983)” 2★');
    expect(say(undefined, [1, 5])).toBe('Because you rated “Star Wars (1977)” and “Return of the Jedi (1983)”');
    expect(say(undefined)).toBe('Because you liked “Star Wars (1977)” and “Return of the Jedi (1983)”');
  });

  it('without item shares, the taste share is told through the most similar items the person liked', () => {
    const similar = {
      biases: { item: -0.1 },
      features: [
        { side: 'user' as const, feature: 'user', featureKind: 'id' as const, contribution: 0.3 },
        { side: 'item' as const, feature: 'item', featureKind: 'id' as const, contribution: 0.2 },
      ],
      because: [
        { item: 'a', similarity: 0.9 },
        { item: 'b', similarity: 0.8 },
        { item: 'c', similarity: 0.7 },
      ],
    };
    const labels = { a: 'Alien (1979)', b: 'Brazil (1985)', c: 'Casablanca (1942)' };
    const [taste] = reasonPhrases(similar, context({ labels, ratings: { a: 2, b: 5, c: 4 }, range: [1, 5] }));
    expect(taste).toMatchObject({ kind: 'taste', contribution: 0.5, parts: ['user id', 'item id'] });
    expect(taste!.text).toBe('Because you liked “Brazil (1985)” (5★) and “Casablanca (1942)” (4★)');
    expect(reasonWords({ ...similar, because: [] }, context({}))).toEqual(['Matches your taste']);
  });

  it('bucket ranges read as people say them', () => {
    const years = [1940, 1960, 1970, 1980, 1990, 1994, 1996, 1998];
    expect([0, 1, 2, 3, 5, 6, 8, 9].map((b) => bucketWords(years, b, true))).toEqual([
      undefined,
      'before 1940',
      '1940–1959',
      '1960s',
      '1980s',
      '1990–1993',
      '1996–1997',
      '1998 or later',
    ]);
    expect([1, 3, 7].map((b) => bucketWords([18, 25, 35, 45, 50, 56], b, false))).toEqual(['under 18', '25–34', '56+']);
  });
});

describe('Explanation.words on a model trained in code with side features and labels', () => {
  const GENRES = ['Drama', 'Comedy', 'Horror', 'Sci-Fi'];
  let model: Model;
  beforeAll(async () => {
    const random = new Random(11);
    const ids = Array.from({ length: 60 }, (_, i) => `m${i}`);
    const users = Array.from({ length: 80 }, (_, u) => `u${u}`);
    const events: TrainEvent[] = [];
    for (const [u, user] of users.entries())
      for (let n = 0; n < 15; n++) {
        const i = random.int(ids.length);
        events.push({ user, item: ids[i]!, rating: i % 4 === u % 4 ? 5 : 2 });
      }
    model = await train(events, {
      epochs: 4,
      seed: 3,
      items: {
        ids,
        columns: { genre: ids.map((_, i) => GENRES[i % 4]!), year: ids.map((_, i) => 1950 + i) },
        specs: { year: { kind: 'bucketized', boundaries: [1960, 1970, 1980, 1990, 2000] } },
      },
      users: { ids: users, columns: { job: users.map((_, u) => ['student', 'writer'][u % 2]!) } },
      labels: { items: Object.fromEntries(ids.filter((_, i) => i % 2 === 0).map((id) => [id, `Film ${id.slice(1)}`])) },
    });
  });
  afterAll(() => model?.dispose());

  it('recommend({ explain: true }) carries the words: plain, in the order of exact shares, items by label else quoted id', () => {
    for (const user of ['u0', 'u1', 'u2', 'u7']) {
      const recs = model.recommend(user, { k: 5, explain: { reasons: 10 } });
      for (const r of recs) {
        const x = r.explanation!;
        expect(r.words).toEqual(x.words);
        expectPlainWords(model, x.words);
        expectFaithful(x, model.reasonPhrases(x, { count: 10 }));
        for (const [, name] of x.words.join('\n').matchAll(/“([^”]+)”/g)) {
          const id = x.because.find((b) => (b.label ?? String(b.item)) === name)?.item;
          expect(id).toBeDefined();
          expect(name).toBe(model.label(id!) ?? String(id));
        }
      }
    }
  });

  it("names the item's values (a category, a bucket's range) and the person's own", () => {
    const all = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']
      .flatMap((u) => model.recommend(u, { k: 10, explain: { reasons: 10 } }))
      .flatMap((r) => r.words!);
    const itemPhrases = all.filter((w) => /^(Drama|Comedy|Horror|Sci-Fi|before 1960|19[5-9]0s|2000 or later)\b/.test(w));
    expect(itemPhrases.length).toBeGreaterThan(0);
    for (const w of itemPhrases)
      for (const part of w.split(' · '))
        expect(part).toMatch(/^(Drama|Comedy|Horror|Sci-Fi|before 1960|19[6-9]0s|2000 or later)$/);
    for (const w of all.filter((w) => w.startsWith('Popular with people like you'))) expect(w).toMatch(/\((student|writer)\)$/);
  });

  it('explain(user, item, { ratings }) says the ratings it is given', () => {
    const [top] = model.recommend('u0', { k: 1, explain: true });
    const x = model.explain('u0', top!.id, { ratings: new Map(model.explain('u0', top!.id).because.map((b) => [b.item, 5])) });
    const items = x.words.find((w) => w.startsWith('Because you'));
    if (items) expect(items).toMatch(/^Because you liked “[^”]+” \(5★\)/);
    expect(() => model.explain('u0', top!.id, { ratings: 5 as never })).toThrow(/ratings must be a Map/);
  });
});

describe.skipIf(!HAVE_ML100K)('MovieLens 100K u1 with its side files, as the CLI trains it', () => {
  let model: Model;
  /** User 196's ratings in u1.base, by item id. */
  const ratings = new Map<string, number>();
  /** Each movie's genres, from u.item's flags and u.genre's names. */
  const genresOf = new Map<string, string[]>();
  beforeAll(async () => {
    const names = readFileSync(join(ML100K, 'u.genre'), 'latin1')
      .split('\n')
      .filter((l) => l.includes('|'))
      .map((l) => l.split('|')[0]!);
    for (const line of readFileSync(join(ML100K, 'u.item'), 'latin1').split('\n')) {
      const f = line.split('|');
      if (f.length > 5)
        genresOf.set(
          f[0]!,
          names.filter((_, g) => f[5 + g] === '1'),
        );
    }
    const ds = await loadDataset({ data: join(ML100K, 'u1.base') });
    model = (await trainRecipe(ds, RECIPE_DEFAULTS)).model;
    // What `twotower train` records: the side files' specs and encodings, and u.item's titles.
    model.metadata = {
      ...model.metadata,
      userSpecs: ds.userSpecs,
      itemSpecs: ds.itemSpecs,
      ...(ds.userSide ? { userEncoding: ds.userSide.encoding } : {}),
      ...(ds.itemSide ? { itemEncoding: ds.itemSide.encoding } : {}),
    };
    if (ds.labels) model.setLabels(ds.labels);
    for (const line of readFileSync(join(ML100K, 'u1.base'), 'utf8').split('\n')) {
      const [user, item, rating] = line.split('\t');
      if (user === '196') ratings.set(item!, Number(rating));
    }
  }, 120_000);
  afterAll(() => model?.dispose());

  it("user 196's top 5: the user's items by title (with their stars), the item's genres and years, no internal names", () => {
    const recs = model.recommend('196', { k: 5, explain: { reasons: 6, ratings } });
    expect(recs).toHaveLength(5);
    const genres = new Set([
      'Action',
      'Adventure',
      'Animation',
      "Children's",
      'Comedy',
      'Crime',
      'Documentary',
      'Drama',
      'Fantasy',
      'Film-Noir',
      'Horror',
      'Musical',
      'Mystery',
      'Romance',
      'Sci-Fi',
      'Thriller',
      'War',
      'Western',
    ]);
    const range = /^(\d{4}s|\d{4}–\d{4}|before \d{4}|\d{4} or later)$/;
    let itemPhrases = 0;
    for (const r of recs) {
      const x = r.explanation!;
      expectPlainWords(model, x.words);
      expectFaithful(x, model.reasonPhrases(x, { ratings, count: 6 }));
      // The person's own items: by title, each with the stars u1.base gives it.
      const items = x.words.find((w) => w.startsWith('Because you'));
      expect(items, x.words.join(' | ')).toBeDefined();
      expect(items).toMatch(/^Because you (liked|rated) “[^”]+ \(\d{4}\)”/);
      for (const [, title, stars] of items!.matchAll(/“([^”]+)”\)? ?\(?(\d)★/g)) {
        const id = x.because.find((b) => b.label === title)!.item;
        expect(Number(stars)).toBe(ratings.get(String(id)));
      }
      for (const w of x.words) {
        const parts = w.split(' · ');
        const values = parts.flatMap((p) => p.split(', '));
        if (!values.every((v) => genres.has(v) || range.test(v))) continue;
        itemPhrases++;
        // The item's own genres (u.item's flags) and year bucket.
        for (const v of values.filter((v) => genres.has(v))) expect(genresOf.get(String(r.id))).toContain(v);
      }
    }
    expect(itemPhrases).toBeGreaterThan(0);
  });

  it("is faithful: leaving out a recommendation's top “because” item lowers its score more than leaving out a random one of the user's items, in ≥ 80% of cases", () => {
    expectFaithfulBecause(model, 'rating recipe');
  });
});

/**
 * Over users 1–40's top 5: leaving the top "because" item out of the user's interaction sets
 * lowers the item's score more than leaving out a random other one of their items, in ≥ 80% of cases.
 */
function expectFaithfulBecause(model: Model, recipe: string): void {
  const core = internals(model);
  const d = core.dim;
  const without = (u: number, item: number) => core.embedUsersWith(oneUser(core, u, item));
  const random = new Random(7);
  let wins = 0,
    cases = 0;
  for (let user = 1; user <= 40; user++) {
    const u = core.vocabularies.users!.lookup(String(user));
    const full = core.embedUsersWith(oneUser(core, u));
    for (const r of model.recommend(String(user), { k: 5, explain: { because: 1000 } })) {
      const because = r.explanation!.because.filter((b) => b.kind === 'history');
      if (because.length < 2) continue;
      const v = core.itemEmbeddings([core.vocabularies.items!.lookup(String(r.id))]);
      const drop = (item: string | number) => {
        const e = without(u, core.vocabularies.items!.lookup(String(item)));
        let s = 0;
        for (let c = 0; c < d; c++) s += (full[c]! - e[c]!) * v[c]!;
        return s;
      };
      const other = because[1 + random.int(because.length - 1)]!;
      if (drop(because[0]!.item) > drop(other.item)) wins++;
      cases++;
    }
  }
  console.log(`faithfulness (${recipe}): ${wins} of ${cases} (${((100 * wins) / cases).toFixed(1)}%)`);
  expect(cases).toBeGreaterThan(150);
  expect(wins / cases).toBeGreaterThanOrEqual(0.8);
}

/** User row `u`'s own features as a one-row table, with item row `leaveOut` left out of its interaction sets. */
function oneUser(core: ReturnType<typeof internals>, u: number, leaveOut = -1) {
  const table = core.userTower.table!;
  const sets = new Set(interactionSets(core.config, 'user').map((s) => s.spec.name));
  const columns: Record<string, Int32Array | Float32Array | MultiHotColumn> = {};
  for (const f of core.config.user.features) {
    const column = table.columns[f.name];
    if (f.kind === 'id') columns[f.name] = Int32Array.of(u);
    else if (column instanceof Int32Array) columns[f.name] = Int32Array.of(column[u]!);
    else if (column instanceof Float32Array) columns[f.name] = column.slice(u, u + 1);
    else if (column) {
      const at: number[] = [];
      for (let p = column.offsets[u]!; p < column.offsets[u + 1]!; p++)
        if (!sets.has(f.name) || column.ids[p] !== leaveOut) at.push(p);
      columns[f.name] = {
        offsets: Int32Array.of(0, at.length),
        ids: Int32Array.from(at, (p) => column.ids[p]!),
        ...(column.weights ? { weights: Float32Array.from(at, (p) => column.weights![p]!) } : {}),
      };
    }
  }
  return { count: 1, columns };
}

describe.skipIf(!HAVE_ML100K)('MovieLens 100K u1, the retrieval recipe with a 20-item history', () => {
  it('says the user’s items by title, no internal names, and is faithful', async () => {
    const ds = await loadDataset({ data: join(ML100K, 'u1.base') });
    const model = (await trainRecipe(ds, recipeOptions('softmax', { history: 20 }))).model;
    try {
      if (ds.labels) model.setLabels(ds.labels);
      for (const r of model.recommend('196', { k: 5, explain: true })) {
        expectPlainWords(model, r.words!);
        expect(
          r.words!.some((w) => /^Because you liked “[^”]+ \(\d{4}\)”/.test(w)),
          r.words!.join(' | '),
        ).toBe(true);
      }
      expectFaithfulBecause(model, 'retrieval recipe');
    } finally {
      model.dispose();
    }
  }, 120_000);
});
