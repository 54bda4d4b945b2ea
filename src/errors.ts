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
 * The one error type the package throws. `code` is stable for programs; the message names the
 * problem: which argument, field, index and value.
 */
export class TwoTowerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TwoTowerError';
    this.code = code;
  }
}

/** Throws a TwoTowerError. */
export function fail(code: ErrorCode, message: string, options?: { cause?: unknown }): never {
  throw new TwoTowerError(code, message, options);
}
