/**
 * MaxPooling1D and AveragePooling1D over the steps of a (batch, steps, channels)
 * input (keras/src/layers/pooling/base_pooling.py, max_pooling1d.py,
 * average_pooling1d.py; Keras 1 names pool_length/stride).
 *
 * pool_size p, strides s (default p), padding "valid" (floor((L−p)/s)+1 windows)
 * or "same" (ceil(L/s) windows, padded as TensorFlow does, the odd step on the
 * right). Padded positions never count: the maximum is over real steps and the
 * average divides by the number of real steps in the window (tf.nn.avg_pool;
 * Keras 3's JAX backend divides by the same window counts). No mask on the output.
 */
import { InspectError } from "../errors.js";
import type { Layer } from "../model.js";
import type { LayerKind, Shape } from "./kind.js";
import { convGeometry } from "./conv1d.js";
import { expectRank, intOption, paddingOption, requireChannelsLast, requireRank3 } from "./options.js";

function poolOptions(layer: Layer) {
  const size = intOption(layer, ["pool_size", "pool_length"], 2);
  return { size, stride: intOption(layer, ["strides", "stride"], size), padding: paddingOption(layer, ["valid", "same"]) };
}

const MAX = new Set(["MaxPooling1D", "MaxPool1D"]);

export const pooling1d: LayerKind = {
  classNames: ["MaxPooling1D", "MaxPool1D", "AveragePooling1D", "AvgPool1D"],
  outputShapes(layer, inputs): Shape[] {
    requireChannelsLast(layer);
    requireRank3(layer, inputs[0]);
    const [B, L, C] = inputs[0];
    const o = poolOptions(layer);
    return [[B, L === null ? null : convGeometry(L, o.size, o.stride, 1, o.padding).steps, C]];
  },
  forward(layer, inputs, ctx) {
    requireChannelsLast(layer);
    const x = inputs[0];
    expectRank(layer, x, 3, "a (batch, steps, channels) input");
    const o = poolOptions(layer);
    const [B, L, C] = x.shape;
    const { steps, padLeft } = convGeometry(L, o.size, o.stride, 1, o.padding);
    if (steps <= 0) throw new InspectError(`layer '${ctx.path}' (${layer.className}): ${L} steps are fewer than pool_size=${o.size}`);
    const isMax = MAX.has(layer.className);
    const out = new Float64Array(B * steps * C);
    const { round } = ctx;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < steps; t++) {
        const from = Math.max(t * o.stride - padLeft, 0);
        const to = Math.min(t * o.stride - padLeft + o.size, L);
        for (let c = 0; c < C; c++) {
          let acc = isMax ? -Infinity : 0;
          for (let p = from; p < to; p++) {
            const v = x.data[(b * L + p) * C + c];
            acc = isMax ? Math.max(acc, v) : round(acc + v);
          }
          out[(b * steps + t) * C + c] = isMax ? acc : round(acc / (to - from));
        }
      }
    }
    return [{ shape: [B, steps, C], data: out }];
  },
};
