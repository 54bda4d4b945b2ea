// Labels (issue 24: 1): human names of items and users, kept with the model and shown on
// results. Each test states the property it checks: every input shape sets the same labels and
// unknown ids are dropped and counted; results carry `label` exactly where the item has one (and
// keep `id`); labels survive model files, update(), addItems(), combineModels() and warmStart();
// malformed labels and corrupted label headers fail with typed errors; side files give titles
// (MovieLens 100K u.item in latin1, a movies.csv title column, a `name` column).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { combineModels, loadModel, train, TwoTowerError, warmStart, type Model, type TrainEvent } from '../src/index.js';
import { loadDataset } from '../src/node/index.js';
import { genericSideFile, readSideFile, sideLabels } from '../src/node/side-files.js';
import { ML100K, HAVE_ML100K } from './data.js';
import { split } from './model-file-bytes.js';

const code = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof TwoTowerError ? error.code : 'not a TwoTowerError';
  }
  return undefined;
};

/** 40 users × 15 events over 30 items, every item rated. */
const events: TrainEvent[] = Array.from({ length: 600 }, (_, i) => ({
  user: `u${i % 40}`,
  item: `m${(i * 7 + Math.floor(i / 40)) % 30}`,
  rating: 1 + ((i * 13) % 5),
}));
const TITLES: Record<string, string> = { m0: 'Zero (1990)', m1: 'One (1991)', m2: 'Two (1992)', m3: 'Three (1993)' };

describe('labels in code', () => {
  let model: Model;
  beforeAll(async () => {
    model = await train(events, { epochs: 3 });
  });
  afterAll(() => model.dispose());

  it('a Map, an object and a list of pairs set the same labels; ids not in the model are dropped and counted', async () => {
    const fromObject = model.setLabels({ items: { ...TITLES, nope: 'Ghost' } });
    expect(fromObject).toEqual({ set: 4, unknown: 1 });
    const asObject = model.labels.items;
    expect(model.setLabels({ items: new Map(Object.entries(TITLES)) })).toEqual({ set: 4, unknown: 0 });
    expect(
      model.setLabels({
        items: Object.entries(TITLES),
        users: [
          ['u1', 'Ann'],
          ['zz', 'Nobody'],
        ],
      }),
    ).toEqual({
      set: 5,
      unknown: 1,
    });
    expect(model.labels.items).toEqual(asObject);
    expect([...asObject.keys()].sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(model.label('m1')).toBe('One (1991)');
    expect(model.label('u1', { side: 'user' })).toBe('Ann');
    expect(model.label('m1', { side: 'user' })).toBeUndefined();
    expect(model.label('m9')).toBeUndefined();
    expect(model.label('nope')).toBeUndefined();
  });

  it('malformed labels are BAD_INPUT / BAD_OPTION and change nothing', () => {
    const before = model.labels.items;
    expect(code(() => model.setLabels({ items: { m4: 5 as unknown as string } }))).toBe('BAD_INPUT');
    expect(code(() => model.setLabels({ items: [['m4']] as never }))).toBe('BAD_INPUT');
    expect(code(() => model.setLabels({ items: 'm4' as never }))).toBe('BAD_INPUT');
    expect(code(() => model.setLabels({ titles: {} } as never))).toBe('BAD_OPTION');
    expect(code(() => model.setLabels({ items: { m4: 'x'.repeat(1001) } }))).toBe('BAD_INPUT');
    expect(code(() => model.setLabels({ users: { u2: 'ok' }, items: { m4: 7 as never } }))).toBe('BAD_INPUT');
    expect(model.label('u2', { side: 'user' })).toBeUndefined();
    expect(model.labels.items).toEqual(before);
    expect(code(() => model.label('m1', { side: 'items' as 'item' }))).toBe('BAD_OPTION');
  });

  it('results carry `label` exactly for labelled items, `id` unchanged: recommend, similarItems, explanations', () => {
    const list = model.recommend('u5', { k: 30, excludeSeen: false, explain: true });
    expect(list).toHaveLength(30);
    for (const r of list) {
      expect(typeof r.id).toBe('string');
      if (r.id in TITLES) expect(r.label).toBe(TITLES[r.id as string]);
      else expect('label' in r).toBe(false);
      for (const b of r.explanation!.because) expect(b.label).toBe(TITLES[b.item as string]);
    }
    expect(list.filter((r) => r.label !== undefined)).toHaveLength(4);
    const similar = model.similarItems('m5', { k: 29 });
    expect(
      similar
        .filter((r) => r.label !== undefined)
        .map((r) => r.id)
        .sort(),
    ).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(JSON.parse(JSON.stringify(list[0]))).toEqual(
      list[0]!.label === undefined
        ? expect.not.objectContaining({ label: expect.anything() })
        : expect.objectContaining({ label: list[0]!.label }),
    );
  });

  it('survive a model file; a file without labels loads without them; a corrupted labels header is BAD_MODEL_FILE', async () => {
    const again = await loadModel(model.toBytes());
    expect(again.labels).toEqual(model.labels);
    expect(again.recommend('u5', { k: 5 })).toEqual(model.recommend('u5', { k: 5 }));
    again.dispose();
    const bare = await train(events.slice(0, 200), { epochs: 1 });
    const bytes = bare.toBytes();
    expect(Object.keys(split(bytes).header)).not.toContain('labels');
    const loaded = await loadModel(bytes);
    expect(loaded.labels.items.size).toBe(0);
    expect(loaded.recommend('u1', { k: 3 }).every((r) => !('label' in r))).toBe(true);
    loaded.dispose();
    // The same header with a malformed labels field, re-framed (with a fresh checksum).
    const { header: h, rebuild } = split(bytes);
    const bad = rebuild({ ...h, labels: { item: [['m1', 5]] } });
    await expect(loadModel(bad)).rejects.toMatchObject({ code: 'BAD_MODEL_FILE', message: /labels\.item/ });
    bare.dispose();
  });

  it('train({ labels }) keeps them (unknown ids dropped); a malformed one fails before training', async () => {
    const m = await train(events, { epochs: 1, labels: { items: { m2: 'Two', zz: 'none' }, users: new Map([['u3', 'Cy']]) } });
    expect(m.labels.items).toEqual(new Map([['m2', 'Two']]));
    expect(m.label('u3', { side: 'user' })).toBe('Cy');
    m.dispose();
    await expect(train(events, { epochs: 1, labels: { items: [[1, 2]] as never } })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('survive update() (new items can then be labelled), combineModels (the first member’s) and warmStart (the target’s own first)', async () => {
    const grown = await loadModel(model.toBytes());
    grown.update([{ user: 'u1', item: 'brand-new', rating: 5 }], { epochs: 1 });
    expect(grown.labels).toEqual(model.labels);
    expect(grown.setLabels({ items: { 'brand-new': 'New (2026)' } })).toEqual({ set: 1, unknown: 0 });
    expect(grown.label('brand-new')).toBe('New (2026)');
    const other = await train(events, { epochs: 1, seed: 2, labels: { items: { m0: 'Other zero' } } });
    const blend = await combineModels([model, other]);
    expect(blend.labels).toEqual(model.labels);
    const target = await train(events, { epochs: 1, seed: 3, labels: { items: { m1: 'Mine' } } });
    warmStart(target, model);
    expect(target.label('m1')).toBe('Mine');
    expect(target.label('m2')).toBe(TITLES.m2);
    for (const m of [grown, other, blend, target]) m.dispose();
  });
});

describe('labels and addItems', () => {
  it('items added by their features keep the old labels and can be labelled', async () => {
    const ids = Array.from({ length: 30 }, (_, j) => `m${j}`);
    const m = await train(events, {
      epochs: 1,
      items: { ids, columns: { genre: ids.map((_, j) => (j % 2 ? 'Drama' : 'Comedy')) } },
      labels: { items: TITLES },
    });
    m.addItems({ ids: ['m30'], columns: { genre: ['Drama'] } });
    expect(m.labels.items.size).toBe(4);
    expect(m.setLabels({ items: { m30: 'Thirty' } })).toEqual({ set: 1, unknown: 0 });
    expect(m.similarItems('m30', { k: 30 }).filter((r) => r.label).length).toBe(4);
    m.dispose();
  });
});

describe('labels from side files', () => {
  it('a title column (movies.csv) and else a name column, case-insensitive, never the id column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twotower-labels-'));
    const movies = join(dir, 'movies.csv');
    writeFileSync(
      movies,
      'movieId,Title,genres\n1,Toy Story (1995),Animation|Comedy\n2,"Jumanji, The (1995)",Adventure\n3,,Drama\n',
    );
    const spec = genericSideFile(movies, 'movies.csv');
    expect(sideLabels(spec, await readSideFile(spec))).toEqual(
      new Map([
        ['1', 'Toy Story (1995)'],
        ['2', 'Jumanji, The (1995)'],
      ]),
    );
    const people = join(dir, 'people.csv');
    writeFileSync(people, 'userId,NAME,age\nu1,Ann,31\nu2,Bo,40\n');
    const p = genericSideFile(people, 'people.csv');
    expect(sideLabels(p, await readSideFile(p))).toEqual(
      new Map([
        ['u1', 'Ann'],
        ['u2', 'Bo'],
      ]),
    );
    const plain = join(dir, 'plain.csv');
    writeFileSync(plain, 'name,genre\nx,Drama\n');
    const q = genericSideFile(plain, 'plain.csv');
    expect(sideLabels(q, await readSideFile(q))).toBeUndefined();
  });

  it.skipIf(!HAVE_ML100K)('MovieLens 100K: u.item titles (latin1) for all 1682 items, none for users', async () => {
    const ds = await loadDataset({ data: join(ML100K, 'u1.base') });
    expect(ds.labels!.items!.size).toBe(1682);
    expect(ds.labels!.items!.get('50')).toBe('Star Wars (1977)');
    expect(ds.labels!.items!.get('543')).toBe('Misérables, Les (1995)');
    expect(ds.labels!.users).toBeUndefined();
    expect(ds.notes).toContain('item labels: 1682 from MovieLens 100K u.item');
  });
});
