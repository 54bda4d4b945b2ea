// Saving and loading model files on disk (Node only). Saving is atomic: the bytes go to a
// temporary file beside the target, which is renamed over it only once complete, so a failed
// save never leaves a half-written model at the path. Temporaries left by a save that was killed
// (their process is gone) are removed by the next save to the same path.
import { writeFile, rename, rm, readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { loadModel, type Model, type LoadModelOptions } from '../index.js';
import { checkReadableFile } from './paths.js';

/** Whether process `pid` is still running (a save in progress owns its temporary file). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** Removes `.name.<pid>.<time>.tmp` files beside `path` whose process has gone. */
async function removeAbandonedTemporaries(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (match && !alive(Number(match[1]))) await rm(join(dirname(path), name), { force: true }).catch(() => undefined);
  }
}

/** Writes `model.toBytes(options)` to `path`, atomically (see the file's header). */
export async function saveModel(path: string, model: Model, options: { optimizerState?: boolean } = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') fail('BAD_OPTION', 'the model path must be a non-empty string');
  const bytes = model.toBytes(options);
  await removeAbandonedTemporaries(path);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temporary, bytes, { flush: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    fail('WRITE_FAILED', `could not write the model to ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export async function loadModelFile(path: string, options: Omit<LoadModelOptions, 'name'> = {}): Promise<Model> {
  checkReadableFile(path, 'model file');
  const bytes = await readFile(path);
  return loadModel(bytes, { ...options, name: basename(path) });
}
