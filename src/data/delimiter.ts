// Field separators of delimited text, and how to tell them from a first line: shared by the
// Node file readers and parseEvents (browsers), so both read a file the same way.

/** Field separators: one character, or '::' (MovieLens 1M and 10M: `1::1193::5::978300760`). */
export type Delimiter = ',' | '\t' | '|' | ';' | '::';
export const DELIMITERS: Delimiter[] = ['::', ',', '\t', '|', ';'];

/** The most frequent separator on a line (',' when there is none). */
export function sniffDelimiter(line: string): Delimiter {
  let best: Delimiter = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    // A single ':' is a time or a URL, not a separator: '::' counts only where it stands alone.
    const count = d === '::' ? line.split(/(?<!:)::(?!:)/).length - 1 : line.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

/** Splits an unquoted line on a delimiter ('::' only where it stands alone, as when sniffing). */
export function splitFields(line: string, delimiter: Delimiter): string[] {
  return delimiter === '::' ? line.split(/(?<!:)::(?!:)/) : line.split(delimiter);
}
