// The contract of a feature kind: everything a tower needs to read one kind of feature, in one
// module per kind (id.ts, categorical.ts, multi-hot.ts, numeric.ts), listed in index.ts. A new
// kind is its spec type in src/config/model.ts, a module implementing FeatureKind, and a line in
// the registry; the tower, the model-file format and cold start need no edits.
import type { Backend, Kernels } from '../../backend/contract.js';
import type { FeatureSpec, TowerSide } from '../../config/model.js';
import type { FeatureColumn } from '../../config/feature-table.js';
import type { ParamBlock, ParameterStore } from '../parameters.js';
import type { ByRows } from '../row-split.js';

/** One feature of one tower, as the tower holds it. */
export interface FeatureSlot<S extends FeatureSpec = FeatureSpec> {
  readonly spec: S;
  /** First column of this feature in the tower's input X0. */
  readonly column: number;
  /** Its parameter blocks by role (embedding table, attention vector), declared by the kind. */
  readonly params: Readonly<Record<string, ParamBlock>>;
  /** Its uploaded column data by role (heap pointers); empty until the tower's features are set. */
  data: Record<string, number>;
  /** i32 scratch per batch row (0 unless the kind asks for `rowScratch`). */
  rowIds: number;
}

/** The batch a forward or backward call works on. */
export interface FeaturePass {
  be: Backend;
  k: Kernels;
  store: ParameterStore;
  /** i32 entity indices of the batch's rows. */
  rows: number;
  n: number;
  /** Byte address of this feature's first column in X0 (forward) or in dX0 (backward). */
  at: number;
  /** Row stride of X0 / dX0, in floats. */
  ld: number;
  /** i32 per row: the item each row is scored against (history features may leave it out), or 0. */
  scored: number;
  /** Runs a row-parallel kernel on the model's threads (row-split.ts), with the bits of one thread. */
  byRows: ByRows;
}

export interface FeatureKind<S extends FeatureSpec = FeatureSpec> {
  readonly kind: S['kind'];
  /** Throws BAD_CONFIG, naming `where`, for an invalid field of the spec. */
  validateSpec(spec: S, where: string, side: TowerSide): void;
  /** Columns it adds to the tower's input. */
  width(spec: S): number;
  /** Declares its parameter blocks; `prefix` is "<side>.<feature name>". */
  declare(spec: S, prefix: string, store: ParameterStore, embeddingStd: number): Record<string, ParamBlock>;
  /** Whether a feature table must carry a column for it (an id feature's is optional). */
  readonly needsColumn: boolean;
  /** Throws a TwoTowerError naming `where`, the index and the value for a column that does not fit `count` rows. */
  validateColumn(spec: S, column: FeatureColumn | undefined, count: number, where: string): void;
  /** Copies a validated column into the heap; returns the pointers by role. */
  upload(be: Backend, spec: S, column: FeatureColumn | undefined): Record<string, number>;
  /** Needs an i32 per batch row of scratch (`slot.rowIds`). */
  readonly rowScratch: boolean;
  /** A column for `rows` entities nothing is known about (cold start): id 0, category 0, an empty set, zeros. */
  unknownColumn(spec: S, rows: number): FeatureColumn | undefined;
  /** Writes the feature's columns of X0 for the pass's rows. */
  forward(slot: FeatureSlot<S>, pass: FeaturePass): void;
  /** Adds the gradient of its X0 columns (at pass.at) into its parameters' gradients. Absent: nothing to learn. */
  backward?(slot: FeatureSlot<S>, pass: FeaturePass): void;
}
