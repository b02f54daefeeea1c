/**
 * ConvLSTM1D / ConvLSTM2D / ConvLSTM3D: an LSTM whose matrix products are convolutions.
 *
 * Stored (Keras 2.x, tf.keras, Keras 3; keras/src/layers/rnn/conv_lstm.py, ConvLSTMCell.build):
 *   kernel (*kernel_size, channels, 4·filters), recurrent_kernel (*kernel_size, filters, 4·filters),
 *   bias (4·filters); gate blocks side by side on the last axis in the order i, f, c, o.
 *
 * One step (ConvLSTMCell.call, input_conv, recurrent_conv), `*` a convolution:
 *   x_g   = x * W_g + b_g      strides, padding, dilation_rate as the config says
 *   rec_g = h₍ₜ₋₁₎ * U_g       stride 1, padding "same", no dilation (recurrent_conv)
 *   i = σr(x_i + rec_i)   f = σr(x_f + rec_f)   o = σr(x_o + rec_o)
 *   c̃ = act(x_c + rec_c)  c = f·c₍ₜ₋₁₎ + i·c̃     h = o·act(c)
 * element by element at every output position and filter. The states h and c are feature
 * maps with the output's spatial shape (ConvLSTMCell.compute_output_shape).
 *
 * How the evaluator holds them: a step's input is the feature map flattened channels last,
 * inputDim = (input positions)·channels; the cell's "units" are (output positions)·filters,
 * unit = position·filters + filter with positions in row-major order. The sequence rules
 * (go_backwards, masking, states) are then the LSTM's, in eval/recurrent.ts; `featureMaps`
 * converts to and from the layer's data_format at the edges.
 *
 * `step` is the readable reference. What runs by default is eval/engines.ts
 * ConvKernelEngine: the same convolutions as products in the SIMD kernel over `windows`,
 * then the same lstmGates, equal to `step` bit for bit (test/layers/conv-lstm-kernel.test.ts).
 */
import { activationName } from "../activations.js";
import { InspectError, UsageError } from "../errors.js";
import type { FeatureMapShape, Floats, GateWeights } from "../eval/trace.js";
import type { Layer, Model } from "../model.js";
import { convLstmWeights } from "../slice/conv-lstm.js";
import { convGeometry } from "./conv1d.js";
import type { CellActivations, CellWeights, FeatureMapCell, RecurrentKind, Shape, Value } from "./kind.js";
import { INTERMEDIATES, lstmGates } from "./lstm.js";
import { paddingOption, product } from "./options.js";
import { columns, recurrentOptions, toFloat64 } from "./recurrent.js";

const GATES = ["i", "f", "c", "o"] as const;

/** A ConvLSTM's convolution settings, read from its config. */
export interface ConvLstmOptions {
  rank: number;
  filters: number;
  channels: number;
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  padding: "same" | "valid";
  dataFormat: "channels_last" | "channels_first";
}

/** `n` or `[n, …]` as a tuple of `rank` positive integers (Keras' standardize_tuple). */
function tupleOption(layer: Layer, key: string, rank: number, fallback: number): number[] {
  const v = layer.config[key] ?? fallback;
  const list = Array.isArray(v) ? v : [v];
  const tuple = list.length === 1 ? Array<unknown>(rank).fill(list[0]) : list;
  if (tuple.length !== rank || tuple.some((d) => typeof d !== "number" || !Number.isInteger(d) || d <= 0)) {
    throw new InspectError(`layer '${layer.name}' (${layer.className}): config '${key}' is ${JSON.stringify(v)}, expected ${rank} positive integer(s)`);
  }
  return tuple as number[];
}

export function convLstmOptions(layer: Layer): ConvLstmOptions {
  const w = convLstmWeights(layer);
  const rank = w.kernelSize.length;
  const strides = tupleOption(layer, "strides", rank, 1);
  const dilation = tupleOption(layer, "dilation_rate", rank, 1);
  if (strides.some((s) => s > 1) && dilation.some((d) => d > 1)) {
    throw new InspectError(`layer '${layer.name}' (${layer.className}): strides=${JSON.stringify(strides)} with dilation_rate=${JSON.stringify(dilation)} is not a valid convolution in Keras`);
  }
  const format = layer.config.data_format ?? "channels_last";
  if (format !== "channels_last" && format !== "channels_first") {
    throw new InspectError(`layer '${layer.name}' (${layer.className}): data_format ${JSON.stringify(format)} is not channels_last or channels_first`);
  }
  return {
    rank,
    filters: w.filters,
    channels: w.inputChannels,
    kernelSize: w.kernelSize,
    strides,
    dilation,
    padding: paddingOption(layer, ["valid", "same"]) as "same" | "valid",
    dataFormat: format,
  };
}

/** activation and recurrent_activation as the config names them; hard_sigmoid is the default before Keras 3. */
function activationNames(layer: Layer, model: Model): Record<string, string> {
  return {
    activation: activationName(layer.config.activation, "tanh"),
    recurrent_activation: activationName(layer.config.recurrent_activation, model.kerasMajor === 3 ? "sigmoid" : "hard_sigmoid"),
  };
}

/** Input positions → output positions of the input convolution, with the zero padding before each axis. */
export function featureMapShape(o: ConvLstmOptions, inputSpatial: number[]): FeatureMapShape {
  const axes = inputSpatial.map((n, a) => convGeometry(n, o.kernelSize[a], o.strides[a], o.dilation[a], o.padding));
  return {
    dataFormat: o.dataFormat,
    inputSpatial,
    channels: o.channels,
    outputSpatial: axes.map((g) => g.steps),
    filters: o.filters,
    kernelSize: o.kernelSize,
    strides: o.strides,
    dilation: o.dilation,
    padding: o.padding,
    padBefore: axes.map((g) => g.padLeft),
    // recurrent_conv: "same" with stride 1 and no dilation keeps the state's shape.
    recurrentPadBefore: o.kernelSize.map((k) => Math.floor((k - 1) / 2)),
  };
}

/** The coordinates of row-major index `index` into `dims`, last axis fastest, written into `into`. */
function unravel(index: number, dims: number[], into: number[]): void {
  for (let a = dims.length - 1, r = index; a >= 0; a--) {
    into[a] = r % dims[a];
    r = Math.floor(r / dims[a]);
  }
}

/**
 * The input position (row-major over `inSpatial`) that kernel tap κ reads for output
 * position p, p·s + κ·d − pad on each axis; -1 where that falls in the zero padding.
 */
function tapSource(p: number[], k: number[], inSpatial: number[], strides: number[], dilation: number[], padBefore: number[]): number {
  let inPos = 0;
  for (let a = 0; a < inSpatial.length; a++) {
    const x = p[a] * strides[a] + k[a] * dilation[a] - padBefore[a];
    if (x < 0 || x >= inSpatial[a]) return -1;
    inPos = inPos * inSpatial[a] + x;
  }
  return inPos;
}

/**
 * out[p, j] = Σ_κ Σ_c v[p·s + κ·d − pad, c] · K[κ, c, col0 + j], a zero where the window
 * leaves the input, for every output position p and filter j < n. v is (inSpatial…, channels)
 * and K (kernelSize…, channels, cols), both row-major; κ runs over the window in row-major
 * order, then c, and every product and partial sum is rounded to the evaluation dtype.
 */
export function convolve(
  v: ArrayLike<number>,
  inSpatial: number[],
  channels: number,
  kernel: ArrayLike<number>,
  kernelSize: number[],
  cols: number,
  col0: number,
  n: number,
  outSpatial: number[],
  strides: number[],
  dilation: number[],
  padBefore: number[],
  out: Float64Array,
  round: (x: number) => number,
): void {
  const positions = product(outSpatial);
  const taps = product(kernelSize);
  const p = new Array<number>(inSpatial.length);
  const k = new Array<number>(inSpatial.length);
  for (let pos = 0; pos < positions; pos++) {
    unravel(pos, outSpatial, p);
    const sum = out.subarray(pos * n, (pos + 1) * n);
    sum.fill(0);
    for (let tap = 0; tap < taps; tap++) {
      unravel(tap, kernelSize, k);
      const inPos = tapSource(p, k, inSpatial, strides, dilation, padBefore);
      if (inPos < 0) continue; // the zero padding
      for (let c = 0; c < channels; c++) {
        const vc = v[inPos * channels + c];
        const row = (tap * channels + c) * cols + col0;
        for (let j = 0; j < n; j++) sum[j] = round(sum[j] + round(vc * kernel[row + j]));
      }
    }
  }
}

/** The weights sliced by gate for display: kernel_i as (taps·channels, filters), recurrent_kernel_i as (taps·filters, filters). */
function gateWeights(kernel: Float64Array, recurrentKernel: Float64Array, bias: Float64Array | null, o: ConvLstmOptions): GateWeights {
  const f = o.filters;
  const taps = product(o.kernelSize);
  const out: GateWeights = {};
  GATES.forEach((g, k) => {
    out[`kernel_${g}`] = columns(kernel, taps * o.channels, 4 * f, k * f, (k + 1) * f);
    out[`recurrent_kernel_${g}`] = columns(recurrentKernel, taps * f, 4 * f, k * f, (k + 1) * f);
    if (bias) out[`bias_${g}`] = columns(bias, 1, 4 * f, k * f, (k + 1) * f);
  });
  return out;
}

/**
 * The cell for one input geometry. Without one (`map` undefined: diff, weights) its units
 * are the filters and its inputDim the channels, which is all a geometry-free view can say.
 */
function cellFor(layer: Layer, o: ConvLstmOptions, map?: FeatureMapShape): CellWeights {
  const w = convLstmWeights(layer);
  const kernel = toFloat64(w.kernel.data);
  const recurrentKernel = toFloat64(w.recurrentKernel.data);
  const bias = w.bias ? toFloat64(w.bias.data) : null;
  const notes = [...(layer.notes ?? [])];
  if (map) {
    const pos = map.outputSpatial.join(" × ");
    notes.push(
      `${layer.className}: each step convolves a ${map.inputSpatial.join(" × ")} × ${map.channels} input into ${pos} × ${map.filters} feature maps ` +
        `(kernel ${map.kernelSize.join(" × ")}, strides ${map.strides.join(", ")}, dilation ${map.dilation.join(", ")}, padding "${map.padding}"; ` +
        `the recurrent convolution pads "same" with stride 1); a unit is one (position, filter)`,
    );
  }
  return {
    units: map ? product(map.outputSpatial) * o.filters : o.filters,
    inputDim: map ? product(map.inputSpatial) * o.channels : o.channels,
    kernel,
    recurrentKernel,
    bias,
    recurrentBias: null,
    gates: gateWeights(kernel, recurrentKernel, bias, o),
    notes,
    featureMap: map,
  };
}

/** Moves axis `from` of a row-major array to `to` (the channels between first and last place). */
function moveAxis(data: Float64Array, shape: number[], from: number, to: number): Float64Array {
  const order = shape.map((_, k) => k).filter((k) => k !== from);
  order.splice(to, 0, from);
  const outShape = order.map((k) => shape[k]);
  const strides = shape.map((_, k) => product(shape.slice(k + 1)));
  const out = new Float64Array(data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < out.length; flat++) {
    let src = 0;
    for (let a = 0; a < order.length; a++) src += idx[a] * strides[order[a]];
    out[flat] = data[src];
    for (let a = order.length - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** The per-sample, per-step input shape the layer takes, in its data_format, for messages. */
function describeInput(o: ConvLstmOptions): string {
  const spatial = [["length"], ["rows", "cols"], ["depth", "rows", "cols"]][o.rank - 1] ?? [];
  return o.dataFormat === "channels_first" ? `(samples, steps, ${o.channels} channels, ${spatial.join(", ")})` : `(samples, steps, ${spatial.join(", ")}, ${o.channels} channels)`;
}

function featureMaps(layer: Layer, _model: Model, input: Value, path: string): FeatureMapCell {
  const o = convLstmOptions(layer);
  const shape = input.shape;
  if (shape.length !== o.rank + 3) {
    throw new UsageError(`layer '${path}' (${layer.className}) expects input ${describeInput(o)}; got shape [${shape.join(", ")}]`);
  }
  const [samples, steps] = shape;
  const first = o.dataFormat === "channels_first";
  const channels = first ? shape[2] : shape[shape.length - 1];
  const inputSpatial = first ? shape.slice(3) : shape.slice(2, -1);
  if (channels !== o.channels) {
    throw new UsageError(`layer '${path}' (${layer.className}) expects ${o.channels} input channel(s) (${o.dataFormat}), but the input has ${channels}: shape [${shape.join(", ")}]`);
  }
  const map = featureMapShape(o, inputSpatial);
  if (map.outputSpatial.some((d) => d < 1)) {
    throw new UsageError(
      `layer '${path}' (${layer.className}): an input of ${inputSpatial.join(" × ")} positions is too small for kernel_size ${JSON.stringify(o.kernelSize)} with dilation_rate ${JSON.stringify(o.dilation)} and padding "valid"`,
    );
  }
  const w = cellFor(layer, o, map);
  const outPositions = product(map.outputSpatial);
  // channels_first: (B, T, C, spatial…) → (B, T, spatial…, C), so that a step's values are channels last.
  const flat = first ? moveAxis(input.data, shape, 2, shape.length - 1) : input.data;
  const toLayout = (data: Float64Array, lead: number[]): Float64Array =>
    first ? moveAxis(data, [...lead, ...map.outputSpatial, o.filters], lead.length + o.rank, lead.length) : data;
  return {
    w,
    input: { shape: [samples, steps, w.inputDim], data: flat, mask: input.mask },
    output(v: Value): Value {
      const lead = v.shape.slice(0, -1);
      const spatialShape = first ? [o.filters, ...map.outputSpatial] : [...map.outputSpatial, o.filters];
      return { shape: [...lead, ...spatialShape], data: toLayout(v.data, lead), mask: v.mask };
    },
    state(data: Float64Array): Float64Array {
      const per = outPositions * o.filters;
      if (!first || data.length % per !== 0) return data;
      return moveAxis(data, [data.length / per, o.filters, ...map.outputSpatial], 1, o.rank + 1);
    },
  };
}

/** Output shapes (Keras ConvLSTM.compute_output_shape): (B, [T,] spatial…, filters), in the layer's data_format. */
function outputShapes(layer: Layer, inputs: Shape[]): Shape[] {
  const o = convLstmOptions(layer);
  const r = recurrentOptions(layer);
  const input = inputs[0] ?? Array<null>(o.rank + 3).fill(null);
  const first = o.dataFormat === "channels_first";
  const spatialIn = first ? input.slice(3) : input.slice(2, -1);
  const spatialOut = spatialIn.map((n, a) => (n === null ? null : convGeometry(n, o.kernelSize[a], o.strides[a], o.dilation[a], o.padding).steps));
  const map: Shape = first ? [o.filters, ...spatialOut] : [...spatialOut, o.filters];
  const batch = input[0] ?? null;
  const main: Shape = r.returnSequences ? [batch, input[1] ?? null, ...map] : [batch, ...map];
  return r.returnState ? [main, [batch, ...map], [batch, ...map]] : [main];
}

export const convLstm: RecurrentKind = {
  classNames: ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"],
  kind: "conv_lstm",
  gates: GATES,
  intermediates: INTERMEDIATES,
  columns: ["x_i", "x_f", "x_c", "x_o", "i", "f", "c", "o", "h"],
  stateNames: ["h", "c"],
  activationNames,
  cellWeights: (layer) => cellFor(layer, convLstmOptions(layer)),
  featureMaps,
  outputShapes,

  step(w: CellWeights, act: CellActivations, x, prev, out, round) {
    const m = w.featureMap;
    if (!m) throw new Error("a ConvLSTM cell steps only with its feature-map geometry");
    const u = w.units;
    const f = m.filters;
    const [hPrev, cPrev] = prev;
    const ones = m.kernelSize.map(() => 1);
    // x_g = x * W_g + b_g and rec_g = h₍ₜ₋₁₎ * U_g, a gate at a time; unit = position·filters + filter.
    for (let g = 0; g < 4; g++) {
      const xg = out.subarray(g * u, (g + 1) * u);
      convolve(x, m.inputSpatial, m.channels, w.kernel, m.kernelSize, 4 * f, g * f, f, m.outputSpatial, m.strides, m.dilation, m.padBefore, xg, round);
      if (w.bias) for (let j = 0; j < u; j++) xg[j] = round(xg[j] + w.bias[g * f + (j % f)]);
      const rec = out.subarray((4 + g) * u, (5 + g) * u);
      convolve(hPrev, m.outputSpatial, f, w.recurrentKernel, m.kernelSize, 4 * f, g * f, f, m.outputSpatial, ones, ones, m.recurrentPadBefore, rec, round);
    }
    lstmGates(out, cPrev, act, u, round);
  },
};

/**
 * The windows `convolve` reads, one row per output position: row p holds, for every
 * kernel tap (row-major) and channel, the value the tap reads at p, 0 where it reads
 * padding. Then out[p, j] = Σ_d rows[p, d] · K[d, j] sums in convolve's order.
 */
export function windows(
  v: ArrayLike<number>,
  inSpatial: number[],
  channels: number,
  kernelSize: number[],
  outSpatial: number[],
  strides: number[],
  dilation: number[],
  padBefore: number[],
  rows: Floats,
): void {
  const positions = product(outSpatial);
  const taps = product(kernelSize);
  const p = new Array<number>(inSpatial.length);
  const k = new Array<number>(inSpatial.length);
  let o = 0;
  for (let pos = 0; pos < positions; pos++) {
    unravel(pos, outSpatial, p);
    for (let tap = 0; tap < taps; tap++) {
      unravel(tap, kernelSize, k);
      const inPos = tapSource(p, k, inSpatial, strides, dilation, padBefore);
      if (inPos >= 0) for (let c = 0; c < channels; c++) rows[o + c] = v[inPos * channels + c];
      else rows.fill(0, o, o + channels);
      o += channels;
    }
  }
}
