/**
 * GRU: its weights, its gates and its arithmetic.
 *
 * Stored: kernel (D, 3u), recurrent_kernel (u, 3u), gate blocks z, r, h; bias (3u)
 * when reset_after is false, (2, 3u) when true (row 0 input bias, row 1 recurrent bias).
 * A config without `reset_after` (Keras 1, Keras 2 before 2.1.5) means false.
 * Keras 1 stored 9 arrays W_z, U_z, b_z, W_r, ..., W_h. CuDNNGRU maps onto
 * GRU(reset_after=True) (keras/engine/saving.py, _convert_rnn_weights, Keras 2.2.4).
 *
 * One step (keras/src/layers/rnn/gru.py, GRUCell.call; keras-formats.md §A3):
 *   x_g   = x·W_g + b_g                       for g in z, r, h
 *   reset_after = false:
 *     rec_z = h₍ₜ₋₁₎·U_z   rec_r = h₍ₜ₋₁₎·U_r
 *     z = σr(x_z + rec_z)  r = σr(x_r + rec_r)
 *     rec_h = (r ⊙ h₍ₜ₋₁₎)·U_h        hh = act(x_h + rec_h)
 *   reset_after = true:
 *     rec_g = h₍ₜ₋₁₎·U_g + b^rec_g     for g in z, r, h
 *     z = σr(x_z + rec_z)  r = σr(x_r + rec_r)
 *     hh = act(x_h + r ⊙ rec_h)
 *   h = z ⊙ h₍ₜ₋₁₎ + (1 − z) ⊙ hh
 */
import { InspectError } from "../errors.js";
import type { Layer, Model } from "../model.js";
import type { Floats } from "../kernel/gemm.js";
import type { CellActivations, CellWeights, FastStep, RecurrentKind, StepProducts } from "./kind.js";
import { cudnnKernels, hasKeras1GateTensors, keras1Assemble } from "./legacy-layouts.js";
import {
  dotColumns,
  expectShape,
  gatedActivationNames,
  recurrentOptions,
  recurrentOutputShapes,
  requireTensor,
  cellWithGates,
  storedKernels,
  tensorNamed,
  asFloats,
} from "./recurrent.js";

const GATES = ["z", "r", "h"] as const;

export function resetAfter(layer: Layer): boolean {
  return layer.className === "CuDNNGRU" || layer.config.reset_after === true;
}

function cellWeights(layer: Layer, model: Model): CellWeights {
  void model;
  const { units, useBias } = recurrentOptions(layer);
  // What an export adapter did to reach this layout (load/onnx.ts, load/tfjs.ts) comes first.
  const notes: string[] = [...(layer.notes ?? [])];
  const after = resetAfter(layer);
  let packed: Pick<CellWeights, "kernel" | "recurrentKernel" | "stored">;
  let bias: Floats | null = null;
  let recurrentBias: Floats | null = null;
  let inputDim: number;

  if (hasKeras1GateTensors(layer)) {
    const a = keras1Assemble(layer, GATES, units);
    ({ bias, inputDim } = a);
    packed = { kernel: a.kernel, recurrentKernel: a.recurrentKernel };
    notes.push("Keras 1 stored this GRU as 9 per-gate arrays (z, r, h); assembled into Keras 2's packed layout");
  } else {
    const k = requireTensor(layer, "kernel");
    const r = requireTensor(layer, "recurrent_kernel");
    inputDim = k.shape[0];
    expectShape(layer, k, [inputDim, 3 * units], `units=${units}`);
    expectShape(layer, r, [units, 3 * units], `units=${units}`);
    // Stored as they are, read when first used; CuDNN's layout is converted now.
    packed = layer.className === "CuDNNGRU" ? cudnnKernels(k, r, inputDim, units, 3) : storedKernels(k, r);
    const b = tensorNamed(layer, "bias");
    if (layer.className === "CuDNNGRU") {
      if (!b) throw new InspectError(`layer '${layer.name}' (CuDNNGRU) has no bias tensor`);
      expectShape(layer, b, [6 * units], `CuDNNGRU units=${units} (input and recurrent biases)`);
      bias = asFloats(b.data.subarray(0, 3 * units));
      recurrentBias = asFloats(b.data.subarray(3 * units));
      notes.push("CuDNNGRU weights converted to GRU(reset_after=True) as Keras does (kernel blocks re-laid, recurrent blocks transposed, bias split into input and recurrent rows); evaluated with sigmoid/tanh");
    } else if (useBias) {
      if (!b) throw new InspectError(`layer '${layer.name}' (GRU) has use_bias=true but no bias tensor`);
      if (after) {
        expectShape(layer, b, [2, 3 * units], `reset_after=true, units=${units}`);
        bias = asFloats(b.data.subarray(0, 3 * units));
        recurrentBias = asFloats(b.data.subarray(3 * units));
      } else {
        expectShape(layer, b, [3 * units], `reset_after=false, units=${units}`);
        bias = asFloats(b.data);
      }
    } else if (b) {
      throw new InspectError(`layer '${layer.name}' (GRU) has use_bias=false but stores a bias tensor`);
    }
  }
  return cellWithGates(Object.assign(packed, { units, inputDim, bias, recurrentBias, notes, resetAfter: after }), GATES);
}

/**
 * gru.step with x·W, h₍ₜ₋₁₎·U and (reset_after false) (r ⊙ h₍ₜ₋₁₎)·U_h from the SIMD kernel;
 * every elementwise operation as step does it, in the same order.
 */
function fastStep(round: (x: number) => number): FastStep {
  return (w: CellWeights, act: CellActivations, p: StepProducts, prev: Floats[], out: Floats) => {
    const u = w.units;
    const { xw, xo, rec } = p;
    const [hPrev] = prev;
    const bias = w.bias;
    const recBias = w.recurrentBias;
    const after = w.resetAfter === true;
    for (let k = 0; k < 3 * u; k++) out[k] = bias ? round(xw[xo + k] + bias[k]) : xw[xo + k];
    // rec_z, rec_r (and rec_h with reset_after), plus the recurrent bias row.
    for (let k = 0; k < (after ? 3 : 2) * u; k++) out[3 * u + k] = after && recBias ? round(rec[k] + recBias[k]) : rec[k];
    for (let j = 0; j < u; j++) {
      const argZ = round(out[j] + out[3 * u + j]);
      const argR = round(out[u + j] + out[4 * u + j]);
      out[6 * u + j] = argZ;
      out[7 * u + j] = argR;
      out[9 * u + j] = round(act.recurrentActivation(argZ));
      out[10 * u + j] = round(act.recurrentActivation(argR));
    }
    if (!after) {
      const rh = p.resetH!;
      for (let j = 0; j < u; j++) rh[j] = round(out[10 * u + j] * hPrev[j]);
      const recH = p.multiplyResetH!();
      for (let j = 0; j < u; j++) out[5 * u + j] = recH[j];
    }
    for (let j = 0; j < u; j++) {
      const z = out[9 * u + j];
      const argH = round(out[2 * u + j] + (after ? round(out[10 * u + j] * out[5 * u + j]) : out[5 * u + j]));
      const hh = round(act.activation(argH));
      out[8 * u + j] = argH;
      out[11 * u + j] = hh;
      out[12 * u + j] = round(round(z * hPrev[j]) + round(round(1 - z) * hh));
    }
  };
}

export const gru: RecurrentKind = {
  classNames: ["GRU", "CuDNNGRU", "UnifiedGRU", "GRUV1"],
  kind: "gru",
  gates: GATES,
  // arg_g is the argument each activation received: x_z + rec_z, x_r + rec_r, and for the
  // candidate x_h + rec_h (reset_after false) or x_h + r·rec_h (reset_after true).
  intermediates: ["x_z", "x_r", "x_h", "rec_z", "rec_r", "rec_h", "arg_z", "arg_r", "arg_h", "z", "r", "hh", "h"],
  columns: ["x_z", "x_r", "x_h", "z", "r", "hh", "h"],
  stateNames: ["h"],

  activationNames: gatedActivationNames,

  cellWeights,

  outputShapes(layer, inputs) {
    return recurrentOutputShapes(layer, inputs, 1);
  },

  step(w, act: CellActivations, x, prev, out, round) {
    const u = w.units;
    const [hPrev] = prev;
    const width = 3 * u;
    for (let g = 0; g < 3; g++) {
      const xg = out.subarray(g * u, (g + 1) * u);
      dotColumns(x, w.kernel, w.inputDim, width, g * u, u, xg, round);
      if (w.bias) for (let j = 0; j < u; j++) xg[j] = round(xg[j] + w.bias[g * u + j]);
    }
    const recZ = out.subarray(3 * u, 4 * u);
    const recR = out.subarray(4 * u, 5 * u);
    const recH = out.subarray(5 * u, 6 * u);
    dotColumns(hPrev, w.recurrentKernel, u, width, 0, u, recZ, round);
    dotColumns(hPrev, w.recurrentKernel, u, width, u, u, recR, round);
    const resetAfterMode = w.resetAfter;
    if (resetAfterMode) {
      dotColumns(hPrev, w.recurrentKernel, u, width, 2 * u, u, recH, round);
      if (w.recurrentBias) {
        for (let j = 0; j < u; j++) {
          recZ[j] = round(recZ[j] + w.recurrentBias[j]);
          recR[j] = round(recR[j] + w.recurrentBias[u + j]);
          recH[j] = round(recH[j] + w.recurrentBias[2 * u + j]);
        }
      }
    }
    const argZ = out.subarray(6 * u, 7 * u);
    const argR = out.subarray(7 * u, 8 * u);
    const argH = out.subarray(8 * u, 9 * u);
    const z = out.subarray(9 * u, 10 * u);
    const r = out.subarray(10 * u, 11 * u);
    for (let j = 0; j < u; j++) {
      argZ[j] = round(out[j] + recZ[j]);
      argR[j] = round(out[u + j] + recR[j]);
      z[j] = round(act.recurrentActivation(argZ[j]));
      r[j] = round(act.recurrentActivation(argR[j]));
    }
    if (!resetAfterMode) {
      const rh = new Float64Array(u);
      for (let j = 0; j < u; j++) rh[j] = round(r[j] * hPrev[j]);
      dotColumns(rh, w.recurrentKernel, u, width, 2 * u, u, recH, round);
    }
    for (let j = 0; j < u; j++) {
      argH[j] = round(out[2 * u + j] + (resetAfterMode ? round(r[j] * recH[j]) : recH[j]));
      const hh = round(act.activation(argH[j]));
      out[11 * u + j] = hh;
      out[12 * u + j] = round(round(z[j] * hPrev[j]) + round(round(1 - z[j]) * hh));
    }
  },

  fast: { recurrentColumns: (w) => (w.resetAfter ? 3 : 2) * w.units, float32: fastStep(Math.fround), float64: fastStep((x) => x) },
};
