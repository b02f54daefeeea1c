/**
 * A protobuf wire-format tree for the ONNX mutators: decodes a message into its fields
 * (varints as bigints, fixed-width and length-delimited values as bytes, the fields ONNX's
 * schema declares as messages as nested trees) and encodes it back, with room to lie: a
 * length-delimited field may be written with a length other than its own, a tag with
 * another wire type than its value has. A pristine file encodes back to the same bytes when
 * its varints are minimal, as protobuf writers make them.
 *
 * Independent of src/load/onnx-schema.ts (field numbers from onnx/onnx.proto):
 *   ModelProto 7 graph, 8 opset_import; GraphProto 1 node, 5 initializer, 11/12/13 value
 *   infos; NodeProto 5 attribute; AttributeProto 5 t, 6 g, 10 tensors, 11 graphs;
 *   TensorProto 13 external_data; ValueInfoProto 2 type; TypeProto 1 tensor_type;
 *   TypeProto.Tensor 2 shape; TensorShapeProto 1 dim.
 */
import { varint } from "../support/onnx-writer.js";

export type MessageType = "Model" | "Graph" | "Node" | "Attribute" | "Tensor" | "Entry" | "ValueInfo" | "Type" | "TensorType" | "Shape" | "Dim" | "Opset";

const SUBMESSAGES: Record<MessageType, Record<number, MessageType>> = {
  Model: { 7: "Graph", 8: "Opset" },
  Graph: { 1: "Node", 5: "Tensor", 11: "ValueInfo", 12: "ValueInfo", 13: "ValueInfo" },
  Node: { 5: "Attribute" },
  Attribute: { 5: "Tensor", 6: "Graph", 10: "Tensor", 11: "Graph" },
  Tensor: { 13: "Entry" },
  Entry: {},
  ValueInfo: { 2: "Type" },
  Type: { 1: "TensorType" },
  TensorType: { 2: "Shape" },
  Shape: { 1: "Dim" },
  Dim: {},
  Opset: {},
};

export interface PField {
  field: number;
  wire: number;
  /** wire 0: the varint; 1 and 5: the 8 or 4 bytes; 2: the bytes, or the fields of a known submessage. */
  value: bigint | Uint8Array | PField[];
  /** Submessage type, when `value` is its fields. */
  type?: MessageType;
  /** Written as the length of a length-delimited value instead of its own. */
  lie?: bigint;
  /** Written in the tag instead of `wire` (the value keeps its own encoding). */
  tagWire?: number;
}

function readVarint(b: Uint8Array, at: number): [bigint, number] | undefined {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (at + i >= b.length) return undefined;
    const c = b[at + i];
    v |= BigInt(c & 0x7f) << BigInt(7 * i);
    if ((c & 0x80) === 0) return [v, at + i + 1];
  }
  return undefined;
}

/** The fields of a message, or undefined when the bytes are not one. */
export function decodeMessage(b: Uint8Array, type: MessageType, depth = 0): PField[] | undefined {
  if (depth > 200) return undefined;
  const out: PField[] = [];
  let at = 0;
  while (at < b.length) {
    const tag = readVarint(b, at);
    if (!tag) return undefined;
    at = tag[1];
    const field = Number(tag[0] >> 3n);
    const wire = Number(tag[0] & 7n);
    if (field === 0) return undefined;
    if (wire === 0) {
      const v = readVarint(b, at);
      if (!v) return undefined;
      out.push({ field, wire, value: v[0] });
      at = v[1];
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (at + n > b.length) return undefined;
      out.push({ field, wire, value: b.slice(at, at + n) });
      at += n;
    } else if (wire === 2) {
      const len = readVarint(b, at);
      if (!len || len[1] + Number(len[0]) > b.length) return undefined;
      const bytes = b.subarray(len[1], len[1] + Number(len[0]));
      at = len[1] + Number(len[0]);
      const sub = SUBMESSAGES[type][field];
      const fields = sub ? decodeMessage(bytes, sub, depth + 1) : undefined;
      out.push(fields ? { field, wire, value: fields, type: sub } : { field, wire, value: bytes.slice() });
    } else {
      return undefined;
    }
  }
  return out;
}

/** Encodes fields; iterative over nothing but the tree's own depth (the mutators keep it small). */
export function encodeMessage(fields: PField[]): Uint8Array {
  const parts: (Uint8Array | number[])[] = [];
  for (const f of fields) {
    parts.push(varint((BigInt(f.field) << 3n) | BigInt(f.tagWire ?? f.wire)));
    if (f.wire === 0) parts.push(varint(f.value as bigint));
    else if (f.wire === 1 || f.wire === 5) parts.push(f.value as Uint8Array);
    else {
      const body = Array.isArray(f.value) ? encodeMessage(f.value) : (f.value as Uint8Array);
      parts.push(varint(f.lie ?? BigInt(body.length)), body);
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Every field of the tree, with its parent list and the type of the message holding it. */
export function allFields(fields: PField[], type: MessageType, out: { f: PField; parent: PField[]; type: MessageType; depth: number }[] = [], depth = 0) {
  for (const f of fields) {
    out.push({ f, parent: fields, type, depth });
    if (Array.isArray(f.value) && f.type) allFields(f.value, f.type, out, depth + 1);
  }
  return out;
}

export const text = (f: PField | undefined): string => (f && f.value instanceof Uint8Array ? new TextDecoder().decode(f.value) : "");
export const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);
export const sub = (fields: PField[], n: number): PField[] => fields.filter((f) => f.field === n);
export const first = (fields: PField[], n: number): PField | undefined => fields.find((f) => f.field === n);
export const msg = (field: number, type: MessageType, value: PField[]): PField => ({ field, wire: 2, type, value });
export const str = (field: number, s: string): PField => ({ field, wire: 2, value: bytesOf(s) });
export const int = (field: number, v: bigint | number): PField => ({ field, wire: 0, value: BigInt.asUintN(64, BigInt(v)) });

/** A deep copy (the mutators change the copy). */
export function cloneFields(fields: PField[]): PField[] {
  return fields.map((f) => ({ ...f, value: Array.isArray(f.value) ? cloneFields(f.value) : f.value }));
}

/** A tensor's dims (repeated int64, written one by one or packed). */
export function tensorDims(tensor: PField[]): bigint[] {
  const dims: bigint[] = [];
  for (const f of sub(tensor, 1)) {
    if (f.wire === 0) dims.push(BigInt.asIntN(64, f.value as bigint));
    else if (f.value instanceof Uint8Array) {
      let at = 0;
      while (at < f.value.length) {
        const v = readVarint(f.value, at);
        if (!v) break;
        dims.push(BigInt.asIntN(64, v[0]));
        at = v[1];
      }
    }
  }
  return dims;
}

/** Replaces a tensor's dims (written one by one, as protobuf parsers accept either way). */
export function setTensorDims(tensor: PField[], dims: bigint[]): void {
  const at = tensor.findIndex((f) => f.field === 1);
  const rest = tensor.filter((f) => f.field !== 1);
  tensor.length = 0;
  const dimFields = dims.map((d) => int(1, d));
  const k = at < 0 ? 0 : at;
  tensor.push(...rest.slice(0, k), ...dimFields, ...rest.slice(k));
}
