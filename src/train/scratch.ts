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

  reserve(n: number): void {
    if (n <= this.rows) return;
    const f = this.backend.floatBytes;
    this.dScores = this.buffers.get('dScores', n * f);
    this.dUser = this.buffers.get('dUser', n * this.dim * f);
    this.dItem = this.buffers.get('dItem', n * this.dim * f);
    this.logq = this.buffers.get('logq', n * f);
    this.rows = n;
  }

  /** n×n floats for in-batch logits (grown when n grows). */
  matrix(n: number): number {
    return this.buffers.get('matrix', n * n * this.backend.floatBytes);
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
  }
}
