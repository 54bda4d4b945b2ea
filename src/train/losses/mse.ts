// Squared error on ratings: L = mean (s − y)², one batch row per rating.
import type { Loss } from './loss.js';

export const squaredError: Loss = {
  name: 'mse',
  summary: 'squared error on ratings (explicit feedback)',
  kind: 'pair',
  implicit: false,
  rowsPerPositive: () => 1,
  stage({ core, heap, rowsPtr, rows }) {
    const k = core.backend.kernels,
      p = core.pairs,
      m = rows.length;
    k.gather_i32(p.users, heap.users, rowsPtr, m);
    k.gather_i32(p.items, heap.items, rowsPtr, m);
    k.gather_f32(p.targets, heap.targets, rowsPtr, m);
    return m;
  },
  compute: (b) => b.backend.kernels.mse_loss(b.dScores, b.scores, b.targets, b.n),
};
