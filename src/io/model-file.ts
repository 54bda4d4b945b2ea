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

export const FORMAT_VERSION = 1;
/** The largest parameter magnitude a model file may hold. */
export const MAX_PARAMETER = 1e8;
const MAGIC = 'TWOTOWER';

interface Section {
  type: 'f32' | 'i32';
  offset: number;
  length: number;
}

type ColumnLayout =
  | { kind: 'i32'; data: Section }
  | { kind: 'f32'; data: Section }
  | { kind: 'bag'; offsets: Section; ids: Section; weights?: Section };

interface Header {
  config: TwoTowerConfig;
  optimizerSteps: number;
  parameters: { total: number; blocks: { name: string; offset: number; size: number }[]; data: Section };
  vocabularies: { user?: VocabularyJSON; item?: VocabularyJSON };
  features: {
    user?: { count: number; columns: Record<string, ColumnLayout> };
    item?: { count: number; columns: Record<string, ColumnLayout> };
  };
  metadata: Record<string, unknown>;
  seen?: { offsets: Section; ids: Section };
  /** The loss the model was last trained with (absent: never trained, or an older file). */
  loss?: string;
  /** The fit settings update() continues with (absent: never trained, or an older file). */
  training?: Record<string, unknown>;
  /** Optimizer state per parameter group: its optimizer's name and its slots (absent: none kept). */
  optimizerState?: { group: string; owner: string; slots: Section[] }[];
}

export interface ModelFileContents {
  config: TwoTowerConfig;
  optimizerSteps: number;
  /** Parameter values by block name. */
  parameters: Record<string, Float32Array>;
  vocabularies: { user?: VocabularyJSON; item?: VocabularyJSON };
  userFeatures?: FeatureTable;
  itemFeatures?: FeatureTable;
  metadata: Record<string, unknown>;
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

/** How deep a header (or model metadata) may nest: deeper JSON overflows the stack when written back. */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a JSON value, measured without recursion (so any depth can be measured). */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Where the sections of a header end: the body length it implies (NaN if the header is malformed). */
function impliedBodyLength(header: Header): number {
  try {
    return sectionsOf(header).reduce((end, s) => Math.max(end, s.offset + s.length * 4), 0);
  } catch {
    return NaN;
  }
}

function sectionsOf(header: Header): Section[] {
  const sections = [header.parameters.data];
  for (const t of [header.features.user, header.features.item]) {
    for (const c of Object.values(t?.columns ?? {})) {
      if (c.kind === 'bag') sections.push(c.offsets, c.ids, ...(c.weights ? [c.weights] : []));
      else sections.push(c.data);
    }
  }
  if (header.seen) sections.push(header.seen.offsets, header.seen.ids);
  for (const g of header.optimizerState ?? []) sections.push(...g.slots);
  return sections;
}

/**
 * Checks a header against the format's schema before anything is read or allocated: the type of
 * every field, every section's type, offset and length inside the body (no two sharing bytes),
 * the parameter blocks end to end over the values, one optimizer state per group, and a loss
 * wherever training settings are (the same one). Throws BAD_MODEL_FILE naming the field. What
 * needs the config (vocabularies against the tables, the loss and settings against fit()'s
 * rules) is checked where the model is rebuilt (src/api/model-bytes.ts).
 */
function validateHeader(header: unknown, bodyLength: number, name: string): asserts header is Header {
  const bad = (what: string): never => fail('BAD_MODEL_FILE', `${name} is corrupted: ${what}`, { file: name });
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const count = (v: unknown, where: string, max = Number.MAX_SAFE_INTEGER): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
      bad(`${where} must be an integer in [0, ${max}], got ${JSON.stringify(v)}`);
    return v as number;
  };
  const placed: { where: string; start: number; end: number }[] = [];
  const section = (v: unknown, where: string, type: 'f32' | 'i32'): void => {
    if (!isObject(v)) bad(`${where} is missing`);
    const sec = v as Record<string, unknown>;
    if (sec.type !== type) bad(`${where}.type must be "${type}", got ${JSON.stringify(sec.type)}`);
    const offset = count(sec.offset, `${where}.offset`, bodyLength);
    const length = count(sec.length, `${where}.length`, bodyLength / 4);
    if (offset % 4 !== 0 || offset + 4 * length > bodyLength)
      bad(`${where} (offset ${offset}, ${length} values) lies outside the ${bodyLength}-byte body`);
    if (length > 0) placed.push({ where, start: offset, end: offset + 4 * length });
  };
  if (!isObject(header)) bad('its header is not an object');
  const h = header as Record<string, unknown>;
  if (!isObject(h.config)) bad('config is missing');
  count(h.optimizerSteps, 'optimizerSteps');
  if (!isObject(h.parameters)) bad('parameters is missing');
  const params = h.parameters as Record<string, unknown>;
  section(params.data, 'parameters.data', 'f32');
  const dataLength = (params.data as { length: number }).length;
  if (params.total !== dataLength)
    bad(`parameters.total is ${JSON.stringify(params.total)}, but parameters.data holds ${dataLength} values`);
  if (!Array.isArray(params.blocks)) bad('parameters.blocks must be a list');
  const names = new Set<string>();
  // The blocks lie end to end in the order listed and cover the values exactly (as written).
  let next = 0;
  (params.blocks as unknown[]).forEach((b, i) => {
    if (!isObject(b) || typeof b.name !== 'string') bad(`parameters.blocks[${i}] must be { name, offset, size }`);
    const block = b as { name: string; offset: unknown; size: unknown };
    if (names.has(block.name)) bad(`parameter block "${block.name}" appears twice`);
    names.add(block.name);
    const offset = count(block.offset, `parameters.blocks[${i}].offset`, dataLength);
    const size = count(block.size, `parameters.blocks[${i}].size`, dataLength);
    if (offset + size > dataLength) bad(`parameter block "${block.name}" runs past the end of the parameters`);
    if (offset !== next) bad(`parameters.blocks[${i}].offset is ${offset}, expected ${next} (the blocks lie end to end)`);
    next = offset + size;
  });
  if (next !== dataLength) bad(`parameters.blocks cover ${next} of the ${dataLength} parameter values`);
  if (!isObject(h.vocabularies)) bad('vocabularies must be an object');
  for (const side of ['user', 'item']) {
    const v = (h.vocabularies as Record<string, unknown>)[side];
    if (v === undefined) continue;
    if (!isObject(v)) bad(`vocabularies.${side} must be an object`);
    const vocab = v as Record<string, unknown>;
    const stray = Object.keys(vocab).find((key) => !['mode', 'keys', 'buckets'].includes(key));
    if (stray !== undefined) bad(`vocabularies.${side}.${stray} is not a field of a vocabulary (mode, keys, buckets)`);
    if (vocab.mode === 'exact' && vocab.buckets !== undefined)
      bad(`vocabularies.${side}.buckets is given, but an exact vocabulary has keys, not buckets`);
    if (vocab.mode === 'hash' && vocab.keys !== undefined)
      bad(`vocabularies.${side}.keys is given, but a hash vocabulary has buckets, not keys`);
    if (vocab.mode === 'exact') {
      if (!Array.isArray(vocab.keys) || vocab.keys.some((k) => typeof k !== 'string'))
        bad(`vocabularies.${side}.keys must be a list of strings`);
      if (new Set(vocab.keys as string[]).size !== (vocab.keys as string[]).length)
        bad(`vocabularies.${side}.keys repeats a key`);
    } else if (vocab.mode === 'hash') {
      count(vocab.buckets, `vocabularies.${side}.buckets`, 2 ** 31 - 1);
      if (vocab.buckets === 0) bad(`vocabularies.${side}.buckets must be ≥ 1`);
    } else {
      bad(`vocabularies.${side}.mode must be "exact" or "hash", got ${JSON.stringify(vocab.mode)}`);
    }
  }
  if (!isObject(h.features)) bad('features must be an object');
  for (const side of ['user', 'item']) {
    const t = (h.features as Record<string, unknown>)[side];
    if (t === undefined) continue;
    if (!isObject(t) || !isObject(t.columns)) bad(`features.${side} must be { count, columns }`);
    const table = t as { count: unknown; columns: Record<string, unknown> };
    count(table.count, `features.${side}.count`, 2 ** 31 - 2);
    for (const [column, layout] of Object.entries(table.columns)) {
      const where = `features.${side}.columns.${column}`;
      if (!isObject(layout)) bad(`${where} is not a column layout`);
      const l = layout as Record<string, unknown>;
      if (l.kind === 'bag') {
        section(l.offsets, `${where}.offsets`, 'i32');
        section(l.ids, `${where}.ids`, 'i32');
        if (l.weights !== undefined) section(l.weights, `${where}.weights`, 'f32');
      } else if (l.kind === 'i32' || l.kind === 'f32') {
        section(l.data, `${where}.data`, l.kind);
      } else {
        bad(`${where}.kind must be "i32", "f32" or "bag", got ${JSON.stringify(l.kind)}`);
      }
    }
  }
  if (h.metadata !== undefined && !isObject(h.metadata)) bad('metadata must be an object');
  if (h.loss !== undefined && (typeof h.loss !== 'string' || !/^[a-z0-9_-]{1,32}$/i.test(h.loss)))
    bad(`loss must be a loss name, got ${JSON.stringify(h.loss)}`);
  if (h.training !== undefined) {
    if (!isObject(h.training)) bad('training must be an object');
    // The settings are checked against fit()'s rules where the model is rebuilt (src/api/model-bytes.ts).
    if (h.loss === undefined) bad('training settings without a loss (a trained model records both)');
    const said = (h.training as Record<string, unknown>).loss;
    if (said !== undefined && said !== h.loss)
      bad(`training.loss is ${JSON.stringify(said)}, but the model was trained with loss ${JSON.stringify(h.loss)}`);
  }
  if (h.optimizerState !== undefined) {
    if (!Array.isArray(h.optimizerState)) bad('optimizerState must be a list');
    const groups = new Set<string>();
    (h.optimizerState as unknown[]).forEach((g, i) => {
      const where = `optimizerState[${i}]`;
      if (!isObject(g) || typeof g.group !== 'string' || typeof g.owner !== 'string' || !Array.isArray(g.slots))
        bad(`${where} must be { group, owner, slots }`);
      const group = (g as { group: string }).group;
      if (groups.has(group)) bad(`${where} repeats group ${JSON.stringify(group)}`);
      groups.add(group);
      (g as { slots: unknown[] }).slots.forEach((slot, j) => section(slot, `${where}.slots[${j}]`, 'f32'));
    });
  }
  if (jsonDepth(h) > MAX_JSON_DEPTH) bad(`its header nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (h.seen !== undefined) {
    if (!isObject(h.seen)) bad('seen must be { offsets, ids }');
    section((h.seen as Record<string, unknown>).offsets, 'seen.offsets', 'i32');
    section((h.seen as Record<string, unknown>).ids, 'seen.ids', 'i32');
  }
  // No two sections share bytes (each was written once, in turn): a section laid over another
  // would read one array as another.
  const order = placed.slice().sort((a, b) => a.start - b.start);
  let reach = order[0];
  for (const later of order.slice(1)) {
    if (later.start < reach!.end)
      bad(
        `${later.where} (bytes ${later.start}–${later.end}) overlaps ${reach!.where} (bytes ${reach!.start}–${reach!.end}) in the body`,
      );
    if (later.end > reach!.end) reach = later;
  }
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
