// Model-file bytes taken apart and put back for tests that tamper with them: the header as JSON,
// and the file rebuilt around a changed header (or body) with its checksum fixed, so that what is
// tested is the schema check, not the checksum.
import { crc32 } from '../src/util/crc32.js';

/** A header seen loosely, for edits that break its schema on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tampered = Record<string, any>;

/** The header JSON of a model file, and a function that rebuilds the file around a new header (checksum fixed). */
export function split(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength))) as Tampered;
  const body = bytes.subarray(16 + headerLength, bytes.length - 4);
  const rebuild = (h: unknown, newBody = body): Uint8Array => {
    const json = new TextEncoder().encode(typeof h === 'string' && h.startsWith('{') ? h : (JSON.stringify(h) ?? 'null'));
    const padded = Math.ceil(json.length / 4) * 4;
    const out = new Uint8Array(16 + padded + newBody.length + 4);
    out.set(bytes.subarray(0, 12));
    new DataView(out.buffer).setUint32(12, padded, true);
    out.set(json, 16);
    out.fill(0x20, 16 + json.length, 16 + padded);
    out.set(newBody, 16 + padded);
    new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
    return out;
  };
  return { header, body, rebuild };
}
