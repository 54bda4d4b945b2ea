// In-batch sampled softmax: every user of the batch against every positive item of the batch
// (the other rows' items are the negatives), logits ⟨u_i, v_j⟩/τ − log q_j, accidental hits
// masked. dU = dS·V, dV = dSᵀ·U. Rows: the positives only.
import { stagingRows, writePairs, type Loss } from './loss.js';

export const inBatchSoftmax: Loss = {
  name: 'softmax',
  summary: 'in-batch sampled softmax with logQ correction (implicit feedback)',
  kind: 'matrix',
  implicit: true,
  rowsPerPositive: () => 1,
  stage({ core, train, rows, sampler, scratch }) {
    const m = rows.length;
    const out = stagingRows(sampler!, m);
    for (let r = 0; r < m; r++) {
      out.users[r] = train.users[rows[r]!]!;
      out.items[r] = train.items[rows[r]!]!;
    }
    writePairs(core, out.users, out.items, out.targets, m);
    const logq = core.backend.floats(scratch.logq, m);
    for (let r = 0; r < m; r++) logq[r] = sampler!.logq[out.items[r]!]!;
    return m;
  },
  compute(b) {
    const k = b.backend.kernels;
    const matrix = b.scratch.matrix(b.n);
    k.score_matrix(matrix, b.user, b.item, b.n, b.n, b.dim);
    const value = k.softmax_xent(
      matrix,
      matrix,
      b.settings.logQCorrection ? b.scratch.logq : 0,
      b.settings.removeAccidentalHits ? b.items : 0,
      b.n,
      b.settings.temperature,
    );
    k.dense_forward(b.dUser, matrix, b.item, 0, b.n, b.n, b.dim);
    k.dense_backward_weight(b.dItem, matrix, b.user, b.n, b.n, b.dim, 0);
    return value;
  },
};
