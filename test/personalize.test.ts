// model.personalize(events): one person's vector found on the device from their own events, and
// what the handle serves. Each test states the property it checks; each can fail (a different
// solve, an unseeded sample, a lossy format, a mis-ranked explanation all break one).
import { describe, it, expect } from 'vitest';
import { train, loadBundle, loadModel, TwoTowerError, type Model, type PersonalEvent } from '../src/index.js';
import { bandEvents as events } from './fixtures.js';
import { ReferenceBackend } from '../src/reference/backend.js';
import { ML100K, HAVE_ML100K } from './data.js';
import { readMl100k, holdOutUsers, faithfulness } from '../bench/personalize.js';

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function thrown(run: () => unknown): TwoTowerError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TwoTowerError);
    return error as TwoTowerError;
  }
  throw new Error('expected a TwoTowerError');
}

/** Ten events of a new person, over the band of items u3 draws from. */
const mine = (withRatings: boolean): PersonalEvent[] =>
  events(12, 1, 30, 90_000, 21).map((e) => ({ item: e.item, time: e.time, ...(withRatings ? { rating: e.rating } : {}) }));

describe('personalize: rating models with a plain id user tower (fold-in)', () => {
  it("the personal vector is foldIn's, bit for bit (the same ridge solve on the same rows)", async () => {
    const model = await train(events(2500, 40, 30, 0, 9), { epochs: 3, dim: 6, implicitDim: 0, sideFeatures: false, l2: 0.05 });
    const given = mine(true);
    const personal = model.personalize(given);
    expect(personal.mode).toBe('fold-in');
    model.foldIn(given.map((e) => ({ ...e, user: 'solo' })));
    const row = model.vocabularies.users!.lookup('solo');
    expect(bits(personal.vector).equals(bits(model.rows.userEmbeddings([row])))).toBe(true);
    expect(personal.bias).toBe(model.parameters()['bias.user']![row]);
    // foldIn replaced the model's core: the handle refits on it, deterministically, to the same vector.
    expect(bits(personal.vector).equals(bits(model.rows.userEmbeddings([row])))).toBe(true);
    // A rating model's scores are predicted ratings, as Model.recommend's.
    const top = personal.recommend({ k: 3 });
    expect(top[0]!.score).toBeCloseTo(model.predict('solo', top[0]!.id), 4);
    model.dispose();
  });
});

describe('personalize: retrieval models with a plain id user tower (gradient)', () => {
  let model: Model;
  const setup = async () =>
    (model ??= await train(
      events(3000, 40, 30, 0, 4).map(({ rating: _r, ...e }) => e),
      { task: 'retrieval', epochs: 10, dim: 8, l2: 0.05 },
    ));

  it('is deterministic: the same seed gives the same bits, on a sampled softmax too; another seed another sample', async () => {
    await setup();
    const sampled = { sampleAbove: 5, samples: 8 };
    const a = model.personalize(mine(false), { ...sampled, seed: 3 });
    const b = model.personalize(mine(false), { ...sampled, seed: 3 });
    const c = model.personalize(mine(false), { ...sampled, seed: 4 });
    expect(a.mode).toBe('gradient');
    expect(bits(a.vector).equals(bits(b.vector))).toBe(true);
    expect(bits(a.vector).equals(bits(c.vector))).toBe(false);
    const full = model.personalize(mine(false));
    expect(bits(full.vector).equals(bits(model.personalize(mine(false)).vector))).toBe(true);
  });

  it('the WASM fit agrees with the f64 reference twin of every kernel it calls (full and sampled softmax, 1e-4)', async () => {
    await setup();
    const twin = await loadModel(model.toBytes(), { backend: new ReferenceBackend() });
    for (const options of [{}, { sampleAbove: 5, samples: 8 }]) {
      const a = model.personalize(mine(false), options).vector;
      const b = twin.personalize(mine(false), options).vector;
      for (let c = 0; c < a.length; c++) expect(a[c]!).toBeCloseTo(b[c]!, 4);
    }
    twin.dispose();
  });

  it('recommends the band the events come from, skipping the person’s own items unless asked not to', async () => {
    await setup();
    const given = mine(false);
    const personal = model.personalize(given);
    const own = new Set(given.map((e) => String(e.item)));
    const recs = personal.recommend({ k: 5 });
    expect(recs).toHaveLength(5);
    expect(recs.some((r) => own.has(String(r.id)))).toBe(false);
    // Its own band (i0…i9) fills at least half of the top 10 when its items may show (a third
    // would be chance), and no less of it than of the trained user u0, who draws from the same band.
    const band = (list: { id: unknown }[]) => list.filter((r) => Number(String(r.id).slice(1)) < 10).length;
    const mineInBand = band(personal.recommend({ k: 10, excludeSeen: false }));
    expect(mineInBand).toBeGreaterThanOrEqual(5);
    expect(mineInBand).toBeGreaterThanOrEqual(band(model.recommend('u0', { k: 10, excludeSeen: false })));
    expect(personal.recommend({ k: 3, exclude: [recs[0]!.id] })[0]!.id).toBe(recs[1]!.id);
  });

  it("explain's parts sum to the score, which is recommend's; the because items are ranked by their leave-one-out effect", async () => {
    await setup();
    const given = mine(false);
    const personal = model.personalize(given);
    const top = personal.recommend({ k: 1 })[0]!;
    const why = personal.explain(top.id, { because: 20 });
    expect(why.biases.global + why.biases.user + why.biases.item + why.dot).toBe(why.score);
    expect(why.score).toBeCloseTo(top.score, 4);
    const unique = new Set(given.map((e) => String(e.item)));
    expect(why.because).toHaveLength(unique.size);
    for (let i = 1; i < why.because.length; i++)
      expect(why.because[i - 1]!.effect).toBeGreaterThanOrEqual(why.because[i]!.effect);
    // An effect is exactly the score minus the score of a refit without the item.
    const first = why.because[0]!;
    const without = model.personalize(given.filter((e) => String(e.item) !== String(first.item))).explain(top.id, { because: 0 });
    expect(why.score - without.score).toBeCloseTo(first.effect, 5);
  });

  it('toBytes round-trips (vector, events, recommendations); another model’s bytes and garbage are refused', async () => {
    await setup();
    const personal = model.personalize(mine(false), { prior: 'zero' });
    const bytes = personal.toBytes();
    const back = model.personal(bytes);
    expect(bits(back.vector).equals(bits(personal.vector))).toBe(true);
    expect(back.events).toEqual(personal.events);
    expect(back.mode).toBe('gradient');
    expect(back.recommend({ k: 5 })).toEqual(personal.recommend({ k: 5 }));
    // update() on the restored handle refits with the restored settings (prior 'zero').
    back.update([{ item: 'i5' }]);
    const fresh = model.personalize([...mine(false), { item: 'i5' }], { prior: 'zero' });
    expect(bits(back.vector).equals(bits(fresh.vector))).toBe(true);
    const other = await train(
      events(3000, 40, 30, 0, 5).map(({ rating: _r, ...e }) => e),
      { task: 'retrieval', epochs: 10, dim: 8, l2: 0.05 },
    );
    const refused = thrown(() => other.personal(bytes));
    expect(refused.code).toBe('BAD_MODEL_FILE');
    expect(refused.message).toMatch(/another model/);
    expect(thrown(() => model.personal(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).code).toBe('BAD_MODEL_FILE');
    expect(thrown(() => model.personal(bytes.subarray(0, bytes.length - 4))).code).toBe('BAD_MODEL_FILE');
    other.dispose();
  });

  it('an unknown item id is UNKNOWN_ID naming it; with unknownItems: skip it is left out and reported', async () => {
    await setup();
    const given = [...mine(false), { item: 'nope' }];
    const error = thrown(() => model.personalize(given));
    expect(error.code).toBe('UNKNOWN_ID');
    expect(error.details.id).toBe('nope');
    expect(error.message).toMatch(/"nope"/);
    const personal = model.personalize(given, { unknownItems: 'skip' });
    expect(personal.skipped).toEqual(['nope']);
    expect(bits(personal.vector).equals(bits(model.personalize(mine(false)).vector))).toBe(true);
    // The setting holds for updates: an unknown item there is skipped too.
    expect(personal.update([{ item: 'gone' }, { item: 'i1' }]).skipped).toEqual(['nope', 'gone']);
    expect(thrown(() => model.personalize(mine(false)).update([{ item: 'gone' }])).code).toBe('UNKNOWN_ID');
  });
});

describe('personalize on a serving bundle (no users kept)', () => {
  it("an f32 bundle personalises as its model (the mean user travels in the bundle) and takes the model's bytes; an int8 one refuses them", async () => {
    const model = await train(
      events(3000, 40, 30, 0, 4).map(({ rating: _r, ...e }) => e),
      { task: 'retrieval', epochs: 4, dim: 8, l2: 0.05 },
    );
    const mine = events(12, 1, 30, 90_000, 21).map((e) => ({ item: e.item }));
    const personal = model.personalize(mine);
    const f32 = await loadBundle(model.toBundle({ items: 'f32' }));
    expect(bits(f32.personalize(mine).vector).equals(bits(personal.vector))).toBe(true);
    expect(bits(f32.personal(personal.toBytes()).vector).equals(bits(personal.vector))).toBe(true);
    const int8 = await loadBundle(model.toBundle());
    expect(thrown(() => int8.personal(personal.toBytes())).code).toBe('BAD_MODEL_FILE');
    for (const m of [model, f32, int8]) m.dispose();
  });
});

describe('personal handles speak words (labels, the person’s own items by leave-one-out effect)', () => {
  const titles = Array.from({ length: 30 }, (_, i) => [`i${i}`, `Film ${i} (19${70 + i})`] as [string, string]);

  it('on a rating model’s bundle: labels travel, each recommendation’s words name its largest-effect items by title with stars', async () => {
    const model = await train(events(2500, 40, 30, 0, 9), { epochs: 3, dim: 6, implicitDim: 0, sideFeatures: false, l2: 0.05 });
    model.setLabels({ items: titles });
    const bundle = await loadBundle(model.toBundle({ items: 'f32' }));
    const given = mine(true);
    const rated = new Map(given.map((e) => [String(e.item), e.rating!]));
    const personal = bundle.personalize(given);
    const recs = personal.recommend({ k: 5, explain: true });
    expect(recs).toHaveLength(5);
    for (const r of recs) {
      expect(r.label).toBe(`Film ${String(r.id).slice(1)} (19${70 + Number(String(r.id).slice(1))})`);
      const why = r.explanation!;
      // The same as explain() alone (the leave-one-out refits are kept with the fit, not redone differently).
      expect(why).toEqual(personal.explain(r.id));
      expect(r.words).toEqual(why.words);
      expect(why.label).toBe(r.label);
      for (const b of why.because) expect(b.label).toBe(titles.find(([id]) => id === b.item)![1]);
      const words = r.words!.join(' | ');
      expect(words).not.toMatch(/bias|embedding|\bid\b|effect|[+−]\d/);
      const top = why.because[0]!;
      if (top.effect > 0) {
        // The largest positive effect is named by its title, with the person's rating in stars.
        const rating = rated.get(String(top.item))!;
        expect(words).toContain(`“${top.label}”`);
        expect(words).toMatch(new RegExp(`“${top.label!.replace(/[()]/g, '\\$&')}” \\(?${rating}★`));
        expect(r.words![0]).toMatch(/^Because you (liked|rated) “|^Liked by many$/);
      }
    }
    expect(recs.some((r) => /^Because you (liked|rated) “Film/.test(r.words!.join(' | ')))).toBe(true);
    model.dispose();
    bundle.dispose();
  });

  it('on a retrieval model without ratings: “Because you liked …” without stars, quoted ids for items without a label; options are checked', async () => {
    const model = await train(
      events(3000, 40, 30, 0, 4).map(({ rating: _r, ...e }) => e),
      { task: 'retrieval', epochs: 4, dim: 8, l2: 0.05 },
    );
    model.setLabels({ items: titles.slice(0, 5) });
    const personal = model.personalize(mine(false));
    const recs = personal.recommend({ k: 4, explain: { because: 2, reasons: 1 } });
    for (const r of recs) {
      expect(r.words!.length).toBeLessThanOrEqual(1);
      expect(r.explanation!.because.length).toBeLessThanOrEqual(2);
      expect(r.words!.join(' ')).not.toMatch(/★/);
    }
    const said = recs.flatMap((r) => r.words!).filter((w) => w.startsWith('Because you liked “'));
    expect(said.length).toBeGreaterThan(0);
    for (const w of said)
      expect(w).toMatch(/^Because you liked “(Film \d+ \(19\d\d\)|i\d+)”( and “(Film \d+ \(19\d\d\)|i\d+)”)?$/);
    expect(personal.recommend({ k: 2 })[0]!.words).toBeUndefined();
    expect(personal.explain(recs[0]!.id, { reasons: 0 }).words).toEqual([]);
    expect(thrown(() => personal.recommend({ explain: { reasons: -1 } })).code).toBe('BAD_OPTION');
    expect(thrown(() => personal.recommend({ explain: 'yes' as never })).code).toBe('BAD_OPTION');
    model.dispose();
  });
});

describe('personalize: models whose user tower pools a history (pooled)', () => {
  it("the personal vector ranks as recommendFromHistory does (the tower's output for the items)", async () => {
    const model = await train(
      events(3000, 40, 30, 0, 6).map(({ rating: _r, ...e }) => e),
      { task: 'retrieval', epochs: 2, dim: 8, history: 20 },
    );
    const given = mine(false);
    const personal = model.personalize(given);
    expect(personal.mode).toBe('pooled');
    const ids = (list: { id: unknown }[]) => list.map((r) => r.id);
    expect(ids(personal.recommend({ k: 8 }))).toEqual(
      ids(
        model.recommendFromHistory(
          given.map((e) => e.item),
          { k: 8 },
        ),
      ),
    );
    model.dispose();
  });
});

describe.skipIf(!HAVE_ML100K)('personalize on MovieLens 100K (50 users left out of training)', () => {
  it('from their first 10 events it recalls their later events about as well as training them in (≥ 80%), and the top "because" item is faithful in ≥ 80% of cases', async () => {
    const all = readMl100k(ML100K)!;
    const { people, rest } = holdOutUsers(all, 50, 2026, 10);
    // Short trainings (5 epochs, no refit) keep the test fast; the bench trains the full recipe.
    const short = { task: 'retrieval', epochs: 5, refit: false } as const;
    const asEvents = (list: typeof rest) => list.map((e) => ({ user: e.user, item: e.item, time: e.time }));
    const model = await train(asEvents(rest), short);
    const trainedIn = await train(asEvents([...rest, ...people.flatMap((p) => p.first)]), short);
    let personal = 0,
      inTraining = 0;
    for (const p of people) {
      const wanted = new Set(p.later.map((e) => e.item));
      const recall = (ids: (string | number)[]) => ids.filter((id) => wanted.has(String(id))).length / Math.min(20, wanted.size);
      const events = p.first.map((e) => ({ item: e.item, time: e.time }));
      personal += recall(
        model
          .personalize(events, { unknownItems: 'skip' })
          .recommend({ k: 20 })
          .map((r) => r.id),
      );
      inTraining += recall(trainedIn.recommend(p.user, { k: 20 }).map((r) => r.id));
    }
    expect(personal).toBeGreaterThanOrEqual(0.8 * inTraining);
    expect(faithfulness(model, people.slice(0, 25), 5)).toBeGreaterThanOrEqual(0.8);
    model.dispose();
    trainedIn.dispose();
  }, 60_000);
});
