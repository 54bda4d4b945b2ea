// Serving bundles (issue 24: 4): what a device needs to rank and personalise, and nothing it
// does not — no optimizer state, no other people's data. The bundle's model is an ordinary
// two-tower model whose item tower is a plain id table holding the full model's item vectors
// (as its item tower computed them) with the same item biases, so its scores are the full
// model's (exactly with f32 vectors; up to int8 rounding otherwise). The user tower is kept as
// it is — a person's vector is computed as the full model computes it — except that by default
// the per-user rows (id table rows, user biases, user feature rows, training items, user
// labels) are cut down to the unknown user's row 0: a device serves one person, personalised
// from their own events, and those rows are both the bulk of a model and other people's data.
// The byte layout is src/io/bundle-file.ts.
import { fail } from '../errors.js';
import type { FeatureSpec, TowerConfig, TwoTowerConfig } from '../config/model.js';
import type { FeatureColumn, FeatureTable } from '../config/feature-table.js';
import { Vocabulary } from '../data/vocabulary.js';
import { featureKind } from '../model/features/index.js';
import type { TwoTower } from '../model/twotower.js';
import { encodeModelFile, decodeModelFile, type ModelFileContents } from '../io/model-file.js';
import { decodeBundleFile, dequantizeRows, encodeBundleFile, quantizeRows, type ItemForm } from '../io/bundle-file.js';
import { checkBooleans } from '../data/checks.js';
import { coreFromContents, type LoadModelOptions } from './model-bytes.js';
import { labelsToJSON } from './labels.js';
import { meanUserVector } from './personal-solve.js';

export interface BundleOptions {
  /**
   * How the item vectors are stored: 'int8' (one byte per value and a scale per row, about a
   * quarter of f32; top-10 lists match the model's within int8 rounding) or 'f32' (exact).
   * Default 'int8'.
   */
  items?: ItemForm;
  /**
   * Keep every user: the user id table and biases, user features, training items and user
   * labels, so that recommend(userId) answers as the model does. Default false: a device serves
   * one person (personalise them from their own events, or recommendFromHistory), and the
   * per-user rows are the bulk of a model and other people's data.
   */
  users?: boolean;
}

/** The name of the bundle's item id table: the model's item id feature's name (a tied user set reads it), else 'item'. */
function itemIdName(config: TwoTowerConfig): string {
  return config.item.features.find((f) => f.kind === 'id')?.name ?? 'item';
}

/** Whether the item tower is exactly its id table (then tied user sets read the same rows in the bundle). */
function plainItemTower(config: TwoTowerConfig): boolean {
  const t = config.item;
  return t.features.length === 1 && t.features[0]!.kind === 'id' && !(t.hidden?.length ?? 0) && t.project === false;
}

/** The user tower without per-user rows: id features keep row 0 (the unknown user). */
function oneUserTower(tower: TowerConfig): TowerConfig {
  return {
    ...structuredClone(tower),
    features: tower.features.map((f): FeatureSpec => (f.kind === 'id' ? { ...f, vocabSize: 1 } : structuredClone(f))),
  };
}

/** The contents of a bundle's model file (item table left out: the bundle stores it) and the item vectors. */
function bundleContents(
  core: TwoTower,
  keepUsers: boolean,
): { contents: ModelFileContents; vectors: Float32Array; table: string } {
  const config = core.config;
  if (!keepUsers && config.user.features.some((f) => f.kind === 'multiHot' && f.tied && f.tokens === 'self'))
    fail('UNSUPPORTED', "toBundle: the user tower pools other users' rows (tokens: 'self'): bundle it with users: true");
  const table = itemIdName(config);
  const dim = core.dim;
  // A tied user set over the items pools the item id table, which the bundle replaces by the item
  // vectors: unless the item tower is that table alone, the set gets its own copy of the table.
  const untie = plainItemTower(config)
    ? []
    : config.user.features.filter((f) => f.kind === 'multiHot' && f.tied && f.tokens !== 'self').map((f) => f.name);
  const userTower = keepUsers ? structuredClone(config.user) : oneUserTower(config.user);
  userTower.features = userTower.features.map((f) =>
    f.kind === 'multiHot' && untie.includes(f.name) ? { ...f, tied: false } : f,
  );
  const bundleConfig: TwoTowerConfig = {
    ...structuredClone(config),
    user: userTower,
    item: { features: [{ kind: 'id', name: table, vocabSize: core.itemCount, dim }], project: false },
  };
  const all = core.parameters();
  const parameters: Record<string, Float32Array> = {};
  const firstRows = (values: Float32Array, width: number) => values.slice(0, width);
  for (const [name, values] of Object.entries(all)) {
    if (name.startsWith('item.')) continue;
    if (name === 'bias.user' && !keepUsers) parameters[name] = firstRows(values, 1);
    else if (name.startsWith('user.') && !keepUsers) {
      const id = config.user.features.find((f) => f.kind === 'id' && name === `user.${f.name}.embedding`);
      parameters[name] = id && id.kind === 'id' ? firstRows(values, id.dim) : values;
    } else parameters[name] = values;
  }
  for (const name of untie) parameters[`user.${name}.embedding`] = all[`item.${table}.embedding`]!;
  let userFeatures: FeatureTable | undefined = core.userTower.table;
  if (userFeatures && !keepUsers) {
    const columns: Record<string, FeatureColumn> = {};
    for (const f of config.user.features) {
      if (!featureKind(f).needsColumn) continue;
      const column = featureKind(f).unknownColumn(f, 1);
      if (column) columns[f.name] = column;
    }
    userFeatures = { count: 1, columns };
  }
  const users = core.vocabularies.users;
  const userVocab = keepUsers ? users?.toJSON() : users?.mode === 'exact' ? new Vocabulary().freeze().toJSON() : undefined;
  const labels = labelsToJSON(core);
  const contents: ModelFileContents = {
    config: bundleConfig,
    optimizerSteps: 0,
    parameters,
    vocabularies: { user: userVocab, item: core.vocabularies.items?.toJSON() },
    ...(userFeatures ? { userFeatures } : {}),
    metadata: structuredClone(core.metadata),
    ...(labels?.item || (keepUsers && labels?.user)
      ? { labels: { item: labels.item, ...(keepUsers ? { user: labels.user } : {}) } }
      : {}),
    ...(keepUsers && core.seen ? { seen: core.seen } : {}),
    ...(core.trainedWith
      ? { loss: core.trainedWith.loss, ...(core.trainedWith.settings ? { training: core.trainedWith.settings } : {}) }
      : {}),
  };
  return { contents, vectors: core.itemEmbeddings(), table };
}

/** The bytes of a serving bundle of `core` (see Model.toBundle). */
export function encodeBundle(core: TwoTower, options: BundleOptions): Uint8Array {
  if (!options || typeof options !== 'object') fail('BAD_OPTION', 'toBundle: options must be an object');
  const stray = Object.keys(options).find((k) => k !== 'items' && k !== 'users');
  if (stray !== undefined) fail('BAD_OPTION', `toBundle: unknown option "${stray}" (items, users)`, { option: stray });
  checkBooleans(options, 'toBundle: options', ['users']);
  const form = options.items ?? 'int8';
  if (form !== 'int8' && form !== 'f32')
    fail('BAD_OPTION', `toBundle: items must be 'int8' or 'f32', got ${JSON.stringify(form)}`, { option: 'items', value: form });
  const { contents, vectors } = bundleContents(core, options.users ?? false);
  // The mean trained user, which personalisation pulls toward: the users themselves stay behind.
  const personal = { meanUser: Array.from(meanUserVector(core)) };
  contents.metadata = { ...contents.metadata, bundle: { items: form, users: options.users ?? false }, personal };
  const count = core.itemCount,
    dim = core.dim;
  const model = encodeModelFile(contents);
  if (form === 'f32') return encodeBundleFile({ form, count, dim, vectors, model });
  const { q, scales } = quantizeRows(vectors, count, dim);
  return encodeBundleFile({ form, count, dim, vectors: q, scales, model });
}

/** The core a bundle describes (see loadBundle): serving only. */
export async function decodeBundle(bytes: Uint8Array, options: LoadModelOptions = {}): Promise<TwoTower> {
  const name = options.name ?? 'bundle';
  const bundle = decodeBundleFile(bytes, name);
  const contents = decodeModelFile(bundle.model, name);
  const ids = contents.config.item?.features?.filter((f) => f.kind === 'id') ?? [];
  if (ids.length !== 1 || contents.config.item.features.length !== 1)
    fail('BAD_MODEL_FILE', `${name} is corrupted: its item tower is not one id table`, { file: name });
  const id = ids[0]!;
  if (id.vocabSize !== bundle.count || id.dim !== bundle.dim || contents.config.dim !== bundle.dim)
    fail(
      'BAD_MODEL_FILE',
      `${name} is corrupted: ${bundle.count} × ${bundle.dim} item vectors for an item table of ${id.vocabSize} × ${id.dim}`,
      {
        file: name,
      },
    );
  const vectors =
    bundle.form === 'int8'
      ? dequantizeRows(bundle.vectors as Int8Array, bundle.scales!, bundle.count, bundle.dim)
      : (bundle.vectors as Float32Array);
  contents.parameters[`item.${id.name}.embedding`] = vectors;
  const core = await coreFromContents(contents, options, name);
  core.servingOnly = true;
  return core;
}
