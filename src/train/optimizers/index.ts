// The registry of optimizers, and how fit() assigns one to each parameter group.
import { fail } from '../../errors.js';
import type { GroupKind, ParamGroup } from '../../model/parameters.js';
import type { Optimizer } from './optimizer.js';
import { adam } from './adam.js';
import { sgd } from './sgd.js';
import { lazyAdam } from './lazy-adam.js';
import { rowwiseAdagrad } from './rowwise-adagrad.js';

export const OPTIMIZERS = { adam, sgd, lazyAdam, rowwiseAdagrad } as const satisfies Record<string, Optimizer>;

/** The name of a built-in optimizer. */
export type OptimizerName = keyof typeof OPTIMIZERS;

/** An optimizer for a kind of parameter group, optionally with a learning rate of its own. */
export interface OptimizerChoice {
  /** Which optimizer. */
  name: OptimizerName;
  /** This group's base learning rate (the schedule scales it like the global one). Default: options.learningRate (× 20 for rowwiseAdagrad). */
  learningRate?: number;
}

/**
 * Optimizers by kind of parameter group. Default: lazy Adam for the tables (embeddings and
 * biases), Adam for the dense layers. 'lazyAdam' and 'rowwiseAdagrad' update only the rows a
 * batch touches and are for tables; 'adam' and 'sgd' update a whole group every step.
 */
export interface OptimizerOptions {
  /** The towers' dense layers, attention vectors and the global bias. Default 'adam'. */
  dense?: OptimizerName | OptimizerChoice;
  /** Every embedding table (id, categorical, multi-hot features), each its own group. Default 'lazyAdam'. */
  embeddings?: OptimizerName | OptimizerChoice;
  /** The per-user and per-item score bias tables. Default 'lazyAdam'. */
  biases?: OptimizerName | OptimizerChoice;
}

const OPTION_OF: Record<GroupKind, keyof OptimizerOptions> = { dense: 'dense', embedding: 'embeddings', bias: 'biases' };

/** A group with its optimizer and its learning-rate factor relative to options.learningRate. */
export interface GroupPlan {
  group: ParamGroup;
  optimizer: Optimizer;
  /** This group's base rate divided by the global base rate. */
  rateFactor: number;
}

/** Validates the options and gives every group its optimizer. */
export function planOptimizers(
  groups: readonly ParamGroup[],
  options: OptimizerOptions | undefined,
  learningRate: number,
): GroupPlan[] {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    fail('BAD_OPTION', `options.optimizers must be an object { dense?, embeddings?, biases? }, got ${JSON.stringify(options)}`);
  }
  for (const key of Object.keys(options ?? {})) {
    if (!['dense', 'embeddings', 'biases'].includes(key))
      fail('BAD_OPTION', `options.optimizers.${key}: unknown group kind (dense, embeddings, biases)`);
  }
  const resolve = (key: keyof OptimizerOptions): { optimizer: Optimizer; rateFactor: number } => {
    // Tables default to lazy Adam: a step costs the rows a batch touches, not the table.
    const given = options?.[key] ?? (key === 'dense' ? 'adam' : 'lazyAdam');
    const choice: OptimizerChoice = typeof given === 'string' ? { name: given } : given;
    if (!choice || !Object.hasOwn(OPTIMIZERS, choice.name)) {
      fail(
        'BAD_OPTION',
        `options.optimizers.${key}: unknown optimizer ${JSON.stringify(choice?.name ?? given)}; available: ${Object.keys(OPTIMIZERS).join(', ')}`,
      );
    }
    const optimizer: Optimizer = OPTIMIZERS[choice.name];
    const rate = choice.learningRate ?? learningRate * (optimizer.rateScale ?? 1);
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)
      fail('BAD_OPTION', `options.optimizers.${key}.learningRate must be > 0, got ${rate}`);
    if (optimizer.sparse && key === 'dense')
      fail('BAD_OPTION', `options.optimizers.dense: '${choice.name}' updates table rows; use it for embeddings or biases`);
    return { optimizer, rateFactor: rate / learningRate };
  };
  const byKind = new Map((['dense', 'embedding', 'bias'] as const).map((kind) => [kind, resolve(OPTION_OF[kind])]));
  return groups.map((group) => ({ group, ...byKind.get(group.kind)! }));
}

export type { Optimizer, OptimizerSettings } from './optimizer.js';
