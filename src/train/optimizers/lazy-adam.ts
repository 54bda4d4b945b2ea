// Lazy Adam for embedding tables (as TensorFlow's LazyAdam and PyTorch's SparseAdam): only the
// rows a batch touched have their moments and values updated, with the bias corrections of the
// global step; untouched rows keep their moments (they do not decay). A step then costs what
// the batch touches, not the table's size. Only for embedding groups.
import type { Optimizer } from './optimizer.js';
import { adam } from './adam.js';

export const lazyAdam: Optimizer = {
  name: 'lazyAdam',
  summary: 'Adam on the rows a batch touches only (embedding tables); untouched rows keep their moments',
  sparse: true,
  step(backend, group, at, t, s, touched) {
    // Without the touched rows (a caller that does not track them), the dense update.
    if (!touched) return adam.step(backend, group, at, t, s);
    const bc1 = 1 - Math.pow(s.beta1, t);
    const bc2 = 1 - Math.pow(s.beta2, t);
    const dim = group.blocks[0]!.shape[1]!;
    backend.kernels.adam_rows(
      at.values,
      at.grads,
      at.m,
      at.v,
      touched.ptr,
      touched.count,
      dim,
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
