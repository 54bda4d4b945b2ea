// Declarative side features: per-entity rows of text fields (a users or items file) turned into
// the model's feature columns. Each spec names a column (0-based index or header name) and how
// to encode it; the result is a FeatureTable ordered by entity index and the FeatureSpecs the
// tower config needs. Entity 0 is the out-of-vocabulary entity: it gets "missing" values.
import { fail } from '../errors.js';
import type { FeatureSpec } from '../config/model.js';
import type { FeatureTable, FeatureColumn } from '../config/feature-table.js';
import { Vocabulary, fnv1a } from './vocabulary.js';
import { csrFromLists } from './csr.js';

export type SideFeatureSpec =
  /** One category per entity (gender, occupation), with its own vocabulary (0 = unknown). */
  | { kind: 'categorical'; name: string; column: number | string; dim?: number }
  /** A number cut into buckets: index 0 = missing, 1 + (number of boundaries ≤ value). */
  | { kind: 'bucketized'; name: string; column: number | string; boundaries: number[]; transform?: 'year'; dim?: number }
  /** A list in one field ("Action|Comedy"), each token embedded and mean-pooled. */
  | { kind: 'multiHot'; name: string; column: number | string; separator: string; dim?: number }
  /**
   * Several 0/1 columns (MovieLens 100K's 19 genre flags) as one multi-hot set; `names` says what
   * each flag means ("Comedy"), for reasons in words (default: a column's header name, if given by name).
   */
  | { kind: 'flags'; name: string; columns: (number | string)[]; names?: string[]; dim?: number }
  /** Words of a text field (titles), lower-cased and hashed into `buckets`, mean-pooled. */
  | { kind: 'tokens'; name: string; column: number | string; buckets: number; dim?: number }
  /** A number, standardised ('zscore', the default), scaled to [0, 1] ('minmax') or as is; missing → the mean. */
  | {
      kind: 'numeric';
      name: string;
      column: number | string;
      normalize?: 'zscore' | 'minmax' | 'none';
      transform?: 'year' | 'log1p';
    };

export interface SideRow {
  fields: string[];
  /** 1-based line in the file, for messages. */
  line: number;
}

export interface SideSource {
  /** File name, for messages. */
  file: string;
  header: string[] | null;
  /** Rows keyed by entity id. */
  rows: Map<string, SideRow>;
}

/**
 * What encoding a side file learned from its rows, per feature: a categorical or multi-hot
 * feature's category list (index i + 1 = keys[i]; 0 is unknown), a numeric feature's statistics.
 * Saved with a model (metadata) so that new entities' rows are encoded the same way.
 */
export type SideEncoding = Record<string, { keys?: string[]; mean?: number; sd?: number; lo?: number; hi?: number }>;

export interface BuiltSideFeatures {
  table: FeatureTable;
  features: FeatureSpec[];
  /** The encoding used (learned from the rows, or the one given). */
  encoding: SideEncoding;
}

const DEFAULT_DIM = 8;

/**
 * A field as the encoders read it: a side file's text, or a value given in code (a number, a
 * list of tokens; null: missing, the unknown value).
 */
export type SideField = string | number | readonly (string | number)[] | null;

/**
 * How the encoders read rows: a side file's (text fields; BAD_LINE naming the file and line) or
 * values given in code (src/data/side-values.ts, checked before they get here).
 */
export interface SideReader<R> {
  /** The column a spec's `column` (or one of a flags spec's `columns`) names. */
  column(spec: SideFeatureSpec, column: number | string): number;
  /** The field at column `at` of `row`. */
  field(row: R, at: number, spec: SideFeatureSpec): SideField;
  /** Throws for a field that should be a number and is not. */
  notANumber(row: R, at: number, spec: SideFeatureSpec, value: SideField): never;
}

function columnIndex(source: SideSource, column: number | string, feature: string): number {
  if (typeof column === 'number') return column;
  const at = source.header?.findIndex((h) => h.trim().toLowerCase() === column.toLowerCase()) ?? -1;
  if (at < 0)
    fail('MISSING_COLUMN', `${source.file}: feature "${feature}" reads column "${column}", which the file does not have`);
  return at;
}

function parseNumber(raw: string, transform: 'year' | 'log1p' | undefined): number | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  if (transform === 'year') {
    const match = /(\d{4})/.exec(text);
    return match ? Number(match[1]) : undefined;
  }
  const value = Number(text);
  if (!Number.isFinite(value)) return NaN;
  return transform === 'log1p' ? Math.log1p(Math.max(0, value)) : value;
}

/** A field's number: text parsed as a side file's, a number as given (NaN: not a number; undefined: missing). */
function numberOf(value: SideField, transform: 'year' | 'log1p' | undefined): number | undefined {
  if (value === null) return undefined;
  if (typeof value === 'string') return parseNumber(value, transform);
  if (typeof value !== 'number' || !Number.isFinite(value)) return NaN;
  return transform === 'log1p' ? Math.log1p(Math.max(0, value)) : value;
}

/** A field's text (a number given in code as its decimal form); null stays missing. */
function textOf(value: SideField): string | null {
  if (value === null) return null;
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : String(value);
}

/** Builds bag columns (CSR) from per-entity id lists. */
function bag(lists: number[][]): FeatureColumn {
  return csrFromLists(lists);
}

/**
 * Encodes `specs` for every entity of `entities` (index 1… ; 0 is OOV). Every entity must have a
 * row in the source: an id the ratings use but the side file lacks is an error.
 */
export function buildSideFeatures(
  side: 'user' | 'item',
  source: SideSource,
  entities: Vocabulary,
  specs: SideFeatureSpec[],
  given?: SideEncoding,
): BuiltSideFeatures {
  const rows: (SideRow | undefined)[] = [undefined];
  for (let e = 1; e < entities.size; e++) {
    const key = entities.key(e)!;
    const row = source.rows.get(key);
    if (!row)
      fail('UNKNOWN_ID', `${side} id "${key}" appears in the ratings but not in ${source.file}`, {
        id: key,
        side,
        file: source.file,
      });
    rows.push(row);
  }
  return encodeSideRows(rows, specs, given, {
    column: (spec, column) => columnIndex(source, column, spec.name),
    field(row, index, spec) {
      const value = row.fields[index];
      if (value === undefined)
        fail(
          'BAD_LINE',
          `${source.file}:${row.line}: feature "${spec.name}" reads column ${index + 1}, but the line has ${row.fields.length} fields`,
        );
      return value;
    },
    notANumber: (row, at, spec, value) =>
      fail(
        'BAD_LINE',
        `${source.file}:${row.line}: feature "${spec.name}" (column ${at + 1}) is ${JSON.stringify(value)}, not a number`,
      ),
  });
}

/**
 * Encodes `specs` for `rows`, one per table row in order; an undefined row (the unknown entity,
 * or one with no row in the source) takes every feature's missing value. The one encoder of side
 * features: a side file's rows (buildSideFeatures) and values given in code (side-values.ts)
 * come through it alike.
 */
export function encodeSideRows<R>(
  rows: readonly (R | undefined)[],
  specs: readonly SideFeatureSpec[],
  given: SideEncoding | undefined,
  reader: SideReader<R>,
): BuiltSideFeatures {
  const encoding: SideEncoding = {};
  // A given encoding fixes the categories: unknown ones become 0 (categorical) or are dropped (sets).
  const vocabularyFor = (name: string): Vocabulary => {
    const keys = given?.[name]?.keys;
    return keys ? Vocabulary.fromJSON({ mode: 'exact', keys }) : new Vocabulary();
  };
  const count = rows.length;
  // No prototype: a column named "__proto__" or "constructor" is just a column.
  const columns: Record<string, FeatureColumn> = Object.create(null) as Record<string, FeatureColumn>;
  const features: FeatureSpec[] = [];
  for (const spec of specs) {
    const dim = 'dim' in spec && spec.dim !== undefined ? spec.dim : DEFAULT_DIM;
    const number = (row: R, at: number, transform: 'year' | 'log1p' | undefined): number | undefined => {
      const field = reader.field(row, at, spec);
      const value = numberOf(field, transform);
      if (Number.isNaN(value)) reader.notANumber(row, at, spec, field);
      return value;
    };
    switch (spec.kind) {
      case 'categorical': {
        const at = reader.column(spec, spec.column);
        const vocab = vocabularyFor(spec.name);
        columns[spec.name] = Int32Array.from(rows, (row) => {
          const text = row === undefined ? null : textOf(reader.field(row, at, spec));
          return text === null ? Vocabulary.OOV : vocab.add(text.trim());
        });
        features.push({ kind: 'categorical', name: spec.name, vocabSize: vocab.size, dim });
        encoding[spec.name] = { keys: vocab.toJSON().keys! };
        break;
      }
      case 'bucketized': {
        const at = reader.column(spec, spec.column);
        const bounds = spec.boundaries;
        columns[spec.name] = Int32Array.from(rows, (row) => {
          const value = row === undefined ? undefined : number(row, at, spec.transform);
          if (value === undefined) return 0;
          let b = 1;
          while (b - 1 < bounds.length && bounds[b - 1]! <= value) b++;
          return b;
        });
        features.push({ kind: 'categorical', name: spec.name, vocabSize: bounds.length + 2, dim });
        break;
      }
      case 'multiHot': {
        const at = reader.column(spec, spec.column);
        const vocab = vocabularyFor(spec.name);
        const lists = rows.map((row) => {
          const field = row === undefined ? null : reader.field(row, at, spec);
          if (field === null) return [];
          const tokens = (Array.isArray(field) ? field.map(String) : String(field).split(spec.separator))
            .map((t) => t.trim())
            .filter((t) => t !== '' && t !== '(no genres listed)');
          return [...new Set(tokens.map((t) => vocab.add(t)))].filter((t) => t !== Vocabulary.OOV);
        });
        columns[spec.name] = bag(lists);
        features.push({ kind: 'multiHot', name: spec.name, vocabSize: vocab.size, dim, pooling: 'mean' });
        encoding[spec.name] = { keys: vocab.toJSON().keys! };
        break;
      }
      case 'flags': {
        const at = spec.columns.map((c) => reader.column(spec, c));
        const lists = rows.map((row) =>
          row === undefined
            ? []
            : at.flatMap((index, flag) => (textOf(reader.field(row, index, spec))?.trim() === '1' ? [flag] : [])),
        );
        columns[spec.name] = bag(lists);
        features.push({ kind: 'multiHot', name: spec.name, vocabSize: at.length, dim, pooling: 'mean' });
        break;
      }
      case 'tokens': {
        const at = reader.column(spec, spec.column);
        const lists = rows.map((row) => {
          const text = row === undefined ? null : textOf(reader.field(row, at, spec));
          if (text === null) return [];
          const words = text
            .toLowerCase()
            .split(/[^\p{L}\p{N}]+/u)
            .filter((w) => w.length > 1);
          return [...new Set(words.map((w) => fnv1a(w) % spec.buckets))].sort((a, b) => a - b);
        });
        columns[spec.name] = bag(lists);
        features.push({ kind: 'multiHot', name: spec.name, vocabSize: spec.buckets, dim, pooling: 'mean' });
        break;
      }
      case 'numeric': {
        const at = reader.column(spec, spec.column);
        const raw = rows.map((row) => (row === undefined ? undefined : number(row, at, spec.transform)));
        const present = raw.filter((v): v is number => v !== undefined);
        const known = given?.[spec.name];
        const mean = known?.mean ?? (present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0);
        const sd =
          known?.sd ?? (present.length ? Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / present.length) || 1 : 1);
        // A loop, not Math.min(...present): a spread of a large catalogue overflows the stack.
        let lo = 0,
          hi = 1;
        for (const v of present) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        if (known?.lo !== undefined) lo = known.lo;
        if (known?.hi !== undefined) hi = known.hi;
        encoding[spec.name] = { mean, sd, lo, hi };
        const normalize = spec.normalize ?? 'zscore';
        columns[spec.name] = Float32Array.from(raw, (v) => {
          const x = v ?? mean;
          return normalize === 'zscore' ? (x - mean) / sd : normalize === 'minmax' ? (x - lo) / (hi - lo || 1) : x;
        });
        features.push({ kind: 'numeric', name: spec.name, size: 1 });
        break;
      }
      default:
        fail(
          'BAD_CONFIG',
          `side feature "${(spec as { name?: string }).name}": unknown kind ${JSON.stringify((spec as { kind?: unknown }).kind)}`,
        );
    }
  }
  return { table: { count, columns }, features, encoding };
}
