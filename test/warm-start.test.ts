// Transfer (issue 23: 6): warmStart copies a trained model's values into a new one where they mean
// the same thing — id rows by id (whatever the order and the new ids), dense layers only when
// the towers line up — and the recipe trains from there.
import { describe, it, expect } from 'vitest';
import { train, warmStart, createModel, type Model } from '../src/index.js';

/** Ratings of `users` users over 30 items with a planted taste, ids u<n> / i<n>. */
function events(users: number[], seed = 1) {
  const out: { user: string; item: string; rating: number; time: number }[] = [];
  let t = 0;
  for (const u of users)
    for (let k = 0; k < 12; k++) {
      const i = (u * 7 + k * 5 + seed) % 30;
      out.push({ user: `u${u}`, item: `i${i}`, rating: 1 + ((u + i) % 5), time: t++ });
    }
  return out;
}

/** The user table row of `id`. */
function userRow(model: Model, id: string): Float32Array {
  const row = model.vocabularies.users!.lookup(id);
  const dim = model.config.user.features[0]!.kind === 'id' ? (model.config.user.features[0] as { dim: number }).dim : 0;
  return model.parameters()['user.user.embedding']!.slice(row * dim, (row + 1) * dim);
}

const quick = { epochs: 3, tune: false, implicitDim: 0, sideFeatures: false, dim: 8 } as const;

describe('warmStart', () => {
  it('copies id rows by id into a model with another id order and new ids; new ids keep their fresh values', async () => {
    const source = await train(events([0, 1, 2, 3, 4, 5]), quick);
    // The target lists users in another order and has two the source never saw.
    const target = await train(events([9, 5, 3, 1, 8, 0, 2, 4]), { ...quick, epochs: 1, seed: 7 });
    const fresh = userRow(target, 'u9');
    const report = warmStart(target, source);
    for (const id of ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']) expect(userRow(target, id)).toEqual(userRow(source, id));
    expect(userRow(target, 'u9')).toEqual(fresh);
    const users = report.blocks.find((b) => b.name === 'user.user.embedding')!;
    // Six shared ids plus the unknown-id row, of 9 rows.
    expect(users).toMatchObject({ how: 'ids', copied: 7, of: 9 });
    expect(report.blocks.find((b) => b.name === 'bias.user')).toMatchObject({ how: 'ids', copied: 7 });
    for (const m of [source, target]) m.dispose();
  });

  it('carries id tables into another architecture and keeps dense layers that do not line up, saying why', async () => {
    const source = await train(events([0, 1, 2]), quick);
    const target = await createModel({
      dim: 8,
      user: { features: [{ kind: 'id', name: 'user', vocabSize: 4, dim: 8 }], hidden: [5] },
      item: { features: [{ kind: 'id', name: 'item', vocabSize: source.itemCount, dim: 8 }], project: false },
    });
    target.setVocabularies({ users: source.vocabularies.users!, items: source.vocabularies.items! });
    const report = warmStart(target, source);
    expect(report.blocks.find((b) => b.name === 'item.item.embedding')).toMatchObject({ how: 'ids', copied: source.itemCount });
    expect(report.blocks.find((b) => b.name === 'user.dense0.weight')).toMatchObject({
      how: 'kept',
      reason: 'the source has no such block',
    });
    expect(target.parameters()['item.item.embedding']).toEqual(source.parameters()['item.item.embedding']);
    for (const m of [source, target]) m.dispose();
  });

  it('the recipe trains from a warm start (train(events, { warmStart })) and says what it carried', async () => {
    const old = await train(events([0, 1, 2, 3, 4, 5, 6, 7]), quick);
    const lines: string[] = [];
    const next = await train(events([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), {
      ...quick,
      warmStart: old,
      onLog: (l) => void lines.push(l),
    });
    expect(lines).toContain('warm start: user.user.embedding 9 of 11 rows by id');
    expect(lines.some((l) => /^warm start: bias\.global \d+ of 1 values$/.test(l))).toBe(true);
    for (const m of [old, next]) m.dispose();
  });

  it('refuses what is not a model, and a model warm-started from itself', async () => {
    const model = await train(events([0, 1]), quick);
    expect(() => warmStart(model, {} as Model)).toThrow(/warmStart: the source is not a Model/);
    expect(() => warmStart(model, model)).toThrow(/the target and the source are the same model/);
    model.dispose();
  });
});
