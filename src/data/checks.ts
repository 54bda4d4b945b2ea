// Checks of what callers hand the public API, one rule per kind of input, shared by every entry
// point (model, update, train, the vector index, file loaders): an id is a non-empty string or a
// finite number; a list of ids is a list; a boolean option is true or false, never "truthy".
// Each error names the argument's path (events[3].user, options.excludeSeen) and its value.
import { fail } from '../errors.js';

/** Longest value text a message quotes. */
const SHOWN_CHARS = 60;

/** A value as messages show it: NaN, ±Infinity and undefined by name, strings quoted, long text cut. */
export function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}… (${text.length} characters)` : text;
}

/** The position a path such as `ids[3]` or `events[3].user` ends with an index of: details' `index`. */
function indexIn(path: string): { index?: number } {
  const match = /\[(\d+)\](?:\.\w+)?$/.exec(path);
  return match ? { index: Number(match[1]) } : {};
}

/**
 * The option path of a message path (`recommend: options.excludeSeen` gives
 * 'options.excludeSeen'): details' `option`, for BAD_OPTION only.
 */
function optionOf(path: string, code: string): { option?: string } {
  return code === 'BAD_OPTION' ? { option: path.replace(/^[^:]*:\s*/, '') } : {};
}

/** Throws BAD_INPUT naming `path` and the value unless `id` is a non-empty string or a finite number. */
export function checkId(id: unknown, path: string): asserts id is string | number {
  if (typeof id === 'string' ? id === '' : typeof id !== 'number' || !Number.isFinite(id))
    fail('BAD_INPUT', `${path} must be a non-empty string or a finite number, got ${shown(id)}`, {
      value: id,
      expected: 'a non-empty string or a finite number',
      ...indexIn(path),
    });
}

/**
 * A list of ids: `code` (BAD_OPTION for an option, BAD_INPUT for an argument) when `list` is not
 * an array, BAD_INPUT naming the first bad id.
 */
export function checkIdList(
  list: unknown,
  path: string,
  code: 'BAD_OPTION' | 'BAD_INPUT' = 'BAD_OPTION',
): asserts list is readonly (string | number)[] {
  if (!Array.isArray(list))
    fail(code, `${path} must be a list of ids, got ${shown(list)}`, {
      ...optionOf(path, code),
      value: list,
      expected: 'a list of ids',
    });
  list.forEach((id, i) => checkId(id, `${path}[${i}]`));
}

/**
 * Boolean options must be booleans: throws BAD_OPTION (BAD_CONFIG for a model config) naming
 * `path.name` and the value for each of `names` in `options` that is neither absent, true,
 * false nor one of `others` (such as 'auto'). `options` itself may be absent, else an object.
 */
export function checkBooleans(
  options: unknown,
  path: string,
  names: readonly string[],
  { others = [], code = 'BAD_OPTION' }: { others?: readonly string[]; code?: 'BAD_OPTION' | 'BAD_CONFIG' } = {},
): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object')
    fail(code, `${path} must be an object, got ${shown(options)}`, {
      ...optionOf(path, code),
      value: options,
      expected: 'an object',
    });
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined || typeof value === 'boolean' || others.includes(value as string)) continue;
    const allowed = others.length ? `true, false or ${others.map((o) => `'${o}'`).join(', ')}` : 'true or false';
    fail(code, `${path}.${name} must be ${allowed}, got ${shown(value)}`, {
      ...optionOf(`${path}.${name}`, code),
      value,
      expected: allowed,
    });
  }
}
