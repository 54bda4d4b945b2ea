// The contract of an optimizer: it updates one parameter group (the dense layers, one embedding
// table, or the score biases; see src/model/parameters.ts) in place from the group's gradients,
// with whatever state it keeps in the group's two state slots (m and v). One module per
// optimizer, listed in index.ts; fit() gives each group the optimizer its options name.
import type { Backend } from '../../backend/contract.js';
import type { ParamGroup, RegionPointers } from '../../model/parameters.js';

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
   * A sparse optimizer updates only the rows a batch touched (`touched`: distinct row indices in
   * the heap) and leaves the gradient of the others zero, so fit() skips zeroing its groups.
   */
  readonly sparse?: boolean;
  /**
   * Applies step `t` (1-based, counted over the model's whole training so far) to the group at
   * `at` (its values, gradients and state slots).
   */
  step(
    backend: Backend,
    group: ParamGroup,
    at: RegionPointers,
    t: number,
    settings: OptimizerSettings,
    touched?: { ptr: number; count: number },
  ): void;
}
