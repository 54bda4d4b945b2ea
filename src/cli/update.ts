// `twotower update` and `twotower add-items`: a saved model changed by new data, written to a
// new file. New users and items take their side features from the users / items files (given,
// or MovieLens files found beside the data), encoded with the specs and encodings the model was
// trained with (its metadata), so that a category means what it meant in training. The data file
// is read as the model's training file was (the column flags it needed, kept in its metadata),
// unless update's own column flags say otherwise.
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import { loadModelFile, saveModel } from '../node/model-io.js';
import { checkOutput } from '../node/paths.js';
import { loadRatingsFile, previewColumns, type RatingsFileOptions } from '../node/ratings-file.js';
import { DELIMITERS } from '../node/delimited.js';
import { mapping, type DataFlags, type ReadChoices } from './train.js';
import type { ColumnMapping } from '../data/ratings.js';
import { findMovieLensSideFiles, genericSideFile, readSideFile, type SideFileSpec } from '../node/side-files.js';
import { buildSideFeatures, type SideEncoding, type SideFeatureSpec } from '../data/side-features.js';
import { Vocabulary } from '../data/vocabulary.js';
import { selectRows } from '../data/feature-rows.js';
import { fail } from '../errors.js';
import type { EntityFeatures, Model, UpdateEvent } from '../index.js';

export interface UpdateFlags extends DataFlags {
  model: string;
  data: string;
  users?: string;
  items?: string;
  out: string;
  epochs?: number;
  learningRate?: number;
  json: boolean;
}

export interface AddItemsFlags {
  model: string;
  items: string;
  out: string;
  json: boolean;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

const FLAG_OF: Record<keyof ColumnMapping, string> = {
  user: '--user-col',
  item: '--item-col',
  rating: '--rating-col',
  time: '--time-col',
  weight: '--weight-col',
};
const DELIMITER_NAMES: Record<string, string> = { ',': 'comma', '\t': 'tab', '|': 'pipe', ';': 'semicolon', '::': '::' };

/** The model's `read` metadata, keeping only well-formed parts (a model file is outside input). */
function readOf(model: Model): ReadChoices {
  const read = model.metadata.read as Record<string, unknown> | undefined;
  if (!read || typeof read !== 'object') return {};
  const out: ReadChoices = {};
  if (read.format === 'movielens' || read.format === 'csv') out.format = read.format;
  if (DELIMITERS.includes(read.delimiter as never)) out.delimiter = read.delimiter as ReadChoices['delimiter'];
  if (typeof read.header === 'boolean') out.header = read.header;
  const columns = read.columns as Record<string, unknown> | undefined;
  if (columns && typeof columns === 'object')
    for (const key of Object.keys(FLAG_OF) as (keyof ColumnMapping)[]) {
      const v = columns[key];
      if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v) && v >= 0)) (out.columns ??= {})[key] = v;
    }
  return out;
}

/**
 * How update and eval read a file for `model`: their flags, else the way the model's training
 * file was read (its metadata's `read`), else auto-detection. Says on stderr which parts came
 * from the model.
 */
export function asTrained(
  model: Model,
  f: DataFlags & { data: string },
): Pick<RatingsFileOptions, 'format' | 'columns' | 'delimiter' | 'header'> {
  const read = readOf(model);
  const given = mapping(f);
  const columns: ColumnMapping = { ...read.columns };
  const used: string[] = [];
  for (const key of Object.keys(FLAG_OF) as (keyof ColumnMapping)[]) {
    if (given[key] !== undefined) columns[key] = given[key];
    else if (read.columns?.[key] !== undefined) used.push(`${FLAG_OF[key]} ${read.columns[key]}`);
  }
  if (f.format === undefined && read.format) used.unshift(`--format ${read.format}`);
  if (f.delimiter === undefined && read.delimiter) used.push(`--delimiter ${DELIMITER_NAMES[read.delimiter] ?? read.delimiter}`);
  if (f.header === undefined && read.header !== undefined) used.push(read.header ? '--header' : '--no-header');
  if (used.length) say(`${basename(f.data)}: read as the model's training file was: ${used.join(' ')} (flags override)`);
  return {
    format: f.format ?? read.format ?? 'auto',
    delimiter: f.delimiter ?? read.delimiter ?? 'auto',
    header: f.header ?? read.header,
    columns,
  };
}

/** A side file by path: MovieLens's u.user / u.item read with their own layout, anything else as a headed delimited file. */
function sideFileAt(path: string, side: 'user' | 'item'): SideFileSpec {
  const name = basename(path);
  if (name === 'u.user' || name === 'u.item') {
    const found = findMovieLensSideFiles(path.replace(/u\.(user|item)$/, 'u.data'));
    const spec = side === 'user' ? found.users : found.items;
    if (spec) return spec;
  }
  return genericSideFile(path, name);
}

/**
 * Feature rows for the `ids` (new entities) from a side file, encoded as in training; undefined
 * when the model's tower reads no side features.
 */
async function newEntityFeatures(
  model: Model,
  side: 'user' | 'item',
  ids: string[],
  file: SideFileSpec | undefined,
): Promise<EntityFeatures | undefined> {
  const specs = model.metadata[`${side}Specs`] as SideFeatureSpec[] | undefined;
  if (!specs || specs.length === 0 || ids.length === 0) return undefined;
  if (!file) {
    say(
      `note: ${ids.length} new ${side}s and no ${side}s file (--${side}s): they take the unknown value of every ${side} feature`,
    );
    return undefined;
  }
  const encoding = model.metadata[`${side}Encoding`] as SideEncoding | undefined;
  if (!encoding)
    fail(
      'BAD_MODEL_FILE',
      `the model does not record how its ${side} features were encoded (it was saved by an older twotower): retrain it to add ${side}s with features`,
    );
  const source = await readSideFile({ ...file, features: specs });
  const entities = new Vocabulary();
  for (const id of ids) entities.add(id);
  const built = buildSideFeatures(side, source, entities.freeze(), specs, encoding);
  // Row 0 of the built table is the unknown entity: the new ones are rows 1…n.
  const columns = selectRows(
    built.table,
    ids.map((_, i) => i + 1),
  );
  return { ids, columns };
}

export async function updateCommand(f: UpdateFlags): Promise<void> {
  const beside = findMovieLensSideFiles(f.data);
  checkOutput('--out', f.out, [
    ['--data', f.data],
    ['--users', f.users],
    ['--items', f.items],
    ['the users file found beside --data', beside.users?.path],
    ['the items file found beside --data', beside.items?.path],
  ]);
  const model = await loadModelFile(f.model);
  try {
    const implicit = model.trainedWith?.implicit ?? false;
    const reading = asTrained(model, f);
    const loaded = await loadRatingsFile(f.data, { ...reading, requireRating: !implicit });
    loaded.notes.forEach(say);
    const { data, users, items } = loaded;
    const events: UpdateEvent[] = Array.from(data.users, (u, r) => ({
      user: users.key(u)!,
      item: items.key(data.items[r]!)!,
      rating: data.ratings[r]!,
      ...(data.timestamps ? { time: data.timestamps[r]! } : {}),
      ...(data.weights ? { weight: data.weights[r]! } : {}),
    }));
    const known = (side: 'user' | 'item', id: string) => {
      const v = side === 'user' ? model.vocabularies.users : model.vocabularies.items;
      return !v || v.has(id);
    };
    const fresh = (side: 'user' | 'item') => [...new Set(events.map((e) => String(e[side])))].filter((id) => !known(side, id));
    const found = findMovieLensSideFiles(f.data, previewColumns(f.data, reading), [f.users, f.items]);
    const fileFor = (side: 'user' | 'item') => {
      const given = side === 'user' ? f.users : f.items;
      if (given && !existsSync(given)) fail('FILE_NOT_FOUND', `--${side}s: ${given} does not exist`);
      return given ? sideFileAt(given, side) : side === 'user' ? found.users : found.items;
    };
    const newUsers = fresh('user'),
      newItems = fresh('item');
    const userFeatures = await newEntityFeatures(model, 'user', newUsers, fileFor('user'));
    const itemFeatures = await newEntityFeatures(model, 'item', newItems, fileFor('item'));
    const result = model.update(events, {
      ...(f.epochs !== undefined ? { epochs: f.epochs } : {}),
      ...(f.learningRate !== undefined ? { learningRate: f.learningRate } : {}),
      userFeatures,
      itemFeatures,
    });
    model.metadata = { ...model.metadata, updates: ((model.metadata.updates as number | undefined) ?? 0) + 1 };
    await saveModel(f.out, model);
    const summary = {
      events: result.events,
      newUsers: result.newUsers,
      newItems: result.newItems,
      epochs: result.fit.history.length,
      loss: result.fit.history.at(-1)?.loss,
      seconds: result.seconds,
      users: model.userCount - 1,
      items: model.itemCount - 1,
      model: f.out,
    };
    if (f.json) console.log(JSON.stringify(summary));
    else
      console.log(
        `updated with ${summary.events} events (${summary.newUsers} new users, ${summary.newItems} new items) in ${summary.epochs} epochs, ${summary.seconds.toFixed(2)} s; saved to ${f.out}`,
      );
  } finally {
    model.dispose();
  }
}

export async function addItemsCommand(f: AddItemsFlags): Promise<void> {
  checkOutput('--out', f.out, [['--items', f.items]]);
  const model = await loadModelFile(f.model);
  try {
    const file = sideFileAt(f.items, 'item');
    const source = await readSideFile({ ...file, features: (model.metadata.itemSpecs as SideFeatureSpec[] | undefined) ?? [] });
    const vocab = model.vocabularies.items;
    const ids = [...source.rows.keys()].filter((id) => !vocab?.has(id));
    if (ids.length === 0) fail('EMPTY_DATA', `${basename(f.items)}: every item in it is already in ${basename(f.model)}`);
    const features = await newEntityFeatures(model, 'item', ids, file);
    if (!features)
      fail(
        'BAD_MODEL_FILE',
        `${basename(f.model)} was trained without item features: new items have nothing to be embedded from`,
      );
    const { added, start } = model.addItems(features);
    await saveModel(f.out, model);
    if (f.json) console.log(JSON.stringify({ added, start, items: model.itemCount - 1, model: f.out }));
    else
      console.log(
        `added ${added} items (${start === 'regressed' ? 'id rows and biases predicted from their features' : 'mean id rows'}); saved to ${f.out}`,
      );
  } finally {
    model.dispose();
  }
}
