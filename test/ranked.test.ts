// Id-level results are one shape, { id, score }: `item` is a deprecated alias of `id` that warns once.
import { inspect } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Ranked, train, type Model } from '../src/index.js';

describe('ranked results', () => {
  let model: Model;
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  afterAll(() => {
    warn.mockRestore();
    model?.dispose();
  });

  it('are { id, score }; .item equals .id and warns exactly once; JSON has id and score, not item', async () => {
    const events = Array.from({ length: 600 }, (_, i) => ({ user: `u${i % 30}`, item: `sku-${(i * 7) % 40}` }));
    model = await train(events, { epochs: 1 });
    const lists = [model.recommend('u3', { k: 3 }), model.similarItems('sku-7', { k: 3 })];
    for (const list of lists) {
      expect(list).toHaveLength(3);
      for (const r of list) {
        expect(r).toBeInstanceOf(Ranked);
        expect(Object.keys(r)).toEqual(['id', 'score']);
        expect(r).toEqual({ id: r.id, score: r.score });
        expect(typeof r.id).toBe('string');
        const json = JSON.parse(JSON.stringify(r));
        expect(json).toEqual({ id: r.id, score: r.score });
        expect('item' in json).toBe(false);
        expect(inspect(r)).not.toContain('item');
      }
    }
    expect(warn).not.toHaveBeenCalled();
    const all = lists.flat();
    for (const r of all) expect(r.item).toBe(r.id);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/item is deprecated.*use \.id/);
  });
});
