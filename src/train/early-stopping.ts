// Tracks the validation metric over epochs (as a loss: lower is better), the best epoch, and
// whether patience ran out; keeps the best epoch's weights when asked to restore them (a
// values-only snapshot taken at each new best: table rows journaled as later steps touch them).
import type { TwoTower } from '../model/twotower.js';
import type { EarlyStopping } from './options.js';
import type { GroupPlan } from './optimizers/index.js';
import { Snapshot } from './snapshot.js';

export class EpochTracker {
  bestScore = Infinity;
  bestEpoch: number | undefined;
  private stale = 0;
  private readonly patience: number;
  private readonly minDelta: number;
  private readonly best: Snapshot | null;

  constructor(
    core: TwoTower,
    plans: readonly GroupPlan[],
    private readonly stopping: EarlyStopping | undefined,
  ) {
    this.patience = stopping?.patience ?? 3;
    this.minDelta = stopping?.minDelta ?? 0;
    this.best = stopping && (stopping.restoreBest ?? true) ? new Snapshot(core, plans, true) : null;
  }

  /** Records an epoch's score; returns true when training should stop (patience exhausted). */
  record(epoch: number, score: number | undefined): boolean {
    if (score === undefined) return false;
    if (score < this.bestScore - this.minDelta) {
      this.bestScore = score;
      this.bestEpoch = epoch;
      this.stale = 0;
      this.best?.take();
    } else {
      this.stale += 1;
    }
    return this.stopping !== undefined && this.stale >= this.patience;
  }

  /** Before each optimizer step: journals the rows it touches first since the best epoch. */
  beforeStep(): void {
    this.best?.beforeStep();
  }

  /** Puts back the best epoch's weights when a later epoch ended training. */
  restoreBest(lastEpoch: number): void {
    if (this.best && this.bestEpoch !== undefined && this.bestEpoch !== lastEpoch) this.best.restore();
  }

  free(): void {
    this.best?.free();
  }
}
