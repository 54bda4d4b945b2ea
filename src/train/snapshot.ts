// A copy of a model's trainable state in its heap: parameter values, both optimizer-state slots
// and the step count. fit() takes one before it changes anything and restores it when training
// fails, so a failed fit leaves the model exactly as it was; a second, values-only copy holds
// the best epoch's weights for early stopping.
import type { TwoTower } from '../model/twotower.js';

export class Snapshot {
  /** One block per copied region (values, then m and v): each is as large as a region. */
  private readonly blocks: number[] = [];
  private readonly steps: number;

  /** Copies values, m and v (or only the values, for a best-weights copy). */
  constructor(
    private readonly core: TwoTower,
    private readonly valuesOnly = false,
  ) {
    const { store, backend } = core;
    try {
      for (let i = 0; i < (valuesOnly ? 1 : 3); i++)
        this.blocks.push(backend.alloc(Math.max(4, store.total) * backend.floatBytes));
    } catch (error) {
      this.free();
      throw error;
    }
    this.steps = core.optimizerSteps;
    this.take();
  }

  /** Overwrites the copy with the model's current state. */
  take(): void {
    const { store, backend } = this.core;
    const k = backend.kernels,
      r = store.regions;
    k.copy_f32(this.blocks[0]!, r.values, store.total);
    if (this.valuesOnly) return;
    k.copy_f32(this.blocks[1]!, r.m, store.total);
    k.copy_f32(this.blocks[2]!, r.v, store.total);
  }

  /** Puts the copy back (values, state and the step count it was taken at); nothing once the model is disposed. */
  restore(): void {
    if (this.core.disposed) return;
    const { store, backend } = this.core;
    const k = backend.kernels,
      r = store.regions;
    this.core.revision++;
    k.copy_f32(r.values, this.blocks[0]!, store.total);
    if (this.valuesOnly) return;
    k.copy_f32(r.m, this.blocks[1]!, store.total);
    k.copy_f32(r.v, this.blocks[2]!, store.total);
    this.core.optimizerSteps = this.steps;
  }

  free(): void {
    for (const p of this.blocks.splice(0)) this.core.backend.free(p);
  }
}
