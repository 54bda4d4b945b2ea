// A model's state ↔ a model file's contents: what toBytes() writes (config, parameters,
// vocabularies, feature tables, seen items, training settings, optimizer state) and how
// loadModel() rebuilds a core from it, every field checked against the config before anything
// is allocated. The byte format itself is src/io/model-file.ts.
import { fail, TwoTowerError } from '../errors.js';
import type { Backend } from '../backend/contract.js';
import { Vocabulary } from '../data/vocabulary.js';
import { checkCsr } from '../data/csr.js';
import { TwoTower } from '../model/twotower.js';
import type { LoadOptions } from '../wasm/load.js';
import { LOSSES, type LossName } from '../train/losses/index.js';
import { planOptimizers, OPTIMIZERS, type OptimizerName, type OptimizerOptions } from '../train/optimizers/index.js';
import { checkCarriedSettings, lossConflict } from '../train/options.js';
import { encodeModelFile, decodeModelFile, jsonDepth, MAX_JSON_DEPTH, type ModelFileContents } from '../io/model-file.js';
import { createCore } from './create.js';
import { setVocabularies, type ModelVocabularies } from './ids.js';
import { labelsFromJSON, labelsToJSON } from './labels.js';

export interface LoadModelOptions {
  /** How to load the WASM kernels. Default: inlined, 'auto' build. */
  wasm?: LoadOptions;
  /** Run on this backend instead of WASM. Default: WASM. */
  backend?: Backend;
  /** The file's name, for error messages. Default 'model file'. */
  name?: string;
}

/** The bytes of a model file holding `core` (see Model.toBytes); `withState` false leaves the optimizer state out. */
export function encodeCore(core: TwoTower, withState: boolean): Uint8Array {
  return encodeModelFile({
    config: core.config,
    optimizerSteps: core.optimizerSteps,
    parameters: core.parameters(),
    vocabularies: { user: core.vocabularies.users?.toJSON(), item: core.vocabularies.items?.toJSON() },
    userFeatures: core.userTower.table,
    itemFeatures: core.itemTower.table,
    metadata: core.metadata,
    labels: labelsToJSON(core),
    seen: core.seen,
    loss: core.trainedWith?.loss,
    training: core.trainedWith?.settings,
    optimizerState: core.store.groups.flatMap((group) => {
      const slots = core.store.stateOf(group);
      if (slots.length === 0 || !withState) return [];
      const values = slots.map((s) => Float32Array.from(core.backend.floats(s.ptr, s.floats)));
      return [{ group: group.name, owner: core.store.stateOwner(group), slots: values }];
    }),
  });
}

/** A deep copy of metadata to save with a model: an object of JSON data, at most MAX_JSON_DEPTH levels deep (else BAD_INPUT). */
export function metadataCopy(value: Record<string, unknown>): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail('BAD_INPUT', 'metadata must be an object');
  if (jsonDepth(value) > MAX_JSON_DEPTH) fail('BAD_INPUT', `metadata nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch (cause) {
    fail('BAD_INPUT', `metadata must be JSON data (it is saved with the model): ${(cause as Error).message}`, {}, { cause });
  }
}

/**
 * The core a model file describes (see loadModel), its kernels on `threads` (createModel's; a
 * model trained elsewhere, such as a recipe member in a worker, keeps the threads asked for).
 * Throws BAD_MODEL_FILE for a file that is not a model, is truncated or corrupted, or has a newer
 * format version; nothing stays allocated.
 */
export async function decodeCore(bytes: Uint8Array, options: LoadModelOptions = {}, threads = 1): Promise<TwoTower> {
  const name = options.name ?? 'model file';
  return coreFromContents(decodeModelFile(bytes, name), options, name, threads);
}

/** The core a model file's decoded contents describe (decodeCore; serving bundles, src/api/bundle.ts, too). */
export async function coreFromContents(
  contents: ModelFileContents,
  options: LoadModelOptions,
  name: string,
  threads = 1,
): Promise<TwoTower> {
  // What the file holds must be what its config declares, block for block, before anything is
  // allocated: a tampered config (a vocabulary of 60 million ids in a 3 KB file) fails here.
  const declared = asModelFileError(name, () => TwoTower.parameterBlocks(contents.config));
  for (const block of declared) {
    const values = contents.parameters[block.name];
    if (!values || values.length !== block.size) {
      fail(
        'BAD_MODEL_FILE',
        `${name} is corrupted: parameter block "${block.name}" is ${values ? `${values.length} values, expected ${block.size}` : 'missing'}`,
        { file: name, field: block.name, value: values?.length, expected: `${block.size} values` },
      );
    }
  }
  const extra = Object.keys(contents.parameters).filter((n) => !declared.some((b) => b.name === n));
  if (extra.length > 0)
    fail('BAD_MODEL_FILE', `${name} is corrupted: parameter block "${extra[0]}" is not part of its model`, {
      file: name,
      field: extra[0],
    });
  checkHeaderAgainstModel(contents, name);
  const core = await asModelFileErrorAsync(name, () =>
    // Every block is written from the file below (checked above), so nothing is drawn.
    createCore(
      contents.config,
      {
        wasm: options.wasm,
        backend: options.backend,
        userFeatures: contents.userFeatures,
        itemFeatures: contents.itemFeatures,
        ...(threads > 1 ? { threads } : {}),
      },
      'zeros',
    ),
  );
  try {
    core.write((store) => {
      for (const block of store.blocks) store.writable(block).set(contents.parameters[block.name]!);
      core.optimizerSteps = contents.optimizerSteps;
      for (const saved of contents.optimizerState ?? []) {
        const group = store.groups.find((g) => g.name === saved.group);
        if (!group)
          fail('BAD_MODEL_FILE', `${name} is corrupted: optimizer state for "${saved.group}", which is not a parameter group`);
        if (!Object.hasOwn(OPTIMIZERS, saved.owner))
          fail('BAD_MODEL_FILE', `${name} holds state of optimizer "${saved.owner}", which this twotower does not know`);
        const sizes = OPTIMIZERS[saved.owner as OptimizerName].state(group).map((n) => Math.max(4, n));
        if (sizes.length !== saved.slots.length || sizes.some((n, i) => saved.slots[i]!.length !== n))
          fail(
            'BAD_MODEL_FILE',
            `${name} is corrupted: "${saved.group}"'s ${saved.owner} state has slots of ${saved.slots.map((x) => x.length).join(', ')} floats, expected ${sizes.join(', ')}`,
          );
        store.useState(group, saved.owner, sizes);
        store.stateOf(group).forEach((slot, i) => core.backend.floats(slot.ptr, slot.floats).set(saved.slots[i]!));
      }
    });
    if (contents.loss !== undefined) {
      if (!Object.hasOwn(LOSSES, contents.loss))
        fail('BAD_MODEL_FILE', `${name} was trained with loss "${contents.loss}", which this twotower does not know`, {
          file: name,
          field: 'loss',
          value: contents.loss,
        });
      core.trainedWith = {
        loss: contents.loss,
        implicit: LOSSES[contents.loss as LossName].implicit,
        ...(contents.training ? { settings: contents.training } : {}),
      };
    }
    const vocabularies: ModelVocabularies = {};
    if (contents.vocabularies.user) vocabularies.users = Vocabulary.fromJSON(contents.vocabularies.user);
    if (contents.vocabularies.item) vocabularies.items = Vocabulary.fromJSON(contents.vocabularies.item);
    asModelFileError(name, () => setVocabularies(core, vocabularies));
    core.metadata = contents.metadata;
    asModelFileError(name, () => labelsFromJSON(core, contents.labels));
    if (contents.seen) {
      const { offsets, ids } = contents.seen;
      asModelFileError(name, () => checkCsr(offsets, ids, core.userCount, core.itemCount, 'seen'));
      core.seen = contents.seen;
    }
  } catch (error) {
    core.dispose();
    throw error;
  }
  return core;
}

/**
 * What a model file's header says beside the config must agree with the config and its tables,
 * checked before anything is allocated: each vocabulary maps exactly its side's rows (a hashed
 * one into as many buckets, an exact one with a key for every row but the unknown-id row 0); the
 * loss can train the config; the training settings are what fit() accepts (named as the file's,
 * not as the caller's options) and hold only settings a model carries. Throws BAD_MODEL_FILE
 * naming the field and its value.
 */
function checkHeaderAgainstModel(contents: ModelFileContents, name: string): void {
  const bad = (what: string): never => fail('BAD_MODEL_FILE', `${name} is corrupted: ${what}`, { file: name });
  const config = contents.config;
  for (const side of ['user', 'item'] as const) {
    const vocab = contents.vocabularies[side];
    if (!vocab) continue;
    const id = config[side].features.find((f) => f.kind === 'id');
    const table = side === 'user' ? contents.userFeatures : contents.itemFeatures;
    const rows = id ? id.vocabSize : (table?.count ?? 0);
    const what = id ? `the ${side} id table has ${rows} rows` : `the ${side} feature table has ${rows} rows`;
    if (vocab.mode === 'hash' && vocab.buckets !== rows) bad(`vocabularies.${side}.buckets is ${vocab.buckets}, but ${what}`);
    if (vocab.mode === 'exact' && vocab.keys!.length + 1 !== rows)
      bad(`vocabularies.${side}.keys holds ${vocab.keys!.length} keys, but ${what} (${rows - 1} keys and the unknown-id row 0)`);
  }
  if (contents.loss === undefined) return;
  if (!Object.hasOwn(LOSSES, contents.loss))
    fail('BAD_MODEL_FILE', `${name} was trained with loss "${contents.loss}", which this twotower does not know`, {
      file: name,
      field: 'loss',
      value: contents.loss,
    });
  const conflict = lossConflict(LOSSES[contents.loss as LossName], config);
  if (conflict) bad(`loss is ${JSON.stringify(contents.loss)}, but ${conflict}`);
  const training = contents.training;
  if (training === undefined) return;
  asModelFileError(name, () => checkCarriedSettings(training, 'training'));
  if (training.optimizers !== undefined) {
    const groups = asModelFileError(name, () => TwoTower.parameterGroups(config));
    try {
      planOptimizers(groups, training.optimizers as OptimizerOptions, 1);
    } catch (error) {
      bad(`training.optimizers is ${JSON.stringify(training.optimizers)}: ${(error as Error).message}`);
    }
  }
}

/** Errors that mean "this file does not describe a valid model" become BAD_MODEL_FILE; memory errors stay what they are. */
function toModelFileError(name: string, error: unknown): never {
  if (
    error instanceof TwoTowerError &&
    (error.code === 'OUT_OF_MEMORY' || error.code === 'LOAD_FAILED' || error.code === 'UNSUPPORTED')
  )
    throw error;
  fail('BAD_MODEL_FILE', `${name} is corrupted: ${(error as Error).message}`, { file: name }, { cause: error });
}

function asModelFileError<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    toModelFileError(name, error);
  }
}

async function asModelFileErrorAsync<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    toModelFileError(name, error);
  }
}
