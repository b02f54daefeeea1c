/**
 * The `structure` and `dtypes` checks: every layer stores the tensors its class and
 * config imply — the right names, nothing missing, nothing extra, the right shapes —
 * and every tensor is floating point.
 *
 * Shapes are derived from the config (units, filters, use_bias, reset_after, ...) and
 * from the number of features that reach the layer (its input dimension), which comes
 * from the model's declared input shape and the layers before it. Where the input
 * dimension cannot be known (a weights-only file has no graph; a layer after one
 * whose output shape keras-inspect cannot infer), the stored kernel's first
 * dimension is taken as the input dimension and everything else is still checked.
 *
 * Stored layouts (keras-formats.md §A3, keras/src/layers/*.py build()):
 *   LSTM       kernel (D, 4u)  recurrent_kernel (u, 4u)  bias (4u)
 *   CuDNNLSTM  kernel (D, 4u)  recurrent_kernel (u, 4u)  bias (8u)
 *   GRU        kernel (D, 3u)  recurrent_kernel (u, 3u)  bias (3u), or (2, 3u) with reset_after
 *   CuDNNGRU   kernel (D, 3u)  recurrent_kernel (u, 3u)  bias (6u)
 *   SimpleRNN  kernel (D, u)   recurrent_kernel (u, u)   bias (u)
 *   Keras 1    W_g (D, u), U_g (u, u), b_g (u) per gate (LSTM i, c, f, o; GRU z, r, h),
 *              or fused W, U, b (consume_less='gpu'; SimpleRNN always)
 *   Dense      kernel (D, units)  bias (units)             Keras 1: W, b
 *   Embedding  embeddings (input_dim, output_dim)         Keras 1: W
 *   Conv1D     kernel (k, D/groups, filters)  bias (filters);  Conv2D kernel (kh, kw, D/groups, filters)
 *   ConvLSTM2D kernel (kh, kw, D, 4f)  recurrent_kernel (kh, kw, f, 4f)  bias (4f)
 *   BatchNormalization  gamma, beta, moving_mean, moving_variance (C)   Keras 1: running_mean, running_std
 *   LayerNormalization  gamma, beta (C)
 */
import { declaredInputShape } from "../layers/core.js";
import type { Shape } from "../layers/kind.js";
import { recurrentKindOf } from "../layers/registry.js";
import { storedWeightNames } from "../layers/weight-names.js";
import { graphOfModel, SEQUENTIAL_INPUT, callsInOrder } from "../eval/graph.js";
import { inferShapes, isNestedModel } from "../eval/shapes.js";
import { type Layer, type MissingTensor, type Model, type Tensor, walkLayers } from "../model.js";
import { type Check, firstProblems } from "./types.js";

/** One tensor a layer should store. A null dimension is not checked. */
interface Expected {
  name: string;
  shape: (number | null)[] | null;
  /** What implies the shape, for messages: "units=4 and 3 input features". */
  why: string;
}

/** What a class stores, or `undefined` when keras-inspect does not know the class. */
type Expectation = { tensors: Expected[]; optional?: string[] } | undefined;

/** Classes that store no weights. Anything stored on them is reported as extra. */
const WEIGHTLESS = new Set([
  "InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
  "AlphaDropout", "ActivityRegularization", "Activation", "Masking", "Flatten", "Reshape", "RepeatVector", "Permute",
  "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot", "Merge", "LeakyReLU", "ReLU",
  "ELU", "Softmax", "ThresholdedReLU", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
  "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
  "GlobalAveragePooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalMaxPool1D", "GlobalAvgPool1D",
  "Cropping1D", "Cropping2D", "ZeroPadding1D", "ZeroPadding2D", "UpSampling1D", "UpSampling2D", "Lambda",
  "Bidirectional", "TimeDistributed", "Sequential", "Model", "Functional",
]);

const GATE_COUNT: Record<string, number> = { lstm: 4, gru: 3, simple_rnn: 1 };
/** Keras 1 per-gate arrays, in the order Keras 1 stored them. */
const KERAS1_GATES: Record<string, string[]> = { lstm: ["i", "c", "f", "o"], gru: ["z", "r", "h"] };

function positiveInt(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined;
}

function ints(v: unknown): number[] | undefined {
  if (typeof v === "number") return [v];
  if (Array.isArray(v) && v.every((d) => typeof d === "number")) return v as number[];
  return undefined;
}

const has = (layer: Layer, name: string) => layer.weights.some((t) => t.name === name);

/** The input dimension: from the incoming shape, else the stored kernel's first axis. */
function inputDim(input: Shape | undefined, layer: Layer, kernelName: string, axis = 0): { D: number | null; from: string } {
  const last = input?.[input.length - 1];
  if (typeof last === "number") return { D: last, from: `${last} input features` };
  const k = layer.weights.find((t) => t.name === kernelName);
  return { D: k?.shape[axis] ?? null, from: "the stored input size" };
}

class ConfigProblem extends Error {}

function requireInt(layer: Layer, key: string, ...fallbacks: string[]): number {
  for (const k of [key, ...fallbacks]) {
    const v = positiveInt(layer.config[k]);
    if (v !== undefined) return v;
  }
  throw new ConfigProblem(`config '${key}' is ${JSON.stringify(layer.config[key])}, expected a positive integer`);
}

function recurrentExpectation(layer: Layer, kindName: string, input: Shape | undefined): Expectation {
  const u = requireInt(layer, "units");
  const G = GATE_COUNT[kindName];
  const cls = layer.className;
  const useBias = layer.config.use_bias !== false;
  const keras1Gates = layer.weights.some((t) => /^[WUb]_[a-z]$/.test(t.name));
  if (keras1Gates && KERAS1_GATES[kindName]) {
    const { D, from } = inputDim(input, layer, `W_${KERAS1_GATES[kindName][0]}`);
    const why = `units=${u} and ${from}`;
    return {
      tensors: KERAS1_GATES[kindName].flatMap((g) => [
        { name: `W_${g}`, shape: [D, u], why },
        { name: `U_${g}`, shape: [u, u], why: `units=${u}` },
        { name: `b_${g}`, shape: [u], why: `units=${u}` },
      ]),
    };
  }
  const keras1Fused = !has(layer, "kernel") && has(layer, "W");
  const [K, R, B] = keras1Fused ? ["W", "U", "b"] : ["kernel", "recurrent_kernel", "bias"];
  const { D, from } = inputDim(input, layer, K);
  const tensors: Expected[] = [
    { name: K, shape: [D, G * u], why: `units=${u} and ${from}` },
    { name: R, shape: [u, G * u], why: `units=${u}` },
  ];
  if (cls === "CuDNNLSTM") tensors.push({ name: B, shape: [8 * u], why: `CuDNNLSTM units=${u} (input and recurrent biases)` });
  else if (cls === "CuDNNGRU") tensors.push({ name: B, shape: [6 * u], why: `CuDNNGRU units=${u} (input and recurrent biases)` });
  else if (keras1Fused || useBias) {
    const after = kindName === "gru" && layer.config.reset_after === true;
    tensors.push({
      name: B,
      shape: after ? [2, 3 * u] : [G * u],
      why: kindName === "gru" ? `reset_after=${after} and units=${u}` : `use_bias=true and units=${u}`,
    });
  }
  return { tensors };
}

/** Input channels: the last axis, or with channels_first the axis after the batch (and after time, for ConvLSTM). */
function channelsAxisDim(layer: Layer, input: Shape | undefined, timeAxis = false): number | null {
  if (!input) return null;
  const first = layer.config.data_format === "channels_first";
  const d = first ? input[timeAxis ? 2 : 1] : input[input.length - 1];
  return typeof d === "number" ? d : null;
}

function convExpectation(layer: Layer, input: Shape | undefined, rank: number): Expectation {
  const filters = requireInt(layer, "filters");
  const size = ints(layer.config.kernel_size);
  if (!size) throw new ConfigProblem(`config 'kernel_size' is ${JSON.stringify(layer.config.kernel_size)}`);
  const ks = size.length === 1 && rank > 1 ? Array(rank).fill(size[0]) : size;
  const groups = positiveInt(layer.config.groups) ?? 1;
  const C = channelsAxisDim(layer, input);
  const inDim = C !== null ? C / groups : (layer.weights.find((t) => t.name === "kernel")?.shape[rank] ?? null);
  const why = `kernel_size=${JSON.stringify(size)}, filters=${filters}${C !== null ? ` and ${C} input channels` : ""}`;
  const tensors: Expected[] = [{ name: "kernel", shape: [...ks, inDim, filters], why }];
  if (layer.config.use_bias !== false) tensors.push({ name: "bias", shape: [filters], why: `filters=${filters}` });
  return { tensors };
}

function convLstmExpectation(layer: Layer, input: Shape | undefined, rank: number): Expectation {
  const f = requireInt(layer, "filters");
  const size = ints(layer.config.kernel_size);
  if (!size) throw new ConfigProblem(`config 'kernel_size' is ${JSON.stringify(layer.config.kernel_size)}`);
  const ks = size.length === 1 && rank > 1 ? Array(rank).fill(size[0]) : size;
  const C = channelsAxisDim(layer, input, true);
  const inDim = C ?? layer.weights.find((t) => t.name === "kernel")?.shape[rank] ?? null;
  const tensors: Expected[] = [
    { name: "kernel", shape: [...ks, inDim, 4 * f], why: `kernel_size=${JSON.stringify(size)}, filters=${f}` },
    { name: "recurrent_kernel", shape: [...ks, f, 4 * f], why: `kernel_size=${JSON.stringify(size)}, filters=${f}` },
  ];
  if (layer.config.use_bias !== false) tensors.push({ name: "bias", shape: [4 * f], why: `filters=${f}` });
  return { tensors };
}

/** Per-feature layers (normalization): their vectors have one entry per feature on `axis`. */
function featureDim(layer: Layer, input: Shape | undefined): number | null {
  if (!input) return null;
  const axes = ints(layer.config.axis) ?? [-1];
  if (axes.length !== 1) return null;
  const a = axes[0] < 0 ? input.length + axes[0] : axes[0];
  const d = input[a];
  return typeof d === "number" ? d : null;
}

function expectation(layer: Layer, input: Shape | undefined): Expectation {
  const cls = layer.className;
  const rk = recurrentKindOf(cls);
  if (rk && rk.kind !== "conv_lstm") return recurrentExpectation(layer, rk.kind, input);
  if (WEIGHTLESS.has(cls)) return { tensors: [] };
  switch (cls) {
    case "Dense":
    case "TimeDistributedDense": {
      const keras1 = !has(layer, "kernel") && has(layer, "W");
      const [K, B] = keras1 ? ["W", "b"] : ["kernel", "bias"];
      const u = requireInt(layer, "units", "output_dim");
      const { D, from } = inputDim(input, layer, K);
      const tensors: Expected[] = [{ name: K, shape: [D, u], why: `units=${u} and ${from}` }];
      // Keras 1 Dense had `bias=True` (renamed use_bias in Keras 2).
      if (layer.config.use_bias !== false && layer.config.bias !== false) tensors.push({ name: B, shape: [u], why: `use_bias=true and units=${u}` });
      return { tensors };
    }
    case "Embedding": {
      const n = requireInt(layer, "input_dim");
      const d = requireInt(layer, "output_dim");
      return { tensors: [{ name: has(layer, "W") && !has(layer, "embeddings") ? "W" : "embeddings", shape: [n, d], why: `input_dim=${n} and output_dim=${d}` }] };
    }
    case "Conv1D":
      return convExpectation(layer, input, 1);
    case "Conv2D":
      return convExpectation(layer, input, 2);
    case "Conv3D":
      return convExpectation(layer, input, 3);
    case "ConvLSTM1D":
      return convLstmExpectation(layer, input, 1);
    case "ConvLSTM2D":
      return convLstmExpectation(layer, input, 2);
    case "ConvLSTM3D":
      return convLstmExpectation(layer, input, 3);
    case "BatchNormalization": {
      const C = featureDim(layer, input) ?? layer.weights[0]?.shape[0] ?? null;
      const keras1 = has(layer, "running_mean");
      const names = keras1
        ? ["gamma", "beta", "running_mean", "running_std"]
        : (storedWeightNames(cls, layer.config) ?? []);
      return { tensors: names.map((name) => ({ name, shape: [C], why: C === null ? "the layer's features" : `${C} features on the normalized axis` })) };
    }
    case "LayerNormalization": {
      const C = featureDim(layer, input) ?? layer.weights[0]?.shape[0] ?? null;
      const names = storedWeightNames(cls, layer.config) ?? [];
      return { tensors: names.map((name) => ({ name, shape: ints(layer.config.axis)?.length === 1 || layer.config.axis === undefined ? [C] : null, why: `${C} features on the normalized axis` })) };
    }
    default: {
      const names = storedWeightNames(cls, layer.config);
      if (names) return { tensors: names.map((name) => ({ name, shape: null, why: "" })) };
      return undefined;
    }
  }
}

/** Shape of the first input of every top-level call, from the model's graph. Empty for weights-only files. */
function topLevelInputShapes(model: Model): Map<Layer, Shape | undefined> {
  const out = new Map<Layer, Shape | undefined>();
  if (model.format === "keras-h5-weights" || model.format === "keras3-weights") return out;
  try {
    const graph = graphOfModel(model);
    const shapes = inferShapes(model);
    for (const call of callsInOrder(graph)) {
      if (out.has(call.layer)) continue;
      const ref = call.inputs[0];
      if (!ref) continue;
      const shape = ref.layer === SEQUENTIAL_INPUT ? declaredInputShape(graph.layers[0]) : shapes.get(ref.layer)?.[ref.tensor];
      out.set(call.layer, shape);
    }
  } catch {
    // A graph we cannot walk: input sizes come from the stored kernels.
  }
  return out;
}

const fmt = (s: (number | null)[]) => `[${s.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;

/** A tensor the file lists but does not hold, in words: what a CI user needs to find it. */
const absent = (label: string, m: MissingTensor, shape?: string) =>
  `${label}: missing tensor '${m.name}'${shape ?? ""}: weight_names lists it at '${m.path}', but there is no dataset there`;

function compareLayer(layer: Layer, path: string, input: Shape | undefined, problems: string[], unchecked: string[]): number {
  const label = `${path} (${layer.className})`;
  // Listed but absent tensors are reported whatever else is known about the layer.
  const missing = layer.missingWeights ?? [];
  const reported = new Set<string>();
  try {
    return compareStored(layer, label, input, problems, unchecked, missing, reported);
  } finally {
    for (const m of missing) if (!reported.has(m.name)) problems.push(absent(label, m));
  }
}

function compareStored(layer: Layer, label: string, input: Shape | undefined, problems: string[], unchecked: string[], missing: MissingTensor[], reported: Set<string>): number {
  let exp: Expectation;
  try {
    exp = expectation(layer, input);
  } catch (e) {
    // ConfigProblem, or an InspectError from a layer kind reading a malformed config.
    problems.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
    return layer.weights.length;
  }
  if (!exp) {
    if (layer.weights.length > 0) unchecked.push(label);
    return 0;
  }
  const stored = new Map(layer.weights.map((t) => [t.name, t] as [string, Tensor]));
  const expectedNames = exp.tensors.map((t) => t.name);
  for (const e of exp.tensors) {
    const t = stored.get(e.name);
    const gone = missing.find((m) => m.name === e.name);
    if (!t && gone) {
      problems.push(absent(label, gone, e.shape ? ` ${fmt(e.shape)}` : undefined));
      reported.add(gone.name);
      continue;
    }
    if (!t) {
      problems.push(`${label}: missing tensor '${e.name}'${e.shape ? ` ${fmt(e.shape)}` : ""}${e.why ? ` (${e.why} implies it)` : ""}`);
      continue;
    }
    if (e.shape && (t.shape.length !== e.shape.length || e.shape.some((d, k) => d !== null && d !== t.shape[k]))) {
      problems.push(`${label}: tensor '${e.name}' has shape ${fmt(t.shape)} but ${e.why} imply ${fmt(e.shape)}`);
    }
  }
  for (const t of layer.weights) {
    if (!expectedNames.includes(t.name)) {
      const wants = expectedNames.length ? `${layer.className} stores ${expectedNames.join(", ")}` : `${layer.className} stores no weights`;
      problems.push(`${label}: unexpected tensor '${t.name}' ${fmt(t.shape)} (${wants})`);
    }
  }
  return layer.weights.length;
}

/** Walks a layer and its children with the input shape each one receives. */
function walk(layer: Layer, path: string, input: Shape | undefined, problems: string[], unchecked: string[]): { layers: number; tensors: number } {
  let tensors = compareLayer(layer, path, input, problems, unchecked);
  let layers = 1;
  const childInput = (child: Layer): Shape | undefined => {
    if (layer.className === "Bidirectional") return input;
    if (layer.className === "TimeDistributed") return input ? [input[0], ...input.slice(2)] : undefined;
    void child;
    return undefined; // nested models: their inner graph is not followed here
  };
  for (const child of layer.children) {
    const r = walk(child, `${path}/${child.name}`, isNestedModel(layer) ? undefined : childInput(child), problems, unchecked);
    layers += r.layers;
    tensors += r.tensors;
  }
  return { layers, tensors };
}

export function structureCheck(model: Model): Check {
  const inputs = topLevelInputShapes(model);
  const problems: string[] = [];
  const unchecked: string[] = [];
  let layers = 0;
  let tensors = 0;
  for (const layer of model.layers) {
    const r = walk(layer, layer.name, inputs.get(layer), problems, unchecked);
    layers += r.layers;
    tensors += r.tensors;
  }
  const weightsOnly = model.format === "keras-h5-weights" || model.format === "keras3-weights";
  const notes = [
    ...(unchecked.length ? [`not checked (class unknown to keras-inspect): ${unchecked.join(", ")}`] : []),
    ...(weightsOnly ? ["weights-only file: layer classes and settings were inferred from the tensors, so only their consistency is checked"] : []),
  ];
  const data = { layers, tensors, problems, unchecked, weightsOnly };
  if (problems.length > 0) {
    return { id: "structure", name: "structure", status: "fail", detail: firstProblems(problems), problems, data };
  }
  return {
    id: "structure",
    name: "structure",
    status: "pass",
    detail: `${layers} layer(s), ${tensors} tensor(s): names and shapes match the layers' configs${notes.length ? `; ${notes.join("; ")}` : ""}`,
    data,
  };
}

const FLOAT = new Set(["float16", "bfloat16", "float32", "float64"]);

export function dtypeCheck(model: Model): Check {
  const counts = new Map<string, number>();
  const problems: string[] = [];
  for (const { layer, path } of walkLayers(model.layers)) {
    for (const t of layer.weights) {
      counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + 1);
      if (!FLOAT.has(t.dtype)) problems.push(`${path}/${t.name} is ${t.dtype === "other" ? "not a floating-point type" : t.dtype}`);
    }
  }
  const summary = [...counts].map(([d, n]) => `${d} (${n})`).join(", ") || "no tensors";
  const data = { dtypes: Object.fromEntries(counts) };
  if (problems.length) {
    return { id: "dtypes", name: "dtypes", status: "fail", detail: `${firstProblems(problems)}; weights must be floating point`, problems, data };
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return {
    id: "dtypes",
    name: "dtypes",
    status: "pass",
    detail: counts.size === 1 ? `all ${total} tensor(s) are ${[...counts.keys()][0]}` : `floating point: ${summary}`,
    data,
  };
}
