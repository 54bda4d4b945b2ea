// The hand-over to a vector database, for real: item embeddings exported as JSON Lines are
// loaded into an embedded LanceDB table, and its dot-product search, queried with the exported
// (augmented) user vectors, returns recommend()'s top-10 for 100 users — the biases included,
// through the augmentation.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { train } from '../src/index.js';

describe('LanceDB round trip', () => {
  it("its dot-product top-10 over the exported items is recommend()'s, for 100 users", async () => {
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const events = Array.from({ length: 6000 }, () => {
      const u = Math.floor(next() * 150),
        i = Math.floor(120 * next() ** 2);
      return { user: `user-${u}`, item: `sku-${i}`, rating: 1 + ((u * 7 + i) % 5) };
    });
    const model = await train(events, { epochs: 3, seed: 2 });
    const items = model.exportEmbeddings({ side: 'item', format: 'jsonl' });
    const users = model.exportEmbeddings({ side: 'user', format: 'jsonl' });
    expect(items.augmented).toBe(true);
    const parse = (data: Uint8Array) =>
      new TextDecoder()
        .decode(data)
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string; vector: number[] });
    const itemRows = parse(items.data),
      userRows = parse(users.data);
    const dir = mkdtempSync(join(tmpdir(), 'twotower-lancedb-'));
    try {
      const db = await lancedb.connect(dir);
      const table = await db.createTable('items', itemRows);
      expect(await table.countRows()).toBe(itemRows.length);
      const byId = new Map(itemRows.map((r) => [r.id, r.vector]));
      for (const user of userRows.slice(0, 100)) {
        const found = (await table.vectorSearch(user.vector).distanceType('dot').limit(10).toArray()) as { id: string }[];
        const want = model.recommend(user.id, { k: 10, excludeSeen: false }).map((x) => String(x.id));
        // The same list; where float32 rounding swaps two items, their inner products tie within 1e-5.
        const score = (id: string) => byId.get(id)!.reduce((s, v, c) => s + v * user.vector[c]!, 0);
        found.forEach((row, r) => expect(Math.abs(score(row.id) - score(want[r]!))).toBeLessThan(1e-5));
        expect(new Set(found.map((row) => row.id)).size).toBe(10);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });
});
