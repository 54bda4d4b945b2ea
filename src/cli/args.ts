// Argument parsers for commander options: each rejects a bad value with a message naming the flag.
// Numbers are decimals, as in data files (digits, fraction, exponent): Number() alone would also
// take "0x10", "0b11", "" (as 0) and " 5 ", so each text is matched first.
import { InvalidArgumentError } from 'commander';
import { DECIMAL } from '../data/ratings.js';

/** The value of a decimal number's text, or NaN for any other text. */
const decimalOf = (text: string): number => (DECIMAL.test(text) ? Number(text) : NaN);

/** The value of a decimal text that is a safe integer ("12", "1e3"), or NaN. */
function integerOf(text: string): number {
  const n = decimalOf(text);
  return Number.isSafeInteger(n) ? n : NaN;
}

export function integer(name: string, min: number) {
  return (value: string): number => {
    const n = integerOf(value);
    if (!(n >= min)) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function positive(name: string) {
  return (value: string): number => {
    const n = decimalOf(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a number > 0, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function nonNegative(name: string) {
  return (value: string): number => {
    const n = decimalOf(value);
    if (!Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a number ≥ 0, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function fraction(name: string) {
  return (value: string): number => {
    const n = decimalOf(value);
    if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`${name} must be in (0, 1), got ${JSON.stringify(value)}`);
    return n;
  };
}

/** "128,64" → [128, 64]; "" or "none" → []. */
export function widths(name: string) {
  return (value: string): number[] => {
    if (value === '' || value === 'none') return [];
    const list = value.split(',').map((v) => integerOf(v.trim()));
    if (list.some((n) => !(n >= 1)))
      throw new InvalidArgumentError(`${name} must be comma-separated positive integers, got ${JSON.stringify(value)}`);
    return list;
  };
}

/** A column given by 0-based index or by header name. */
export function column(value: string): number | string {
  return /^\d+$/.test(value) ? Number(value) : value;
}

export function delimiter(value: string): ',' | '\t' | '|' | ';' | '::' | 'auto' {
  const map: Record<string, ',' | '\t' | '|' | ';' | '::' | 'auto'> = {
    '::': '::',
    'double-colon': '::',
    ',': ',',
    comma: ',',
    '\t': '\t',
    '\\t': '\t',
    tab: '\t',
    '|': '|',
    pipe: '|',
    ';': ';',
    semicolon: ';',
    auto: 'auto',
  };
  const d = map[value];
  if (!d)
    throw new InvalidArgumentError(`--delimiter must be comma, tab, pipe, semicolon, :: or auto, got ${JSON.stringify(value)}`);
  return d;
}
