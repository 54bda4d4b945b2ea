// Users speak in their own ids: train() from events in string or number ids, recommend, predict
// and similarItems answer in the same ids; unknown ids are typed errors naming the id; a model
// trained in code works in the CLI. Row-index methods remain, named as such.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { train, createModel, generateSynthetic, TwoTowerError, type Model, type TrainEvent } from '../src/index.js';
import { saveModel } from '../src/node/index.js';

const data = generateSynthetic({ users: 60, items: 40, ratingsPerUser: 15, seed: 5 });
const events: TrainEvent[] = Array.from(data.train.users, (u, r) => ({
  user: `user-${u}`,
  item: `item-${data.train.items[r]}`,
  rating: data.train.ratings[r]!,
}));
const clicks: TrainEvent[] = events.map(({ user, item }) => ({ user, item }));
let rating: Model, retrieval: Model;
let dir: string;

beforeAll(async () => {
  rating = await train(events, { epochs: 4 });
  retrieval = await train(clicks, { epochs: 3 });
  dir = mkdtempSync(join(tmpdir(), 'twotower-ids-'));
});
afterAll(() => {
  rating.dispose();
  retrieval.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('ids in and out', () => {
  it('train() picks the task from the events: ratings → mse, clicks → softmax', () => {
    expect(rating.trainedWith).toEqual({ loss: 'mse', implicit: false });
    expect(retrieval.trainedWith).toEqual({ loss: 'softmax', implicit: true });
  });

  it("recommend(userId) returns { item, score } in the user's ids, best first, skipping the user's own items", () => {
    const seen = new Set(clicks.filter((e) => e.user === 'user-3').map((e) => e.item));
    const list = retrieval.recommend('user-3', { k: 5 });
    expect(list).toHaveLength(5);
    for (const { id: item, score } of list) {
      expect(typeof item).toBe('string');
      expect(String(item)).toMatch(/^item-\d+$/);
      expect(seen.has(item)).toBe(false);
      expect(Number.isFinite(score)).toBe(true);
    }
    expect(list.map((x) => x.score)).toEqual([...list.map((x) => x.score)].sort((a, b) => b - a));
    const several = retrieval.recommend(['user-3', 'user-4'], { k: 3 });
    expect(several).toHaveLength(2);
    expect(several[0]).toEqual(list.slice(0, 3));
  });

  it('a rating model scores recommendations with its predicted rating, equal to predict(userId, itemId)', () => {
    for (const { id: item, score } of rating.recommend('user-7', { k: 4 }))
      expect(score).toBeCloseTo(rating.predict('user-7', item), 5);
  });

  it('exclude and filter take item ids', () => {
    const all = retrieval.recommend('user-1', { k: 3 });
    const without = retrieval.recommend('user-1', { k: 3, exclude: [all[0]!.id] });
    expect(without.map((x) => x.id)).not.toContain(all[0]!.id);
    const only = retrieval.recommend('user-1', { k: 3, filter: ['item-1', 'item-2'], excludeSeen: false });
    expect(only.map((x) => x.id).sort()).toEqual(['item-1', 'item-2']);
    const even = retrieval.recommend('user-1', { k: 5, filter: (id) => Number(String(id).slice(5)) % 2 === 0 });
    for (const x of even) expect(Number(String(x.id).slice(5)) % 2).toBe(0);
  });

  it('similarItems(itemId) answers in item ids, without the item itself', () => {
    const similar = retrieval.similarItems('item-2', { k: 4 });
    expect(similar).toHaveLength(4);
    expect(similar.map((x) => x.id)).not.toContain('item-2');
  });

  it('unknown ids are UNKNOWN_ID naming the id — never a silent row 0', () => {
    for (const act of [
      () => retrieval.recommend('nobody'),
      () => rating.predict('user-1', 'no-such-item'),
      () => retrieval.similarItems('nope'),
    ]) {
      let error: unknown;
      try {
        act();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TwoTowerError);
      expect((error as TwoTowerError).code).toBe('UNKNOWN_ID');
      expect((error as TwoTowerError).message).toMatch(/"(nobody|no-such-item|nope)" is not in the model's vocabulary/);
    }
  });

  it('numbers and their strings name the same id', async () => {
    const model = await train(
      [
        { user: 196, item: 242, rating: 3 },
        { user: 196, item: 302, rating: 4 },
        { user: 22, item: 242, rating: 5 },
        ...Array.from({ length: 30 }, (_, i) => ({ user: i + 1000, item: (i % 5) + 1, rating: 1 + (i % 5) })),
      ],
      { epochs: 2 },
    );
    expect(model.predict(196, 302)).toBeCloseTo(model.predict('196', '302'), 6);
    expect(model.recommend(196, { k: 2 }).map((x) => x.id)).not.toContain('242');
    model.dispose();
  });

  it('a model without vocabularies speaks its row indices as ids; an out-of-range one is UNKNOWN_ID', async () => {
    const model = await createModel({
      dim: 2,
      user: { features: [{ kind: 'id', name: 'u', vocabSize: 3, dim: 2 }], project: false },
      item: { features: [{ kind: 'id', name: 'i', vocabSize: 4, dim: 2 }], project: false },
    });
    expect(model.recommend(1, { k: 2, excludeSeen: false }).map((x) => typeof x.id)).toEqual(['number', 'number']);
    expect(() => model.recommend(7)).toThrow(
      /user 7 is not a user of this model: it has no user vocabulary, so its ids are the row indices 0…2/,
    );
    model.dispose();
  });

  it('a model trained in code works in the CLI, in the same ids', async () => {
    const file = join(dir, 'coded.ttm');
    await saveModel(file, retrieval);
    const cli = resolve(import.meta.dirname, '..', 'dist', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'recommend', '--model', file, '--user', 'user-3', '-k', '5', '--json'], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(shown.items.map((x: { id: string }) => x.id)).toEqual(retrieval.recommend('user-3', { k: 5 }).map((x) => x.id));
  });
});
