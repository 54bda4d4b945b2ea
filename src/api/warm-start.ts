// Transfer (issue 23: 6): a new model starts from a trained one's values instead of random ones.
// Tables whose rows are ids (id features, interaction sets over the other side's ids, the per-
// entity biases) are copied row by row BY ID through both models' vocabularies, so the new
// model may have other users and items (a later dump of the log) and another architecture
// (side features, hidden layers, a new family): every table of the same name and width is
// carried; ids the source never saw keep their fresh initial values. Tables of category codes
// are copied only when both models encoded their values alike; dense layers only when their
// tower reads the same features in the same order. Optimizer state is not carried (Adam starts
// afresh). The result says what was copied. Labels come along for the ids both models name alike
// (the target's own labels win).
import { fail } from '../errors.js';
import type { FeatureSpec, TowerSide, TwoTowerConfig } from '../config/model.js';
import type { Vocabulary } from '../data/vocabulary.js';
import { featureKind } from '../model/features/index.js';
import { internals, Model } from './model.js';
import { carryLabels } from './labels.js';

/** One parameter block of the target and what warmStart did with it. */
export interface WarmStartBlock {
  name: string;
  /** 'ids': rows matched by id; 'copied': the whole block; 'kept': its fresh values stay (see `reason`). */
  how: 'ids' | 'copied' | 'kept';
  /** Rows (or values, for 'copied') taken from the source. */
  copied: number;
  /** Rows (or values) of the block. */
  of: number;
  reason?: string;
}

export interface WarmStartReport {
  blocks: WarmStartBlock[];
}

/** Which side's ids a table's rows are, or null for rows of category codes. */
function rowIds(side: TowerSide, feature: FeatureSpec): TowerSide | null {
  if (feature.kind === 'id') return side;
  if (feature.kind === 'multiHot' && feature.interactions) return side === 'user' ? 'item' : 'user';
  return null;
}

/** The same features, in the same order, with the same widths and layers: dense blocks line up. */
function sameTower(a: TwoTowerConfig, b: TwoTowerConfig, side: TowerSide): boolean {
  const fa = a[side].features,
    fb = b[side].features;
  return (
    a.dim === b.dim &&
    fa.length === fb.length &&
    fa.every(
      (f, i) => f.name === fb[i]!.name && f.kind === fb[i]!.kind && featureKind(f).width(f) === featureKind(fb[i]!).width(fb[i]!),
    ) &&
    JSON.stringify(a[side].hidden ?? []) === JSON.stringify(b[side].hidden ?? []) &&
    (a[side].project !== false) === (b[side].project !== false)
  );
}

/** Target row → source row for a side, by id (exact vocabularies), else by row number. */
function rowMap(
  target: Vocabulary | undefined,
  source: Vocabulary | undefined,
  targetRows: number,
  sourceRows: number,
): Int32Array {
  const map = new Int32Array(targetRows).fill(-1);
  if (target && source && target.mode === 'exact' && source.mode === 'exact') {
    map[0] = 0; // the unknown-id bucket
    target.keys().forEach((id, i) => {
      const r = source.lookup(id);
      if (r !== 0 && i + 1 < targetRows) map[i + 1] = r;
    });
  } else if (!target && !source) {
    for (let r = 0; r < Math.min(targetRows, sourceRows); r++) map[r] = r;
  } else if (target && source && target.mode === 'hash' && source.mode === 'hash' && target.buckets === source.buckets) {
    for (let r = 0; r < targetRows; r++) map[r] = r;
  }
  return map;
}

/**
 * Copies `source`'s values into `target` where they mean the same thing (see the top of this
 * file) and returns what was copied. `target` is changed in place (its recommend cache too);
 * `source` is only read. Call it on a fresh model, before fit() or update().
 */
export function warmStart(target: Model, source: Model): WarmStartReport {
  for (const [name, m] of [
    ['target', target],
    ['source', source],
  ] as const)
    if (!(m instanceof Model)) fail('BAD_INPUT', `warmStart: the ${name} is not a Model`);
  const t = internals(target),
    s = internals(source);
  t.live();
  s.live();
  if (t === s) fail('BAD_INPUT', 'warmStart: the target and the source are the same model');
  const tp = target.parameters(),
    sp = source.parameters();
  const maps = {
    user: rowMap(t.vocabularies.users, s.vocabularies.users, t.userCount, s.userCount),
    item: rowMap(t.vocabularies.items, s.vocabularies.items, t.itemCount, s.itemCount),
  };
  const tables = new Map<string, { width: number; ids: TowerSide | null; side: TowerSide }>();
  for (const side of ['user', 'item'] as const)
    for (const f of t.config[side].features)
      if (f.kind !== 'numeric') tables.set(`${side}.${f.name}.embedding`, { width: f.dim, ids: rowIds(side, f), side });
  const blocks: WarmStartBlock[] = [];
  const values: Record<string, Float32Array> = {};
  for (const [name, to] of Object.entries(tp)) {
    const from = sp[name];
    const keep = (reason: string) => blocks.push({ name, how: 'kept', copied: 0, of: to.length, reason });
    if (!from) {
      keep('the source has no such block');
      continue;
    }
    const table = tables.get(name);
    const bias = name === 'bias.user' ? 'user' : name === 'bias.item' ? 'item' : null;
    if (table || bias) {
      const width = table ? table.width : 1;
      const ids = table ? table.ids : bias;
      if (from.length % width !== 0 || (table && sourceWidth(s.config, name) !== width)) {
        keep(`its width differs (${sourceWidth(s.config, name) ?? '?'} in the source, ${width} here)`);
        continue;
      }
      if (ids === null) {
        // Rows are category codes: the same only when both models encoded the values alike.
        const key = `${table!.side}Encoding`;
        const same =
          from.length === to.length && JSON.stringify(t.metadata[key] ?? null) === JSON.stringify(s.metadata[key] ?? null);
        if (!same) keep('its rows are category codes the two models encode differently');
        else {
          values[name] = from;
          blocks.push({ name, how: 'copied', copied: from.length, of: to.length });
        }
        continue;
      }
      const map = maps[ids];
      const out = Float32Array.from(to);
      let copied = 0;
      for (let r = 0; r < map.length; r++) {
        const at = map[r]!;
        if (at < 0 || (at + 1) * width > from.length) continue;
        out.set(from.subarray(at * width, (at + 1) * width), r * width);
        copied++;
      }
      if (copied === 0) keep(`no ${ids} id of this model is in the source`);
      else {
        values[name] = out;
        blocks.push({ name, how: 'ids', copied, of: to.length / width });
      }
      continue;
    }
    // Dense blocks (layers, attention vectors, the global bias): only where they line up.
    const side = name.startsWith('user.') ? 'user' : name.startsWith('item.') ? 'item' : null;
    if (side && !sameTower(t.config, s.config, side)) keep(`the ${side} towers read different inputs`);
    else if (from.length !== to.length) keep(`its size differs (${from.length} in the source, ${to.length} here)`);
    else {
      values[name] = from;
      blocks.push({ name, how: 'copied', copied: from.length, of: to.length });
    }
  }
  if (Object.keys(values).length) target.setParameters(values);
  carryLabels(s, t);
  return { blocks };
}

/** The row width of a named embedding table in a config, if it has one. */
function sourceWidth(config: TwoTowerConfig, name: string): number | undefined {
  for (const side of ['user', 'item'] as const)
    for (const f of config[side].features) if (f.kind !== 'numeric' && `${side}.${f.name}.embedding` === name) return f.dim;
  return undefined;
}
