// A model grown to more users and items (Model.update, Model.addItems): a new core whose id
// tables, bias tables and interaction sets over the grown side have the new rows, with every
// value and every optimizer state slot of the old one copied in place (a table is row-major, so
// the old rows are a prefix), so training continues exactly where it stopped. New rows start
//   - id embedding rows: the mean of the trained rows where the tower also reads features (the
//     features then say what is known of a new entity; the mean is "an average one"), else the
//     seeded initialisation, as in a fresh model;
//   - per-entity score biases: the mean of the trained biases;
//   - their optimizer state: zero (as for a row never touched).
// The old core is left untouched: the caller swaps the new one in and disposes the old one once
// whatever follows (training) has succeeded, or disposes the new one.
import { fail } from '../errors.js';
import type { TwoTowerConfig, TowerSide } from '../config/model.js';
import type { FeatureTable } from '../config/feature-table.js';
import type { ParamBlock } from '../model/parameters.js';
import { TwoTower } from '../model/twotower.js';
import { interactionSets } from '../model/interaction-sets.js';
import { featureKind } from '../model/features/index.js';
import { OPTIMIZERS, type OptimizerName } from './optimizers/index.js';

export interface GrowPlan {
  /** Users and items of the grown model (at least the current counts). */
  users: number;
  items: number;
  /** The grown towers' feature tables (count = users, items); default: the current ones extended with unknown rows. */
  userTable?: FeatureTable;
  itemTable?: FeatureTable;
}

/** The config with the id features and the interaction sets over each side widened to its new count. */
export function grownConfig(config: TwoTowerConfig, counts: Record<TowerSide, number>): TwoTowerConfig {
  const out = structuredClone(config);
  for (const side of ['user', 'item'] as const) {
    const other = side === 'user' ? 'item' : 'user';
    const sets = new Map(interactionSets(config, side).map((s) => [s.spec.name, s.set]));
    for (const spec of out[side].features) {
      if (spec.kind === 'id') spec.vocabSize = counts[side];
      // A tied set over this side's own rows reads its id table: it widens with it (new rows' sets start empty).
      if (spec.kind === 'multiHot' && spec.tied && spec.tokens === 'self') spec.vocabSize = counts[side];
      if (spec.kind === 'multiHot' && sets.has(spec.name)) {
        spec.vocabSize = counts[other];
        spec.interactions = sets.get(spec.name);
      }
    }
  }
  return out;
}

/** A feature table extended with unknown rows up to `count` (category 0, empty sets, zeros). */
export function extendTable(core: TwoTower, side: TowerSide, count: number): FeatureTable | undefined {
  const table = core.tower(side).table;
  if (!table) return undefined;
  const extra = count - table.count;
  if (extra === 0) return table;
  const columns: FeatureTable['columns'] = Object.create(null) as FeatureTable['columns'];
  for (const spec of core.config[side].features) {
    const have = table.columns[spec.name];
    if (have === undefined) continue;
    const tail = featureKind(spec).unknownColumn(spec, extra)!;
    if (have instanceof Int32Array || have instanceof Float32Array) {
      const out = new (have.constructor as Int32ArrayConstructor | Float32ArrayConstructor)(
        have.length + (tail as typeof have).length,
      );
      out.set(have);
      out.set(tail as typeof have, have.length);
      columns[spec.name] = out;
    } else {
      const end = have.offsets[table.count]!;
      columns[spec.name] = {
        offsets: Int32Array.from({ length: count + 1 }, (_, r) => (r <= table.count ? have.offsets[r]! : end)),
        ids: have.ids,
        ...(have.weights ? { weights: have.weights } : {}),
      };
    }
  }
  return { count, columns };
}

/** The grown core (see the file's header); the old one is left as it was. */
export function grow(old: TwoTower, plan: GrowPlan): TwoTower {
  old.ensureReady();
  const counts = { user: plan.users, item: plan.items };
  for (const side of ['user', 'item'] as const) {
    const have = side === 'user' ? old.userCount : old.itemCount;
    if (!Number.isInteger(counts[side]) || counts[side] < have) fail('INTERNAL', `grow: ${side}s ${counts[side]} < ${have}`);
  }
  const userTable = plan.userTable ?? extendTable(old, 'user', plan.users);
  const itemTable = plan.itemTable ?? extendTable(old, 'item', plan.items);
  const core = new TwoTower(grownConfig(old.config, counts), old.backend, old);
  try {
    if (userTable) core.setUserFeatures(userTable);
    if (itemTable) core.setItemFeatures(itemTable);
    copyParameters(old, core);
    core.vocabularies = { ...old.vocabularies };
    core.metadata = structuredClone(old.metadata);
    core.labels = { ...old.labels };
    core.servingOnly = old.servingOnly;
    core.trainedWith = old.trainedWith && structuredClone(old.trainedWith);
    if (old.seen) {
      const end = old.seen.offsets[old.userCount]!;
      core.seen = {
        offsets: Int32Array.from({ length: plan.users + 1 }, (_, r) => (r <= old.userCount ? old.seen!.offsets[r]! : end)),
        ids: old.seen.ids,
      };
    }
  } catch (error) {
    core.dispose();
    throw error;
  }
  // The two share the thread pool until the caller keeps one (see replaceCore in api/model.ts).
  core.threads = old.threads;
  return core;
}

/** Values, optimizer state and the step count, old rows in place; new id and bias rows as the file's header says. */
function copyParameters(old: TwoTower, core: TwoTower): void {
  const from = old.store;
  core.write((to) => {
    for (const block of to.blocks) {
      const source = from.find(block.name);
      if (!source) fail('INTERNAL', `grow: block "${block.name}" is new`);
      const values = from.values(source);
      const target = to.writable(block);
      if (values.length > target.length) fail('INTERNAL', `grow: block "${block.name}" shrank`);
      if (values.length < target.length) startNewRows(old, block, source, values, target);
      target.set(values);
    }
    for (const group of to.groups) {
      const source = from.groups.find((g) => g.name === group.name)!;
      const owner = from.stateOwner(source);
      if (owner === '') continue;
      to.useState(group, owner, OPTIMIZERS[owner as OptimizerName].state(group));
      const slots = from.stateOf(source);
      to.stateOf(group).forEach((slot, i) =>
        core.backend.floats(slot.ptr, slot.floats).set(old.backend.floats(slots[i]!.ptr, slots[i]!.floats)),
      );
    }
    core.optimizerSteps = old.optimizerSteps;
  });
}

/** Fills a grown table's new rows: the mean trained row for id tables of described towers and for score biases. */
function startNewRows(
  old: TwoTower,
  block: ParamBlock,
  source: ParamBlock,
  values: ArrayLike<number>,
  target: { [i: number]: number; length: number },
): void {
  const side: TowerSide = block.name.startsWith('user.') || block.name === 'bias.user' ? 'user' : 'item';
  const tower = old.tower(side);
  const isBias = block.name === `bias.${side}`;
  const isId = tower.idFeature !== undefined && block.name === `${side}.${tower.idFeature.name}.embedding`;
  if (!isBias && !(isId && tower.slots.length > 1)) return; // the seeded initialisation stays
  const width = block.shape[1] ?? 1;
  const rows = source.shape[0]!;
  // Row 0 of an exact vocabulary is the unknown entity: never trained, left out of the mean.
  const first = (side === 'user' ? old.vocabularies.users : old.vocabularies.items)?.mode === 'exact' && rows > 1 ? 1 : 0;
  const mean = new Float64Array(width);
  for (let r = first; r < rows; r++) for (let c = 0; c < width; c++) mean[c]! += values[r * width + c]! / (rows - first);
  for (let r = rows; r < block.shape[0]!; r++) for (let c = 0; c < width; c++) target[r * width + c] = mean[c]!;
}
