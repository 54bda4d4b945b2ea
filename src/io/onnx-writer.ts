// A minimal writer of ONNX model files: the protobuf wire format (varints, length-delimited
// fields, packed repeated int64, fixed32 floats) for the handful of ONNX messages a tower's graph
// needs — ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and the
// type messages — with the field numbers of onnx/onnx.proto3. Hand-written (about 150 lines)
// rather than a protobuf runtime in the package: test/onnx.test.ts decodes its output with
// onnx-proto and runs it in ONNX Runtime.

/** ONNX TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** An attribute of a node: an int, a float, or a list of ints. */
export type OnnxAttribute = { name: string; i: number } | { name: string; f: number } | { name: string; ints: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: OnnxAttribute[];
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** FLOAT data (raw little-endian) or INT64 data. */
  floats?: Float32Array;
  int64s?: number[];
}

/** A graph input or output: element type and dims (numbers, or names of free dimensions). */
export interface OnnxValue {
  name: string;
  type: typeof ONNX_FLOAT | typeof ONNX_INT64;
  dims: (number | string)[];
}

export interface OnnxModel {
  producer: string;
  producerVersion: string;
  opset: number;
  graphName: string;
  doc: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

/** Protobuf output as a list of byte chunks: large tensors are referenced, not copied, until the end. */
class Writer {
  readonly parts: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }
  varint(value: number | bigint): void {
    // Negative int64 values are their 64-bit two's complement (ten bytes).
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }
  tag(field: number, wire: 0 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }
  raw(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.push(data);
  }
  string(field: number, text: string): void {
    this.raw(field, new TextEncoder().encode(text));
  }
  message(field: number, write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.tag(field, 2);
    this.varint(inner.length);
    for (const part of inner.parts) this.push(part);
  }
  float(field: number, value: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
  }
  packedInts(field: number, values: readonly number[]): void {
    const inner = new Writer();
    for (const v of values) inner.varint(v);
    this.tag(field, 2);
    this.varint(inner.length);
    for (const part of inner.parts) this.push(part);
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

function tensor(w: Writer, t: OnnxTensor): void {
  w.packedInts(1, t.dims);
  w.int(2, t.floats ? ONNX_FLOAT : ONNX_INT64);
  if (t.int64s) w.packedInts(7, t.int64s);
  w.string(8, t.name);
  if (t.floats) w.raw(9, new Uint8Array(t.floats.buffer, t.floats.byteOffset, t.floats.byteLength).slice());
}

function value(w: Writer, v: OnnxValue): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, v.type);
      tt.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function node(w: Writer, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(4, n.op);
  for (const a of n.attributes ?? []) {
    w.message(5, (attr) => {
      attr.string(1, a.name);
      if ('i' in a) {
        attr.int(3, a.i);
        attr.int(20, 2); // INT
      } else if ('f' in a) {
        attr.float(2, a.f);
        attr.int(20, 1); // FLOAT
      } else {
        attr.packedInts(8, a.ints);
        attr.int(20, 7); // INTS
      }
    });
  }
}

/** The bytes of an ONNX model file (IR version 7, the default ONNX domain at `opset`). */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const w = new Writer();
  w.int(1, 7); // ir_version: 7 goes with opset 13
  w.string(2, model.producer);
  w.string(3, model.producerVersion);
  w.string(6, model.doc);
  w.message(7, (g) => {
    for (const n of model.nodes) g.message(1, (x) => node(x, n));
    g.string(2, model.graphName);
    for (const t of model.initializers) g.message(5, (x) => tensor(x, t));
    for (const v of model.inputs) g.message(11, (x) => value(x, v));
    for (const v of model.outputs) g.message(12, (x) => value(x, v));
  });
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, model.opset);
  });
  return w.finish();
}
