/**
 * Weights-only files (`save_weights()` HDF5, Keras 3 `.weights.h5`) carry no config,
 * so the layer class is inferred from the stored tensor names and shapes, with the
 * layer (or group) name as a tie-breaker (docs/keras-formats.md A1.4, A2.2, A3).
 * Inferred layers get `inferred: true` and a minimal config; anything we cannot tell
 * (return_sequences, activations, ...) is left out rather than guessed.
 */
import type { Tensor } from "../model.js";

/** Class names we can recognise from a layer/group name (`lstm_2`, `simplernn_1`, `cu_dnnlstm_1`, ...). */
const KNOWN_CLASSES = [
  "LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "CuDNNLSTM", "CuDNNGRU", "RNN",
  "Dense", "TimeDistributedDense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "DepthwiseConv1D",
  "Embedding", "BatchNormalization", "LayerNormalization", "PReLU",
  "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Masking", "Flatten", "Activation",
  "RepeatVector", "Reshape", "Permute", "InputLayer", "Concatenate", "Add", "Subtract", "Multiply", "Average",
  "Maximum", "Minimum", "Dot", "LeakyReLU", "ELU", "ReLU", "Softmax", "ThresholdedReLU",
  "TimeDistributed", "Bidirectional", "Lambda", "Attention", "AdditiveAttention", "MultiHeadAttention",
  "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D", "MaxPooling2D",
  "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D", "Cropping1D", "ZeroPadding1D", "UpSampling1D",
  "Sequential", "Functional", "Model",
];

/** Keras 3 `keras/src/utils/naming.py (to_snake_case)`: LSTM -> lstm, SimpleRNN -> simple_rnn, ConvLSTM2D -> conv_lstm2d. */
export function toSnakeCase(className: string): string {
  let name = className.replace(/\W+/g, "");
  name = name.replace(/(.)([A-Z][a-z]+)/g, "$1_$2");
  name = name.replace(/([a-z])([A-Z])/g, "$1_$2");
  return name.toLowerCase();
}

/** tf.keras 2.x `generic_utils.to_snake_case`: ConvLSTM2D -> conv_lst_m2d (digits count as lower case). */
export function toSnakeCaseTfKeras(className: string): string {
  const intermediate = className.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2");
  const insecure = intermediate.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return insecure.startsWith("_") ? `private${insecure}` : insecure;
}

/** Every name Keras has used for a class in auto-generated layer names. */
export function snakeNamesOf(className: string): string[] {
  return [...new Set([toSnakeCase(className), toSnakeCaseTfKeras(className), className.toLowerCase()])];
}

const BY_PREFIX = new Map<string, string>();
for (const cls of KNOWN_CLASSES) for (const n of snakeNamesOf(cls)) if (!BY_PREFIX.has(n)) BY_PREFIX.set(n, cls);
BY_PREFIX.set("input", "InputLayer"); // keras.Input() layers are named input_1, input_2, ...
BY_PREFIX.set("repeatvector", "RepeatVector");

/** The class a layer name suggests (`dropout_1` -> Dropout, `input_3` -> InputLayer), if any. */
export function classFromName(name: string): string | undefined {
  const exact = BY_PREFIX.get(name);
  if (exact) return exact;
  const base = name.replace(/_\d+$/, "");
  return BY_PREFIX.get(base);
}

export interface Inferred {
  className: string;
  config: Record<string, unknown>;
}

const KERAS1_GATE = /^(W|U|b)_([a-z])$/;

function byName(tensors: Tensor[]): Map<string, Tensor> {
  return new Map(tensors.map((t) => [t.name, t]));
}

function recurrentFromShapes(kernel: Tensor, recurrent: Tensor, bias: Tensor | undefined, hint: string | undefined): Inferred | undefined {
  const rk = recurrent.shape;
  if (kernel.shape.length === 2 && rk.length === 2) {
    const units = rk[0];
    if (units <= 0 || rk[1] % units !== 0) return undefined;
    const ratio = rk[1] / units;
    const biasSize = bias ? bias.shape.reduce((a, b) => a * b, 1) : 0;
    const useBias = bias !== undefined;
    if (ratio === 4) {
      if (biasSize === 8 * units || hint === "CuDNNLSTM") return { className: "CuDNNLSTM", config: { units } };
      return { className: "LSTM", config: { units, use_bias: useBias } };
    }
    if (ratio === 3) {
      if ((bias && bias.shape.length === 1 && biasSize === 6 * units) || hint === "CuDNNGRU") return { className: "CuDNNGRU", config: { units } };
      const resetAfter = bias !== undefined && bias.shape.length === 2 && bias.shape[0] === 2;
      return { className: "GRU", config: { units, use_bias: useBias, ...(useBias ? { reset_after: resetAfter } : {}) } };
    }
    if (ratio === 1) return { className: "SimpleRNN", config: { units, use_bias: useBias } };
    return undefined;
  }
  // ConvLSTM: kernel (..., C_in, 4f), recurrent (..., f, 4f)
  const rank = kernel.shape.length;
  if (rank >= 3 && rank <= 5 && rk.length === rank) {
    const filters = rk[rank - 2];
    if (filters > 0 && rk[rank - 1] === 4 * filters) {
      return { className: `ConvLSTM${rank - 2}D`, config: { filters, kernel_size: kernel.shape.slice(0, rank - 2), use_bias: bias !== undefined } };
    }
  }
  return undefined;
}

function fromKeras2Names(t: Map<string, Tensor>, hint: string | undefined): Inferred | undefined {
  const kernel = t.get("kernel");
  const recurrent = t.get("recurrent_kernel");
  const bias = t.get("bias");
  if (kernel && recurrent) return recurrentFromShapes(kernel, recurrent, bias, hint);
  if (kernel && !recurrent) {
    const rank = kernel.shape.length;
    const useBias = bias !== undefined;
    if (rank === 2) return { className: "Dense", config: { units: kernel.shape[1], use_bias: useBias } };
    if (rank >= 3 && rank <= 5) {
      return {
        className: `Conv${rank - 2}D`,
        config: { filters: kernel.shape[rank - 1], kernel_size: kernel.shape.slice(0, rank - 2), use_bias: useBias },
      };
    }
    return undefined;
  }
  const embeddings = t.get("embeddings");
  if (embeddings && embeddings.shape.length === 2) {
    return { className: "Embedding", config: { input_dim: embeddings.shape[0], output_dim: embeddings.shape[1] } };
  }
  if (t.has("moving_mean") && t.has("moving_variance")) {
    return { className: "BatchNormalization", config: { scale: t.has("gamma"), center: t.has("beta") } };
  }
  if ((t.has("gamma") || t.has("beta")) && t.size <= 2) {
    return { className: "LayerNormalization", config: { scale: t.has("gamma"), center: t.has("beta") } };
  }
  return undefined;
}

function fromKeras1Names(t: Map<string, Tensor>, hint: string | undefined): Inferred | undefined {
  const gates = new Set<string>();
  for (const name of t.keys()) {
    const m = KERAS1_GATE.exec(name);
    if (m) gates.add(m[2]);
  }
  const gateList = [...gates].sort().join("");
  if (gateList === "cfio" || gateList === "hrz") {
    const first = gateList === "cfio" ? "i" : "z";
    const u = t.get(`U_${first}`);
    const w = t.get(`W_${first}`);
    if (!u || !w || u.shape.length !== 2) return undefined;
    const useBias = t.has(`b_${first}`);
    return gateList === "cfio"
      ? { className: "LSTM", config: { units: u.shape[0], use_bias: useBias } }
      : { className: "GRU", config: { units: u.shape[0], use_bias: useBias, reset_after: false } };
  }
  const W = t.get("W");
  const U = t.get("U");
  const b = t.get("b");
  if (W && U && U.shape.length === 2) {
    const units = U.shape[0];
    const ratio = units > 0 ? U.shape[1] / units : 0;
    // Keras 1 consume_less='gpu' stores fused W/U/b (i, f, c, o for LSTM).
    if (ratio === 4) return { className: "LSTM", config: { units, use_bias: b !== undefined, implementation: 2 } };
    if (ratio === 3) return { className: "GRU", config: { units, use_bias: b !== undefined, reset_after: false, implementation: 2 } };
    if (ratio === 1) return { className: "SimpleRNN", config: { units, use_bias: b !== undefined } };
    return undefined;
  }
  if (W && !U) {
    if (hint === "Embedding" && !b && W.shape.length === 2) {
      return { className: "Embedding", config: { input_dim: W.shape[0], output_dim: W.shape[1] } };
    }
    if (W.shape.length === 2) {
      return { className: hint === "TimeDistributedDense" ? "TimeDistributedDense" : "Dense", config: { units: W.shape[1], use_bias: b !== undefined } };
    }
  }
  return undefined;
}

/** The class and a minimal config for a weights-only layer. */
export function inferLayer(name: string, tensors: Tensor[]): Inferred {
  const hint = classFromName(name);
  if (tensors.length === 0) return { className: hint ?? "Unknown", config: {} };
  const t = byName(tensors);
  const found = fromKeras2Names(t, hint) ?? fromKeras1Names(t, hint);
  if (found) return found;
  return { className: hint ?? "Unknown", config: {} };
}
