/**
 * Conv1D (Keras 2+), Convolution1D and AtrousConvolution1D (Keras 1): a
 * cross-correlation over the steps of a (batch, steps, channels) input
 * (keras/src/layers/convolutional/base_conv.py, conv1d.py; Keras 1.2.2
 * keras/layers/convolutional.py).
 *
 *   y[b, t, f] = act(bias[f] + Σ_i Σ_c x[b, t·s + i·d − pad, c] · kernel[i, c, f])
 *
 * with stride s, dilation d, the channels of f's group when groups > 1, and zeros
 * outside the input. Padding: "valid" (none), "same" (TensorFlow's rule: output
 * ceil(L/s) steps, the odd padding step on the right), "causal" ((k−1)·d steps on
 * the left only). Only data_format "channels_last" is evaluated.
 *
 * Stored kernels: Keras 2+ (k, channels/groups, filters); Keras 1 (k, 1, channels,
 * filters), or (filters, channels, k, 1) from Keras 1.1 (Keras 2.2.4
 * engine/saving.py preprocess_weights_for_loading). Theano computed a true
 * convolution, so kernels written by the Theano backend are flipped along the steps
 * before use, as Keras does when it loads them (saving.py _need_convert_kernel,
 * conv_utils.convert_kernel). Conv1D does not support masking; the output carries none.
 */
import { activationName } from "../activations.js";
import { InspectError } from "../errors.js";
import type { Layer, Model } from "../model.js";
import { applyActivationInPlace } from "./dense.js";
import type { LayerKind, Shape, Value } from "./kind.js";
import { expectRank, intOption, paddingOption, requireChannelsLast, requireRank3 } from "./options.js";
import { requireTensor, tensorNamed } from "./recurrent.js";

interface ConvOptions {
  filters: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  groups: number;
  padding: string;
}

function convOptions(layer: Layer): ConvOptions {
  const o: ConvOptions = {
    filters: intOption(layer, ["filters", "nb_filter"]),
    kernelSize: intOption(layer, ["kernel_size", "filter_length"]),
    stride: intOption(layer, ["strides", "subsample_length"], 1),
    dilation: intOption(layer, ["dilation_rate", "atrous_rate"], 1),
    groups: intOption(layer, ["groups"], 1),
    padding: paddingOption(layer, ["valid", "same", "causal"]),
  };
  if (o.stride > 1 && o.dilation > 1) {
    // Keras refuses this combination too (base_conv.py __init__).
    throw new InspectError(`layer '${layer.name}' (${layer.className}): strides=${o.stride} with dilation_rate=${o.dilation} is not a valid convolution in Keras`);
  }
  return o;
}

/** Output steps and the padding before the first step. */
export function convGeometry(length: number, kernel: number, stride: number, dilation: number, padding: string): { steps: number; padLeft: number } {
  const eff = (kernel - 1) * dilation + 1;
  if (padding === "valid") return { steps: Math.floor((length - eff) / stride) + 1, padLeft: 0 };
  if (padding === "causal") return { steps: Math.floor((length - 1) / stride) + 1, padLeft: eff - 1 };
  const steps = Math.ceil(length / stride);
  const total = Math.max((steps - 1) * stride + eff - length, 0);
  return { steps, padLeft: Math.floor(total / 2) };
}

/** The kernel as (k, channels/groups, filters) row-major, in correlation form. */
function kernelOf(layer: Layer, model: Model, o: ConvOptions, channels: number): Float64Array {
  const t = tensorNamed(layer, "kernel") ?? requireTensor(layer, "W");
  const cin = channels / o.groups;
  const { kernelSize: k, filters: f } = o;
  let data: Float64Array;
  const s = t.shape;
  if (s.length === 3 && s[0] === k && s[1] === cin && s[2] === f) data = Float64Array.from(t.data);
  else if (s.length === 4 && s[0] === k && s[1] === 1 && s[2] === cin && s[3] === f) data = Float64Array.from(t.data);
  else if (s.length === 4 && s[0] === f && s[1] === cin && s[2] === k && s[3] === 1) {
    // Keras 1.1 layout (filters, channels, k, 1) -> (k, channels, filters).
    data = new Float64Array(k * cin * f);
    for (let a = 0; a < f; a++) for (let c = 0; c < cin; c++) for (let i = 0; i < k; i++) data[(i * cin + c) * f + a] = t.data[(a * cin + c) * k + i];
  } else {
    throw new InspectError(
      `layer '${layer.name}' (${layer.className}): tensor '${t.name}' has shape [${s.join(", ")}] but kernel_size=${k}, ${cin} input channels per group and filters=${f} imply [${k}, ${cin}, ${f}]`,
    );
  }
  if (model.backend === "theano") {
    const flipped = new Float64Array(data.length);
    const row = cin * f;
    for (let i = 0; i < k; i++) flipped.set(data.subarray((k - 1 - i) * row, (k - i) * row), i * row);
    data = flipped;
  }
  return data;
}

export const conv1d: LayerKind = {
  classNames: ["Conv1D", "Convolution1D", "AtrousConvolution1D"],
  outputShapes(layer, inputs): Shape[] {
    requireChannelsLast(layer);
    requireRank3(layer, inputs[0]);
    const [B, L] = inputs[0];
    const o = convOptions(layer);
    const steps = L === null ? null : convGeometry(L, o.kernelSize, o.stride, o.dilation, o.padding).steps;
    return [[B, steps, o.filters]];
  },
  forward(layer, inputs, ctx) {
    requireChannelsLast(layer);
    const x = inputs[0];
    expectRank(layer, x, 3, "a (batch, steps, channels) input");
    const o = convOptions(layer);
    const [B, L, C] = x.shape;
    if (C % o.groups !== 0 || o.filters % o.groups !== 0) {
      throw new InspectError(`layer '${ctx.path}' (${layer.className}): groups=${o.groups} does not divide ${C} input channels and ${o.filters} filters`);
    }
    const kernel = kernelOf(layer, ctx.model, o, C);
    const b = tensorNamed(layer, "bias") ?? tensorNamed(layer, "b");
    if (b && b.data.length !== o.filters) {
      throw new InspectError(`layer '${ctx.path}' (${layer.className}): tensor '${b.name}' has shape [${b.shape.join(", ")}] but filters=${o.filters}`);
    }
    if (!b && layer.config.use_bias !== false) {
      throw new InspectError(`layer '${ctx.path}' (${layer.className}) has use_bias but no 'bias' tensor`);
    }
    const { steps, padLeft } = convGeometry(L, o.kernelSize, o.stride, o.dilation, o.padding);
    if (steps <= 0) {
      throw new InspectError(`layer '${ctx.path}' (${layer.className}): ${L} steps are too few for kernel_size=${o.kernelSize}, dilation_rate=${o.dilation} with padding "valid"`);
    }
    const cin = C / o.groups;
    const fPerGroup = o.filters / o.groups;
    const F = o.filters;
    const out = new Float64Array(B * steps * F);
    const { round } = ctx;
    for (let bi = 0; bi < B; bi++) {
      for (let t = 0; t < steps; t++) {
        for (let f = 0; f < F; f++) {
          const g = Math.floor(f / fPerGroup);
          let acc = 0;
          for (let i = 0; i < o.kernelSize; i++) {
            const pos = t * o.stride + i * o.dilation - padLeft;
            if (pos < 0 || pos >= L) continue;
            const xo = (bi * L + pos) * C + g * cin;
            const ko = i * cin * F + f;
            for (let c = 0; c < cin; c++) acc = round(acc + round(x.data[xo + c] * kernel[ko + c * F]));
          }
          if (b) acc = round(acc + b.data[f]);
          out[(bi * steps + t) * F + f] = acc;
        }
      }
    }
    applyActivationInPlace(out, F, activationName(layer.config.activation, "linear"), ctx);
    return [{ shape: [B, steps, F], data: out } satisfies Value];
  },
};
