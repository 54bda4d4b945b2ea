// `twotower export`: a saved model's embeddings as files for a vector database — JSON Lines, or
// NumPy .npy with the ids beside it (one per line) — augmented with the bias columns when the
// model has biases, so that a plain inner product is the model's score; or its towers as ONNX
// models (docs/serving.md).
import { mkdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFile } from '../node/model-io.js';
import { fail } from '../errors.js';
import type { VectorFormat } from '../index.js';

export interface ExportFlags {
  model: string;
  /** A vector format (embeddings), or 'onnx' (the towers). */
  format: VectorFormat | 'onnx';
  side: 'user' | 'item' | 'both';
  /** commander's --no-augment: false when given. */
  augment?: boolean;
  out: string;
  json: boolean;
}

/** Writes a file through a temporary and a rename: a reader never sees half a file. */
function writeWhole(path: string, data: Uint8Array | string): void {
  const temporary = `${path}.partial-${process.pid}`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

export async function exportCommand(f: ExportFlags): Promise<void> {
  let isDirectory = false;
  try {
    isDirectory = statSync(f.out).isDirectory();
    if (!isDirectory) fail('BAD_OPTION', `--out ${f.out} is a file: give a directory to write the embedding files into`);
  } catch (error) {
    if ((error as { name?: string }).name === 'TwoTowerError') throw error;
  }
  const model = await loadModelFile(f.model);
  try {
    const sides = f.side === 'both' ? (['user', 'item'] as const) : ([f.side] as const);
    if (f.format === 'onnx') {
      // The towers themselves: raw inputs → embedding (and bias), for ONNX Runtime.
      const towers = sides.map((side) => ({ side, bytes: model.toOnnx({ tower: side }) }));
      if (!isDirectory) mkdirSync(f.out, { recursive: true });
      const files = towers.map(({ side, bytes }) => {
        const file = join(f.out, `${side}_tower.onnx`);
        writeWhole(file, bytes);
        if (!f.json) console.error(`the ${side} tower (ONNX, opset 13, ${bytes.length} bytes) → ${file}`);
        return { side, file, bytes: bytes.length };
      });
      if (f.json) console.log(JSON.stringify({ model: f.model, format: 'onnx', files }));
      return;
    }
    const format = f.format;
    const exports = sides.map((side) =>
      model.exportEmbeddings({ side, format, augment: f.augment === false ? false : undefined }),
    );
    if (!isDirectory) mkdirSync(f.out, { recursive: true });
    const written: Record<string, unknown>[] = [];
    for (const e of exports) {
      const file = join(f.out, `${e.side}s.${e.format}`);
      writeWhole(file, e.data);
      const record: Record<string, unknown> = { side: e.side, file, count: e.count, dim: e.dim, augmented: e.augmented };
      if (e.format === 'npy') {
        const idsFile = join(f.out, `${e.side}s.ids.txt`);
        writeWhole(idsFile, e.ids.join('\n') + '\n');
        record.ids = idsFile;
      }
      written.push(record);
      if (!f.json)
        console.error(
          `${e.side}s: ${e.count} vectors of ${e.dim} floats${e.augmented ? ' (with the bias columns: inner product = the model’s score)' : ''} → ${file}`,
        );
    }
    if (f.json) console.log(JSON.stringify({ model: f.model, format: f.format, files: written }));
  } finally {
    model.dispose();
  }
}
