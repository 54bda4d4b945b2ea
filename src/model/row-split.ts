// Row-parallel kernels (training, and the towers' dense layers): an operation whose output rows are independent is split
// into row ranges, one per thread of the model's pool (when it has one), each a multiple of 4
// rows so that every thread runs the kernels' 4-row blocks exactly as one thread would. Every
// output element is computed by one thread in the one summation order, so the result has the
// same bits on any number of threads: threaded training is deterministic and equal to one thread.
import type { Backend, KernelThreads, RowCall } from '../backend/contract.js';

/** Fewest rows a thread's share may have: below it, dispatch costs more than it saves. */
const MIN_ROWS_PER_THREAD = 32;

/**
 * @internal SPLIT_TUNING.minWorkPerShare: fewest multiply-adds worth a thread's share (tests set
 * it to 0 to split small shapes and check their bits). A job's round trip through the pool costs
 * tens of microseconds, more when the worker has parked between jobs, so a share must hold a few
 * hundred microseconds of work to pay. MovieLens 100K's default recipe (batch 256, a projection of
 * ~100 inputs to 32, rated sets, 2026-12-06, quiet): with any 32 rows a share, two threads ran its
 * epochs in 0.51 s against one thread's 0.33 s; with this threshold in 0.37 s; the 10M-event
 * softmax epoch went 34.4 → 24.0 s on two threads (lazy Adam's few hundred rows no longer split).
 */
export const SPLIT_TUNING = {
  minWorkPerShare: 1 << 18,
};

/** The `least` rows of a byRows call whose rows each cost `workPerRow` multiply-adds (and never fewer than `fewest`). */
export function leastRowsFor(workPerRow: number, fewest = MIN_ROWS_PER_THREAD): number {
  return Math.max(fewest, Math.ceil(SPLIT_TUNING.minWorkPerShare / Math.max(1, workPerRow)));
}

/**
 * Runs one row-parallel kernel over [0, total) rows: make(row0, rows) gives a range's call. Each
 * thread's share is at least `least` rows (default MIN_ROWS_PER_THREAD) and, but for the last, a
 * multiple of `align` (default 4, the kernels' row blocks).
 */
export type ByRows = (total: number, make: (row0: number, rows: number) => RowCall, least?: number, align?: number) => void;

/** Runs make(row0, rows) over [0, total), split across `pool`'s threads (or one call without a pool). */
export function byRows(
  backend: Backend,
  pool: KernelThreads | null,
  total: number,
  make: (row0: number, rows: number) => RowCall,
  least = MIN_ROWS_PER_THREAD,
  align = 4,
): void {
  const parts = pool ? Math.min(pool.size, Math.floor(total / least)) : 1;
  if (!pool || parts <= 1) {
    const call = make(0, total);
    (backend.kernels[call.kernel] as (...args: number[]) => unknown)(...call.args);
    return;
  }
  const per = Math.ceil(total / parts / align) * align;
  const calls: RowCall[] = [];
  for (let row0 = 0; row0 < total; row0 += per) calls.push(make(row0, Math.min(per, total - row0)));
  pool.run(calls);
}
