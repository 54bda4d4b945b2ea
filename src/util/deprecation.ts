// The one way a deprecated name says so: a console warning, once per process (or page) per name,
// so old code keeps working for one minor version and its author hears about it without a flood.

const warned = new Set<string>();

/** Warns once per process that `name` is deprecated, with what to use instead. */
export function warnDeprecated(name: string, instead: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  console.warn(`twotower: ${name} is deprecated and goes in the next minor version; ${instead}`);
}
