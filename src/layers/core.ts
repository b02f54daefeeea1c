/**
 * Layers whose inference-time arithmetic is trivial: InputLayer, the dropout and
 * noise family (identity at inference: Keras applies them only when training),
 * Activation and Masking.
 */
import { activationName } from "../activations.js";
import type { Layer } from "../model.js";
import { applyActivationInPlace } from "./dense.js";
import type { LayerKind, Shape, Value } from "./kind.js";

/** The batch input shape a layer's config declares (Keras 1/2 batch_input_shape, Keras 3 batch_shape), if any. */
export function declaredInputShape(layer: Layer): Shape | undefined {
  const c = layer.config;
  for (const key of ["batch_input_shape", "batch_shape"]) {
    const v = c[key];
    if (Array.isArray(v)) return v.map((d) => (typeof d === "number" ? d : null));
  }
  const build = (c.build_config ?? (layer as unknown as { buildConfig?: unknown }).buildConfig) as { input_shape?: unknown } | undefined;
  if (build && Array.isArray(build.input_shape) && build.input_shape.every((d) => d === null || typeof d === "number")) {
    return (build.input_shape as (number | null)[]).map((d) => d);
  }
  return undefined;
}

export const inputLayer: LayerKind = {
  classNames: ["InputLayer"],
  outputShapes(layer, inputs) {
    return [declaredInputShape(layer) ?? inputs[0] ?? [null]];
  },
  forward: (_layer, inputs) => inputs,
};

const identity: LayerKind = {
  classNames: [
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
  ],
  outputShapes: (_layer, inputs) => [inputs[0]],
  forward: (_layer, inputs) => [inputs[0]],
};
export { identity as dropout };

export const activation: LayerKind = {
  classNames: ["Activation"],
  outputShapes: (_layer, inputs) => [inputs[0]],
  forward(layer, inputs, ctx) {
    const x = inputs[0];
    const data = Float64Array.from(x.data);
    applyActivationInPlace(data, x.shape[x.shape.length - 1], activationName(layer.config.activation, "linear"), ctx);
    return [{ shape: x.shape, data, mask: x.mask }];
  },
};

/**
 * Masking(mask_value): mask[b, t] = any(x[b, t, :] != mask_value); masked steps' inputs
 * are zeroed (keras/src/layers/core/masking.py).
 */
export const masking: LayerKind = {
  classNames: ["Masking"],
  outputShapes: (_layer, inputs) => [inputs[0]],
  forward(layer, inputs) {
    const x = inputs[0];
    const maskValue = typeof layer.config.mask_value === "number" ? layer.config.mask_value : 0;
    const [B, T] = x.shape;
    const F = x.data.length / (B * T);
    const mask = new Uint8Array(B * T);
    const data = Float64Array.from(x.data);
    for (let s = 0; s < B * T; s++) {
      let keep = 0;
      for (let f = 0; f < F; f++) if (x.data[s * F + f] !== maskValue) keep = 1;
      mask[s] = keep;
      if (!keep) data.fill(0, s * F, (s + 1) * F);
    }
    return [{ shape: x.shape, data, mask } satisfies Value];
  },
};
