// Saving and loading model files on disk (Node only), and the one atomic write behind every file
// the package writes (models, exports). The bytes go to a temporary file beside the target, under
// a name no other write shares (the process id and a random suffix, created exclusively), which is
// renamed over the target only once complete: a reader sees the old file or the new one, whole;
// a failed write leaves no temporary; of two writes racing to one path, the last rename wins whole.
// Temporaries left by a write that was killed (their process is gone) are removed by the next
// write to the same path.
import { writeFile, rename, rm, readFile, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { loadModel, type Model, type LoadModelOptions } from '../index.js';
import { checkReadableFile, writeFailure } from './paths.js';

/** Whether process `pid` is still running (a write in progress owns its temporary file). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** `.name.<pid>.<random hex>.tmp` beside `path`. */
function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Removes `.name.<pid>.<suffix>.tmp` files beside `path` whose process has gone. */
async function removeAbandonedTemporaries(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (match && !alive(Number(match[1]))) await rm(join(dirname(path), name), { force: true }).catch(() => undefined);
  }
}

/** A file written in full under its temporary name, not yet at its path. */
export interface StagedFile {
  readonly path: string;
  /** Renames the temporary over `path` (WRITE_FAILED if it cannot; the temporary is then removed). */
  commit(): Promise<void>;
  /** Removes the temporary, if it is still there. */
  discard(): Promise<void>;
}

/**
 * Writes `data` to a new temporary file beside `path` (see the file's header); WRITE_FAILED,
 * naming `label` (default: the path) and the reason, when it cannot, with nothing left behind.
 */
export async function stageFile(path: string, data: Uint8Array | string, label = path): Promise<StagedFile> {
  const failed = (error: unknown): never =>
    fail('WRITE_FAILED', `could not write ${label}: ${writeFailure(error)}`, { file: path }, { cause: error });
  await removeAbandonedTemporaries(path);
  let temporary = '';
  for (let attempt = 0; ; attempt++) {
    temporary = temporaryName(path);
    try {
      await writeFile(temporary, data, { flag: 'wx', flush: true });
      break;
    } catch (error) {
      // EEXIST: another file has this name (48 random bits make it all but impossible): not ours to remove.
      if ((error as { code?: string }).code === 'EEXIST') {
        if (attempt < 3) continue;
        failed(error);
      }
      await rm(temporary, { force: true }).catch(() => undefined);
      failed(error);
    }
  }
  const discard = () => rm(temporary, { force: true }).catch(() => undefined);
  return {
    path,
    discard,
    async commit() {
      try {
        await rename(temporary, path);
      } catch (error) {
        await discard();
        failed(error);
      }
    },
  };
}

/** Writes `data` to `path` atomically (see the file's header). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, label = path): Promise<void> {
  await (await stageFile(path, data, label)).commit();
}

/** Writes `model.toBytes(options)` to `path`, atomically (see the file's header). */
export async function saveModel(path: string, model: Model, options: { optimizerState?: boolean } = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') fail('BAD_OPTION', 'the model path must be a non-empty string');
  await writeFileAtomic(path, model.toBytes(options), `the model to ${path}`);
}

export async function loadModelFile(path: string, options: Omit<LoadModelOptions, 'name'> = {}): Promise<Model> {
  checkReadableFile(path, 'model file');
  const bytes = await readFile(path);
  return loadModel(bytes, { ...options, name: basename(path) });
}
