// The reference example of the project (an LSTM with 2 features and 1 unit), evaluated
// by our recurrent evaluator on a Layer built by hand (no file involved). Expected values
// are the seed notebook's table, printed there with 6 decimals.
//
// The seed table was computed in float64 (numpy's default): in float32, as Keras computes,
// x_f = x·W_f + b_f is -3.2529106 (numpy float32 gives the same) and x_o is 7.3547316, which
// print as -3.252911 and 7.354732, one unit off the seed's -3.252910 and 7.354731.
// So float64 must match the table digit for digit (tolerance 5e-7, half a unit of the 6th
// decimal), and float32 to within that plus float32 rounding of values below 16
// (half an ulp is at most 4.8e-7): 1e-6.
import { describe, expect, it } from "vitest";
import { runRecurrentLayer } from "../../src/eval/recurrent.js";
import { lstm } from "../../src/layers/lstm.js";
import type { Layer, Model } from "../../src/model.js";
import { SEED_BIAS, SEED_KERNEL, SEED_RECURRENT_KERNEL, SEED_TABLE } from "../support/seed.js";

const f32 = (xs: number[]) => Float32Array.from(xs);

export const seedLayer: Layer = {
  className: "LSTM",
  name: "lstm_1",
  config: { units: 1, activation: "tanh", recurrent_activation: "sigmoid", use_bias: true },
  weights: [
    { name: "kernel", path: "kernel", shape: [2, 4], dtype: "float32", data: f32(SEED_KERNEL.flat()) },
    { name: "recurrent_kernel", path: "recurrent_kernel", shape: [1, 4], dtype: "float32", data: f32(SEED_RECURRENT_KERNEL.flat()) },
    { name: "bias", path: "bias", shape: [4], dtype: "float32", data: f32(SEED_BIAS) },
  ],
  children: [],
  inbound: [],
};

const model: Model = {
  format: "keras-h5",
  source: "(hand-built)",
  kerasVersion: "2.2.4",
  kerasMajor: 2,
  modelClass: "Sequential",
  name: "seed",
  layers: [seedLayer],
  inputs: [],
  outputs: [],
  notes: [],
};

const SEED = SEED_TABLE;

describe("seed LSTM, one step of input [1, 10], zero initial state", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`reproduces every intermediate of the seed table (${dtype})`, () => {
      const { trace, outputs } = runRecurrentLayer(lstm, seedLayer, model, { shape: [1, 1, 2], data: Float64Array.of(1, 10) }, { dtype, path: "lstm_1" });
      const t = trace!.directions[0];
      expect(t.columns).toEqual(["x_i", "x_f", "x_c", "x_o", "i", "f", "c", "o", "h"]);
      for (const [name, value] of Object.entries(SEED)) {
        // h is given with 7 significant digits in the seed (0.0999329): half a unit of the 7th decimal.
        const tol = name === "h" ? 5e-8 : dtype === "float64" ? 5e-7 : 1e-6;
        expect(Math.abs(t.get(0, 0, name, 0) - value), name).toBeLessThanOrEqual(tol);
      }
      expect(outputs[0].shape).toEqual([1, 1]);
      expect(Math.abs(outputs[0].data[0] - 0.0999329)).toBeLessThanOrEqual(5e-8);
    });
  }

  it("float32 and float64 differ by no more than float32 rounding", () => {
    const run = (dtype: "float32" | "float64") =>
      runRecurrentLayer(lstm, seedLayer, model, { shape: [1, 3, 2], data: Float64Array.of(1, 10, -2, 0.5, 3, -4) }, { dtype, path: "lstm_1" }).trace!.directions[0];
    const a = run("float32");
    const b = run("float64");
    for (let k = 0; k < a.values.length; k++) {
      // Each value is O(10) at most; a few float32 roundings (2^-24 relative each) compound over 3 steps.
      expect(Math.abs(a.values[k] - b.values[k])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b.values[k])));
    }
  });
});
