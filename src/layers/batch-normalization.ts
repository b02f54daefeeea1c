/**
 * BatchNormalization at inference: the stored moving statistics, never batch ones
 * (keras/src/layers/normalization/batch_normalization.py call with training=False).
 *
 *   y = (x − moving_mean) / sqrt(moving_variance + epsilon) · gamma + beta
 *
 * computed in TensorFlow's order (tf.nn.batch_normalization, which Keras 2 and
 * Keras 3's TF backend call): inv = rsqrt(var + ε)·gamma; y = x·inv + (beta − mean·inv).
 * gamma is absent with scale=False, beta with center=False.
 *
 * Keras 1 (1.2.2 keras/layers/normalization.py) stores the variance under the name
 * `running_std` and mean as `running_mean`; only mode 0 uses the stored statistics
 * at test time (mode 2 keeps using batch statistics, mode 1 normalizes each
 * sample), so other modes are refused. The mask, if any, passes through
 * (supports_masking).
 */
import { InspectError, UnsupportedError } from "../errors.js";
import type { Layer, Tensor } from "../model.js";
import type { LayerKind, Shape } from "./kind.js";
import { axesOption, numberOption, product, stridesOf } from "./options.js";
import { tensorNamed } from "./recurrent.js";

function stat(layer: Layer, names: string[], size: number): Tensor {
  const t = names.map((n) => tensorNamed(layer, n)).find((x) => x !== undefined);
  if (!t) {
    const have = layer.weights.map((w) => w.name).join(", ") || "none";
    throw new InspectError(`layer '${layer.name}' (BatchNormalization) has no '${names[0]}' tensor (it has: ${have})`);
  }
  if (t.data.length !== size) {
    throw new InspectError(
      `layer '${layer.name}' (BatchNormalization): tensor '${t.name}' has shape [${t.shape.join(", ")}] but the normalized axes hold ${size} values`,
    );
  }
  return t;
}

export const batchNormalization: LayerKind = {
  classNames: ["BatchNormalization"],
  outputShapes: (_layer, inputs): Shape[] => [inputs[0]],
  forward(layer, inputs, ctx) {
    const x = inputs[0];
    const mode = layer.config.mode;
    if (mode !== undefined && mode !== null && mode !== 0) {
      throw new UnsupportedError(
        `layer '${ctx.path}' (BatchNormalization) uses Keras 1 mode ${JSON.stringify(mode)}, which normalizes with batch or per-sample statistics at test time; only mode 0 can be evaluated`,
      );
    }
    const axes = axesOption(layer, x.shape.length, -1);
    const size = product(axes.map((a) => x.shape[a]));
    const gamma = layer.config.scale === false ? undefined : stat(layer, ["gamma"], size);
    const beta = layer.config.center === false ? undefined : stat(layer, ["beta"], size);
    const mean = stat(layer, ["moving_mean", "running_mean"], size);
    const variance = stat(layer, ["moving_variance", "running_std"], size);
    const eps = numberOption(layer, "epsilon", 1e-3);
    const { round } = ctx;
    const inv = new Float64Array(size);
    const shift = new Float64Array(size);
    for (let c = 0; c < size; c++) {
      let s = round(1 / Math.sqrt(round(variance.data[c] + eps)));
      if (gamma) s = round(s * gamma.data[c]);
      inv[c] = s;
      const m = round(mean.data[c] * s);
      shift[c] = beta ? round(beta.data[c] - m) : -m;
    }
    const strides = stridesOf(x.shape);
    const axisStrides = stridesOf(axes.map((a) => x.shape[a]));
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      let c = 0;
      for (let k = 0; k < axes.length; k++) c += (Math.floor(i / strides[axes[k]]) % x.shape[axes[k]]) * axisStrides[k];
      out[i] = round(round(x.data[i] * inv[c]) + shift[c]);
    }
    return [{ shape: x.shape, data: out, mask: x.mask }];
  },
};
