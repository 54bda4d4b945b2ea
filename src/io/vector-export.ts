// Embedding files for vector databases: JSON Lines (`{"id": …, "vector": […]}` per line, the
// import format of Qdrant, Milvus, LanceDB, Elasticsearch bulk tooling) and NumPy .npy (float32,
// C order, rows × dim; ids alongside, one per line). Float32 values are written as the shortest
// decimal that reads back to the same float32, so a round trip is exact. With score biases, the
// vectors are augmented so that a plain inner product equals the model's score (foldBiases).
import { fail } from '../errors.js';

/** Formats an export can take. */
export const VECTOR_FORMATS = ['jsonl', 'npy'] as const;
export type VectorFormat = (typeof VECTOR_FORMATS)[number];

/**
 * Folds the score biases into the vectors, so that ⟨user, item⟩ is the model's score
 * ⟨u, v⟩ + b + b_u + b_i: users become [u, 1, b + b_u], items [v, b_i, 1]. `vectors` holds
 * rows.length × dim floats for the side's `rows`; `global` is b, `own` the side's bias table
 * (indexed by row; a missing one is 0). Returns rows.length × (dim + 2) floats.
 */
export function foldBiases(
  side: 'user' | 'item',
  vectors: Float32Array,
  dim: number,
  rows: readonly number[],
  global: number,
  own: ArrayLike<number> | undefined,
): Float32Array {
  const width = dim + 2;
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    out.set(vectors.subarray(r * dim, (r + 1) * dim), r * width);
    const b = own?.[row] ?? 0;
    out[r * width + dim] = side === 'user' ? 1 : b;
    out[r * width + dim + 1] = side === 'user' ? global + b : 1;
  });
  return out;
}

/** The shortest decimal that reads back (through Math.fround) to the float32 v. */
function float32Text(v: number): string {
  for (let digits = 6; digits <= 9; digits++) {
    const text = Number(v.toPrecision(digits));
    if (Math.fround(text) === v) return JSON.stringify(text);
  }
  return JSON.stringify(v);
}

/** JSON Lines: row r is `{"id": ids[r], "vector": [vectors[r·dim …]]}`. */
export function encodeJsonl(ids: readonly string[], vectors: Float32Array, dim: number): Uint8Array {
  if (vectors.length !== ids.length * dim) fail('INTERNAL', `encodeJsonl: ${vectors.length} values for ${ids.length} × ${dim}`);
  const lines: string[] = [];
  for (let r = 0; r < ids.length; r++) {
    const parts: string[] = [];
    for (let c = 0; c < dim; c++) parts.push(float32Text(vectors[r * dim + c]!));
    lines.push(`{"id":${JSON.stringify(ids[r])},"vector":[${parts.join(',')}]}`);
  }
  return new TextEncoder().encode(lines.join('\n') + (lines.length ? '\n' : ''));
}

/** NumPy .npy format 1.0: '<f4', C order, shape (rows, dim); the header padded to 64 bytes. */
export function encodeNpy(vectors: Float32Array, rows: number, dim: number): Uint8Array {
  if (vectors.length !== rows * dim) fail('INTERNAL', `encodeNpy: ${vectors.length} values for ${rows} × ${dim}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const preamble = 10; // magic (6), version (2), header length (2)
  header += ' '.repeat(63 - ((preamble + header.length) % 64)) + '\n';
  const out = new Uint8Array(preamble + header.length + vectors.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY, version 1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  // Little-endian float32, as '<f4' says (every host this runs on is little-endian; checked).
  if (new Uint8Array(Float32Array.of(1).buffer)[3] !== 0x3f) fail('UNSUPPORTED', 'a big-endian host cannot write .npy here');
  out.set(new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength), preamble + header.length);
  return out;
}
