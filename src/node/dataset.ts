// Everything the CLI needs from files: ratings (train, optional test), vocabularies, and side
// features, with notes saying what was found and used (Node only).
import { basename } from 'node:path';
import { fail } from '../errors.js';
import { Vocabulary } from '../data/vocabulary.js';
import { checkBooleans } from '../data/checks.js';
import { buildSideFeatures, type BuiltSideFeatures, type SideFeatureSpec } from '../data/side-features.js';
import type { ColumnMapping, RatingsData } from '../data/ratings.js';
import type { Delimiter } from './delimited.js';
import { loadRatingsFile, previewColumns, type RatingsFormat } from './ratings-file.js';
import {
  findMovieLensSideFiles,
  genericSideFile,
  inferSideFeatures,
  readSideFile,
  sideLabels,
  type SideFileSpec,
} from './side-files.js';

export interface DatasetOptions {
  data: string;
  test?: string;
  users?: string;
  items?: string;
  format?: RatingsFormat;
  columns?: ColumnMapping;
  delimiter?: Delimiter | 'auto';
  header?: boolean | 'auto';
  /** Require a rating column; false reads event logs (every row a positive); 'auto' as false
   *  unless a numeric column of the header may be the ratings (loadRatingsFile). Default true. */
  requireRating?: boolean | 'auto';
  /** Look for side files beside the ratings (MovieLens 100K's by name, others by their header). Default true. */
  autoSideFiles?: boolean;
  /** Hash user and item ids into this many buckets each instead of keeping a vocabulary
   *  (for id spaces too large or open-ended to list; distinct ids may share a bucket). */
  hashBuckets?: number;
}

export interface Dataset {
  train: RatingsData;
  test?: RatingsData;
  users: Vocabulary;
  items: Vocabulary;
  userSide?: BuiltSideFeatures;
  itemSide?: BuiltSideFeatures;
  /** The specs used, saved with a model so that new entities can be encoded the same way. */
  userSpecs?: SideFeatureSpec[];
  itemSpecs?: SideFeatureSpec[];
  /**
   * Display names from the side files (u.item's titles, a title or name column), by id: pass
   * them to model.setLabels (the CLI's train keeps them in the model).
   */
  labels?: { users?: Map<string, string>; items?: Map<string, string> };
  /** false for an event log: no rating column, every row a positive. */
  hasRatings: boolean;
  /** Where the training file's columns were found (header names, or 0-based indices without a header). */
  columns: ColumnMapping;
  /** The item column, when it was inferred from the header rather than named or known. */
  inferredItem?: string;
  /** Human-readable lines: which files and features were used, what was inferred, unknown ids seen. */
  notes: string[];
}

export async function loadDataset(o: DatasetOptions): Promise<Dataset> {
  checkBooleans(o, 'loadDataset: options', ['header', 'requireRating'], { others: ['auto'] });
  checkBooleans(o, 'loadDataset: options', ['autoSideFiles']);
  const notes: string[] = [];
  const reading = { format: o.format, columns: o.columns, delimiter: o.delimiter, header: o.header };
  const found =
    o.autoSideFiles === false || o.hashBuckets !== undefined
      ? {}
      : findMovieLensSideFiles(o.data, previewColumns(o.data, reading), [o.test, o.users, o.items]);
  if (!o.users && found.notes?.users) notes.push(found.notes.users);
  if (!o.items && found.notes?.items) notes.push(found.notes.items);
  const userFile: SideFileSpec | undefined = o.users ? genericSideFile(o.users, basename(o.users)) : found.users;
  const itemFile: SideFileSpec | undefined = o.items ? genericSideFile(o.items, basename(o.items)) : found.items;
  if (o.hashBuckets !== undefined && (userFile || itemFile)) {
    fail(
      'BAD_OPTION',
      'hashed ids cannot be matched with users/items files: drop --hash-ids or the side files (--no-side-features)',
    );
  }
  const users = o.hashBuckets ? new Vocabulary('hash', o.hashBuckets) : new Vocabulary();
  const items = o.hashBuckets ? new Vocabulary('hash', o.hashBuckets) : new Vocabulary();
  const sides = await Promise.all(
    [userFile, itemFile].map(async (spec) => {
      if (!spec) return undefined;
      const source = await readSideFile(spec);
      return { spec, source, features: spec.features ?? inferSideFeatures(source, spec.idColumn) };
    }),
  );
  const [userSource, itemSource] = sides;
  // Side files list every entity: their ids, in file order, are the vocabulary.
  if (userSource) {
    for (const id of userSource.source.rows.keys()) users.add(id);
    users.freeze();
  }
  if (itemSource) {
    for (const id of itemSource.source.rows.keys()) items.add(id);
    items.freeze();
  }
  const idSource = { users: userSource?.source.file, items: itemSource?.source.file };
  const read = (path: string, requireRating: boolean | 'auto' | undefined) =>
    loadRatingsFile(path, {
      ...reading,
      requireRating,
      users,
      items,
      builder: { knownIdsOnly: Boolean(userSource || itemSource), idSource },
    });
  const train = await read(o.data, o.requireRating);
  const rows = train.hasRatings ? 'ratings' : 'events';
  notes.push(
    `${rows}: ${basename(o.data)} (${train.format === 'movielens' ? 'MovieLens 100K format' : `delimited by ${JSON.stringify(train.delimiter)}${train.header ? ', with header' : ''}`}), ${train.data.users.length} ${train.hasRatings ? 'ratings' : 'events (no rating column: each a positive)'}`,
    ...train.notes,
  );
  users.freeze();
  items.freeze();
  let test: RatingsData | undefined;
  if (o.test) {
    // Read as the training file was: ratings there, ratings here.
    const loaded = await read(o.test, train.hasRatings);
    test = loaded.data;
    notes.push(
      `test: ${basename(o.test)}, ${test.users.length} ${rows}` +
        (loaded.unknownUsers || loaded.unknownItems
          ? `; ${loaded.unknownUsers} with users and ${loaded.unknownItems} with items unseen in training (scored as unknown)`
          : ''),
    );
  }
  const out: Dataset = {
    train: train.data,
    test,
    users,
    items,
    hasRatings: train.hasRatings,
    columns: train.columns,
    ...(train.inferredItem !== undefined ? { inferredItem: train.inferredItem } : {}),
    notes,
  };
  if (userSource) {
    out.userSide = buildSideFeatures('user', userSource.source, users, userSource.features);
    out.userSpecs = userSource.features;
    notes.push(`user features from ${userSource.spec.label}: ${userSource.features.map((f) => f.name).join(', ')}`);
  }
  if (itemSource) {
    out.itemSide = buildSideFeatures('item', itemSource.source, items, itemSource.features);
    out.itemSpecs = itemSource.features;
    notes.push(`item features from ${itemSource.spec.label}: ${itemSource.features.map((f) => f.name).join(', ')}`);
  }
  const labels = {
    users: userSource && sideLabels(userSource.spec, userSource.source),
    items: itemSource && sideLabels(itemSource.spec, itemSource.source),
  };
  for (const side of ['users', 'items'] as const) {
    const found = labels[side];
    if (!found) continue;
    (out.labels ??= {})[side] = found;
    notes.push(
      `${side === 'users' ? 'user' : 'item'} labels: ${found.size} from ${(side === 'users' ? userSource : itemSource)!.spec.label}`,
    );
  }
  notes.push(
    o.hashBuckets ? `ids hashed into ${o.hashBuckets} buckets each` : `${users.size - 1} users, ${items.size - 1} items`,
  );
  return out;
}
