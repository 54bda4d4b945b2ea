// Every trainable number of a model lives in one place: four contiguous regions of the backend's
// heap (values, gradients, Adam's first and second moments) with one layout, so a single kernel
// call updates them all and persistence, export and snapshots see one flat vector.
import type { Backend, Floats } from '../wasm/backend.js';
import { Random } from '../util/random.js';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'normal'; std: number }
  /** He/Glorot-style: uniform in [−limit, limit]. */
  | { kind: 'uniform'; limit: number };

export interface ParamBlock {
  readonly name: string;
  readonly shape: readonly number[];
  /** Number of values. */
  readonly size: number;
  /** Offset in elements from the start of each region; a multiple of 4 (16-byte aligned in WASM). */
  readonly offset: number;
  readonly init: Init;
}

export class ParameterStore {
  readonly blocks: ParamBlock[] = [];
  /** Elements per region, padding included. */
  total = 0;
  private backend: Backend | null = null;
  private base = { values: 0, grads: 0, m: 0, v: 0 };

  declare(name: string, shape: number[], init: Init): ParamBlock {
    if (this.backend) throw new Error('ParameterStore: declare after allocate');
    const size = shape.reduce((a, b) => a * b, 1);
    const block: ParamBlock = { name, shape, size, offset: this.total, init };
    this.total += Math.ceil(size / 4) * 4;
    this.blocks.push(block);
    return block;
  }

  /** Allocates the four regions and fills values by each block's init, from one seeded stream. */
  allocate(backend: Backend, seed: number): void {
    this.backend = backend;
    const bytes = Math.max(4, this.total) * backend.floatBytes;
    this.base = { values: backend.alloc(bytes), grads: backend.alloc(bytes), m: backend.alloc(bytes), v: backend.alloc(bytes) };
    for (const region of [this.base.values, this.base.grads, this.base.m, this.base.v]) backend.kernels.zero_f32(region, this.total);
    const random = new Random(seed);
    for (const block of this.blocks) {
      const values = this.values(block);
      const init = block.init;
      for (let i = 0; i < block.size; i++) {
        if (init.kind === 'normal') values[i] = init.std * random.normal();
        else if (init.kind === 'uniform') values[i] = init.limit * (2 * random.next() - 1);
      }
    }
  }

  private get be(): Backend {
    if (!this.backend) throw new Error('ParameterStore: not allocated');
    return this.backend;
  }

  /** Byte address of the block's values. */
  ptr(block: ParamBlock): number { return this.base.values + block.offset * this.be.floatBytes; }
  /** Byte address of the block's gradient. */
  gradPtr(block: ParamBlock): number { return this.base.grads + block.offset * this.be.floatBytes; }

  /** Live views (take fresh ones after any allocation: memory may have grown). */
  values(block: ParamBlock): Floats { return this.be.floats(this.ptr(block), block.size); }
  grads(block: ParamBlock): Floats { return this.be.floats(this.gradPtr(block), block.size); }

  /** Region base addresses, for whole-model kernels (Adam, zeroing, snapshots). */
  get regions(): { values: number; grads: number; m: number; v: number } { return this.base; }

  find(name: string): ParamBlock | undefined { return this.blocks.find((b) => b.name === name); }

  free(): void {
    if (!this.backend) return;
    for (const region of [this.base.values, this.base.grads, this.base.m, this.base.v]) this.backend.free(region);
    this.backend = null;
  }
}
