// A personal handle's bytes: "TTPV", a little-endian u32 header length, the JSON header (format,
// model fingerprint, mode, settings, events, bias, dim), zero padding to 4 bytes, the f32 vector.
// The fingerprint ties the bytes to one model: its configuration and every item vector and bias.
import { fail } from '../errors.js';
import type { TwoTower } from '../model/twotower.js';
import { SlotKey } from '../model/slots.js';
import { retrievalItems } from '../rank/retrieval.js';
import type { PersonalEvent, PersonalMode, PersonalSettings } from './personal-solve.js';

const MAGIC = [0x54, 0x54, 0x50, 0x56]; // "TTPV"
export const PERSONAL_FORMAT = 1;

/** What the bytes carry besides the vector. */
export interface PersonalHeader {
  format: number;
  fingerprint: string;
  mode: PersonalMode;
  settings: PersonalSettings;
  events: PersonalEvent[];
  bias: number;
  dim: number;
}

const FINGERPRINT = new SlotKey<{ value: string; free(): void }>('personal.fingerprint');
/**
 * What personal bytes are tied to: the item space — every item's retrieval row (its vector as
 * the item tower computes it, and its bias), bit for bit, with the count and dim — hashed in two
 * 32-bit lanes. A serving bundle with f32 vectors has its model's fingerprint; an int8 one, or
 * the model after any change to its items, has another. Kept until the model changes.
 */
export function modelFingerprint(core: TwoTower): string {
  return core.derived(FINGERPRINT, () => {
    const { items, dim } = retrievalItems(core);
    const words = new Uint32Array(items.buffer, items.byteOffset, items.length);
    let a = 0x811c9dc5,
      b = 0x9747b28c;
    const mix = (x: number) => {
      a = Math.imul(a ^ x, 0x01000193);
      b = Math.imul(b ^ x, 0x5bd1e995) ^ (b >>> 15);
    };
    for (const x of [core.itemCount, core.dim, dim]) mix(x);
    for (let i = 0; i < words.length; i++) mix(words[i]!);
    const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
    return { value: hex(a) + hex(b), free() {} };
  }).value;
}

export function encodePersonal(header: PersonalHeader, vector: Float32Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((8 + json.length) / 4) * 4;
  const out = new Uint8Array(start + vector.length * 4);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.length * 4), start);
  return out;
}

/** The header and vector of personal bytes; BAD_MODEL_FILE for bytes that are not one, truncated or of another format. */
export function decodePersonal(bytes: Uint8Array): { header: PersonalHeader; vector: Float32Array } {
  const bad = (why: string): never => fail('BAD_MODEL_FILE', `personal bytes: ${why}`);
  if (!(bytes instanceof Uint8Array)) fail('BAD_INPUT', 'personal bytes must be a Uint8Array (from Personal.toBytes)');
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) bad('not the bytes of a personal handle (Personal.toBytes)');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(4, true);
  if (8 + length > bytes.length) bad('truncated');
  let header: PersonalHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as PersonalHeader;
  } catch {
    return bad('the header is not readable');
  }
  if (header.format !== PERSONAL_FORMAT) bad(`format ${header.format} is not one this version reads (${PERSONAL_FORMAT})`);
  const start = Math.ceil((8 + length) / 4) * 4;
  if (!Number.isInteger(header.dim) || bytes.length !== start + header.dim * 4) bad('truncated or of another size');
  return { header, vector: new Float32Array(bytes.slice(start).buffer) };
}
