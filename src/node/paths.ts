// What the file system says, in the user's words: a path that is missing, a directory, unreadable
// or a symbolic-link loop becomes a TwoTowerError naming the path, never a raw EISDIR / EACCES;
// and the one check every command makes of its output path against its inputs.
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail } from '../errors.js';

/** Throws a TwoTowerError for a Node file-system error about `path`; anything else is rethrown. */
export function failForFileError(error: unknown, path: string, what = 'file'): never {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') fail('FILE_NOT_FOUND', `${path}: no such ${what}`, {}, { cause: error });
  if (code === 'EISDIR') fail('BAD_INPUT', `${path} is a directory, not a ${what}`, {}, { cause: error });
  if (code === 'EACCES' || code === 'EPERM')
    fail('BAD_INPUT', `${path}: permission denied (the ${what} cannot be read)`, {}, { cause: error });
  if (code === 'ELOOP') fail('BAD_INPUT', `${path}: a loop of symbolic links`, {}, { cause: error });
  if (code === 'ENAMETOOLONG') fail('BAD_INPUT', `${path}: the path is too long`, {}, { cause: error });
  if (typeof code === 'string' && code.startsWith('E'))
    fail('BAD_INPUT', `${path}: cannot read the ${what} (${code})`, {}, { cause: error });
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

/** The same file, through symbolic, hard and relative paths (a path that does not exist is itself, resolved). */
export function samePath(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    const real = (p: string) => {
      try {
        return realpathSync(p);
      } catch {
        return resolve(p);
      }
    };
    return real(a) === real(b);
  }
}

/** An input of a command: how the user named it (a flag, or what found it) and its path, if any. */
export type NamedInput = readonly [name: string, path: string | undefined];

/**
 * The one check of an output path, made before any work: `out` (given as `flag`) must not be
 * empty, and no file written may be one of `inputs`: writing there would destroy it. Without
 * `into`, `out` is the model file written; with it, `out` is a directory and the files are
 * written into it under those names.
 */
export function checkOutput(flag: string, out: string, inputs: readonly NamedInput[], into?: readonly string[]): void {
  if (typeof out !== 'string' || out.trim() === '')
    fail(
      'BAD_OPTION',
      `${flag} is empty: give the ${into ? 'directory to write the files into' : 'path of the model file to write'}`,
    );
  for (const file of into ?? [undefined]) {
    const target = file === undefined ? out : join(out, file);
    for (const [name, path] of inputs) {
      if (path === undefined || path === '' || !samePath(target, path)) continue;
      if (file === undefined)
        fail('BAD_OPTION', `${flag} ${out} is ${name} (${path}): writing the model there would destroy it; choose another path`);
      fail(
        'BAD_OPTION',
        `${flag} ${out} would write ${file} there, which is ${name} (${path}): writing it would destroy it; choose another directory`,
      );
    }
  }
}

/** Why a write failed, in the user's words (the Node code in brackets). */
export function writeFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  const words: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is used up',
    EFBIG: 'the file is too large for this file system or process limit',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'a read-only file system',
    ENOENT: 'its directory does not exist',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EISDIR: 'a directory is in the way',
    ENAMETOOLONG: 'the path is too long',
    ELOOP: 'a loop of symbolic links',
    EIO: 'an input/output error of the device',
  };
  if (code !== undefined && words[code]) return `${words[code]} (${code})`;
  return (error as Error)?.message ?? String(error);
}
