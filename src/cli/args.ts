// Argument parsers for commander options: each rejects a bad value with a message naming the flag.
import { InvalidArgumentError } from 'commander';

export function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a number > 0, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function nonNegative(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a number ≥ 0, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function fraction(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`${name} must be in (0, 1), got ${JSON.stringify(value)}`);
    return n;
  };
}

/** "128,64" → [128, 64]; "" or "none" → []. */
export function widths(name: string) {
  return (value: string): number[] => {
    if (value === '' || value === 'none') return [];
    const list = value.split(',').map((v) => Number(v.trim()));
    if (list.some((n) => !Number.isInteger(n) || n < 1))
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
