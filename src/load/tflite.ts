/**
 * TFLite models whose LSTM layers were converted to the fused `UNIDIRECTIONAL_SEQUENCE_LSTM`
 * op (the TFLite converter's default for Keras 2 / tf.keras LSTM layers): each op becomes a
 * Keras `LSTM` layer whose tensors are in Keras' layout, so the layer kinds, `weights`,
 * `step --raw-input` and `diff` treat it as they treat a Keras file. The rest of the graph is
 * not mapped back to layers (`layersRead: "recurrent"`), as for ONNX.
 *
 * The op against Keras (tensorflow/lite/kernels/unidirectional_sequence_lstm.cc, lstm_shared.h):
 * - inputs 1–4 are input_to_{input, forget, cell, output}_weights `[units, in]`, 5–8
 *   recurrent_to_{…}_weights `[units, units]`, 12–15 the {input, forget, cell, output} gate
 *   biases `[units]`: one tensor per gate. Keras' kernel `(in, 4u)` and recurrent_kernel
 *   `(u, 4u)` hold one column per gate unit in the order i, f, c, o, and its bias `(4u,)`
 *   the four biases in that order: each matrix is transposed into its gate's columns.
 * - 9–11 are peepholes, 16–17 a projection, 20–23 layer-norm coefficients: Keras' LSTM has
 *   none, so a file using them is refused; an absent input-gate tensor (CIFG, input and
 *   forget gates coupled) likewise.
 * - the gates' activation is always the sigmoid; the options' fused_activation_function is
 *   the cell and output activation (Keras' `activation`); cell_clip clips the cell state,
 *   which Keras does not: the converter writes 10 for every Keras LSTM, so it is said in the
 *   layer's notes (a state within ±10 is unaffected), not refused.
 * - int8 / uint8 / int16 / int32 tensors with a scale are dequantized as TFLite's
 *   DEQUANTIZE computes, float(scale · (q − zero_point)), per tensor or per channel along
 *   quantized_dimension; float16 tensors (stored as such, or behind a DEQUANTIZE op) are
 *   widened exactly. The layer's notes say which were.
 *
 * Keras 3 exports have no fused op: their LSTM is a `WHILE` loop over FULLY_CONNECTED ops
 * with Flex TensorList ops, its weights either constants of the loop or resource variables.
 * Those, and single-step cells unrolled into FULLY_CONNECTED/LOGISTIC/TANH, are refused in
 * one line that says what the file holds (a NoRecurrentOpError: `diff` then reads their
 * constants, tflite-constants.ts, to locate a Keras model's weights among them).
 *
 * Untrusted bytes: tflite-schema.ts checks every offset and length; a tensor's claimed shape
 * is checked against the bytes its buffer holds before anything is allocated.
 */
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { FileError, systemReason } from "../errors.js";
import type { ByteSource } from "./byte-source.js";
import { NoRecurrentOpError } from "./export-constants.js";
import type { Layer, Model, Tensor } from "../model.js";
import { halfToNumber } from "./half.js";
import {
  ACTIVATION_NAMES,
  decodeTflite,
  FlatbufferError,
  Op,
  opName,
  sequenceLstmOptions,
  TENSOR_TYPE_NAMES,
  TensorType,
  type TfliteModel,
  type TfliteOperator,
  type TfliteSubgraph,
  type TfliteTensor,
} from "./tflite-schema.js";

/** Largest .tflite file we read (a flatbuffer's own offsets stop at 2 GiB). */
export const MAX_TFLITE_BYTES = 1024 * 1024 * 1024;

/** Bytes per element of the tensor types read as weights. */
const ELEMENT_BYTES: Partial<Record<number, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.FLOAT64]: 8,
  [TensorType.INT8]: 1,
  [TensorType.UINT8]: 1,
  [TensorType.INT16]: 2,
  [TensorType.INT32]: 4,
};

/** The fused LSTM's inputs, by index (unidirectional_sequence_lstm.cc). */
const KERNELS = [1, 2, 3, 4]; // input_to_{input, forget, cell, output}_weights
const RECURRENT = [5, 6, 7, 8];
const BIASES = [12, 13, 14, 15];
const UNSUPPORTED_INPUTS: [number[], string][] = [
  [[9, 10, 11], "peephole weights (cell_to_*_weights)"],
  [[16, 17], "a projection (projection_weights / projection_bias)"],
  [[20, 21, 22, 23], "layer normalization coefficients"],
];
const GATES = ["i", "f", "c", "o"];

/** fused_activation_function → Keras activation name. */
const KERAS_ACTIVATION: Record<string, string> = { NONE: "linear", RELU: "relu", TANH: "tanh" };

export interface Context {
  label: string;
  bytes: Uint8Array;
  model: TfliteModel;
  /** Bytes of weight values read so far: ops sharing one big buffer must not multiply the memory a file claims. */
  materialized: number;
}

/** Weight bytes read at most, relative to the file: every op's own weights fit 1×; sharing gets some room. */
const MATERIALIZED_FACTOR = 4;

export interface Read {
  values: Float32Array | Float64Array;
  shape: number[];
  /** How the values were obtained, when not read as stored float32 (for the notes). */
  how?: string;
  /** The scale(s) of a quantized tensor, for the notes. */
  scales?: string;
  /** Quantized tensors: the step of each unit (row of [units, cols]; entry of a bias). */
  unitSteps?: number[];
  /** Stored as float16 (widened exactly). */
  float16?: boolean;
}

/** The stored values of tensor `index` of `graph`, as float; a DEQUANTIZE op feeding it is followed to its constant. */
export function tensorValues(graph: TfliteSubgraph, index: number, ctx: Context, what: string): Read {
  let tensor = tensorAt(graph, index, ctx, what);
  let viaDequantize = false;
  const producer = graph.operators.find((o) => o.outputs.includes(index));
  if (producer) {
    const code = ctx.model.operatorCodes[producer.opcodeIndex];
    if (code?.builtin !== Op.DEQUANTIZE) {
      throw new FileError(ctx.label, `${what} is computed by a ${code ? opName(code) : "unknown"} op, not stored; its weights cannot be read`);
    }
    tensor = tensorAt(graph, producer.inputs[0] ?? -1, ctx, `the input of the DEQUANTIZE op feeding ${what}`);
    viaDequantize = true;
  }
  const name = JSON.stringify(tensor.name.slice(0, 80));
  const buffer = ctx.model.buffers[tensor.buffer];
  if (!buffer) throw new FileError(ctx.label, `${what} (tensor ${name}) names buffer ${tensor.buffer}, but the file has ${ctx.model.buffers.length}`);
  if (buffer.length === 0) throw new FileError(ctx.label, `${what} (tensor ${name}) holds no values in this file${tensor.isVariable ? " (a variable)" : ""}`);
  const size = ELEMENT_BYTES[tensor.type];
  const typeName = TENSOR_TYPE_NAMES[tensor.type] ?? `type ${tensor.type}`;
  if (size === undefined) throw new FileError(ctx.label, `${what} (tensor ${name}) holds ${typeName} values; weights are read as float32, float16, float64 or quantized integers`);
  const shape = tensor.shape;
  if (shape.some((d) => d < 0)) throw new FileError(ctx.label, `${what} (tensor ${name}) has a negative dimension [${shape.join(", ")}]`);
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count * size > buffer.length) break;
  }
  if (count * size !== buffer.length) {
    throw new FileError(ctx.label, `${what} (tensor ${name}) claims shape [${shape.join(", ")}] of ${typeName} but its buffer holds ${buffer.length} bytes`);
  }
  ctx.materialized += buffer.length;
  if (ctx.materialized > MATERIALIZED_FACTOR * ctx.bytes.length + (1 << 20)) {
    throw new FileError(ctx.label, `its LSTM ops read the same weight buffers over and over (over ${ctx.materialized} bytes of weights from a ${ctx.bytes.length}-byte file)`);
  }
  const view = new DataView(ctx.bytes.buffer, ctx.bytes.byteOffset + buffer.start, buffer.length);
  if (tensor.type === TensorType.FLOAT32 || tensor.type === TensorType.FLOAT16 || tensor.type === TensorType.FLOAT64) {
    if (tensor.type === TensorType.FLOAT64) {
      const values = new Float64Array(count);
      for (let k = 0; k < count; k++) values[k] = view.getFloat64(8 * k, true);
      return { values, shape };
    }
    const values = new Float32Array(count);
    if (tensor.type === TensorType.FLOAT32) {
      for (let k = 0; k < count; k++) values[k] = view.getFloat32(4 * k, true);
      return { values, shape, ...(viaDequantize ? { how: "float32 behind a DEQUANTIZE op" } : {}) };
    }
    for (let k = 0; k < count; k++) values[k] = halfToNumber(view.getUint16(2 * k, true));
    return { values, shape, how: `float16${viaDequantize ? " behind a DEQUANTIZE op" : ""}, widened exactly`, float16: true };
  }
  const q = tensor.quantization;
  if (!q) throw new FileError(ctx.label, `${what} (tensor ${name}) holds ${typeName} values without a quantization scale`);
  const read = (k: number): number => {
    switch (tensor.type) {
      case TensorType.INT8: return view.getInt8(k);
      case TensorType.UINT8: return view.getUint8(k);
      case TensorType.INT16: return view.getInt16(2 * k, true);
      default: return view.getInt32(4 * k, true);
    }
  };
  // Per tensor: one scale. Per channel: one scale (and zero point) per index along quantized_dimension.
  const axis = q.quantizedDimension;
  const perChannel = q.scale.length > 1;
  if (perChannel && (axis < 0 || axis >= shape.length || shape[axis] !== q.scale.length)) {
    throw new FileError(ctx.label, `${what} (tensor ${name}) has ${q.scale.length} scales along dimension ${axis} of [${shape.join(", ")}]`);
  }
  if (q.zeroPoint.length > 1 && q.zeroPoint.length !== q.scale.length) {
    throw new FileError(ctx.label, `${what} (tensor ${name}) has ${q.scale.length} scales but ${q.zeroPoint.length} zero points`);
  }
  const inner = perChannel ? shape.slice(axis + 1).reduce((a, b) => a * b, 1) : 1;
  const channels = q.scale.length;
  const values = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const c = perChannel ? Math.floor(k / inner) % channels : 0;
    const zero = q.zeroPoint.length > 1 ? q.zeroPoint[c] : (q.zeroPoint[0] ?? 0);
    // TFLite's Dequantize: static_cast<float>(scale * (q - zero_point)), scale widened to double.
    values[k] = Math.fround(q.scale[c] * (read(k) - zero));
  }
  const zeros = [...new Set(q.zeroPoint.length > 0 ? q.zeroPoint : [0])];
  const scheme = perChannel
    ? `${typeName} per channel (along dimension ${axis}, zero point${zeros.length > 1 ? "s" : ""} ${zeros.slice(0, 3).join(", ")}${zeros.length > 3 ? ", …" : ""})`
    : `${typeName} per tensor (zero point ${zeros[0]})`;
  const scales = perChannel ? `${channels} scales ${Math.min(...q.scale)} to ${Math.max(...q.scale)}` : `scale ${q.scale[0]}`;
  // The weights' units are their first axis: a per-channel scale along it is each unit's step.
  const unitSteps = Array.from({ length: shape[0] ?? 1 }, (_, j) => (perChannel ? (axis === 0 ? q.scale[j] : Math.max(...q.scale)) : q.scale[0]));
  return { values, shape, how: `${scheme}${viaDequantize ? " behind a DEQUANTIZE op" : ""}, dequantized as float(scale · (q − zero_point))`, scales, unitSteps };
}

function tensorAt(graph: TfliteSubgraph, index: number, ctx: Context, what: string): TfliteTensor {
  const t = index >= 0 ? graph.tensors[index] : undefined;
  if (!t) throw new FileError(ctx.label, `${what} is tensor ${index}, but the subgraph has ${graph.tensors.length}`);
  return t;
}

/** A Keras layer name found among the op's tensor names (`model/sequential/lstm/zeros` → `lstm`), if any. */
function layerNameOf(graph: TfliteSubgraph, op: TfliteOperator): string | undefined {
  for (const index of [...op.outputs, op.inputs[18] ?? -1, op.inputs[19] ?? -1]) {
    const parts = (graph.tensors[index]?.name ?? "").split("/");
    for (let k = parts.length - 2; k >= 0; k--) {
      if (/^[A-Za-z_][\w.-]{0,80}$/.test(parts[k]) && /lstm/i.test(parts[k]) && !/^tfl\./.test(parts[k])) return parts[k];
    }
  }
  return undefined;
}

function layerOfLstm(graph: TfliteSubgraph, op: TfliteOperator, name: string, where: string, ctx: Context): Layer {
  const input = (k: number) => op.inputs[k] ?? -1;
  if (op.inputs.length < 20) throw new FileError(ctx.label, `${where} has ${op.inputs.length} inputs; UNIDIRECTIONAL_SEQUENCE_LSTM takes 20 or 24`);
  if (input(1) < 0 || input(5) < 0 || input(12) < 0) {
    throw new FileError(ctx.label, `${where} has no input-gate weights (CIFG: input and forget gates coupled), which Keras' LSTM does not have`);
  }
  for (const [indices, what] of UNSUPPORTED_INPUTS) {
    if (indices.some((k) => input(k) >= 0)) throw new FileError(ctx.label, `${where} uses ${what}, which Keras' LSTM does not have`);
  }
  const options = sequenceLstmOptions(op.options);
  const activationName = ACTIVATION_NAMES[options.activation] ?? `activation ${options.activation}`;
  const activation = KERAS_ACTIVATION[activationName];
  if (!activation) throw new FileError(ctx.label, `${where} uses the fused activation ${activationName}, which is not one of Keras' recurrent activations`);
  if (!Number.isFinite(options.cellClip) || options.cellClip < 0) throw new FileError(ctx.label, `${where} has cell_clip ${options.cellClip}, not a clip bound`);

  const how = new Map<string, string[]>();
  const read = (k: number, role: string, gate: string): Read => {
    const r = tensorValues(graph, input(k), ctx, `the ${role} of gate ${gate} of ${where}`);
    if (r.how) how.set(r.how, [...(how.get(r.how) ?? []), `${role}_${gate}${r.scales ? ` (${r.scales})` : ""}`]);
    return r;
  };
  const kernels = KERNELS.map((k, g) => read(k, "kernel", GATES[g]));
  const recurrent = RECURRENT.map((k, g) => read(k, "recurrent_kernel", GATES[g]));
  const biases = BIASES.map((k, g) => read(k, "bias", GATES[g]));
  const u = recurrent[0].shape[0];
  const inputSize = kernels[0].shape[1];
  const badShape = (r: Read, want: number[]) => r.shape.length !== want.length || r.shape.some((d, k) => d !== want[k]);
  for (let g = 0; g < 4; g++) {
    if (badShape(kernels[g], [u, inputSize]) || badShape(recurrent[g], [u, u]) || badShape(biases[g], [u])) {
      throw new FileError(ctx.label, `${where}: gate ${GATES[g]} has weights [${kernels[g].shape.join(", ")}], recurrent weights [${recurrent[g].shape.join(", ")}] and bias [${biases[g].shape.join(", ")}]; [units, input], [units, units] and [units] expected with the same units for every gate`);
    }
  }
  const width = 4 * u;
  const float64 = [...kernels, ...recurrent, ...biases].some((r) => r.values instanceof Float64Array);
  const make = (n: number) => (float64 ? new Float64Array(n) : new Float32Array(n));
  // kernel[k][g·u + j] = W_g[j][k]: each gate's [units, cols] matrix transposed into its columns.
  const transpose = (gates: Read[], cols: number) => {
    const out = make(cols * width);
    for (let g = 0; g < 4; g++) {
      const src = gates[g].values;
      for (let j = 0; j < u; j++) for (let k = 0; k < cols; k++) out[k * width + g * u + j] = src[j * cols + k];
    }
    return out;
  };
  const bias = make(width);
  for (let g = 0; g < 4; g++) bias.set(biases[g].values, g * u);
  const dtype = float64 ? "float64" : "float32";
  // Keras' last axis is gate-major units, so column g·u + j has the step of unit j of gate g's tensor.
  const steps = (gates: Read[]): Float64Array | undefined => {
    if (!gates.some((r) => r.unitSteps)) return undefined;
    const out = new Float64Array(width);
    gates.forEach((r, g) => r.unitSteps?.forEach((step, j) => (out[g * u + j] = step)));
    return out;
  };
  // A Keras tensor whose four gate tensors were all float16 holds float16 numbers throughout.
  const withSteps = (t: Tensor, gates: Read[]): Tensor => {
    const q = steps(gates);
    if (q) return { ...t, quantizationStep: q };
    return gates.every((r) => r.float16) ? { ...t, storedAsFloat16: true } : t;
  };
  const path = (indices: number[]) => `${where}: tensors ${indices.map(input).join(", ")}`;
  const weights: Tensor[] = [
    withSteps({ name: "kernel", path: path(KERNELS), shape: [inputSize, width], dtype, data: transpose(kernels, inputSize) }, kernels),
    withSteps({ name: "recurrent_kernel", path: path(RECURRENT), shape: [u, width], dtype, data: transpose(recurrent, u) }, recurrent),
    withSteps({ name: "bias", path: path(BIASES), shape: [width], dtype, data: bias }, biases),
  ];
  const notes = [
    "TFLite UNIDIRECTIONAL_SEQUENCE_LSTM: its per-gate input_to_*_weights and recurrent_to_*_weights [units, cols] transposed into Keras' kernel and recurrent_kernel columns in gate order i, f, c, o; the four gate biases joined in that order as Keras' bias",
    `fused_activation_function ${activationName} read as activation '${activation}'; TFLite's gates always use the sigmoid`,
  ];
  for (const [scheme, roles] of how) notes.push(`${scheme}: ${roles.join(", ")}`);
  // The converter writes cell_clip 10 for every Keras LSTM (its default), so it is said, not refused.
  if (options.cellClip > 0) notes.push(`cell_clip ${options.cellClip}: the TFLite runtime clips the cell state to ±${options.cellClip}, which Keras' LSTM does not; keras-inspect evaluates without the clip, so a cell state beyond it would differ from the runtime's`);
  if (options.projClip !== 0) notes.push(`proj_clip ${options.projClip} is set but the op has no projection, so it has no effect`);
  const integerState = [18, 19].map((k) => graph.tensors[input(k)]).some((t) => t && t.type !== TensorType.FLOAT32);
  if (integerState) notes.push("the TFLite runtime computes this layer in integer arithmetic (its states are quantized); keras-inspect evaluates the dequantized weights in float");
  if (options.timeMajor) notes.push("time_major: the op takes its input as [time, batch, features]; the weights are laid out the same");
  return {
    className: "LSTM",
    name,
    config: { name, units: u, activation, recurrent_activation: "sigmoid", use_bias: true },
    weights,
    children: [],
    inbound: [],
    notes,
  };
}

/** One line on what a file without a fused LSTM op holds (`diff` then locates Keras weights among its constants). */
function noLstmRefusal(ctx: Context): NoRecurrentOpError {
  const counts = new Map<string, number>();
  let flex = 0;
  let total = 0;
  for (const g of ctx.model.subgraphs) {
    for (const o of g.operators) {
      const code = ctx.model.operatorCodes[o.opcodeIndex];
      const n = code ? opName(code) : "unknown op";
      if (code?.custom?.startsWith("Flex")) flex++;
      counts.set(n, (counts.get(n) ?? 0) + 1);
      total++;
    }
  }
  const has = (op: number) => [...counts.keys()].includes(opName({ builtin: op }));
  const ops = [...counts].sort((a, b) => b[1] - a[1]);
  const listed = ops.slice(0, 8).map(([op, k]) => `${op} ×${k}`).join(", ") + (ops.length > 8 ? ", …" : "");
  const what =
    has(Op.WHILE) && has(Op.VAR_HANDLE) && has(Op.READ_VARIABLE) && !has(Op.ASSIGN_VARIABLE)
      ? "LSTM weights are not stored in this file (resource variables without an initializer, read by a WHILE loop)"
      : has(Op.WHILE)
        ? `recurrent layer exported as a WHILE loop${flex > 0 ? " with Flex ops" : ""}; its weights are plain constants of the loop, not mapped back to a Keras layer or evaluated (diff KERAS EXPORT locates them)`
        : has(Op.FULLY_CONNECTED) && has(Op.LOGISTIC) && has(Op.TANH)
          ? "its recurrent layers look unrolled into FULLY_CONNECTED/LOGISTIC/TANH ops, their weights plain constants, which keras-inspect does not map back to Keras layers or evaluate (diff KERAS EXPORT locates them)"
          : "it holds no recurrent layer this tool can see";
  return new NoRecurrentOpError(ctx.label, `TFLite model with no UNIDIRECTIONAL_SEQUENCE_LSTM op (${total} ops in ${ctx.model.subgraphs.length} subgraph(s): ${listed}): ${what}`, "tflite");
}

/** Reads a TFLite flatbuffer already in memory. */
export function readTflite(bytes: Uint8Array, label: string): Model {
  try {
    return readDecoded(decodeTflite(bytes), bytes, label);
  } catch (err) {
    // Tables read after decoding (an op's options) check their bounds too.
    if (err instanceof FlatbufferError) throw new FileError(label, `is not a readable TFLite model: ${err.message}`, { cause: err });
    throw err;
  }
}

function readDecoded(model: TfliteModel, bytes: Uint8Array, label: string): Model {
  const ctx: Context = { label, bytes, model, materialized: 0 };
  const refused = new Map<number, string>([
    [Op.BIDIRECTIONAL_SEQUENCE_LSTM, "BIDIRECTIONAL_SEQUENCE_LSTM"],
    [Op.UNIDIRECTIONAL_SEQUENCE_RNN, "UNIDIRECTIONAL_SEQUENCE_RNN"],
    [Op.BIDIRECTIONAL_SEQUENCE_RNN, "BIDIRECTIONAL_SEQUENCE_RNN"],
    [Op.LSTM, "LSTM (one step)"],
  ]);
  const layers: Layer[] = [];
  const used = new Set<string>();
  const otherOps = new Map<string, number>();
  let opCount = 0;
  for (const [gi, graph] of model.subgraphs.entries()) {
    for (const [oi, op] of graph.operators.entries()) {
      opCount++;
      const code = model.operatorCodes[op.opcodeIndex];
      if (!code) throw new FileError(label, `operator ${oi} of subgraph ${gi} names operator code ${op.opcodeIndex}, but the file has ${model.operatorCodes.length}`);
      const where = `UNIDIRECTIONAL_SEQUENCE_LSTM op ${oi} of subgraph ${gi}`;
      if (refused.has(code.builtin)) throw new FileError(label, `holds a ${refused.get(code.builtin)} op (op ${oi} of subgraph ${gi}), which keras-inspect does not read yet; only UNIDIRECTIONAL_SEQUENCE_LSTM is mapped to a Keras layer`);
      if (code.builtin !== Op.UNIDIRECTIONAL_SEQUENCE_LSTM) {
        const n = opName(code);
        otherOps.set(n, (otherOps.get(n) ?? 0) + 1);
        continue;
      }
      let name = layerNameOf(graph, op) ?? `unidirectional_sequence_lstm_${layers.length + 1}`;
      while (used.has(name)) name = `${name}_${layers.length + 1}`;
      used.add(name);
      layers.push(layerOfLstm(graph, op, name, where, ctx));
    }
  }
  if (layers.length === 0) throw noLstmRefusal(ctx);
  const others = [...otherOps].sort((a, b) => b[1] - a[1]).map(([op, c]) => `${op} ×${c}`);
  return {
    format: "tflite",
    source: label,
    kerasMajor: 2,
    modelClass: "TFLite graph",
    name: basename(label).replace(/\.[^.]*$/, ""),
    layers,
    inputs: [],
    outputs: [],
    layersRead: "recurrent",
    notes: [
      `TFLite model (schema version ${model.version}${model.description ? `, ${JSON.stringify(model.description.slice(0, 60))}` : ""}): its ${layers.length} UNIDIRECTIONAL_SEQUENCE_LSTM op(s) are read as Keras LSTM layers, in graph order`,
      ...(others.length > 0 ? [`the graph's other ${opCount - layers.length} op(s) (${others.slice(0, 8).join(", ")}${others.length > 8 ? ", …" : ""}) are not mapped to Keras layers`] : []),
      "Keras layer names are not stored in a TFLite graph: a layer is named after a tensor name that holds one, else after its op",
      "whether a layer returns sequences is decided by the ops after it, so return_sequences is not read",
    ],
  };
}

/** Reads a `.tflite` file whole. */
export async function loadTflite(path: string): Promise<Model> {
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new FileError(path, "is a directory, not a TFLite model");
    if (!st.isFile()) throw new FileError(path, "is not a regular file");
    if (st.size > MAX_TFLITE_BYTES) throw new FileError(path, `is ${st.size} bytes, over the ${MAX_TFLITE_BYTES}-byte limit for a TFLite model`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(path, systemReason(err), { cause: err });
  }
  return readTflite(bytes, path);
}

/** Reads a TFLite model from a source the loader opened (a file or bytes in memory), which it closes. */
export function readTfliteSource(source: ByteSource, label: string): Model {
  let bytes: Uint8Array;
  try {
    if (source.size > MAX_TFLITE_BYTES) throw new FileError(label, `is ${source.size} bytes, over the ${MAX_TFLITE_BYTES}-byte limit for a TFLite model`);
    const direct = source.view?.(0, source.size);
    bytes = direct ?? new Uint8Array(source.size);
    if (!direct) {
      let at = 0;
      while (at < bytes.length) {
        const n = source.read(bytes.subarray(at), at);
        if (n <= 0) throw new FileError(label, `ended after ${at} of its ${source.size} bytes while being read`);
        at += n;
      }
    }
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(label, systemReason(err), { cause: err });
  } finally {
    source.close();
  }
  return readTflite(bytes, label);
}
