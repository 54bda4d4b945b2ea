// Bayesian personalised ranking: each positive against one sampled negative, L = −log σ(s⁺ − s⁻).
// Rows: the m positives, then their m negatives in the same order.
import { stagingRows, writePairs, type Loss } from './loss.js';

export const bpr: Loss = {
  name: 'bpr',
  summary: 'Bayesian personalised ranking: each positive against one sampled negative (implicit)',
  kind: 'pair',
  implicit: true,
  recipeDefaults: { l2: 0.01 },
  rowsPerPositive: () => 2,
  stage({ core, train, rows, sampler, random }) {
    const m = rows.length;
    const out = stagingRows(sampler!, 2 * m);
    for (let r = 0; r < m; r++) {
      const u = train.users[rows[r]!]!;
      out.users[r] = out.users[m + r] = u;
      out.items[r] = train.items[rows[r]!]!;
      out.items[m + r] = sampler!.negative(u, random);
    }
    writePairs(core, out.users, out.items, out.targets, 2 * m);
    return 2 * m;
  },
  compute: (b) => b.backend.kernels.bpr_loss(b.dScores, b.scores, b.n / 2),
};
