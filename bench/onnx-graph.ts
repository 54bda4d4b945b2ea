// The ONNX graph the ONNX Runtime contenders run: scores = queries · itemsT (MatMul, items stored
// pre-transposed as an initializer), then TopK(k) along the items. Built here with onnx-proto.
import onnxProto from 'onnx-proto';

// onnx-proto's generated classes are untyped here: the builder below is checked by running it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { onnx } = onnxProto as unknown as { onnx: Record<string, any> };

export function matmulTopKModel(itemsT: Float32Array, dim: number, n: number, k: number): Uint8Array {
  const T = onnx.TensorProto.DataType;
  const tensorType = (elem: number, dims: (number | string)[]) =>
    onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: elem,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        }),
      }),
    });
  const graph = onnx.GraphProto.create({
    name: 'topk',
    node: [
      onnx.NodeProto.create({ opType: 'MatMul', input: ['queries', 'itemsT'], output: ['scores'] }),
      onnx.NodeProto.create({
        opType: 'TopK',
        input: ['scores', 'k'],
        output: ['values', 'indices'],
        attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 })],
      }),
    ],
    initializer: [
      onnx.TensorProto.create({
        name: 'itemsT',
        dims: [dim, n],
        dataType: T.FLOAT,
        rawData: new Uint8Array(itemsT.buffer, itemsT.byteOffset, itemsT.byteLength),
      }),
      onnx.TensorProto.create({ name: 'k', dims: [1], dataType: T.INT64, int64Data: [k] }),
    ],
    input: [onnx.ValueInfoProto.create({ name: 'queries', type: tensorType(T.FLOAT, ['batch', dim]) })],
    output: [
      onnx.ValueInfoProto.create({ name: 'values', type: tensorType(T.FLOAT, ['batch', k]) }),
      onnx.ValueInfoProto.create({ name: 'indices', type: tensorType(T.INT64, ['batch', k]) }),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'twotower-bench',
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
