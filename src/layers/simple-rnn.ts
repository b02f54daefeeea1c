/**
 * SimpleRNN: kernel (D, u), recurrent_kernel (u, u), bias (u); Keras 1 named them W, U, b.
 *
 * One step (keras/src/layers/rnn/simple_rnn.py, SimpleRNNCell.call):
 *   x   = x·W + b
 *   rec = h₍ₜ₋₁₎·U
 *   h   = act(x + rec)
 */
import { activationName } from "../activations.js";
import { InspectError } from "../errors.js";
import type { Layer, Model } from "../model.js";
import type { Floats } from "../kernel/gemm.js";
import type { CellActivations, CellWeights, FastStep, RecurrentKind, StepProducts } from "./kind.js";
import {
  dotColumns,
  expectShape,
  recurrentOptions,
  recurrentOutputShapes,
  requireTensor,
  cellWithGates,
  storedKernels,
  tensorNamed,
  asFloats,
} from "./recurrent.js";

function cellWeights(layer: Layer): CellWeights {
  const { units, useBias } = recurrentOptions(layer);
  const keras1 = !tensorNamed(layer, "kernel") && tensorNamed(layer, "W") !== undefined;
  const k = requireTensor(layer, keras1 ? "W" : "kernel");
  const r = requireTensor(layer, keras1 ? "U" : "recurrent_kernel");
  const b = tensorNamed(layer, keras1 ? "b" : "bias");
  const inputDim = k.shape[0];
  expectShape(layer, k, [inputDim, units], `units=${units}`);
  expectShape(layer, r, [units, units], `units=${units}`);
  let bias: Floats | null = null;
  if (useBias) {
    if (!b) throw new InspectError(`layer '${layer.name}' (SimpleRNN) has use_bias=true but no bias tensor`);
    expectShape(layer, b, [units], `units=${units}`);
    bias = asFloats(b.data);
  }
  // What an export adapter did to reach this layout (load/onnx.ts, load/tfjs.ts) comes first.
  const notes = [...(layer.notes ?? []), ...(keras1 ? ["Keras 1 names W, U, b read as kernel, recurrent_kernel, bias"] : [])];
  return cellWithGates(Object.assign(storedKernels(k, r), { units, inputDim, bias, recurrentBias: null, notes }), []);
}

/** simpleRnn.step with x·W and h₍ₜ₋₁₎·U from the SIMD kernel, the rest as step does it. */
function fastStep(round: (x: number) => number): FastStep {
  return (w: CellWeights, act: CellActivations, p: StepProducts, _prev: Floats[], out: Floats) => {
    const u = w.units;
    const { xw, xo, rec } = p;
    const bias = w.bias;
    for (let j = 0; j < u; j++) {
      const x = bias ? round(xw[xo + j] + bias[j]) : xw[xo + j];
      const arg = round(x + rec[j]);
      out[j] = x;
      out[u + j] = rec[j];
      out[2 * u + j] = arg;
      out[3 * u + j] = round(act.activation(arg));
    }
  };
}

export const simpleRnn: RecurrentKind = {
  classNames: ["SimpleRNN"],
  kind: "simple_rnn",
  gates: [],
  // arg = x + rec, the argument the activation received.
  intermediates: ["x", "rec", "arg", "h"],
  columns: ["x", "h"],
  stateNames: ["h"],

  activationNames(layer: Layer, model: Model) {
    void model;
    return { activation: activationName(layer.config.activation, "tanh") };
  },

  cellWeights: (layer) => cellWeights(layer),

  outputShapes(layer, inputs) {
    return recurrentOutputShapes(layer, inputs, 1);
  },

  step(w, act: CellActivations, x, prev, out, round) {
    const u = w.units;
    const xs = out.subarray(0, u);
    const rec = out.subarray(u, 2 * u);
    dotColumns(x, w.kernel, w.inputDim, u, 0, u, xs, round);
    if (w.bias) for (let j = 0; j < u; j++) xs[j] = round(xs[j] + w.bias[j]);
    dotColumns(prev[0], w.recurrentKernel, u, u, 0, u, rec, round);
    for (let j = 0; j < u; j++) {
      out[2 * u + j] = round(xs[j] + rec[j]);
      out[3 * u + j] = round(act.activation(out[2 * u + j]));
    }
  },

  fast: { recurrentColumns: (w) => w.units, float32: fastStep(Math.fround), float64: fastStep((x) => x) },
};
