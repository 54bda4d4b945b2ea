// In-batch sampled softmax: every user of the batch against every positive item of the batch
// (the other rows' items are the negatives), logits ⟨u_i, v_j⟩/τ − log q_j, accidental hits
// masked. dU = dS·V, dV = dSᵀ·U, each split by output rows across the model's threads (the same
// bits as one thread). Rows: the positives only.
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
    const { n, dim } = b;
    const f = b.backend.floatBytes;
    const matrix = b.scratch.matrix(n),
      losses = b.scratch.rowLosses(n);
    const logq = b.settings.logQCorrection ? b.scratch.logq : 0;
    const ids = b.settings.removeAccidentalHits ? b.items : 0;
    b.byRows(n, (r, rows) => ({
      kernel: 'score_matrix',
      args: [matrix + r * n * f, b.user + r * dim * f, b.item, rows, n, dim],
    }));
    b.byRows(n, (r, rows) => ({
      kernel: 'softmax_xent',
      args: [matrix, matrix, logq, ids, losses, n, r, rows, b.settings.temperature],
    }));
    b.byRows(n, (r, rows) => ({
      kernel: 'dense_forward',
      args: [b.dUser + r * dim * f, matrix + r * n * f, b.item, 0, rows, n, dim],
    }));
    // dV = dSᵀ·U: its rows (one per column of dS) split across the threads.
    b.byRows(n, (c, cols) => ({
      kernel: 'dense_backward_weight',
      args: [b.dItem + c * dim * f, matrix + c * f, b.user, n, cols, dim, n, 0],
    }));
    // The batch loss: the rows' losses summed in row order, whatever the threads.
    let total = 0;
    for (const l of b.scratch.f64s(losses, n)) total += l;
    return total / n;
  },
};
