// A synthetic implicit-feedback log with known structure, at any size: users and items fall in
// K taste clusters (a planted rank-K preference: user u likes cluster u mod K), and both sides
// have power-law popularity (an id's share of events falls off as a power of its rank). An event
// is (user, item): the user drawn by activity; the item, with probability `affinity`, from the
// user's own cluster by popularity within it, else from the whole catalogue by popularity. The
// held-out truth for a user is more events drawn the same way: what a perfect model would rank.
import { Random } from '../src/util/random.js';

export interface SyntheticLogOptions {
  users: number;
  items: number;
  events: number;
  /** Taste clusters. Default 100. */
  clusters?: number;
  /** Probability an event follows the user's taste. Default 0.8. */
  affinity?: number;
  seed?: number;
}

export interface SyntheticLog {
  users: Int32Array;
  items: Int32Array;
  /** Draws `count` further events of `user` (the truth a model is measured against). */
  future(user: number, count: number): Int32Array;
}

/** ⌊n·x^power⌋ for uniform x: rank 0 most frequent, a power-law tail. */
const powerLaw = (random: Random, n: number, power: number) => Math.min(n - 1, Math.floor(n * random.next() ** power));

export function syntheticLog(o: SyntheticLogOptions): SyntheticLog {
  const K = o.clusters ?? 100;
  const affinity = o.affinity ?? 0.8;
  const random = new Random(o.seed ?? 17);
  const perCluster = Math.floor(o.items / K);
  // Popularity ranks are spread over the id range (a permutation), so ids carry no order.
  const itemOfRank = Int32Array.from({ length: o.items }, (_, i) => i);
  random.shuffle(itemOfRank);
  const userOfRank = Int32Array.from({ length: o.users }, (_, i) => i);
  random.shuffle(userOfRank);
  // Cluster c's items: the ranks ≡ c (mod K), in popularity order.
  const itemFor = (user: number, r: Random): number => {
    if (r.next() < affinity) {
      const c = user % K;
      return itemOfRank[c + K * powerLaw(r, perCluster, 3)]!;
    }
    return itemOfRank[powerLaw(r, o.items, 3)]!;
  };
  const users = new Int32Array(o.events),
    items = new Int32Array(o.events);
  for (let e = 0; e < o.events; e++) {
    const user = userOfRank[powerLaw(random, o.users, 2)]!;
    users[e] = user;
    items[e] = itemFor(user, random);
  }
  const futureRandom = new Random((o.seed ?? 17) + 1);
  return {
    users,
    items,
    future: (user, count) => Int32Array.from({ length: count }, () => itemFor(user, futureRandom)),
  };
}
