// Plain stochastic gradient descent with decoupled weight decay: p ← p·(1 − lr·decay) − lr·g.
// Keeps no state. Its learning rate wants to be far larger than Adam's (give the group its own).
import type { Optimizer } from './optimizer.js';

export const sgd: Optimizer = {
  name: 'sgd',
  summary: 'plain gradient descent (no state)',
  state: () => [],
  step(backend, group, at, _t, s) {
    backend.kernels.sgd_update(at.values, at.grads, group.size, s.learningRate, s.weightDecay);
  },
};
