// Embedding exports for vector databases: JSON Lines and .npy read back to the model's own
// embeddings exactly; with biases, the augmented vectors' inner product is the model's score, so
// a plain top-k over the exported items (what a vector database's dot-product search returns)
// equals recommend()'s; the unknown-id row is never exported.
import { describe, it, expect, beforeAll } from 'vitest';
import { train, type Model } from '../src/index.js';

let model: Model;
const events: { user: string; item: string; rating: number }[] = [];
beforeAll(async () => {
  let seed = 5;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 3000; i++) {
    const u = Math.floor(next() * 80),
      it = Math.floor(60 * next() ** 2);
    events.push({ user: `user-${u}`, item: `sku-${it}`, rating: 1 + ((u + it) % 5) });
  }
  model = await train(events, { epochs: 3, seed: 3 });
});

/** Reads a .npy file written by encodeNpy: its header's shape and its float32 rows. */
function readNpy(bytes: Uint8Array): { shape: number[]; values: Float32Array } {
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  expect((10 + headerLength) % 64).toBe(0);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
  expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(\d+, \d+\), \} *\n$/);
  const shape = header
    .match(/\((\d+), (\d+)\)/)!
    .slice(1)
    .map(Number);
  const data = bytes.slice(10 + headerLength);
  return { shape, values: new Float32Array(data.buffer, 0, shape[0]! * shape[1]!) };
}

describe('exportEmbeddings', () => {
  it('JSON Lines and .npy hold every known id once, with exactly the model’s embeddings (unaugmented)', () => {
    const items = model.vocabularies.items!;
    for (const format of ['jsonl', 'npy'] as const) {
      const out = model.exportEmbeddings({ side: 'item', format, augment: false });
      expect(out.count).toBe(items.size - 1);
      expect(out.dim).toBe(model.dim);
      expect(new Set(out.ids).size).toBe(out.count);
      const rows = out.ids.map((id) => items.lookup(id));
      expect(rows).not.toContain(0);
      const want = model.rows.itemEmbeddings(rows);
      if (format === 'jsonl') {
        const lines = new TextDecoder().decode(out.data).trimEnd().split('\n');
        expect(lines).toHaveLength(out.count);
        lines.forEach((line, r) => {
          const { id, vector } = JSON.parse(line) as { id: string; vector: number[] };
          expect(id).toBe(out.ids[r]);
          expect(Float32Array.from(vector)).toEqual(want.subarray(r * model.dim, (r + 1) * model.dim));
        });
      } else {
        const { shape, values } = readNpy(out.data);
        expect(shape).toEqual([out.count, model.dim]);
        expect(values).toEqual(want);
      }
    }
  });

  it('augmented vectors: ⟨user, item⟩ is the model’s score, and a plain top-10 over the items equals recommend()', () => {
    const users = model.exportEmbeddings({ side: 'user', format: 'npy' });
    const items = model.exportEmbeddings({ side: 'item', format: 'npy' });
    expect(users.augmented && items.augmented).toBe(true);
    expect(users.dim).toBe(model.dim + 2);
    const U = readNpy(users.data).values,
      V = readNpy(items.data).values,
      d = users.dim;
    const dot = (u: number, i: number) => {
      let s = 0;
      for (let c = 0; c < d; c++) s += U[u * d + c]! * V[i * d + c]!;
      return s;
    };
    for (let u = 0; u < users.count; u += 7) {
      const scores = items.ids.map((_, i) => dot(u, i));
      const uv = model.vocabularies.users!,
        iv = model.vocabularies.items!;
      const predicted = model.rows.predict(
        items.ids.map(() => uv.lookup(users.ids[u]!)),
        items.ids.map((id) => iv.lookup(id)),
      );
      scores.forEach((s, i) => expect(s).toBeCloseTo(predicted[i]!, 4));
      // What a dot-product search returns: the 10 best items; recommend() without excluding seen items.
      const top = items.ids
        .map((id, i) => ({ id, s: scores[i]! }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 10)
        .map((x) => x.id);
      const rec = model.recommend(users.ids[u]!, { k: 10, excludeSeen: false }).map((x) => x.id);
      expect(top).toEqual(rec);
    }
  });

  it('refuses an unknown side or format by name', () => {
    expect(() => model.exportEmbeddings({ side: 'both' as 'user' })).toThrow(/side must be 'user' or 'item', got "both"/);
    expect(() => model.exportEmbeddings({ side: 'user', format: 'parquet' as 'npy' })).toThrow(
      /format must be one of jsonl, npy, got "parquet"/,
    );
  });
});
