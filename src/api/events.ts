// Events from delimited text in memory (a file dropped on a page, a fetched CSV): the CLI's
// reading rules without the file system, so it runs in browsers. The delimiter is sniffed from
// the first line, a header is recognised by its column names, columns resolve as in the CLI,
// and every value is checked by the same builder, with errors naming the line and field.
import { fail } from '../errors.js';
import { Vocabulary } from '../data/vocabulary.js';
import {
  RatingsBuilder,
  looksLikeHeader,
  resolveColumns,
  stringFields,
  type ColumnMapping,
  type ResolvedColumns,
} from '../data/ratings.js';
import { sniffDelimiter, splitFields, type Delimiter } from '../data/delimiter.js';
import type { TrainEvent } from './recipe.js';

export interface ParseEventsOptions {
  /** A name for messages ("clicks.csv:12: …"). Default 'events'. */
  name?: string;
  /** Which fields hold user, item, rating, time and weight (index or header name). */
  columns?: ColumnMapping;
  /** Field separator; 'auto' (default) picks the most frequent of , tab | ; :: on the first line. */
  delimiter?: Delimiter | 'auto';
  /** Whether the first line is a header; 'auto' (default) looks for known column names. */
  header?: boolean | 'auto';
}

export interface ParsedEvents {
  /** One per data line, in the text's ids: rating, time and weight where the text has them. */
  events: TrainEvent[];
  delimiter: Delimiter;
  header: string[] | null;
  /** The 0-based field of each column (undefined: absent). */
  columns: ResolvedColumns;
  /** false for an event log (no rating column): train() then fits a retrieval model. */
  hasRatings: boolean;
}

/**
 * Parses delimited text into events for `train()`, with the CLI's rules: a header is optional
 * (recognised by names such as user/userId, item/movieId, rating, timestamp, count), without one
 * the columns are user, item, then rating and time if present. Quoted CSV fields are read by
 * csv-parse (loaded only when the text has a quote). Throws BAD_INPUT, BAD_LINE,
 * MISSING_COLUMN or EMPTY_DATA naming the line.
 */
export async function parseEvents(text: string, options: ParseEventsOptions = {}): Promise<ParsedEvents> {
  if (typeof text !== 'string') fail('BAD_INPUT', 'parseEvents: text must be a string (use await file.text())');
  const name = options.name ?? 'events';
  if (text.includes('\0')) fail('BAD_INPUT', `${name} is a binary file, not delimited text`);
  const body = text.replace(/^\uFEFF/, '');
  const first = body.split(/\r?\n/).find((line) => line.trim() !== '');
  if (first === undefined) fail('EMPTY_DATA', `${name}: no events (the text is empty)`);
  const delimiter = !options.delimiter || options.delimiter === 'auto' ? sniffDelimiter(first) : options.delimiter;
  const mapping = options.columns ?? {};
  const hasHeader =
    options.header === undefined || options.header === 'auto'
      ? looksLikeHeader(splitFields(first, delimiter), mapping)
      : options.header;
  const users = new Vocabulary(),
    items = new Vocabulary();
  let header: string[] | null = null;
  let builder: RatingsBuilder | null = null;
  const onRow = (fields: string[], line: number) => {
    if (fields.length === 1 && fields[0]!.trim() === '') return;
    if (!builder) {
      if (hasHeader) header = fields.map((f) => f.trim());
      builder = new RatingsBuilder(name, resolveColumns(name, header, mapping, fields.length, false), users, items);
      if (hasHeader) return;
    }
    builder.add(stringFields(fields), line);
  };
  if (!body.includes('"')) {
    const lines = body.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) onRow(splitFields(lines[i]!, delimiter), i + 1);
  } else {
    const { parse } = await import('csv-parse/browser/esm/sync');
    let records: { record: string[]; info: { lines: number } }[];
    try {
      records = parse(body, {
        delimiter,
        relax_column_count: true,
        skip_empty_lines: false,
        info: true,
      }) as unknown as typeof records;
    } catch (error) {
      const e = error as { lines?: number; message?: string };
      fail('BAD_LINE', `${name}:${e.lines ?? '?'}: ${e.message ?? String(error)}`, { cause: error });
    }
    // info.lines is the line a record ends on; a quoted field may span lines.
    for (const { record, info } of records) {
      const spanned = record.reduce((n, field) => n + (field.match(/\n/g)?.length ?? 0), 0);
      onRow(record, info.lines - spanned);
    }
  }
  const b = builder as RatingsBuilder | null;
  if (!b || b.rows === 0) fail('EMPTY_DATA', `${name}: no events (only a header)`);
  const data = b.finish();
  const c = b.columns;
  const events: TrainEvent[] = new Array(data.users.length);
  for (let r = 0; r < events.length; r++) {
    const e: TrainEvent = { user: users.key(data.users[r]!)!, item: items.key(data.items[r]!)! };
    if (c.rating !== undefined) e.rating = data.ratings[r]!;
    if (data.timestamps) e.time = data.timestamps[r]!;
    if (data.weights) e.weight = data.weights[r]!;
    events[r] = e;
  }
  return { events, delimiter, header, columns: c, hasRatings: c.rating !== undefined };
}
