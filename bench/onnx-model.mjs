// Builds a one-node ONNX model (LSTM, or GRU with linear_before_reset=1) holding a bench
// case's weights, with a minimal protobuf encoder: only the fields of onnx.proto it needs.
//
//   ModelProto      1 ir_version, 2 producer_name, 7 graph, 8 opset_import
//   OperatorSetId   1 domain, 2 version
//   GraphProto      1 node, 2 name, 5 initializer, 11 input, 12 output
//   NodeProto       1 input, 2 output, 3 name, 4 op_type, 5 attribute
//   AttributeProto  1 name, 3 i, 20 type (INT = 2)
//   TensorProto     1 dims, 2 data_type (FLOAT = 1), 8 name, 9 raw_data
//   ValueInfoProto  1 name, 2 type; TypeProto 1 tensor_type; Tensor 1 elem_type, 2 shape;
//   TensorShapeProto 1 dim; Dimension 1 dim_value
import { GATES } from "./cases.mjs";

const FLOAT = 1;
const ATTR_INT = 2;

function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** One message's fields, appended in order; bytes() concatenates them. */
class Message {
  parts = [];
  int(field, value) {
    this.parts.push(Uint8Array.from([...varint(field << 3), ...varint(value)]));
    return this;
  }
  bytes(field, data) {
    this.parts.push(Uint8Array.from([...varint((field << 3) | 2), ...varint(data.length)]), data);
    return this;
  }
  string(field, text) {
    return this.bytes(field, new TextEncoder().encode(text));
  }
  message(field, m) {
    return this.bytes(field, m.encode());
  }
  encode() {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function tensor(name, dims, data) {
  const m = new Message();
  for (const d of dims) m.int(1, d);
  const raw = new Uint8Array(Float32Array.from(data).buffer); // little-endian, as raw_data requires
  return m.int(2, FLOAT).string(8, name).bytes(9, raw);
}

function valueInfo(name, dims) {
  const shape = new Message();
  for (const d of dims) shape.message(1, new Message().int(1, d));
  const tensorType = new Message().int(1, FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

const intAttribute = (name, value) => new Message().string(1, name).int(3, value).int(20, ATTR_INT);

/**
 * ONNX weights from Keras': W [1, G·u, D] and R [1, G·u, u] hold each gate's block of the
 * Keras kernel transposed; ONNX orders LSTM gates i, o, f, c (Keras: i, f, c, o) and GRU
 * gates z, r, h (as Keras). B [1, 2·G·u] is Wb then Rb: a Keras LSTM bias is Wb with Rb
 * zeros; a Keras GRU reset_after bias (2, 3u) is row 0 Wb, row 1 Rb.
 */
export function onnxWeights(c) {
  const G = GATES[c.kind];
  const u = c.units;
  const D = c.features;
  const kerasGate = c.kind === "lstm" ? [0, 3, 1, 2] : [0, 1, 2];
  const W = new Float32Array(G * u * D);
  const R = new Float32Array(G * u * u);
  const B = new Float32Array(2 * G * u);
  for (let og = 0; og < G; og++) {
    const kg = kerasGate[og];
    for (let j = 0; j < u; j++) {
      for (let d = 0; d < D; d++) W[(og * u + j) * D + d] = c.kernel[d * G * u + kg * u + j];
      for (let k = 0; k < u; k++) R[(og * u + j) * u + k] = c.recurrentKernel[k * G * u + kg * u + j];
      B[og * u + j] = c.bias[kg * u + j];
      if (c.kind === "gru") B[G * u + og * u + j] = c.bias[G * u + kg * u + j];
    }
  }
  return { W, R, B };
}

/** The model's bytes: X [T, 1, D] → Y [T, 1, 1, u] (every hidden state). */
export function onnxModel(c) {
  const G = GATES[c.kind];
  const u = c.units;
  const { W, R, B } = onnxWeights(c);
  const node = new Message();
  for (const name of ["X", "W", "R", "B"]) node.string(1, name);
  node.string(2, "Y").string(3, "rnn").string(4, c.kind === "lstm" ? "LSTM" : "GRU").message(5, intAttribute("hidden_size", u));
  if (c.kind === "gru") node.message(5, intAttribute("linear_before_reset", 1));
  const graph = new Message()
    .message(1, node)
    .string(2, "bench")
    .message(5, tensor("W", [1, G * u, c.features], W))
    .message(5, tensor("R", [1, G * u, u], R))
    .message(5, tensor("B", [1, 2 * G * u], B))
    .message(11, valueInfo("X", [c.steps, 1, c.features]))
    .message(12, valueInfo("Y", [c.steps, 1, 1, u]));
  return new Message()
    .int(1, 8)
    .string(2, "keras-inspect bench")
    .message(7, graph)
    .message(8, new Message().string(1, "").int(2, 14))
    .encode();
}
