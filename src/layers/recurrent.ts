/**
 * What LSTM, GRU and SimpleRNN share: their config options, default activations by
 * Keras version, weight validation, gate slicing and the rounded dot products
 * their cells are made of.
 */
import { activationName } from "../activations.js";
import { InspectError } from "../errors.js";
import type { Floats, GateWeights, Matrix } from "../eval/trace.js";
import type { Layer, Model, Tensor } from "../model.js";
import type { CellWeights, Shape } from "./kind.js";

export interface RecurrentOptions {
  units: number;
  useBias: boolean;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
}

function positiveInt(layer: Layer, key: string): number {
  const v = layer.config[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new InspectError(`layer '${layer.name}': config '${key}' is ${JSON.stringify(v)}, expected a positive integer`);
  }
  return v;
}

export function recurrentOptions(layer: Layer): RecurrentOptions {
  const c = layer.config;
  return {
    // ConvLSTM has filters where the others have units.
    units: positiveInt(layer, c.units === undefined && c.filters !== undefined ? "filters" : "units"),
    useBias: c.use_bias !== false,
    returnSequences: c.return_sequences === true,
    returnState: c.return_state === true,
    goBackwards: c.go_backwards === true,
    stateful: c.stateful === true,
  };
}

/**
 * The default recurrent_activation when a config does not name one
 * (keras-formats.md §A4): hard_sigmoid up to Keras 2.2.5 and tf.keras 1.x, sigmoid
 * from Keras 2.3 / tf.keras 2 / Keras 3. Configs normally name it.
 */
export function defaultRecurrentActivation(model: Model): string {
  if (model.kerasMajor === 1) return "hard_sigmoid";
  if (model.kerasMajor === 3) return "sigmoid";
  const v = model.kerasVersion ?? "";
  if (v.endsWith("-tf")) return v.startsWith("2.2.4") ? "hard_sigmoid" : "sigmoid";
  const m = /^2\.(\d+)/.exec(v);
  if (m && Number(m[1]) <= 2) return "hard_sigmoid";
  return "sigmoid";
}

/** Finds a stored tensor by role name. */
export function tensorNamed(layer: Layer, name: string): Tensor | undefined {
  return layer.weights.find((t) => t.name === name);
}

export function requireTensor(layer: Layer, name: string): Tensor {
  const t = tensorNamed(layer, name);
  if (!t) {
    const have = layer.weights.map((w) => w.name).join(", ") || "none";
    throw new InspectError(`layer '${layer.name}' (${layer.className}) has no '${name}' tensor (it has: ${have})`);
  }
  return t;
}

export function expectShape(layer: Layer, t: Tensor, expected: number[], why: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new InspectError(
      `layer '${layer.name}' (${layer.className}): tensor '${t.name}' has shape [${t.shape.join(", ")}] but ${why} implies [${expected.join(", ")}]`,
    );
  }
}

export function toFloat64(data: ArrayLike<number>): Float64Array {
  // A typed array converts natively; Float64Array.from would go element by element through an iterator.
  return ArrayBuffer.isView(data) ? new Float64Array(data as unknown as Float32Array) : Float64Array.from(data);
}

/**
 * A stored tensor's values as a float array, without a copy when they already are one:
 * a float32 tensor stays a Float32Array (its values are exact doubles when read), so a
 * 256 MiB kernel is not doubled into a 512 MiB Float64Array. Nothing writes into the result.
 */
export function asFloats(data: ArrayLike<number>): Floats {
  return data instanceof Float32Array || data instanceof Float64Array ? data : toFloat64(data);
}

/**
 * A cell's weights with `gates` (the per-gate slices for display and the trace) made on
 * first use: evaluation without a trace reads only the packed tensors.
 */
export function cellWithGates(w: Omit<CellWeights, "gates">, gateLetters: readonly string[]): CellWeights {
  let gates: GateWeights | undefined;
  return Object.defineProperty(w, "gates", {
    enumerable: true,
    get: () => (gates ??= sliceGates(gateLetters, w)),
  }) as CellWeights;
}

/**
 * A cell's kernel and recurrent kernel when they are the stored tensors `k` and `r` as
 * they are (CellWeights.stored): read from the file the first time they are used, so a
 * cell can be described, and a large one's statistics streamed, without holding them.
 */
export function storedKernels(k: Tensor, r: Tensor): Pick<CellWeights, "kernel" | "recurrentKernel" | "stored"> {
  let kernel: Floats | undefined;
  let recurrentKernel: Floats | undefined;
  return {
    get kernel() {
      return (kernel ??= asFloats(k.data));
    },
    get recurrentKernel() {
      return (recurrentKernel ??= asFloats(r.data));
    },
    stored: { kernel: k, recurrentKernel: r },
  };
}

/** Columns [from, to) of a row-major (rows × cols) matrix, as a Matrix. */
export function columns(data: Floats, rows: number, cols: number, from: number, to: number): Matrix {
  const width = to - from;
  const out = data instanceof Float32Array ? new Float32Array(rows * width) : new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols + from, r * cols + to), r * width);
  return { rows, cols: width, data: out };
}

/** A cell's packed tensors and sizes: what gate blocks are cut from. */
type PackedWeights = Pick<CellWeights, "units" | "inputDim" | "kernel" | "recurrentKernel" | "bias" | "recurrentBias">;

/** Where one gate block lies: columns [from, to) of a packed (rows × cols) tensor. */
export interface GateBlock {
  /** kernel_i, recurrent_kernel_f, bias_o, recurrent_bias_z; for a kind without gates kernel, recurrent_kernel, bias. */
  name: string;
  /** Which of the cell's packed tensors it is cut from. */
  source: "kernel" | "recurrentKernel" | "bias" | "recurrentBias";
  /** That tensor's values (read from the file when first asked for, where CellWeights.stored). */
  packed: Floats;
  rows: number;
  cols: number;
  from: number;
  to: number;
}

/**
 * The per-gate blocks of the packed kernel / recurrent kernel / bias, named as in the
 * seed notebook: kernel_i, recurrent_kernel_i, bias_i, ... Gate k is columns [k·u, (k+1)·u).
 * For a kind without gates (SimpleRNN) the names are kernel, recurrent_kernel, bias.
 */
export function gateBlocks(gates: readonly string[], w: PackedWeights): GateBlock[] {
  const out: GateBlock[] = [];
  const letters = gates.length === 0 ? [""] : gates;
  const width = letters.length * w.units;
  const block = (name: string, source: GateBlock["source"], rows: number, from: number) =>
    Object.defineProperty({ name, source, rows, cols: width, from, to: from + w.units }, "packed", { enumerable: true, get: () => w[source] }) as GateBlock;
  letters.forEach((g, k) => {
    const suffix = g ? `_${g}` : "";
    const from = k * w.units;
    out.push(block(`kernel${suffix}`, "kernel", w.inputDim, from));
    out.push(block(`recurrent_kernel${suffix}`, "recurrentKernel", w.units, from));
    if (w.bias) out.push(block(`bias${suffix}`, "bias", 1, from));
    if (w.recurrentBias) out.push(block(`recurrent_bias${suffix}`, "recurrentBias", 1, from));
  });
  return out;
}

/** The gate blocks (gateBlocks) copied out, by name. */
export function sliceGates(gates: readonly string[], w: PackedWeights): GateWeights {
  const out: GateWeights = {};
  for (const b of gateBlocks(gates, w)) out[b.name] = columns(b.packed, b.rows, b.cols, b.from, b.to);
  return out;
}

/**
 * out[j] = round(Σ_d v[d] · M[d, col0 + j]) for j in [0, n), with every product and
 * partial sum rounded to the evaluation dtype, as a float32 Keras computes it.
 */
export function dotColumns(
  v: Float64Array,
  m: Floats,
  rows: number,
  cols: number,
  col0: number,
  n: number,
  out: Float64Array,
  round: (x: number) => number,
): void {
  // Row by row, so the matrix is read contiguously; each out[j] still sums over d in order.
  out.fill(0, 0, n);
  for (let d = 0; d < rows; d++) {
    const vd = v[d];
    const row = d * cols + col0;
    for (let j = 0; j < n; j++) out[j] = round(out[j] + round(vd * m[row + j]));
  }
}

/** Output shapes of a recurrent layer: (B, T, u) or (B, u), then the states when return_state is set. */
export function recurrentOutputShapes(layer: Layer, inputs: Shape[], stateCount: number): Shape[] {
  const o = recurrentOptions(layer);
  const input = inputs[0] ?? [null, null, null];
  const batch = input[0] ?? null;
  const main: Shape = o.returnSequences ? [batch, input[1] ?? null, o.units] : [batch, o.units];
  const states: Shape[] = o.returnState ? Array.from({ length: stateCount }, () => [batch, o.units]) : [];
  return [main, ...states];
}

/** Input dimension from the stored kernel (rows). */
export function inputDimOf(kernel: Tensor): number {
  return kernel.shape[0];
}

/**
 * activation and recurrent_activation of an LSTM or GRU as the config names them, with
 * the writer's defaults; CuDNN layers are fixed to tanh / sigmoid.
 */
export function gatedActivationNames(layer: Layer, model: Model): Record<string, string> {
  if (layer.className.startsWith("CuDNN")) return { activation: "tanh", recurrent_activation: "sigmoid" };
  return {
    activation: activationName(layer.config.activation, "tanh"),
    recurrent_activation: activationName(layer.config.recurrent_activation, defaultRecurrentActivation(model)),
  };
}
