// Events from delimited text in memory (a file dropped on a page, a fetched CSV): the CLI's
// reading rules without the file system, so it runs in browsers. The delimiter is sniffed from
// the first line, a header is recognised by its column names, columns resolve as in the CLI,
// and every value is checked by the same builder, with errors naming the line and field.
import { fail, TwoTowerError } from '../errors.js';
import { checkBooleans, shown } from '../data/checks.js';
import { Vocabulary } from '../data/vocabulary.js';
import {
  RatingsBuilder,
  inferItemColumn,
  looksLikeHeader,
  readingNotes,
  resolveColumns,
  stringFields,
  type ColumnMapping,
  type ResolvedColumns,
} from '../data/ratings.js';
import { DELIMITERS, sniffDelimiter, splitFields, type Delimiter } from '../data/delimiter.js';
import type { TrainEvent } from './train.js';

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
  /**
   * The item column's header name when it was inferred (no known item name, and the header's
   * only id-like column besides the user's, such as artistID); undefined when named or known.
   */
  inferredItem?: string;
  /**
   * What was inferred, one line each, to show the person whose file it is: the item column taken
   * from the header, the column weighting each row as a confidence. Empty when nothing was.
   */
  notes: string[];
}

/** How much of the text is looked at for signs of a binary file, before anything is parsed. */
const SNIFF_CHARS = 65536;

/**
 * Refuses binary data up front: a NUL anywhere, or control characters (other than tab, line
 * feed, carriage return and form feed) in more than 1% of the first 64K characters, as in
 * random bytes (about 12%) and never in delimited text.
 */
function checkText(text: string, name: string): void {
  if (text.includes('\0')) fail('BAD_INPUT', `${name} is a binary file, not delimited text`);
  const n = Math.min(text.length, SNIFF_CHARS);
  let controls = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 127) controls++;
  }
  if (controls >= 4 && controls > n / 100)
    fail('BAD_INPUT', `${name} is a binary file, not delimited text (${controls} control characters in its first ${n})`);
}

/** The lines of a text (LF or CRLF), one at a time: nothing is split ahead of the reader. */
function* linesOf(text: string): Generator<string> {
  for (let from = 0; from <= text.length;) {
    let end = text.indexOf('\n', from);
    if (end < 0) end = text.length;
    yield text.slice(from, end > from && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    from = end + 1;
  }
}

/** Characters csv-parse reads at a time: the work done before the first bad record shows. */
const CHUNK_CHARS = 1 << 16;
/** Longest quoted run a chunk waits for: no id or number is a megabyte, so its quote is unclosed. */
const MAX_QUOTED_CHARS = 1 << 20;

/**
 * A quoted text in pieces of about CHUNK_CHARS that end at record boundaries: after a line break
 * outside quotes (an even count of '"' before it, as "" escapes keep). A quote still open after
 * MAX_QUOTED_CHARS ends its piece anyway, where csv-parse then reports it as never closed.
 */
function* recordChunks(text: string): Generator<string> {
  let from = 0,
    quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 10 && i + 1 - from >= (quoted ? MAX_QUOTED_CHARS : CHUNK_CHARS)) {
      yield text.slice(from, i + 1);
      from = i + 1;
      quoted = false;
    }
  }
  if (from < text.length) yield text.slice(from);
}

/**
 * Parses delimited text into events for `train()`, with the CLI's rules: a header is optional
 * (recognised by names such as user/userId, item/movieId, rating, timestamp, count), without one
 * the columns are user, item, then rating and time if present; a header with a user column and
 * exactly one other id-like column (artistID, track_id, sku) takes it as the item column, and a
 * count-like column (weight, plays, count…) weights each row as a confidence, both said in
 * `notes`; every line has the header's (or the first line's) field count. Quoted CSV fields are read by csv-parse (loaded only when the
 * text has a quote). Work before an error is bounded: binary data is refused before parsing, and
 * the first bad line stops the parse. Throws BAD_INPUT, BAD_OPTION, BAD_LINE, MISSING_COLUMN or
 * EMPTY_DATA naming the line.
 */
export async function parseEvents(text: string, options: ParseEventsOptions = {}): Promise<ParsedEvents> {
  if (typeof text !== 'string') fail('BAD_INPUT', 'parseEvents: text must be a string (use await file.text())');
  checkBooleans(options, 'parseEvents: options', ['header'], { others: ['auto'] });
  if (options.delimiter !== undefined && options.delimiter !== 'auto' && !DELIMITERS.includes(options.delimiter))
    fail(
      'BAD_OPTION',
      `parseEvents: options.delimiter must be 'auto' or one of ${DELIMITERS.map((d) => JSON.stringify(d)).join(', ')}, got ${shown(options.delimiter)}`,
    );
  const name = options.name ?? 'events';
  checkText(text, name);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let first: string | undefined;
  for (const line of linesOf(body))
    if (line.trim() !== '') {
      first = line;
      break;
    }
  if (first === undefined) fail('EMPTY_DATA', `${name}: no events (the text is empty)`);
  const delimiter = !options.delimiter || options.delimiter === 'auto' ? sniffDelimiter(first) : options.delimiter;
  let mapping = options.columns ?? {};
  let inferredItem: string | undefined;
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
      if (hasHeader) {
        header = fields.map((f) => f.trim());
        ({ mapping, inferred: inferredItem } = inferItemColumn(name, header, mapping));
      }
      const columns = resolveColumns(name, header, mapping, fields.length, false);
      builder = new RatingsBuilder(name, columns, users, items, { fields: hasHeader ? fields.length : undefined });
      if (hasHeader) return;
    }
    builder.add(stringFields(fields), line);
  };
  if (!body.includes('"')) {
    let line = 0;
    for (const text of linesOf(body)) onRow(splitFields(text, delimiter), ++line);
  } else {
    const { parse } = await import('csv-parse/browser/esm/sync');
    // Each record goes to onRow as csv-parse reads it (none are kept), and the text goes in
    // chunks of whole records, so the first bad line stops the parse within a chunk of it. Lines
    // are counted here, as the Node reader does: one per record, plus the line breaks inside its
    // quoted fields.
    let line = 0;
    for (const chunk of recordChunks(body)) {
      const before = line;
      try {
        parse(chunk, {
          delimiter,
          relax_column_count: true,
          skip_empty_lines: false,
          on_record: (record: string[]) => {
            const start = ++line;
            for (const field of record) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) line++;
            onRow(record, start);
            return null;
          },
        });
      } catch (error) {
        if (error instanceof TwoTowerError) throw error;
        const e = error as { code?: string; lines?: number; message?: string };
        // An unclosed quote runs to the end of its piece: name the line where the field opened.
        if (e.code === 'CSV_QUOTE_NOT_CLOSED')
          fail(
            'BAD_LINE',
            `${name}:${line + 1}: a quoted field opens here and is never closed`,
            { file: name, line: line + 1 },
            { cause: error },
          );
        // csv-parse quotes the field it stopped at, whole: cut the message short.
        const message = (e.message ?? String(error)).replace(/at line \d+/, `at line ${before + (e.lines ?? 1)}`);
        fail(
          'BAD_LINE',
          `${name}:${before + (e.lines ?? 1)}: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}`,
          { file: name, line: before + (e.lines ?? 1) },
          { cause: error },
        );
      }
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
  const notes = readingNotes(c, header, inferredItem, 'code');
  return {
    events,
    delimiter,
    header,
    columns: c,
    hasRatings: c.rating !== undefined,
    ...(inferredItem !== undefined ? { inferredItem } : {}),
    notes,
  };
}
