/**
 * The SIMD kernel path against the readable reference (each kind's `step` with
 * dotColumns), bit for bit: every intermediate of every step and every output, for
 * seeded random layers of every recurrent kind and option the evaluator supports —
 * LSTM, GRU with reset_after false and true, SimpleRNN, CuDNNLSTM / CuDNNGRU (converted
 * layouts), use_bias false, go_backwards, masks (with and without zero_output_for_mask),
 * initial states, Bidirectional with every merge mode — in float32 and float64, with
 * sizes that cross the kernel's panel widths (32 float32 / 16 float64 columns).
 *
 * Tolerance: none. The kernel sums every output in the same order as the reference and
 * rounds every product and sum to the same type, so the bits are equal; NaN equals NaN
 * (its payload bits are not specified by WebAssembly).
 */
import { describe, expect, it } from "vitest";

import { runBidirectional, runDirection } from "../../src/eval/recurrent.js";
import type { EvalDType } from "../../src/eval/trace.js";
import { gru } from "../../src/layers/gru.js";
import type { RecurrentKind, Value } from "../../src/layers/kind.js";
import { lstm } from "../../src/layers/lstm.js";
import { requireRecurrentKind } from "../../src/layers/registry.js";
import { simpleRnn } from "../../src/layers/simple-rnn.js";
import type { Layer, Model, Tensor } from "../../src/model.js";
import { Draw, prng } from "../reference/keras-golden.js";

const model = (major: number): Model =>
  ({ format: "keras-h5", source: "kernel-test", kerasMajor: major, modelClass: "Sequential", name: "m", layers: [], inputs: [], outputs: [], notes: [] }) as unknown as Model;

const tensor = (name: string, shape: number[], data: Float32Array): Tensor =>
  ({ name, path: name, shape, dtype: "float32", data }) as unknown as Tensor;

type Variant = "lstm" | "gru" | "gru_after" | "simple_rnn" | "cudnn_lstm" | "cudnn_gru";
const KIND: Record<Variant, RecurrentKind> = { lstm, gru, gru_after: gru, simple_rnn: simpleRnn, cudnn_lstm: lstm, cudnn_gru: gru };

function randomLayer(d: Draw, variant: Variant, name: string, units: number, inputDim: number): Layer {
  const gates = { lstm: 4, cudnn_lstm: 4, gru: 3, gru_after: 3, cudnn_gru: 3, simple_rnn: 1 }[variant];
  const g = gates * units;
  const cudnn = variant.startsWith("cudnn");
  const useBias = cudnn || d.bool(0.8);
  const biasLen = cudnn ? 2 * g : variant === "gru_after" ? 2 * g : g;
  const weights = [
    tensor("kernel", [inputDim, g], d.floats(inputDim * g, -1.2 / Math.sqrt(inputDim), 1.2 / Math.sqrt(inputDim))),
    tensor("recurrent_kernel", [units, g], d.floats(units * g, -1.2 / Math.sqrt(units), 1.2 / Math.sqrt(units))),
    ...(useBias ? [tensor("bias", variant === "gru_after" ? [2, g] : [biasLen], d.floats(biasLen, -0.5, 0.5))] : []),
  ];
  const recurrentActivation = d.pick(["sigmoid", "hard_sigmoid", "tanh"]);
  const className = { lstm: "LSTM", gru: "GRU", gru_after: "GRU", simple_rnn: "SimpleRNN", cudnn_lstm: "CuDNNLSTM", cudnn_gru: "CuDNNGRU" }[variant];
  return {
    name,
    className,
    config: {
      units,
      use_bias: useBias,
      activation: d.pick(["tanh", "tanh", "relu", "softsign", "linear"]),
      ...(variant === "simple_rnn" ? {} : { recurrent_activation: recurrentActivation }),
      ...(variant.startsWith("gru") ? { reset_after: variant === "gru_after" } : {}),
      go_backwards: d.bool(0.3),
      return_sequences: true,
      zero_output_for_mask: d.bool(0.3),
    },
    weights,
    children: [],
    inbound: [],
  } as unknown as Layer;
}

function randomInput(d: Draw, samples: number, steps: number, features: number): Value {
  const data = Float64Array.from(d.floats(samples * steps * features, -2, 2));
  if (!d.bool(0.4)) return { shape: [samples, steps, features], data };
  const mask = Uint8Array.from({ length: samples * steps }, () => (d.bool(0.8) ? 1 : 0));
  return { shape: [samples, steps, features], data, mask };
}

/** Equal bits, with every NaN equal to every other. */
function expectSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let k = 0; k < a.length; k++) {
    if (Object.is(a[k], b[k]) || (Number.isNaN(a[k]) && Number.isNaN(b[k]))) continue;
    expect.fail(`${what}: element ${k} differs: kernel ${a[k]}, reference ${b[k]}`);
  }
}

const VARIANTS: Variant[] = ["lstm", "gru", "gru_after", "simple_rnn", "cudnn_lstm", "cudnn_gru"];

describe("kernel path equals the reference bit for bit", () => {
  for (const dtype of ["float32", "float64"] as EvalDType[]) {
    for (const variant of VARIANTS) {
      it(`${variant}, ${dtype}: 12 random layers`, () => {
        const d = new Draw(prng(1000 + VARIANTS.indexOf(variant) * 10 + (dtype === "float32" ? 0 : 1)));
        for (let k = 0; k < 12; k++) {
          // Units up to 70 cross two float32 panels (32) and four float64 panels (16).
          const units = d.pick([1, 2, 3, 5, 16, 17, 31, 32, 33, 64, 70]);
          const features = d.pick([1, 2, 3, 7, 16, 33]);
          const samples = d.int(1, 3);
          const steps = d.int(1, 12);
          const layer = randomLayer(d, variant, `layer_${k}`, units, features);
          const input = randomInput(d, samples, steps, features);
          const nStates = KIND[variant].stateNames.length;
          const initialState = d.bool(0.4) ? Array.from({ length: nStates }, () => Float64Array.from(d.floats(samples * units, -1, 1))) : undefined;
          const major = d.bool(0.3) ? 3 : 2;
          const run = (engine: "kernel" | "reference") =>
            runDirection(KIND[variant], layer, model(major), input, { dtype, engine, path: layer.name, initialState });
          const fast = run("kernel");
          const ref = run("reference");
          const what = `${variant} ${dtype} case ${k} (${units} units, ${features} features, ${steps} steps, ${samples} samples)`;
          expectSameBits(fast.trace!.values, ref.trace!.values, `${what}: trace`);
          expectSameBits(fast.sequence.data, ref.sequence.data, `${what}: sequence`);
          fast.states.forEach((s, i) => expectSameBits(s.data, ref.states[i].data, `${what}: state ${i}`));
        }
      });
    }
  }

  it("Bidirectional with every merge mode, float32 and float64", () => {
    const d = new Draw(prng(2024));
    for (const mode of ["concat", "sum", "mul", "ave", null]) {
      for (const dtype of ["float32", "float64"] as EvalDType[]) {
        const variant = d.pick<Variant>(["lstm", "gru", "gru_after", "simple_rnn"]);
        const units = d.pick([3, 33]);
        const features = d.pick([2, 17]);
        const fwd = randomLayer(d, variant, "forward_x", units, features);
        const bwd = { ...fwd, name: "backward_x", weights: fwd.weights.map((t) => tensor(t.name, t.shape, d.floats(t.data.length, -0.5, 0.5))) };
        const layer = { name: "bidirectional", className: "Bidirectional", config: { merge_mode: mode }, weights: [], children: [fwd, bwd], inbound: [] } as unknown as Layer;
        const input = randomInput(d, 2, 9, features);
        const run = (engine: "kernel" | "reference") =>
          runBidirectional((l) => requireRecurrentKind(l, l.name), layer, model(2), input, { dtype, engine, path: "bidirectional" });
        const fast = run("kernel");
        const ref = run("reference");
        fast.trace!.directions.forEach((t, i) => expectSameBits(t.values, ref.trace!.directions[i].values, `${mode} ${dtype} direction ${i}`));
        fast.outputs.forEach((o, i) => expectSameBits(o.data, ref.outputs[i].data, `${mode} ${dtype} output ${i}`));
      }
    }
  });

  it("a sequence longer than one projection chunk, over two samples", () => {
    // The kernel projects x·W for at most 2^20 / 32 = 32,768 float32 steps at a time.
    const d = new Draw(prng(77));
    const layer = randomLayer(d, "lstm", "long", 2, 1);
    const input = randomInput(d, 2, 33_000, 1);
    const run = (engine: "kernel" | "reference") => runDirection(lstm, layer, model(2), input, { dtype: "float32", engine, path: "long", record: false });
    const fast = run("kernel");
    const ref = run("reference");
    expect(fast.trace).toBeUndefined();
    expectSameBits(fast.sequence.data, ref.sequence.data, "33,000-step sequence");
  });

  it("NaN and infinite weights and inputs propagate as in the reference", () => {
    const d = new Draw(prng(5));
    for (const dtype of ["float32", "float64"] as EvalDType[]) {
      const layer = randomLayer(d, "gru", "nan", 5, 3);
      layer.weights[1].data[7] = NaN;
      layer.weights[0].data[2] = Infinity;
      const input = randomInput(d, 1, 4, 3);
      input.data[5] = -Infinity;
      const run = (engine: "kernel" | "reference") => runDirection(gru, layer, model(2), input, { dtype, engine, path: "nan" });
      expectSameBits(run("kernel").trace!.values, run("reference").trace!.values, `NaN/Inf ${dtype}`);
    }
  });
});
