// A copy of a model's trainable state: parameter values, optimizer state and the step count.
// fit() takes one before it changes anything and restores it when training fails, so a failed
// fit leaves the model exactly as it was; a values-only copy holds the best epoch's weights for
// early stopping. Copies live in JavaScript memory, not in the WebAssembly heap, whose 4 GiB the
// model itself needs. A pristine model (its seeded initial values, never trained or set) is not
// copied at all: restoring it initialises it again.
import type { TwoTower } from '../model/twotower.js';
import type { Floats } from '../backend/contract.js';

export class Snapshot {
  /** Per group: its values, then its state slots. */
  private copies: Floats[][] = [];
  private steps: number;
  /** Taken of a pristine model: nothing copied, restored by initialising it again. */
  private seeded: boolean;

  /** Copies values and optimizer state (or only the values, for a best-weights copy). */
  constructor(
    private readonly core: TwoTower,
    private readonly valuesOnly = false,
  ) {
    this.steps = core.optimizerSteps;
    this.seeded = false;
    this.take();
  }

  /** Overwrites the copy with the model's current state. */
  take(): void {
    const { store, backend } = this.core;
    this.steps = this.core.optimizerSteps;
    this.seeded = !this.valuesOnly && this.core.pristine;
    this.copies = [];
    if (this.seeded) return;
    for (const group of store.groups) {
      const copy = [store.groupValues(group).slice()];
      if (!this.valuesOnly) for (const s of store.stateOf(group)) copy.push(backend.floats(s.ptr, s.floats).slice());
      this.copies.push(copy);
    }
  }

  /**
   * Puts the copy back (values, state and the step count it was taken at) through the core's
   * write path; nothing once the model is disposed.
   */
  restore(): void {
    const core = this.core;
    if (core.disposed) return;
    if (this.seeded) {
      core.reinitialize(this.steps);
      return;
    }
    core.write((store) => {
      store.groups.forEach((group, i) => {
        const [values, ...state] = this.copies[i]!;
        store.writableGroup(group).set(values!);
        if (!this.valuesOnly) store.stateOf(group).forEach((s, j) => core.backend.floats(s.ptr, s.floats).set(state[j]!));
      });
      if (!this.valuesOnly) core.optimizerSteps = this.steps;
    });
  }

  free(): void {
    this.copies = [];
  }
}
