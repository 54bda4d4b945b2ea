/**
 * The one error type the library throws for bad input or bad state. `code` is stable for
 * programs; the message names the problem: which argument, field, index and value.
 */
export class TwoTowerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TwoTowerError';
    this.code = code;
  }
}

export function fail(code: string, message: string): never {
  throw new TwoTowerError(code, message);
}
