// Which rows of each table the staged batch touches, for the tables trained with a compact
// gradient (by a sparse optimizer: lazy Adam, row-wise Adagrad). Before backward, prepare()
// lists each such table's distinct rows, numbers them in its row map (table row → compact row),
// and zeroes that many compact gradient rows; backward then accumulates into them and the
// optimizer updates exactly those rows. Found from the batch's entity rows and each feature's
// data: an id feature reads the batch's own rows (or its id column at them), a categorical
// feature its column, a multi-hot feature every id in the bags of the batch's rows, a bias table
// the batch's rows. A table read by several features (a tied set reads the other tower's id
// table, or its own) lists the rows of every reader. Each row listed once (stamps).
import type { TwoTower } from '../model/twotower.js';
import type { ParamGroup } from '../model/parameters.js';
import type { FeatureSlot } from '../model/features/index.js';
import { SlotKey } from '../model/slots.js';
import { Buffers } from '../backend/heap.js';

/** One reader of a table: the tower whose batch rows it reads at, and the feature (none for a bias table). */
interface Reader {
  side: 'user' | 'item';
  slot: FeatureSlot | null;
}

interface TableSource {
  group: ParamGroup;
  /** Every feature reading the table (two for a table a tied set shares). */
  readers: Reader[];
  /** stamps[row] = the batch that last listed the row. */
  stamps: Int32Array;
  /** This batch's distinct rows (grown when needed, reused across batches). */
  list: Int32Array;
  count: number;
  /** The list in the heap, for the optimizer. */
  ptr: number;
}

/** This module's slot on a model core (no other layer reads it). */
const SLOT = new SlotKey<TouchedRows>('train.touched-rows');

export class TouchedRows {
  private readonly sources = new Map<ParamGroup, TableSource>();
  private readonly buffers: Buffers;
  private stamp = 0;

  private constructor(private readonly core: TwoTower) {
    this.buffers = new Buffers(core.backend);
    const groupOf = (block: unknown) => core.store.groups.find((g) => g.rows > 0 && g.blocks[0] === block);
    const add = (group: ParamGroup | undefined, side: 'user' | 'item', slot: FeatureSlot | null) => {
      if (!group) return;
      const have = this.sources.get(group);
      if (have) have.readers.push({ side, slot });
      else
        this.sources.set(group, {
          group,
          readers: [{ side, slot }],
          stamps: new Int32Array(group.rows),
          list: new Int32Array(64),
          count: 0,
          ptr: 0,
        });
    };
    for (const [side, tower] of [
      ['user', core.userTower],
      ['item', core.itemTower],
    ] as const) {
      for (const slot of tower.slots) if (slot.params.table) add(groupOf(slot.params.table), side, slot);
    }
    add(groupOf(core.bias.user), 'user', null);
    add(groupOf(core.bias.item), 'item', null);
  }

  /** The model's tracker (made on first use, freed with the model). */
  static of(core: TwoTower): TouchedRows {
    return core.scratch(SLOT, () => new TouchedRows(core));
  }

  /**
   * For every table with a compact gradient: lists the rows the n staged rows (and the item rows
   * up to itemRows, a matrix loss's extra negatives) touch, writes their
   * compact numbers into its row map and zeroes their gradient rows.
   */
  prepare(n: number, itemRows = n): void {
    this.stamp += 1;
    const store = this.core.store;
    const be = this.core.backend;
    for (const source of this.sources.values()) {
      if (!store.isCompact(source.group)) continue;
      this.collect(source, n, itemRows);
      const { group, count } = source;
      const grads = store.reserveGradRows(group, count);
      be.kernels.zero_f32(grads, count * group.width);
      const map = be.ints(store.groupPointers(group).rowMap, group.rows);
      const list = source.list;
      for (let i = 0; i < count; i++) map[list[i]!] = i;
      source.ptr = this.buffers.get(group.name, Math.max(1, count) * 4);
      be.ints(source.ptr, count).set(list.subarray(0, count));
    }
  }

  /** The distinct rows of `group` the last prepared batch touched (valid until the next prepare). */
  rows(group: ParamGroup): { ptr: number; count: number } {
    const source = this.sources.get(group)!;
    return { ptr: source.ptr, count: source.count };
  }

  /** The same rows in JavaScript memory (a view valid until the next prepare; empty for a table no batch prepared). */
  list(group: ParamGroup): Int32Array {
    const source = this.sources.get(group);
    return source ? source.list.subarray(0, source.count) : new Int32Array(0);
  }

  private collect(source: TableSource, n: number, itemRows: number): void {
    const core = this.core;
    const be = core.backend;
    const { stamps } = source;
    let count = 0;
    const add = (row: number) => {
      if (stamps[row] !== this.stamp) {
        stamps[row] = this.stamp;
        if (count === source.list.length) {
          const grown = new Int32Array(2 * count);
          grown.set(source.list);
          source.list = grown;
        }
        source.list[count++] = row;
      }
    };
    for (const { side, slot } of source.readers) {
      const entityRows = side === 'user' ? be.ints(core.pairs.users, n) : be.ints(core.pairs.items, itemRows);
      const tower = side === 'user' ? core.userTower : core.itemTower;
      if (slot === null || (slot.spec.kind === 'id' && slot.data.column === undefined)) {
        for (const e of entityRows) add(e);
      } else if (slot.spec.kind === 'multiHot') {
        const offsets = be.ints(slot.data.offsets!, tower.count + 1);
        const ids = be.ints(slot.data.ids!, offsets[tower.count]!);
        for (const e of entityRows) for (let i = offsets[e]!; i < offsets[e + 1]!; i++) add(ids[i]!);
      } else {
        // An id feature with an id column, or a categorical feature: the column at the batch's rows.
        const column = be.ints(slot.data.column!, tower.count);
        for (const e of entityRows) add(column[e]!);
      }
    }
    source.count = count;
  }

  free(): void {
    this.buffers.free();
  }
}
