/**
 * The normalized model: what every file format adapter in `load/` produces and
 * everything after it (layers, evaluation, presentation) consumes.
 *
 * A Model is a tree of Layers. Each Layer keeps its Keras class name, its name,
 * its config (with Keras 1 key names already translated to Keras 2+ ones) and the
 * weight tensors exactly as stored in the file, in `weight_names` order.
 * Turning stored tensors into canonical gate blocks is the layer kind's job
 * (see `layers/`), not the loader's.
 */

export type FormatName =
  | "keras-h5" // model.save() HDF5: Keras 1, Keras 2, tf.keras, Keras 3 legacy .h5
  | "keras-h5-weights" // save_weights() HDF5 without a model config
  | "keras3-archive" // Keras 3 / tf.keras 2.12+ `.keras` zip
  | "keras3-weights" // Keras 3 `.weights.h5`
  | "tfjs-layers" // TensorFlow.js layers-model: model.json (a Keras config) + weight shards
  | "onnx" // ONNX graph: its LSTM / GRU / RNN nodes, as Keras layers
  | "tflite"; // TFLite flatbuffer: its UNIDIRECTIONAL_SEQUENCE_LSTM ops, as Keras LSTM layers

/** Each format in words, as summary and check name the file they read. */
export const FORMAT_DESCRIPTIONS: Record<FormatName, string> = {
  "keras-h5": "Keras HDF5 model",
  "keras-h5-weights": "Keras HDF5 weights, no model config",
  "keras3-archive": "Keras 3 .keras archive",
  "keras3-weights": "Keras 3 .weights.h5 (or sharded weights), no model config",
  "tfjs-layers": "TensorFlow.js layers-model",
  onnx: "ONNX graph, its recurrent nodes read as layers",
  tflite: "TFLite model, its fused LSTM ops read as layers",
};

export type DType = "float16" | "bfloat16" | "float32" | "float64" | "int32" | "int64" | "other";

export interface Tensor {
  /** Role of the tensor inside its layer: `kernel`, `recurrent_kernel`, `bias`, `W_i`, `gamma`, ... */
  name: string;
  /** Where it lives in the file (HDF5 path, or `zip-entry:path` for archives). */
  path: string;
  shape: number[];
  dtype: DType;
  /**
   * Row-major (C order) values. Loaders read them from the file the first time they are
   * asked for (load/common.ts readTensor), so reading `data` can throw a FileError (the
   * file was removed, changed, or is damaged where the values are).
   */
  data: Float32Array | Float64Array;
  /**
   * Passes the values to `visit` in row-major order, a block at a time (`first`: the index
   * of the block's first value), without keeping them: from the file through one reused
   * buffer while `data` has not been read, in one block once it has. Loaders offer it for
   * a dataset large enough to be read on its own (load/hdf5-file.ts DeferredReads), so that
   * a pass over a 256 MiB kernel (`weights` statistics) touches no new memory. Not
   * enumerable: a Tensor still crosses to a worker as its values.
   */
  scan?(visit: (values: Float32Array | Float64Array, first: number) => void): void;
  /**
   * Dequantized export weights: one quantization step (the scale) per index of the last axis,
   * 0 where that column was stored unquantized; `diff` reports |Δ| in these steps.
   */
  quantizationStep?: Float64Array;
  /**
   * An export's weights stored as float16 and widened exactly (tfjs float16, TFLite and ONNX
   * float16 tensors): each value is a float16 number, so `diff` measures |Δ| against the
   * spacing of float16 numbers at that value, its step.
   */
  storedAsFloat16?: boolean;
}

/** One input edge of a functional node: which layer, which of its nodes, which output tensor. */
export interface InboundRef {
  layer: string;
  node: number;
  tensor: number;
}

/**
 * A value in a functional call's arguments as the config records it: a tensor as a
 * reference to the output that feeds it, anything else as the JSON it was written as.
 */
export type CallValue = null | boolean | number | string | { kerasTensor: InboundRef } | CallValue[] | { [key: string]: CallValue };

/**
 * How one call passed its arguments (Keras 3 `{args, kwargs}`; Keras 2 and tf.keras: the
 * first argument as the node's entries, every other argument as the kwargs of its 4th element).
 */
export interface CallArguments {
  args: CallValue[];
  kwargs: { [key: string]: CallValue };
}

export interface Layer {
  /** Keras class name as written in the file (`LSTM`, `CuDNNLSTM`, `TimeDistributedDense`, ...). */
  className: string;
  name: string;
  /** Config with Keras 1 keys translated (output_dim -> units, inner_activation -> recurrent_activation, ...). */
  config: Record<string, unknown>;
  /** Tensors in the file's `weight_names` order (Keras 3: `vars/<n>` order, named by the layer kind). */
  weights: Tensor[];
  /**
   * Nested layers: Bidirectional's forward and backward layers, TimeDistributed's
   * inner layer, the layers of a model inside a model. Their weights live on them,
   * not on the parent.
   */
  children: Layer[];
  /** Functional models: for each call of this layer, the tensors it consumed. Empty for Sequential. */
  inbound: InboundRef[][];
  /** Functional models: for each call, its arguments as recorded (absent where a format records none). */
  calls?: CallArguments[];
  /** True when the class was inferred from weight names and shapes (weights-only files). */
  inferred?: boolean;
  /**
   * What an export adapter did to this layer's tensors to give them Keras' layout (an
   * ONNX gate order mapped, tfjs weights dequantized). The layer kinds pass them on
   * with the cell's own notes, so `weights`, `step` and `diff` say them.
   */
  notes?: string[];
  /**
   * Tensors the file lists (`weight_names`) but does not hold (a dataset removed). Only a
   * model loaded with `{ missingTensors: "keep" }` has them, for `check` to report as a
   * failed structure check; every other load fails with a FileError naming the first.
   */
  missingWeights?: MissingTensor[];
}

export interface MissingTensor {
  /** The name the tensor would have in `weights` (`bias`). */
  name: string;
  /** Where the file says it is (`/model_weights/lstm_1/lstm_1/bias:0`). */
  path: string;
}

export interface Model {
  format: FormatName;
  /** The file it was read from. */
  source: string;
  /** `keras_version` as written, or undefined when the file does not record it. */
  kerasVersion?: string;
  /** Major Keras version that wrote the file (1, 2 or 3), from keras_version or the layout. */
  kerasMajor: 1 | 2 | 3;
  backend?: string;
  /** `Sequential`, `Model`/`Functional`, or `(weights only)`. */
  modelClass: string;
  name: string;
  /** Top-level layers in model order. */
  layers: Layer[];
  /** Functional models: model inputs and outputs. For Sequential: first and last layer. */
  inputs: InboundRef[];
  outputs: InboundRef[];
  /** Things the loader wants the user to know (inferred classes, converted layouts, ...). */
  notes: string[];
  /**
   * Which of the file's layers became Layers: absent for all of them (Keras files, tfjs);
   * `recurrent` where the adapter reads only the recurrent nodes of a graph (ONNX: the
   * MatMul, Add, ... around them are not mapped back to Keras layers), so `diff` leaves
   * the other side's non-recurrent layers out and `predict` refuses the whole model.
   */
  layersRead?: "recurrent";
  /**
   * A weights-only file read with `--config`: the file its structure came from. A
   * weights-only model without it has layers inferred from the tensors alone, and
   * evaluating it needs assumptions (eval/assumptions.ts).
   */
  configFrom?: string;
}

/** A weights-only file (no model config of its own). */
export function isWeightsOnly(model: Model): boolean {
  return model.format === "keras-h5-weights" || model.format === "keras3-weights";
}

/** Depth-first walk over a layer tree with the slash-separated path of each layer. */
export function* walkLayers(layers: Layer[], prefix = ""): Generator<{ layer: Layer; path: string; depth: number }> {
  for (const layer of layers) {
    const path = prefix ? `${prefix}/${layer.name}` : layer.name;
    yield { layer, path, depth: prefix ? prefix.split("/").length : 0 };
    yield* walkLayers(layer.children, path);
  }
}

/** Passes a tensor's values to `visit` in row-major order: streamed from the file where it can be (Tensor.scan), else all at once. */
export function scanTensor(t: Pick<Tensor, "data" | "scan">, visit: (values: Float32Array | Float64Array, first: number) => void): void {
  if (t.scan) t.scan(visit);
  else visit(t.data, 0);
}

export function tensorSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** All weight tensors of a layer and its children, in storage order. */
export function allWeights(layer: Layer): Tensor[] {
  return [...layer.weights, ...layer.children.flatMap(allWeights)];
}
