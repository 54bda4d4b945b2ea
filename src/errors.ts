/**
 * Every stable error code the package throws, one meaning each. The README's "Errors" table
 * documents them; programs switch on `error.code`, people read `error.message`.
 */
export const ERROR_CODES = [
  /** The model config is invalid (names the field and the value). */
  'BAD_CONFIG',
  /** An option (a field of an options object, a positional setting such as `k`, a CLI flag) is invalid. */
  'BAD_OPTION',
  /** A data argument is malformed: interactions, targets, feature columns, embeddings, exclusion lists. */
  'BAD_INPUT',
  /** Two sizes that must agree do not (array lengths, dims, row counts). */
  'DIMENSION_MISMATCH',
  /** An index is outside its range (a user, item or category index). */
  'OUT_OF_RANGE',
  /** Input with nothing in it where something is needed (no rows, no positives, an empty list). */
  'EMPTY_DATA',
  /** A feature table names a feature the tower does not read. */
  'UNKNOWN_FEATURE',
  /** A feature the tower reads has no data. */
  'MISSING_FEATURE',
  /** An id that the model's vocabulary does not know. */
  'UNKNOWN_ID',
  /** The operation needs a history the model does not have (training items, a history feature). */
  'NO_HISTORY',
  /** A line of a data file cannot be read (names file, line, field and value). */
  'BAD_LINE',
  /** A data file lacks a column the command needs. */
  'MISSING_COLUMN',
  /** A file named by the caller does not exist. */
  'FILE_NOT_FOUND',
  /** A file could not be written (the old file, if any, is left as it was). */
  'WRITE_FAILED',
  /** Bytes that are not a model file, or one that is truncated or corrupted. */
  'BAD_MODEL_FILE',
  /** A model file written by a newer format version. */
  'MODEL_FILE_VERSION',
  /** The kernels could not be fetched or compiled. */
  'LOAD_FAILED',
  /** The host lacks a capability the call asked for (relaxed SIMD, shared memory). */
  'UNSUPPORTED',
  /** The WebAssembly heap could not allocate what was asked. */
  'OUT_OF_MEMORY',
  /** The model or scorer was disposed / closed. */
  'DISPOSED',
  /** The model was loaded from a serving bundle, which ranks and personalises but does not train (fit, update, addItems). */
  'SERVING_ONLY',
  /** The call continues training (update, foldIn) but the model was never trained. */
  'NOT_TRAINED',
  /** Training produced a non-finite loss or weights (the parameters were restored), or a model computes non-finite scores. */
  'DIVERGED',
  /** A worker thread of a scorer failed to start or to run its share. */
  'WORKER_FAILED',
  /** A kernel trapped or aborted: a bug in the package, please report it. */
  'KERNEL_FAILED',
  /** An internal invariant does not hold: a bug in the package, please report it. */
  'INTERNAL',
] as const;

/** A stable error code: one of ERROR_CODES. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Structured facts about a TwoTowerError, beside its message (as zod's issues carry a path beside
 * theirs): programs read these instead of parsing the message. Every field is optional; a call
 * site fills the ones that apply. The object is plain JSON data.
 */
export interface ErrorDetails {
  /** The id that is unknown or malformed (UNKNOWN_ID, BAD_INPUT). */
  id?: string | number;
  /** Which vocabulary the id belongs to. */
  side?: 'user' | 'item';
  /** The file (or the name given to a text) the problem is in. */
  file?: string;
  /** The 1-based line of `file`. */
  line?: number;
  /** The column (by name or 0-based index) of a line, or the field of a model file's header. */
  field?: string | number;
  /**
   * The offending value, bounded: strings over 200 characters are cut; values that are not JSON
   * data (NaN, ±Infinity, bigint, functions, symbols, cycles) and large objects become their text.
   */
  value?: unknown;
  /** The option's path, such as 'options.earlyStopping.restoreBest', or a CLI flag such as '--epochs'. */
  option?: string;
  /** What was expected, in words, such as 'true or false'. */
  expected?: string;
  /** The 0-based position in a list (the bad entry of `ids`, of `events`). */
  index?: number;
}

/** Longest string a details value keeps. */
const DETAIL_CHARS = 200;

function cut(text: string): string {
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS)}… (${text.length} characters)` : text;
}

/** A value made safe for details: JSON data, bounded in size. */
function boundedValue(value: unknown): unknown {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return cut(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
  if (text === undefined) return Object.prototype.toString.call(value);
  return text.length > DETAIL_CHARS ? cut(text) : (JSON.parse(text) as unknown);
}

/** Details with their value bounded and absent fields dropped. */
function cleanDetails(details: ErrorDetails | undefined): ErrorDetails {
  const out: Record<string, unknown> = {};
  if (details === undefined) return out;
  for (const [key, value] of Object.entries(details)) {
    if (value === undefined) continue;
    out[key] = key === 'value' ? boundedValue(value) : typeof value === 'string' ? cut(value) : value;
  }
  return out;
}

/**
 * The one error type the package throws. `code` is stable for programs; the message names the
 * problem: which argument, field, index and value; `details` carries the same facts as data.
 */
export class TwoTowerError extends Error {
  readonly code: ErrorCode;
  /** Structured facts about the error (always an object, possibly empty): see ErrorDetails. */
  readonly details: ErrorDetails;
  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TwoTowerError';
    this.code = code;
    this.details = cleanDetails(details);
  }
}

/** Throws a TwoTowerError with `details` (see ErrorDetails) and, through `options`, a cause. */
export function fail(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }): never {
  throw new TwoTowerError(code, message, details, options);
}
