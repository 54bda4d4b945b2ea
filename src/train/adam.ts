// Adam over the whole parameter store in one kernel call. The bias corrections 1 − β^t are
// computed here, once per step, in f64.
import type { ParameterStore } from '../model/parameters.js';
import type { Backend } from '../wasm/backend.js';

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay (AdamW): p ← p·(1 − lr·decay) before the Adam step. */
  weightDecay: number;
}

/** Applies step number `t` (1-based) of Adam to every parameter, from the gradients in the store. */
export function adamStep(backend: Backend, store: ParameterStore, t: number, s: AdamSettings): void {
  const r = store.regions;
  const bc1 = 1 - Math.pow(s.beta1, t);
  const bc2 = 1 - Math.pow(s.beta2, t);
  backend.kernels.adam_update(r.values, r.grads, r.m, r.v, store.total, s.learningRate, s.beta1, s.beta2,
    s.epsilon, s.weightDecay, bc1, bc2);
}
