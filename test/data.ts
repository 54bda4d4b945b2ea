// Where the real data lives for tests: $TWOTOWER_DATA (default ../shared/data). With CI=true a
// missing folder fails the run instead of skipping the tests that need it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DATA_DIR = resolve(import.meta.dirname, '..', process.env.TWOTOWER_DATA ?? '../shared/data');
export const ML100K = join(DATA_DIR, 'ml-100k');
export const HAVE_ML100K = existsSync(join(ML100K, 'u1.base'));

if (!HAVE_ML100K && process.env.CI === 'true') {
  throw new Error(`MovieLens 100K not found at ${ML100K}: set TWOTOWER_DATA; CI must not skip the tests that need it`);
}
