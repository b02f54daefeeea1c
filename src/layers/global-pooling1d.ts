/**
 * GlobalAveragePooling1D and GlobalMaxPooling1D: the mean or maximum over the steps
 * axis (keras/src/layers/pooling/global_average_pooling1d.py,
 * global_max_pooling1d.py), keeping it as size 1 with keepdims=True.
 *
 * With a (batch, steps) mask, the average counts only real steps:
 * Σ_t x[t]·mask[t] / Σ_t mask[t] (as tf.keras 2 and Keras 3 compute it; an
 * all-masked row gives 0/0 = NaN there too). The maximum ignores the mask, as Keras
 * does. Both consume the mask: the output carries none.
 */
import type { LayerKind, Shape, Value } from "./kind.js";
import { expectRank, requireRank3 } from "./options.js";

const AVERAGE = new Set(["GlobalAveragePooling1D", "GlobalAvgPool1D"]);

export const globalPooling1d: LayerKind = {
  classNames: ["GlobalAveragePooling1D", "GlobalAvgPool1D", "GlobalMaxPooling1D", "GlobalMaxPool1D"],
  outputShapes(layer, inputs): Shape[] {
    requireRank3(layer, inputs[0]);
    const [B, A, C] = inputs[0];
    const first = layer.config.data_format === "channels_first";
    if (layer.config.keepdims === true) return [first ? [B, A, 1] : [B, 1, C]];
    return [[B, first ? A : C]];
  },
  forward(layer, inputs, ctx) {
    const x = inputs[0];
    expectRank(layer, x, 3, "a 3-D input");
    const first = layer.config.data_format === "channels_first";
    const [B, d1, d2] = x.shape;
    const [T, C] = first ? [d2, d1] : [d1, d2];
    const at = (b: number, t: number, c: number) => x.data[first ? (b * C + c) * T + t : (b * T + t) * C + c];
    const average = AVERAGE.has(layer.className);
    const mask = average ? x.mask : undefined;
    const { round } = ctx;
    const out = new Float64Array(B * C);
    for (let b = 0; b < B; b++) {
      let count = T;
      if (mask) {
        count = 0;
        for (let t = 0; t < T; t++) count += mask[b * T + t];
      }
      for (let c = 0; c < C; c++) {
        let acc = average ? 0 : -Infinity;
        for (let t = 0; t < T; t++) {
          if (mask && mask[b * T + t] === 0) continue;
          acc = average ? round(acc + at(b, t, c)) : Math.max(acc, at(b, t, c));
        }
        out[b * C + c] = average ? round(acc / count) : acc;
      }
    }
    const keep = layer.config.keepdims === true;
    const shape = keep ? (first ? [B, C, 1] : [B, 1, C]) : [B, C];
    return [{ shape, data: out } satisfies Value];
  },
};
