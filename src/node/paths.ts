// What the file system says, in the user's words: a path that is missing, a directory, unreadable
// or a symbolic-link loop becomes a TwoTowerError naming the path, never a raw EISDIR / EACCES.
import { accessSync, constants, statSync } from 'node:fs';
import { fail } from '../errors.js';

/** Throws a TwoTowerError for a Node file-system error about `path`; anything else is rethrown. */
export function failForFileError(error: unknown, path: string, what = 'file'): never {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') fail('FILE_NOT_FOUND', `${path}: no such ${what}`, { cause: error });
  if (code === 'EISDIR') fail('BAD_INPUT', `${path} is a directory, not a ${what}`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM')
    fail('BAD_INPUT', `${path}: permission denied (the ${what} cannot be read)`, { cause: error });
  if (code === 'ELOOP') fail('BAD_INPUT', `${path}: a loop of symbolic links`, { cause: error });
  if (code === 'ENAMETOOLONG') fail('BAD_INPUT', `${path}: the path is too long`, { cause: error });
  if (typeof code === 'string' && code.startsWith('E'))
    fail('BAD_INPUT', `${path}: cannot read the ${what} (${code})`, { cause: error });
  throw error;
}

/** Checks that `path` is a regular file this process may read; returns its size in bytes. */
export function checkReadableFile(path: string, what = 'file'): number {
  if (typeof path !== 'string' || path === '') fail('BAD_OPTION', `a ${what} path must be a non-empty string`);
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) fail('BAD_INPUT', `${path} is a directory, not a ${what}`);
    accessSync(path, constants.R_OK);
    return stat.size;
  } catch (error) {
    if ((error as { name?: string }).name === 'TwoTowerError') throw error;
    failForFileError(error, path, what);
  }
}
