/**
 * ConvLSTM1D / ConvLSTM2D / ConvLSTM3D weights, sliced by gate, for `weights` and
 * `export`; layers/conv-lstm.ts evaluates the layer.
 *
 * Stored (Keras 2, tf.keras, Keras 3; keras/src/layers/rnn/conv_lstm.py, ConvLSTMCell.build):
 *   kernel            (*kernel_size, input_channels, 4·filters)
 *   recurrent_kernel  (*kernel_size, filters, 4·filters)
 *   bias              (4·filters)
 * Gate blocks sit side by side along the LAST axis in the order i, f, c, o, as in LSTM:
 * gate k is the last-axis slice [k·filters, (k+1)·filters). The kernel layout does not
 * depend on data_format (that only changes the input's layout).
 */
import { InspectError, UnsupportedError } from "../errors.js";
import type { Layer, Tensor } from "../model.js";
import { tensorNamed } from "../layers/recurrent.js";

export const CONV_LSTM_CLASSES = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"] as const;
export const CONV_LSTM_GATES = ["i", "f", "c", "o"] as const;

export function isConvLstm(layer: Layer): boolean {
  return (CONV_LSTM_CLASSES as readonly string[]).includes(layer.className);
}

/** An N-dimensional row-major array. */
export interface NdBlock {
  shape: number[];
  data: Float64Array;
}

/**
 * Splits a row-major array into `parts` equal blocks along its last axis:
 * block k holds last-axis indices [k·w, (k+1)·w) with w = last / parts, every
 * leading index kept. Works for any rank ≥ 1.
 */
export function sliceLastAxis(shape: number[], data: ArrayLike<number>, parts: number): NdBlock[] {
  if (shape.length === 0) throw new InspectError("cannot slice a scalar by gate");
  const last = shape[shape.length - 1];
  if (last % parts !== 0) throw new InspectError(`last axis ${last} does not split into ${parts} equal gate blocks`);
  const width = last / parts;
  const lead = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return Array.from({ length: parts }, (_, k) => {
    const out = new Float64Array(lead * width);
    for (let p = 0; p < lead; p++) {
      for (let j = 0; j < width; j++) out[p * width + j] = data[p * last + k * width + j];
    }
    return { shape: [...shape.slice(0, -1), width], data: out };
  });
}

export interface ConvLstmWeights {
  filters: number;
  inputChannels: number;
  kernelSize: number[];
  kernel: Tensor;
  recurrentKernel: Tensor;
  bias: Tensor | null;
  /** kernel_i, recurrent_kernel_i, bias_i, ... in gate order per role. */
  gates: Record<string, NdBlock>;
}

function shapeError(layer: Layer, t: Tensor, expected: (number | string)[], why: string): InspectError {
  return new InspectError(
    `layer '${layer.name}' (${layer.className}): tensor '${t.name}' has shape [${t.shape.join(", ")}] but ${why} implies [${expected.join(", ")}]`,
  );
}

/** Reads and checks a ConvLSTM layer's tensors, then slices them by gate. */
export function convLstmWeights(layer: Layer): ConvLstmWeights {
  if (layer.weights.some((t) => /^[WUb]_[a-z]$/.test(t.name))) {
    throw new UnsupportedError(
      `layer '${layer.name}' (${layer.className}) stores Keras 1 per-gate arrays; Keras 1 ConvLSTM2D layouts (with Theano kernel flips) are not supported`,
    );
  }
  const kernel = tensorNamed(layer, "kernel");
  const recurrentKernel = tensorNamed(layer, "recurrent_kernel");
  if (!kernel || !recurrentKernel) {
    const have = layer.weights.map((w) => w.name).join(", ") || "none";
    throw new InspectError(`layer '${layer.name}' (${layer.className}) lacks its kernel or recurrent_kernel (it has: ${have})`);
  }
  const rank = Number(/ConvLSTM(\d)D/.exec(layer.className)?.[1] ?? 2);
  const configured = layer.config.filters;
  const last = kernel.shape[kernel.shape.length - 1];
  const filters = typeof configured === "number" && Number.isInteger(configured) && configured > 0 ? configured : last / 4;
  if (kernel.shape.length !== rank + 2 || last !== 4 * filters) {
    throw shapeError(layer, kernel, [...Array<string>(rank).fill("k"), "channels", 4 * filters], `${layer.className} with filters=${filters}`);
  }
  const kernelSize = kernel.shape.slice(0, rank);
  const inputChannels = kernel.shape[rank];
  const expectedRecurrent = [...kernelSize, filters, 4 * filters];
  if (recurrentKernel.shape.length !== expectedRecurrent.length || recurrentKernel.shape.some((d, i) => d !== expectedRecurrent[i])) {
    throw shapeError(layer, recurrentKernel, expectedRecurrent, `kernel_size=${JSON.stringify(kernelSize)}, filters=${filters}`);
  }
  const useBias = layer.config.use_bias !== false;
  const bias = tensorNamed(layer, "bias") ?? null;
  if (useBias && !bias) throw new InspectError(`layer '${layer.name}' (${layer.className}) has use_bias=true but no bias tensor`);
  if (!useBias && bias) throw new InspectError(`layer '${layer.name}' (${layer.className}) has use_bias=false but stores a bias tensor`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== 4 * filters)) throw shapeError(layer, bias, [4 * filters], `filters=${filters}`);

  const gates: Record<string, NdBlock> = {};
  const roles: [string, Tensor | null][] = [
    ["kernel", kernel],
    ["recurrent_kernel", recurrentKernel],
    ["bias", bias],
  ];
  for (const [role, t] of roles) {
    if (!t) continue;
    sliceLastAxis(t.shape, t.data, 4).forEach((block, k) => {
      gates[`${role}_${CONV_LSTM_GATES[k]}`] = block;
    });
  }
  return { filters, inputChannels, kernelSize, kernel, recurrentKernel, bias, gates };
}
