// Every trainable number of a model, grouped for the optimizers: the dense layers (with the
// attention vectors and the global bias) form one group, each embedding table and each
// per-entity bias table is a group of its own. Each group owns its memory in the backend's heap:
//   - its values, one block (so a group, not the whole model, must fit the allocator's 1 GiB);
//   - its gradient, made when training needs it: group.size floats, or for a group trained by a
//     sparse optimizer a compact gradient of only the rows a batch touches (row i of it belongs
//     to the i-th row listed) and a row map (one i32 per table row: table row → compact row);
//   - its optimizer state, as many slots of whatever size its optimizer asks for (Adam: two
//     moments per parameter; row-wise Adagrad: one accumulator per row; SGD: none).
// A model that is only served holds its values alone.
import { MAX_BLOCK_BYTES, formatBytes, type Backend, type Floats, type RowCall } from '../backend/contract.js';
import type { ByRows } from './row-split.js';
import { fail } from '../errors.js';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'normal'; std: number }
  /** He/Glorot-style: uniform in [−limit, limit]. */
  | { kind: 'uniform'; limit: number };

/** What a block is, for the optimizers: dense weights, an embedding table, a per-entity bias table. */
export type GroupKind = 'dense' | 'embedding' | 'bias';

export interface ParamBlock {
  readonly name: string;
  readonly shape: readonly number[];
  /** Number of values. */
  readonly size: number;
  readonly init: Init;
  readonly group: GroupKind;
  /** Offset in elements from the start of its group (set by allocate); a multiple of 4 (16-byte aligned in WASM). */
  offset: number;
}

/** Blocks updated together by one optimizer, contiguous in the group's memory. */
export interface ParamGroup {
  /** 'dense', or the table's block name. */
  readonly name: string;
  readonly kind: GroupKind;
  readonly blocks: readonly ParamBlock[];
  /** Elements, padding included. */
  readonly size: number;
  /** Rows of a table group (embedding or bias table), what sparse optimizers update; 0 for the dense group. */
  readonly rows: number;
  /** Floats per row of a table group (its dim; 1 for a bias table). */
  readonly width: number;
}

/** Byte addresses of a group's memory (0 where it has none). */
export interface GroupPointers {
  values: number;
  grads: number;
  /** The optimizer's state slots (Adam: m and v; row-wise Adagrad: its accumulator in m). */
  m: number;
  v: number;
  /** The row map of a compact gradient (i32 per table row), or 0 for a full gradient. */
  rowMap: number;
}

interface GroupMemory {
  values: number;
  /** 0 until training needs a gradient. */
  grads: number;
  /** Capacity of a compact gradient in rows, or −1 for a full one. */
  gradRows: number;
  rowMap: number;
  state: { ptr: number; floats: number }[];
  /** The optimizer the state belongs to: a group trained by another one starts from zeroed state. */
  stateOwner: string;
}

/** Bytes a store holds in the heap, by use. */
export interface StoreBytes {
  values: number;
  gradients: number;
  optimizerState: number;
}

const padded = (size: number) => Math.ceil(size / 4) * 4;

/** Values per initialisation chunk (split over a model's threads). */
const INIT_CHUNK = 1 << 22;

/** A block's random stream: FNV-1a (32-bit) of its name, so a block's initial values do not depend on the others. */
export function blockStream(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The groups of a list of blocks (declaration order within each), with the blocks' offsets set. */
export function groupBlocks(blocks: readonly ParamBlock[]): ParamGroup[] {
  const byGroup = new Map<string, ParamBlock[]>();
  for (const block of blocks) {
    const key = block.group === 'dense' ? 'dense' : block.name;
    byGroup.set(key, [...(byGroup.get(key) ?? []), block]);
  }
  return [...byGroup].map(([name, members]) => {
    let offset = 0;
    for (const block of members) {
      block.offset = offset;
      offset += padded(block.size);
    }
    const first = members[0]!;
    const table = first.group !== 'dense';
    return {
      name,
      kind: first.group,
      blocks: members,
      size: Math.max(4, offset),
      rows: table ? first.shape[0]! : 0,
      width: table ? (first.shape[1] ?? 1) : 0,
    };
  });
}

export class ParameterStore {
  readonly blocks: ParamBlock[] = [];
  groups: ParamGroup[] = [];
  /** Elements over all groups, padding included. */
  total = 0;
  /** Open for writing: only while the core's write path (TwoTower.write) runs a change. */
  #open = false;
  private backend: Backend | null = null;
  private seed = 1;
  private readonly memory = new Map<ParamGroup, GroupMemory>();
  private readonly groupOf = new Map<ParamBlock, ParamGroup>();

  declare(name: string, shape: number[], init: Init, group: GroupKind): ParamBlock {
    if (this.backend) fail('INTERNAL', `ParameterStore: "${name}" declared after allocate`);
    const size = shape.reduce((a, b) => a * b, 1);
    // A name declared again is the same block (a tied feature reading another feature's table):
    // one set of values, one gradient, one optimizer state, saved once.
    const have = this.blocks.find((b) => b.name === name);
    if (have) {
      if (have.group !== group || have.shape.length !== shape.length || have.shape.some((v, i) => v !== shape[i]))
        fail(
          'BAD_CONFIG',
          `"${name}" is declared twice with different shapes ([${have.shape.join(', ')}] and [${shape.join(', ')}]): a tied feature must match the table it reads`,
        );
      return have;
    }
    const block: ParamBlock = { name, shape, size, init, group, offset: -1 };
    this.blocks.push(block);
    return block;
  }

  /**
   * Lays the blocks out by group, allocates every group's values, and initialises them from the
   * seed (over `rows`' threads when given) — or, with `values: 'zeros'`, only zeroes them, for a
   * caller that writes every block next (a model file's load: drawing values it overwrites cost
   * it half its time at 100,000 items).
   */
  allocate(backend: Backend, seed: number, rows?: ByRows, values: 'seeded' | 'zeros' = 'seeded'): void {
    this.groups = groupBlocks(this.blocks);
    this.total = this.groups.reduce((sum, g) => sum + g.size, 0);
    ParameterStore.checkFits(this.groups, backend.floatBytes);
    const bytes = this.total * backend.floatBytes;
    const held = backend.stats().liveBytes;
    if (held + bytes > backend.memoryLimit) {
      fail(
        'OUT_OF_MEMORY',
        `the model's parameter values need ${formatBytes(bytes)} beside the ${formatBytes(held)} the heap holds, over its ${formatBytes(backend.memoryLimit)} limit: use a smaller dim or fewer ids (hashed ids) (docs/limits.md)`,
      );
    }
    // All or none: a failed allocation frees the ones already made.
    const made: number[] = [];
    try {
      for (const group of this.groups) made.push(backend.alloc(group.size * backend.floatBytes));
    } catch (error) {
      for (const p of made) backend.free(p);
      throw error;
    }
    this.groups.forEach((group, i) => {
      this.memory.set(group, { values: made[i]!, grads: 0, gradRows: -1, rowMap: 0, state: [], stateOwner: '' });
      for (const block of group.blocks) this.groupOf.set(block, group);
    });
    this.backend = backend;
    this.seed = seed;
    this.openForWrites(() => this.initialize(rows, values === 'seeded'));
  }

  /**
   * Runs `change` with the values open for writing: the writable views and pointers below,
   * initialize() and zeroState() throw INTERNAL at any other time. The one caller is the core's
   * write path (TwoTower.write), which then marks what was derived from the values stale.
   */
  openForWrites<T>(change: () => T): T {
    const was = this.#open;
    this.#open = true;
    try {
      return change();
    } finally {
      this.#open = was;
    }
  }

  private mustBeOpen(what: string): void {
    if (!this.#open) fail('INTERNAL', `ParameterStore: ${what} outside the write path (TwoTower.write)`);
  }

  /**
   * Fills every value from its block's init with the counter-based kernels (assembly/random.ts):
   * the value at (row, column) of a block depends only on (seed, the block's name, row, column),
   * so neither the layout, nor the other blocks, nor the table's height, nor how the rows are
   * split changes it (`byRows` spreads each chunk over a model's threads). A block [rows, …] is
   * rows × (the rest); a 1-D block is one row.
   */
  initialize(byRows?: ByRows, draw = true): void {
    this.mustBeOpen('initialize()');
    const be = this.be;
    for (const group of this.groups) be.kernels.zero_f32(this.memory.get(group)!.values, group.size);
    if (!draw) return;
    const seedLo = this.seed >>> 0,
      seedHi = Math.floor(this.seed / 2 ** 32) >>> 0;
    for (const block of this.blocks) {
      const init = block.init;
      if (init.kind === 'zeros' || block.size === 0) continue;
      const rows = block.shape.length > 1 ? block.shape[0]! : 1,
        cols = block.size / rows,
        stream = blockStream(block.name);
      // Chunks of rows: the same values as one call (rows are independent), a bounded time per call.
      const chunk = Math.max(1, Math.floor(INIT_CHUNK / cols));
      const kernel = init.kind === 'normal' ? 'random_normal_f32' : 'random_uniform_f32',
        scale = init.kind === 'normal' ? init.std : init.limit;
      const args = (row: number, n: number): [number, number, number, number, number, number, number, number] => [
        this.ptr(block) + row * cols * be.floatBytes,
        n,
        cols,
        row,
        seedLo,
        seedHi,
        stream,
        scale,
      ];
      for (let row = 0; row < rows; row += chunk) {
        const n = Math.min(chunk, rows - row);
        if (byRows) byRows(n, (r0, part): RowCall => ({ kernel, args: args(row + r0, part) }));
        else be.kernels[kernel](...args(row, n));
      }
    }
  }

  /**
   * Throws OUT_OF_MEMORY, before anything is allocated, when a group's values cannot be one
   * allocator block (1 GiB): an embedding table of more than 2²⁸ floats.
   */
  static checkFits(groups: readonly ParamGroup[], floatBytes: number): void {
    for (const group of groups) {
      const bytes = group.size * floatBytes;
      if (bytes > MAX_BLOCK_BYTES) {
        const block = group.blocks.length === 1 ? group.blocks[0]! : undefined;
        fail(
          'OUT_OF_MEMORY',
          `the parameter group "${group.name}"${block ? ` (${block.shape.join(' × ')})` : ''} needs ${formatBytes(bytes)}, over the WebAssembly allocator's 1 GiB per block: use fewer ids (hashed ids), a smaller dim, or narrower layers (docs/limits.md)`,
        );
      }
    }
  }

  private get be(): Backend {
    if (!this.backend) fail('INTERNAL', 'ParameterStore: not allocated');
    return this.backend;
  }

  private at(block: ParamBlock): { group: ParamGroup; mem: GroupMemory } {
    const group = this.groupOf.get(block);
    if (!group) fail('INTERNAL', `ParameterStore: unknown block "${block.name}"`);
    return { group, mem: this.memory.get(group)! };
  }

  /** Byte address of the block's values. */
  ptr(block: ParamBlock): number {
    return this.at(block).mem.values + block.offset * this.be.floatBytes;
  }

  /** Byte address of the block's gradient (for a compact gradient, its row 0: see rowMap). */
  gradPtr(block: ParamBlock): number {
    const { mem } = this.at(block);
    if (mem.grads === 0) fail('INTERNAL', `ParameterStore: "${block.name}" has no gradient (call useGradients first)`);
    return mem.grads + (mem.gradRows < 0 ? block.offset * this.be.floatBytes : 0);
  }

  /** The row map of a table trained with a compact gradient, or 0 (its gradient is full). */
  rowMap(block: ParamBlock): number {
    return this.at(block).mem.rowMap;
  }

  /**
   * Live views for reading (take fresh ones after any allocation: memory may have grown). Writes
   * go through writable() inside the core's write path.
   */
  values(block: ParamBlock): Floats {
    return this.be.floats(this.ptr(block), block.size);
  }
  /** A block's values for writing: only inside the write path (TwoTower.write). */
  writable(block: ParamBlock): Floats {
    this.mustBeOpen(`writing "${block.name}"`);
    return this.values(block);
  }
  /** A full gradient's view (a compact gradient has no per-table view). */
  grads(block: ParamBlock): Floats {
    if (this.at(block).mem.gradRows >= 0) fail('INTERNAL', `ParameterStore: "${block.name}" has a compact gradient`);
    return this.be.floats(this.gradPtr(block), block.size);
  }
  /** A group's values as one view for reading (padding included). */
  groupValues(group: ParamGroup): Floats {
    return this.be.floats(this.memory.get(group)!.values, group.size);
  }
  /** A group's values for writing: only inside the write path (TwoTower.write). */
  writableGroup(group: ParamGroup): Floats {
    this.mustBeOpen(`writing group "${group.name}"`);
    return this.groupValues(group);
  }

  /** A group's addresses, for kernels that read its values (and the row map, the gradient). */
  groupPointers(group: ParamGroup): GroupPointers {
    const mem = this.memory.get(group)!;
    return { values: mem.values, grads: mem.grads, m: mem.state[0]?.ptr ?? 0, v: mem.state[1]?.ptr ?? 0, rowMap: mem.rowMap };
  }
  /** A group's addresses for an optimizer that updates its values: only inside the write path (TwoTower.write). */
  writablePointers(group: ParamGroup): GroupPointers {
    this.mustBeOpen(`updating group "${group.name}"`);
    return this.groupPointers(group);
  }

  /** Whether the group's gradient is compact (rows of a sparse optimizer). */
  isCompact(group: ParamGroup): boolean {
    return this.memory.get(group)!.gradRows >= 0;
  }

  /**
   * Gives every group a gradient: compact for the groups `compact` names (table groups trained
   * by a sparse optimizer), full for the others. Gradients already of the right kind are kept.
   * A full gradient starts at zero; a compact one is zeroed row by row as batches use it.
   */
  useGradients(compact: (group: ParamGroup) => boolean = () => false): void {
    const be = this.be;
    for (const group of this.groups) {
      const mem = this.memory.get(group)!;
      const wantCompact = group.rows > 0 && compact(group);
      if (mem.grads !== 0 && wantCompact === mem.gradRows >= 0) continue;
      this.releaseGradient(mem);
      if (wantCompact) {
        mem.rowMap = be.alloc(group.rows * 4);
        mem.gradRows = 64;
        mem.grads = be.alloc(mem.gradRows * group.width * be.floatBytes);
      } else {
        mem.grads = be.alloc(group.size * be.floatBytes);
        be.kernels.zero_f32(mem.grads, group.size);
      }
    }
  }

  /**
   * Zeroes every full gradient (a compact one is zeroed row by row as batches use it, see
   * train/touched-rows.ts); returns whether any gradient is compact.
   */
  zeroGradients(): boolean {
    let compact = false;
    for (const [group, mem] of this.memory) {
      if (mem.gradRows >= 0) compact = true;
      else this.be.kernels.zero_f32(mem.grads, group.size);
    }
    return compact;
  }

  /** Whether any group has a gradient yet. */
  get hasGradients(): boolean {
    return [...this.memory.values()].some((m) => m.grads !== 0);
  }

  /** Room for `rows` rows in a compact gradient (grown by doubling); returns its address. */
  reserveGradRows(group: ParamGroup, rows: number): number {
    const mem = this.memory.get(group)!;
    if (rows > mem.gradRows) {
      const be = this.be;
      const capacity = Math.min(group.rows, Math.max(rows, 2 * mem.gradRows));
      const grads = be.alloc(capacity * group.width * be.floatBytes);
      be.free(mem.grads);
      mem.grads = grads;
      mem.gradRows = capacity;
    }
    return mem.grads;
  }

  /** Frees every gradient (training is over; the next fit makes them again). */
  releaseGradients(): void {
    for (const mem of this.memory.values()) this.releaseGradient(mem);
  }

  private releaseGradient(mem: GroupMemory): void {
    if (mem.grads !== 0) this.be.free(mem.grads);
    if (mem.rowMap !== 0) this.be.free(mem.rowMap);
    mem.grads = 0;
    mem.rowMap = 0;
    mem.gradRows = -1;
  }

  /**
   * The group's optimizer state for `owner`: slots of the given sizes (floats), zeroed when first
   * made. A group whose optimizer changed gets fresh state; the same optimizer keeps its state
   * from the last fit (Adam's moments continue).
   */
  useState(group: ParamGroup, owner: string, slots: readonly number[]): void {
    const mem = this.memory.get(group)!;
    if (mem.stateOwner === owner && mem.state.length === slots.length) return;
    const be = this.be;
    this.releaseState(mem);
    try {
      for (const size of slots) {
        const floats = Math.max(4, size);
        const ptr = be.alloc(floats * be.floatBytes);
        mem.state.push({ ptr, floats });
        be.kernels.zero_f32(ptr, floats);
      }
    } catch (error) {
      this.releaseState(mem);
      throw error;
    }
    mem.stateOwner = owner;
  }

  /** Whether the group holds optimizer state made for `owner`. */
  hasState(group: ParamGroup, owner: string): boolean {
    return this.memory.get(group)!.stateOwner === owner;
  }

  /** The optimizer the group's state belongs to ('' without state). */
  stateOwner(group: ParamGroup): string {
    return this.memory.get(group)!.stateOwner;
  }

  /** The group's state slots with their sizes in floats (what a snapshot copies). */
  stateOf(group: ParamGroup): { ptr: number; floats: number }[] {
    return this.memory.get(group)!.state;
  }

  /** Zeroes every optimizer state slot (a model initialised again starts its optimizers afresh). */
  zeroState(): void {
    this.mustBeOpen('zeroState()');
    for (const group of this.groups) for (const s of this.stateOf(group)) this.be.kernels.zero_f32(s.ptr, s.floats);
  }

  private releaseState(mem: GroupMemory): void {
    for (const s of mem.state) this.be.free(s.ptr);
    mem.state = [];
    mem.stateOwner = '';
  }

  /** Bytes held, by use. */
  bytes(): StoreBytes {
    const be = this.be;
    const out: StoreBytes = { values: 0, gradients: 0, optimizerState: 0 };
    for (const group of this.groups) {
      const mem = this.memory.get(group)!;
      out.values += group.size * be.floatBytes;
      if (mem.grads !== 0)
        out.gradients +=
          (mem.gradRows < 0 ? group.size : mem.gradRows * group.width) * be.floatBytes + (mem.rowMap ? group.rows * 4 : 0);
      for (const s of this.stateOf(group)) out.optimizerState += s.floats * be.floatBytes;
    }
    return out;
  }

  find(name: string): ParamBlock | undefined {
    return this.blocks.find((b) => b.name === name);
  }

  free(): void {
    if (!this.backend) return;
    for (const mem of this.memory.values()) {
      this.releaseGradient(mem);
      this.releaseState(mem);
      this.backend.free(mem.values);
    }
    this.memory.clear();
    this.backend = null;
  }
}
