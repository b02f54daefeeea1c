/**
 * ONNX models whose recurrent layers were converted to fused RNN nodes (tf2onnx, keras2onnx):
 * each `LSTM`, `GRU` or `RNN` node becomes a Keras layer (`LSTM`, `GRU`, `SimpleRNN`; a
 * bidirectional node a `Bidirectional` with both directions) whose tensors are in Keras'
 * layout, so the layer kinds, `weights`, `step --raw-input` and `diff` treat it as they
 * treat a Keras file. The rest of the graph (the MatMul and Add of a Dense head, the
 * Transpose around each node) is not mapped back to layers: the Model says so
 * (`layersRead: "recurrent"`).
 *
 * ONNX operator spec (Operators.md, LSTM / GRU / RNN) against Keras:
 * - W `[dirs, G·u, in]` and R `[dirs, G·u, u]` hold one row per gate unit, gates stacked
 *   in ONNX's order: LSTM i, o, f, c; GRU z, r, h; RNN one block. Keras' kernel `(in, G·u)`
 *   and recurrent_kernel `(u, G·u)` hold one column per gate unit in its order: LSTM
 *   i, f, c, o; GRU z, r, h. So each is transposed, and LSTM's blocks reordered.
 * - B `[dirs, 2·G·u]` is the input bias Wb then the recurrent bias Rb. Keras' LSTM,
 *   SimpleRNN and GRU(reset_after=False) add one bias, Wb + Rb (summed in the tensor's
 *   precision, as ONNX Runtime adds them); GRU with `linear_before_reset=1` is Keras'
 *   GRU(reset_after=True), whose bias `(2, 3u)` keeps the two rows apart.
 * - activations f, g, h (LSTM) / f, g (GRU) / f (RNN) are Keras' recurrent_activation and
 *   activation; LSTM's g and h must agree, as Keras uses one activation for both.
 * - direction reverse is go_backwards; peepholes (P), `clip` and `input_forget` have no
 *   Keras counterpart and are refused (all-zero peepholes are accepted and said).
 * The mapping lives here, with the format: each layer's notes say what was done.
 *
 * Untrusted bytes: protobufjs checks every length against the buffer and refuses nesting
 * past 100; a tensor's claimed dims are checked against the bytes it really holds before
 * anything is allocated; external-data files are confined to the model's folder
 * (folder-files.ts).
 */
import { readFile, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { FileError, systemReason } from "../errors.js";
import type { DType, Layer, Model, Tensor } from "../model.js";
import { NoRecurrentOpError } from "./export-constants.js";
import { fileInFolder, readFolderFile } from "./folder-files.js";
import { halfToNumber } from "./half.js";
import { decodeModel, type AttributeMessage, type GraphMessage, type Int64, type ModelMessage, type NodeMessage, type TensorMessage } from "./onnx-schema.js";

/** Largest .onnx file we read (protobuf itself stops at 2 GiB). */
export const MAX_ONNX_BYTES = 1024 * 1024 * 1024;
/** Largest tensor we materialize, in bytes of its stored type. */
const MAX_TENSOR_BYTES = 1024 * 1024 * 1024;

const RNN_OPS = new Set(["LSTM", "GRU", "RNN"]);

/** ONNX gate order → Keras gate order, per op: Keras gate k is ONNX block ONNX_BLOCK[op][k]. */
const ONNX_BLOCK: Record<string, number[]> = {
  LSTM: [0, 2, 3, 1], // Keras i, f, c, o ← ONNX i, o, f, c
  GRU: [0, 1, 2], // z, r, h in both
  RNN: [0],
};
const KERAS_CLASS: Record<string, string> = { LSTM: "LSTM", GRU: "GRU", RNN: "SimpleRNN" };
const ONNX_GATES: Record<string, string> = { LSTM: "i, o, f, c", GRU: "z, r, h", RNN: "one block" };
const KERAS_GATES: Record<string, string> = { LSTM: "i, f, c, o", GRU: "z, r, h", RNN: "one block" };

/** TensorProto.DataType codes read as weights, with their byte size. */
const FLOAT = 1;
const FLOAT16 = 10;
const DOUBLE = 11;
const ELEMENT_BYTES: Record<number, number> = { [FLOAT]: 4, [FLOAT16]: 2, [DOUBLE]: 8 };
export const DATA_TYPE_NAMES: Record<number, string> = {
  1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string", 9: "bool",
  10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
};

export interface Context {
  label: string;
  folder: string;
}

/** A protobufjs Long as the decimal int64 (or uint64) it holds: 2^63 read as -9223372036854775808, not as its two 32-bit halves. */
function int64Text(v: Exclude<Int64, number>): string {
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return String(v.unsigned ? bits : BigInt.asIntN(64, bits));
}

export function int64(v: Int64, ctx: Context, what: string): number {
  const n = typeof v === "number" ? v : v.toNumber();
  if (!Number.isSafeInteger(n)) throw new FileError(ctx.label, `${what} is ${typeof v === "number" ? v : int64Text(v)}, not an integer this tool can hold`);
  return n;
}

function decodeText(bytes: Uint8Array): string {
  return new TextDecoder("utf-8").decode(bytes);
}

// ---------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------

export interface Values {
  shape: number[];
  dtype: DType;
  data: Float32Array | Float64Array;
  /** Stored as float16, widened exactly. */
  float16?: boolean;
}

/** Reads a stored float tensor, checking its claimed size against what it holds before allocating. */
export async function tensorValues(t: TensorMessage, ctx: Context, what: string): Promise<Values> {
  const shape = t.dims.map((d, k) => int64(d, ctx, `dimension ${k} of ${what}`));
  if (shape.some((d) => d < 0)) throw new FileError(ctx.label, `${what} has a negative dimension [${shape.join(", ")}]`);
  const size = ELEMENT_BYTES[t.data_type];
  if (size === undefined) {
    throw new FileError(ctx.label, `${what} holds ${DATA_TYPE_NAMES[t.data_type] ?? `data type ${t.data_type}`} values; recurrent weights are read as float, float16 or double`);
  }
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count * size > MAX_TENSOR_BYTES) throw new FileError(ctx.label, `${what} claims shape [${shape.join(", ")}], over the ${MAX_TENSOR_BYTES}-byte limit`);
  }
  const dtype: DType = t.data_type === DOUBLE ? "float64" : "float32";
  const expectBytes = (held: number, where: string) => {
    if (held !== count * size) throw new FileError(ctx.label, `${what} claims shape [${shape.join(", ")}] (${count * size} bytes) but ${where} holds ${held}`);
  };
  let raw: Uint8Array | undefined;
  if (t.data_location === 1) {
    raw = await externalData(t, count * size, ctx, what);
  } else if (t.raw_data.length > 0 || (count === 0 && t.float_data.length + t.int32_data.length + t.double_data.length === 0)) {
    expectBytes(t.raw_data.length, "its raw_data");
    raw = t.raw_data;
  }
  if (raw) {
    // raw_data is little-endian and, inside the protobuf, not aligned: read it through a DataView.
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const data = dtype === "float64" ? new Float64Array(count) : new Float32Array(count);
    if (t.data_type === FLOAT) for (let k = 0; k < count; k++) data[k] = view.getFloat32(4 * k, true);
    else if (t.data_type === DOUBLE) for (let k = 0; k < count; k++) data[k] = view.getFloat64(8 * k, true);
    else for (let k = 0; k < count; k++) data[k] = halfToNumber(view.getUint16(2 * k, true));
    return { shape, dtype, data, ...(t.data_type === FLOAT16 ? { float16: true } : {}) };
  }
  if (t.data_type === FLOAT) {
    expectBytes(t.float_data.length * 4, "its float_data");
    return { shape, dtype, data: Float32Array.from(t.float_data) };
  }
  if (t.data_type === DOUBLE) {
    expectBytes(t.double_data.length * 8, "its double_data");
    return { shape, dtype, data: Float64Array.from(t.double_data) };
  }
  // float16 in int32_data: one value per entry, its bits in the low 16.
  expectBytes(t.int32_data.length * 2, "its int32_data");
  return { shape, dtype, data: Float32Array.from(t.int32_data, (bits) => halfToNumber(bits & 0xffff)), float16: true };
}

/** The bytes of a tensor stored in a file beside the model (`external_data` location, offset, length). */
async function externalData(t: TensorMessage, bytes: number, ctx: Context, what: string): Promise<Uint8Array> {
  const entry = (key: string) => t.external_data.find((e) => e.key === key)?.value;
  const location = entry("location");
  if (location === undefined) throw new FileError(ctx.label, `${what} is stored externally but names no location`);
  const number = (key: string, fallback: number) => {
    const v = entry(key);
    if (v === undefined) return fallback;
    if (!/^\d{1,15}$/.test(v)) throw new FileError(ctx.label, `${what} has external-data ${key} '${v.slice(0, 40)}', not a byte count`);
    return Number(v);
  };
  const offset = number("offset", 0);
  const length = number("length", bytes);
  if (length !== bytes) throw new FileError(ctx.label, `${what} claims ${bytes} bytes but its external data is ${length} bytes long`);
  const file = await fileInFolder(ctx.folder, location, ctx.label, `external data of ${what}`);
  if (offset + length > file.size) {
    throw new FileError(ctx.label, `external data of ${what}: '${location.slice(0, 200)}' holds ${file.size} bytes, but bytes ${offset} to ${offset + length} are claimed`);
  }
  return readFolderFile(file, offset, length, ctx.label, `external data of ${what}`);
}

// ---------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------

interface Attributes {
  int(name: string, fallback: number): number;
  text(name: string, fallback: string): string;
  texts(name: string): string[] | undefined;
  floats(name: string): number[] | undefined;
  float(name: string): number | undefined;
}

function attributes(node: NodeMessage, ctx: Context, where: string): Attributes {
  const byName = new Map<string, AttributeMessage>(node.attribute.map((a) => [a.name, a]));
  return {
    int: (name, fallback) => (byName.has(name) ? int64(byName.get(name)!.i, ctx, `attribute ${name} of ${where}`) : fallback),
    text: (name, fallback) => (byName.has(name) ? decodeText(byName.get(name)!.s) : fallback),
    texts: (name) => byName.get(name)?.strings.map(decodeText),
    floats: (name) => byName.get(name)?.floats,
    float: (name) => byName.get(name)?.f,
  };
}

/** ONNX activations Keras has, by the name Keras gives them; those with parameters only at Keras' values. */
function kerasActivation(name: string, alpha: () => number | undefined, beta: () => number | undefined, ctx: Context, where: string): string {
  const plain: Record<string, string> = { Sigmoid: "sigmoid", Tanh: "tanh", Relu: "relu", Softsign: "softsign", Softplus: "softplus" };
  if (Object.hasOwn(plain, name)) return plain[name];
  if (name === "HardSigmoid") {
    // ONNX's defaults are alpha 0.2, beta 0.5: Keras 2's hard_sigmoid (and TensorFlow.js').
    const a = alpha() ?? 0.2;
    const b = beta() ?? 0.5;
    if (Math.fround(a) === Math.fround(0.2) && Math.fround(b) === Math.fround(0.5)) return "hard_sigmoid";
    throw new FileError(ctx.label, `${where} uses HardSigmoid(alpha=${a}, beta=${b}); only Keras 2's hard_sigmoid (alpha 0.2, beta 0.5) is mapped`);
  }
  if (name === "Elu") {
    const a = alpha() ?? 1;
    if (a === 1) return "elu";
    throw new FileError(ctx.label, `${where} uses Elu(alpha=${a}); Keras' elu activation has alpha 1`);
  }
  throw new FileError(ctx.label, `${where} uses the activation ${JSON.stringify(name.slice(0, 40))}, which no Keras recurrent layer has`);
}

/** Activation functions that take alpha and beta in ONNX's RNN ops, for consuming activation_alpha/beta in order. */
const TAKES_ALPHA = new Set(["Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu"]);
const TAKES_BETA = new Set(["Affine", "ScaledTanh", "HardSigmoid"]);

/** Keras activation names for each direction: [recurrent_activation, activation] (SimpleRNN: [activation]). */
function activationsOf(op: string, attrs: Attributes, dirs: number, ctx: Context, where: string): string[][] {
  const perDirection = { LSTM: 3, GRU: 2, RNN: 1 }[op as "LSTM" | "GRU" | "RNN"];
  const defaults = { LSTM: ["Sigmoid", "Tanh", "Tanh"], GRU: ["Sigmoid", "Tanh"], RNN: ["Tanh"] }[op as "LSTM" | "GRU" | "RNN"];
  const names = attrs.texts("activations");
  const given = names && names.length > 0 ? names : Array.from({ length: dirs }, () => defaults).flat();
  if (given.length !== perDirection * dirs) {
    throw new FileError(ctx.label, `${where} lists ${given.length} activations; a ${dirs === 2 ? "bidirectional" : "one-direction"} ${op} takes ${perDirection * dirs}`);
  }
  const alphas = attrs.floats("activation_alpha") ?? [];
  const betas = attrs.floats("activation_beta") ?? [];
  let nextAlpha = 0;
  let nextBeta = 0;
  const keras = given.map((name) => {
    const a = TAKES_ALPHA.has(name) ? alphas[nextAlpha++] : undefined;
    const b = TAKES_BETA.has(name) ? betas[nextBeta++] : undefined;
    return kerasActivation(name, () => a, () => b, ctx, where);
  });
  return Array.from({ length: dirs }, (_, d) => {
    const mine = keras.slice(d * perDirection, (d + 1) * perDirection);
    if (op === "LSTM" && mine[1] !== mine[2]) {
      throw new FileError(ctx.label, `${where} uses ${mine[1]} for the cell candidate and ${mine[2]} for the output; Keras' LSTM uses one activation for both`);
    }
    return op === "RNN" ? mine : [mine[0], mine[1]];
  });
}

/** A stored tensor feeding a node: an initializer or a Constant node's value. */
type Constants = Map<string, TensorMessage>;

function constantsOf(graph: GraphMessage): Constants {
  const out: Constants = new Map(graph.initializer.map((t) => [t.name, t]));
  for (const n of graph.node) {
    const value = n.op_type === "Constant" ? n.attribute.find((a) => a.name === "value")?.t : undefined;
    if (value && n.output[0]) out.set(n.output[0], value);
  }
  return out;
}

/** Keras layout of one direction of one node, gate blocks reordered (see the header). */
function kerasTensors(op: string, v: { W: Values; R: Values; B?: Values }, d: number, u: number, input: number, resetAfter: boolean, where: string): { tensors: Tensor[]; rbZero: boolean } {
  const blocks = ONNX_BLOCK[op];
  const G = blocks.length;
  const width = G * u;
  const make = (dtype: DType, n: number) => (dtype === "float64" ? new Float64Array(n) : new Float32Array(n));
  // kernel[k][g·u + j] = W[d][block(g)·u + j][k]; recurrent_kernel likewise from R.
  const transpose = (src: Values, cols: number) => {
    const out = make(src.dtype, cols * width);
    const base = d * width * cols;
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < u; j++) {
        const row = base + (blocks[g] * u + j) * cols;
        for (let k = 0; k < cols; k++) out[k * width + g * u + j] = src.data[row + k];
      }
    }
    return out;
  };
  // float16 weights keep float16 values through the transposition: diff measures them in float16 spacings.
  const half = (src: Values) => (src.float16 ? { storedAsFloat16: true } : {});
  const tensors: Tensor[] = [
    { name: "kernel", path: `${where}: W[${d}]`, shape: [input, width], dtype: v.W.dtype, data: transpose(v.W, input), ...half(v.W) },
    { name: "recurrent_kernel", path: `${where}: R[${d}]`, shape: [u, width], dtype: v.R.dtype, data: transpose(v.R, u), ...half(v.R) },
  ];
  let rbZero = true;
  if (v.B) {
    const base = d * 2 * width;
    const wb = make(v.B.dtype, width);
    const rb = make(v.B.dtype, width);
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < u; j++) {
        wb[g * u + j] = v.B.data[base + blocks[g] * u + j];
        rb[g * u + j] = v.B.data[base + width + blocks[g] * u + j];
        if (rb[g * u + j] !== 0) rbZero = false;
      }
    }
    if (resetAfter) {
      const both = make(v.B.dtype, 2 * width);
      both.set(wb, 0);
      both.set(rb, width);
      tensors.push({ name: "bias", path: `${where}: B[${d}]`, shape: [2, width], dtype: v.B.dtype, data: both, ...half(v.B) });
    } else {
      // A typed array of the tensor's precision rounds the sum as ONNX Runtime's addition does.
      const sum = make(v.B.dtype, width);
      for (let k = 0; k < width; k++) sum[k] = wb[k] + rb[k];
      // A sum of two float16 numbers need not be one; Wb + 0 is.
      tensors.push({ name: "bias", path: `${where}: B[${d}]`, shape: [width], dtype: v.B.dtype, data: sum, ...(rbZero ? half(v.B) : {}) });
    }
  }
  return { tensors, rbZero };
}

async function layerOfNode(node: NodeMessage, name: string, constants: Constants, ctx: Context): Promise<Layer> {
  const op = node.op_type;
  const where = `${op} node '${name}'`;
  const attrs = attributes(node, ctx, where);
  const direction = attrs.text("direction", "forward");
  if (!["forward", "reverse", "bidirectional"].includes(direction)) throw new FileError(ctx.label, `${where} has direction '${direction.slice(0, 40)}'`);
  const dirs = direction === "bidirectional" ? 2 : 1;
  const clip = attrs.float("clip");
  if (node.attribute.some((a) => a.name === "clip")) throw new FileError(ctx.label, `${where} clips its cell state (clip=${clip}), which Keras' ${KERAS_CLASS[op]} does not`);
  if (op === "LSTM" && attrs.int("input_forget", 0) !== 0) throw new FileError(ctx.label, `${where} couples its input and forget gates (input_forget=1), which Keras' LSTM does not`);

  const stored = async (index: number, role: string): Promise<Values | undefined> => {
    const input = node.input[index];
    if (!input) return undefined;
    const t = constants.get(input);
    if (!t) throw new FileError(ctx.label, `${where} takes its ${role} '${input}' from another node, not from a stored tensor; its weights cannot be read`);
    return tensorValues(t, ctx, `${role} '${input}' of ${where}`);
  };
  const W = await stored(1, "W");
  const R = await stored(2, "R");
  if (!W || !R) throw new FileError(ctx.label, `${where} lacks its W or R input`);
  const B = await stored(3, "B");
  const G = ONNX_BLOCK[op].length;
  if (W.shape.length !== 3 || R.shape.length !== 3 || W.shape[0] !== dirs || R.shape[0] !== dirs) {
    throw new FileError(ctx.label, `${where} has W [${W.shape.join(", ")}] and R [${R.shape.join(", ")}]; ${direction} ${op} takes [${dirs}, ${G}·hidden, input] and [${dirs}, ${G}·hidden, hidden]`);
  }
  const u = R.shape[2];
  const inputSize = W.shape[2];
  const hidden = attrs.int("hidden_size", u);
  if (hidden !== u || W.shape[1] !== G * u || R.shape[1] !== G * u) {
    throw new FileError(ctx.label, `${where} has hidden_size ${hidden} but W [${W.shape.join(", ")}] and R [${R.shape.join(", ")}] (${G} gate blocks of ${u} rows expected)`);
  }
  if (B && (B.shape.length !== 2 || B.shape[0] !== dirs || B.shape[1] !== 2 * G * u)) {
    throw new FileError(ctx.label, `${where} has B [${B.shape.join(", ")}]; it takes [${dirs}, ${2 * G * u}] (input biases, then recurrent biases)`);
  }
  const notesCommon: string[] = [];
  if (op === "LSTM") {
    const P = await stored(7, "P");
    if (P) {
      if (P.data.some((x) => x !== 0)) throw new FileError(ctx.label, `${where} has peephole connections (P), which Keras' LSTM does not`);
      notesCommon.push("its peephole weights P are all zero, as Keras' LSTM has none");
    }
  }
  if (node.input[4]) notesCommon.push(`sequence_lens '${node.input[4]}' is an input of the node: lengths are not applied here`);
  const states = [node.input[5], node.input[6]].filter((s) => s);
  if (states.length > 0) notesCommon.push(`its initial state is computed by the graph (${states.join(", ")}); keras-inspect starts from zeros, as Keras does, unless --h0/--c0 give one`);
  if (attrs.int("layout", 0) === 1) notesCommon.push("layout=1: its input is batch-first, as Keras'; the weights are laid out the same");
  if (node.input[0]) notesCommon.push(`its input X is '${node.input[0]}'`);

  const resetAfter = op === "GRU" && attrs.int("linear_before_reset", 0) !== 0;
  const activations = activationsOf(op, attrs, dirs, ctx, where);
  const direct = (d: number, layerName: string, goBackwards: boolean): Layer => {
    const { tensors, rbZero } = kerasTensors(op, { W, R, B }, d, u, inputSize, resetAfter, where);
    const mapping =
      op === "LSTM"
        ? `ONNX LSTM W and R rows in ONNX's gate order i, o, f, c, transposed and reordered into Keras' kernel and recurrent_kernel in i, f, c, o`
        : `ONNX ${op} W and R rows (gate order ${ONNX_GATES[op]}, the same as Keras' ${KERAS_GATES[op]}) transposed into Keras' kernel and recurrent_kernel`;
    const bias = !B
      ? "no B: zero biases in ONNX, read as use_bias=False"
      : resetAfter
        ? "B split into the input bias Wb (bias row 0) and the recurrent bias Rb (row 1): linear_before_reset=1 is Keras' reset_after=True"
        : `B split into the input bias Wb and the recurrent bias Rb${rbZero ? " (all zero here)" : ""}, summed as Keras' single bias${rbZero ? "" : " (rounded to the tensor's precision, as ONNX Runtime adds them)"}`;
    const config: Record<string, unknown> = {
      name: layerName,
      units: u,
      activation: op === "RNN" ? activations[d][0] : activations[d][1],
      use_bias: B !== undefined,
      go_backwards: goBackwards,
    };
    if (op !== "RNN") config.recurrent_activation = activations[d][0];
    if (op === "GRU") config.reset_after = resetAfter;
    return {
      className: KERAS_CLASS[op],
      name: layerName,
      config,
      weights: tensors,
      children: [],
      inbound: [],
      notes: [`${mapping}${dirs === 2 ? ` (direction ${d}: ${d === 0 ? "forward" : "reverse"})` : ""}; ${bias}`, ...notesCommon],
    };
  };
  if (dirs === 1) return direct(0, name, direction === "reverse");
  // ONNX's Y stacks the directions on their own axis; the ops after the node merge them, and are not read.
  return {
    className: "Bidirectional",
    name,
    config: { name },
    weights: [],
    children: [direct(0, `forward_${name}`, false), direct(1, `backward_${name}`, true)],
    inbound: [],
    notes: ["ONNX bidirectional node: the ops after it merge the two directions (not read, so merge_mode is unknown)"],
  };
}

/** One line on what a graph without RNN nodes holds (`diff` then locates Keras weights among its constants). */
function noRnnRefusal(graph: GraphMessage, label: string): NoRecurrentOpError {
  const counts = new Map<string, number>();
  for (const n of graph.node) counts.set(n.op_type, (counts.get(n.op_type) ?? 0) + 1);
  const ops = [...counts].sort((a, b) => b[1] - a[1]);
  const listed = ops.slice(0, 8).map(([op, k]) => `${op} ×${k}`).join(", ") + (ops.length > 8 ? ", …" : "");
  const loops = (counts.get("Loop") ?? 0) + (counts.get("Scan") ?? 0);
  const unrolled = counts.has("Sigmoid") && counts.has("Tanh") && counts.has("MatMul");
  const what =
    loops > 0
      ? "its recurrent layers were exported as Loop/Scan ops, their weights plain constants of the loop bodies"
      : unrolled
        ? "its recurrent layers look unrolled into MatMul/Sigmoid/Tanh ops, their weights plain constants"
        : "it holds no recurrent layer this tool can see";
  return new NoRecurrentOpError(
    label,
    `ONNX graph with no LSTM, GRU or RNN node (${graph.node.length} nodes: ${listed}); ${what}, which keras-inspect does not map back to Keras layers or evaluate (diff KERAS EXPORT locates the Keras weights among them)`,
    "onnx",
  );
}

function opsetOf(model: ModelMessage, ctx: Context): number | undefined {
  const entry = model.opset_import.find((o) => o.domain === "" || o.domain === "ai.onnx");
  return entry ? int64(entry.version, ctx, "the opset version") : undefined;
}

/** The ModelProto in `bytes`, or a FileError saying why protobuf could not decode it. */
export function decodeOnnx(bytes: Uint8Array, label: string): ModelMessage {
  try {
    return decodeModel(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    const nested = /max depth exceeded/.test(reason) ? "messages nested deeper than protobuf's limit of 100" : reason;
    throw new FileError(label, `is not an ONNX model (protobuf decoding failed: ${nested})`, { cause: err });
  }
}

/** Reads an ONNX model already in memory; `folder` is where its external data may live. */
export async function readOnnx(bytes: Uint8Array, label: string, folder: string): Promise<Model> {
  const ctx: Context = { label, folder };
  const model = decodeOnnx(bytes, label);
  const irVersion = int64(model.ir_version, ctx, "ir_version");
  const graph = model.graph;
  if (!graph || irVersion <= 0 || graph.node.length === 0) {
    throw new FileError(label, "is not an ONNX model: no ir_version or no graph with nodes");
  }
  const rnn = graph.node.filter((n) => RNN_OPS.has(n.op_type) && (n.domain === "" || n.domain === "ai.onnx"));
  if (rnn.length === 0) throw noRnnRefusal(graph, label);

  const constants = constantsOf(graph);
  const used = new Set<string>();
  const layers: Layer[] = [];
  for (const [k, node] of rnn.entries()) {
    // Node names are optional in ONNX and need not be unique across ops; a layer name must be.
    let name = node.name || `${node.op_type.toLowerCase()}_${k + 1}`;
    while (used.has(name)) name = `${name}_${k + 1}`;
    used.add(name);
    layers.push(await layerOfNode(node, name, constants, ctx));
  }

  const opset = opsetOf(model, ctx);
  const producer = [model.producer_name, model.producer_version].filter((s) => s).join(" ") || "an unnamed producer";
  const others = new Map<string, number>();
  for (const n of graph.node) if (!rnn.includes(n)) others.set(n.op_type, (others.get(n.op_type) ?? 0) + 1);
  const otherList = [...others].sort((a, b) => b[1] - a[1]).map(([op, c]) => `${op} ×${c}`);
  return {
    format: "onnx",
    source: label,
    kerasMajor: 2,
    modelClass: "ONNX graph",
    name: graph.name || basename(label).replace(/\.[^.]*$/, ""),
    layers,
    inputs: [],
    outputs: [],
    layersRead: "recurrent",
    notes: [
      `ONNX model written by ${producer} (IR ${irVersion}${opset !== undefined ? `, opset ${opset}` : ""}): its ${rnn.length} recurrent node(s) are read as Keras layers, in graph order`,
      ...(otherList.length > 0 ? [`the graph's other ${graph.node.length - rnn.length} node(s) (${otherList.slice(0, 8).join(", ")}${otherList.length > 8 ? ", …" : ""}) are not mapped to Keras layers`] : []),
      "Keras layer names are not stored in an ONNX graph: layers are named after their nodes",
      "whether a layer returns sequences is decided by the ops after its node (converters take the last step of Y themselves), so return_sequences is not read",
    ],
  };
}

/** Reads an `.onnx` file; external-data tensors are looked for in its folder. */
export async function loadOnnx(path: string): Promise<Model> {
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new FileError(path, "is a directory, not an ONNX model");
    if (!st.isFile()) throw new FileError(path, "is not a regular file");
    if (st.size > MAX_ONNX_BYTES) throw new FileError(path, `is ${st.size} bytes, over the ${MAX_ONNX_BYTES}-byte limit for an ONNX model`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(path, systemReason(err), { cause: err });
  }
  return readOnnx(bytes, path, dirname(path));
}
