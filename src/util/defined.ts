/**
 * The object without its keys whose value is undefined: an option written `{ epochs: undefined }`
 * means "the default", as if it were left out, so it must not spread over a default.
 */
export function defined<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) if (options[key] !== undefined) out[key] = options[key];
  return out;
}
