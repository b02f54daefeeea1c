/**
 * LayerNormalization: each sample normalized over `axis` (default -1) with its own
 * mean and variance (keras/src/layers/normalization/layer_normalization.py,
 * keras/src/ops/nn.py _layer_normalization):
 *
 *   mean, var = moments(x, axis)          var = mean((x − mean)²) (tf.nn.moments)
 *   inv = rsqrt(var + epsilon) · gamma;   y = x·inv + (beta − mean·inv)
 *
 * gamma (scale) and beta (center) have the shape of the normalized axes. The
 * deprecated rms_scaling=True variant is refused. The mask passes through.
 */
import { InspectError, UnsupportedError } from "../errors.js";
import type { Layer, Tensor } from "../model.js";
import type { LayerKind, Shape } from "./kind.js";
import { axesOption, numberOption, product, transpose } from "./options.js";
import { tensorNamed } from "./recurrent.js";

function param(layer: Layer, name: string, size: number, on: boolean): Tensor | undefined {
  if (!on) return undefined;
  const t = tensorNamed(layer, name);
  if (!t) {
    const have = layer.weights.map((w) => w.name).join(", ") || "none";
    throw new InspectError(`layer '${layer.name}' (LayerNormalization) has no '${name}' tensor (it has: ${have})`);
  }
  if (t.data.length !== size) {
    throw new InspectError(`layer '${layer.name}' (LayerNormalization): tensor '${name}' has shape [${t.shape.join(", ")}] but the normalized axes hold ${size} values`);
  }
  return t;
}

export const layerNormalization: LayerKind = {
  classNames: ["LayerNormalization"],
  outputShapes: (_layer, inputs): Shape[] => [inputs[0]],
  forward(layer, inputs, ctx) {
    const x = inputs[0];
    if (layer.config.rms_scaling === true) {
      throw new UnsupportedError(`layer '${ctx.path}' (LayerNormalization) uses the deprecated rms_scaling=True, which keras-inspect does not evaluate`);
    }
    const rank = x.shape.length;
    const axes = axesOption(layer, rank, -1);
    const N = product(axes.map((a) => x.shape[a]));
    const gamma = param(layer, "gamma", N, layer.config.scale !== false);
    const beta = param(layer, "beta", N, layer.config.center !== false);
    const eps = numberOption(layer, "epsilon", 1e-3);
    const { round } = ctx;
    // Bring the normalized axes last, normalize rows of N values, and put them back.
    const rest = [...x.shape.keys()].filter((i) => !axes.includes(i));
    const perm = [...rest, ...axes];
    const identity = perm.every((p, i) => p === i);
    const moved = identity ? { shape: x.shape, data: x.data } : transpose(x.data, x.shape, perm);
    const out = new Float64Array(x.data.length);
    const rows = x.data.length / N;
    for (let r = 0; r < rows; r++) {
      const row = moved.data.subarray(r * N, (r + 1) * N);
      let sum = 0;
      for (let k = 0; k < N; k++) sum = round(sum + row[k]);
      const mean = round(sum / N);
      let sq = 0;
      for (let k = 0; k < N; k++) {
        const d = round(row[k] - mean);
        sq = round(sq + round(d * d));
      }
      const variance = round(sq / N);
      const rs = round(1 / Math.sqrt(round(variance + eps)));
      for (let k = 0; k < N; k++) {
        const inv = gamma ? round(rs * gamma.data[k]) : rs;
        let res = round(-mean * inv);
        if (beta) res = round(res + beta.data[k]);
        out[r * N + k] = round(round(row[k] * inv) + res);
      }
    }
    if (identity) return [{ shape: x.shape, data: out, mask: x.mask }];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [{ shape: x.shape, data: transpose(out, moved.shape, inverse).data, mask: x.mask }];
  },
};
