/**
 * Flatten: (B, d1, ..., dn) -> (B, d1·...·dn) in row-major order
 * (keras/src/layers/reshaping/flatten.py). With data_format "channels_first" the
 * channel axis (1) is moved last before flattening, as Keras does. Flatten does
 * not support masking: Keras 3 drops the mask (tf.keras 2 refuses one), so the
 * output carries none.
 */
import type { LayerKind, Shape } from "./kind.js";
import { knownProduct, product, transpose } from "./options.js";

export const flatten: LayerKind = {
  classNames: ["Flatten"],
  outputShapes(_layer, inputs): Shape[] {
    const input = inputs[0];
    return [[input[0], input.length === 1 ? 1 : knownProduct(input.slice(1))]];
  },
  forward(layer, inputs) {
    const x = inputs[0];
    const rank = x.shape.length;
    let data = x.data;
    if (layer.config.data_format === "channels_first" && rank > 2) {
      const perm = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
      data = transpose(x.data, x.shape, perm).data;
    }
    return [{ shape: [x.shape[0], product(x.shape.slice(1))], data }];
  },
};
