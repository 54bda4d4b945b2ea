// Rating rows → encoded interactions, one row at a time, so that files of any size stream
// through. Errors name the file, the line, the field and the value.
import { fail } from '../errors.js';
import { Growable } from '../util/growable.js';
import { Vocabulary } from './vocabulary.js';
import { shown } from './checks.js';
import type { Interactions } from './interactions.js';

/** A decimal number: optional sign, digits with an optional fraction, optional exponent. */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** The largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

export interface RatingsData extends Interactions {
  /** Seconds (or any increasing time unit) per interaction, when the file has a time column. */
  timestamps?: Float64Array;
}

/** Where each field is: a 0-based index, or a header name. */
export interface ColumnMapping {
  user?: number | string;
  item?: number | string;
  rating?: number | string;
  time?: number | string;
  /** A confidence column (a count, a duration): optional. */
  weight?: number | string;
}

export interface ResolvedColumns {
  user: number;
  item: number;
  /** Absent in an event log (every row is a positive, rating 1). */
  rating: number | undefined;
  time: number | undefined;
  weight: number | undefined;
}

/** Header names recognised for each column, compared case-insensitively. */
export const COLUMN_NAMES: Record<keyof ColumnMapping, string[]> = {
  user: ['userid', 'user_id', 'user', 'uid'],
  item: ['movieid', 'itemid', 'item_id', 'item', 'movie_id', 'iid'],
  rating: ['rating', 'score', 'stars'],
  time: ['timestamp', 'time', 'ts', 'date'],
  weight: ['weight', 'count', 'plays', 'playcount', 'play_count', 'quantity', 'clicks', 'views', 'duration'],
};

/** A header field as shown: trimmed, quotes removed. */
export const headerName = (f: string) =>
  f
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();

/** A field as a header cell, as names are compared: trimmed, quotes removed, lower case. */
export const headerCell = (f: string) => headerName(f).toLowerCase();

/**
 * True when a first line is a header: some field names a column (quoted or not), or the field
 * where a rating would be is not a number (a header with names we do not know: resolving its
 * columns then says which flags name them).
 */
export function looksLikeHeader(fields: string[], mapping: ColumnMapping): boolean {
  const names = new Set(Object.values(COLUMN_NAMES).flat());
  for (const value of Object.values(mapping)) if (typeof value === 'string') names.add(value.toLowerCase());
  if (fields.some((f) => names.has(headerCell(f)))) return true;
  return fields.length >= 3 && headerCell(fields[2]!) !== '' && !Number.isFinite(Number(headerCell(fields[2]!)));
}

/** Names that are ids without saying so. */
const ID_WORDS = new Set(['id', 'sku', 'asin', 'isbn', 'upc', 'ean', 'gtin', 'url', 'uri', 'uuid', 'guid']);

/**
 * Whether a header name reads as an id: `id`, a name ending in `_id`/`-id`/` id`/`.id`, a
 * camel-case `…Id`/`…ID` (artistID, productId), or a word such as sku, asin or isbn.
 */
export function idLike(name: string): boolean {
  const raw = headerName(name);
  return (
    ID_WORDS.has(raw.toLowerCase()) ||
    /[_\-. ]id$/i.test(raw) ||
    /[a-z0-9](Id|ID)$/.test(raw) ||
    /[_\-. ](sku|asin|isbn)$/i.test(raw)
  );
}

/** The index a mapping entry (an index or a header name) points at in a header's cells, if any (−1: none). */
function at(lower: string[], given: number | string | undefined): number {
  if (typeof given === 'number') return given;
  if (typeof given === 'string') return /^\d+$/.test(given) ? Number(given) : lower.indexOf(given.toLowerCase());
  return -1;
}

/** The column of a header each key resolves to, by the mapping or by known names (−1: none). */
export function placedColumns(header: readonly string[], mapping: ColumnMapping): Record<keyof ColumnMapping, number> {
  const lower = header.map(headerCell);
  const out = {} as Record<keyof ColumnMapping, number>;
  for (const key of Object.keys(COLUMN_NAMES) as (keyof ColumnMapping)[]) {
    out[key] = mapping[key] !== undefined ? at(lower, mapping[key]) : lower.findIndex((h) => COLUMN_NAMES[key].includes(h));
  }
  return out;
}

/**
 * The mapping to read a header with: the given one, plus the item column when neither the
 * mapping nor a known name gives one, a user column is found, and exactly one other column is
 * id-like (artistID, track_id, sku); `inferred` is that column's name. Several id-like columns
 * are refused (MISSING_COLUMN), naming them. The one rule of parseEvents and the CLI's loader.
 */
export function inferItemColumn(
  file: string,
  header: readonly string[],
  mapping: ColumnMapping,
): { mapping: ColumnMapping; inferred?: string } {
  const where = placedColumns(header, mapping);
  if (where.item >= 0 || mapping.item !== undefined || where.user < 0) return { mapping };
  const taken = new Set(Object.values(where));
  const candidates = header.flatMap((name, i) => (!taken.has(i) && idLike(name) ? [i] : []));
  if (candidates.length === 0) return { mapping };
  if (candidates.length > 1) {
    const names = candidates.map((i) => JSON.stringify(headerName(header[i]!)));
    fail(
      'MISSING_COLUMN',
      `${file}: no item column: the header has several id-like columns besides the user's (${names.slice(0, -1).join(', ')} and ${names.at(-1)}): name the item column with --item-col (columns: { item } in code)`,
      { file, field: 'item' },
    );
  }
  const name = headerName(header[candidates[0]!]!);
  return { mapping: { ...mapping, item: name }, inferred: name };
}

/**
 * What a reading inferred, one line each, for people: the item column taken from the header,
 * and the column weighting each row as a confidence. `hints` says how the reader names another
 * column: the CLI's flags (--item-col) or parseEvents' options (columns: { item }).
 */
export function readingNotes(
  columns: ResolvedColumns,
  header: readonly string[] | null,
  inferredItem: string | undefined,
  hints: 'flags' | 'code',
): string[] {
  const other = (key: 'item' | 'weight') => (hints === 'flags' ? `--${key}-col` : `columns: { ${key} }`);
  const notes: string[] = [];
  if (inferredItem !== undefined)
    notes.push(`item column: "${inferredItem}" (the only id-like column besides the user's; ${other('item')} names another)`);
  if (columns.weight !== undefined)
    notes.push(
      `confidence: ${header ? `"${headerName(header[columns.weight]!)}"` : `column ${columns.weight}`} weights each row (examples drawn ∝ log(1 + weight); ${other('weight')} names another)`,
    );
  return notes;
}

/** Header names most a message lists. */
const LISTED_NAMES = 12;

/** A header as messages show it: its first names (each cut short) and how many there are. */
function headerText(header: readonly string[]): string {
  const names = header.slice(0, LISTED_NAMES).map((h) => (h.length > 40 ? `${h.slice(0, 40)}…` : h));
  return names.join(', ') + (header.length > LISTED_NAMES ? `, … (${header.length} columns)` : '');
}

/** A line's fields as messages show them: the first few, each quoted and cut short. */
function fieldsText(row: RowFields): string {
  const shownFields = Array.from({ length: Math.min(row.count, 8) }, (_, i) => shown(row.text(i)));
  return shownFields.join(', ') + (row.count > 8 ? ', …' : '');
}

/**
 * Resolves the mapping against a header (or positions 0–3 without one). Throws naming the file
 * and the column that is missing.
 */
export function resolveColumns(
  file: string,
  header: string[] | null,
  mapping: ColumnMapping,
  fieldCount: number,
  requireRating = true,
): ResolvedColumns {
  const lower = header?.map(headerCell);
  const find = (key: keyof ColumnMapping, fallback: number | undefined, required: boolean): number | undefined => {
    const given = mapping[key];
    let index: number | undefined;
    if (typeof given === 'number') {
      index = given;
    } else if (typeof given === 'string' && /^\d+$/.test(given)) {
      index = Number(given);
    } else if (typeof given === 'string') {
      if (!lower)
        fail('MISSING_COLUMN', `${file}: the ${key} column is named "${given}" but the file has no header`, {
          file,
          field: given,
        });
      index = lower.indexOf(given.toLowerCase());
      if (index < 0)
        fail('MISSING_COLUMN', `${file}: no column named "${given}" for ${key} (header: ${headerText(header!)})`, {
          file,
          field: given,
        });
    } else if (lower) {
      index = lower.findIndex((h) => COLUMN_NAMES[key].includes(h));
      if (index < 0) index = undefined;
    } else {
      index = fallback !== undefined && fallback < fieldCount ? fallback : undefined;
    }
    if (index === undefined) {
      if (!required) return undefined;
      fail(
        'MISSING_COLUMN',
        `${file}: no ${key} column` +
          (header
            ? ` (header: ${headerText(header)}; name the columns with --user-col, --item-col${key === 'rating' ? ', --rating-col' : ''}, or columns: { user, item, rating } in code)`
            : ' (no header: give one, or name the columns by position with --user-col 0 --item-col 1 …)'),
        { file, field: key },
      );
    }
    if (index >= fieldCount)
      fail('MISSING_COLUMN', `${file}: the ${key} column is ${index} but lines have ${fieldCount} fields`, {
        file,
        field: index,
      });
    return index;
  };
  const user = find('user', 0, true)!;
  const item = find('item', 1, true)!;
  const rating = find('rating', 2, requireRating);
  const time = find('time', 3, false);
  // A weight column is used only when named, or found by name in a header (never by position).
  const weight = mapping.weight !== undefined || header ? find('weight', undefined, mapping.weight !== undefined) : undefined;
  return { user, item, rating, time, weight };
}

/**
 * One row's fields, from strings (the CSV parser) or straight from a file's bytes (the fast
 * path for plain numeric files), so both share the builder's checks and messages.
 */
export interface RowFields {
  readonly count: number;
  /** The field's text. */
  text(i: number): string;
  /** The field when it is a canonical non-negative integer (digits, no leading zero, < 2⁵³), else −1: ids skip decoding. */
  integer(i: number): number;
  /** The field when it is a plain decimal (optional '-', digits, optional '.digits'), exactly as Number() reads it; else NaN. */
  decimal(i: number): number;
}

/** A row of strings as RowFields (every field takes the text path). */
export function stringFields(fields: string[]): RowFields {
  return { count: fields.length, text: (i) => fields[i]!, integer: () => -1, decimal: () => NaN };
}

/** Index of a canonical integer id, for ids that are numbers: skips making and hashing its string. */
class NumericIds {
  private dense = new Int32Array(0);
  private readonly sparse = new Map<number, number>();
  get(n: number): number | undefined {
    if (n < this.dense.length) {
      const v = this.dense[n]!;
      return v < 0 ? undefined : v;
    }
    return this.sparse.get(n);
  }
  set(n: number, index: number): void {
    if (n < 1 << 24) {
      if (n >= this.dense.length) {
        const grown = new Int32Array(Math.max(1024, 2 * n + 1)).fill(-1);
        grown.set(this.dense);
        this.dense = grown;
      }
      this.dense[n] = index;
    } else this.sparse.set(n, index);
  }
}

export interface RatingsBuilderOptions {
  /** Fields every line must have: the header's count when there is one. Default: the first line's. */
  fields?: number;
  /** Unknown ids are an error (the vocabularies came from side files that list every entity). */
  knownIdsOnly?: boolean;
  /** Name of the file that defines the ids, for the error message. */
  idSource?: { users?: string; items?: string };
}

export class RatingsBuilder {
  private readonly users = new Growable(Int32Array);
  private readonly items = new Growable(Int32Array);
  private readonly ratings = new Growable(Float32Array);
  private readonly times: Growable<Float64Array> | null;
  private readonly weights: Growable<Float32Array> | null;
  private fieldCount = -1;
  private readonly numericUsers = new NumericIds();
  private readonly numericItems = new NumericIds();
  /** Rows whose user or item was not in a frozen vocabulary (mapped to the OOV index). */
  unknownUsers = 0;
  unknownItems = 0;

  constructor(
    readonly file: string,
    readonly columns: ResolvedColumns,
    readonly userVocab: Vocabulary,
    readonly itemVocab: Vocabulary,
    readonly options: RatingsBuilderOptions = {},
  ) {
    this.times = columns.time !== undefined ? new Growable(Float64Array) : null;
    this.weights = columns.weight !== undefined ? new Growable(Float32Array) : null;
  }

  get rows(): number {
    return this.users.length;
  }

  /**
   * Encodes one line's fields. `line` is 1-based, for messages. Every line has the header's
   * field count (or the first line's): an extra field means misaligned columns, never ignored.
   */
  add(row: RowFields, line: number): void {
    if (this.fieldCount < 0) this.fieldCount = this.options.fields ?? row.count;
    if (row.count !== this.fieldCount) {
      const header = this.options.fields !== undefined ? ` (the header has ${this.fieldCount})` : '';
      fail(
        'BAD_LINE',
        `${this.file}:${line}: expected ${this.fieldCount} fields, found ${row.count}${header}: ${fieldsText(row)}`,
        { file: this.file, line, value: fieldsText(row), expected: `${this.fieldCount} fields` },
      );
    }
    const c = this.columns;
    const needed = Math.max(c.user, c.item, c.rating ?? -1, c.time ?? -1, c.weight ?? -1) + 1;
    if (row.count < needed) {
      fail(
        'BAD_LINE',
        `${this.file}:${line}: ${row.count} field(s), but the ${c.time !== undefined && c.time + 1 === needed ? 'time' : 'user, item and rating'} columns need ${needed}`,
        { file: this.file, line, expected: `${needed} fields` },
      );
    }
    this.users.push(this.idAt(row, c.user, this.userVocab, this.numericUsers, 'user', line));
    this.items.push(this.idAt(row, c.item, this.itemVocab, this.numericItems, 'item', line));
    // An event log has no rating column: each row is one positive.
    this.ratings.push(c.rating === undefined ? 1 : this.numberAt(row, c.rating, 'rating', line));
    if (this.times) this.times.push(this.numberAt(row, c.time!, 'time', line));
    if (this.weights) {
      const w = this.numberAt(row, c.weight!, 'weight', line);
      if (w < 0)
        fail('BAD_LINE', `${this.file}:${line}: field "weight" (column ${c.weight! + 1}) is ${w}: weights must be ≥ 0`, {
          file: this.file,
          line,
          field: 'weight',
          value: w,
          expected: 'a number ≥ 0',
        });
      this.weights.push(w);
    }
  }

  private idAt(row: RowFields, i: number, vocab: Vocabulary, numeric: NumericIds, what: 'user' | 'item', line: number): number {
    const n = row.integer(i);
    if (n < 0) return this.id(row.text(i), vocab, what, line);
    const known = numeric.get(n);
    if (known !== undefined) return known;
    const index = this.id(String(n), vocab, what, line);
    // Unknown ids of a frozen vocabulary are counted per row: never cached.
    if (index !== Vocabulary.OOV || vocab.mode !== 'exact') numeric.set(n, index);
    return index;
  }

  private numberAt(row: RowFields, i: number, field: string, line: number): number {
    const v = row.decimal(i);
    return Number.isNaN(v) || Math.abs(v) > F32_MAX ? this.number(row.text(i), field, i, line) : v;
  }

  private id(raw: string, vocab: Vocabulary, what: 'user' | 'item', line: number): number {
    const key = raw.trim();
    if (key === '')
      fail('BAD_LINE', `${this.file}:${line}: field "${what}" is empty`, { file: this.file, line, field: what, value: raw });
    const index = vocab.add(key);
    if (index === Vocabulary.OOV && vocab.mode === 'exact') {
      if (this.options.knownIdsOnly) {
        const source = (what === 'user' ? this.options.idSource?.users : this.options.idSource?.items) ?? 'the side file';
        fail('UNKNOWN_ID', `${this.file}:${line}: ${what} id ${shown(key)} is not in ${source}`, {
          id: key,
          side: what,
          file: this.file,
          line,
          field: what,
        });
      }
      if (what === 'user') this.unknownUsers++;
      else this.unknownItems++;
    }
    return index;
  }

  private number(raw: string, field: string, column: number, line: number): number {
    const text = raw.trim();
    // Decimal notation only: Number() would also take 0x10, 0b11 and 1_000-free forms like "Infinity".
    const value = DECIMAL.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(value)) {
      fail(
        'BAD_LINE',
        `${this.file}:${line}: field "${field}" (column ${column + 1}) is ${shown(raw)}, not a finite decimal number`,
        { file: this.file, line, field, value: raw, expected: 'a finite decimal number' },
      );
    }
    if (Math.abs(value) > F32_MAX) {
      fail(
        'BAD_LINE',
        `${this.file}:${line}: field "${field}" (column ${column + 1}) is ${text.length > 60 ? shown(text) : text}, beyond the float32 range (±3.4e38) ratings are stored in`,
        { file: this.file, line, field, value: text, expected: 'a number within ±3.4e38' },
      );
    }
    return value;
  }

  finish(): RatingsData {
    if (this.rows === 0) fail('EMPTY_DATA', `${this.file}: no ratings (the file is empty)`);
    const out: RatingsData = { users: this.users.take(), items: this.items.take(), ratings: this.ratings.take() };
    if (this.times) out.timestamps = this.times.take();
    if (this.weights) out.weights = this.weights.take();
    return out;
  }
}

/** The rows of `data` at `indices`, in that order. */
export function subset(data: RatingsData, indices: ArrayLike<number>): RatingsData {
  const n = indices.length;
  const out: RatingsData = { users: new Int32Array(n), items: new Int32Array(n), ratings: new Float32Array(n) };
  const times = data.timestamps ? new Float64Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    out.users[i] = data.users[j]!;
    out.items[i] = data.items[j]!;
    out.ratings[i] = data.ratings[j]!;
    if (times) times[i] = data.timestamps![j]!;
  }
  if (times) out.timestamps = times;
  if (data.weights) out.weights = Float32Array.from(indices, (j) => data.weights![j]!);
  return out;
}

/** The rows whose (user, item) pair is not in `held`, every field kept (a validation split's training part). */
export function withoutPairs(data: RatingsData, held: Pick<RatingsData, 'users' | 'items'>, items: number): RatingsData {
  const out = new Set<number>();
  for (let r = 0; r < held.users.length; r++) out.add(held.users[r]! * items + held.items[r]!);
  const keep: number[] = [];
  for (let r = 0; r < data.users.length; r++) if (!out.has(data.users[r]! * items + data.items[r]!)) keep.push(r);
  return subset(data, keep);
}
