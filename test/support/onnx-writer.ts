/**
 * A minimal ONNX writer for tests: encodes a ModelProto by hand (varints and
 * length-delimited fields), independently of the protobufjs schema src/load/onnx-schema.ts
 * decodes with, so that a field number wrong there is not repeated here. Only the fields
 * of onnx.proto the tests need:
 *
 *   ModelProto        1 ir_version, 2 producer_name, 7 graph, 8 opset_import
 *   OperatorSetId     1 domain, 2 version
 *   GraphProto        1 node, 2 name, 5 initializer, 11 input, 12 output
 *   NodeProto         1 input, 2 output, 3 name, 4 op_type, 5 attribute
 *   AttributeProto    1 name, 2 f, 3 i, 4 s, 7 floats, 9 strings, 20 type
 *   TensorProto       1 dims, 2 data_type, 4 float_data, 8 name, 9 raw_data,
 *                     13 external_data (1 key, 2 value), 14 data_location
 *   ValueInfoProto    1 name, 2 type; TypeProto 1 tensor_type; Tensor 1 elem_type, 2 shape;
 *                     TensorShapeProto 1 dim; Dimension 1 dim_value, 2 dim_param
 */

const VARINT = 0;
const FIXED32 = 5;
const LENGTH = 2;

export function varint(n: number | bigint): number[] {
  // Negative int64 values are written as their 64-bit two's complement, as protobuf does.
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

export class ProtoMessage {
  private parts: Uint8Array[] = [];
  private tag(field: number, wire: number): number[] {
    return varint((field << 3) | wire);
  }
  int(field: number, value: number | bigint): this {
    this.parts.push(Uint8Array.from([...this.tag(field, VARINT), ...varint(value)]));
    return this;
  }
  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.parts.push(Uint8Array.from(this.tag(field, FIXED32)), b);
    return this;
  }
  bytes(field: number, data: Uint8Array): this {
    this.parts.push(Uint8Array.from([...this.tag(field, LENGTH), ...varint(data.length)]), data);
    return this;
  }
  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }
  message(field: number, m: ProtoMessage): this {
    return this.bytes(field, m.encode());
  }
  encode(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_FLOAT16 = 10;
export const ONNX_DOUBLE = 11;

export interface OnnxTensor {
  name: string;
  dims: (number | bigint)[];
  /** float32 values, written as raw_data (or float_data with `asFloatData`). */
  values?: ArrayLike<number>;
  /** Bytes written as raw_data verbatim, with `dataType`. */
  raw?: Uint8Array;
  dataType?: number;
  asFloatData?: boolean;
  /** Stored outside: external_data entries (location, offset, length) and data_location EXTERNAL. */
  external?: Record<string, string>;
}

export function tensorMessage(t: OnnxTensor): ProtoMessage {
  const m = new ProtoMessage();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.dataType ?? ONNX_FLOAT);
  if (t.values && t.asFloatData) {
    const packed = new Uint8Array(Float32Array.from(t.values).buffer);
    m.bytes(4, packed);
  }
  m.string(8, t.name);
  if (t.raw) m.bytes(9, t.raw);
  else if (t.values && !t.asFloatData) m.bytes(9, new Uint8Array(Float32Array.from(t.values).buffer));
  if (t.external) {
    for (const [key, value] of Object.entries(t.external)) m.message(13, new ProtoMessage().string(1, key).string(2, value));
    m.int(14, 1);
  }
  return m;
}

export type OnnxAttribute = { name: string } & ({ int: number } | { float: number } | { text: string } | { texts: string[] } | { floats: number[] });

function attributeMessage(a: OnnxAttribute): ProtoMessage {
  const m = new ProtoMessage().string(1, a.name);
  if ("int" in a) return m.int(3, a.int).int(20, 2);
  if ("float" in a) return m.float(2, a.float).int(20, 1);
  if ("text" in a) return m.string(4, a.text).int(20, 3);
  if ("floats" in a) return m.bytes(7, new Uint8Array(Float32Array.from(a.floats).buffer)).int(20, 6);
  for (const s of a.texts) m.string(9, s);
  return m.int(20, 8);
}

export interface OnnxNode {
  op: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attributes?: OnnxAttribute[];
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims?: (number | string)[] }[];
  opset?: number;
}

function valueInfo(name: string, dims: (number | string)[] | undefined): ProtoMessage {
  const tensorType = new ProtoMessage().int(1, ONNX_FLOAT);
  if (dims) {
    const shape = new ProtoMessage();
    for (const d of dims) shape.message(1, typeof d === "number" ? new ProtoMessage().int(1, d) : new ProtoMessage().string(2, d));
    tensorType.message(2, shape);
  }
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));
}

/** The bytes of an ONNX model holding `g` (IR 7, opset 13 unless given). */
export function onnxModel(g: OnnxGraph): Uint8Array {
  const graph = new ProtoMessage();
  for (const n of g.nodes) {
    const node = new ProtoMessage();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    if (n.name) node.string(3, n.name);
    node.string(4, n.op);
    for (const a of n.attributes ?? []) node.message(5, attributeMessage(a));
    graph.message(1, node);
  }
  graph.string(2, "test");
  for (const t of g.initializers) graph.message(5, tensorMessage(t));
  for (const i of g.inputs) graph.message(11, valueInfo(i.name, i.dims));
  for (const o of g.outputs) graph.message(12, valueInfo(o.name, o.dims));
  return new ProtoMessage()
    .int(1, 7)
    .string(2, "keras-inspect tests")
    .message(7, graph)
    .message(8, new ProtoMessage().string(1, "").int(2, g.opset ?? 13))
    .encode();
}
