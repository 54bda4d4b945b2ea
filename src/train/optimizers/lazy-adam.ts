// Lazy Adam for embedding tables (as TensorFlow's LazyAdam and PyTorch's SparseAdam): only the
// rows a batch touched have their moments and values updated, with the bias corrections of the
// global step; untouched rows keep their moments (they do not decay). A step then costs what
// the batch touches, not the table's size. Only for embedding groups.
import { fail } from '../../errors.js';
import type { Optimizer } from './optimizer.js';
import { adam, biasCorrections } from './adam.js';

export const lazyAdam: Optimizer = {
  name: 'lazyAdam',
  summary: 'Adam on the rows a batch touches only (tables); untouched rows keep their moments',
  sparse: true,
  state: adam.state,
  step(backend, group, at, t, s, touched) {
    if (!touched) fail('INTERNAL', `lazyAdam on "${group.name}" without the touched rows`);
    const [bc1, bc2] = biasCorrections(s, t);
    backend.kernels.adam_rows(
      at.values,
      at.grads,
      at.m,
      at.v,
      touched.ptr,
      touched.count,
      group.width,
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
