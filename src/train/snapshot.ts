// A copy of a model's trainable state in its heap: parameter values, both optimizer-state slots
// and the step count. fit() takes one before it changes anything and restores it when training
// fails, so a failed fit leaves the model exactly as it was; a second, values-only copy holds
// the best epoch's weights for early stopping.
import type { TwoTower } from '../model/twotower.js';

export class Snapshot {
  private readonly ptr: number;
  private readonly steps: number;

  /** Copies values, m and v (or only the values, for a best-weights copy). */
  constructor(
    private readonly core: TwoTower,
    private readonly valuesOnly = false,
  ) {
    const { store, backend } = core;
    this.ptr = backend.alloc((valuesOnly ? 1 : 3) * Math.max(4, store.total) * backend.floatBytes);
    this.steps = core.optimizerSteps;
    this.take();
  }

  private get stride(): number {
    return this.core.store.total * this.core.backend.floatBytes;
  }

  /** Overwrites the copy with the model's current state. */
  take(): void {
    const { store, backend } = this.core;
    const k = backend.kernels,
      r = store.regions;
    k.copy_f32(this.ptr, r.values, store.total);
    if (this.valuesOnly) return;
    k.copy_f32(this.ptr + this.stride, r.m, store.total);
    k.copy_f32(this.ptr + 2 * this.stride, r.v, store.total);
  }

  /** Puts the copy back (values, state and the step count it was taken at). */
  restore(): void {
    const { store, backend } = this.core;
    const k = backend.kernels,
      r = store.regions;
    this.core.revision++;
    k.copy_f32(r.values, this.ptr, store.total);
    if (this.valuesOnly) return;
    k.copy_f32(r.m, this.ptr + this.stride, store.total);
    k.copy_f32(r.v, this.ptr + 2 * this.stride, store.total);
    this.core.optimizerSteps = this.steps;
  }

  free(): void {
    this.core.backend.free(this.ptr);
  }
}
