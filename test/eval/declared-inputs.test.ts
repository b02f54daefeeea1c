/**
 * The input shapes a model declares, and what they decide.
 *
 * A model nested as a layer declares no input shape itself: the outer model's input is
 * its first input's. Before, a batch of 2 noise vectors into a GAN (Sequential of a
 * generator model and a discriminator model) was taken for one sample of 2 steps, and
 * the generator's Reshape failed (issue 13, item 3). And a kernel saved for another input
 * width than the config declares is the file's fault, not the user's input's (item 12).
 */
import { describe, expect, it } from "vitest";
import { predict } from "../../src/eval/predict.js";
import { modelInputs, modelInputShapes } from "../../src/eval/step.js";
import { loadModel } from "../../src/load/index.js";
import type { Layer, Model } from "../../src/model.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";

const GAN = "k2_nested_model_gan_full.h5";
noteMissing("declared-inputs", [GAN]);

function dense(name: string, units: number, inputDim: number, config: Record<string, unknown> = {}): Layer {
  const w = (n: string, shape: number[]) => ({ name: n, path: `${name}/${n}`, shape, dtype: "float32" as const, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => ((k % 7) - 3) / 10) });
  return { className: "Dense", name, config: { name, units, activation: "linear", use_bias: true, ...config }, weights: [w("kernel", [inputDim, units]), w("bias", [units])], children: [], inbound: [] };
}

/** Sequential [ Sequential [ Dense(3) on 4 features ], Dense(2) ]: the inner model holds the input shape. */
function nestedSequential(): Model {
  const inner: Layer = { className: "Sequential", name: "inner", config: { name: "inner" }, weights: [], children: [dense("d1", 3, 4, { batch_input_shape: [null, 4] })], inbound: [] };
  return { format: "keras-h5", source: "memory", kerasMajor: 2, kerasVersion: "2.2.4", modelClass: "Sequential", name: "outer", layers: [inner, dense("d2", 2, 3)], inputs: [], outputs: [], notes: [] };
}

describe("a model nested as the first layer", () => {
  it("gives the outer model its input shape, so rows are samples", () => {
    const model = nestedSequential();
    expect(modelInputShapes(model)).toEqual([[4]]);
    const [x] = modelInputs(model, [{ shape: [2, 4], data: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }], ["--input"]);
    expect(x.shape).toEqual([2, 4]);
    const y = predict(model, [x], { dtype: "float64" }).outputs[0].value;
    expect(y.shape).toEqual([2, 2]);
  });

  it.skipIf(!fixturePath(GAN))("predicts a batch through the real GAN fixture as it predicts each sample", async () => {
    const model = await loadModel(fixturePath(GAN)!);
    const z = Float64Array.from({ length: 200 }, (_, k) => Math.sin(k));
    const [batch] = modelInputs(model, [{ shape: [2, 100], data: z }], ["--input"]);
    const both = predict(model, [batch], { dtype: "float32" }).outputs[0].value;
    expect(both.shape).toEqual([2, 1]);
    for (const s of [0, 1]) {
      const [one] = modelInputs(model, [{ shape: [1, 100], data: z.slice(100 * s, 100 * (s + 1)) }], ["--input"]);
      expect(predict(model, [one], { dtype: "float32" }).outputs[0].value.data[0]).toBe(both.data[s]);
    }
  });
});

describe("a kernel whose width contradicts the layer's config", () => {
  it("is blamed on the file, not on the input", async () => {
    const { loadSpec, lstmDenseSpec } = await import("../check/models.js");
    const model = await loadSpec(await lstmDenseSpec({ features: 3 }));
    model.layers[0].config.batch_input_shape = [null, 5, 2]; // the config says 2 features; the kernel has 3 rows
    const [x] = modelInputs(model, [{ shape: [1, 5, 2], data: new Float64Array(10).fill(0.5) }], ["--input"]);
    expect(() => predict(model, [x], { dtype: "float32" })).toThrow(
      /layer 'lstm_1': its config declares 2 input features, but its kernel has 3 rows \(one per input feature\): the file contradicts itself/,
    );
  });
});
