// Heap scratch of a training step beyond the model's pair rows: the gradients of the scores and
// of both towers' outputs, per-row log sampling probabilities, and the n×n logits of matrix
// losses. Sized once per batch shape, reused, freed with the model.
import type { Backend } from '../backend/contract.js';
import type { TwoTower } from '../model/twotower.js';
import { SlotKey } from '../model/slots.js';
import { Buffers } from '../backend/heap.js';

/** Training's slot on a model core (this module's own: no other layer reads it). */
const SLOT = new SlotKey<TrainScratch>('train.scratch');

export class TrainScratch {
  private readonly buffers: Buffers;
  private rows = 0;
  private itemRows = 0;
  dScores = 0;
  dUser = 0;
  dItem = 0;
  logq = 0;

  private constructor(
    private readonly backend: Backend,
    private readonly dim: number,
  ) {
    this.buffers = new Buffers(backend);
  }

  /** The model's training scratch (made on first use, freed when the model is disposed). */
  static of(core: TwoTower): TrainScratch {
    return core.scratch(SLOT, () => new TrainScratch(core.backend, core.dim));
  }

  /** Scratch for n paired rows and `items` (≥ n) item rows: a matrix loss's extra negatives follow the pairs. */
  reserve(n: number, items = n): void {
    if (n <= this.rows && items <= this.itemRows) return;
    const f = this.backend.floatBytes;
    n = Math.max(n, this.rows);
    items = Math.max(items, n, this.itemRows);
    this.dScores = this.buffers.get('dScores', n * f);
    this.dUser = this.buffers.get('dUser', n * this.dim * f);
    this.dItem = this.buffers.get('dItem', items * this.dim * f);
    this.logq = this.buffers.get('logq', items * f);
    this.rows = n;
    this.itemRows = items;
  }

  /** n×cols floats for in-batch logits (grown when they grow; cols defaults to n). */
  matrix(n: number, cols = n): number {
    return this.buffers.get('matrix', n * cols * this.backend.floatBytes);
  }

  /** `floats` floats under a name of the caller's (a loss's own scratch; grown when it grows). */
  named(name: string, floats: number): number {
    return this.buffers.get(`named.${name}`, floats * this.backend.floatBytes);
  }

  /** n f64 values (per-row losses), read with `f64s`. */
  rowLosses(n: number): number {
    return this.buffers.get('rowLosses', n * 8);
  }

  /** A view of n f64 values at ptr. */
  f64s(ptr: number, n: number): Float64Array {
    return new Float64Array(this.backend.bytes(ptr, 8 * n).buffer, ptr, n);
  }

  free(): void {
    this.buffers.free();
    this.rows = 0;
    this.itemRows = 0;
  }
}
