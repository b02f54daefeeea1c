// Writes HDF5 files in the layout Keras 2.2 uses for `model.save()` and
// `model.save_weights()` (see keras/engine/saving.py in Keras 2.2.4:
// save_model, save_weights_to_hdf5_group). Used by samples/write-samples.mjs and
// by tests that need model files with chosen weights (golden values, mutations).
//
// Layout written:
//   /                      attrs keras_version, backend, model_config (JSON)   [full model]
//   /model_weights         attrs layer_names, backend, keras_version
//   /model_weights/<layer> attr  weight_names ("<layer>/kernel:0", ...)
//   /model_weights/<layer>/<layer>/kernel:0   the dataset
// A weights-only file has the /model_weights content at the root.
import h5wasm from "h5wasm";

let counter = 0;

/** Keras (numpy) stores string lists as fixed-length byte strings padded to the longest. */
function fixedStrings(group, name, values) {
  if (values.length === 0) {
    // h5py turns `[]` into an empty float64 array; Keras relies on that for weightless layers.
    group.create_attribute(name, new Float64Array(0), [0], "<d");
    return;
  }
  const width = Math.max(1, ...values.map((v) => Buffer.byteLength(v)));
  group.create_attribute(name, values, [values.length], `S${width}`);
}

/**
 * @param {object} spec
 * @param {string} [spec.kerasVersion]   default "2.2.4"
 * @param {string} [spec.backend]        default "tensorflow"
 * @param {object} [spec.modelConfig]    omitted: a weights-only file
 * @param {string} [spec.libver]         HDF5 format bounds as h5wasm names them ("earliest", "latest", ...); default h5wasm's
 * @param {{name: string, weights: {name: string, shape: number[], data: ArrayLike<number>, dtype?: string, absent?: boolean, chunks?: number[], gzip?: number}[]}[]} spec.layers
 *   A weight with `absent: true` is listed in weight_names but its dataset is not written:
 *   the file h5py's `del f[path]` leaves (a damaged export, for tests of how it is reported).
 *   `chunks` stores it chunked (as h5py's `chunks=`), `gzip` (a level) also deflates each chunk.
 * @returns {Promise<Uint8Array>} the file's bytes
 */
export async function writeKerasH5(spec) {
  const Module = await h5wasm.ready;
  const path = `/keras-h5-writer-${process.pid}-${++counter}.h5`;
  // `libver` (h5wasm's bounds, e.g. "latest") picks the HDF5 format version of the structures written.
  const file = spec.libver ? new h5wasm.File(path, "w", { libver: spec.libver }) : new h5wasm.File(path, "w");
  const kerasVersion = spec.kerasVersion ?? "2.2.4";
  const backend = spec.backend ?? "tensorflow";
  let weightsGroup = file;
  if (spec.modelConfig) {
    file.create_attribute("keras_version", kerasVersion);
    file.create_attribute("backend", backend);
    file.create_attribute("model_config", JSON.stringify(spec.modelConfig));
    weightsGroup = file.create_group("model_weights");
  }
  fixedStrings(
    weightsGroup,
    "layer_names",
    spec.layers.map((l) => l.name),
  );
  weightsGroup.create_attribute("backend", backend);
  weightsGroup.create_attribute("keras_version", kerasVersion);
  for (const layer of spec.layers) {
    const g = weightsGroup.create_group(layer.name);
    fixedStrings(
      g,
      "weight_names",
      layer.weights.map((w) => w.name),
    );
    for (const w of layer.weights) {
      if (w.absent) continue;
      // A weight name with '/' lives in nested groups, as h5py creates them.
      const parts = w.name.split("/");
      let parent = g;
      for (const part of parts.slice(0, -1)) {
        parent = parent.get(part) ?? parent.create_group(part);
      }
      const dtype = w.dtype ?? "<f";
      const data = dtype === "<d" ? Float64Array.from(w.data) : Float32Array.from(w.data);
      const layout = w.chunks ? { chunks: w.chunks, ...(w.gzip !== undefined ? { compression: "gzip", compression_opts: w.gzip } : {}) } : {};
      parent.create_dataset({ name: parts[parts.length - 1], data, shape: w.shape, dtype, ...layout });
    }
  }
  file.close();
  const bytes = Module.FS.readFile(path);
  Module.FS.unlink(path);
  return bytes;
}

/** A Keras 2.2.4 LSTM layer config. */
export function lstmConfig(name, units, extra = {}) {
  return {
    class_name: "LSTM",
    config: {
      name,
      trainable: true,
      return_sequences: false,
      return_state: false,
      go_backwards: false,
      stateful: false,
      unroll: false,
      units,
      activation: "tanh",
      recurrent_activation: "hard_sigmoid",
      use_bias: true,
      kernel_initializer: { class_name: "VarianceScaling", config: { scale: 1.0, mode: "fan_avg", distribution: "uniform", seed: null } },
      recurrent_initializer: { class_name: "Orthogonal", config: { gain: 1.0, seed: null } },
      bias_initializer: { class_name: "Zeros", config: {} },
      unit_forget_bias: true,
      kernel_regularizer: null,
      recurrent_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      recurrent_constraint: null,
      bias_constraint: null,
      dropout: 0.0,
      recurrent_dropout: 0.0,
      implementation: 1,
      ...extra,
    },
  };
}

/** A Keras 2.2.4 GRU layer config. */
export function gruConfig(name, units, extra = {}) {
  const lstm = lstmConfig(name, units, extra).config;
  delete lstm.unit_forget_bias;
  return { class_name: "GRU", config: { ...lstm, reset_after: false, ...extra } };
}

/** A Keras 2.2.4 SimpleRNN layer config. */
export function simpleRnnConfig(name, units, extra = {}) {
  const lstm = lstmConfig(name, units, extra).config;
  delete lstm.unit_forget_bias;
  delete lstm.recurrent_activation;
  delete lstm.implementation;
  return { class_name: "SimpleRNN", config: { ...lstm, ...extra } };
}

/** A Keras 2.2.4 Dense layer config. */
export function denseConfig(name, units, extra = {}) {
  return {
    class_name: "Dense",
    config: {
      name,
      trainable: true,
      units,
      activation: "linear",
      use_bias: true,
      kernel_initializer: { class_name: "VarianceScaling", config: { scale: 1.0, mode: "fan_avg", distribution: "uniform", seed: null } },
      bias_initializer: { class_name: "Zeros", config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      ...extra,
    },
  };
}

/** A Keras 2.2.4 Sequential model config (the dict form used since 2.2.3). */
export function sequentialConfig(name, layers) {
  return { class_name: "Sequential", config: { name, layers } };
}
