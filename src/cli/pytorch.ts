// The PyTorch hand-off on the command line: `twotower export --format pytorch --out DIR` writes a
// model's Python package (Model.toPyTorch: model.py, train.py, safetensors, JSON) into a
// directory; `twotower import --from pytorch DIR --out model.ttm` reads one back (importModel),
// after train.py may have trained it further under torchrun, and saves it as a model file.
// See docs/scale-out.md.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { loadModelFile, saveModel } from '../node/model-io.js';
import { checkOutput } from '../node/paths.js';
import { importModelDirectory, writePyTorchExport } from '../node/pytorch-files.js';

export interface PyTorchExportFlags {
  model: string;
  out: string;
  json: boolean;
}

/** `twotower export --format pytorch`: the package's files into --out (made if missing; a file there is refused). */
export async function exportPyTorchCommand(f: PyTorchExportFlags): Promise<void> {
  checkOutput('--out', f.out, [['--model', f.model]], ['config.json']);
  let isFile = false;
  try {
    isFile = !statSync(f.out).isDirectory();
  } catch {
    // missing: made by the write
  }
  if (isFile) fail('BAD_OPTION', `--out ${f.out} is a file: give a directory to write the PyTorch package into`);
  const model = await loadModelFile(f.model);
  try {
    const files = model.toPyTorch();
    await writePyTorchExport(f.out, files);
    const bytes = Object.values(files).reduce((sum, b) => sum + b.length, 0);
    if (f.json) {
      console.log(JSON.stringify({ model: f.model, format: 'pytorch', dir: f.out, files: Object.keys(files), bytes }));
      return;
    }
    console.error(`a PyTorch package (${Object.keys(files).length} files, ${bytes} bytes) → ${f.out}`);
    console.error(`  continue training:  torchrun --nproc_per_node 2 ${join(f.out, 'train.py')} EVENTS.csv --epochs 3`);
    console.error(`  bring it back:      twotower import --from pytorch ${f.out} --out model.ttm`);
  } finally {
    model.dispose();
  }
}

export interface ImportFlags {
  from: 'pytorch';
  dir: string;
  out: string;
  json: boolean;
}

/** `twotower import --from pytorch DIR --out FILE`: an export's directory as a model file. */
export async function importCommand(f: ImportFlags): Promise<void> {
  if (f.from !== 'pytorch') fail('BAD_OPTION', `--from must be pytorch, got ${JSON.stringify(f.from)}`);
  checkOutput('--out', f.out, []);
  const model = await importModelDirectory(f.dir);
  try {
    await saveModel(f.out, model);
    const summary = { dir: f.dir, out: f.out, users: model.userCount, items: model.itemCount, steps: model.optimizerSteps };
    if (f.json) console.log(JSON.stringify({ from: 'pytorch', ...summary }));
    else
      console.error(
        `a model of ${summary.users} users and ${summary.items} items (${summary.steps} optimizer steps) from ${f.dir} → ${f.out}`,
      );
  } finally {
    model.dispose();
  }
}
