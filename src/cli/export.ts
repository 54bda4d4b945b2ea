// `twotower export`: a saved model's embeddings as files for a vector database — JSON Lines, or
// NumPy .npy with the ids beside it (one per line) — augmented with the bias columns when the
// model has biases, so that a plain inner product is the model's score; or its towers as ONNX
// models; or a serving bundle, one file a device ranks and personalises with (docs/serving.md).
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadModelFile, stageFile, writeFileAtomic, type StagedFile } from '../node/model-io.js';
import { checkOutput, writeFailure } from '../node/paths.js';
import { fail } from '../errors.js';
import type { VectorFormat } from '../index.js';

export interface ExportFlags {
  model: string;
  /** A vector format (embeddings), 'onnx' (the towers) or 'bundle' (a serving bundle: --out is its file). */
  format: VectorFormat | 'onnx' | 'bundle';
  /** Bundle only: how its item vectors are stored. Default 'int8'. */
  items?: 'int8' | 'f32';
  /** Bundle only: keep every user (id rows, features, training items). Default false. */
  users?: boolean;
  side: 'user' | 'item' | 'both';
  /** commander's --no-augment: false when given. */
  augment?: boolean;
  out: string;
  json: boolean;
}

/** The names of the files an export writes into --out. */
function fileNames(format: ExportFlags['format'], sides: readonly ('user' | 'item')[]): string[] {
  return sides.flatMap((side) =>
    format === 'onnx' ? [`${side}_tower.onnx`] : format === 'npy' ? [`${side}s.npy`, `${side}s.ids.txt`] : [`${side}s.${format}`],
  );
}

/**
 * --out must be a directory or not exist yet (it is made when the files are written); a file at
 * --out, or a directory at one of the names the export writes, is refused before any work.
 */
function checkDirectory(out: string, names: readonly string[]): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(out).isDirectory();
  } catch {
    return; // made (or refused, naming why) when the files are written
  }
  if (!isDirectory) fail('BAD_OPTION', `--out ${out} is a file: give a directory to write the embedding files into`);
  for (const name of names) {
    let taken = false;
    try {
      taken = statSync(join(out, name)).isDirectory();
    } catch {
      // nothing there, or nothing readable: the write will say
    }
    if (taken) fail('BAD_OPTION', `--out ${out}: ${name} is a directory there; move it or choose another directory`);
  }
}

/** Makes --out if missing; returns the first directory it made (undefined: it existed). */
function makeDirectory(out: string): string | undefined {
  try {
    return mkdirSync(out, { recursive: true });
  } catch (error) {
    fail('WRITE_FAILED', `could not make the directory ${out}: ${writeFailure(error)}`, { file: out }, { cause: error });
  }
}

/** Removes the directories from `out` up to `first`, made by this export, if empty. */
function removeMadeDirectories(out: string, first: string): void {
  const top = resolve(first);
  for (let d = resolve(out); ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === top || dirname(d) === d) return;
  }
}

/**
 * Writes every file in full under a temporary name, then renames them into place: a failed write
 * leaves the directory as it was (and removes it if this export made it). Only a rename can fail
 * once another has been made (the targets were checked not to be directories), leaving the
 * files already renamed, each whole.
 */
async function writeAll(out: string, files: readonly { file: string; data: Uint8Array | string }[]): Promise<void> {
  const made = makeDirectory(out);
  const staged: StagedFile[] = [];
  try {
    for (const { file, data } of files) staged.push(await stageFile(file, data));
    for (const s of staged) await s.commit();
  } catch (error) {
    await Promise.all(staged.map((s) => s.discard()));
    if (made !== undefined) removeMadeDirectories(out, made);
    throw error;
  }
}

/** `--format bundle`: the model's serving bundle, written atomically to the file --out. */
async function exportBundle(f: ExportFlags): Promise<void> {
  checkOutput('--out', f.out, [['--model', f.model]]);
  const model = await loadModelFile(f.model);
  try {
    const items = f.items ?? 'int8';
    const users = f.users === true;
    const bytes = model.toBundle({ items, users });
    await writeFileAtomic(f.out, bytes);
    const modelBytes = statSync(f.model).size;
    if (f.json)
      console.log(
        JSON.stringify({ model: f.model, format: 'bundle', file: f.out, bytes: bytes.length, modelBytes, items, users }),
      );
    else
      console.error(
        `a serving bundle (${model.itemCount} item vectors as ${items}${users ? ', every user' : ', no per-user rows'}${model.labels.items.size ? `, ${model.labels.items.size} item labels` : ''}; ${bytes.length} bytes, ${(bytes.length / modelBytes).toFixed(2)} × the model file) → ${f.out}`,
      );
  } finally {
    model.dispose();
  }
}

export async function exportCommand(f: ExportFlags): Promise<void> {
  if (f.format === 'bundle') return exportBundle(f);
  if (f.items !== undefined || f.users !== undefined) fail('BAD_OPTION', '--items and --users are options of --format bundle');
  const sides = f.side === 'both' ? (['user', 'item'] as const) : ([f.side] as const);
  const names = fileNames(f.format, sides);
  checkOutput('--out', f.out, [['--model', f.model]], names);
  checkDirectory(f.out, names);
  const model = await loadModelFile(f.model);
  try {
    const files: { file: string; data: Uint8Array | string }[] = [];
    const at = (name: string) => join(f.out, name);
    if (f.format === 'onnx') {
      // The towers themselves: raw inputs → embedding (and bias), for ONNX Runtime.
      const towers = sides.map((side) => ({ side, file: at(`${side}_tower.onnx`), bytes: model.toOnnx({ tower: side }) }));
      files.push(...towers.map((t) => ({ file: t.file, data: t.bytes })));
      await writeAll(f.out, files);
      for (const t of towers)
        if (!f.json) console.error(`the ${t.side} tower (ONNX, opset 13, ${t.bytes.length} bytes) → ${t.file}`);
      const written = towers.map((t) => ({ side: t.side, file: t.file, bytes: t.bytes.length }));
      if (f.json) console.log(JSON.stringify({ model: f.model, format: 'onnx', files: written }));
      return;
    }
    const format = f.format as VectorFormat;
    const exports = sides.map((side) =>
      model.exportEmbeddings({ side, format, augment: f.augment === false ? false : undefined }),
    );
    const written: Record<string, unknown>[] = [];
    for (const e of exports) {
      const file = at(`${e.side}s.${e.format}`);
      files.push({ file, data: e.data });
      const record: Record<string, unknown> = { side: e.side, file, count: e.count, dim: e.dim, augmented: e.augmented };
      if (e.format === 'npy') {
        const idsFile = at(`${e.side}s.ids.txt`);
        files.push({ file: idsFile, data: e.ids.join('\n') + '\n' });
        record.ids = idsFile;
      }
      written.push(record);
    }
    await writeAll(f.out, files);
    for (const [k, e] of exports.entries())
      if (!f.json)
        console.error(
          `${e.side}s: ${e.count} vectors of ${e.dim} floats${e.augmented ? ' (with the bias columns: inner product = the model’s score)' : ''} → ${written[k]!.file as string}`,
        );
    if (f.json) console.log(JSON.stringify({ model: f.model, format: f.format, files: written }));
  } finally {
    model.dispose();
  }
}
