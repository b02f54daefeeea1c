/**
 * The constants of an ONNX graph without RNN nodes (export-constants.ts): the initializers
 * and `Constant` node values of the main graph and of every subgraph attribute (the bodies
 * of `Loop` and `Scan`, the branches of `If`), each with the nodes that read it.
 *
 * float, float16 and double tensors are read as onnx.ts reads weights (their claimed size
 * checked against the bytes they hold before anything is allocated); int8 / uint8 tensors
 * feeding a `DequantizeLinear` node whose scale (and zero point) are constants are
 * dequantized as the operator defines it, (x − zero_point) · scale, per tensor or per
 * channel along its `axis`. Other types (shapes, axes, indices) are left out.
 */
import { FileError } from "../errors.js";
import type { ExportConstant, ExportConstants, Quantization } from "./export-constants.js";
import { MIN_CONSTANT_VALUES } from "./export-constants.js";
import { type Context, DATA_TYPE_NAMES, decodeOnnx, int64, tensorValues } from "./onnx.js";
import type { GraphMessage, NodeMessage, TensorMessage } from "./onnx-schema.js";

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const FLOAT16 = 10;
const DOUBLE = 11;
const FLOATS = new Set([FLOAT, FLOAT16, DOUBLE]);

/** Subgraphs nested deeper than this are not searched (protobuf's own limit is 100 messages). */
const MAX_GRAPH_DEPTH = 16;

interface Scope {
  graph: GraphMessage;
  /** `main graph`, `Loop body of 'lstm/while_loop'`. */
  where: string;
  depth: number;
}

/** Every graph of the model: the main one, then each subgraph attribute, depth first. */
function scopes(main: GraphMessage): Scope[] {
  const out: Scope[] = [];
  const visit = (graph: GraphMessage, where: string, depth: number) => {
    out.push({ graph, where, depth });
    if (depth >= MAX_GRAPH_DEPTH) return;
    for (const node of graph.node) {
      for (const a of node.attribute) {
        const subs = [...(a.g ? [a.g] : []), ...a.graphs];
        subs.forEach((g, k) => visit(g, `${node.op_type} ${a.name}${subs.length > 1 ? ` ${k}` : ""} of '${node.name || node.op_type}'`, depth + 1));
      }
    }
  };
  visit(main, "main graph", 0);
  return out;
}

const nodeLabel = (n: NodeMessage) => `${n.op_type}${n.name ? ` '${n.name}'` : ""}`;

/** int8 / uint8 values of a tensor, checked against its claimed size. */
function integerValues(t: TensorMessage, count: number, ctx: Context, what: string): Int32Array {
  if (t.raw_data.length > 0) {
    if (t.raw_data.length !== count) throw new FileError(ctx.label, `${what} claims ${count} values but its raw_data holds ${t.raw_data.length} bytes`);
    return t.data_type === INT8 ? Int32Array.from(new Int8Array(t.raw_data.buffer, t.raw_data.byteOffset, count)) : Int32Array.from(t.raw_data);
  }
  if (t.int32_data.length !== count) throw new FileError(ctx.label, `${what} claims ${count} values but its int32_data holds ${t.int32_data.length}`);
  return Int32Array.from(t.int32_data);
}

/** A DequantizeLinear's integer input x with its constant scale and zero point, as floats. */
async function dequantized(t: TensorMessage, node: NodeMessage, constants: Map<string, TensorMessage>, ctx: Context, what: string) {
  const shape = t.dims.map((d, k) => int64(d, ctx, `dimension ${k} of ${what}`));
  if (shape.some((d) => d < 0)) throw new FileError(ctx.label, `${what} has a negative dimension [${shape.join(", ")}]`);
  let count = 1;
  for (const d of shape) {
    count *= d;
    // One byte each: a claim beyond the file's bytes cannot be backed.
    if (count > t.raw_data.length + t.int32_data.length) throw new FileError(ctx.label, `${what} claims shape [${shape.join(", ")}], more values than it holds`);
  }
  const scaleTensor = constants.get(node.input[1] ?? "");
  if (!scaleTensor || scaleTensor.data_type !== FLOAT) return undefined;
  const scale = await tensorValues(scaleTensor, ctx, `the scale of ${what}`);
  const zeroTensor = node.input[2] ? constants.get(node.input[2]) : undefined;
  if (node.input[2] && (!zeroTensor || zeroTensor.data_type !== t.data_type)) return undefined;
  const zero = zeroTensor ? integerValues(zeroTensor, scale.data.length, ctx, `the zero point of ${what}`) : new Int32Array(scale.data.length);
  const axisAttr = node.attribute.find((a) => a.name === "axis");
  let axis = axisAttr ? int64(axisAttr.i, ctx, `the axis of ${nodeLabel(node)}`) : 1;
  if (axis < 0) axis += shape.length;
  const perChannel = scale.data.length > 1;
  if (perChannel && (axis < 0 || axis >= shape.length || shape[axis] !== scale.data.length)) {
    throw new FileError(ctx.label, `${what} has ${scale.data.length} scales along axis ${axis} of [${shape.join(", ")}]`);
  }
  const q = integerValues(t, count, ctx, what);
  const inner = perChannel ? shape.slice(axis + 1).reduce((a, b) => a * b, 1) : 1;
  const values = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const c = perChannel ? Math.floor(k / inner) % scale.data.length : 0;
    values[k] = Math.fround((q[k] - zero[c]) * scale.data[c]);
  }
  const typeName = DATA_TYPE_NAMES[t.data_type];
  const quantization: Quantization = {
    scheme: `${typeName} ${perChannel ? `per channel (axis ${axis})` : "per tensor"} behind DequantizeLinear`,
    steps: { axis: perChannel ? axis : 0, values: Float64Array.from(scale.data, Math.abs) },
  };
  return { shape, values, quantization, dtype: typeName };
}

/** Reads the constants of an ONNX model already in memory (see the header). */
export async function onnxConstants(bytes: Uint8Array, label: string, folder: string): Promise<ExportConstants> {
  const ctx: Context = { label, folder };
  const model = decodeOnnx(bytes, label);
  if (!model.graph) throw new FileError(label, "is not an ONNX model: no graph");
  const all = scopes(model.graph);
  // Who reads a name: nodes of its own graph and of the graphs nested in it (outer names are visible inside).
  const readers = new Map<string, { node: NodeMessage; where: string }[]>();
  for (const s of all) {
    for (const node of s.graph.node) {
      for (const input of node.input) {
        if (!input) continue;
        const list = readers.get(input) ?? [];
        if (list.length < 8) list.push({ node, where: s.where });
        readers.set(input, list);
      }
    }
  }
  const constants: ExportConstant[] = [];
  const loops = new Map<string, number>();
  let nodes = 0;
  for (const s of all) {
    const stored = new Map<string, TensorMessage>(s.graph.initializer.map((t) => [t.name, t]));
    for (const n of s.graph.node) {
      nodes++;
      if (n.op_type === "Loop" || n.op_type === "Scan" || n.op_type === "If") loops.set(n.op_type, (loops.get(n.op_type) ?? 0) + 1);
      const value = n.op_type === "Constant" ? n.attribute.find((a) => a.name === "value")?.t : undefined;
      if (value && n.output[0]) stored.set(n.output[0], value);
    }
    for (const [name, t] of stored) {
      const users = (readers.get(name) ?? []).map((r) => `${nodeLabel(r.node)}${r.where !== s.where ? ` in the ${r.where}` : ""}`);
      const what = `tensor '${name.slice(0, 120)}' of the ${s.where}`;
      if (FLOATS.has(t.data_type)) {
        const v = await tensorValues(t, ctx, what);
        if (v.data.length < MIN_CONSTANT_VALUES) continue;
        const dtype = DATA_TYPE_NAMES[t.data_type] === "float" ? "float32" : DATA_TYPE_NAMES[t.data_type];
        constants.push({
          name,
          graph: s.where,
          users,
          shape: v.shape,
          dtype,
          values: v.data,
          ...(t.data_type === FLOAT16 ? { quantization: { scheme: "float16, widened exactly", float16: true } } : {}),
        });
      } else if (t.data_type === INT8 || t.data_type === UINT8) {
        const dq = (readers.get(name) ?? []).find((r) => r.node.op_type === "DequantizeLinear" && r.node.input[0] === name);
        if (!dq) continue;
        const d = await dequantized(t, dq.node, stored, ctx, what);
        if (!d || d.values.length < MIN_CONSTANT_VALUES) continue;
        constants.push({ name, graph: s.where, users, shape: d.shape, dtype: d.dtype, values: d.values, quantization: d.quantization });
      }
    }
  }
  const loopText = [...loops].map(([op, k]) => `${op} ×${k}`).join(", ");
  return {
    format: "onnx",
    source: label,
    constants,
    unstoredVariables: [],
    notes: [
      `ONNX graph without RNN nodes: ${nodes} node(s) in ${all.length} graph(s)${loopText ? ` (${loopText}, whose bodies were searched too)` : ""}; ${constants.length} float constant(s) of at least ${MIN_CONSTANT_VALUES} values searched`,
    ],
  };
}
