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
  /** In the heap, i32 per table row: stamps[row] = the batch that last listed the row. */
  stamps: number;
  /** Rows the stamps cover (the table's rows when they were made). */
  stampRows: number;
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
          stamps: this.stampsOf(group),
          stampRows: group.rows,
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

  /** A table's stamps, zero (no batch yet). */
  private stampsOf(group: ParamGroup): number {
    const ptr = this.buffers.get(`${group.name}:stamps`, group.rows * 4);
    this.core.backend.ints(ptr, group.rows).fill(0);
    return ptr;
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
      const list = be.ints(source.ptr, count);
      for (let i = 0; i < count; i++) map[list[i]!] = i;
      if (source.list.length < count) source.list = new Int32Array(Math.max(count, 2 * source.list.length));
      source.list.set(list);
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

  /** Lists the distinct rows the batch's readers of `source` touch, in the heap at source.ptr (kernels touch_rows, touch_bag_rows). */
  private collect(source: TableSource, n: number, itemRows: number): void {
    const core = this.core;
    const be = core.backend;
    const k = be.kernels;
    if (source.stampRows < source.group.rows) {
      source.stamps = this.stampsOf(source.group);
      source.stampRows = source.group.rows;
    }
    // Room for every row the readers can list: their batch rows, or the ids of their rows' bags.
    let bound = 0;
    for (const { side, slot } of source.readers) {
      const rows = side === 'user' ? n : itemRows;
      if (slot?.spec.kind !== 'multiHot') bound += rows;
      else {
        const tower = side === 'user' ? core.userTower : core.itemTower;
        const offsets = be.ints(slot.data.offsets!, tower.count + 1);
        const entityRows = be.ints(side === 'user' ? core.pairs.users : core.pairs.items, rows);
        for (let r = 0; r < rows; r++) bound += offsets[entityRows[r]! + 1]! - offsets[entityRows[r]!]!;
      }
    }
    source.ptr = this.buffers.get(source.group.name, Math.max(1, Math.min(bound, source.group.rows)) * 4);
    let count = 0;
    for (const { side, slot } of source.readers) {
      const rows = side === 'user' ? n : itemRows;
      const entityRows = side === 'user' ? core.pairs.users : core.pairs.items;
      if (slot === null || (slot.spec.kind === 'id' && slot.data.column === undefined)) {
        count = k.touch_rows(source.ptr, source.stamps, this.stamp, 0, entityRows, rows, count);
      } else if (slot.spec.kind === 'multiHot') {
        count = k.touch_bag_rows(
          source.ptr,
          source.stamps,
          this.stamp,
          slot.data.offsets!,
          slot.data.ids!,
          entityRows,
          rows,
          count,
        );
      } else {
        // An id feature with an id column, or a categorical feature: the column at the batch's rows.
        count = k.touch_rows(source.ptr, source.stamps, this.stamp, slot.data.column!, entityRows, rows, count);
      }
    }
    source.count = count;
  }

  free(): void {
    this.buffers.free();
  }
}
