/**
 * Embedding: a lookup y[..., :] = embeddings[id, :] (keras/src/layers/core/embedding.py;
 * Keras 1.2.2 keras/layers/embeddings.py, whose table is stored as `W`).
 *
 * Token ids arrive as floats; they must be whole numbers in [0, input_dim). Keras
 * casts them to int32 (truncating) and TensorFlow's CPU gather fails on ids out of
 * range while its GPU gather returns zeros, so we refuse both cases instead of guessing.
 *
 * mask_zero=True makes mask = (id != 0) (embedding.py compute_mask), which the
 * recurrent layers downstream use to skip padded steps.
 */
import { InspectError, UnsupportedError } from "../errors.js";
import type { Layer } from "../model.js";
import type { LayerKind, Shape, Value } from "./kind.js";
import { expectShape, tensorNamed } from "./recurrent.js";

function table(layer: Layer) {
  const t = tensorNamed(layer, "embeddings") ?? tensorNamed(layer, "W");
  if (!t) {
    const have = layer.weights.map((w) => w.name).join(", ") || "none";
    throw new InspectError(`layer '${layer.name}' (Embedding) has no 'embeddings' tensor (it has: ${have})`);
  }
  const inputDim = layer.config.input_dim;
  const outputDim = layer.config.output_dim ?? layer.config.units;
  if (t.shape.length !== 2) {
    throw new InspectError(`layer '${layer.name}' (Embedding): tensor '${t.name}' has shape [${t.shape.join(", ")}], expected (input_dim, output_dim)`);
  }
  if (typeof inputDim === "number" && typeof outputDim === "number") {
    expectShape(layer, t, [inputDim, outputDim], `input_dim=${inputDim} and output_dim=${outputDim}`);
  }
  return t;
}

function outputDim(layer: Layer): number | null {
  const d = layer.config.output_dim ?? layer.config.units;
  if (typeof d === "number") return d;
  const t = tensorNamed(layer, "embeddings") ?? tensorNamed(layer, "W");
  return t && t.shape.length === 2 ? t.shape[1] : null;
}

export const embedding: LayerKind = {
  classNames: ["Embedding"],
  outputShapes(layer, inputs): Shape[] {
    let input = inputs[0];
    const len = layer.config.input_length;
    if (!input) input = [null, typeof len === "number" ? len : null];
    // Keras 2 fills an unknown step count from input_length.
    if (input.length === 2 && input[1] === null && typeof len === "number") input = [input[0], len];
    return [[...input, outputDim(layer)]];
  },
  forward(layer, inputs, ctx) {
    const x = inputs[0];
    const t = table(layer);
    const [vocab, dim] = t.shape;
    const maskZero = layer.config.mask_zero === true;
    if (maskZero && x.shape.length !== 2) {
      throw new UnsupportedError(
        `layer '${ctx.path}' (Embedding, mask_zero=True) needs token ids of shape (batch, steps), got (${x.shape.join(", ")})`,
      );
    }
    const out = new Float64Array(x.data.length * dim);
    const mask = maskZero ? new Uint8Array(x.data.length) : undefined;
    for (let i = 0; i < x.data.length; i++) {
      const id = x.data[i];
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new InspectError(
          `layer '${ctx.path}' (Embedding): input value ${id} at flat position ${i} is not a token id in [0, ${vocab - 1}]; give whole-number ids below input_dim=${vocab}`,
        );
      }
      for (let j = 0; j < dim; j++) out[i * dim + j] = ctx.round(t.data[id * dim + j]);
      if (mask) mask[i] = id !== 0 ? 1 : 0;
    }
    const y: Value = { shape: [...x.shape, dim], data: out };
    if (mask) y.mask = mask;
    return [y];
  },
};
