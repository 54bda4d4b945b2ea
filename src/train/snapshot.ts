// The model's trainable state as it was when taken (parameter values, optimizer state and the
// step count), kept at the cost of what training changes since, not of the model's size. fit()
// takes one before it changes anything and restores it when training fails, so a failed fit
// leaves the model exactly as it was; a values-only one holds the best epoch's weights for early
// stopping. Copies live in JavaScript memory, not in the WebAssembly heap, whose 4 GiB the model
// itself needs.
//   - A table trained by a sparse optimizer (lazy Adam, row-wise Adagrad) is journaled by row:
//     before a step's optimizer writes a row for the first time since the snapshot was taken,
//     beforeStep() copies the row's values and optimizer state (gathered by a kernel) into the
//     journal; restore() puts the journaled rows back. Rows never touched are never copied.
//   - The other groups (the dense layers and global bias, a table trained by dense Adam or SGD,
//     which update every row every step) are copied whole when taken.
//   - A group whose optimizer changes in this fit loses its old state to fresh state
//     (ParameterStore.useState): that old state is copied whole, and restore() brings it back.
// A pristine model (its seeded initial values, never trained or set) is not copied at all:
// restoring it initialises it again (its rows are still listed, for countNonFinite).
import type { TwoTower } from '../model/twotower.js';
import type { ParamGroup } from '../model/parameters.js';
import type { Floats } from '../backend/contract.js';
import type { GroupPlan } from './optimizers/index.js';
import { Buffers } from '../backend/heap.js';
import { TouchedRows } from './touched-rows.js';

/** Floats gathered per kernel call when scanning journaled rows (4 MiB of heap scratch at most). */
const SCAN_FLOATS = 1 << 20;

/** The rows of one table first touched since the snapshot, with their old values and state. */
interface Journal {
  group: ParamGroup;
  /** marks[row] = 1 once the row is journaled. */
  marks: Uint8Array;
  /** One piece per step that touched new rows: the rows, and per slot (values, then each state slot) their old floats. */
  pieces: { rows: Int32Array; slots: Floats[] }[];
  count: number;
}

/** A group copied whole: its values and (unless values only) its state slots. */
interface WholeCopy {
  group: ParamGroup;
  values: Floats | null;
  state: Floats[];
}

export class Snapshot {
  private steps = 0;
  /** Taken of a pristine model: nothing copied, restored by initialising it again. */
  private seeded = false;
  private readonly journals: Journal[] = [];
  private whole: WholeCopy[] = [];
  /** Groups whose optimizer changes in this fit: their old optimizer and state, copied whole. */
  private replaced: { group: ParamGroup; owner: string; state: Floats[] }[] = [];
  private readonly buffers: Buffers;

  /**
   * Takes the model's state before a fit with these plans (each group's optimizer: which groups
   * are journaled by row), or only its values for a best-weights copy.
   */
  constructor(
    private readonly core: TwoTower,
    private readonly plans: readonly GroupPlan[],
    private readonly valuesOnly = false,
  ) {
    this.buffers = new Buffers(core.backend);
    for (const plan of plans)
      if (plan.optimizer.sparse && plan.group.rows > 0)
        this.journals.push({ group: plan.group, marks: new Uint8Array(plan.group.rows), pieces: [], count: 0 });
    this.take();
  }

  /** Overwrites the copy with the model's current state (forgets the journal). */
  take(): void {
    const { store, backend } = this.core;
    this.steps = this.core.optimizerSteps;
    this.seeded = !this.valuesOnly && this.core.pristine;
    for (const journal of this.journals) {
      for (const piece of journal.pieces) for (const row of piece.rows) journal.marks[row] = 0;
      journal.pieces = [];
      journal.count = 0;
    }
    this.whole = [];
    this.replaced = [];
    if (this.seeded) return;
    const copy = (s: { ptr: number; floats: number }) => backend.floats(s.ptr, s.floats).slice();
    for (const plan of this.plans) {
      const group = plan.group;
      const owner = store.stateOwner(group);
      if (!this.valuesOnly && owner !== '' && owner !== plan.optimizer.name)
        this.replaced.push({ group, owner, state: store.stateOf(group).map(copy) });
      if (this.journaled(group)) continue;
      this.whole.push({
        group,
        values: store.groupValues(group).slice(),
        state: this.valuesOnly ? [] : store.stateOf(group).map(copy),
      });
    }
  }

  private journaled(group: ParamGroup): Journal | undefined {
    return this.journals.find((j) => j.group === group);
  }

  /**
   * Journals the rows the staged batch touches (TouchedRows.prepare) that no earlier step since
   * the snapshot touched: call it before every optimizer step.
   */
  beforeStep(): void {
    if (this.journals.length === 0) return;
    const touched = TouchedRows.of(this.core);
    for (const journal of this.journals) {
      const list = touched.list(journal.group);
      const { marks } = journal;
      let fresh = 0;
      for (const row of list) if (marks[row] === 0) fresh++;
      if (fresh === 0) continue;
      const rows = new Int32Array(fresh);
      let k = 0;
      for (const row of list)
        if (marks[row] === 0) {
          marks[row] = 1;
          rows[k++] = row;
        }
      journal.count += fresh;
      const slots = this.seeded ? [] : this.gather(journal.group, rows);
      journal.pieces.push({ rows, slots });
    }
  }

  /** The group's values and (unless values only) state slots: address and floats per row. */
  private slotsOf(group: ParamGroup): { ptr: number; width: number; floats: number }[] {
    const store = this.core.store;
    const slots = [{ ptr: store.groupPointers(group).values, width: group.width, floats: group.size }];
    if (!this.valuesOnly)
      for (const s of store.stateOf(group))
        // Adam's moments have the values' shape; row-wise Adagrad's accumulator is one float a row.
        slots.push({ ptr: s.ptr, width: s.floats >= group.rows * group.width ? group.width : 1, floats: s.floats });
    return slots;
  }

  /** The rows' current floats of every slot, gathered in the heap by a kernel and copied out. */
  private gather(group: ParamGroup, rows: Int32Array): Floats[] {
    const be = this.core.backend;
    const rowsPtr = this.buffers.get('rows', rows.length * 4);
    be.ints(rowsPtr, rows.length).set(rows);
    return this.slotsOf(group).map(({ ptr, width }) => {
      const out = this.buffers.get('out', rows.length * width * be.floatBytes);
      be.kernels.gather_rows(out, ptr, rowsPtr, rows.length, width, width);
      return be.floats(out, rows.length * width).slice();
    });
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
    const be = core.backend;
    core.write((store) => {
      for (const journal of this.journals) {
        const slots = this.slotsOf(journal.group);
        for (const piece of journal.pieces)
          piece.slots.forEach((old, s) => {
            const { ptr, width, floats } = slots[s]!;
            const target = be.floats(ptr, floats);
            piece.rows.forEach((row, i) => target.set(old.subarray(i * width, (i + 1) * width), row * width));
          });
      }
      for (const { group, values, state } of this.whole) {
        if (values) store.writableGroup(group).set(values);
        if (this.valuesOnly) continue;
        // A group that had no state before this fit gets its fresh state zeroed again.
        store.stateOf(group).forEach((s, j) => {
          if (state[j] && state[j].length === s.floats) be.floats(s.ptr, s.floats).set(state[j]);
          else be.kernels.zero_f32(s.ptr, s.floats);
        });
      }
      for (const { group, owner, state } of this.replaced) {
        store.useState(
          group,
          owner,
          state.map((s) => s.length),
        );
        store.stateOf(group).forEach((s, j) => be.floats(s.ptr, s.floats).set(state[j]!));
      }
      if (!this.valuesOnly) core.optimizerSteps = this.steps;
    });
  }

  /**
   * Parameters that are NaN or infinite among what can have changed since the snapshot: the
   * groups copied whole, and the journaled rows (gathered in chunks, then counted by a kernel).
   */
  countNonFinite(): number {
    const { store, backend: be } = this.core;
    let bad = 0;
    for (const plan of this.plans)
      if (!this.journaled(plan.group)) bad += be.kernels.count_nonfinite(store.groupPointers(plan.group).values, plan.group.size);
    for (const journal of this.journals) {
      const { group } = journal;
      const values = store.groupPointers(group).values;
      // Most of the table touched: one scan of it is cheaper than gathering its rows.
      if (journal.count * 2 > group.rows) {
        bad += be.kernels.count_nonfinite(values, group.size);
        continue;
      }
      const chunk = Math.max(1, Math.floor(SCAN_FLOATS / group.width));
      for (const piece of journal.pieces)
        for (let at = 0; at < piece.rows.length; at += chunk) {
          const n = Math.min(chunk, piece.rows.length - at);
          const rowsPtr = this.buffers.get('rows', n * 4);
          be.ints(rowsPtr, n).set(piece.rows.subarray(at, at + n));
          const out = this.buffers.get('out', n * group.width * be.floatBytes);
          be.kernels.gather_rows(out, values, rowsPtr, n, group.width, group.width);
          bad += be.kernels.count_nonfinite(out, n * group.width);
        }
    }
    return bad;
  }

  /** What the snapshot holds: rows journaled and bytes copied (journal and whole copies). */
  size(): { rows: number; journalBytes: number; wholeBytes: number } {
    let rows = 0,
      journalBytes = 0,
      wholeBytes = 0;
    for (const journal of this.journals) {
      rows += journal.count;
      for (const piece of journal.pieces) for (const s of piece.slots) journalBytes += s.byteLength;
    }
    for (const { values, state } of this.whole) {
      wholeBytes += values?.byteLength ?? 0;
      for (const s of state) wholeBytes += s.byteLength;
    }
    for (const { state } of this.replaced) for (const s of state) wholeBytes += s.byteLength;
    return { rows, journalBytes, wholeBytes };
  }

  free(): void {
    this.whole = [];
    this.replaced = [];
    for (const journal of this.journals) journal.pieces = [];
    this.buffers.free();
  }
}
