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
  /** Several 0/1 columns (MovieLens 100K's 19 genre flags) as one multi-hot set. */
  | { kind: 'flags'; name: string; columns: (number | string)[]; dim?: number }
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
  const encoding: SideEncoding = {};
  // A given encoding fixes the categories: unknown ones become 0 (categorical) or are dropped (sets).
  const vocabularyFor = (name: string): Vocabulary => {
    const keys = given?.[name]?.keys;
    return keys ? Vocabulary.fromJSON({ mode: 'exact', keys }) : new Vocabulary();
  };
  const count = entities.size;
  const rows: (SideRow | undefined)[] = [undefined];
  for (let e = 1; e < count; e++) {
    const key = entities.key(e)!;
    const row = source.rows.get(key);
    if (!row) fail('UNKNOWN_ID', `${side} id "${key}" appears in the ratings but not in ${source.file}`);
    rows.push(row);
  }
  // No prototype: a column named "__proto__" or "constructor" is just a column.
  const columns: Record<string, FeatureColumn> = Object.create(null) as Record<string, FeatureColumn>;
  const features: FeatureSpec[] = [];
  for (const spec of specs) {
    const dim = 'dim' in spec && spec.dim !== undefined ? spec.dim : DEFAULT_DIM;
    const field = (row: SideRow, index: number): string => {
      const value = row.fields[index];
      if (value === undefined)
        fail(
          'BAD_LINE',
          `${source.file}:${row.line}: feature "${spec.name}" reads column ${index + 1}, but the line has ${row.fields.length} fields`,
        );
      return value;
    };
    switch (spec.kind) {
      case 'categorical': {
        const at = columnIndex(source, spec.column, spec.name);
        const vocab = vocabularyFor(spec.name);
        columns[spec.name] = Int32Array.from(rows, (row) => (row ? vocab.add(field(row, at).trim()) : Vocabulary.OOV));
        features.push({ kind: 'categorical', name: spec.name, vocabSize: vocab.size, dim });
        encoding[spec.name] = { keys: vocab.toJSON().keys! };
        break;
      }
      case 'bucketized': {
        const at = columnIndex(source, spec.column, spec.name);
        const bounds = spec.boundaries;
        columns[spec.name] = Int32Array.from(rows, (row) => {
          if (!row) return 0;
          const value = parseNumber(field(row, at), spec.transform);
          if (Number.isNaN(value))
            fail(
              'BAD_LINE',
              `${source.file}:${row.line}: feature "${spec.name}" (column ${at + 1}) is ${JSON.stringify(field(row, at))}, not a number`,
            );
          if (value === undefined) return 0;
          let b = 1;
          while (b - 1 < bounds.length && bounds[b - 1]! <= value) b++;
          return b;
        });
        features.push({ kind: 'categorical', name: spec.name, vocabSize: bounds.length + 2, dim });
        break;
      }
      case 'multiHot': {
        const at = columnIndex(source, spec.column, spec.name);
        const vocab = vocabularyFor(spec.name);
        const lists = rows.map((row) => {
          if (!row) return [];
          const tokens = field(row, at)
            .split(spec.separator)
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
        const at = spec.columns.map((c) => columnIndex(source, c, spec.name));
        const lists = rows.map((row) =>
          row ? at.flatMap((index, flag) => (field(row, index).trim() === '1' ? [flag] : [])) : [],
        );
        columns[spec.name] = bag(lists);
        features.push({ kind: 'multiHot', name: spec.name, vocabSize: at.length, dim, pooling: 'mean' });
        break;
      }
      case 'tokens': {
        const at = columnIndex(source, spec.column, spec.name);
        const lists = rows.map((row) => {
          if (!row) return [];
          const words = field(row, at)
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
        const at = columnIndex(source, spec.column, spec.name);
        const raw = rows.map((row) => {
          if (!row) return undefined;
          const value = parseNumber(field(row, at), spec.transform);
          if (Number.isNaN(value))
            fail(
              'BAD_LINE',
              `${source.file}:${row.line}: feature "${spec.name}" (column ${at + 1}) is ${JSON.stringify(field(row, at))}, not a number`,
            );
          return value;
        });
        const present = raw.filter((v): v is number => v !== undefined);
        const known = given?.[spec.name];
        const mean = known?.mean ?? (present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0);
        const sd =
          known?.sd ?? (present.length ? Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / present.length) || 1 : 1);
        const lo = known?.lo ?? Math.min(...present, 0),
          hi = known?.hi ?? Math.max(...present, 1);
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
