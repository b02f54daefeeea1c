// ConvLSTM2D against tfjs' tf.layers.convLstm2d (tfjs-layers 4.22, CPU backend, float32)
// with our weights set in it: tfjs implements ConvLSTM2DCell from Keras' source on its own
// (inputConv with the config's strides / padding / dilation, recurrentConv "same" stride 1),
// so no arithmetic of ours is involved on its side.
//
// Tolerance 1e-5 absolute: both sides compute in float32 on values of order 1; each gate
// sums ≤ 3·3·3 + 3·3·3 products, and the two convolutions sum in different orders (ours
// window position then channel; tfjs' im2col-style loops), so a few float32 ulps (~1e-7
// each) separate them per step, which grow little over 4 steps through tanh/sigmoid.
import { beforeAll, describe, expect, it } from "vitest";

import { UsageError } from "../../src/errors.js";
import { predict } from "../../src/eval/predict.js";
import { runBidirectional, runRecurrentLayer } from "../../src/eval/recurrent.js";
import { convLstm } from "../../src/layers/conv-lstm.js";
import type { Value } from "../../src/layers/kind.js";
import { loadModel } from "../../src/load/index.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { makeLayer, makeModel, maxAbsDiff, randoms, rng, tf, tfReady, value } from "./helpers.js";

beforeAll(tfReady);

const ATOL = 1e-5;

interface Case {
  kernel: [number, number];
  strides: [number, number];
  dilation: [number, number];
  padding: "same" | "valid";
  returnSequences: boolean;
  goBackwards: boolean;
  returnState?: boolean;
  recurrentActivation?: string;
  useBias?: boolean;
  dataFormat?: "channels_last" | "channels_first";
}

const CASES: Case[] = [
  { kernel: [3, 3], strides: [1, 1], dilation: [1, 1], padding: "same", returnSequences: true, goBackwards: false },
  { kernel: [3, 3], strides: [1, 1], dilation: [1, 1], padding: "valid", returnSequences: true, goBackwards: true },
  { kernel: [2, 2], strides: [1, 1], dilation: [1, 1], padding: "same", returnSequences: false, goBackwards: false },
  { kernel: [3, 2], strides: [2, 2], dilation: [1, 1], padding: "same", returnSequences: true, goBackwards: false, recurrentActivation: "hard_sigmoid" },
  { kernel: [3, 3], strides: [2, 1], dilation: [1, 1], padding: "valid", returnSequences: false, goBackwards: true, returnState: true },
  { kernel: [2, 3], strides: [1, 1], dilation: [2, 2], padding: "same", returnSequences: true, goBackwards: false, useBias: false },
  { kernel: [3, 3], strides: [1, 1], dilation: [2, 1], padding: "valid", returnSequences: true, goBackwards: true, recurrentActivation: "hard_sigmoid" },
  { kernel: [4, 4], strides: [3, 3], dilation: [1, 1], padding: "same", returnSequences: true, goBackwards: false },
  { kernel: [3, 3], strides: [1, 1], dilation: [1, 1], padding: "same", returnSequences: true, goBackwards: true, dataFormat: "channels_first" },
];

const describeCase = (c: Case) =>
  `kernel ${c.kernel} strides ${c.strides} dilation ${c.dilation} ${c.padding}${c.returnSequences ? " sequences" : ""}${c.goBackwards ? " backwards" : ""}${c.returnState ? " state" : ""}${c.useBias === false ? " no-bias" : ""} ${c.recurrentActivation ?? "sigmoid"} ${c.dataFormat ?? "channels_last"}`;

const camel: Record<string, "sigmoid" | "hardSigmoid" | "tanh"> = { sigmoid: "sigmoid", hard_sigmoid: "hardSigmoid", tanh: "tanh" };

function tfOutputs(c: Case, x: Value, weights: { shape: number[]; data: Float64Array }[], filters: number): { shape: number[]; data: Float32Array }[] {
  const layer = tf.layers.convLstm2d({
    filters,
    kernelSize: c.kernel,
    strides: c.strides,
    dilationRate: c.dilation,
    padding: c.padding,
    dataFormat: c.dataFormat === "channels_first" ? "channelsFirst" : "channelsLast",
    activation: "tanh",
    recurrentActivation: camel[c.recurrentActivation ?? "sigmoid"],
    useBias: c.useBias !== false,
    returnSequences: c.returnSequences,
    returnState: c.returnState === true,
    goBackwards: c.goBackwards,
  });
  const xt = tf.tensor(Float32Array.from(x.data), x.shape, "float32");
  layer.apply(xt);
  layer.setWeights(weights.map((w) => tf.tensor(Float32Array.from(w.data), w.shape, "float32")));
  const ys = layer.apply(xt) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(ys) ? ys : [ys];
  const out = list.map((y) => ({ shape: y.shape, data: y.dataSync() as Float32Array }));
  tf.dispose([xt, ...list]);
  return out;
}

describe("ConvLSTM2D matches tfjs' convLstm2d with the same weights", () => {
  CASES.forEach((c, n) => {
    it(describeCase(c), () => {
      const r = rng(1600 + n);
      const [B, T, H, W, C, F] = [2, 4, 7, 6, 3, 2];
      const [kh, kw] = c.kernel;
      const weights = [
        { shape: [kh, kw, C, 4 * F], data: randoms(r, kh * kw * C * 4 * F, -0.5, 0.5) },
        { shape: [kh, kw, F, 4 * F], data: randoms(r, kh * kw * F * 4 * F, -0.5, 0.5) },
        ...(c.useBias === false ? [] : [{ shape: [4 * F], data: randoms(r, 4 * F, -0.5, 0.5) }]),
      ];
      const first = c.dataFormat === "channels_first";
      const x = value(first ? [B, T, C, H, W] : [B, T, H, W, C], randoms(r, B * T * H * W * C));
      const layer = makeLayer(
        "ConvLSTM2D",
        {
          filters: F,
          kernel_size: c.kernel,
          strides: c.strides,
          dilation_rate: c.dilation,
          padding: c.padding,
          data_format: c.dataFormat ?? "channels_last",
          activation: "tanh",
          recurrent_activation: c.recurrentActivation ?? "sigmoid",
          use_bias: c.useBias !== false,
          return_sequences: c.returnSequences,
          return_state: c.returnState === true,
          go_backwards: c.goBackwards,
        },
        Object.fromEntries(weights.map((w, k) => [["kernel", "recurrent_kernel", "bias"][k], w])),
      );
      // Keras 2's hard_sigmoid (0.2x + 0.5) is tfjs'; a Keras 2 model names it.
      const model = makeModel({ kerasMajor: 2, kerasVersion: "2.15.0" });
      const ours = runRecurrentLayer(convLstm, layer, model, x, { dtype: "float32", path: "l", record: false }).outputs;
      const ref = tfOutputs(c, x, weights, F);
      expect(ours.length).toBe(ref.length);
      ours.forEach((o, k) => {
        expect(o.shape, `output ${k} shape`).toEqual(ref[k].shape);
        expect(maxAbsDiff(o.data, ref[k].data), `output ${k}`).toBeLessThanOrEqual(ATOL);
      });
      // Keras' compute_output_shape agrees with what was computed.
      const shapes = convLstm.outputShapes(layer, [[null, ...x.shape.slice(1)]], model);
      expect(shapes.map((s) => s.slice(1))).toEqual(ours.map((o) => o.shape.slice(1)));
    });
  });

  it("the readable step is what predict runs: float64 and float32 differ by rounding only", () => {
    const r = rng(99);
    const layer = makeLayer(
      "ConvLSTM2D",
      { filters: 2, kernel_size: [3, 3], padding: "same", return_sequences: true },
      {
        kernel: { shape: [3, 3, 1, 8], data: randoms(r, 72, -0.5, 0.5) },
        recurrent_kernel: { shape: [3, 3, 2, 8], data: randoms(r, 144, -0.5, 0.5) },
        bias: { shape: [8], data: randoms(r, 8) },
      },
    );
    const x = value([1, 3, 4, 4, 1], randoms(r, 48));
    const run = (dtype: "float32" | "float64") => runRecurrentLayer(convLstm, layer, makeModel(), x, { dtype, path: "l" });
    const a = run("float32");
    const b = run("float64");
    expect(maxAbsDiff(a.outputs[0].data, b.outputs[0].data)).toBeLessThan(1e-6);
    // The trace holds every gate per (position, filter): 4 × 4 positions × 2 filters per step.
    expect(a.trace!.directions[0].units).toBe(32);
    expect(a.trace!.directions[0].featureMap?.outputSpatial).toEqual([4, 4]);
  });

  it("Bidirectional(ConvLSTM2D), merge_mode concat and sum, matches tfjs' bidirectional", () => {
    const r = rng(1700);
    const [B, T, H, W, C, F] = [2, 3, 5, 4, 2, 2];
    const direction = () => [
      { shape: [3, 3, C, 4 * F], data: randoms(r, 9 * C * 4 * F, -0.5, 0.5) },
      { shape: [3, 3, F, 4 * F], data: randoms(r, 9 * F * 4 * F, -0.5, 0.5) },
      { shape: [4 * F], data: randoms(r, 4 * F, -0.5, 0.5) },
    ];
    const x = value([B, T, H, W, C], randoms(r, B * T * H * W * C));
    for (const mode of ["concat", "sum"] as const) {
      const [fw, bw] = [direction(), direction()];
      const config = { filters: F, kernel_size: [3, 3], padding: "same", return_sequences: true, recurrent_activation: "sigmoid" };
      const named = (w: typeof fw) => ({ kernel: w[0], recurrent_kernel: w[1], bias: w[2] });
      const forward = makeLayer("ConvLSTM2D", config, named(fw), "forward_c");
      const backward = makeLayer("ConvLSTM2D", { ...config, go_backwards: true }, named(bw), "backward_c");
      const layer = { ...makeLayer("Bidirectional", { merge_mode: mode }), children: [forward, backward] };
      const ours = runBidirectional(() => convLstm, layer, makeModel(), x, { dtype: "float32", path: "b", record: false }).outputs[0];
      const tl = tf.layers.bidirectional({
        layer: tf.layers.convLstm2d({ filters: F, kernelSize: 3, padding: "same", returnSequences: true, recurrentActivation: "sigmoid" }) as never,
        mergeMode: mode,
      });
      const xt = tf.tensor(Float32Array.from(x.data), x.shape, "float32");
      tl.apply(xt);
      tl.setWeights([...fw, ...bw].map((w) => tf.tensor(Float32Array.from(w.data), w.shape, "float32")));
      const y = tl.apply(xt) as tf.Tensor;
      expect(ours.shape, mode).toEqual(y.shape);
      expect(maxAbsDiff(ours.data, y.dataSync()), mode).toBeLessThanOrEqual(ATOL);
      tf.dispose([xt, y]);
    }
  });

  it("refuses inputs of the wrong rank or channel count in one line", () => {
    const layer = makeLayer(
      "ConvLSTM2D",
      { filters: 1, kernel_size: [3, 3], padding: "valid" },
      { kernel: { shape: [3, 3, 2, 4], data: new Float64Array(72) }, recurrent_kernel: { shape: [3, 3, 1, 4], data: new Float64Array(36) }, bias: { shape: [4], data: new Float64Array(4) } },
    );
    const run = (v: Value) => () => runRecurrentLayer(convLstm, layer, makeModel(), v, { dtype: "float32", path: "l" });
    expect(run(value([1, 2, 5, 2], new Float64Array(20)))).toThrow(UsageError);
    expect(run(value([1, 2, 5, 2], new Float64Array(20)))).toThrow(/expects input \(samples, steps, rows, cols, 2 channels\); got shape \[1, 2, 5, 2\]/);
    expect(run(value([1, 2, 5, 5, 3], new Float64Array(150)))).toThrow(/expects 2 input channel\(s\) \(channels_last\), but the input has 3/);
    expect(run(value([1, 2, 2, 5, 2], new Float64Array(40)))).toThrow(/too small for kernel_size \[3,3\]/);
  });
});

// The real file: tf.keras 2.2.4-tf, two ConvLSTM2D layers (4 filters, 3 × 3, padding same,
// channels_first, go_backwards, return_sequences, hard_sigmoid) on (3, 4, 10, 10) inputs.
// tfjs builds the same two layers from the file's config, with the tensors our loader read,
// and predicts the same random batch. Same 1e-5 as above: two layers of 3 steps each.
const FIXTURE = "tfk2_convlstm2d_full.h5";
describe(`predict on ${FIXTURE} matches tfjs built from its config`, () => {
  noteMissing("conv-lstm", [FIXTURE]);
  const path = fixturePath(FIXTURE);
  it.skipIf(path === undefined)("both layers, go_backwards, channels_first, end to end", async () => {
    const model = await loadModel(path!);
    const r = rng(7);
    const x = value([3, 3, 4, 10, 10], randoms(r, 3 * 3 * 400));
    const ours = predict(model, [x], { dtype: "float32", record: false }).outputs;
    expect(ours.map((o) => o.name)).toEqual(["conv_lst_m2d_3"]);

    const layers = model.layers.filter((l) => l.className === "ConvLSTM2D");
    expect(layers.length).toBe(2);
    const seq = tf.sequential();
    layers.forEach((l, k) => {
      const c = l.config as Record<string, unknown>;
      expect(c.go_backwards).toBe(true);
      seq.add(
        tf.layers.convLstm2d({
          filters: c.filters as number,
          kernelSize: c.kernel_size as number[],
          strides: c.strides as number[],
          dilationRate: c.dilation_rate as [number, number],
          padding: c.padding as "same",
          dataFormat: c.data_format === "channels_first" ? "channelsFirst" : "channelsLast",
          activation: camel[c.activation as string],
          recurrentActivation: camel[c.recurrent_activation as string],
          returnSequences: c.return_sequences === true,
          goBackwards: c.go_backwards === true,
          ...(k === 0 ? { inputShape: x.shape.slice(1) } : {}),
        }),
      );
    });
    seq.layers.forEach((tl, k) => tl.setWeights(layers[k].weights.map((w) => tf.tensor(Float32Array.from(w.data), w.shape, "float32"))));
    const y = seq.predict(tf.tensor(Float32Array.from(x.data), x.shape, "float32")) as tf.Tensor;
    expect(ours[0].value.shape).toEqual(y.shape);
    expect(maxAbsDiff(ours[0].value.data, y.dataSync())).toBeLessThanOrEqual(ATOL);
    y.dispose();
    seq.dispose();
  });
});
