// Conv1D (and Keras 1 Convolution1D) vs tfjs' tf.layers.conv1d with the same kernel and
// bias. Float32 both sides, outputs of order 1 (sums of ≤ 12 products of values in
// [-1, 1)): 1e-5 absolute.
import { beforeAll, describe, expect, it } from "vitest";

import { InspectError, UnsupportedError } from "../../src/errors.js";
import { conv1d } from "../../src/layers/conv1d.js";
import { ATOL, expectMatches, forward, makeLayer, makeModel, randoms, rng, tf, tfApply, tfOutputShape, tfReady, value } from "./helpers.js";

beforeAll(tfReady);
const model = makeModel();

type Padding = "valid" | "same" | "causal";

function config(k: number, f: number, padding: Padding, strides: number, dilation: number, activation = "linear", useBias = true) {
  return { filters: f, kernel_size: [k], strides: [strides], padding, dilation_rate: [dilation], activation, use_bias: useBias, data_format: "channels_last", groups: 1 };
}

function tfConv(k: number, f: number, padding: Padding, strides: number, dilation: number, activation = "linear", useBias = true) {
  return tf.layers.conv1d({ filters: f, kernelSize: k, strides, padding, dilationRate: dilation, activation: activation as "linear", useBias });
}

describe("Conv1D", () => {
  const L = 9;
  const C = 3;
  const F = 4;
  for (const padding of ["valid", "same", "causal"] as Padding[]) {
    for (const [k, strides, dilation] of [[1, 1, 1], [3, 1, 1], [3, 2, 1], [4, 3, 1], [2, 1, 2], [3, 1, 3]]) {
      it(`padding=${padding} kernel=${k} strides=${strides} dilation=${dilation} matches tfjs, with its output shape`, () => {
        const r = rng(k * 100 + strides * 10 + dilation + padding.length * 1000);
        const kernel = { shape: [k, C, F], data: randoms(r, k * C * F) };
        const bias = { shape: [F], data: randoms(r, F) };
        const x = value([2, L, C], randoms(r, 2 * L * C), new Array(2 * L).fill(1));
        const layer = makeLayer("Conv1D", config(k, F, padding, strides, dilation, "tanh"), { kernel, bias });
        const [y] = forward(conv1d, layer, [x]);
        let ref;
        if (padding === "causal") {
          // tfjs has no causal padding; Keras implements it as (k−1)·d zeros on the left, then
          // a "valid" convolution (keras/src/layers/convolutional/conv1d.py call).
          const padded = tf.pad(tf.tensor(Float32Array.from(x.data), x.shape), [[0, 0], [(k - 1) * dilation, 0], [0, 0]]);
          ref = tfApply(tfConv(k, F, "valid", strides, dilation, "tanh"), [value(padded.shape, padded.dataSync())], [kernel, bias]);
        } else {
          ref = tfApply(tfConv(k, F, padding, strides, dilation, "tanh"), [x], [kernel, bias]);
        }
        expectMatches(y, ref, ATOL);
        expect(y.mask).toBeUndefined();
        expect(conv1d.outputShapes(layer, [[null, L, C]], model)).toEqual([[null, ...ref.shape.slice(1)]]);
        expect(conv1d.outputShapes(layer, [[null, null, C]], model)).toEqual([[null, null, F]]);
        if (padding !== "causal") expect(conv1d.outputShapes(layer, [[null, L, C]], model)).toEqual([tfOutputShape(tfConv(k, F, padding, strides, dilation), [[null, L, C]])]);
      });
    }
  }

  it("without bias, relu activation", () => {
    const r = rng(7);
    const kernel = { shape: [2, C, F], data: randoms(r, 2 * C * F) };
    const x = value([3, 6, C], randoms(r, 3 * 6 * C));
    const layer = makeLayer("Conv1D", config(2, F, "same", 1, 1, "relu", false), { kernel });
    expectMatches(forward(conv1d, layer, [x])[0], tfApply(tfConv(2, F, "same", 1, 1, "relu", false), [x], [kernel]));
  });

  it("groups=2 equals two tfjs convolutions on the channel halves, side by side", () => {
    const r = rng(8);
    const kernel = randoms(r, 3 * 2 * 4); // (k=3, C/groups=2, F=4)
    const bias = randoms(r, 4);
    const x = value([2, 7, 4], randoms(r, 2 * 7 * 4));
    const layer = makeLayer("Conv1D", { ...config(3, 4, "valid", 1, 1), groups: 2 }, { kernel: { shape: [3, 2, 4], data: kernel }, bias: { shape: [4], data: bias } });
    const [y] = forward(conv1d, layer, [x]);
    const xt = tf.tensor(Float32Array.from(x.data), x.shape);
    const kt = tf.tensor(Float32Array.from(kernel), [3, 2, 4]);
    const halves = [0, 1].map((g) =>
      tf.conv1d(xt.slice([0, 0, 2 * g], [2, 7, 2]) as tf.Tensor3D, kt.slice([0, 0, 2 * g], [3, 2, 2]) as tf.Tensor3D, 1, "valid"),
    );
    const ref = tf.concat(halves, 2).add(tf.tensor(Float32Array.from(bias), [4]));
    expectMatches(y, { shape: ref.shape, data: ref.dataSync() });
  });

  it("Keras 1 Convolution1D: (k, 1, channels, filters) kernel 'W', and the Keras 1.1 (filters, channels, k, 1) layout", () => {
    const r = rng(9);
    const k = 3;
    const kernel = randoms(r, k * C * F);
    const bias = { shape: [F], data: randoms(r, F) };
    const x = value([2, L, C], randoms(r, 2 * L * C));
    const k1 = makeModel({ kerasMajor: 1, kerasVersion: "1.2.2", backend: "tensorflow" });
    const cfg = { filters: F, kernel_size: k, strides: 1, padding: "valid", activation: "linear", use_bias: true };
    const ref = tfApply(tfConv(k, F, "valid", 1, 1), [x], [{ shape: [k, C, F], data: kernel }, bias]);
    const [y] = forward(conv1d, makeLayer("Convolution1D", cfg, { W: { shape: [k, 1, C, F], data: kernel }, b: bias }), [x], k1);
    expectMatches(y, ref);
    // (filters, channels, k, 1): element [f, c, i, 0] = kernel[i, c, f].
    const legacy = new Float64Array(k * C * F);
    for (let i = 0; i < k; i++) for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) legacy[(f * C + c) * k + i] = kernel[(i * C + c) * F + f];
    const [y2] = forward(conv1d, makeLayer("Convolution1D", cfg, { W: { shape: [F, C, k, 1], data: legacy }, b: bias }), [x], k1);
    expectMatches(y2, ref);
  });

  it("flips kernels written by the Theano backend (Keras 2.2.4 saving.py _need_convert_kernel)", () => {
    const r = rng(10);
    const k = 3;
    const kernel = randoms(r, k * C * F);
    const flipped = new Float64Array(kernel.length);
    for (let i = 0; i < k; i++) flipped.set(kernel.subarray((k - 1 - i) * C * F, (k - i) * C * F), i * C * F);
    const bias = { shape: [F], data: randoms(r, F) };
    const x = value([1, L, C], randoms(r, L * C));
    const theano = makeModel({ kerasMajor: 2, kerasVersion: "2.1.3", backend: "theano" });
    const [y] = forward(conv1d, makeLayer("Conv1D", config(k, F, "valid", 1, 1), { kernel: { shape: [k, C, F], data: kernel }, bias }), [x], theano);
    expectMatches(y, tfApply(tfConv(k, F, "valid", 1, 1), [x], [{ shape: [k, C, F], data: flipped }, bias]));
  });

  it("refuses channels_first, strides with dilation, kernels of the wrong shape, and too-short inputs", () => {
    const kernel = { shape: [2, C, F], data: new Array(2 * C * F).fill(0) };
    const bias = { shape: [F], data: new Array(F).fill(0) };
    const x = value([1, 5, C], new Array(5 * C).fill(0));
    const first = makeLayer("Conv1D", { ...config(2, F, "valid", 1, 1), data_format: "channels_first" }, { kernel, bias });
    expect(() => forward(conv1d, first, [x])).toThrow(UnsupportedError);
    expect(() => forward(conv1d, first, [x])).toThrow(/channels_last/);
    expect(() => forward(conv1d, makeLayer("Conv1D", config(2, F, "valid", 2, 2), { kernel, bias }), [x])).toThrow(/dilation_rate=2/);
    expect(() => forward(conv1d, makeLayer("Conv1D", config(3, F, "valid", 1, 1), { kernel, bias }), [x])).toThrow(/has shape \[2, 3, 4\]/);
    expect(() => forward(conv1d, makeLayer("Conv1D", config(2, F, "valid", 1, 1), { kernel, bias }), [value([1, 1, C], [0, 0, 0])])).toThrow(InspectError);
  });
});
