// Adam (AdamW with weight decay) over a whole group in one fused kernel call. The bias
// corrections 1 − β^t are computed here, once per step, in f64.
import type { Optimizer, OptimizerSettings } from './optimizer.js';

/** Adam's bias corrections 1 − β1^t and 1 − β2^t of step t, in f64 (shared with lazy Adam). */
export function biasCorrections(s: OptimizerSettings, t: number): [bc1: number, bc2: number] {
  return [1 - Math.pow(s.beta1, t), 1 - Math.pow(s.beta2, t)];
}

export const adam: Optimizer = {
  name: 'adam',
  summary: 'Adam with decoupled weight decay (AdamW): two moments per parameter (8 bytes)',
  state: (group) => [group.size, group.size],
  step(backend, group, at, t, s) {
    const [bc1, bc2] = biasCorrections(s, t);
    backend.kernels.adam_update(
      at.values,
      at.grads,
      at.m,
      at.v,
      group.size,
      s.learningRate,
      s.beta1,
      s.beta2,
      s.epsilon,
      s.weightDecay,
      bc1,
      bc2,
    );
  },
};
