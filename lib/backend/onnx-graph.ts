import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * A small ONNX model (a `ModelProto`, onnx/onnx.proto3) written with the protobuf wire writer: the few
 * nodes of one TensorFlow.js kernel, its inputs and outputs with symbolic dimensions, so that one
 * session serves every shape of that kernel. Only the fields these graphs use are written.
 */

/** ONNX `TensorProto.DataType` numbers of the element types kbb's kernels pass. */
export const ONNX_ELEMENT_TYPES = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 } as const;
export type OnnxElementType = keyof typeof ONNX_ELEMENT_TYPES;

/** An attribute value: `{ int }`, `{ float }`, `{ ints }` or `{ string }` (ONNX is strict about which). */
export type OnnxAttribute = { readonly int: number } | { readonly float: number } | { readonly ints: readonly number[] } | { readonly string: string };

export interface OnnxNode {
  readonly op: string;
  /** Operator set domain; '' is the standard one, 'com.microsoft' ONNX Runtime's contrib ops. */
  readonly domain?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, OnnxAttribute>>;
}

export interface OnnxValueInfo {
  readonly name: string;
  readonly type: OnnxElementType;
  /** Number of dimensions; each is symbolic, so any shape of this rank is accepted. */
  readonly rank: number;
}

export interface OnnxGraph {
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/** Standard operator set: 18 takes reduction axes as an input for every Reduce* op. */
export const ONNX_OPSET = 18;
const IR_VERSION = 8;

// AttributeProto.AttributeType
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_INTS = 7;

export function onnxModelBytes(graph: OnnxGraph): Uint8Array {
  const g = new BinaryWriter();
  for (const node of graph.nodes) {
    g.tag(1, WireType.LengthDelimited).fork();
    for (const input of node.inputs) g.tag(1, WireType.LengthDelimited).string(input);
    for (const output of node.outputs) g.tag(2, WireType.LengthDelimited).string(output);
    g.tag(4, WireType.LengthDelimited).string(node.op);
    for (const [name, value] of Object.entries(node.attributes ?? {})) writeAttribute(g, name, value);
    if (node.domain) g.tag(7, WireType.LengthDelimited).string(node.domain);
    g.join();
  }
  g.tag(2, WireType.LengthDelimited).string('kbb');
  for (const input of graph.inputs) writeValueInfo(g, 11, input);
  for (const output of graph.outputs) writeValueInfo(g, 12, output);

  const m = new BinaryWriter();
  m.tag(1, WireType.Varint).int64(IR_VERSION);
  m.tag(7, WireType.LengthDelimited).bytes(g.finish());
  m.tag(8, WireType.LengthDelimited).fork().tag(2, WireType.Varint).int64(ONNX_OPSET).join();
  if (graph.nodes.some((node) => node.domain === 'com.microsoft')) {
    m.tag(8, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('com.microsoft').tag(2, WireType.Varint).int64(1).join();
  }
  return m.finish();
}

function writeAttribute(w: BinaryWriter, name: string, value: OnnxAttribute): void {
  w.tag(5, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(name);
  if ('int' in value) {
    w.tag(3, WireType.Varint).int64(value.int);
    w.tag(20, WireType.Varint).int32(ATTRIBUTE_INT);
  } else if ('float' in value) {
    w.tag(2, WireType.Bit32).float(value.float);
    w.tag(20, WireType.Varint).int32(ATTRIBUTE_FLOAT);
  } else if ('string' in value) {
    w.tag(4, WireType.LengthDelimited).bytes(new TextEncoder().encode(value.string));
    w.tag(20, WireType.Varint).int32(ATTRIBUTE_STRING);
  } else {
    for (const item of value.ints) w.tag(8, WireType.Varint).int64(item);
    w.tag(20, WireType.Varint).int32(ATTRIBUTE_INTS);
  }
  w.join();
}

function writeValueInfo(w: BinaryWriter, field: number, info: OnnxValueInfo): void {
  w.tag(field, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(info.name);
  w.tag(2, WireType.LengthDelimited).fork(); // TypeProto
  w.tag(1, WireType.LengthDelimited).fork(); // TypeProto.Tensor
  w.tag(1, WireType.Varint).int32(ONNX_ELEMENT_TYPES[info.type]);
  w.tag(2, WireType.LengthDelimited).fork(); // TensorShapeProto
  for (let d = 0; d < info.rank; d++) w.tag(1, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).string(`${info.name}_${d}`).join();
  w.join().join().join().join();
}
