// Loading speed: a plain numeric `user,item,rating,time` CSV of 3 million rows (ids drawn with
// power-law popularity over 100,000 users and 50,000 items), read into encoded interactions by
// loadRatingsFile — the byte-level fast path (no quote in the file) against the full CSV parser
// (the same rows behind a quoted header, which sends the file to csv-parse). Rows per second on
// one core; each run reads the file from the page cache.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Case } from './harness.js';
import { loadRatingsFile } from '../src/node/ratings-file.js';
import { Random } from '../src/util/random.js';

const ROWS = 3_000_000;

/** A CSV of `rows` lines user,item,rating,time (header optional), as text. */
export function numericCsv(rows: number, header: string | null, seed = 5): string {
  const random = new Random(seed);
  const lines: string[] = header ? [header] : [];
  // Power-law ids: ⌊n·u³⌋ puts most events on few ids, as real logs do.
  for (let i = 0; i < rows; i++) {
    const user = Math.floor(100_000 * random.next() ** 3);
    const item = Math.floor(50_000 * random.next() ** 3);
    lines.push(`${user},${item},${1 + random.int(9) / 2},${1_600_000_000 + i}`);
  }
  return lines.join('\n') + '\n';
}

export function loadCases(): { cases: Case[]; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'twotower-load-'));
  const body = numericCsv(ROWS, null);
  const plain = join(dir, 'plain.csv');
  const quoted = join(dir, 'quoted.csv');
  writeFileSync(plain, 'user,item,rating,time\n' + body);
  writeFileSync(quoted, '"user",item,rating,time\n' + body);
  const cases: Case[] = [];
  for (const [file, impl] of [
    [plain, 'twotower fast path'],
    [quoted, 'csv-parse (full CSV parser)'],
  ] as const) {
    cases.push({
      name: `load ${ROWS.toLocaleString('en-US')} rows user,item,rating,time`,
      impl,
      examples: ROWS,
      slow: true,
      run: () => loadRatingsFile(file),
      check: async () => {
        const loaded = await loadRatingsFile(file);
        if (loaded.data.users.length !== ROWS) throw new Error(`${impl}: ${loaded.data.users.length} rows, not ${ROWS}`);
        if (!loaded.data.timestamps || loaded.data.timestamps[ROWS - 1] !== 1_600_000_000 + ROWS - 1)
          throw new Error(`${impl}: the last time is wrong`);
      },
    });
  }
  return { cases, close: () => rmSync(dir, { recursive: true, force: true }) };
}
