// Row-wise Adagrad for the largest tables (as FBGEMM's and TorchRec's): one accumulator per
// table row, fed the row's mean squared gradient, instead of Adam's two moments per parameter.
// Its state is 4 bytes a row (4/dim per parameter, against Adam's 8), so a table several times
// larger fits the same memory; only the rows a batch touched are read or written. Its steps
// shrink as 1/√(accumulated squares), so it wants a larger learning rate than Adam: unless the
// options give the group one, it runs at rateScale × options.learningRate.
import { fail } from '../../errors.js';
import type { Optimizer } from './optimizer.js';

export const rowwiseAdagrad: Optimizer = {
  name: 'rowwiseAdagrad',
  summary: 'Adagrad with one accumulator per table row (4 bytes a row), on the rows a batch touches (tables)',
  sparse: true,
  rateScale: 20,
  state: (group) => [group.rows],
  step(backend, group, at, _t, s, touched) {
    if (!touched) fail('INTERNAL', `rowwiseAdagrad on "${group.name}" without the touched rows`);
    backend.kernels.adagrad_rows(
      at.values,
      at.grads,
      at.m,
      touched.ptr,
      touched.count,
      group.width,
      s.learningRate,
      s.epsilon,
      s.weightDecay,
    );
  },
};
