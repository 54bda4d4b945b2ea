// An entity's feature values in the words its data used: a category's own value ("student"), a
// set's members ("Sci-Fi", "Comedy"), a bucket's range ("1990s", "25–34"), a number as it was
// given. They come from what the model keeps about how its side features were encoded: the
// specs and encodings in its metadata (`${side}Specs`, `${side}Encoding`: the CLI and
// train({ users, items }) record them) and the tower's feature table. A feature whose values
// cannot be named (hashed title words; a table given already encoded) has no words.
import type { TwoTower } from '../model/twotower.js';
import type { TowerSide } from '../config/model.js';
import type { MultiHotColumn } from '../config/feature-table.js';
import type { SideEncoding, SideFeatureSpec } from '../data/side-features.js';

/** What a feature's value words are: the values themselves, or none. */
export interface FeatureValueWords {
  /** The encoding's kind ('tokens': hashed words, never named). */
  kind: SideFeatureSpec['kind'];
  /** The entity's values in words, most telling first (for sets: in the data's order). */
  words: string[];
}

/** The spec a model recorded for one of a side's features, if any. */
export function recordedSpec(core: TwoTower, side: TowerSide, feature: string): SideFeatureSpec | undefined {
  const specs = core.metadata[`${side}Specs`];
  if (!Array.isArray(specs)) return undefined;
  return (specs as SideFeatureSpec[]).find((s) => s && typeof s === 'object' && s.name === feature);
}

/**
 * A bucket of `boundaries` in words: index 1 is "before / under" the first, the last "… or later /
 * +", a decade of years "1970s". Boundaries read as years where the feature took years from text
 * (`year`) or all are whole numbers in 1800–2100.
 */
export function bucketWords(boundaries: readonly number[], bucket: number, year: boolean): string | undefined {
  if (bucket < 1 || bucket > boundaries.length + 1) return undefined;
  const years = year || boundaries.every((b) => Number.isInteger(b) && b >= 1800 && b <= 2100);
  const lo = boundaries[bucket - 2],
    hi = boundaries[bucket - 1];
  if (lo === undefined) return hi === undefined ? undefined : years ? `before ${hi}` : `under ${hi}`;
  if (hi === undefined) return years ? `${lo} or later` : `${lo}+`;
  const whole = Number.isInteger(lo) && Number.isInteger(hi);
  if (years && whole && lo % 10 === 0 && hi - lo === 10) return `${lo}s`;
  if (whole && hi - lo === 1) return String(lo);
  return whole ? `${lo}–${hi - 1}` : `${lo}–${hi}`;
}

/** Common one-letter codes, said in words. */
const CODES: Record<string, Record<string, string>> = {
  gender: { m: 'male', f: 'female' },
  sex: { m: 'male', f: 'female' },
};

function categoryWord(spec: SideFeatureSpec, key: string): string {
  return CODES[spec.name.toLowerCase()]?.[key.toLowerCase()] ?? key;
}

function setMembers(column: MultiHotColumn, row: number): number[] {
  const out: number[] = [];
  for (let p = column.offsets[row]!; p < column.offsets[row + 1]!; p++) out.push(column.ids[p]!);
  return out;
}

function numberWords(spec: SideFeatureSpec & { kind: 'numeric' }, value: number, encoding: SideEncoding[string] | undefined) {
  const { mean = 0, sd = 1, lo = 0, hi = 1 } = encoding ?? {};
  const normalize = spec.normalize ?? 'zscore';
  let raw = normalize === 'zscore' ? value * sd + mean : normalize === 'minmax' ? lo + value * (hi - lo || 1) : value;
  if (spec.transform === 'log1p') raw = Math.expm1(raw);
  const rounded = Math.abs(raw) >= 100 || spec.transform === 'year' ? Math.round(raw) : Number(raw.toPrecision(3));
  return String(rounded);
}

/**
 * The words of one feature's value for entity `row` of `side`, or undefined when the model
 * keeps nothing to name them by (no recorded spec, an unknown value, hashed words).
 */
export function featureValueWords(core: TwoTower, side: TowerSide, feature: string, row: number): FeatureValueWords | undefined {
  const spec = recordedSpec(core, side, feature);
  const column = core.tower(side).table?.columns[feature];
  if (!spec || column === undefined || row < 0) return undefined;
  const encoding = (core.metadata[`${side}Encoding`] as SideEncoding | undefined)?.[feature];
  const keys = encoding?.keys;
  switch (spec.kind) {
    case 'categorical': {
      const v = column instanceof Int32Array ? column[row] : undefined;
      const key = v !== undefined && v > 0 ? keys?.[v - 1] : undefined;
      return key === undefined || key === '' ? undefined : { kind: spec.kind, words: [categoryWord(spec, key)] };
    }
    case 'bucketized': {
      const v = column instanceof Int32Array ? column[row] : undefined;
      const words = v === undefined ? undefined : bucketWords(spec.boundaries, v, spec.transform === 'year');
      return words === undefined ? undefined : { kind: spec.kind, words: [words] };
    }
    case 'multiHot':
    case 'flags': {
      if (!('offsets' in column) || row + 1 >= column.offsets.length) return undefined;
      const names =
        spec.kind === 'multiHot'
          ? (id: number) => keys?.[id - 1]
          : (id: number) => spec.names?.[id] ?? (typeof spec.columns[id] === 'string' ? (spec.columns[id] as string) : undefined);
      const words = setMembers(column, row).flatMap((id) => {
        const name = names(id);
        // MovieLens's "unknown" genre says nothing.
        return name === undefined || name === '' || name.toLowerCase() === 'unknown' ? [] : [name];
      });
      return words.length ? { kind: spec.kind, words } : undefined;
    }
    case 'numeric': {
      const v = column instanceof Float32Array ? column[row] : undefined;
      return v === undefined ? undefined : { kind: spec.kind, words: [numberWords(spec, v, encoding)] };
    }
    case 'tokens':
      return undefined;
  }
}
