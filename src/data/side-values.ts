// Side features given in code: per-entity values by id — strings, numbers, lists of strings — as
// a JavaScript user holds them, encoded exactly as the CLI encodes a side file (one encoder,
// encodeSideRows in side-features.ts). A column's kind comes from its values as the CLI's
// inferSideFeatures takes it from a file's text: numbers → numeric (z-scored), strings →
// categorical, lists → multi-hot; `specs` may say otherwise. The specs (each reading the column
// of its own name) and the learned encoding are what a model records in its metadata, so that
// update() and addItems() later encode new entities' values the same way (encodeGivenColumns).
import { fail } from '../errors.js';
import type { FeatureColumn } from '../config/feature-table.js';
import { checkId, shown } from './checks.js';
import type { Vocabulary } from './vocabulary.js';
import {
  encodeSideRows,
  type BuiltSideFeatures,
  type SideEncoding,
  type SideFeatureSpec,
  type SideReader,
} from './side-features.js';

/** One entity's value of a feature: a string, a finite number, a list of strings (or numbers); null or undefined: unknown. */
export type SideValue = string | number | readonly (string | number)[] | null | undefined;

/** How to encode one column, where its values' type would choose otherwise (or to set a width). */
export type SideColumnSpec =
  /** One category per entity (strings or numbers as labels; 0 = unknown). */
  | { kind: 'categorical'; /** Embedding width. Default 8. */ dim?: number }
  /** A set per entity (lists of strings), its tokens' embeddings mean-pooled. */
  | { kind: 'multiHot'; /** Embedding width. Default 8. */ dim?: number }
  /** A number per entity, standardised (default 'zscore'), scaled to [0, 1] ('minmax') or as is; unknown → the mean. */
  | {
      kind: 'numeric';
      normalize?: 'zscore' | 'minmax' | 'none';
      /** 'log1p': log(1 + max(0, x)) first. Default none. */ transform?: 'log1p';
    }
  /** A number cut at `boundaries` (ascending) into buckets, each embedded: 0 = unknown, 1 + (boundaries ≤ value). */
  | { kind: 'bucketized'; boundaries: number[]; /** Embedding width. Default 8. */ dim?: number }
  /** Words of a text (titles), lower-cased and hashed into `buckets`, mean-pooled. */
  | { kind: 'tokens'; buckets: number; /** Embedding width. Default 8. */ dim?: number };

/** Side features by id, in the user's own values (train's `users` and `items`; update and addItems take them too). */
export interface EntityValues {
  /** The entities' ids (users' or items'), each once. */
  ids: readonly (string | number)[];
  /**
   * One plain array per feature, one value per id in `ids` order: numbers (numeric), strings
   * (categorical), lists of strings (multi-hot); null or undefined for an unknown value. The
   * column's name is the feature's.
   */
  columns: Record<string, readonly SideValue[]>;
  /** Per column, an encoding other than its values' type gives (e.g. bucketized years, categorical codes). Default: by type. */
  specs?: Record<string, SideColumnSpec>;
}

/** What checkEntityValues found: the ids as keys, and one spec per column (reading the column of its name). */
export interface CheckedValues {
  ids: string[];
  specs: SideFeatureSpec[];
}

const NORMALIZE = ['zscore', 'minmax', 'none'];

/** The value kinds messages name. */
function typeName(value: unknown): string {
  return Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
}

function isCode(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** The spec of a column from its first known value (the CLI's rule for a file's column, by JavaScript type). */
function inferredSpec(name: string, values: readonly SideValue[], where: string): SideFeatureSpec {
  const first = values.find((v) => v !== null && v !== undefined);
  if (first === undefined) fail('BAD_INPUT', `${where}: every value is null or undefined: give values, or leave the column out`);
  if (typeof first === 'number') return { kind: 'numeric', name, column: name };
  if (typeof first === 'string') return { kind: 'categorical', name, column: name, dim: 8 };
  if (Array.isArray(first)) return { kind: 'multiHot', name, column: name, separator: '|', dim: 8 };
  const at = values.indexOf(first);
  return fail(
    'BAD_INPUT',
    `${where}[${at}] is ${shown(first)} (${typeName(first)}): values are numbers, strings or lists of strings (null for unknown)`,
  );
}

/** The spec `given` asks for, checked (BAD_OPTION naming the field). */
function givenSpec(name: string, given: SideColumnSpec, where: string): SideFeatureSpec {
  if (!given || typeof given !== 'object') fail('BAD_OPTION', `${where} must be { kind, … }, got ${shown(given)}`);
  const dim = (given as { dim?: unknown }).dim;
  if (dim !== undefined && (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1))
    fail('BAD_OPTION', `${where}.dim must be an integer ≥ 1, got ${shown(dim)}`);
  const width = dim === undefined ? {} : { dim: dim as number };
  switch (given.kind) {
    case 'categorical':
      return { kind: 'categorical', name, column: name, dim: 8, ...width };
    case 'multiHot':
      return { kind: 'multiHot', name, column: name, separator: '|', dim: 8, ...width };
    case 'numeric': {
      if (given.normalize !== undefined && !NORMALIZE.includes(given.normalize))
        fail('BAD_OPTION', `${where}.normalize must be 'zscore', 'minmax' or 'none', got ${shown(given.normalize)}`);
      if (given.transform !== undefined && given.transform !== 'log1p')
        fail('BAD_OPTION', `${where}.transform must be 'log1p' or absent, got ${shown(given.transform)}`);
      return {
        kind: 'numeric',
        name,
        column: name,
        ...(given.normalize ? { normalize: given.normalize } : {}),
        ...(given.transform ? { transform: given.transform } : {}),
      };
    }
    case 'bucketized': {
      const b = given.boundaries as unknown;
      if (
        !Array.isArray(b) ||
        b.length === 0 ||
        b.some((x, i) => typeof x !== 'number' || !Number.isFinite(x) || (i > 0 && x <= (b[i - 1] as number)))
      )
        fail('BAD_OPTION', `${where}.boundaries must be a non-empty list of ascending finite numbers, got ${shown(b)}`);
      return { kind: 'bucketized', name, column: name, boundaries: [...(b as number[])], dim: 8, ...width };
    }
    case 'tokens': {
      const n = given.buckets as unknown;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        fail('BAD_OPTION', `${where}.buckets must be an integer ≥ 1, got ${shown(n)}`);
      return { kind: 'tokens', name, column: name, buckets: n, dim: 8, ...width };
    }
    default:
      return fail(
        'BAD_OPTION',
        `${where}.kind must be 'categorical', 'multiHot', 'numeric', 'bucketized' or 'tokens', got ${shown((given as { kind?: unknown }).kind)}`,
      );
  }
}

/**
 * Checks every value of `column` against what `spec` reads (BAD_INPUT naming the column, the row,
 * its id and the value). `ids` name rows in messages.
 */
function checkValues(spec: SideFeatureSpec, column: readonly SideValue[], ids: readonly unknown[], where: string): void {
  const expect =
    spec.kind === 'numeric' || spec.kind === 'bucketized'
      ? spec.transform === 'year'
        ? 'a number or a text with a year'
        : 'a finite number'
      : spec.kind === 'categorical'
        ? 'a string or a finite number'
        : spec.kind === 'multiHot'
          ? 'a list of strings'
          : 'a string';
  if (spec.kind === 'flags')
    fail('BAD_INPUT', `${where}: feature "${spec.name}" reads flag columns of a file: give it encoded (a multi-hot column)`);
  for (let r = 0; r < column.length; r++) {
    const value = column[r];
    if (value === null || value === undefined) continue;
    const ok =
      spec.kind === 'numeric' || spec.kind === 'bucketized'
        ? (typeof value === 'number' && Number.isFinite(value)) || (spec.transform === 'year' && typeof value === 'string')
        : spec.kind === 'categorical'
          ? isCode(value)
          : spec.kind === 'multiHot'
            ? (Array.isArray(value) && value.every(isCode)) || typeof value === 'string'
            : typeof value === 'string';
    if (!ok) {
      const list = Array.isArray(value) ? (value as readonly unknown[]) : [];
      const bad = spec.kind === 'multiHot' ? list.findIndex((t) => !isCode(t)) : -1;
      fail(
        'BAD_INPUT',
        `${where}[${r}] (${shown(ids[r])}) is ${shown(value)}${bad >= 0 ? `, whose item ${bad} is ${shown(list[bad])}` : ''}: the ${spec.kind} feature "${spec.name}" takes ${expect} (null for unknown)`,
      );
    }
  }
}

/**
 * Checks `input` ({ ids, columns, specs? }) where `where` names it in messages: ids non-empty
 * strings or finite numbers, each once; each column a plain array as long as `ids`, named
 * neither `reserved` (features the model makes itself) nor twice; each value what its spec reads.
 */
export function checkEntityValues(input: EntityValues, where: string, reserved: readonly string[] = []): CheckedValues {
  if (!input || typeof input !== 'object' || !Array.isArray(input.ids) || !input.columns || typeof input.columns !== 'object')
    fail('BAD_INPUT', `${where} must be { ids, columns, specs? }, got ${shown(input)}`);
  const ids = input.ids.map((id, r) => {
    checkId(id, `${where}.ids[${r}]`);
    return String(id);
  });
  const first = new Map<string, number>();
  ids.forEach((id, r) => {
    const earlier = first.get(id);
    if (earlier !== undefined)
      fail('BAD_INPUT', `${where}.ids[${r}] is ${shown(input.ids[r])}, as ids[${earlier}] is: one row per id`);
    first.set(id, r);
  });
  const specs = input.specs ?? {};
  if (typeof specs !== 'object') fail('BAD_OPTION', `${where}.specs must be an object, got ${shown(specs)}`);
  for (const name of Object.keys(specs))
    if (!Object.hasOwn(input.columns, name)) fail('BAD_OPTION', `${where}.specs.${name}: there is no column "${name}"`);
  const names = Object.keys(input.columns);
  if (names.length === 0) fail('EMPTY_DATA', `${where}.columns has no column`);
  const lower = new Map<string, string>();
  const out = names.map((name) => {
    const at = `${where}.columns.${name}`;
    if (reserved.includes(name))
      fail('BAD_INPUT', `${at}: "${name}" is a feature the model makes itself (${reserved.join(', ')}): rename the column`);
    // A side file's header is matched without case: keep names apart the same way.
    const twin = lower.get(name.toLowerCase());
    if (twin !== undefined)
      fail('BAD_INPUT', `${at}: "${name}" and "${twin}" differ only in case: give each column its own name`);
    lower.set(name.toLowerCase(), name);
    const column = input.columns[name];
    if (!Array.isArray(column))
      fail(
        'BAD_INPUT',
        `${at} must be a plain array of values, one per id, got ${ArrayBuffer.isView(column) ? `a ${column?.constructor?.name} (use Array.from)` : shown(column)}`,
      );
    if (column.length !== ids.length) fail('DIMENSION_MISMATCH', `${at} has ${column.length} values for ${ids.length} ids`);
    const spec = Object.hasOwn(specs, name)
      ? givenSpec(name, specs[name]!, `${where}.specs.${name}`)
      : inferredSpec(name, column as readonly SideValue[], at);
    checkValues(spec, column as readonly SideValue[], input.ids, at);
    return spec;
  });
  return { ids, specs: out };
}

/** Reads values given in code: row r of column `names[at]`; a spec reads the column of its name. */
function valueReader(columns: Record<string, readonly SideValue[]>, names: readonly string[], where: string): SideReader<number> {
  return {
    column: (spec) => names.indexOf(spec.name),
    field: (row, at) => columns[names[at]!]![row] ?? null,
    notANumber: (row, at, spec, value) =>
      fail('BAD_INPUT', `${where}.columns.${names[at]}[${row}] is ${shown(value)}: feature "${spec.name}" takes a number`),
  };
}

/**
 * Encodes checked values for every entity of `entities` (row 0, the unknown entity, and any
 * entity without a row in `input` take every feature's unknown value), learning the encoding —
 * or using `given`'s, as update does.
 */
export function encodeEntityValues(
  input: EntityValues,
  checked: CheckedValues,
  entities: Vocabulary,
  given: SideEncoding | undefined,
  where: string,
): BuiltSideFeatures {
  const rowOf = new Map(checked.ids.map((id, r) => [id, r]));
  const rows: (number | undefined)[] = [undefined];
  for (let e = 1; e < entities.size; e++) rows.push(rowOf.get(entities.key(e)!));
  return encodeSideRows(rows, checked.specs, given, valueReader(input.columns, Object.keys(input.columns), where));
}

/**
 * update() and addItems(): the given columns with every plain array of values encoded by the spec
 * and encoding the model recorded for that feature (metadata `${side}Specs`, `${side}Encoding`:
 * train({ items }) and the CLI record them); other columns (already encoded: Int32Array,
 * Float32Array, CSR) are passed on as they are, and so is a plain array the model has no spec
 * for (the feature's own checks then say what it takes).
 */
export function encodeGivenColumns(
  metadata: Record<string, unknown>,
  side: 'user' | 'item',
  given: { ids: readonly unknown[]; columns: Record<string, unknown> },
  where: string,
): Record<string, FeatureColumn> {
  const recorded = metadata[`${side}Specs`];
  const specs = Array.isArray(recorded) ? (recorded as SideFeatureSpec[]) : [];
  const out = Object.create(null) as Record<string, FeatureColumn>;
  const raw: Record<string, readonly SideValue[]> = Object.create(null) as Record<string, readonly SideValue[]>;
  const chosen: SideFeatureSpec[] = [];
  for (const [name, column] of Object.entries(given.columns)) {
    const spec = Array.isArray(column) ? specs.find((s) => s && typeof s === 'object' && s.name === name) : undefined;
    if (!spec) {
      out[name] = column as FeatureColumn;
      continue;
    }
    const at = `${where}.columns.${name}`;
    const list = column as readonly SideValue[];
    if (list.length !== given.ids.length)
      fail('DIMENSION_MISMATCH', `${at} has ${list.length} values for ${given.ids.length} ids`);
    checkValues(spec, list, given.ids, at);
    raw[name] = list;
    chosen.push(spec);
  }
  if (chosen.length === 0) return out;
  const encoding = metadata[`${side}Encoding`] as SideEncoding | undefined;
  const learned = chosen.find((s) => s.kind === 'categorical' || s.kind === 'multiHot' || s.kind === 'numeric');
  if (learned && !encoding?.[learned.name])
    fail(
      'BAD_MODEL_FILE',
      `${where}.columns.${learned.name}: the model does not record how its ${side} feature "${learned.name}" was encoded: give the column encoded, or retrain the model`,
    );
  const rows = Array.from(given.ids, (_, r) => r);
  return Object.assign(out, encodeSideRows(rows, chosen, encoding, valueReader(raw, Object.keys(raw), where)).table.columns);
}
