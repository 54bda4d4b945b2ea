// Adam (AdamW with weight decay) over a whole group in one fused kernel call. The bias
// corrections 1 − β^t are computed here, once per step, in f64.
import type { Optimizer } from './optimizer.js';

export const adam: Optimizer = {
  name: 'adam',
  summary: 'Adam with decoupled weight decay (AdamW): two moments per parameter (8 bytes)',
  state: (group) => [group.size, group.size],
  step(backend, group, at, t, s) {
    const bc1 = 1 - Math.pow(s.beta1, t);
    const bc2 = 1 - Math.pow(s.beta2, t);
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
