// The binary model file, read and written from bytes (Node and browsers alike):
//
//   magic "TWOTOWER" (8 bytes) | format version u32 | header length u32 | header JSON (UTF-8,
//   padded to 4) | body: 4-byte-aligned sections (f32 / i32 arrays) | CRC-32 u32 of all before it
//
// The header holds the config, the parameter layout, the vocabularies, the feature-table layout
// and free metadata; all numbers are little-endian. A reader refuses newer format versions,
// truncated files and checksum mismatches with an error that says which.
import { fail } from '../errors.js';
import { crc32 } from '../util/crc32.js';
import type { TwoTowerConfig } from '../config/model.js';
import type { FeatureTable, FeatureColumn, MultiHotColumn } from '../config/feature-table.js';
import type { VocabularyJSON } from '../data/vocabulary.js';
import {
  validateHeader,
  impliedBodyLength,
  type Header,
  type Section,
  type ColumnLayout,
  type LabelsJSON,
} from './model-header.js';

export { MAX_JSON_DEPTH, jsonDepth } from './model-header.js';

export const FORMAT_VERSION = 1;
/** The largest parameter magnitude a model file may hold. */
export const MAX_PARAMETER = 1e8;
const MAGIC = 'TWOTOWER';

export interface ModelFileContents {
  config: TwoTowerConfig;
  optimizerSteps: number;
  /** Parameter values by block name. */
  parameters: Record<string, Float32Array>;
  vocabularies: { user?: VocabularyJSON; item?: VocabularyJSON };
  userFeatures?: FeatureTable;
  itemFeatures?: FeatureTable;
  metadata: Record<string, unknown>;
  /** Human names by id (see src/api/labels.ts). */
  labels?: LabelsJSON;
  /** Each user's training items (CSR), for excluding them from recommendations. */
  seen?: { offsets: Int32Array; ids: Int32Array };
  /** The loss the model was last trained with. */
  loss?: string;
  /** The fit settings update() continues with. */
  training?: Record<string, unknown>;
  /** Optimizer state per parameter group (so that training resumes exactly after a load). */
  optimizerState?: { group: string; owner: string; slots: Float32Array[] }[];
}

/** Serialises a model's contents to bytes. */
export function encodeModelFile(contents: ModelFileContents): Uint8Array {
  const chunks: (Float32Array | Int32Array)[] = [];
  let bodyLength = 0;
  const section = (array: Float32Array | Int32Array): Section => {
    const s: Section = { type: array instanceof Float32Array ? 'f32' : 'i32', offset: bodyLength, length: array.length };
    chunks.push(array);
    bodyLength += array.length * 4;
    return s;
  };
  const blocks: Header['parameters']['blocks'] = [];
  let total = 0;
  for (const [name, values] of Object.entries(contents.parameters)) {
    blocks.push({ name, offset: total, size: values.length });
    total += values.length;
  }
  const flat = new Float32Array(total);
  for (const b of blocks) flat.set(contents.parameters[b.name]!, b.offset);
  const table = (t: FeatureTable | undefined) => {
    if (!t) return undefined;
    const columns: Record<string, ColumnLayout> = Object.create(null) as Record<string, ColumnLayout>;
    for (const [name, column] of Object.entries(t.columns)) {
      if (column instanceof Int32Array) columns[name] = { kind: 'i32', data: section(column) };
      else if (column instanceof Float32Array) columns[name] = { kind: 'f32', data: section(column) };
      else {
        const bag = column as MultiHotColumn;
        columns[name] = {
          kind: 'bag',
          offsets: section(bag.offsets),
          ids: section(bag.ids),
          ...(bag.weights ? { weights: section(bag.weights) } : {}),
        };
      }
    }
    return { count: t.count, columns };
  };
  const header: Header = {
    config: contents.config,
    optimizerSteps: contents.optimizerSteps,
    parameters: { total, blocks, data: section(flat) },
    vocabularies: contents.vocabularies,
    features: { user: table(contents.userFeatures), item: table(contents.itemFeatures) },
    metadata: contents.metadata,
    ...(contents.labels ? { labels: contents.labels } : {}),
    ...(contents.loss ? { loss: contents.loss } : {}),
    ...(contents.seen ? { seen: { offsets: section(contents.seen.offsets), ids: section(contents.seen.ids) } } : {}),
    ...(contents.training ? { training: contents.training } : {}),
    ...(contents.optimizerState?.length
      ? {
          optimizerState: contents.optimizerState.map((g) => ({ group: g.group, owner: g.owner, slots: g.slots.map(section) })),
        }
      : {}),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 4) * 4;
  const bodyStart = 16 + headerLength;
  const bytes = new Uint8Array(bodyStart + bodyLength + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, headerLength, true);
  bytes.set(json, 16);
  bytes.fill(0x20, 16 + json.length, bodyStart); // pad with spaces: still valid JSON
  let at = bodyStart;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk instanceof Float32Array) view.setFloat32(at + i * 4, chunk[i]!, true);
      else view.setInt32(at + i * 4, chunk[i]!, true);
    }
    at += chunk.length * 4;
  }
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/**
 * Parses and checks model-file bytes; `name` labels errors (a file name). The checksum (the last
 * four bytes) is verified before the header is trusted for anything; then the header is checked
 * against the format's schema before any section is read.
 */
export function decodeModelFile(bytes: Uint8Array, name = 'model file'): ModelFileContents {
  if (!(bytes instanceof Uint8Array)) fail('BAD_INPUT', `${name}: model bytes must be a Uint8Array`);
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    fail('BAD_MODEL_FILE', `${name} is not a twotower model file (it does not start with "${MAGIC}")`, {
      file: name,
      field: 'magic',
      expected: MAGIC,
    });
  }
  if (bytes.length < 20)
    fail('BAD_MODEL_FILE', `${name} is truncated: ${bytes.length} bytes, not even a header`, {
      file: name,
      field: 'length',
      value: bytes.length,
      expected: 'at least 20 bytes',
    });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  const headerLength = view.getUint32(12, true);
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) {
    // A newer format may checksum differently: say so rather than "corrupted".
    if (version > FORMAT_VERSION && version < 1000) {
      fail(
        'MODEL_FILE_VERSION',
        `${name} has format version ${version}, newer than this twotower reads (${FORMAT_VERSION}): upgrade twotower to load it`,
        { file: name, field: 'version', value: version, expected: `≤ ${FORMAT_VERSION}` },
      );
    }
    // Only to word the message: a file shorter than its own header says was cut short.
    let expected = 16 + headerLength + 4;
    if (expected <= bytes.length) {
      try {
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength))) as Header;
        expected += impliedBodyLength(header);
      } catch {
        expected = NaN;
      }
    }
    if (expected > bytes.length)
      fail('BAD_MODEL_FILE', `${name} is truncated: expected ${expected} bytes, found ${bytes.length}`, {
        file: name,
        field: 'length',
        value: bytes.length,
        expected: `${expected} bytes`,
      });
    fail(
      'BAD_MODEL_FILE',
      `${name} is corrupted: checksum ${actual.toString(16)} does not match the stored ${stored.toString(16)}`,
      { file: name, field: 'checksum', value: stored.toString(16), expected: actual.toString(16) },
    );
  }
  if (version > FORMAT_VERSION) {
    fail(
      'MODEL_FILE_VERSION',
      `${name} has format version ${version}, newer than this twotower reads (${FORMAT_VERSION}): upgrade twotower to load it`,
      { file: name, field: 'version', value: version, expected: `≤ ${FORMAT_VERSION}` },
    );
  }
  if (version < 1)
    fail('BAD_MODEL_FILE', `${name} is corrupted: format version ${version}`, {
      file: name,
      field: 'version',
      value: version,
      expected: `1…${FORMAT_VERSION}`,
    });
  if (headerLength % 4 !== 0 || 16 + headerLength + 4 > bytes.length) {
    fail('BAD_MODEL_FILE', `${name} is corrupted: a header of ${headerLength} bytes does not fit a ${bytes.length}-byte file`, {
      file: name,
      field: 'headerLength',
      value: headerLength,
    });
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    fail('BAD_MODEL_FILE', `${name} is corrupted: its header is not valid JSON`, { file: name, field: 'header' });
  }
  const bodyStart = 16 + headerLength;
  const bodyLength = bytes.length - 4 - bodyStart;
  validateHeader(header, bodyLength, name);
  const expected = bodyStart + impliedBodyLength(header) + 4;
  if (expected !== bytes.length)
    fail('BAD_MODEL_FILE', `${name} is corrupted: its sections end at ${expected} bytes, the file has ${bytes.length}`, {
      file: name,
      field: 'length',
      value: bytes.length,
      expected: `${expected} bytes`,
    });
  const read = (s: Section): Float32Array | Int32Array => {
    const at = bodyStart + s.offset;
    const out = s.type === 'f32' ? new Float32Array(s.length) : new Int32Array(s.length);
    for (let i = 0; i < s.length; i++)
      out[i] = s.type === 'f32' ? view.getFloat32(at + i * 4, true) : view.getInt32(at + i * 4, true);
    return out;
  };
  const flat = read(header.parameters.data) as Float32Array;
  for (let i = 0; i < flat.length; i++) {
    // Training never gets near 1e8 (fit() stops at non-finite values); a file that does was tampered with.
    if (!(Math.abs(flat[i]!) <= MAX_PARAMETER))
      fail('BAD_MODEL_FILE', `${name} is corrupted: parameter value ${i} is ${flat[i]}`);
  }
  const parameters: Record<string, Float32Array> = Object.create(null) as Record<string, Float32Array>;
  for (const b of header.parameters.blocks) parameters[b.name] = flat.slice(b.offset, b.offset + b.size);
  const table = (t: Header['features']['user']): FeatureTable | undefined => {
    if (!t) return undefined;
    const columns: Record<string, FeatureColumn> = Object.create(null) as Record<string, FeatureColumn>;
    for (const [col, layout] of Object.entries(t.columns)) {
      if (layout.kind === 'bag') {
        columns[col] = {
          offsets: read(layout.offsets) as Int32Array,
          ids: read(layout.ids) as Int32Array,
          ...(layout.weights ? { weights: read(layout.weights) as Float32Array } : {}),
        };
      } else {
        columns[col] = read(layout.data);
      }
    }
    return { count: t.count, columns };
  };
  return {
    config: header.config,
    optimizerSteps: header.optimizerSteps,
    parameters,
    vocabularies: header.vocabularies,
    userFeatures: table(header.features.user),
    itemFeatures: table(header.features.item),
    metadata: header.metadata ?? {},
    ...(header.labels !== undefined ? { labels: header.labels } : {}),
    ...(header.loss !== undefined ? { loss: header.loss } : {}),
    ...(header.training !== undefined ? { training: header.training } : {}),
    ...(header.optimizerState
      ? {
          optimizerState: header.optimizerState.map((g) => {
            const slots = g.slots.map((slot) => read(slot) as Float32Array);
            for (const values of slots)
              for (let i = 0; i < values.length; i++)
                if (!Number.isFinite(values[i]!))
                  fail('BAD_MODEL_FILE', `${name} is corrupted: optimizer state of "${g.group}" holds ${values[i]}`);
            return { group: g.group, owner: g.owner, slots };
          }),
        }
      : {}),
    ...(header.seen
      ? { seen: { offsets: read(header.seen.offsets) as Int32Array, ids: read(header.seen.ids) as Int32Array } }
      : {}),
  };
}
