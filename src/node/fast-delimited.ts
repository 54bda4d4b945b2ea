// The fast path for plain delimited files (no quote characters anywhere, a one-character
// delimiter): the file is read in large chunks and split on bytes, and each row's fields are
// offered as RowFields that parse integers and plain decimals straight from the bytes, decoding
// text only where a field is anything else (a string id, an exponent, a bad value for the
// error message). MovieLens and `user,item,rating,time` logs take this path; a file with a quote
// takes the full CSV parser (delimited.ts). Streams: memory holds one chunk, not the file.
import { openSync, readSync, closeSync } from 'node:fs';
import type { RowFields } from '../data/ratings.js';
import type { Backend } from '../backend/contract.js';
import { loadWasmBackend } from '../wasm/load.js';
import { failForFileError } from './paths.js';

const CHUNK = 1 << 22;
const QUOTE = 0x22;

/** Whether the file has a double-quote byte (then only the CSV parser reads it right). */
export function hasQuoteByte(path: string): boolean {
  return scanFile(path, (chunk, length) => chunk.subarray(0, length).includes(QUOTE));
}

/** Calls `check` on successive chunks until it returns true; returns whether one did. */
function scanFile(path: string, check: (chunk: Buffer, length: number) => boolean): boolean {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const length = readSync(fd, chunk, 0, CHUNK, null);
      if (length === 0) return false;
      if (check(chunk, length)) return true;
    }
  } catch (error) {
    return failForFileError(error, path);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** A row's fields: records of the scan_fields kernel's output, over the chunk's bytes. */
class ScannedRow implements RowFields {
  count = 0;
  /** First field record of the row. */
  base = 0;
  constructor(
    private readonly chunk: Buffer,
    private readonly encoding: BufferEncoding,
    private readonly starts: Int32Array,
    private readonly ends: Int32Array,
    private readonly integers: Float64Array,
    private readonly decimals: Float64Array,
  ) {}
  text(i: number): string {
    return this.chunk.toString(this.encoding, this.starts[this.base + i], this.ends[this.base + i]);
  }
  integer(i: number): number {
    return this.integers[this.base + i]!;
  }
  decimal(i: number): number {
    return this.decimals[this.base + i]!;
  }
}

const MAX_ROWS = 1 << 16;
const MAX_FIELDS = 1 << 18;

/**
 * Streams the rows of a quote-free file with a one-character delimiter to `onRow(fields, line)`
 * (1-based line numbers; lines of blanks skipped; CRLF or LF; a UTF-8 byte-order mark dropped).
 * The file is read chunk by chunk into a heap of the kernels (a backend of its own, freed at the
 * end), where scan_fields splits it.
 */
export async function readPlainDelimited(
  path: string,
  options: { delimiter: string; encoding?: 'utf8' | 'latin1'; backend?: Backend },
  onRow: (fields: RowFields, line: number) => void,
): Promise<void> {
  const be = options.backend ?? (await loadWasmBackend());
  const sep = options.delimiter.charCodeAt(0);
  const encoding = options.encoding ?? 'utf8';
  const blocks: number[] = [];
  const take = (bytes: number) => (blocks.push(be.alloc(bytes)), blocks[blocks.length - 1]!);
  let fd = -1;
  try {
    let capacity = CHUNK;
    let text = take(capacity);
    const rowFields = take((MAX_ROWS + 1) * 4),
      starts = take(MAX_FIELDS * 4),
      ends = take(MAX_FIELDS * 4),
      integers = take(MAX_FIELDS * 8),
      decimals = take(MAX_FIELDS * 8),
      consumed = take(4);
    fd = openSync(path, 'r');
    let filled = 0;
    let line = 0;
    let first = true;
    for (;;) {
      if (filled === capacity) {
        // A line longer than the chunk: a larger one.
        const larger = take(2 * capacity);
        be.bytes(larger, filled).set(be.bytes(text, filled));
        text = larger;
        capacity *= 2;
      }
      const view = Buffer.from(be.bytes(text, capacity).buffer, text, capacity);
      const read = readSync(fd, view, filled, capacity - filled, null);
      const end = filled + read;
      const final = read === 0;
      let from = first && end >= 3 && view[0] === 0xef && view[1] === 0xbb && view[2] === 0xbf ? 3 : 0;
      first = false;
      const row = new ScannedRow(
        view,
        encoding,
        be.ints(starts, MAX_FIELDS),
        be.ints(ends, MAX_FIELDS),
        new Float64Array(be.bytes(integers, 8).buffer, integers, MAX_FIELDS),
        new Float64Array(be.bytes(decimals, 8).buffer, decimals, MAX_FIELDS),
      );
      const bounds = be.ints(rowFields, MAX_ROWS + 1);
      // Whole lines of this chunk, a batch at a time.
      for (;;) {
        const rows = be.kernels.scan_fields(
          text,
          end,
          from,
          sep,
          final ? 1 : 0,
          rowFields,
          starts,
          ends,
          integers,
          decimals,
          MAX_ROWS,
          MAX_FIELDS,
          consumed,
        );
        for (let r = 0; r < rows; r++) {
          line += 1;
          row.base = bounds[r]!;
          row.count = bounds[r + 1]! - row.base;
          if (!(row.count === 1 && row.text(0).trim() === '')) onRow(row, line);
        }
        from = be.ints(consumed, 1)[0]!;
        if (rows === 0 || from >= end) break;
      }
      if (final) return;
      // The incomplete last line moves to the chunk's start, to be completed by the next read.
      view.copyWithin(0, from, end);
      filled = end - from;
    }
  } catch (error) {
    if ((error as { name?: string }).name === 'TwoTowerError') throw error;
    failForFileError(error, path);
  } finally {
    if (fd >= 0) closeSync(fd);
    for (const p of blocks) be.free(p);
  }
}
