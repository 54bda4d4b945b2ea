// Ratings with nothing for the embeddings to learn, for the tests of tune's penalty search
// (recipe-tuning, parallel-penalties): on few ratings a user, larger penalties keep winning.
import { Vocabulary, type RecipeData } from '../src/index.js';
import { Random } from '../src/util/random.js';

/** Ratings = 3 + user bias + item bias + N(0, noise²): the user × item part is pure noise. */
export function noisyRatings(users: number, items: number, perUser: number, noise: number, seed: number): RecipeData {
  const random = new Random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  const bu = Array.from({ length: users }, () => 0.4 * gauss());
  const bi = Array.from({ length: items }, () => 0.4 * gauss());
  const u = new Vocabulary(),
    v = new Vocabulary();
  const rows: [number, number, number][] = [];
  for (let a = 0; a < users; a++) {
    const picked = new Set<number>();
    while (picked.size < perUser) picked.add(Math.floor(random.next() * items));
    for (const b of picked) rows.push([u.add(`u${a}`), v.add(`i${b}`), 3 + bu[a]! + bi[b]! + noise * gauss()]);
  }
  u.freeze();
  v.freeze();
  return {
    train: {
      users: Int32Array.from(rows, (r) => r[0]),
      items: Int32Array.from(rows, (r) => r[1]),
      ratings: Float32Array.from(rows, (r) => r[2]),
    },
    users: u,
    items: v,
  };
}
