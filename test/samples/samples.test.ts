// The bundled samples hold exactly the weights samples/write-samples.mjs wrote: read back
// through our loader, they equal the seed example's numbers as float32.
import { describe, expect, it } from "vitest";
import { loadModel } from "../../src/load/index.js";

const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));

describe("samples/seed-lstm.h5", () => {
  it("round-trips the reference LSTM's tensors and config", async () => {
    const model = await loadModel("samples/seed-lstm.h5");
    expect(model.layers.map((l) => [l.className, l.name])).toEqual([["LSTM", "lstm_1"]]);
    const [lstm] = model.layers;
    expect(lstm.config).toMatchObject({ units: 1, activation: "tanh", recurrent_activation: "sigmoid", batch_input_shape: [null, 1, 2] });
    const byName = Object.fromEntries(lstm.weights.map((w) => [w.name, w]));
    expect(byName.kernel.shape).toEqual([2, 4]);
    expect(Array.from(byName.kernel.data)).toEqual(f32([-0.7879, -0.7968972, 0.9924617, -0.6057646, -0.14056396, -0.34560132, 0.9574034, 0.7960496]));
    expect(Array.from(byName.recurrent_kernel.data)).toEqual(f32([-0.0660542, -0.32508007, -0.8477706, 0.41381747]));
    expect(Array.from(byName.bias.data)).toEqual([0, 1, 0, 0]);
  });
});
