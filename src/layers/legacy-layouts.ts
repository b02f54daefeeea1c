/**
 * Stored layouts that predate or bypass Keras 2's packed kernels, and their
 * conversion to it. Used by the LSTM and GRU modules.
 *
 * - Keras 1 (consume_less 'cpu' or 'mem') stores one W_g (D,u), U_g (u,u), b_g (u)
 *   per gate. Keras 2's loader concatenates them into kernel / recurrent_kernel / bias
 *   (keras/engine/topology.py, preprocess_weights_for_loading, Keras 2.0.0).
 * - CuDNNLSTM / CuDNNGRU keep cuDNN's per-gate blocks. Keras converts them in
 *   keras/engine/saving.py (_convert_rnn_weights), Keras 2.2.4:
 *     transform_kernels(kernel, lambda k: k.T.reshape(k.shape, order='F'))   (input kernel)
 *     transform_kernels(recurrent_kernel, lambda k: k.T)                      (recurrent kernel)
 */
import { InspectError } from "../errors.js";
import type { Layer, Tensor } from "../model.js";
import type { CellWeights } from "./kind.js";
import { asFloats, expectShape, tensorNamed } from "./recurrent.js";

/** True when the layer stores Keras 1 per-gate arrays (W_i, U_i, ...). */
export function hasKeras1GateTensors(layer: Layer): boolean {
  return layer.weights.some((t) => /^[WUb]_[a-z]$/.test(t.name));
}

/**
 * Concatenates Keras 1 per-gate arrays into Keras 2's packed layout, gates in the
 * given (Keras 2) order. Missing b_g arrays mean the layer has no bias.
 */
export function keras1Assemble(
  layer: Layer,
  gates: readonly string[],
  units: number,
): { kernel: Float64Array; recurrentKernel: Float64Array; bias: Float64Array | null; inputDim: number } {
  const get = (prefix: string, g: string) => {
    const t = tensorNamed(layer, `${prefix}_${g}`);
    if (!t) {
      const have = layer.weights.map((w) => w.name).join(", ");
      throw new InspectError(`layer '${layer.name}' (Keras 1 ${layer.className}) lacks '${prefix}_${g}' (it has: ${have})`);
    }
    return t;
  };
  const inputDim = get("W", gates[0]).shape[0];
  // The stored arrays must match the config's units before anything is sized by it
  // (a config saying units=1e308 made the allocation below throw a RangeError).
  for (const g of gates) {
    expectShape(layer, get("W", g), [inputDim, units], `units=${units}`);
    expectShape(layer, get("U", g), [units, units], `units=${units}`);
  }
  const n = gates.length;
  const width = n * units;
  const kernel = new Float64Array(inputDim * width);
  const recurrentKernel = new Float64Array(units * width);
  const hasBias = gates.every((g) => tensorNamed(layer, `b_${g}`));
  const bias = hasBias ? new Float64Array(width) : null;
  gates.forEach((g, k) => {
    const W = get("W", g);
    const U = get("U", g);
    expectShape(layer, W, [inputDim, units], `units=${units}`);
    expectShape(layer, U, [units, units], `units=${units}`);
    for (let r = 0; r < inputDim; r++) for (let j = 0; j < units; j++) kernel[r * width + k * units + j] = W.data[r * units + j];
    for (let r = 0; r < units; r++) for (let j = 0; j < units; j++) recurrentKernel[r * width + k * units + j] = U.data[r * units + j];
    if (bias) {
      const b = get("b", g);
      expectShape(layer, b, [units], `units=${units}`);
      for (let j = 0; j < units; j++) bias[k * units + j] = b.data[j];
    }
  });
  return { kernel, recurrentKernel, bias, inputDim };
}

/**
 * Converts a cuDNN-layout packed kernel (rows, nGates·units) to Keras' layout, block by block.
 * mode 'input':     block k (rows × units) becomes k.T.reshape((rows, units), order='F')
 * mode 'recurrent': block k (units × units) becomes k.T
 */
export function cudnnBlocksToKeras(
  data: ArrayLike<number>,
  rows: number,
  units: number,
  nGates: number,
  mode: "input" | "recurrent",
): Float64Array {
  const width = nGates * units;
  const out = new Float64Array(rows * width);
  for (let g = 0; g < nGates; g++) {
    const k = (r: number, c: number) => data[r * width + g * units + c]; // block element (r < rows, c < units)
    for (let a = 0; a < rows; a++) {
      for (let b = 0; b < units; b++) {
        let v: number;
        if (mode === "recurrent") {
          v = k(b, a); // k.T
        } else {
          // k.T has shape (units, rows); its Fortran-order flattening f[r + c·units] = k.T[r, c] = k[c, r].
          // Reshaping f to (rows, units) in Fortran order: out[a, b] = f[a + b·rows].
          const idx = a + b * rows;
          const r = idx % units;
          const c = Math.floor(idx / units);
          v = k(c, r);
        }
        out[a * width + g * units + b] = v;
      }
    }
  }
  return out;
}

/** A CuDNN layer's kernel and recurrent kernel converted to Keras 2's layout (cudnnBlocksToKeras), for `gates` gate blocks. */
export function cudnnKernels(k: Tensor, r: Tensor, inputDim: number, units: number, gates: number): Pick<CellWeights, "kernel" | "recurrentKernel"> {
  return {
    kernel: cudnnBlocksToKeras(asFloats(k.data), inputDim, units, gates, "input"),
    recurrentKernel: cudnnBlocksToKeras(asFloats(r.data), units, units, gates, "recurrent"),
  };
}
