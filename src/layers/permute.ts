/**
 * Permute(dims): reorders the non-batch axes; dims are 1-based, output axis i+1 is
 * input axis dims[i] (keras/src/layers/reshaping/permute.py). No mask on the output.
 */
import { InspectError } from "../errors.js";
import type { Layer } from "../model.js";
import type { LayerKind, Shape } from "./kind.js";
import { transpose } from "./options.js";

function dims(layer: Layer, rank: number): number[] {
  const d = layer.config.dims;
  const ok =
    Array.isArray(d) &&
    d.length === rank - 1 &&
    [...d].sort((a, b) => a - b).every((v, i) => v === i + 1);
  if (!ok) {
    throw new InspectError(`layer '${layer.name}' (Permute): config 'dims' is ${JSON.stringify(d)}, expected a permutation of 1..${rank - 1}`);
  }
  return d as number[];
}

export const permute: LayerKind = {
  classNames: ["Permute"],
  outputShapes(layer, inputs): Shape[] {
    const input = inputs[0];
    return [[input[0], ...dims(layer, input.length).map((a) => input[a])]];
  },
  forward(layer, inputs) {
    const x = inputs[0];
    const y = transpose(x.data, x.shape, [0, ...dims(layer, x.shape.length)]);
    return [{ shape: y.shape, data: y.data }];
  },
};
