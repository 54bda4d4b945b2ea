// Saving and loading model files on disk (Node only). Saving is atomic: the bytes go to a
// temporary file beside the target, which is renamed over it only once complete, so a failed
// save never leaves a half-written model at the path.
import { writeFile, rename, rm, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { loadModel, type Model, type LoadModelOptions } from '../index.js';

export async function saveModel(path: string, model: Model): Promise<void> {
  const bytes = model.toBytes();
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temporary, bytes, { flush: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    fail('WRITE_FAILED', `could not write the model to ${path}: ${(error as Error).message}`);
  }
}

export async function loadModelFile(path: string, options: Omit<LoadModelOptions, 'name'> = {}): Promise<Model> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    fail('FILE_NOT_FOUND', `${path}: no such model file`);
  }
  return loadModel(bytes, { ...options, name: basename(path) });
}
