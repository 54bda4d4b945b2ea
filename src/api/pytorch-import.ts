// importModel(files): a PyTorch export (Model.toPyTorch, possibly trained further by its train.py,
// which grows the vocabularies and tables for new ids) back into a twotower Model, through the
// same write path as training: createModel(config) with the exported feature columns, then
// setParameters, setVocabularies and setSeen. Adam's moments are not read back (as for a model file
// saved without optimizer state: a later update() restarts them). See docs/scale-out.md.
import { fail } from '../errors.js';
import type { TwoTowerConfig, TowerSide } from '../config/model.js';
import type { FeatureTable, FeatureColumn } from '../config/feature-table.js';
import { Vocabulary, type VocabularyJSON } from '../data/vocabulary.js';
import { decodeSafetensors, type SafeTensor } from '../io/safetensors.js';
import { createModel, internals, type Model } from './model.js';
import type { CreateModelOptions } from './create.js';
import { PYTORCH_EXPORT_VERSION, type PyTorchFiles } from './pytorch-export.js';

interface ExportInfo {
  format: string;
  version: number;
  config: TwoTowerConfig;
  userCount: number;
  itemCount: number;
  optimizerSteps?: number;
  trainedWith?: { loss: string; implicit: boolean } | null;
  training?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

function file(files: PyTorchFiles, name: string): Uint8Array {
  const bytes = files[name];
  if (!(bytes instanceof Uint8Array)) fail('BAD_MODEL_FILE', `a PyTorch export needs ${name}, which is missing`, { file: name });
  return bytes;
}

function parseJson<T>(files: PyTorchFiles, name: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(file(files, name))) as T;
  } catch (cause) {
    if ((cause as { code?: string }).code === 'BAD_MODEL_FILE') throw cause;
    fail('BAD_MODEL_FILE', `${name} is not JSON: ${(cause as Error).message}`, { file: name }, { cause });
  }
}

/** A tower's feature table from the export's columns, or undefined when the tower reads none. */
function featureTable(side: TowerSide, info: ExportInfo, columns: Record<string, SafeTensor>): FeatureTable | undefined {
  const out: Record<string, FeatureColumn> = {};
  for (const spec of info.config[side].features) {
    const at = `${side}.${spec.name}`;
    const values = columns[`${at}.values`];
    if (values) out[spec.name] = values.data;
    const offsets = columns[`${at}.offsets`];
    if (offsets) {
      const weights = columns[`${at}.weights`];
      out[spec.name] = {
        offsets: offsets.data as Int32Array,
        ids: (columns[`${at}.ids`]?.data ?? new Int32Array(0)) as Int32Array,
        ...(weights ? { weights: weights.data as Float32Array } : {}),
      };
    }
  }
  if (Object.keys(out).length === 0) return undefined;
  return { count: side === 'user' ? info.userCount : info.itemCount, columns: out };
}

/**
 * A Model from the files of a PyTorch export, by name (config.json, weights.safetensors,
 * features.safetensors, vocab.*.json; model.py and train.py are not read): the parameters,
 * feature columns, vocabularies (with the ids a train.py run added), training history and
 * training settings. Throws BAD_MODEL_FILE for a missing or unreadable file, and what
 * setParameters throws for weights that do not fit the config.
 */
export async function importModel(files: PyTorchFiles, options: CreateModelOptions = {}): Promise<Model> {
  if (!files || typeof files !== 'object') fail('BAD_INPUT', "importModel needs the export's files as { name: bytes }");
  const info = parseJson<ExportInfo>(files, 'config.json');
  if (info.format !== 'twotower-pytorch' || typeof info.version !== 'number')
    fail('BAD_MODEL_FILE', 'config.json is not the config of a twotower PyTorch export', { file: 'config.json' });
  if (info.version > PYTORCH_EXPORT_VERSION)
    fail('BAD_MODEL_FILE', `config.json has layout version ${info.version}; this twotower reads up to ${PYTORCH_EXPORT_VERSION}`);
  const weights = decodeSafetensors(file(files, 'weights.safetensors'), 'weights.safetensors');
  const columns = decodeSafetensors(file(files, 'features.safetensors'), 'features.safetensors');
  const userFeatures = featureTable('user', info, columns);
  const itemFeatures = featureTable('item', info, columns);
  const model = await createModel(info.config, { ...options, userFeatures, itemFeatures });
  try {
    model.setParameters(Object.fromEntries(Object.entries(weights).map(([name, t]) => [name, t.data])));
    const vocabulary = (side: 'users' | 'items') => {
      const name = `vocab.${side}.json`;
      return files[name] ? Vocabulary.fromJSON(parseJson<VocabularyJSON>(files, name)) : undefined;
    };
    model.setVocabularies({ users: vocabulary('users'), items: vocabulary('items') });
    const offsets = columns['seen.offsets']?.data;
    const ids = columns['seen.ids']?.data;
    if (offsets && ids) {
      const users = new Int32Array(ids.length);
      for (let u = 0; u + 1 < offsets.length; u++) users.fill(u, offsets[u]!, offsets[u + 1]!);
      model.setSeen(users, ids as Int32Array);
    }
    if (info.metadata) model.metadata = info.metadata;
    const core = internals(model);
    if (info.trainedWith)
      core.trainedWith = { loss: info.trainedWith.loss, implicit: info.trainedWith.implicit, settings: info.training ?? {} };
    core.write(() => {
      core.optimizerSteps = info.optimizerSteps ?? 0;
    });
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
