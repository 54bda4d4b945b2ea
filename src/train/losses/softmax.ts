// In-batch sampled softmax: every user of the batch against every positive item of the batch
// (the other rows' items are the negatives), logits ⟨u_i, v_j⟩/τ − log q_j, accidental hits
// masked. dU = dS·V, dV = dSᵀ·U, each split by output rows across the model's threads (the same
// bits as one thread). Rows: the positives only.
//
// Mixed negative sampling (Yang et al., WWW 2020; uniformNegatives = M > 0): M items drawn
// uniformly (seeded, shared by the batch's rows) follow the B positives as extra item rows, so the
// logits are B × (B + M) and rare items, which in-batch sampling almost never offers, are
// negatives too. An item then enters the candidate pool B·q_j + M/N times in expectation (q_j its
// in-batch probability, N the item count), so every column, in-batch or uniform, is corrected by
// log(B·q_j + M/N) − log B (the − log B keeps the in-batch scale of log q_j; it cancels in the
// softmax). With removeAccidentalHits, a row's own positive among the extras is masked like an
// in-batch one.
import { stagePositivesAndExtras, type Loss } from './loss.js';

export const inBatchSoftmax: Loss = {
  name: 'softmax',
  summary: 'in-batch sampled softmax with logQ correction (implicit feedback)',
  kind: 'matrix',
  implicit: true,
  rowsPerPositive: () => 1,
  extraItems: (settings) => settings.uniformNegatives ?? 0,
  stage(ctx) {
    const { out, m, extra } = stagePositivesAndExtras(ctx);
    const { core, sampler, scratch } = ctx;
    const logq = core.backend.floats(scratch.logq, m + extra);
    if (extra === 0) {
      for (let r = 0; r < m; r++) logq[r] = sampler!.logq[out.items[r]!]!;
    } else {
      const uniform = extra / core.itemCount / m;
      for (let r = 0; r < m + extra; r++) logq[r] = Math.log(Math.exp(sampler!.logq[out.items[r]!]!) + uniform);
    }
    return m;
  },
  compute(b) {
    const { n, dim } = b;
    const width = n + b.extra; // columns: the batch's items, then the extra negatives
    const f = b.backend.floatBytes;
    const matrix = b.scratch.matrix(n, width),
      losses = b.scratch.rowLosses(n);
    const logq = b.settings.logQCorrection ? b.scratch.logq : 0;
    const ids = b.settings.removeAccidentalHits ? b.items : 0;
    b.byRows(n, (r, rows) => ({
      kernel: 'score_matrix',
      args: [matrix + r * width * f, b.user + r * dim * f, b.item, rows, width, dim],
    }));
    b.byRows(n, (r, rows) => ({
      kernel: 'softmax_xent',
      args: [matrix, matrix, logq, ids, losses, n, width, r, rows, b.settings.temperature],
    }));
    b.byRows(n, (r, rows) => ({
      kernel: 'dense_forward',
      args: [b.dUser + r * dim * f, matrix + r * width * f, b.item, 0, rows, width, dim],
    }));
    // dV = dSᵀ·U: its rows (one per column of dS) split across the threads.
    b.byRows(width, (c, cols) => ({
      kernel: 'dense_backward_weight',
      args: [b.dItem + c * dim * f, matrix + c * f, b.user, n, cols, dim, width, 0],
    }));
    // The batch loss: the rows' losses summed in row order, whatever the threads.
    let total = 0;
    for (const l of b.scratch.f64s(losses, n)) total += l;
    return total / n;
  },
};
