/**
 * The part of ONNX's protobuf schema (onnx/onnx.proto, IR versions 3 to 10) that
 * keras-inspect reads, as a protobufjs reflection root: the model, its main graph, the
 * graph's nodes with their attributes (subgraph attributes too: the bodies of Loop, Scan
 * and If, whose constants may hold a layer's weights), its initializer tensors (inline or
 * external data), and its inputs' types. Field numbers are ONNX's; every field left out
 * (functions, training info, sparse tensors, doc strings) is skipped by the
 * decoder, which also refuses messages nested deeper than 100 levels.
 *
 * Written out here rather than generated from onnx.proto so that it stays this small and
 * is bundled as code: nothing is parsed from a .proto file at run time.
 */
import protobuf from "protobufjs";

type Field = { type: string; id: number; rule?: "repeated" };
const field = (type: string, id: number): Field => ({ type, id });
const repeated = (type: string, id: number): Field => ({ type, id, rule: "repeated" });

const ONNX = {
  ModelProto: {
    fields: {
      ir_version: field("int64", 1),
      producer_name: field("string", 2),
      producer_version: field("string", 3),
      graph: field("GraphProto", 7),
      opset_import: repeated("OperatorSetIdProto", 8),
    },
  },
  OperatorSetIdProto: { fields: { domain: field("string", 1), version: field("int64", 2) } },
  StringStringEntryProto: { fields: { key: field("string", 1), value: field("string", 2) } },
  GraphProto: {
    fields: {
      node: repeated("NodeProto", 1),
      name: field("string", 2),
      initializer: repeated("TensorProto", 5),
      input: repeated("ValueInfoProto", 11),
      output: repeated("ValueInfoProto", 12),
    },
  },
  NodeProto: {
    fields: {
      input: repeated("string", 1),
      output: repeated("string", 2),
      name: field("string", 3),
      op_type: field("string", 4),
      attribute: repeated("AttributeProto", 5),
      domain: field("string", 7),
    },
  },
  AttributeProto: {
    fields: {
      name: field("string", 1),
      f: field("float", 2),
      i: field("int64", 3),
      s: field("bytes", 4),
      t: field("TensorProto", 5),
      g: field("GraphProto", 6),
      floats: repeated("float", 7),
      ints: repeated("int64", 8),
      strings: repeated("bytes", 9),
      graphs: repeated("GraphProto", 11),
      type: field("int32", 20),
    },
  },
  TensorProto: {
    fields: {
      dims: repeated("int64", 1),
      data_type: field("int32", 2),
      float_data: repeated("float", 4),
      int32_data: repeated("int32", 5),
      name: field("string", 8),
      raw_data: field("bytes", 9),
      double_data: repeated("double", 10),
      external_data: repeated("StringStringEntryProto", 13),
      data_location: field("int32", 14),
    },
  },
  ValueInfoProto: { fields: { name: field("string", 1), type: field("TypeProto", 2) } },
  TypeProto: { fields: { tensor_type: field("TypeProtoTensor", 1) } },
  TypeProtoTensor: { fields: { elem_type: field("int32", 1), shape: field("TensorShapeProto", 2) } },
  TensorShapeProto: { fields: { dim: repeated("TensorShapeDimension", 1) } },
  TensorShapeDimension: { fields: { dim_value: field("int64", 1), dim_param: field("string", 2) } },
};

const root = protobuf.Root.fromJSON({ nested: { onnx: { nested: ONNX } } });

/** protobufjs' 64-bit integers: a Long where the `long` package is present, else a number. */
export type Int64 = number | { low: number; high: number; unsigned: boolean; toNumber(): number };

export interface TensorMessage {
  dims: Int64[];
  data_type: number;
  float_data: number[];
  int32_data: number[];
  name: string;
  raw_data: Uint8Array;
  double_data: number[];
  external_data: { key: string; value: string }[];
  data_location: number;
}

export interface AttributeMessage {
  name: string;
  f: number;
  i: Int64;
  s: Uint8Array;
  t?: TensorMessage;
  /** A subgraph attribute: the body of a Loop or Scan, a branch of an If. */
  g?: GraphMessage;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  graphs: GraphMessage[];
  type: number;
}

export interface NodeMessage {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  attribute: AttributeMessage[];
  domain: string;
}

export interface ValueInfoMessage {
  name: string;
  type?: { tensor_type?: { elem_type: number; shape?: { dim: { dim_value?: Int64; dim_param?: string }[] } } };
}

export interface GraphMessage {
  node: NodeMessage[];
  name: string;
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
}

export interface ModelMessage {
  ir_version: Int64;
  producer_name: string;
  producer_version: string;
  graph?: GraphMessage;
  opset_import: { domain: string; version: Int64 }[];
}

const ModelProto = root.lookupType("onnx.ModelProto");

/**
 * Decodes a ModelProto; throws protobufjs' error on malformed bytes. Unset strings, numbers
 * and bytes read as their defaults and unset lists as empty (protobufjs message instances);
 * `raw_data` is a view of `bytes`, not a copy.
 */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  return ModelProto.decode(bytes) as unknown as ModelMessage;
}
