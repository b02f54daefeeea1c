/**
 * RepeatVector(n): (B, D) -> (B, n, D), every step a copy of the input
 * (keras/src/layers/reshaping/repeat_vector.py). No mask on the output.
 */
import type { LayerKind, Shape } from "./kind.js";
import { expectRank, intOption } from "./options.js";

export const repeatVector: LayerKind = {
  classNames: ["RepeatVector"],
  outputShapes(layer, inputs): Shape[] {
    const input = inputs[0];
    return [[input[0], intOption(layer, ["n"]), ...input.slice(1)]];
  },
  forward(layer, inputs) {
    const x = inputs[0];
    expectRank(layer, x, 2, "a (batch, features) input");
    const n = intOption(layer, ["n"]);
    const [B, D] = x.shape;
    const out = new Float64Array(B * n * D);
    for (let b = 0; b < B; b++) for (let t = 0; t < n; t++) out.set(x.data.subarray(b * D, (b + 1) * D), (b * n + t) * D);
    return [{ shape: [B, n, D], data: out }];
  },
};
