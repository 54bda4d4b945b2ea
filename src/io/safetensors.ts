// The safetensors format (Hugging Face), written and read here without a dependency: an 8-byte
// little-endian header length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin,
// end] }, "__metadata__"?: { string: string } }` (padded with spaces to a multiple of 8), then the
// tensors' raw little-endian bytes, each at its offsets relative to the end of the header.
// PyTorch's exports (src/api/pytorch.ts) keep weights and feature columns in it.
import { fail } from '../errors.js';

/** The element types used here: float32, int32 and int64 (int64 read back as numbers). */
export type SafeDtype = 'F32' | 'I32' | 'I64';

/** One tensor: its type, shape (row-major) and values. */
export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, I32: 4, I64: 8 };

/** The bytes of a safetensors file holding `tensors` (in the order given) and string metadata. */
export function encodeSafetensors(tensors: Record<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      fail('INTERNAL', `safetensors: "${name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const bytes = count * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    for (let i = 0; i < t.data.length; i++, at += BYTES[t.dtype]) {
      if (t.dtype === 'F32') view.setFloat32(at, t.data[i]!, true);
      else if (t.dtype === 'I32') view.setInt32(at, t.data[i]!, true);
      else view.setBigInt64(at, BigInt(t.data[i]!), true);
    }
  }
  return out;
}

/** The tensors of a safetensors file (F32 as Float32Array; I32 and I64 as Int32Array); BAD_MODEL_FILE for bytes that are not one. */
export function decodeSafetensors(bytes: Uint8Array, name: string): Record<string, SafeTensor> {
  const bad = (why: string): never =>
    fail('BAD_MODEL_FILE', `${name} is not a readable safetensors file: ${why}`, { file: name });
  if (bytes.length < 8) bad('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) bad(`its header of ${n} bytes runs past the end`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as typeof header;
  } catch {
    return bad('its header is not JSON');
  }
  const base = 8 + n;
  const out: Record<string, SafeTensor> = {};
  for (const [key, t] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const dtype = t.dtype as SafeDtype;
    if (!(dtype in BYTES)) bad(`"${key}" has dtype ${t.dtype} (F32, I32 or I64 expected)`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = t.data_offsets;
    if (end - begin !== count * BYTES[dtype] || base + end > bytes.length) bad(`"${key}"'s data does not fit its shape`);
    const data = dtype === 'F32' ? new Float32Array(count) : new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const at = base + begin + i * BYTES[dtype];
      data[i] =
        dtype === 'F32'
          ? view.getFloat32(at, true)
          : dtype === 'I32'
            ? view.getInt32(at, true)
            : Number(view.getBigInt64(at, true));
    }
    out[key] = { dtype, shape: t.shape, data };
  }
  return out;
}
