// Model.toPyTorch(): a model as a small Python package for PyTorch, as files by name (so it runs in
// browsers too; the CLI writes them into a directory):
//   model.py             the towers as nn.Modules (src/api/pytorch-model-py.ts), load(dir), save()
//   train.py             continued training, DDP-ready (src/api/pytorch-train-py.ts)
//   config.json          the model's config, entity counts, training settings, optimizer steps
//   weights.safetensors  every parameter block by its twotower name and shape (dense weights in × out)
//   optimizer.safetensors  Adam's moments "<block>.m" / "<block>.v", where the model holds them
//   features.safetensors the towers' feature columns "<side>.<feature>.values|offsets|ids|weights"
//                        and the training history "seen.offsets" / "seen.ids"
//   vocab.users.json, vocab.items.json  the id vocabularies (Vocabulary.toJSON)
// importModel (pytorch-import.ts) reads the same layout back. See docs/scale-out.md.
import type { TwoTower } from '../model/twotower.js';
import type { FeatureTable, MultiHotColumn } from '../config/feature-table.js';
import { encodeSafetensors, type SafeTensor } from '../io/safetensors.js';
import { MODEL_PY } from './pytorch-model-py.js';
import { TRAIN_PY } from './pytorch-train-py.js';

/** The layout version of an export's config.json (`format: 'twotower-pytorch'`). */
export const PYTORCH_EXPORT_VERSION = 1;

/** The files of a PyTorch export, by name (what Model.toPyTorch returns). */
export type PyTorchFiles = Record<string, Uint8Array>;

const text = (value: string) => new TextEncoder().encode(value);
const json = (value: unknown) => text(JSON.stringify(value, null, 1) + '\n');

/** A feature table's columns as safetensors tensors "<side>.<feature>.<part>". */
function featureTensors(side: 'user' | 'item', table: FeatureTable | undefined, into: Record<string, SafeTensor>): void {
  if (!table) return;
  for (const [name, column] of Object.entries(table.columns)) {
    const at = `${side}.${name}`;
    if (column instanceof Int32Array) into[`${at}.values`] = { dtype: 'I32', shape: [column.length], data: column };
    else if (column instanceof Float32Array) {
      const size = column.length / table.count;
      into[`${at}.values`] = { dtype: 'F32', shape: [table.count, size], data: column };
    } else {
      const bag = column as MultiHotColumn;
      into[`${at}.offsets`] = { dtype: 'I32', shape: [bag.offsets.length], data: bag.offsets };
      into[`${at}.ids`] = { dtype: 'I32', shape: [bag.ids.length], data: bag.ids };
      if (bag.weights) into[`${at}.weights`] = { dtype: 'F32', shape: [bag.weights.length], data: bag.weights };
    }
  }
}

/** Adam's moments by block ("<block>.m", "<block>.v"), for groups trained by adam or lazyAdam. */
function optimizerTensors(core: TwoTower): Record<string, SafeTensor> {
  const out: Record<string, SafeTensor> = {};
  const store = core.store;
  for (const group of store.groups) {
    const slots = store.stateOf(group);
    const owner = store.stateOwner(group);
    if (slots.length !== 2 || (owner !== 'adam' && owner !== 'lazyAdam')) continue;
    const [m, v] = slots.map((s) => core.backend.floats(s.ptr, s.floats));
    for (const block of group.blocks) {
      const shape = [...block.shape];
      out[`${block.name}.m`] = {
        dtype: 'F32',
        shape,
        data: Float32Array.from(m!.subarray(block.offset, block.offset + block.size)),
      };
      out[`${block.name}.v`] = {
        dtype: 'F32',
        shape,
        data: Float32Array.from(v!.subarray(block.offset, block.offset + block.size)),
      };
    }
  }
  return out;
}

/** The files of `core`'s PyTorch export (see the file's header). */
export function pytorchFiles(core: TwoTower): PyTorchFiles {
  core.ensureReady();
  const parameters = core.parameters();
  const weights: Record<string, SafeTensor> = {};
  for (const block of core.store.blocks)
    weights[block.name] = { dtype: 'F32', shape: [...block.shape], data: parameters[block.name]! };
  const features: Record<string, SafeTensor> = {};
  featureTensors('user', core.userTower.table, features);
  featureTensors('item', core.itemTower.table, features);
  if (core.seen) {
    features['seen.offsets'] = { dtype: 'I32', shape: [core.seen.offsets.length], data: core.seen.offsets };
    features['seen.ids'] = { dtype: 'I32', shape: [core.seen.ids.length], data: core.seen.ids };
  }
  const files: PyTorchFiles = {
    'config.json': json({
      format: 'twotower-pytorch',
      version: PYTORCH_EXPORT_VERSION,
      config: core.config,
      userCount: core.userCount,
      itemCount: core.itemCount,
      optimizerSteps: core.optimizerSteps,
      trainedWith: core.trainedWith ? { loss: core.trainedWith.loss, implicit: core.trainedWith.implicit } : null,
      training: core.trainedWith?.settings ?? {},
      metadata: core.metadata,
    }),
    'weights.safetensors': encodeSafetensors(weights, { format: 'pt' }),
    'features.safetensors': encodeSafetensors(features, { format: 'np' }),
    'model.py': text(MODEL_PY),
    'train.py': text(TRAIN_PY),
  };
  const moments = optimizerTensors(core);
  if (Object.keys(moments).length > 0) files['optimizer.safetensors'] = encodeSafetensors(moments, { format: 'pt' });
  const { users, items } = core.vocabularies;
  if (users) files['vocab.users.json'] = json(users.toJSON());
  if (items) files['vocab.items.json'] = json(items.toJSON());
  return files;
}
