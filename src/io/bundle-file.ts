// The serving bundle's bytes (Node and browsers alike): the item vectors in their stored form,
// then an ordinary model file (src/io/model-file.ts) holding everything else, whose config names
// the item table the vectors fill:
//
//   magic "TTBUNDLE" (8 bytes) | format version u32 | header length u32 | header JSON (UTF-8,
//   padded to 4) | body: item vectors (i8 rows padded to 4 bytes, or f32) | scales f32 (int8
//   only) | the model file | CRC-32 u32 of all before it
//
// int8 rows hold round(x / s) in [−127, 127] with s = max|x| / 127 per row (1 for a zero row):
// the form of assembly/quantize.ts's quantize_rows_i8, so x ≈ s·q within s/2 per value.
import { fail } from '../errors.js';
import { crc32 } from '../util/crc32.js';

export const BUNDLE_VERSION = 1;
const MAGIC = 'TTBUNDLE';

/** How a bundle stores its item vectors. */
export type ItemForm = 'int8' | 'f32';

export interface BundleHeader {
  /** Item vectors: their form, rows and width. */
  items: { form: ItemForm; count: number; dim: number };
  /** Byte ranges of the body. */
  vectors: { offset: number; bytes: number };
  scales?: { offset: number; bytes: number };
  model: { offset: number; bytes: number };
}

export interface BundleContents {
  form: ItemForm;
  count: number;
  dim: number;
  /** The vectors as stored: i8 rows (count × dim) or f32 rows. */
  vectors: Int8Array | Float32Array;
  /** One scale per row (int8 only). */
  scales?: Float32Array;
  /** The model file's bytes. */
  model: Uint8Array;
}

/** Rows of f32 values to bytes and a scale per row (quantize_rows_i8's arithmetic, in TypeScript). */
export function quantizeRows(x: Float32Array, n: number, d: number): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(n * d),
    scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let c = 0; c < d; c++) m = Math.max(m, Math.abs(x[r * d + c]!));
    const scale = m > 0 ? Math.fround(m / 127) : 1;
    scales[r] = scale;
    const inv = Math.fround(1 / scale);
    for (let c = 0; c < d; c++) q[r * d + c] = Math.max(-127, Math.min(127, Math.round(Math.fround(x[r * d + c]! * inv))));
  }
  return { q, scales };
}

/** The f32 rows int8 rows stand for: q·scale. */
export function dequantizeRows(q: Int8Array, scales: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) out[r * d + c] = q[r * d + c]! * scales[r]!;
  return out;
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

export function encodeBundleFile(contents: BundleContents): Uint8Array {
  const { form, count, dim } = contents;
  const vectorBytes = form === 'int8' ? count * dim : count * dim * 4;
  let at = 0;
  const vectors = { offset: at, bytes: vectorBytes };
  at += pad4(vectorBytes);
  let scales: BundleHeader['scales'];
  if (form === 'int8') {
    scales = { offset: at, bytes: count * 4 };
    at += count * 4;
  }
  const model = { offset: at, bytes: contents.model.length };
  at += pad4(contents.model.length);
  const header: BundleHeader = { items: { form, count, dim }, vectors, ...(scales ? { scales } : {}), model };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = pad4(json.length);
  const bodyStart = 16 + headerLength;
  const bytes = new Uint8Array(bodyStart + at + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, BUNDLE_VERSION, true);
  view.setUint32(12, headerLength, true);
  bytes.set(json, 16);
  bytes.fill(0x20, 16 + json.length, bodyStart);
  const v = contents.vectors;
  bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), bodyStart + vectors.offset);
  if (scales) for (let r = 0; r < count; r++) view.setFloat32(bodyStart + scales.offset + r * 4, contents.scales![r]!, true);
  bytes.set(contents.model, bodyStart + model.offset);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** Parses and checks a bundle's bytes: magic, version, checksum, header ranges. Throws BAD_MODEL_FILE naming what is wrong. */
export function decodeBundleFile(bytes: Uint8Array, name: string): BundleContents {
  const bad = (what: string): never => fail('BAD_MODEL_FILE', `${name} is not a usable serving bundle: ${what}`, { file: name });
  if (!(bytes instanceof Uint8Array)) fail('BAD_INPUT', 'loadBundle needs the bundle as a Uint8Array');
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic === 'TWOTOWER') bad('it is a model file: load it with loadModel');
  if (bytes.length < 20 || magic !== MAGIC) bad('it does not start with "TTBUNDLE"');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual)
    bad(`checksum ${actual.toString(16)} does not match the stored ${stored.toString(16)} (truncated or corrupted)`);
  const version = view.getUint32(8, true);
  if (version > BUNDLE_VERSION)
    fail(
      'MODEL_FILE_VERSION',
      `${name} has bundle format version ${version}, newer than this twotower reads (${BUNDLE_VERSION}): upgrade twotower to load it`,
      {
        file: name,
        field: 'version',
        value: version,
        expected: `≤ ${BUNDLE_VERSION}`,
      },
    );
  if (version < 1) bad(`format version ${version}`);
  const headerLength = view.getUint32(12, true);
  if (headerLength % 4 !== 0 || 16 + headerLength + 4 > bytes.length) bad(`a header of ${headerLength} bytes does not fit`);
  let header: BundleHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + headerLength))) as BundleHeader;
  } catch {
    bad('its header is not valid JSON');
  }
  const bodyStart = 16 + headerLength;
  const bodyLength = bytes.length - 4 - bodyStart;
  const int = (v: unknown, where: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > bodyLength * 4) bad(`${where} is ${JSON.stringify(v)}`);
    return v as number;
  };
  const items = (header! as BundleHeader | null)?.items;
  if (!items || (items.form !== 'int8' && items.form !== 'f32')) return bad('items.form must be "int8" or "f32"');
  const count = int(items.count, 'items.count'),
    dim = int(items.dim, 'items.dim');
  const range = (r: { offset: number; bytes: number } | undefined, where: string, bytesWanted: number): Uint8Array => {
    if (!r || typeof r !== 'object') bad(`${where} is missing`);
    const offset = int(r!.offset, `${where}.offset`),
      length = int(r!.bytes, `${where}.bytes`);
    if (offset % 4 !== 0 || offset + length > bodyLength) bad(`${where} lies outside the body`);
    if (bytesWanted >= 0 && length !== bytesWanted) bad(`${where} holds ${length} bytes, expected ${bytesWanted}`);
    // A copy with its own buffer (a Node Buffer's slice is a view into a shared pool).
    return new Uint8Array(bytes.subarray(bodyStart + offset, bodyStart + offset + length));
  };
  const int8 = items.form === 'int8';
  const raw = range(header!.vectors, 'vectors', count * dim * (int8 ? 1 : 4));
  const vectors = int8 ? new Int8Array(raw.buffer) : new Float32Array(raw.buffer);
  let scales: Float32Array | undefined;
  if (int8) {
    scales = new Float32Array(range(header!.scales, 'scales', count * 4).buffer);
    for (let r = 0; r < count; r++) if (!(scales[r]! > 0 && scales[r]! < 1e8)) bad(`scale ${r} is ${scales[r]}`);
  } else {
    for (let i = 0; i < vectors.length; i++) if (!(Math.abs(vectors[i]!) <= 1e8)) bad(`item vector value ${i} is ${vectors[i]}`);
  }
  const model = range(header!.model, 'model', -1);
  return { form: items.form, count, dim, vectors, ...(scales ? { scales } : {}), model };
}
