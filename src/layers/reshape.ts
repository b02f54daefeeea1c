/**
 * Reshape(target_shape): the same values in row-major order under a new non-batch
 * shape; one entry may be -1, inferred from the size
 * (keras/src/layers/reshaping/reshape.py, keras/src/ops/operation_utils.py
 * compute_reshape_output_shape). Reshape does not support masking; the output
 * carries no mask.
 */
import { InspectError } from "../errors.js";
import type { Layer } from "../model.js";
import type { LayerKind, Shape } from "./kind.js";
import { knownProduct, product } from "./options.js";

function targetShape(layer: Layer): number[] {
  const raw = layer.config.target_shape;
  // A null entry (written by some converters) means the same as -1.
  const t = Array.isArray(raw) ? raw.map((d) => (d === null ? -1 : d)) : raw;
  if (!Array.isArray(t) || t.some((d) => typeof d !== "number" || !Number.isInteger(d) || (d < 1 && d !== -1))) {
    throw new InspectError(`layer '${layer.name}' (Reshape): config 'target_shape' is ${JSON.stringify(raw)}, expected a list of positive integers (one may be -1)`);
  }
  if ((t as number[]).filter((d) => d === -1).length > 1) {
    throw new InspectError(`layer '${layer.name}' (Reshape): target_shape ${JSON.stringify(t)} has more than one -1`);
  }
  return t as number[];
}

/** target_shape with its -1 resolved for an input of `size` values per sample (null: unknown). */
function resolve(layer: Layer, size: number | null): Shape {
  const target = targetShape(layer);
  const known = product(target.filter((d) => d !== -1));
  const free = target.indexOf(-1);
  if (size === null) return target.map((d) => (d === -1 ? null : d));
  if (free < 0) {
    if (known !== size) {
      throw new InspectError(`layer '${layer.name}' (Reshape): cannot reshape ${size} values per sample into (${target.join(", ")})`);
    }
    return target;
  }
  if (known === 0 || size % known !== 0) {
    throw new InspectError(`layer '${layer.name}' (Reshape): ${size} values per sample do not divide into (${target.join(", ")})`);
  }
  return target.map((d) => (d === -1 ? size / known : d));
}

export const reshape: LayerKind = {
  classNames: ["Reshape"],
  outputShapes(layer, inputs): Shape[] {
    const input = inputs[0];
    return [[input[0], ...resolve(layer, knownProduct(input.slice(1)))]];
  },
  forward(layer, inputs) {
    const x = inputs[0];
    const shape = resolve(layer, product(x.shape.slice(1))) as number[];
    return [{ shape: [x.shape[0], ...shape], data: x.data }];
  },
};
