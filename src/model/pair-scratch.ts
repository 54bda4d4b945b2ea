// The core's heap scratch for a batch of (user, item, target) rows and their scores: what a loss
// stages (writePairs, src/train/losses/loss.ts), forwardPairs scores and predict() reads. Grown
// to the largest batch seen, freed with the core.
import type { Backend } from '../backend/contract.js';

/** Heap scratch for a batch of (user, item, target) rows and their scores. */
export class PairScratch {
  capacity = 0;
  users = 0;
  items = 0;
  targets = 0;
  scores = 0;
  private blocks: number[] = [];

  constructor(private readonly backend: Backend) {}

  reserve(n: number): void {
    if (n <= this.capacity) return;
    this.free();
    const be = this.backend;
    const take = (bytes: number): number => {
      const p = be.alloc(bytes);
      this.blocks.push(p);
      return p;
    };
    const f = be.floatBytes;
    this.users = take(n * 4);
    this.items = take(n * 4);
    this.targets = take(n * f);
    this.scores = take(n * f);
    this.capacity = n;
  }

  free(): void {
    for (const p of this.blocks) this.backend.free(p);
    this.blocks = [];
    this.capacity = 0;
  }
}
