// Reading a ratings file of any supported format into encoded interactions (Node only). A header
// with a user column and one other id-like column (artistID, track_id, sku) takes that column as
// the items', and says so (the rule is src/data/ratings.ts's, shared with parseEvents); without a
// rating column a file is an event log (every row a positive).
import { basename } from 'node:path';
import { fail, type ErrorDetails } from '../errors.js';
import { Vocabulary } from '../data/vocabulary.js';
import {
  RatingsBuilder,
  headerCell,
  headerName,
  inferItemColumn,
  placedColumns,
  readingNotes,
  resolveColumns,
  looksLikeHeader,
  type ColumnMapping,
  type RatingsData,
  type RatingsBuilderOptions,
  type RowFields,
  stringFields,
} from '../data/ratings.js';
import { hasQuoteByte, readPlainDelimited } from './fast-delimited.js';
import { firstLine, firstLines, readDelimited, sniffDelimiter, type Delimiter } from './delimited.js';
import { splitFields } from '../data/delimiter.js';
import { checkBooleans } from '../data/checks.js';

export type RatingsFormat = 'auto' | 'movielens' | 'csv';

export interface RatingsFileOptions {
  /** 'movielens': MovieLens 100K (tab-separated user item rating timestamp, no header). 'csv': any
   *  delimited file, header optional. 'auto' (default) tells them apart by name and first line. */
  format?: RatingsFormat;
  /** Which fields hold user, item, rating and time (index or header name). */
  columns?: ColumnMapping;
  delimiter?: Delimiter | 'auto';
  /** Whether the first line is a header; 'auto' (default) looks for known column names. */
  header?: boolean | 'auto';
  /** Vocabularies to encode ids with (frozen ones map unknown ids to OOV, or reject them). */
  users?: Vocabulary;
  items?: Vocabulary;
  builder?: RatingsBuilderOptions;
  /**
   * Whether a rating column is required. false reads event logs (user, item[, time]): without a
   * rating column every row is a positive with rating 1. 'auto' is false unless the header has a
   * numeric column it cannot place (one that may be the ratings): then the rating column must be
   * named. Default true.
   */
  requireRating?: boolean | 'auto';
}

export interface LoadedRatings {
  data: RatingsData;
  users: Vocabulary;
  items: Vocabulary;
  format: 'movielens' | 'csv';
  delimiter: Delimiter;
  header: string[] | null;
  unknownUsers: number;
  unknownItems: number;
  /** false for an event log read without a rating column (every rating is 1). */
  hasRatings: boolean;
  /** Where each column was found: its header name (a file with a header) or its 0-based index. */
  columns: ColumnMapping;
  /** The item column when it was inferred from the header (the only id-like column besides the user's). */
  inferredItem?: string;
  /** Human-readable lines on what was inferred (the item column, the confidence column). */
  notes: string[];
}

const MOVIELENS_100K_NAME = /^u(\d|a|b)?\.(base|test|data)$/;

export function detectFormat(path: string): 'movielens' | 'csv' {
  if (MOVIELENS_100K_NAME.test(basename(path))) return 'movielens';
  const line = firstLine(path);
  const fields = line.split('\t');
  return fields.length === 4 && fields.every((f) => /^\d+(\.\d+)?$/.test(f.trim())) ? 'movielens' : 'csv';
}

/** How a file's first line is read: its delimiter, and its header (null when it has none). */
interface FirstLine {
  format: 'movielens' | 'csv';
  delimiter: Delimiter;
  header: boolean;
  fields: string[];
}

function readFirstLine(path: string, options: RatingsFileOptions): FirstLine {
  checkBooleans(options, 'loadRatingsFile: options', ['header', 'requireRating'], { others: ['auto'] });
  const requested = options.format ?? 'auto';
  if (!['auto', 'movielens', 'csv'].includes(requested)) {
    fail('BAD_OPTION', `unknown format ${JSON.stringify(requested)}: use auto, movielens or csv`);
  }
  const format = requested === 'auto' ? detectFormat(path) : requested;
  const first = firstLine(path);
  const delimiter: Delimiter =
    format === 'movielens'
      ? '\t'
      : !options.delimiter || options.delimiter === 'auto'
        ? sniffDelimiter(first)
        : options.delimiter;
  const fields = splitFields(first, delimiter);
  const header =
    format === 'movielens'
      ? false
      : options.header === 'auto' || options.header === undefined
        ? looksLikeHeader(fields, options.columns ?? {})
        : options.header;
  return { format, delimiter, header, fields };
}

/**
 * The header names of a ratings file's user and item columns, as loadRatingsFile would resolve
 * them (the item column inferred where it would be), without reading past the first line;
 * empty for a file without a header.
 */
export function previewColumns(path: string, options: RatingsFileOptions = {}): { user?: string; item?: string } {
  const first = readFirstLine(path, options);
  if (!first.header) return {};
  const header = first.fields.map(headerName);
  const { mapping } = inferItemColumn(basename(path), header, options.columns ?? {});
  const where = placedColumns(header, mapping);
  const name = (i: number) => (i >= 0 && i < header.length ? header[i] : undefined);
  return { user: name(where.user), item: name(where.item) };
}

/** Whether a field of a data line is a number (a rating would be). */
const numeric = (field: string | undefined) =>
  field !== undefined && headerCell(field) !== '' && Number.isFinite(Number(headerCell(field)));

export async function loadRatingsFile(path: string, options: RatingsFileOptions = {}): Promise<LoadedRatings> {
  const first = readFirstLine(path, options);
  const { format, delimiter } = first;
  const file = basename(path);
  const users = options.users ?? new Vocabulary();
  const items = options.items ?? new Vocabulary();
  let mapping = options.columns ?? {};
  const requireRating = options.requireRating ?? true;
  const hasHeader = first.header;
  let inferredItem: string | undefined;
  let header: string[] | null = null;
  let builder: RatingsBuilder | null = null;
  const onRow = (fields: RowFields, line: number) => {
    if (!builder) {
      // The first record: the header (columns resolved by name), or the first data row (by position).
      const names = Array.from({ length: fields.count }, (_, i) => fields.text(i));
      let ratingNeeded = requireRating === true;
      if (hasHeader) {
        header = names;
        const inferred = inferItemColumn(file, names, mapping);
        mapping = inferred.mapping;
        inferredItem = inferred.inferred;
        if (requireRating === 'auto') ratingNeeded = unplacedNumbers(path, delimiter, names, mapping).length > 0;
      }
      builder = new RatingsBuilder(file, resolveColumns(file, header, mapping, names.length, ratingNeeded), users, items, {
        ...options.builder,
        fields: hasHeader ? names.length : undefined,
      });
      if (hasHeader) return;
    }
    builder.add(fields, line);
  };
  // Plain files (no quote anywhere, a one-character delimiter) take the byte-level fast path;
  // the rest the full CSV parser. Both give the same rows, line numbers and errors.
  try {
    if (delimiter.length === 1 && !hasQuoteByte(path)) await readPlainDelimited(path, { delimiter }, onRow);
    else
      await readDelimited(path, { delimiter, quotes: format !== 'movielens' }, (fields, line) =>
        onRow(stringFields(fields), line),
      );
  } catch (error) {
    // A header with a numeric column nothing explains: it may be the ratings, so say how to choose.
    const e = error as { code?: string; message?: string };
    if (requireRating === 'auto' && e.code === 'MISSING_COLUMN' && /: no rating column/.test(e.message ?? '') && header) {
      const unplaced = unplacedNumbers(path, delimiter, header, mapping).map((i) => JSON.stringify(header![i]!.trim()));
      fail(
        'MISSING_COLUMN',
        `${e.message!.replace(/\)$/, '')}; ${unplaced.join(', ')} may be the ratings — or train a retrieval model on the events with --loss softmax)`,
        (error as { details?: ErrorDetails }).details,
      );
    }
    throw error;
  }
  if (!builder) fail('EMPTY_DATA', `${file}: no ratings (the file is empty)`);
  const b = builder as RatingsBuilder;
  const names = header as string[] | null;
  const named = (i: number | undefined) => (i === undefined ? undefined : names ? headerName(names[i]!) : i);
  const c = b.columns;
  const columns: ColumnMapping = {};
  for (const [key, i] of Object.entries({ user: c.user, item: c.item, rating: c.rating, time: c.time, weight: c.weight }))
    if (i !== undefined) columns[key as keyof ColumnMapping] = named(i);
  const notes = readingNotes(c, names, inferredItem, 'flags');
  return {
    data: b.finish(),
    users,
    items,
    format,
    delimiter,
    header,
    unknownUsers: b.unknownUsers,
    unknownItems: b.unknownItems,
    hasRatings: c.rating !== undefined,
    columns,
    ...(inferredItem !== undefined ? { inferredItem } : {}),
    notes,
  };
}

/**
 * Columns of a header that no key (user, item, rating, time, weight) places and whose value on
 * the first data line is a number: a rating column under a name we do not know, perhaps.
 */
function unplacedNumbers(path: string, delimiter: Delimiter, header: string[], mapping: ColumnMapping): number[] {
  const taken = new Set(Object.values(placedColumns(header, mapping)));
  const data = firstLines(path, 2)[1];
  if (data === undefined) return [];
  const values = splitFields(data, delimiter);
  return header.flatMap((_, i) => (!taken.has(i) && numeric(values[i]) ? [i] : []));
}
