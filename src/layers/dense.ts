/**
 * Dense: kernel (D, units), bias (units); y = act(x·W + b) over the last axis
 * (keras/src/layers/core/dense.py). Applies to every leading position, so a 3-D
 * input (B, T, D) gives (B, T, units), as Keras does.
 */
import { activationName, getActivation } from "../activations.js";
import { InspectError } from "../errors.js";
import type { Layer } from "../model.js";
import type { EvalContext, LayerKind, Shape, Value } from "./kind.js";
import { expectShape, requireTensor, tensorNamed } from "./recurrent.js";

function units(layer: Layer): number {
  const u = layer.config.units ?? layer.config.output_dim;
  if (typeof u === "number") return u;
  const k = tensorNamed(layer, "kernel") ?? tensorNamed(layer, "W");
  if (k) return k.shape[k.shape.length - 1];
  throw new InspectError(`layer '${layer.name}' (Dense) has no 'units' in its config`);
}

/** Applies y = act(x·W + b) along the last axis; shared with TimeDistributedDense. */
export function denseForward(layer: Layer, input: Value, ctx: EvalContext): Value {
  const k = requireTensor(layer, tensorNamed(layer, "kernel") ? "kernel" : "W");
  const inDim = input.shape[input.shape.length - 1];
  const u = units(layer);
  expectShape(layer, k, [inDim, u], `an input of ${inDim} features and units=${u}`);
  const b = tensorNamed(layer, "bias") ?? tensorNamed(layer, "b");
  if (b) expectShape(layer, b, [u], `units=${u}`);
  const act = activationName(layer.config.activation, "linear");
  const rows = input.data.length / inDim;
  const out = new Float64Array(rows * u);
  const { round } = ctx;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < u; j++) {
      let acc = 0;
      for (let d = 0; d < inDim; d++) acc = round(acc + round(input.data[r * inDim + d] * k.data[d * u + j]));
      if (b) acc = round(acc + b.data[j]);
      out[r * u + j] = acc;
    }
  }
  applyActivationInPlace(out, u, act, ctx);
  return { shape: [...input.shape.slice(0, -1), u], data: out, mask: input.mask };
}

/** Applies a named activation to every row of width `width` (softmax works on the row). */
export function applyActivationInPlace(data: Float64Array, width: number, name: string, ctx: EvalContext): void {
  const { round } = ctx;
  if (name === "softmax" || name === "log_softmax") {
    for (let r = 0; r < data.length / width; r++) {
      const row = data.subarray(r * width, (r + 1) * width);
      const max = Math.max(...row);
      let sum = 0;
      for (let j = 0; j < width; j++) sum += Math.exp(row[j] - max);
      for (let j = 0; j < width; j++) row[j] = round(name === "softmax" ? Math.exp(row[j] - max) / sum : row[j] - max - Math.log(sum));
    }
    return;
  }
  const f = getActivation(name, ctx.hardSigmoidVariant, `layer '${ctx.path}'`).fn;
  for (let i = 0; i < data.length; i++) data[i] = round(f(data[i]));
}

export const dense: LayerKind = {
  classNames: ["Dense", "TimeDistributedDense"],
  outputShapes(layer, inputs): Shape[] {
    const input = inputs[0] ?? [null, null];
    return [[...input.slice(0, -1), units(layer)]];
  },
  forward(layer, inputs, ctx) {
    return [denseForward(layer, inputs[0], ctx)];
  },
};
