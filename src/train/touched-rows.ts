// Which rows of each embedding table the staged batch touched: what a sparse optimizer (lazy
// Adam) updates, and the only rows whose gradients can be non-zero. Found from the batch's
// entity rows and each feature's data: an id feature reads the batch's own rows (or its id
// column, gathered into rowIds by forward), a categorical feature its gathered categories, a
// multi-hot feature every id in the bags of the batch's rows. Each row listed once (stamps).
import type { TwoTower } from '../model/twotower.js';
import type { ParamGroup } from '../model/parameters.js';
import type { FeatureSlot } from '../model/features/index.js';
import { Buffers } from '../backend/heap.js';

interface TableSource {
  side: 'user' | 'item';
  slot: FeatureSlot;
  /** stamps[row] = the batch that last listed the row. */
  stamps: Int32Array;
  /** This batch's distinct rows (grown when needed, reused across batches). */
  list: Int32Array;
}

export class TouchedRows {
  private readonly sources = new Map<ParamGroup, TableSource>();
  private readonly buffers: Buffers;
  private stamp = 0;

  constructor(private readonly core: TwoTower) {
    this.buffers = new Buffers(core.backend);
    for (const [side, tower] of [
      ['user', core.userTower],
      ['item', core.itemTower],
    ] as const) {
      for (const slot of tower.slots) {
        const table = slot.params.table;
        const group = table && core.store.groups.find((g) => g.kind === 'embedding' && g.blocks[0] === table);
        if (group) this.sources.set(group, { side, slot, stamps: new Int32Array(table.shape[0]!), list: new Int32Array(0) });
      }
    }
  }

  /** Starts a new batch: every table's set is empty again. */
  next(): void {
    this.stamp += 1;
  }

  /** The distinct rows of `group` the n staged rows touched, uploaded to the heap (valid until the next call). */
  rows(group: ParamGroup, n: number): { ptr: number; count: number } {
    const source = this.sources.get(group)!;
    const be = this.core.backend;
    const { slot, stamps } = source;
    const spec = slot.spec;
    let count = 0;
    const add = (row: number) => {
      if (stamps[row] !== this.stamp) {
        stamps[row] = this.stamp;
        if (count === source.list.length) {
          const grown = new Int32Array(Math.max(64, 2 * count));
          grown.set(source.list);
          source.list = grown;
        }
        source.list[count++] = row;
      }
    };
    const entityRows = be.ints(source.side === 'user' ? this.core.pairs.users : this.core.pairs.items, n);
    if (spec.kind === 'multiHot') {
      const count = (source.side === 'user' ? this.core.userTower : this.core.itemTower).count;
      const offsets = be.ints(slot.data.offsets!, count + 1);
      const ids = be.ints(slot.data.ids!, offsets[count]!);
      for (const e of entityRows) for (let i = offsets[e]!; i < offsets[e + 1]!; i++) add(ids[i]!);
    } else if (spec.kind === 'id' && slot.data.column === undefined) {
      for (const e of entityRows) add(e);
    } else {
      for (const row of be.ints(slot.rowIds, n)) add(row);
    }
    const ptr = this.buffers.get(group.name, Math.max(1, count) * 4);
    be.ints(ptr, count).set(source.list.subarray(0, count));
    return { ptr, count };
  }

  free(): void {
    this.buffers.free();
  }
}
