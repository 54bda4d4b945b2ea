// Every trainable number of a model lives in one place: four contiguous regions of the backend's
// heap (values, gradients, and two optimizer-state slots, Adam's moments) with one layout, so
// persistence, export and snapshots see one flat vector. Blocks are grouped for the optimizers:
// the dense layers (and attention vectors) form one group, each embedding table is a group of
// its own, the score biases one more; each group is contiguous in every region, so an optimizer
// updates a group with one kernel call, and groups can have different optimizers.
import { MAX_BLOCK_BYTES, formatBytes, type Backend, type Floats } from '../backend/contract.js';
import { fail } from '../errors.js';
import { Random } from '../util/random.js';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'normal'; std: number }
  /** He/Glorot-style: uniform in [−limit, limit]. */
  | { kind: 'uniform'; limit: number };

/** What a block is, for the optimizers: a dense layer's weights, an embedding table, score biases. */
export type GroupKind = 'dense' | 'embedding' | 'bias';

export interface ParamBlock {
  readonly name: string;
  readonly shape: readonly number[];
  /** Number of values. */
  readonly size: number;
  readonly init: Init;
  readonly group: GroupKind;
  /** Offset in elements from the start of each region (set by allocate); a multiple of 4 (16-byte aligned in WASM). */
  offset: number;
}

/** Blocks updated together by one optimizer: contiguous in every region. */
export interface ParamGroup {
  /** 'dense', 'bias', or the embedding table's block name. */
  readonly name: string;
  readonly kind: GroupKind;
  readonly blocks: readonly ParamBlock[];
  /** First element and element count (padding included) in every region. */
  readonly offset: number;
  readonly size: number;
}

/** Byte addresses of a group (or of everything) in the four regions. */
export interface RegionPointers {
  values: number;
  grads: number;
  m: number;
  v: number;
}

const padded = (size: number) => Math.ceil(size / 4) * 4;

export class ParameterStore {
  readonly blocks: ParamBlock[] = [];
  groups: ParamGroup[] = [];
  /** Elements per region, padding included. */
  total = 0;
  private backend: Backend | null = null;
  private base: RegionPointers = { values: 0, grads: 0, m: 0, v: 0 };

  declare(name: string, shape: number[], init: Init, group: GroupKind): ParamBlock {
    if (this.backend) fail('INTERNAL', `ParameterStore: "${name}" declared after allocate`);
    const size = shape.reduce((a, b) => a * b, 1);
    const block: ParamBlock = { name, shape, size, init, group, offset: -1 };
    this.blocks.push(block);
    return block;
  }

  /**
   * Lays the blocks out group by group, allocates the four regions, and fills values by each
   * block's init from one seeded stream, in declaration order (so the layout does not change
   * the initial values).
   */
  allocate(backend: Backend, seed: number): void {
    const byGroup = new Map<string, ParamBlock[]>();
    for (const block of this.blocks) {
      const key = block.group === 'embedding' ? block.name : block.group;
      byGroup.set(key, [...(byGroup.get(key) ?? []), block]);
    }
    let offset = 0;
    this.groups = [...byGroup].map(([name, blocks]) => {
      const start = offset;
      for (const block of blocks) {
        block.offset = offset;
        offset += padded(block.size);
      }
      return { name, kind: blocks[0]!.group, blocks, offset: start, size: offset - start };
    });
    this.total = offset;
    const bytes = ParameterStore.checkFits(this.blocks, backend.floatBytes);
    // All four or none: a failed allocation frees the ones already made.
    const made: number[] = [];
    try {
      for (let i = 0; i < 4; i++) made.push(backend.alloc(bytes));
    } catch (error) {
      for (const p of made) backend.free(p);
      throw error;
    }
    const [values, grads, m, v] = made as [number, number, number, number];
    this.base = { values, grads, m, v };
    this.backend = backend;
    for (const region of [values, grads, m, v]) backend.kernels.zero_f32(region, this.total);
    const random = new Random(seed);
    for (const block of this.blocks) {
      const out = this.values(block);
      const init = block.init;
      for (let i = 0; i < block.size; i++) {
        if (init.kind === 'normal') out[i] = init.std * random.normal();
        else if (init.kind === 'uniform') out[i] = init.limit * (2 * random.next() - 1);
      }
    }
  }

  /**
   * Bytes of one region for these blocks (padding included), or OUT_OF_MEMORY when a region
   * cannot be one WebAssembly block: checked before anything is allocated.
   */
  static checkFits(blocks: readonly Pick<ParamBlock, 'name' | 'shape' | 'size'>[], floatBytes: number): number {
    const total = blocks.reduce((sum, b) => sum + padded(b.size), 0);
    const bytes = Math.max(4, total) * floatBytes;
    if (bytes > MAX_BLOCK_BYTES) {
      const largest = [...blocks].sort((a, b) => b.size - a.size)[0]!;
      fail(
        'OUT_OF_MEMORY',
        `the model has ${total.toLocaleString('en-US')} parameters (${formatBytes(bytes)} per copy, the largest block "${largest.name}" ${largest.shape.join(' × ')}); values, gradients and the optimizer's two state copies each must fit one 1 GiB WebAssembly block: use fewer ids (hashed ids), a smaller dim, or narrower layers (docs/limits.md)`,
      );
    }
    return bytes;
  }

  private get be(): Backend {
    if (!this.backend) fail('INTERNAL', 'ParameterStore: not allocated');
    return this.backend;
  }

  /** Byte address of the block's values. */
  ptr(block: ParamBlock): number {
    return this.base.values + block.offset * this.be.floatBytes;
  }
  /** Byte address of the block's gradient. */
  gradPtr(block: ParamBlock): number {
    return this.base.grads + block.offset * this.be.floatBytes;
  }

  /** Live views (take fresh ones after any allocation: memory may have grown). */
  values(block: ParamBlock): Floats {
    return this.be.floats(this.ptr(block), block.size);
  }
  grads(block: ParamBlock): Floats {
    return this.be.floats(this.gradPtr(block), block.size);
  }

  /** Region base addresses, for whole-model kernels (zeroing, snapshots). */
  get regions(): RegionPointers {
    return this.base;
  }

  /** A group's addresses in the four regions. */
  groupPointers(group: ParamGroup): RegionPointers {
    const at = group.offset * this.be.floatBytes;
    return { values: this.base.values + at, grads: this.base.grads + at, m: this.base.m + at, v: this.base.v + at };
  }

  find(name: string): ParamBlock | undefined {
    return this.blocks.find((b) => b.name === name);
  }

  free(): void {
    if (!this.backend) return;
    for (const region of [this.base.values, this.base.grads, this.base.m, this.base.v]) this.backend.free(region);
    this.backend = null;
  }
}
