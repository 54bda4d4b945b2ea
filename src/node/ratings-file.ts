// Reading a ratings file of any supported format into encoded interactions (Node only).
import { basename } from 'node:path';
import { fail } from '../errors.js';
import { Vocabulary } from '../data/vocabulary.js';
import {
  RatingsBuilder,
  resolveColumns,
  looksLikeHeader,
  type ColumnMapping,
  type RatingsData,
  type RatingsBuilderOptions,
  type RowFields,
  stringFields,
} from '../data/ratings.js';
import { hasQuoteByte, readPlainDelimited } from './fast-delimited.js';
import { firstLine, readDelimited, sniffDelimiter, type Delimiter } from './delimited.js';

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
   * rating column every row is a positive with rating 1. Default true.
   */
  requireRating?: boolean;
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
}

const MOVIELENS_100K_NAME = /^u(\d|a|b)?\.(base|test|data)$/;

export function detectFormat(path: string): 'movielens' | 'csv' {
  if (MOVIELENS_100K_NAME.test(basename(path))) return 'movielens';
  const line = firstLine(path);
  const fields = line.split('\t');
  return fields.length === 4 && fields.every((f) => /^\d+(\.\d+)?$/.test(f.trim())) ? 'movielens' : 'csv';
}

export async function loadRatingsFile(path: string, options: RatingsFileOptions = {}): Promise<LoadedRatings> {
  const requested = options.format ?? 'auto';
  if (!['auto', 'movielens', 'csv'].includes(requested)) {
    fail('BAD_OPTION', `unknown format ${JSON.stringify(requested)}: use auto, movielens or csv`);
  }
  const format = requested === 'auto' ? detectFormat(path) : requested;
  const file = basename(path);
  const users = options.users ?? new Vocabulary();
  const items = options.items ?? new Vocabulary();
  const mapping = options.columns ?? {};
  const requireRating = options.requireRating ?? true;
  const first = firstLine(path);
  const delimiter: Delimiter =
    format === 'movielens'
      ? '\t'
      : !options.delimiter || options.delimiter === 'auto'
        ? sniffDelimiter(first)
        : options.delimiter;
  const firstFields = first.split(delimiter);
  const hasHeader =
    format === 'movielens'
      ? false
      : options.header === 'auto' || options.header === undefined
        ? looksLikeHeader(firstFields, mapping)
        : options.header;
  let header: string[] | null = null;
  let builder: RatingsBuilder | null = null;
  const onRow = (fields: RowFields, line: number) => {
    if (!builder) {
      // The first record: the header (columns resolved by name), or the first data row (by position).
      const names = Array.from({ length: fields.count }, (_, i) => fields.text(i));
      if (hasHeader) header = names;
      builder = new RatingsBuilder(
        file,
        resolveColumns(file, header, mapping, names.length, requireRating),
        users,
        items,
        options.builder,
      );
      if (hasHeader) return;
    }
    builder.add(fields, line);
  };
  // Plain files (no quote anywhere, a one-character delimiter) take the byte-level fast path;
  // the rest the full CSV parser. Both give the same rows, line numbers and errors.
  if (delimiter.length === 1 && !hasQuoteByte(path)) await readPlainDelimited(path, { delimiter }, onRow);
  else
    await readDelimited(path, { delimiter, quotes: format !== 'movielens' }, (fields, line) => onRow(stringFields(fields), line));
  if (!builder) fail('EMPTY_DATA', `${file}: no ratings (the file is empty)`);
  const b = builder as RatingsBuilder;
  return {
    data: b.finish(),
    users,
    items,
    format,
    delimiter,
    header,
    unknownUsers: b.unknownUsers,
    unknownItems: b.unknownItems,
    hasRatings: b.columns.rating !== undefined,
  };
}
