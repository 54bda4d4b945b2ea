// Labels: human names for a model's items (and users), such as "Star Wars (1977)". They are keyed
// by id as results speak ids (the vocabulary's key; the row number where a side has no exact
// vocabulary), kept on the core, saved in model files and bundles, and carried by update(),
// addItems(), combineModels() and warmStart(). A label for an id the model does not know is
// dropped (and counted): labels never add ids.
import { fail } from '../errors.js';
import type { TwoTower } from '../model/twotower.js';
import type { LabelsJSON } from '../io/model-header.js';

/** An id as users give them: a string, or a number (ids.ts's Id). */
type Id = string | number;

/** Labels by id: a Map, a plain object `{ id: label }`, or a list of `[id, label]` pairs. */
export type LabelSource = ReadonlyMap<Id, string> | Readonly<Record<string, string>> | readonly (readonly [Id, string])[];

/** Labels of either side; each side optional. */
export interface LabelsInput {
  /** Item labels (titles, names). */
  items?: LabelSource;
  /** User labels (display names). */
  users?: LabelSource;
}

export type { LabelsJSON };

/** What setLabels did: labels set, and labels dropped because the model has no such id. */
export interface SetLabelsResult {
  set: number;
  unknown: number;
}

/** Longest label kept, in UTF-16 units (labels are for display). */
export const MAX_LABEL = 1000;

/** The pairs of a label source, checked: ids strings or numbers, labels strings. */
export function labelPairs(source: LabelSource, where: string): [Id, string][] {
  let pairs: [Id, string][];
  if (source instanceof Map) pairs = [...(source as ReadonlyMap<Id, string>).entries()];
  else if (Array.isArray(source)) {
    pairs = (source as readonly (readonly [Id, string])[]).map((p, i) => {
      if (!Array.isArray(p) || p.length !== 2) fail('BAD_INPUT', `${where}[${i}] must be an [id, label] pair`);
      return [p[0], p[1]];
    });
  } else if (source && typeof source === 'object') pairs = Object.entries(source as Record<string, string>);
  else fail('BAD_INPUT', `${where} must be a Map, an object { id: label } or a list of [id, label] pairs`);
  for (const [id, label] of pairs) {
    if (typeof id !== 'string' && typeof id !== 'number')
      fail('BAD_INPUT', `${where}: id ${JSON.stringify(id)} must be a string or a number`, { value: id });
    if (typeof label !== 'string')
      fail('BAD_INPUT', `${where}: the label of ${JSON.stringify(id)} must be a string, got ${JSON.stringify(label)}`, { id });
    if (label.length > MAX_LABEL)
      fail('BAD_INPUT', `${where}: the label of ${JSON.stringify(id)} is ${label.length} characters (at most ${MAX_LABEL})`, {
        id,
      });
  }
  return pairs;
}

/**
 * The key an id's label is kept under, or undefined when the model has no such id: the id
 * itself (as a string) on a side with an exact vocabulary, else its row number (results name
 * such a side's entities by row: no vocabulary, or hashed ids).
 */
export function labelKey(core: TwoTower, side: 'user' | 'item', id: Id): string | undefined {
  const vocab = side === 'user' ? core.vocabularies.users : core.vocabularies.items;
  if (vocab?.mode === 'exact') return vocab.has(String(id)) ? String(id) : undefined;
  const row = typeof id === 'number' ? id : /^\d+$/.test(id) ? Number(id) : NaN;
  const count = side === 'user' ? core.userCount : core.itemCount;
  return Number.isInteger(row) && row >= 0 && row < count ? String(row) : undefined;
}

/** Sets (adds or replaces) labels; ids the model does not know are dropped and counted. Checks everything first. */
export function setLabelsOn(core: TwoTower, labels: LabelsInput, where = 'setLabels'): SetLabelsResult {
  core.live();
  if (!labels || typeof labels !== 'object') fail('BAD_INPUT', `${where} needs { items?, users? }`);
  const stray = Object.keys(labels).find((k) => k !== 'items' && k !== 'users');
  if (stray !== undefined) fail('BAD_OPTION', `${where}: "${stray}" is not a side (items, users)`, { option: stray });
  const plan: ['users' | 'items', [string, string][]][] = [];
  let unknown = 0;
  for (const side of ['users', 'items'] as const) {
    const source = labels[side];
    if (source === undefined) continue;
    const kept: [string, string][] = [];
    for (const [id, label] of labelPairs(source, `${where}: ${side}`)) {
      const key = labelKey(core, side === 'users' ? 'user' : 'item', id);
      if (key === undefined) unknown++;
      else kept.push([key, label]);
    }
    plan.push([side, kept]);
  }
  let set = 0;
  for (const [side, kept] of plan) {
    const map = new Map(core.labels[side] ?? []);
    for (const [key, label] of kept) map.set(key, label);
    core.labels = { ...core.labels, [side]: map };
    set += kept.length;
  }
  return { set, unknown };
}

/** The label of an id, if it has one. */
export function labelOf(core: TwoTower, side: 'user' | 'item', id: Id): string | undefined {
  const map = side === 'user' ? core.labels.users : core.labels.items;
  return map && map.size > 0 ? map.get(String(id)) : undefined;
}

/** The labels as a model file keeps them. */
export function labelsToJSON(core: TwoTower): LabelsJSON | undefined {
  const out: LabelsJSON = {};
  if (core.labels.users?.size) out.user = [...core.labels.users];
  if (core.labels.items?.size) out.item = [...core.labels.items];
  return out.user || out.item ? out : undefined;
}

/** Labels read from a model file, kept where the model has the id (a file's labels are its own; others are dropped). */
export function labelsFromJSON(core: TwoTower, json: LabelsJSON | undefined): void {
  if (!json) return;
  setLabelsOn(
    core,
    { ...(json.user ? { users: json.user } : {}), ...(json.item ? { items: json.item } : {}) },
    'model file labels',
  );
}

/**
 * Copies `from`'s labels onto `to` for ids `to` knows, keeping `to`'s own where both have one.
 * A side is carried only where both models name ids alike (both exact vocabularies, both the
 * same hashing, or both row numbers): otherwise the same key would be another entity.
 */
export function carryLabels(from: TwoTower, to: TwoTower): void {
  for (const side of ['users', 'items'] as const) {
    const a = from.vocabularies[side],
      b = to.vocabularies[side];
    const alike = a && b ? a.mode === b.mode && a.buckets === b.buckets : !a && !b;
    if (!alike) continue;
    const source = from.labels[side];
    if (!source?.size) continue;
    const own = to.labels[side];
    const pairs = [...source].filter(([id]) => !own?.has(id));
    setLabelsOn(to, { [side]: pairs }, 'labels');
  }
}
