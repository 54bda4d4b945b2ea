// A model's exported tower run in ONNX Runtime (onnxruntime-node) on all of its rows, checked
// against the package's own embeddings: one place for the tests that export towers of new kinds
// (tied pooling, combined models).
import { expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Model } from '../src/index.js';

/** Every row of `side`'s tower through its ONNX export equals model.rows' embeddings within 1e-5 relative. */
export async function expectOnnxTowerMatches(model: Model, side: 'user' | 'item'): Promise<void> {
  const count = side === 'user' ? model.userCount : model.itemCount;
  const rows = Array.from({ length: count }, (_, i) => i);
  const inputs = model.onnxInputs({ tower: side, rows });
  const session = await ort.InferenceSession.create(model.toOnnx({ tower: side }));
  try {
    const feeds = Object.fromEntries(
      Object.entries(inputs).map(([k, x]) => [k, new ort.Tensor(x.type, x.data as never, x.dims as number[])]),
    );
    const got = (await session.run(feeds)).embedding!.data as Float32Array;
    const want = side === 'user' ? model.rows.userEmbeddings() : model.rows.itemEmbeddings();
    expect(got.length).toBe(want.length);
    want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThan(1e-5 * Math.max(1, Math.abs(w))));
  } finally {
    await session.release();
  }
}
