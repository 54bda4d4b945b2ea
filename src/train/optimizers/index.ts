// The registry of optimizers, and how fit() assigns one to each parameter group.
import { fail } from '../../errors.js';
import type { GroupKind, ParamGroup, ParameterStore, RegionPointers } from '../../model/parameters.js';
import type { Optimizer } from './optimizer.js';
import { adam } from './adam.js';
import { sgd } from './sgd.js';
import { lazyAdam } from './lazy-adam.js';

export const OPTIMIZERS = { adam, sgd, lazyAdam } as const satisfies Record<string, Optimizer>;

/** The name of a built-in optimizer. */
export type OptimizerName = keyof typeof OPTIMIZERS;

/** An optimizer for a kind of parameter group, optionally with a learning rate of its own. */
export interface OptimizerChoice {
  /** Which optimizer. */
  name: OptimizerName;
  /** This group's base learning rate (the schedule scales it like the global one). Default: options.learningRate. */
  learningRate?: number;
}

/** Optimizers by kind of parameter group. Default: lazy Adam for embedding tables, Adam for the rest, all at options.learningRate. */
export interface OptimizerOptions {
  /** The towers' dense layers and attention vectors. */
  dense?: OptimizerName | OptimizerChoice;
  /** Every embedding table (id, categorical, multi-hot features), each its own group. Default 'lazyAdam'. */
  embeddings?: OptimizerName | OptimizerChoice;
  /** The global, user and item score biases. */
  biases?: OptimizerName | OptimizerChoice;
}

const OPTION_OF: Record<GroupKind, keyof OptimizerOptions> = { dense: 'dense', embedding: 'embeddings', bias: 'biases' };

/** A group with its optimizer and its learning-rate factor relative to options.learningRate. */
export interface GroupPlan {
  group: ParamGroup;
  /** The group's addresses in the store's regions (fixed once allocated). */
  at: RegionPointers;
  optimizer: Optimizer;
  /** This group's base rate divided by the global base rate. */
  rateFactor: number;
}

/** Validates the options and gives every group its optimizer. */
export function planOptimizers(store: ParameterStore, options: OptimizerOptions | undefined, learningRate: number): GroupPlan[] {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    fail('BAD_OPTION', `options.optimizers must be an object { dense?, embeddings?, biases? }, got ${JSON.stringify(options)}`);
  }
  for (const key of Object.keys(options ?? {})) {
    if (!['dense', 'embeddings', 'biases'].includes(key))
      fail('BAD_OPTION', `options.optimizers.${key}: unknown group kind (dense, embeddings, biases)`);
  }
  const resolve = (key: keyof OptimizerOptions): { optimizer: Optimizer; rateFactor: number } => {
    // Embedding tables default to lazy Adam: a step costs the rows a batch touches, not the table.
    const given = options?.[key] ?? (key === 'embeddings' ? 'lazyAdam' : 'adam');
    const choice: OptimizerChoice = typeof given === 'string' ? { name: given } : given;
    if (!choice || !Object.hasOwn(OPTIMIZERS, choice.name)) {
      fail(
        'BAD_OPTION',
        `options.optimizers.${key}: unknown optimizer ${JSON.stringify(choice?.name ?? given)}; available: ${Object.keys(OPTIMIZERS).join(', ')}`,
      );
    }
    const rate = choice.learningRate ?? learningRate;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)
      fail('BAD_OPTION', `options.optimizers.${key}.learningRate must be > 0, got ${rate}`);
    const optimizer: Optimizer = OPTIMIZERS[choice.name];
    if (optimizer.sparse && key !== 'embeddings')
      fail('BAD_OPTION', `options.optimizers.${key}: '${choice.name}' updates embedding rows; use it for embeddings`);
    return { optimizer, rateFactor: rate / learningRate };
  };
  const byKind = new Map((['dense', 'embedding', 'bias'] as const).map((kind) => [kind, resolve(OPTION_OF[kind])]));
  return store.groups.map((group) => ({ group, at: store.groupPointers(group), ...byKind.get(group.kind)! }));
}

export type { Optimizer, OptimizerSettings } from './optimizer.js';
