/**
 * Activation functions written as layers with their own config: LeakyReLU, ReLU,
 * ELU, ThresholdedReLU, PReLU (which has a weight) and Softmax
 * (keras/src/layers/activations/*.py, keras/src/activations/activations.py relu;
 * Keras 2.2.4 keras/layers/advanced_activations.py). All of them keep the mask.
 *
 * - LeakyReLU: x for x ≥ 0, slope·x below. The slope is `alpha` in Keras 1/2 and
 *   tf.keras, `negative_slope` in Keras 3; both default to 0.3.
 * - ReLU(max_value, negative_slope, threshold), Keras' relu():
 *     y = x if x > threshold (x ≥ 0 when threshold = 0), else 0;
 *     y = min(y, max_value) when max_value is set;
 *     y −= negative_slope · max(threshold − x, 0)
 *   (without max_value and threshold this is LeakyReLU with that slope).
 * - ELU(alpha=1): x for x > 0, alpha·(eˣ − 1) below.
 * - ThresholdedReLU(theta=1): x where x > theta, else 0 (Keras 2 only).
 * - PReLU: x for x ≥ 0, alpha·x below, alpha a stored tensor (`alphas` in Keras 1)
 *   of the input's non-batch shape with size 1 on `shared_axes`.
 * - Softmax(axis=-1): exp(x − max) / Σ exp(x − max) along one axis. Keras 3 applies
 *   an incoming mask inside Softmax; that case is refused rather than guessed.
 */
import { InspectError, UnsupportedError } from "../errors.js";
import type { Layer } from "../model.js";
import { applyActivationInPlace } from "./dense.js";
import type { EvalContext, LayerKind, Shape, Value } from "./kind.js";
import { numberOption, resolveAxis, stridesOf, transpose } from "./options.js";
import { requireTensor, tensorNamed } from "./recurrent.js";

const sameShape = (_layer: Layer, inputs: Shape[]): Shape[] => [inputs[0]];

function mapValues(x: Value, f: (v: number) => number): Value[] {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
  return [{ shape: x.shape, data: out, mask: x.mask }];
}

function leakySlope(layer: Layer): number {
  const v = layer.config.negative_slope ?? layer.config.alpha;
  if (v === undefined || v === null) return 0.3;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new InspectError(`layer '${layer.name}' (LeakyReLU): slope ${JSON.stringify(v)} is not a number`);
  }
  return v;
}

export const leakyRelu: LayerKind = {
  classNames: ["LeakyReLU"],
  outputShapes: sameShape,
  forward(layer, inputs, ctx) {
    const a = ctx.round(leakySlope(layer));
    return mapValues(inputs[0], (v) => (v >= 0 ? v : ctx.round(a * v)));
  },
};

export const relu: LayerKind = {
  classNames: ["ReLU"],
  outputShapes: sameShape,
  forward(layer, inputs, ctx) {
    const { round } = ctx;
    const slope = round(numberOption(layer, "negative_slope", 0));
    const threshold = round(numberOption(layer, "threshold", 0));
    const mv = layer.config.max_value;
    if (mv !== undefined && mv !== null && typeof mv !== "number") {
      throw new InspectError(`layer '${ctx.path}' (ReLU): max_value ${JSON.stringify(mv)} is not a number`);
    }
    const maxValue = typeof mv === "number" ? round(mv) : null;
    return mapValues(inputs[0], (v) => {
      let y = threshold !== 0 ? (v > threshold ? v : 0) : Math.max(v, 0);
      if (maxValue !== null) y = Math.min(Math.max(y, 0), maxValue);
      if (slope !== 0) y = round(y - round(slope * Math.max(round(threshold - v), 0)));
      return y;
    });
  },
};

export const elu: LayerKind = {
  classNames: ["ELU"],
  outputShapes: sameShape,
  forward(layer, inputs, ctx) {
    const alpha = ctx.round(numberOption(layer, "alpha", 1));
    return mapValues(inputs[0], (v) => (v > 0 ? v : ctx.round(alpha * ctx.round(Math.expm1(v)))));
  },
};

export const thresholdedRelu: LayerKind = {
  classNames: ["ThresholdedReLU"],
  outputShapes: sameShape,
  forward(layer, inputs, ctx) {
    const theta = ctx.round(numberOption(layer, "theta", 1));
    return mapValues(inputs[0], (v) => (v > theta ? v : 0));
  },
};

export const prelu: LayerKind = {
  classNames: ["PReLU"],
  outputShapes: sameShape,
  forward(layer, inputs, ctx) {
    const x = inputs[0];
    // Keras 1.2.2 names the tensor `alphas`.
    const alpha = tensorNamed(layer, "alphas") ?? requireTensor(layer, "alpha");
    const inner = x.shape.slice(1);
    const aShape = alpha.shape.length === inner.length ? alpha.shape : null;
    if (!aShape || aShape.some((d, i) => d !== 1 && d !== inner[i])) {
      throw new InspectError(
        `layer '${ctx.path}' (PReLU): tensor 'alpha' has shape [${alpha.shape.join(", ")}], which does not fit inputs of shape (${inner.join(", ")})`,
      );
    }
    const xStrides = stridesOf(inner);
    const aStrides = stridesOf(aShape).map((s, i) => (aShape[i] === 1 ? 0 : s));
    const per = inner.reduce((p, d) => p * d, 1);
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = x.data[i];
      if (v >= 0) {
        out[i] = v;
        continue;
      }
      const r = i % per;
      let ai = 0;
      for (let k = 0; k < inner.length; k++) ai += (Math.floor(r / xStrides[k]) % inner[k]) * aStrides[k];
      out[i] = ctx.round(alpha.data[ai] * v);
    }
    return [{ shape: x.shape, data: out, mask: x.mask }];
  },
};

function softmaxAxis(layer: Layer, rank: number): number {
  let a = layer.config.axis ?? -1;
  if (Array.isArray(a)) {
    if (a.length !== 1) throw new UnsupportedError(`layer '${layer.name}' (Softmax): softmax over several axes (${JSON.stringify(a)}) is not supported`);
    a = a[0];
  }
  if (typeof a !== "number") throw new InspectError(`layer '${layer.name}' (Softmax): config 'axis' is ${JSON.stringify(a)}, expected an integer`);
  return resolveAxis(layer, a, rank);
}

function softmaxForward(layer: Layer, x: Value, ctx: EvalContext): Value {
  if (x.mask) {
    throw new UnsupportedError(
      `layer '${ctx.path}' (Softmax) receives a mask, which Keras 3 applies inside the softmax; keras-inspect does not evaluate that case`,
    );
  }
  const rank = x.shape.length;
  const axis = softmaxAxis(layer, rank);
  if (axis === rank - 1) {
    const data = Float64Array.from(x.data);
    applyActivationInPlace(data, x.shape[rank - 1], "softmax", ctx);
    return { shape: x.shape, data };
  }
  const perm = [...x.shape.keys()].filter((i) => i !== axis).concat(axis);
  const moved = transpose(x.data, x.shape, perm);
  applyActivationInPlace(moved.data, x.shape[axis], "softmax", ctx);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return { shape: x.shape, data: transpose(moved.data, moved.shape, inverse).data };
}

export const softmax: LayerKind = {
  classNames: ["Softmax"],
  outputShapes: sameShape,
  forward: (layer, inputs, ctx) => [softmaxForward(layer, inputs[0], ctx)],
};
