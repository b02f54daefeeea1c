/**
 * The names of the tensors each layer class stores, in the order Keras creates
 * (and therefore saves) them. Keras 3 `.weights.h5` files only number them
 * (`vars/0`, `vars/1`, ...), so this is how the loader names them; weights-only
 * HDF5 files have no config, so it also tells the loader which class fits.
 *
 * Source: each class's `build()` in keras/src/layers (Keras 3) and keras/layers (Keras 2).
 * For RNN layers the variables belong to the cell (`cell/vars/N`).
 */
import { InspectError } from "../errors.js";
import { lookup } from "../lookup.js";
import type { Layer } from "../model.js";

type Config = Record<string, unknown>;

const useBias = (c: Config) => c.use_bias !== false;

const TABLE: Record<string, (c: Config) => string[]> = {
  LSTM: (c) => (useBias(c) ? ["kernel", "recurrent_kernel", "bias"] : ["kernel", "recurrent_kernel"]),
  GRU: (c) => (useBias(c) ? ["kernel", "recurrent_kernel", "bias"] : ["kernel", "recurrent_kernel"]),
  SimpleRNN: (c) => (useBias(c) ? ["kernel", "recurrent_kernel", "bias"] : ["kernel", "recurrent_kernel"]),
  ConvLSTM1D: (c) => (useBias(c) ? ["kernel", "recurrent_kernel", "bias"] : ["kernel", "recurrent_kernel"]),
  ConvLSTM2D: (c) => (useBias(c) ? ["kernel", "recurrent_kernel", "bias"] : ["kernel", "recurrent_kernel"]),
  ConvLSTM3D: (c) => (useBias(c) ? ["kernel", "recurrent_kernel", "bias"] : ["kernel", "recurrent_kernel"]),
  CuDNNLSTM: () => ["kernel", "recurrent_kernel", "bias"],
  CuDNNGRU: () => ["kernel", "recurrent_kernel", "bias"],
  Dense: (c) => (useBias(c) ? ["kernel", "bias"] : ["kernel"]),
  // Keras 1 TimeDistributedDense stores W, b; the Keras 2 names are what the loader would get from a config.
  TimeDistributedDense: (c) => (useBias(c) ? ["kernel", "bias"] : ["kernel"]),
  // Keras 3 EinsumDense (also MultiHeadAttention's query/key/value/output sub-layers): bias only with bias_axes.
  EinsumDense: (c) => (typeof c.bias_axes === "string" && c.bias_axes !== "" ? ["kernel", "bias"] : ["kernel"]),
  Conv1D: (c) => (useBias(c) ? ["kernel", "bias"] : ["kernel"]),
  Conv2D: (c) => (useBias(c) ? ["kernel", "bias"] : ["kernel"]),
  Conv3D: (c) => (useBias(c) ? ["kernel", "bias"] : ["kernel"]),
  SeparableConv1D: (c) => (useBias(c) ? ["depthwise_kernel", "pointwise_kernel", "bias"] : ["depthwise_kernel", "pointwise_kernel"]),
  DepthwiseConv1D: (c) => (useBias(c) ? ["depthwise_kernel", "bias"] : ["depthwise_kernel"]),
  Embedding: () => ["embeddings"],
  BatchNormalization: (c) => [
    ...(c.scale !== false ? ["gamma"] : []),
    ...(c.center !== false ? ["beta"] : []),
    "moving_mean",
    "moving_variance",
  ],
  LayerNormalization: (c) => [...(c.scale !== false ? ["gamma"] : []), ...(c.center !== false ? ["beta"] : [])],
  PReLU: () => ["alpha"],
  Attention: (c) => [...(c.use_scale === true ? ["scale"] : []), ...(c.score_mode === "concat" ? ["concat_score_weight"] : [])],
  AdditiveAttention: (c) => (c.use_scale !== false ? ["scale"] : []),
};

/** Stored tensor names for a class and config, or undefined when we do not know the class. */
export function storedWeightNames(className: string, config: Config): string[] | undefined {
  return lookup(TABLE, className)?.(config);
}

/** Does a layer of a config store tensors? A leaf does when its class creates some; wrappers and nested models when an inner layer does. */
export function storesTensors(layer: Layer): boolean {
  if (layer.children.length > 0) return layer.children.some(storesTensors);
  return (storedWeightNames(layer.className, layer.config)?.length ?? 0) > 0;
}

/**
 * Before a layer's arithmetic runs: it must store as many tensors as its class creates.
 * Keras refuses such a file ("Layer #0 (named 'dense_1') expects 2 weight(s), but the
 * saved weights have 3 element(s)"); evaluating it anyway would ignore a tensor and
 * answer with numbers Keras never gives. Classes we cannot name the tensors of are left
 * to their own module; so are recurrent layers (their legacy layouts store more).
 */
export function requireStoredWeights(layer: Layer, path: string): void {
  if (layer.inferred) return;
  const names = storedWeightNames(layer.className, layer.config);
  if (names === undefined || layer.weights.length === names.length) return;
  const stored = layer.weights.map((w) => w.name).join(", ") || "none";
  throw new InspectError(
    `layer '${path}' (${layer.className}) stores ${layer.weights.length} tensor(s) (${stored}) but a ${layer.className} layer with this config has ${names.length} (${names.join(", ")}); Keras would refuse to load these weights`,
  );
}
