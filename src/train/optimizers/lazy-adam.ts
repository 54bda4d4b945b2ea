// Lazy Adam for embedding tables (as TensorFlow's LazyAdam and PyTorch's SparseAdam): only the
// rows a batch touched have their moments and values updated, with the bias corrections of the
// global step; untouched rows keep their moments (they do not decay). A step then costs what
// the batch touches, not the table's size. Only for embedding groups.
import type { Optimizer } from './optimizer.js';

export const lazyAdam: Optimizer = {
  name: 'lazyAdam',
  summary: 'Adam on the rows a batch touches only (embedding tables); untouched rows keep their moments',
  sparse: true,
  step(backend, group, at, t, s, touched) {
    const bc1 = 1 - Math.pow(s.beta1, t);
    const bc2 = 1 - Math.pow(s.beta2, t);
    const k = backend.kernels;
    if (!touched) {
      k.adam_update(
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
      return;
    }
    const dim = group.blocks[0]!.shape[1]!;
    k.adam_rows(
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
