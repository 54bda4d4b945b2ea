// Users and items files: MovieLens 100K's u.user / u.item are found beside the ratings by name;
// other users and items files (MovieLens "latest" movies.csv, whatever it is called) by what
// their header holds: the data's item (or user) column and columns that describe one (title,
// genres; age, gender, occupation…). Built-in specs encode them; any other delimited file with
// a header gets a spec inferred from its columns (Node only).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from '../errors.js';
import type { SideFeatureSpec, SideSource } from '../data/side-features.js';
import { splitFields } from '../data/delimiter.js';
import { firstLine, firstLines, readDelimited, sniffDelimiter, type Delimiter } from './delimited.js';
import { previewColumns } from './ratings-file.js';

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
  /** Column holding each entity's display name (u.item's title); undefined: a header column named title or name, if any. */
  labelColumn?: number;
}

const ML100K_GENRES = Array.from({ length: 19 }, (_, g) => 5 + g);
/** What MovieLens 100K's genre flags mean (its u.genre), kept in the model for reasons in words. */
const ML100K_GENRE_NAMES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

export const MOVIELENS_100K_USERS: SideFeatureSpec[] = [
  { kind: 'bucketized', name: 'age', column: 1, boundaries: [18, 25, 35, 45, 50, 56], dim: 4 },
  { kind: 'categorical', name: 'gender', column: 2, dim: 2 },
  { kind: 'categorical', name: 'occupation', column: 3, dim: 4 },
];

export const MOVIELENS_100K_ITEMS: SideFeatureSpec[] = [
  { kind: 'flags', name: 'genres', columns: ML100K_GENRES, names: ML100K_GENRE_NAMES, dim: 8 },
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

/** The side files found beside a data file, and what was left undecided. */
export interface FoundSideFiles {
  users?: SideFileSpec;
  items?: SideFileSpec;
  /** Per side, a line to show when several files could each have been its file (none was used). */
  notes?: { users?: string; items?: string };
}

/** Columns that describe an item or a user (lower case), beside its id. */
const ITEM_TITLES = ['title', 'name'];
const ITEM_GENRES = ['genres', 'genre'];
const USER_COLUMNS = [
  'age',
  'gender',
  'sex',
  'occupation',
  'job',
  'country',
  'zip',
  'zipcode',
  'zip-code',
  'zip_code',
  'city',
  'state',
  'region',
  'location',
];
/** Files looked at beside the data: delimited text, at most this many. */
const SIDE_FILE = /\.(csv|tsv|dat|txt|psv)$/i;
const MAX_SIBLINGS = 200;

/** MovieLens "latest" movies.csv's features over whichever of title and genres a header has. */
function itemSpecs(header: string[]): SideFeatureSpec[] {
  const find = (names: string[]) => header.find((h) => names.includes(h.toLowerCase()));
  const genres = find(ITEM_GENRES),
    title = find(ITEM_TITLES);
  const latest = Object.fromEntries(MOVIELENS_LATEST_ITEMS.map((f) => [f.name, f]));
  const specs: SideFeatureSpec[] = [];
  if (genres) specs.push({ ...latest.genres!, column: genres } as SideFeatureSpec);
  if (title?.toLowerCase() === 'title') specs.push({ ...latest.year!, column: title } as SideFeatureSpec);
  if (title) specs.push({ ...latest.title!, column: title } as SideFeatureSpec);
  return specs;
}

/**
 * The side files beside a ratings file. MovieLens 100K's u.user and u.item by name; otherwise
 * a sibling file (delimited text with a header) is the items file when its header has the
 * data's item column (e.g. movieId) and a title or genres column but not the user column, and
 * the users file when it has the user column and columns such as age, gender or occupation but
 * not the item column. `columns` names the data's user and item columns (default: read from
 * its header as loadRatingsFile would); `exclude` lists other inputs that are not side files.
 * Two candidates for one side: neither is used, and a note says so.
 */
export function findMovieLensSideFiles(
  ratingsPath: string,
  columns?: { user?: string; item?: string },
  exclude: readonly (string | undefined)[] = [],
): FoundSideFiles {
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
        labelColumn: 1,
      },
    };
  }
  let names = columns;
  if (!names) {
    try {
      names = previewColumns(ratingsPath);
    } catch {
      return {}; // the data file itself is unreadable or unplaceable: loading it will say why
    }
  }
  const user = names.user?.toLowerCase(),
    item = names.item?.toLowerCase();
  if (!user && !item) return {};
  const skip = new Set([ratingsPath, ...exclude].flatMap((p) => (p ? [resolve(p)] : [])));
  let siblings: string[];
  try {
    siblings = readdirSync(dir)
      .filter((f) => SIDE_FILE.test(f) && !skip.has(resolve(dir, f)))
      .sort()
      .slice(0, MAX_SIBLINGS);
  } catch {
    return {};
  }
  const candidates: Record<'users' | 'items', SideFileSpec[]> = { users: [], items: [] };
  for (const name of siblings) {
    const path = join(dir, name);
    let line: string;
    try {
      if (!statSync(path).isFile()) continue;
      line = firstLines(path, 1)[0] ?? '';
    } catch {
      continue; // unreadable, empty or binary: not a side file
    }
    const delimiter = sniffDelimiter(line);
    const header = splitFields(line, delimiter).map((f) =>
      f
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .trim(),
    );
    const lower = header.map((h) => h.toLowerCase());
    const spec = (idColumn: number, features: SideFeatureSpec[] | undefined, label: string): SideFileSpec => ({
      path,
      delimiter,
      encoding: 'utf8',
      quotes: true,
      header: true,
      idColumn,
      ...(features ? { features } : {}),
      label,
    });
    const hasUser = user !== undefined && lower.includes(user),
      hasItem = item !== undefined && lower.includes(item);
    if (hasItem && !hasUser && lower.some((h) => ITEM_TITLES.includes(h) || ITEM_GENRES.includes(h))) {
      const movieLens = lower.join(',') === 'movieid,title,genres';
      candidates.items.push(spec(lower.indexOf(item!), itemSpecs(header), movieLens ? `MovieLens ${name}` : name));
    } else if (hasUser && !hasItem && lower.some((h) => USER_COLUMNS.includes(h))) {
      candidates.users.push(spec(lower.indexOf(user!), undefined, name));
    }
  }
  const out: FoundSideFiles = {};
  for (const side of ['users', 'items'] as const) {
    const found = candidates[side];
    if (found.length === 1) out[side] = found[0];
    else if (found.length > 1)
      (out.notes ??= {})[side] =
        `${found.map((f) => basename(f.path)).join(', ')} beside ${basename(ratingsPath)} could each be its ${side} file: none is used (name one with --${side})`;
  }
  return out;
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

/** Header names of a column that holds display names (case-insensitive), in order of preference. */
const LABEL_COLUMNS = ['title', 'name'];

/**
 * The display names a side file gives, by id: its spec's label column, else the first header
 * column named title or name (case-insensitive; never the id column). Undefined when it has
 * none; rows with an empty name are left out.
 */
export function sideLabels(spec: SideFileSpec, source: SideSource): Map<string, string> | undefined {
  let column = spec.labelColumn;
  if (column === undefined && source.header) {
    const lower = source.header.map((h) => h.trim().toLowerCase());
    for (const name of LABEL_COLUMNS) {
      const at = lower.findIndex((h, i) => h === name && i !== spec.idColumn);
      if (at >= 0) {
        column = at;
        break;
      }
    }
  }
  if (column === undefined) return undefined;
  const labels = new Map<string, string>();
  for (const [id, row] of source.rows) {
    const label = row.fields[column]?.trim() ?? '';
    if (label !== '') labels.set(id, label);
  }
  return labels.size > 0 ? labels : undefined;
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
