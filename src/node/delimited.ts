// Streaming reader for delimited text files (comma, tab, pipe, semicolon; quoted or not; LF or
// CRLF; UTF-8 or Latin-1) on csv-parse. Rows arrive one at a time with their line numbers, so
// a file of any size passes through without its text held in memory.
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { checkReadableFile, failForFileError } from './paths.js';
import { basename } from 'node:path';
import { parse } from 'csv-parse';
import { fail } from '../errors.js';
import { checkBooleans } from '../data/checks.js';

import { sniffDelimiter, type Delimiter } from '../data/delimiter.js';
export { DELIMITERS, sniffDelimiter, type Delimiter } from '../data/delimiter.js';

export interface DelimitedOptions {
  /** Field separator; 'auto' picks the most frequent of , tab | ; on the first line. Default 'auto'. */
  delimiter?: Delimiter | 'auto';
  /** Text encoding. Default 'utf8'. */
  encoding?: 'utf8' | 'latin1';
  /** Honour double quotes around fields (CSV). Default true; MovieLens 100K files have none. */
  quotes?: boolean;
}

/** The first line of the file (up to 64 KB), for sniffing delimiter and header. */
export function firstLine(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  return firstLines(path, 1, encoding)[0] ?? '';
}

/**
 * The first `n` non-blank lines of the file among its first 64 KB (fewer when it has fewer; a
 * line cut at 64 KB is left out unless it is the first): a header and a data line to look at.
 */
export function firstLines(path: string, n: number, encoding: 'utf8' | 'latin1' = 'utf8'): string[] {
  const size = checkReadableFile(path);
  if (size === 0) fail('EMPTY_DATA', `${path}: the file is empty`);
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(size, 65536));
    readSync(fd, buffer, 0, buffer.length, 0);
    // Text files have no NUL bytes; gzip, zip and other binary files almost always do.
    if (buffer.includes(0)) {
      const gzip = buffer[0] === 0x1f && buffer[1] === 0x8b;
      fail(
        'BAD_INPUT',
        `${path} is ${gzip ? 'gzip-compressed' : 'a binary file'}, not delimited text${gzip ? ': decompress it first (gunzip)' : ''}`,
      );
    }
    const text = buffer.toString(encoding).replace(/^\uFEFF/, '');
    const lines = text.split(/\r?\n/);
    if (buffer.length < size && lines.length > 1) lines.pop();
    return lines.filter((line) => line.trim() !== '').slice(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams the file's records to `onRow(fields, line)`. Empty lines are skipped. Throws a
 * TwoTowerError naming the file and line for malformed quoting.
 */
export async function readDelimited(
  path: string,
  options: DelimitedOptions,
  onRow: (fields: string[], line: number) => void,
): Promise<{ delimiter: Delimiter }> {
  const encoding = options.encoding ?? 'utf8';
  const delimiter =
    !options.delimiter || options.delimiter === 'auto' ? sniffDelimiter(firstLine(path, encoding)) : options.delimiter;
  checkBooleans(options, 'readDelimited: options', ['quotes']);
  // csv-parse's own line info costs 4× its parsing time; counting here is exact for every line,
  // empty lines included, and for quoted fields that span lines.
  const quotes = options.quotes !== false;
  const parser = createReadStream(path, { encoding }).pipe(
    parse({
      delimiter,
      quote: quotes ? '"' : false,
      relax_column_count: true,
      skip_empty_lines: false,
      bom: true,
    }),
  );
  let line = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      line += 1;
      if (record.length === 1 && record[0]!.trim() === '') continue;
      const start = line;
      if (quotes) for (const field of record) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) line += 1;
      onRow(record, start);
    }
  } catch (error) {
    const e = error as { code?: string; lines?: number; message?: string; name?: string };
    if (e.name === 'TwoTowerError') throw error;
    // An unclosed quote runs to the end of the file: name the line where the field opened.
    if (e.code === 'CSV_QUOTE_NOT_CLOSED')
      fail('BAD_LINE', `${basename(path)}:${line + 1}: a quoted field opens here and is never closed`, {
        file: basename(path),
        line: line + 1,
      });
    // csv-parse's codes: CSV_… and a few without the prefix (INVALID_OPENING_QUOTE, …).
    if (e.code && /^[A-Z_]+$/.test(e.code) && !/^E[A-Z]+$/.test(e.code)) {
      fail(
        'BAD_LINE',
        `${basename(path)}:${e.lines ?? line + 1}: ${e.message}`,
        { file: basename(path), line: e.lines ?? line + 1 },
        { cause: error },
      );
    }
    failForFileError(error, path);
  }
  return { delimiter };
}
