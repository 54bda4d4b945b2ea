// Users and items files: MovieLens 100K's u.user / u.item and MovieLens "latest" movies.csv are
// found beside the ratings and encoded with built-in feature specs; any other delimited file
// with a header gets a spec inferred from its columns (Node only).
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../errors.js';
import type { SideFeatureSpec, SideSource } from '../data/side-features.js';
import { firstLine, readDelimited, sniffDelimiter, type Delimiter } from './delimited.js';

export interface SideFileSpec {
  path: string;
  delimiter: Delimiter;
  encoding: 'utf8' | 'latin1';
  quotes: boolean;
  header: boolean;
  /** Column holding the entity id. */
  idColumn: number;
  /** How to encode the other columns; undefined: inferred from the data. */
  features?: SideFeatureSpec[];
  /** A name for messages ("MovieLens 100K u.user"). */
  label: string;
}

const ML100K_GENRES = Array.from({ length: 19 }, (_, g) => 5 + g);

export const MOVIELENS_100K_USERS: SideFeatureSpec[] = [
  { kind: 'bucketized', name: 'age', column: 1, boundaries: [18, 25, 35, 45, 50, 56], dim: 4 },
  { kind: 'categorical', name: 'gender', column: 2, dim: 2 },
  { kind: 'categorical', name: 'occupation', column: 3, dim: 4 },
];

export const MOVIELENS_100K_ITEMS: SideFeatureSpec[] = [
  { kind: 'flags', name: 'genres', columns: ML100K_GENRES, dim: 8 },
  {
    kind: 'bucketized',
    name: 'year',
    column: 2,
    transform: 'year',
    boundaries: [1940, 1960, 1970, 1980, 1990, 1994, 1996, 1998],
    dim: 4,
  },
  { kind: 'tokens', name: 'title', column: 1, buckets: 4096, dim: 8 },
];

export const MOVIELENS_LATEST_ITEMS: SideFeatureSpec[] = [
  { kind: 'multiHot', name: 'genres', column: 'genres', separator: '|', dim: 8 },
  {
    kind: 'bucketized',
    name: 'year',
    column: 'title',
    transform: 'year',
    boundaries: [1940, 1960, 1970, 1980, 1990, 2000, 2005, 2010, 2015],
    dim: 4,
  },
  { kind: 'tokens', name: 'title', column: 'title', buckets: 8192, dim: 8 },
];

/** The MovieLens side files beside a ratings file, if there are any. */
export function findMovieLensSideFiles(ratingsPath: string): { users?: SideFileSpec; items?: SideFileSpec } {
  const dir = dirname(ratingsPath);
  if (existsSync(join(dir, 'u.user')) && existsSync(join(dir, 'u.item'))) {
    return {
      users: {
        path: join(dir, 'u.user'),
        delimiter: '|',
        encoding: 'utf8',
        quotes: false,
        header: false,
        idColumn: 0,
        features: MOVIELENS_100K_USERS,
        label: 'MovieLens 100K u.user',
      },
      items: {
        path: join(dir, 'u.item'),
        delimiter: '|',
        encoding: 'latin1',
        quotes: false,
        header: false,
        idColumn: 0,
        features: MOVIELENS_100K_ITEMS,
        label: 'MovieLens 100K u.item',
      },
    };
  }
  if (existsSync(join(dir, 'movies.csv')) && /ratings/.test(basename(ratingsPath))) {
    return {
      items: {
        path: join(dir, 'movies.csv'),
        delimiter: ',',
        encoding: 'utf8',
        quotes: true,
        header: true,
        idColumn: 0,
        features: MOVIELENS_LATEST_ITEMS,
        label: 'MovieLens movies.csv',
      },
    };
  }
  return {};
}

/** A side file given by the user: delimiter sniffed, header required, id in the first column. */
export function genericSideFile(path: string, label: string): SideFileSpec {
  const line = firstLine(path);
  return { path, delimiter: sniffDelimiter(line), encoding: 'utf8', quotes: true, header: true, idColumn: 0, label };
}

/** Reads a side file into rows keyed by id; duplicate ids are an error naming both lines. */
export async function readSideFile(spec: SideFileSpec): Promise<SideSource> {
  const file = basename(spec.path);
  const rows = new Map<string, { fields: string[]; line: number }>();
  let header: string[] | null = null;
  await readDelimited(spec.path, { delimiter: spec.delimiter, encoding: spec.encoding, quotes: spec.quotes }, (fields, line) => {
    if (spec.header && header === null) {
      header = fields;
      return;
    }
    const id = fields[spec.idColumn]?.trim() ?? '';
    if (id === '') fail('BAD_LINE', `${file}:${line}: the id field (column ${spec.idColumn + 1}) is empty`);
    const earlier = rows.get(id);
    if (earlier) fail('BAD_LINE', `${file}:${line}: id "${id}" already appears on line ${earlier.line}`);
    rows.set(id, { fields, line });
  });
  if (rows.size === 0) fail('EMPTY_DATA', `${file}: no rows`);
  return { file, header, rows };
}

/**
 * A spec for every non-id column of a generic side file: numeric if every present value is a
 * number, multi-hot if values contain '|', categorical otherwise.
 */
export function inferSideFeatures(source: SideSource, idColumn: number): SideFeatureSpec[] {
  if (!source.header) fail('BAD_OPTION', `${source.file}: a users/items file needs a header naming its columns`);
  const values = [...source.rows.values()];
  const labels = new Map<string, number>();
  return source.header.flatMap((name, column): SideFeatureSpec[] => {
    if (column === idColumn) return [];
    const present = values.map((r) => r.fields[column]?.trim() ?? '').filter((v) => v !== '');
    const label = name.trim() || `column${column + 1}`;
    const earlier = labels.get(label);
    if (earlier !== undefined)
      fail(
        'BAD_LINE',
        `${source.file}:1: columns ${earlier + 1} and ${column + 1} are both named "${label}": give each column its own name`,
      );
    labels.set(label, column);
    if (present.length > 0 && present.every((v) => Number.isFinite(Number(v)))) return [{ kind: 'numeric', name: label, column }];
    if (present.some((v) => v.includes('|'))) return [{ kind: 'multiHot', name: label, column, separator: '|', dim: 8 }];
    return [{ kind: 'categorical', name: label, column, dim: 8 }];
  });
}
