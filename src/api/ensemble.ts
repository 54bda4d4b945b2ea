// Ensembles that stay one two-tower model. K trained members over the same users and items score
// Σ_k w_k · (u_k·v_k + biases_k); that sum is exactly one dot-product model of width Σ d_k:
//   - each tower reads every member's features side by side (member k ≥ 2's renamed `name_mk`);
//   - its dense layers are block-diagonal (member k's weights in its block, zeros elsewhere), so
//     each member's path through the tower is its own; ReLU acts elementwise, so this is exact;
//   - each member's output block is scaled by √w_k on both sides (so the dot product carries w_k):
//     in its projection (an identity block for a member that does not project), else in its last
//     hidden layer (ReLU(s·z) = s·ReLU(z) for s > 0), else (plain matrix factorisation) in its
//     embedding tables (an attention vector by 1/√w_k, which keeps its scores);
//   - the biases are the members' weighted sums.
// The result is an ordinary Model: the scorer, the int8 index, ONNX, vector exports and model
// files work unchanged. It costs the members' tables side by side; training it further (update)
// trains it as one model, off-block weights included, with the first fit()-trained member's
// settings.
import { fail } from '../errors.js';
import type { FeatureSpec, TowerConfig, TowerSide, TwoTowerConfig } from '../config/model.js';
import type { FeatureTable } from '../config/feature-table.js';
import { featureKind } from '../model/features/index.js';
import { createModel, internals, Model } from './model.js';

export interface CombineOptions {
  /** Each member's weight in the blended score (positive). Default 1/K each: the mean of the members' scores. */
  weights?: readonly number[];
  /** Threads of the combined model (createModel's `threads`). Default 1. */
  threads?: number;
}

/** What the combined model records of its members (metadata `ensemble`). */
export interface EnsembleInfo {
  members: number;
  weights: number[];
  /** Each member's embedding width, in the order of the combined vectors' blocks. */
  dims: number[];
  /** Each member's metadata `family` (e.g. 'tower', 'autorec'), when it said one. */
  families: (string | null)[];
}

/** Member k's name for a feature: member 1 keeps the names (history and explanations read them), the others are suffixed. */
const memberName = (name: string, k: number) => (k === 0 ? name : `${name}_m${k + 1}`);

/** The input width of a tower: its features' widths summed. */
const inputWidth = (tower: TowerConfig) => tower.features.reduce((s, f) => s + featureKind(f).width(f), 0);

function checkMembers(members: readonly Model[], weights: readonly number[]): void {
  if (!Array.isArray(members as unknown) || members.length === 0)
    fail('BAD_INPUT', 'combineModels needs a non-empty array of models');
  members.forEach((m, k) => {
    if (!(m instanceof Model)) fail('BAD_INPUT', `combineModels: members[${k}] is not a Model`, { index: k });
  });
  if (weights.length !== members.length)
    fail('BAD_OPTION', `combineModels: options.weights has ${weights.length} values for ${members.length} models`, {
      option: 'options.weights',
    });
  weights.forEach((w, k) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0)
      fail('BAD_OPTION', `combineModels: options.weights[${k}] must be a finite number > 0, got ${JSON.stringify(w)}`, {
        option: `options.weights[${k}]`,
        value: w,
      });
  });
  const first = internals(members[0]!);
  members.forEach((m, k) => {
    const core = internals(m);
    core.live();
    const where = `combineModels: model ${k + 1}`;
    if (core.userCount !== first.userCount || core.itemCount !== first.itemCount)
      fail(
        'DIMENSION_MISMATCH',
        `${where} has ${core.userCount} users × ${core.itemCount} items, model 1 ${first.userCount} × ${first.itemCount}`,
      );
    for (const side of ['users', 'items'] as const) {
      const a = first.vocabularies[side]?.keys(),
        b = core.vocabularies[side]?.keys();
      if ((a === undefined) !== (b === undefined) || (a && b && (a.length !== b.length || a.some((id, i) => id !== b[i]))))
        fail('BAD_INPUT', `${where}'s ${side} vocabulary differs from model 1's: members must map the same ids to the same rows`);
    }
    for (const side of ['user', 'item'] as const) {
      const depth = (core.config[side].hidden ?? []).length,
        depth0 = (first.config[side].hidden ?? []).length;
      if (depth !== depth0)
        fail(
          'BAD_CONFIG',
          `${where}'s ${side} tower has ${depth} hidden layers, model 1's ${depth0}: members must have the same depth`,
        );
    }
    const range = core.config.ratingRange,
      range0 = first.config.ratingRange;
    if (range && range0 && (range[0] !== range0[0] || range[1] !== range0[1]))
      fail('BAD_CONFIG', `${where}'s ratingRange [${range.join(', ')}] differs from model 1's [${range0.join(', ')}]`);
  });
}

/** Where member k's output scale goes on one side. */
type Scaling = 'projection' | 'last-hidden' | 'tables';

/** The combined tower config and, per member, where its input and output blocks sit. */
function combineTower(configs: readonly TwoTowerConfig[], side: TowerSide) {
  const towers = configs.map((c) => c[side]);
  const depth = (towers[0]!.hidden ?? []).length;
  const hasNumeric = towers.some((t) => t.features.some((f) => f.kind === 'numeric'));
  // The combined tower projects when a member does, or when plain tables cannot carry the scale (numeric inputs).
  const project = towers.some((t) => t.project !== false) || (depth === 0 && hasNumeric);
  const scaling: Scaling = project ? 'projection' : depth > 0 ? 'last-hidden' : 'tables';
  const features: FeatureSpec[] = towers.flatMap((t, k) => t.features.map((f) => ({ ...f, name: memberName(f.name, k) })));
  const hidden = Array.from({ length: depth }, (_, l) => towers.reduce((s, t) => s + t.hidden![l]!, 0));
  // Widths into and out of every layer, per member: [input, hidden…, output].
  const widths = towers.map((t, k) => [inputWidth(t), ...(t.hidden ?? []), configs[k]!.dim]);
  return { config: { features, hidden, project } as TowerConfig, scaling, widths, depth };
}

/** Offsets of each member's block along one axis, given each member's width on it. */
const offsets = (sizes: number[]) => sizes.map((_, k) => sizes.slice(0, k).reduce((s, x) => s + x, 0));

/**
 * One model whose scores are the weighted sum of the members' (default: their mean), as
 * described at the top of this file. The members are not changed (dispose them when done).
 */
export async function combineModels(members: readonly Model[], options: CombineOptions = {}): Promise<Model> {
  if (!Array.isArray(members as unknown) || members.length === 0)
    fail('BAD_INPUT', 'combineModels needs a non-empty array of models');
  if (options.weights !== undefined && !Array.isArray(options.weights))
    fail('BAD_OPTION', 'combineModels: options.weights must be an array of numbers', { option: 'options.weights' });
  const weights = options.weights ? [...options.weights] : members.map(() => 1 / members.length);
  checkMembers(members, weights);
  const cores = members.map(internals);
  const configs = cores.map((c) => c.config);
  const params = members.map((m) => m.parameters());
  const scale = weights.map(Math.sqrt);
  const dims = configs.map((c) => c.dim);
  const dim = dims.reduce((s, d) => s + d, 0);
  const user = combineTower(configs, 'user'),
    item = combineTower(configs, 'item');
  const anyBias = (key: 'global' | 'user' | 'item') => configs.some((c) => c.bias?.[key] === true);
  const config: TwoTowerConfig = {
    dim,
    user: user.config,
    item: item.config,
    bias: { global: anyBias('global'), user: anyBias('user'), item: anyBias('item') },
    seed: configs[0]!.seed ?? 1,
    ...(configs.find((c) => c.ratingRange) ? { ratingRange: configs.find((c) => c.ratingRange)!.ratingRange } : {}),
  };
  const table = (side: TowerSide): FeatureTable | undefined => {
    const tables = cores.map((c) => (side === 'user' ? c.userTower : c.itemTower).table);
    if (tables.every((t) => t === undefined)) return undefined;
    const columns: FeatureTable['columns'] = {};
    tables.forEach((t, k) => {
      for (const [name, column] of Object.entries(t?.columns ?? {})) columns[memberName(name, k)] = column;
    });
    return { count: side === 'user' ? cores[0]!.userCount : cores[0]!.itemCount, columns };
  };
  const model = await createModel(config, {
    userFeatures: table('user'),
    itemFeatures: table('item'),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
  try {
    const values: Record<string, Float32Array> = {};
    for (const [side, tower] of [
      ['user', user],
      ['item', item],
    ] as const) {
      // Feature tables (and attention vectors) keep their values, renamed; plain factorisation carries the scale here.
      configs.forEach((c, k) => {
        for (const f of c[side].features) {
          for (const suffix of ['embedding', 'attention']) {
            const from = params[k]![`${side}.${f.name}.${suffix}`];
            if (!from) continue;
            const s = tower.scaling === 'tables' ? (suffix === 'embedding' ? scale[k]! : 1 / scale[k]!) : 1;
            values[`${side}.${memberName(f.name, k)}.${suffix}`] = s === 1 ? from : from.map((x) => x * s);
          }
        }
      });
      // Dense layers, block-diagonal: layer l maps widths[l] → widths[l + 1] of each member.
      const layers = tower.depth + (tower.config.project !== false ? 1 : 0);
      for (let l = 0; l < layers; l++) {
        const ins = tower.widths.map((w) => w[l]!),
          outs = tower.widths.map((w) => w[l + 1]!);
        const inOff = offsets(ins),
          outOff = offsets(outs);
        const inTotal = ins.reduce((s, x) => s + x, 0),
          outTotal = outs.reduce((s, x) => s + x, 0);
        const w = new Float32Array(inTotal * outTotal),
          b = new Float32Array(outTotal);
        configs.forEach((_, k) => {
          const last = l === layers - 1 && (tower.scaling === 'projection' || tower.scaling === 'last-hidden');
          const s = last ? scale[k]! : 1;
          const memberW = params[k]![`${side}.dense${l}.weight`],
            memberB = params[k]![`${side}.dense${l}.bias`];
          for (let i = 0; i < ins[k]!; i++)
            for (let o = 0; o < outs[k]!; o++) {
              // A member that does not project passes its output through an identity block.
              const x = memberW ? memberW[i * outs[k]! + o]! : i === o ? 1 : 0;
              w[(inOff[k]! + i) * outTotal + outOff[k]! + o] = s * x;
            }
          for (let o = 0; o < outs[k]!; o++) b[outOff[k]! + o] = s * (memberB?.[o] ?? 0);
        });
        values[`${side}.dense${l}.weight`] = w;
        values[`${side}.dense${l}.bias`] = b;
      }
    }
    for (const key of ['global', 'user', 'item'] as const) {
      if (!config.bias![key]) continue;
      const size = key === 'global' ? 1 : key === 'user' ? cores[0]!.userCount : cores[0]!.itemCount;
      const sum = new Float32Array(size);
      params.forEach((p, k) => {
        const from = p[`bias.${key}`];
        if (from) for (let r = 0; r < size; r++) sum[r] = sum[r]! + weights[k]! * from[r]!;
      });
      values[`bias.${key}`] = sum;
    }
    model.setParameters(values);
    const first = cores[0]!;
    if (first.vocabularies.users || first.vocabularies.items) model.setVocabularies({ ...first.vocabularies });
    if (first.seen) {
      const { offsets: o, ids } = first.seen;
      const users = new Int32Array(ids.length);
      for (let u = 0; u + 1 < o.length; u++) users.fill(u, o[u]!, o[u + 1]!);
      model.setSeen(users, ids);
    }
    const info: EnsembleInfo = {
      members: members.length,
      weights,
      dims,
      families: cores.map((c) => (typeof c.metadata.family === 'string' ? c.metadata.family : null)),
    };
    model.metadata = { ...first.metadata, family: 'ensemble', ensemble: info };
    internals(model).labels = { ...first.labels };
    // update() continues training the combined model as one, with the settings of the first
    // member that was trained by fit() (closed forms and autoencoders were not).
    const trained = cores.find((c) => c.trainedWith)?.trainedWith;
    if (trained) internals(model).trainedWith = structuredClone(trained);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
