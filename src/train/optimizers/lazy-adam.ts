// Lazy Adam for embedding tables (as TensorFlow's LazyAdam and PyTorch's SparseAdam): only the
// rows a batch touched have their moments and values updated, with the bias corrections of the
// global step; untouched rows keep their moments (they do not decay). A step then costs what
// the batch touches, not the table's size. Only for embedding groups.
import { fail } from '../../errors.js';
import type { Optimizer } from './optimizer.js';
import { adam, biasCorrections } from './adam.js';
import type { RowCall } from '../../backend/contract.js';
import { leastRowsFor } from '../../model/row-split.js';
import type { KernelExports } from '../../backend/generated/kernels.js';

export const lazyAdam: Optimizer = {
  name: 'lazyAdam',
  summary: 'Adam on the rows a batch touches only (tables); untouched rows keep their moments',
  sparse: true,
  state: adam.state,
  step(backend, group, at, t, s, touched, byRows) {
    if (!touched) fail('INTERNAL', `lazyAdam on "${group.name}" without the touched rows`);
    const [bc1, bc2] = biasCorrections(s, t);
    const w = group.width;
    const f = backend.floatBytes;
    // Each row's update reads and writes that row alone: the rows split across the threads.
    const args = (i: number, rows: number): Parameters<KernelExports['adam_rows']> => [
      at.values,
      at.grads + i * w * f,
      at.m,
      at.v,
      touched.ptr + i * 4,
      rows,
      w,
      s.learningRate,
      s.beta1,
      s.beta2,
      s.epsilon,
      s.weightDecay,
      bc1,
      bc2,
    ];
    // About eight operations per element of a row: a share needs thousands of rows to pay.
    if (byRows) byRows(touched.count, (i, rows): RowCall => ({ kernel: 'adam_rows', args: args(i, rows) }), leastRowsFor(8 * w));
    else backend.kernels.adam_rows(...args(0, touched.count));
  },
};
