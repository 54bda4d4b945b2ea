// A PyTorch export on disk (Node only): Model.toPyTorch()'s files written into a directory, each
// atomically (a reader sees an old file or a new one, whole), and a directory read back as the
// { name: bytes } map importModel takes. See src/api/pytorch-export.ts for the layout.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { importModel, type CreateModelOptions, type Model, type PyTorchFiles } from '../index.js';
import { stageFile, type StagedFile } from './model-io.js';
import { writeFailure } from './paths.js';

/** The files importModel reads (model.py and train.py are left, as are other files of the directory). */
const READ = /^(config\.json|(weights|features|optimizer)\.safetensors|vocab\.(users|items)\.json)$/;

/** Writes an export's files into `dir` (made if missing): all staged first, then renamed into place. */
export async function writePyTorchExport(dir: string, files: PyTorchFiles): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    fail('WRITE_FAILED', `could not make the directory ${dir}: ${writeFailure(error)}`, { file: dir }, { cause: error });
  }
  const staged: StagedFile[] = [];
  try {
    for (const [name, data] of Object.entries(files)) staged.push(await stageFile(join(dir, name), data));
    for (const s of staged) await s.commit();
  } catch (error) {
    await Promise.all(staged.map((s) => s.discard()));
    throw error;
  }
  return staged.map((s) => s.path);
}

/** The files of a PyTorch export's directory that importModel reads, by name. */
export async function readPyTorchExport(dir: string): Promise<PyTorchFiles> {
  const isDirectory = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDirectory)
    fail('FILE_NOT_FOUND', `${dir} is not a directory (a PyTorch export: config.json, weights.safetensors, …)`, { file: dir });
  const out: PyTorchFiles = {};
  for (const name of await readdir(dir)) if (READ.test(name)) out[name] = new Uint8Array(await readFile(join(dir, name)));
  return out;
}

/** importModel over a directory (what `twotower import --from pytorch DIR` reads). */
export async function importModelDirectory(dir: string, options: CreateModelOptions = {}): Promise<Model> {
  return importModel(await readPyTorchExport(dir), options);
}
