// Binary cross-entropy (logistic loss) on each positive (label 1) followed by its sampled
// negatives (label 0): rows [pos, neg, …, neg] per positive.
import { stagingRows, writePairs, type Loss } from './loss.js';

export const binaryCrossEntropy: Loss = {
  name: 'bce',
  summary: 'logistic loss on positives and sampled negatives (implicit feedback)',
  kind: 'pair',
  implicit: true,
  recipeDefaults: { l2: 0.01 },
  rowsPerPositive: (s) => 1 + s.negatives,
  stage({ core, train, rows, sampler, random, settings }) {
    const out = stagingRows(sampler!, rows.length * (1 + settings.negatives));
    let count = 0;
    for (const r of rows) {
      const u = train.users[r]!;
      out.users[count] = u;
      out.items[count] = train.items[r]!;
      out.targets[count++] = 1;
      for (let j = 0; j < settings.negatives; j++) {
        out.users[count] = u;
        out.items[count] = sampler!.negative(u, random);
        out.targets[count++] = 0;
      }
    }
    writePairs(core, out.users, out.items, out.targets, count);
    return count;
  },
  compute: (b) => b.backend.kernels.bce_loss(b.dScores, b.scores, b.targets, b.n),
};
