/**
 * Evaluating a weights-only file (issue 13, item 2). `save_weights()` HDF5 and Keras 3
 * `.weights.h5` files store tensors but not the settings the numbers depend on: a Dense
 * layer's activation, return_sequences, a Masking layer's mask_value, go_backwards, and
 * (Keras 3) even the order of the layers. Without the structure (`--config`):
 * - a recurrent layer fed directly (`--raw-input`, or the file's first layer with nothing
 *   before it) is evaluated, and every setting that had to be assumed is listed, for stderr
 *   and for the JSON output's `assumptions`;
 * - anything that runs layers whose settings are unknown (predict, or step past the first
 *   layer) is refused, saying what is unknown and naming `--config`.
 * Names from the file are left as they are here: the CLI escapes what it prints.
 */
import { UsageError } from "../errors.js";
import { recurrentKindOf } from "../layers/registry.js";
import { isWeightsOnly, type Layer, type Model, walkLayers } from "../model.js";

export const CONFIG_HINT =
  "give the model's structure with --config FILE (the JSON of model.to_json(), a .keras file's config.json, or a model file of the same architecture)";

/** True when evaluating this model needs assumptions or a refusal: weights only, no --config. */
export function needsStructure(model: Model): boolean {
  return isWeightsOnly(model) && model.configFrom === undefined;
}

function describe(layer: Layer): string {
  return `${layer.name}: ${layer.className}`;
}

/** What a weights-only file does not say that predict would need, in words. */
function unknownsOf(model: Model): string[] {
  const classes = new Set([...walkLayers(model.layers)].map((e) => e.layer.className));
  const out: string[] = [];
  if (model.format === "keras3-weights" && model.layers.length > 1) out.push("the order of its layers (a .weights.h5 lists them by name)");
  if ([...classes].some((c) => recurrentKindOf(c))) out.push("return_sequences, go_backwards and the activations of its recurrent layers");
  if (classes.has("Dense") || classes.has("TimeDistributedDense")) out.push("the activations of its Dense layers");
  if (classes.has("Conv1D") || classes.has("Conv2D")) out.push("the padding, strides and activations of its convolutions");
  out.push("any layer without weights (Masking, Dropout, Activation, Reshape...) that the model had");
  return out;
}

/** Refuses to evaluate a whole weights-only model without its structure. */
export function requireStructureForModel(model: Model, what: string): void {
  if (!needsStructure(model)) return;
  throw new UsageError(`${model.source} stores weights only, so ${what} would guess ${unknownsOf(model).join("; ")}: ${CONFIG_HINT}`);
}

/**
 * What evaluating the recurrent layer `layer` (at `path`, called as `callPath` at the top
 * level) of a weights-only model assumes; a refusal when it would run layers before it.
 * Empty for a model with its structure.
 */
export function stepAssumptions(model: Model, layer: Layer, path: string, callPath: string, rawInput: boolean): string[] {
  if (!needsStructure(model)) return [];
  if (!rawInput) {
    const top = callPath.split("/")[0];
    const at = model.layers.findIndex((l) => l.name === top);
    const before = at < 0 ? [] : model.layers.slice(0, at);
    if (model.format === "keras3-weights" && model.layers.length > 1) {
      throw new UsageError(
        `${model.source} stores weights only, and a .weights.h5 does not record the order of its layers, so what feeds '${path}' is unknown: step it on its own input with --raw-input, or ${CONFIG_HINT}`,
      );
    }
    if (before.length > 0) {
      throw new UsageError(
        `'${path}' follows ${before.length} layer(s) whose settings ${model.source} does not record (weights only: ${before.map(describe).slice(0, 4).join(", ")}${before.length > 4 ? ", …" : ""}): step it on its own input with --raw-input, or ${CONFIG_HINT}`,
      );
    }
  }
  const kind = recurrentKindOf(layer.className);
  const out: string[] = [];
  if (kind) {
    const names = kind.activationNames(layer, model);
    const listed = Object.entries(names)
      .map(([role, name]) => `${role} ${name}`)
      .join(", ");
    out.push(`${path}: ${listed} (the Keras ${model.kerasMajor} defaults; the file does not record them)`);
  }
  out.push(`${path}: go_backwards false, no masking, and a zero initial state unless --h0/--c0 (the file does not record them)`);
  if (callPath !== path) out.push(`${callPath}: Bidirectional merge_mode concat (the file does not record it)`);
  return out;
}
