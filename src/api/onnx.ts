// A tower as an ONNX graph (opset 13, the lowest with ReduceSum's axes as an input and Softmax
// over one axis): the tower's raw inputs to its embedding, with the score bias as a second
// output. Inputs, one or two per feature:
//   id, categorical  `<name>`          int64 [N]       the table row (for an id feature without
//                                                      an id column: the entity's row)
//   numeric          `<name>`          float [N, size]
//   multi-hot        `<name>_ids`      int64 [N, L]    the set's ids, padded with vocabSize
//                    `<name>_weights`  float [N, L]    per-id weights (1; 0 on padding) — mean
//                                                      and sum pooling only
// Outputs: `embedding` float [N, dim]; with biases `bias` float [N] (users: the global bias plus
// the user's; items: the item's), indexed by the id feature's input (or `row` int64 [N] when the
// id feature reads an id column). The graph computes what Tower.forward does, op for op.
import { fail } from '../errors.js';
import type { TwoTower } from '../model/twotower.js';
import type { ParamBlock } from '../model/parameters.js';
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
  let x = columns.length === 1 ? columns[0]! : g.op('Concat', columns, [{ name: 'axis', i: 1 }]);
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
