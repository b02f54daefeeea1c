/**
 * A model nested as a layer declares no input shape itself: the outer model's input is
 * its first input's. Before, a batch of 2 noise vectors into a GAN (Sequential of a
 * generator model and a discriminator model) was taken for one sample of 2 steps, and
 * the generator's Reshape failed (issue 13, item 3).
 */
import { describe, expect, it } from "vitest";
import { predict } from "../../src/eval/predict.js";
import { modelInputs, modelInputShapes } from "../../src/eval/step.js";
import { loadModel } from "../../src/load/index.js";
import type { Layer, Model } from "../../src/model.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";

const GAN = "k2_nested_model_gan_full.h5";
noteMissing("nested-input", [GAN]);

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
