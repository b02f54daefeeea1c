/**
 * predictBatches and the choice of worker threads, in process. The batched outputs are
 * compared with one forward pass over all samples (itself checked against tfjs and numpy
 * in random-agreement and fixtures-predict): equal bits, since every sample is computed
 * alone in both.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { autoThreads, predict, predictBatches } from "../../src/eval/predict.js";
import { loadModel } from "../../src/load/index.js";
import { Draw, prng } from "../reference/keras-golden.js";
import { REPO_ROOT } from "../support/cli.js";

describe("predictBatches", () => {
  it("yields the samples in order, each batch equal to the same samples of a single pass, masks included", async () => {
    const model = await loadModel(join(REPO_ROOT, "test/fixtures/real/k2_masking_lstm_full.h5"));
    const d = new Draw(prng(3));
    const [samples, steps, features] = [9, 4, model.layers[0].config.batch_input_shape ? (model.layers[0].config.batch_input_shape as number[])[2] : 1];
    const data = Float64Array.from(d.floats(samples * steps * features, -1, 1));
    // Zero steps are masked by the model's Masking layer.
    for (let b = 0; b < samples; b += 2) data.fill(0, (b * steps + 1) * features, (b * steps + 3) * features);
    const input = { shape: [samples, steps, features], data };
    const whole = predict(model, [input], { dtype: "float32" }).outputs;
    const batches = [...predictBatches(model, [input], { dtype: "float32" }, 4)];
    expect(batches.map((b) => [b.from, b.to])).toEqual([[0, 4], [4, 8], [8, 9]]);
    for (const [k, { value }] of whole.entries()) {
      const joined = batches.flatMap((b) => Array.from(b.outputs[k].value.data));
      expect(joined).toEqual(Array.from(value.data));
    }
  });
});

describe("autoThreads", () => {
  const model = { layers: [{ name: "l", className: "GRU", config: {}, weights: [{ data: new Float32Array(40_000) }], children: [], inbound: [] }] } as never;
  const input = (samples: number, steps: number) => ({ shape: [samples, steps, 1], data: new Float64Array(0) });

  it("starts none for one batch or little work", () => {
    expect(autoThreads(model, [input(16, 905)], 16, 2)).toBe(1);
    expect(autoThreads(model, [input(40, 2)], 16, 2)).toBe(1);
  });

  it("starts one per core for large work, no more than batches and four", () => {
    expect(autoThreads(model, [input(600, 905)], 16, 2)).toBe(2);
    expect(autoThreads(model, [input(600, 905)], 16, 16)).toBe(4);
    expect(autoThreads(model, [input(600, 905)], 200, 16)).toBe(3);
  });

  it("counts a feature-map sequence's positions as work: a ConvLSTM uses each weight at every position", () => {
    const conv = { layers: [{ name: "c", className: "ConvLSTM2D", config: {}, weights: [{ data: new Float32Array(40_000) }], children: [], inbound: [] }] } as never;
    const maps = (samples: number) => ({ shape: [samples, 10, 64, 64, 1], data: new Float64Array(0) });
    expect(autoThreads(conv, [maps(64)], 16, 2)).toBe(2);
    expect(autoThreads(conv, [maps(16)], 16, 2)).toBe(1); // one batch
  });
});
