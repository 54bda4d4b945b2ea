// A tower as an ONNX graph (opset 13, the lowest with ReduceSum's axes as an input and Softmax
// over one axis): the tower's raw inputs to its embedding, with the score bias as a second
// output. Inputs, one or two per feature:
//   id, categorical  `<name>`          int64 [N]       the table row (for an id feature without
//                                                      an id column: the entity's row)
//   numeric          `<name>`          float [N, size]
//   multi-hot        `<name>_ids`      int64 [N, L]    the set's ids, padded with vocabSize
//                    `<name>_weights`  float [N, L]    per-id weights: the feature column's (an
//                                                      interaction set weighted 'inverseSqrt',
//                                                      such as the recipe's "rated", has 1/√n
//                                                      each), else 1; 0 on padding — mean and
//                                                      sum pooling only
// Outputs: `embedding` float [N, dim]; with biases `bias` float [N] (users: the global bias plus
// the user's; items: the item's), indexed by the id feature's input (or `row` int64 [N] when the
// id feature reads an id column). The graph computes what Tower.forward does, op for op.
// towerInputs builds these inputs for rows of a model, from the tower's own feature table.
import { fail } from '../errors.js';
import type { TwoTower } from '../model/twotower.js';
import type { ParamBlock } from '../model/parameters.js';
import type { FeatureSpec } from '../config/model.js';
import type { FeatureTable, MultiHotColumn } from '../config/feature-table.js';
import {
  encodeOnnx,
  ONNX_FLOAT,
  ONNX_INT64,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValue,
} from '../io/onnx-writer.js';

/** The ONNX opset the exported graphs use. */
export const ONNX_OPSET = 13;

class Graph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValue[] = [];
  readonly outputs: OnnxValue[] = [];
  private count = 0;

  op(op: string, inputs: string[], attributes?: OnnxAttribute[]): string {
    const out = `${op.toLowerCase()}_${this.count++}`;
    this.nodes.push({ op, inputs, outputs: [out], attributes });
    return out;
  }
  floats(name: string, values: Float32Array, dims: number[]): string {
    this.initializers.push({ name, dims, floats: values });
    return name;
  }
  ints(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], int64s: values });
    return name;
  }
  input(name: string, type: OnnxValue['type'], dims: (number | string)[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }
}

/** The ONNX model of one tower of `core` (see the file's header for its inputs and outputs). */
export function towerOnnx(core: TwoTower, side: 'user' | 'item', version: string): Uint8Array {
  const tower = side === 'user' ? core.userTower : core.itemTower;
  const store = core.store;
  const values = (block: ParamBlock) => Float32Array.from(store.values(block));
  const g = new Graph();
  const axis1 = g.ints('axis_1', [1]);
  const axis2 = g.ints('axis_2', [2]);
  const one = g.floats('one', Float32Array.of(1), []);
  const columns: string[] = [];
  let rowInput: string | undefined;
  for (const slot of tower.slots) {
    const spec = slot.spec;
    if (spec.kind === 'numeric') {
      columns.push(g.input(spec.name, ONNX_FLOAT, ['N', spec.size]));
      continue;
    }
    const table = slot.params.table!;
    if (spec.kind === 'id' || spec.kind === 'categorical') {
      const ids = g.input(spec.name, ONNX_INT64, ['N']);
      if (spec.kind === 'id' && slot.data.column === undefined) rowInput = ids;
      columns.push(
        g.op('Gather', [g.floats(`${spec.name}.table`, values(table), [...table.shape]), ids], [{ name: 'axis', i: 0 }]),
      );
      continue;
    }
    // Multi-hot: the table with a zero row appended at index vocabSize, the padding id.
    const padded = new Float32Array((spec.vocabSize + 1) * spec.dim);
    padded.set(store.values(table));
    const ids = g.input(`${spec.name}_ids`, ONNX_INT64, ['N', `${spec.name}_length`]);
    const rows = g.op(
      'Gather',
      [g.floats(`${spec.name}.table`, padded, [spec.vocabSize + 1, spec.dim]), ids],
      [{ name: 'axis', i: 0 }],
    );
    const pad = g.ints(`${spec.name}.pad`, [spec.vocabSize]);
    const valid = g.op('Cast', [g.op('Not', [g.op('Equal', [ids, pad])])], [{ name: 'to', i: ONNX_FLOAT }]);
    if (spec.pooling === 'attention') {
      // α = softmax over the set of ⟨a, e_j⟩ (padding masked out; an empty set gives zeros).
      const query = g.floats(`${spec.name}.attention`, values(slot.params.attention!), [spec.dim]);
      const scores = g.op('ReduceSum', [g.op('Mul', [rows, query]), axis2], [{ name: 'keepdims', i: 0 }]);
      const masked = g.op('Add', [
        scores,
        g.op('Mul', [g.op('Sub', [valid, one]), g.floats(`${spec.name}.big`, Float32Array.of(1e30), [])]),
      ]);
      const alpha = g.op('Mul', [g.op('Softmax', [masked], [{ name: 'axis', i: 1 }]), valid]);
      columns.push(
        g.op('ReduceSum', [g.op('Mul', [rows, g.op('Unsqueeze', [alpha, axis2])]), axis1], [{ name: 'keepdims', i: 0 }]),
      );
      continue;
    }
    const weights = g.input(`${spec.name}_weights`, ONNX_FLOAT, ['N', `${spec.name}_length`]);
    const sum = g.op(
      'ReduceSum',
      [g.op('Mul', [rows, g.op('Unsqueeze', [weights, axis2])]), axis1],
      [{ name: 'keepdims', i: 0 }],
    );
    if (spec.pooling === 'sum') {
      columns.push(sum);
    } else {
      // Mean: divided by the number of ids in the set (not the weights' sum); an empty set stays 0.
      const count = g.op('ReduceSum', [valid, axis1], [{ name: 'keepdims', i: 1 }]);
      columns.push(g.op('Div', [sum, g.op('Max', [count, one])]));
    }
  }
  // combine: 'sum' adds the features' vectors (Tower.mixWidth) instead of setting them side by side.
  let x =
    columns.length === 1
      ? columns[0]!
      : tower.config.combine === 'sum'
        ? g.op('Sum', columns)
        : g.op('Concat', columns, [{ name: 'axis', i: 1 }]);
  for (const layer of tower.layers) {
    x = g.op('Add', [
      g.op('MatMul', [x, g.floats(layer.w.name, values(layer.w), [layer.inWidth, layer.outWidth])]),
      g.floats(layer.b.name, values(layer.b), [layer.outWidth]),
    ]);
    if (layer.relu) x = g.op('Relu', [x]);
  }
  g.nodes.push({ op: 'Identity', inputs: [x], outputs: ['embedding'] });
  g.outputs.push({ name: 'embedding', type: ONNX_FLOAT, dims: ['N', core.dim] });
  const own = side === 'user' ? core.bias.user : core.bias.item;
  const global = side === 'user' ? core.bias.global : undefined;
  if (own || global) {
    rowInput ??= g.input('row', ONNX_INT64, ['N']);
    let bias = own
      ? g.op('Gather', [g.floats(own.name, values(own), [own.size]), rowInput], [{ name: 'axis', i: 0 }])
      : undefined;
    if (global) {
      const b = g.floats(global.name, values(global), []);
      bias = bias
        ? g.op('Add', [bias, b])
        : g.op('Mul', [g.op('Cast', [rowInput], [{ name: 'to', i: ONNX_FLOAT }]), g.floats('zero', Float32Array.of(0), [])]);
      if (!own) bias = g.op('Add', [bias, b]);
    }
    g.nodes.push({ op: 'Identity', inputs: [bias!], outputs: ['bias'] });
    g.outputs.push({ name: 'bias', type: ONNX_FLOAT, dims: ['N'] });
  }
  if (g.inputs.length === 0) fail('BAD_CONFIG', `the ${side} tower reads no input`);
  return encodeOnnx({
    producer: 'twotower',
    producerVersion: version,
    opset: ONNX_OPSET,
    graphName: `${side}_tower`,
    doc: `twotower ${side} tower: raw inputs → embedding (dim ${core.dim})`,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: g.inputs,
    outputs: g.outputs,
  });
}

/**
 * One input of an exported tower: a typed array with its shape, as onnxruntime's Tensor takes
 * them (`new ort.Tensor(x.type, x.data, x.dims)`, in onnxruntime-node and onnxruntime-web alike).
 */
export type OnnxInput =
  { type: 'int64'; data: BigInt64Array; dims: number[] } | { type: 'float32'; data: Float32Array; dims: number[] };

/**
 * The graph inputs of a tower's features for `rows` of its feature table (see the file's
 * header): an id feature's row (or its id column's value), a categorical feature's category,
 * numeric values, and each multi-hot set padded with vocabSize to the longest set among the rows,
 * with its weights — the column's own (1/√n for an 'inverseSqrt' interaction set), else 1 — and
 * 0 on padding. `row` adds the `row` input (the graph has it when the id feature reads an id
 * column and the tower has a bias).
 */
export function featureInputs(
  specs: readonly FeatureSpec[],
  table: FeatureTable | undefined,
  rows: readonly number[],
  row = false,
): Record<string, OnnxInput> {
  const out: Record<string, OnnxInput> = {};
  const n = rows.length;
  const int64 = (data: ArrayLike<number>, dims: number[]): OnnxInput => ({
    type: 'int64',
    data: BigInt64Array.from(Array.from(data), BigInt),
    dims,
  });
  for (const spec of specs) {
    const column = table?.columns[spec.name];
    if (spec.kind === 'id') out[spec.name] = int64(column ? rows.map((r) => (column as Int32Array)[r]!) : rows, [n]);
    else if (spec.kind === 'categorical')
      out[spec.name] = int64(
        rows.map((r) => (column as Int32Array)[r]!),
        [n],
      );
    else if (spec.kind === 'numeric') {
      const values = column as Float32Array;
      const data = new Float32Array(n * spec.size);
      rows.forEach((r, i) => data.set(values.subarray(r * spec.size, (r + 1) * spec.size), i * spec.size));
      out[spec.name] = { type: 'float32', data, dims: [n, spec.size] };
    } else {
      const bag = column as MultiHotColumn;
      const size = (r: number) => bag.offsets[r + 1]! - bag.offsets[r]!;
      const length = Math.max(1, ...rows.map(size));
      const ids = new BigInt64Array(n * length).fill(BigInt(spec.vocabSize));
      const weights = new Float32Array(n * length);
      rows.forEach((r, i) => {
        for (let q = bag.offsets[r]!, at = i * length; q < bag.offsets[r + 1]!; q++, at++) {
          ids[at] = BigInt(bag.ids[q]!);
          weights[at] = bag.weights ? bag.weights[q]! : 1;
        }
      });
      out[`${spec.name}_ids`] = { type: 'int64', data: ids, dims: [n, length] };
      if (spec.pooling !== 'attention') out[`${spec.name}_weights`] = { type: 'float32', data: weights, dims: [n, length] };
    }
  }
  if (row) out.row = int64(rows, [n]);
  return out;
}

/**
 * The inputs of `core`'s exported `side` tower (towerOnnx) for its entity `rows`, named as the
 * graph names them; ONNX Runtime then computes the package's embeddings of those rows.
 */
export function towerInputs(core: TwoTower, side: 'user' | 'item', rows: readonly number[]): Record<string, OnnxInput> {
  core.live();
  const tower = side === 'user' ? core.userTower : core.itemTower;
  for (const r of rows)
    if (!Number.isInteger(r) || r < 0 || r >= tower.count)
      fail('OUT_OF_RANGE', `row ${r} is not a${side === 'item' ? 'n' : ''} ${side} row: the model has rows 0…${tower.count - 1}`);
  const specs = (side === 'user' ? core.config.user : core.config.item).features;
  const table = tower.table;
  const biased = Boolean(side === 'user' ? core.bias.user || core.bias.global : core.bias.item);
  // As towerOnnx: the id feature's input indexes the bias unless that feature reads an id column.
  const rowsById = specs.some((s) => s.kind === 'id' && table?.columns[s.name] === undefined);
  return featureInputs(specs, table, rows, biased && !rowsById);
}

/** What model.onnxInputs takes: a tower, and its entities by id or by row. */
export interface OnnxInputsOptions {
  /** Which tower's inputs. */
  tower: 'user' | 'item';
  /** The entities in your ids (as recommend takes them; row indices for a model without a vocabulary). */
  ids?: readonly (string | number)[];
  /** Or the entities by row index (0 … count − 1; row 0 of a vocabulary is the unknown id). */
  rows?: readonly number[];
}

/** model.onnxInputs: options checked, ids mapped to rows by `rowOf` (the model's own id lookup). */
export function onnxInputs(
  core: TwoTower,
  options: OnnxInputsOptions,
  rowOf: (side: 'user' | 'item', id: string | number) => number,
): Record<string, OnnxInput> {
  const tower = options?.tower;
  if (tower !== 'user' && tower !== 'item') fail('BAD_OPTION', `tower must be 'user' or 'item', got ${JSON.stringify(tower)}`);
  const { ids, rows } = options;
  if ((ids === undefined) === (rows === undefined)) fail('BAD_OPTION', 'onnxInputs takes ids or rows (one of them)');
  const list = ids ?? rows;
  if (!Array.isArray(list)) fail('BAD_INPUT', `onnxInputs: ${ids ? 'ids' : 'rows'} must be an array`);
  return towerInputs(core, tower, ids ? ids.map((id) => rowOf(tower, id)) : rows!);
}
