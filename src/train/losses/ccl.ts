// SimpleX's cosine contrastive loss (Mao et al., CIKM 2021): for a row (user u, positive i) with
// negatives N, L = (1 − cos(u, i)) + (w/|N|)·Σ_{j∈N} max(0, cos(u, j) − m). The negatives are the
// batch's other items (in-batch; inBatchNegatives: false leaves them out) and, with
// uniformNegatives = M > 0, M items drawn uniformly per batch (seeded, shared by the batch's
// rows), as the softmax's mixed negative sampling stages them; with removeAccidentalHits, columns
// holding the row's own positive are left out of N.
//
// The cosine is taken inside the loss: both towers' outputs are L2-normalised here (scratch
// copies; the gradient flows back through the normalisation), so the towers' raw outputs keep
// their norms and serving still ranks by their dot product, ‖u‖·‖v‖·cos(u, v) — per user, items
// by ‖v‖·cos. No logQ correction: the hinge has no partition function to correct.
import { stagePositivesAndExtras, type Loss } from './loss.js';

export const cosineContrastive: Loss = {
  name: 'ccl',
  summary: 'cosine contrastive loss (SimpleX) on in-batch and uniform negatives (implicit feedback)',
  kind: 'matrix',
  implicit: true,
  // An output penalty only shrinks the raw norms the cosine ignores (and so inflates its gradient,
  // 1/‖x‖): on MovieLens 100K u1, l2 0.3 (the softmax recipe's) or even 0.01 wrecked it.
  recipeDefaults: { l2: 0 },
  rowsPerPositive: () => 1,
  extraItems: (settings) => settings.uniformNegatives ?? 0,
  stage: (ctx) => stagePositivesAndExtras(ctx).m,
  compute(b) {
    const { n, dim } = b;
    const width = n + b.extra; // columns: the batch's items, then the extra negatives
    const f = b.backend.floatBytes;
    const s = b.scratch;
    const userUnit = s.named('ccl.user', n * dim),
      itemUnit = s.named('ccl.item', width * dim),
      userNorms = s.named('ccl.userNorms', n),
      itemNorms = s.named('ccl.itemNorms', width);
    const matrix = s.matrix(n, width),
      losses = s.rowLosses(n);
    const ids = b.settings.removeAccidentalHits ? b.items : 0;
    // The first negative column: 0 (the batch's other items and the extras) or n (the extras only).
    const from = b.settings.inBatchNegatives === false ? n : 0;
    b.byRows(n, (r, rows) => ({
      kernel: 'l2_normalize_rows',
      args: [userUnit + r * dim * f, userNorms + r * f, b.user + r * dim * f, rows, dim],
    }));
    b.byRows(width, (r, rows) => ({
      kernel: 'l2_normalize_rows',
      args: [itemUnit + r * dim * f, itemNorms + r * f, b.item + r * dim * f, rows, dim],
    }));
    b.byRows(n, (r, rows) => ({
      kernel: 'score_matrix',
      args: [matrix + r * width * f, userUnit + r * dim * f, itemUnit, rows, width, dim],
    }));
    b.byRows(n, (r, rows) => ({
      kernel: 'ccl_loss',
      args: [matrix, matrix, ids, losses, n, width, from, r, rows, b.settings.margin ?? 0.4, b.settings.negativeWeight ?? 5],
    }));
    // Gradients of the unit vectors (dÛ = dS·V̂, dV̂ = dSᵀ·Û), then through the normalisation in place.
    b.byRows(n, (r, rows) => ({
      kernel: 'dense_forward',
      args: [b.dUser + r * dim * f, matrix + r * width * f, itemUnit, 0, rows, width, dim],
    }));
    b.byRows(width, (c, cols) => ({
      kernel: 'dense_backward_weight',
      args: [b.dItem + c * dim * f, matrix + c * f, userUnit, n, cols, dim, width, 0],
    }));
    b.byRows(n, (r, rows) => ({
      kernel: 'l2_normalize_backward',
      args: [b.dUser + r * dim * f, b.dUser + r * dim * f, userUnit + r * dim * f, userNorms + r * f, rows, dim],
    }));
    b.byRows(width, (r, rows) => ({
      kernel: 'l2_normalize_backward',
      args: [b.dItem + r * dim * f, b.dItem + r * dim * f, itemUnit + r * dim * f, itemNorms + r * f, rows, dim],
    }));
    let total = 0;
    for (const l of s.f64s(losses, n)) total += l;
    return total / n;
  },
};
