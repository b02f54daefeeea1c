/**
 * LSTM: its weights, its gates and its arithmetic.
 *
 * Stored (Keras 2, tf.keras, Keras 3): kernel (D, 4u), recurrent_kernel (u, 4u),
 * bias (4u), gate blocks side by side in the order i, f, c, o.
 * Keras 1 stored 12 arrays W_i, U_i, b_i, W_c, U_c, b_c, W_f, ... (order i, c, f, o),
 * or fused W, U, b (i, f, c, o) with consume_less='gpu'.
 * CuDNNLSTM stores cuDNN's layout with an 8u bias (input + recurrent biases).
 *
 * One step, with x_g the seed notebook's "input projection plus bias":
 *   x_g   = x·W_g + b_g                         for g in i, f, c, o
 *   rec_g = h₍ₜ₋₁₎·U_g
 *   i = σr(x_i + rec_i)   f = σr(x_f + rec_f)   o = σr(x_o + rec_o)
 *   c̃ = act(x_c + rec_c)  c = f·c₍ₜ₋₁₎ + i·c̃     h = o·act(c)
 * (keras/src/layers/rnn/lstm.py, LSTMCell.call; keras-formats.md §A3)
 */
import { InspectError } from "../errors.js";
import type { Layer, Model } from "../model.js";
import type { Floats } from "../kernel/gemm.js";
import type { CellActivations, CellWeights, FastStep, RecurrentKind, StepProducts } from "./kind.js";
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
import { cudnnKernels, hasKeras1GateTensors, keras1Assemble } from "./legacy-layouts.js";

const GATES = ["i", "f", "c", "o"] as const;

/**
 * Recorded at every step: the seed's x_g; rec_g = h₍ₜ₋₁₎·U_g; arg_g = x_g + rec_g, the
 * argument each activation received; the gates; c̃ (c_tilde); c; act_c = act(c); o; h.
 * An explanation shows every one of them without computing anything itself.
 */
export const INTERMEDIATES = [
  "x_i", "x_f", "x_c", "x_o",
  "rec_i", "rec_f", "rec_c", "rec_o",
  "arg_i", "arg_f", "arg_c", "arg_o",
  "i", "f", "c_tilde", "c", "act_c", "o", "h",
] as const;
const at = (name: (typeof INTERMEDIATES)[number]) => INTERMEDIATES.indexOf(name);
const [ARG, I, F, C_TILDE, C, ACT_C, O, H] = [at("arg_i"), at("i"), at("f"), at("c_tilde"), at("c"), at("act_c"), at("o"), at("h")];

function cellWeights(layer: Layer, model: Model): CellWeights {
  const { units, useBias } = recurrentOptions(layer);
  // What an export adapter did to reach this layout (load/onnx.ts, load/tfjs.ts) comes first.
  const notes: string[] = [...(layer.notes ?? [])];
  let packed: Pick<CellWeights, "kernel" | "recurrentKernel" | "stored">;
  let bias: Floats | null = null;
  let inputDim: number;

  if (hasKeras1GateTensors(layer)) {
    // Keras 1 (consume_less cpu/mem): 12 arrays in the order i, c, f, o.
    const a = keras1Assemble(layer, ["i", "f", "c", "o"], units);
    ({ bias, inputDim } = a);
    packed = { kernel: a.kernel, recurrentKernel: a.recurrentKernel };
    notes.push("Keras 1 stored this LSTM as 12 per-gate arrays (order i, c, f, o); assembled into Keras 2's i, f, c, o layout");
  } else {
    const k = requireTensor(layer, tensorNamed(layer, "kernel") ? "kernel" : "W");
    const r = requireTensor(layer, tensorNamed(layer, "recurrent_kernel") ? "recurrent_kernel" : "U");
    inputDim = k.shape[0];
    expectShape(layer, k, [inputDim, 4 * units], `units=${units}`);
    expectShape(layer, r, [units, 4 * units], `units=${units}`);
    // Stored as they are, read when first used; CuDNN's layout is converted now.
    packed = layer.className === "CuDNNLSTM" ? cudnnKernels(k, r, inputDim, units, 4) : storedKernels(k, r);
    const b = tensorNamed(layer, "bias") ?? tensorNamed(layer, "b");
    if (layer.className === "CuDNNLSTM") {
      // keras/engine/saving.py (_convert_rnn_weights), Keras 2.2.4: per gate block,
      // kernel = k.T.reshape(k.shape, order='F'), recurrent = r.T, bias = b[:4u] + b[4u:].
      if (!b) throw new InspectError(`layer '${layer.name}' (CuDNNLSTM) has no bias tensor`);
      expectShape(layer, b, [8 * units], `CuDNNLSTM units=${units} (input and recurrent biases)`);
      bias = new Float64Array(4 * units);
      // numpy sums float32 arrays in float32: the converted bias is the float32-rounded sum.
      const roundSum = b.dtype === "float64" ? (v: number) => v : Math.fround;
      for (let j = 0; j < 4 * units; j++) bias[j] = roundSum(b.data[j] + b.data[4 * units + j]);
      notes.push("CuDNNLSTM weights converted to LSTM as Keras does (kernel blocks re-laid, recurrent blocks transposed, input and recurrent biases summed); evaluated with sigmoid/tanh");
    } else if (useBias) {
      if (!b) throw new InspectError(`layer '${layer.name}' (LSTM) has use_bias=true but no bias tensor`);
      expectShape(layer, b, [4 * units], `units=${units}`);
      bias = asFloats(b.data);
    } else if (b) {
      throw new InspectError(`layer '${layer.name}' (LSTM) has use_bias=false but stores a bias tensor`);
    }
    if (tensorNamed(layer, "W")) notes.push("Keras 1 stored this LSTM fused (consume_less='gpu'), already in i, f, c, o order");
  }
  return cellWithGates(Object.assign(packed, { units, inputDim, bias, recurrentBias: null, notes }), GATES);
}

/**
 * The elementwise half of an LSTM step, from x_g and rec_g (already in `out`, one unit per
 * column): arg_g = x_g + rec_g, then
 *   i = σ(arg_i), f = σ(arg_f), c̃ = tanh(arg_c), c = f·c₍ₜ₋₁₎ + i·c̃, o = σ(arg_o), h = o·tanh(c)
 * (σ the recurrent activation, tanh the activation), each rounded as Keras computes. The
 * reference step and ConvLSTM (whose units are (position, filter) pairs) both end with it.
 */
export function lstmGates(out: Floats, cPrev: Floats, act: CellActivations, u: number, round: (x: number) => number): void {
  for (let g = 0; g < 4; g++) {
    for (let j = 0; j < u; j++) out[(ARG + g) * u + j] = round(out[g * u + j] + out[(4 + g) * u + j]);
  }
  const arg = (g: number, j: number) => out[(ARG + g) * u + j];
  for (let j = 0; j < u; j++) {
    const i = round(act.recurrentActivation(arg(0, j)));
    const f = round(act.recurrentActivation(arg(1, j)));
    const cTilde = round(act.activation(arg(2, j)));
    const c = round(round(f * cPrev[j]) + round(i * cTilde));
    const o = round(act.recurrentActivation(arg(3, j)));
    const actC = round(act.activation(c));
    out[I * u + j] = i;
    out[F * u + j] = f;
    out[C_TILDE * u + j] = cTilde;
    out[C * u + j] = c;
    out[ACT_C * u + j] = actC;
    out[O * u + j] = o;
    out[H * u + j] = round(o * actC);
  }
}

/**
 * lstm.step with x·W and h₍ₜ₋₁₎·U from the SIMD kernel: every elementwise operation as
 * step does it, in the same order. One closure per dtype, so each is compiled for its rounding.
 * It writes lstmGates' loop out again on purpose: calling lstmGates from here made the
 * float32 LSTM (64 units, 32 features, 1000 steps) 2.5-3× slower (11.5-11.8 ms against
 * 30-34 ms a run, bench/cases.mjs in a fresh worker); test/kernel holds the two to the same
 * bits.
 */
function fastStep(round: (x: number) => number): FastStep {
  return (w: CellWeights, act: CellActivations, p: StepProducts, prev: Floats[], out: Floats) => {
    const u = w.units;
    const { xw, xo, rec } = p;
    const bias = w.bias;
    const cPrev = prev[1];
    for (let k = 0; k < 4 * u; k++) {
      const xg = bias ? round(xw[xo + k] + bias[k]) : xw[xo + k];
      out[k] = xg;
      out[4 * u + k] = rec[k];
      out[ARG * u + k] = round(xg + rec[k]);
    }
    for (let j = 0; j < u; j++) {
      const i = round(act.recurrentActivation(out[ARG * u + j]));
      const f = round(act.recurrentActivation(out[(ARG + 1) * u + j]));
      const cTilde = round(act.activation(out[(ARG + 2) * u + j]));
      const c = round(round(f * cPrev[j]) + round(i * cTilde));
      const o = round(act.recurrentActivation(out[(ARG + 3) * u + j]));
      const actC = round(act.activation(c));
      out[I * u + j] = i;
      out[F * u + j] = f;
      out[C_TILDE * u + j] = cTilde;
      out[C * u + j] = c;
      out[ACT_C * u + j] = actC;
      out[O * u + j] = o;
      out[H * u + j] = round(o * actC);
    }
  };
}

export const lstm: RecurrentKind = {
  classNames: ["LSTM", "CuDNNLSTM", "UnifiedLSTM", "LSTMV1"],
  kind: "lstm",
  gates: GATES,
  intermediates: INTERMEDIATES,
  columns: ["x_i", "x_f", "x_c", "x_o", "i", "f", "c", "o", "h"],
  stateNames: ["h", "c"],

  activationNames: gatedActivationNames,

  cellWeights,

  outputShapes(layer, inputs) {
    return recurrentOutputShapes(layer, inputs, 2);
  },

  step(w, act: CellActivations, x, prev, out, round) {
    const u = w.units;
    const [hPrev, cPrev] = prev;
    const width = 4 * u;
    // x_g = x·W_g + b_g and rec_g = h·U_g, each gate block at a time.
    for (let g = 0; g < 4; g++) {
      const xg = out.subarray(g * u, (g + 1) * u);
      dotColumns(x, w.kernel, w.inputDim, width, g * u, u, xg, round);
      if (w.bias) for (let j = 0; j < u; j++) xg[j] = round(xg[j] + w.bias[g * u + j]);
      dotColumns(hPrev, w.recurrentKernel, u, width, g * u, u, out.subarray((4 + g) * u, (5 + g) * u), round);
    }
    lstmGates(out, cPrev, act, u, round);
  },

  fast: { recurrentColumns: (w) => 4 * w.units, float32: fastStep(Math.fround), float64: fastStep((x) => x) },
};
