// The contract of an optimizer: it updates one parameter group (the dense layers, one embedding
// table, or one per-entity bias table; see src/model/parameters.ts) in place from the group's
// gradient, with whatever state it asks the store for (state(group): the sizes of its slots).
// One module per optimizer, listed in index.ts; fit() gives each group the optimizer its
// options name.
import type { Backend } from '../../backend/contract.js';
import type { ParamGroup, GroupPointers } from '../../model/parameters.js';
import type { ByRows } from '../../model/row-split.js';

/** Settings shared by every optimizer (each reads what it needs). */
export interface OptimizerSettings {
  /** Step size of this step (after the schedule). */
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay: p ← p·(1 − lr·decay) before the step. */
  weightDecay: number;
}

export interface Optimizer {
  readonly name: string;
  /** One line for help texts. */
  readonly summary: string;
  /**
   * A sparse optimizer updates only the rows a batch touched, of table groups only: its group's
   * gradient is compact (row i belongs to the i-th touched row) and `touched` lists those rows
   * (distinct i32 row indices in the heap).
   */
  readonly sparse?: boolean;
  /** Its learning rate relative to options.learningRate when the options give it none (Adam's scale is 1). */
  readonly rateScale?: number;
  /** The floats of each state slot it keeps for a group (zeroed when first made, kept across fits). */
  state(group: ParamGroup): readonly number[];
  /**
   * Applies step `t` (1-based, counted over the model's whole training so far) to the group at
   * `at` (its values, gradient and state slots).
   */
  step(
    backend: Backend,
    group: ParamGroup,
    at: GroupPointers,
    t: number,
    settings: OptimizerSettings,
    touched: { ptr: number; count: number } | undefined,
    /** The model's threads for row-parallel kernels (a sparse optimizer splits the touched rows); absent: one thread. */
    byRows?: ByRows,
  ): void;
}
