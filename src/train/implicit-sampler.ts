// What implicit losses draw on when they lay out a batch: negatives drawn uniformly or by
// popularity (count^0.75), redrawn (up to 5 times) when the user interacted with them, and each
// item's log sampling probability log q = log(count/N), the probability that an item fills a
// batch slot (for the in-batch softmax's correction).
import type { Interactions } from '../data/interactions.js';
import type { Random } from '../util/random.js';
import { csrHas, groupByRow, type Csr } from '../data/csr.js';

export class ImplicitSampler {
  /** log q per item. */
  readonly logq: Float32Array;
  private readonly seen: Csr;
  private readonly cumulative: Float64Array | null;

  constructor(
    train: Interactions,
    private readonly itemCount: number,
    sampling: 'uniform' | 'popularity',
  ) {
    const counts = new Float64Array(itemCount);
    for (const i of train.items) counts[i]! += 1;
    const total = train.items.length;
    this.logq = Float32Array.from(counts, (c) => Math.log(Math.max(c, 0.5) / total));
    let userCount = 0;
    for (const u of train.users) userCount = Math.max(userCount, u + 1);
    this.seen = groupByRow(train.users, train.items, userCount);
    if (sampling === 'popularity') {
      const cumulative = new Float64Array(itemCount);
      let acc = 0;
      counts.forEach((c, i) => (cumulative[i] = acc += Math.pow(c, 0.75)));
      this.cumulative = cumulative;
    } else {
      this.cumulative = null;
    }
  }

  private draw(random: Random): number {
    if (!this.cumulative) return random.int(this.itemCount);
    const x = random.next() * this.cumulative[this.itemCount - 1]!;
    let lo = 0,
      hi = this.itemCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A negative item for `user`: one they did not interact with, after up to five redraws. */
  negative(user: number, random: Random): number {
    let item = this.draw(random);
    for (let t = 0; t < 5 && csrHas(this.seen, user, item); t++) item = this.draw(random);
    return item;
  }
}
