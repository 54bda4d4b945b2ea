// A model file's header: its shape (sections of the body, column layouts, the header fields) and
// the schema check that runs before anything is read or allocated. The file's framing (magic,
// version, checksum, sections in and out) is src/io/model-file.ts.
import { fail } from '../errors.js';
import type { TwoTowerConfig } from '../config/model.js';
import type { VocabularyJSON } from '../data/vocabulary.js';

export interface Section {
  type: 'f32' | 'i32';
  offset: number;
  length: number;
}

export type ColumnLayout =
  | { kind: 'i32'; data: Section }
  | { kind: 'f32'; data: Section }
  | { kind: 'bag'; offsets: Section; ids: Section; weights?: Section };

export interface Header {
  config: TwoTowerConfig;
  optimizerSteps: number;
  parameters: { total: number; blocks: { name: string; offset: number; size: number }[]; data: Section };
  vocabularies: { user?: VocabularyJSON; item?: VocabularyJSON };
  features: {
    user?: { count: number; columns: Record<string, ColumnLayout> };
    item?: { count: number; columns: Record<string, ColumnLayout> };
  };
  metadata: Record<string, unknown>;
  /** Human names by id, `[id, label]` pairs per side (absent: none, or a file from before 0.2). */
  labels?: LabelsJSON;
  seen?: { offsets: Section; ids: Section };
  /** The loss the model was last trained with (absent: never trained, or an older file). */
  loss?: string;
  /** The fit settings update() continues with (absent: never trained, or an older file). */
  training?: Record<string, unknown>;
  /** Optimizer state per parameter group: its optimizer's name and its slots (absent: none kept). */
  optimizerState?: { group: string; owner: string; slots: Section[] }[];
}

/** Labels as a model file's header holds them: `[id, label]` pairs per side. */
export interface LabelsJSON {
  user?: [string, string][];
  item?: [string, string][];
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
export function impliedBodyLength(header: Header): number {
  try {
    return sectionsOf(header).reduce((end, s) => Math.max(end, s.offset + s.length * 4), 0);
  } catch {
    return NaN;
  }
}

export function sectionsOf(header: Header): Section[] {
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
export function validateHeader(header: unknown, bodyLength: number, name: string): asserts header is Header {
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
  if (h.labels !== undefined) {
    if (!isObject(h.labels)) bad('labels must be an object');
    for (const [side, pairs] of Object.entries(h.labels as Record<string, unknown>)) {
      if (side !== 'user' && side !== 'item') bad(`labels.${side} is not a side (user, item)`);
      if (!Array.isArray(pairs) || pairs.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((x) => typeof x !== 'string')))
        bad(`labels.${side} must be a list of [id, label] string pairs`);
    }
  }
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
