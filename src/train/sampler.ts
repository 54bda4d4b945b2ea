// Batches for implicit feedback: the positives of a batch plus, for bce and bpr, negatives drawn
// uniformly or by popularity (count^0.75), redrawn (up to 5 times) when the user interacted with
// them; for the in-batch softmax, each row's log sampling probability log q(item) = log(count/N),
// the probability that an item fills a batch slot.
import type { TwoTower } from '../model/twotower.js';
import type { Interactions } from '../data/interactions.js';
import type { LossName } from './losses.js';
import type { Random } from '../util/random.js';
import { groupByUser } from '../eval/ranking.js';

export class BatchSampler {
  private readonly users: Int32Array;
  private readonly items: Int32Array;
  private readonly targets: Float32Array;
  private readonly logq: Float32Array;
  private readonly seen: { offsets: Int32Array; ids: Int32Array };
  private readonly cumulative: Float64Array | null;
  private readonly itemCount: number;
  private readonly negatives: number;

  constructor(private readonly train: Interactions, itemCount: number,
              options: { negatives: number; negativeSampling: 'uniform' | 'popularity' }, capacity: number) {
    this.itemCount = itemCount;
    this.negatives = options.negatives;
    this.users = new Int32Array(capacity);
    this.items = new Int32Array(capacity);
    this.targets = new Float32Array(capacity);
    const counts = new Float64Array(itemCount);
    for (const i of train.items) counts[i]! += 1;
    const total = train.items.length;
    this.logq = Float32Array.from(counts, (c) => Math.log(Math.max(c, 0.5) / total));
    let userCount = 0;
    for (const u of train.users) userCount = Math.max(userCount, u + 1);
    this.seen = groupByUser(train.users, train.items, userCount);
    if (options.negativeSampling === 'popularity') {
      this.cumulative = new Float64Array(itemCount);
      let acc = 0;
      counts.forEach((c, i) => { acc += Math.pow(c, 0.75); this.cumulative![i] = acc; });
    } else {
      this.cumulative = null;
    }
  }

  private draw(random: Random): number {
    if (!this.cumulative) return random.int(this.itemCount);
    const x = random.next() * this.cumulative[this.itemCount - 1]!;
    let lo = 0, hi = this.itemCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private interacted(user: number, item: number): boolean {
    const { offsets, ids } = this.seen;
    let lo = offsets[user]!, hi = offsets[user + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid]! < item) lo = mid + 1;
      else hi = mid;
    }
    return lo < offsets[user + 1]! && ids[lo] === item;
  }

  private negative(user: number, random: Random): number {
    let item = this.draw(random);
    for (let t = 0; t < 5 && this.interacted(user, item); t++) item = this.draw(random);
    return item;
  }

  /** Writes the batch for positives `rows` into the model's pair scratch; returns its row count. */
  stage(model: TwoTower, rows: Int32Array, loss: LossName, random: Random): number {
    const m = rows.length;
    const { users, items, targets } = this;
    let count = 0;
    if (loss === 'bpr') {
      for (let r = 0; r < m; r++) {
        users[r] = users[m + r] = this.train.users[rows[r]!]!;
        items[r] = this.train.items[rows[r]!]!;
        items[m + r] = this.negative(users[r]!, random);
      }
      count = 2 * m;
    } else if (loss === 'bce') {
      for (let r = 0; r < m; r++) {
        const u = this.train.users[rows[r]!]!;
        users[count] = u; items[count] = this.train.items[rows[r]!]!; targets[count++] = 1;
        for (let j = 0; j < this.negatives; j++) { users[count] = u; items[count] = this.negative(u, random); targets[count++] = 0; }
      }
    } else {
      for (let r = 0; r < m; r++) {
        users[r] = this.train.users[rows[r]!]!;
        items[r] = this.train.items[rows[r]!]!;
      }
      count = m;
    }
    const be = model.backend, p = model.pairs;
    be.ints(p.users, count).set(users.subarray(0, count));
    be.ints(p.items, count).set(items.subarray(0, count));
    be.floats(p.targets, count).set(targets.subarray(0, count));
    if (loss === 'softmax') {
      const lq = be.floats(p.logq, count);
      for (let r = 0; r < count; r++) lq[r] = this.logq[items[r]!]!;
    }
    return count;
  }
}
