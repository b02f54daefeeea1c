// LeakyReLU, ReLU, ELU, ThresholdedReLU, PReLU, Softmax vs tfjs' layers where tfjs has
// the same options; ReLU's threshold/negative_slope (absent from tfjs) against
// keras/src/activations/activations.py ReLU.static_call written with tf ops. Float32 both
// sides, values of order 1: 1e-5 absolute.
import { beforeAll, describe, expect, it } from "vitest";

import { UnsupportedError } from "../../src/errors.js";
import { elu, leakyRelu, prelu, relu, softmax, thresholdedRelu } from "../../src/layers/activation-layers.js";
import { ATOL, expectMatches, forward, makeLayer, makeModel, randoms, rng, tf, tfApply, tfOutputShape, tfReady, value } from "./helpers.js";

beforeAll(tfReady);
const model = makeModel();
const x = () => value([3, 4, 5], randoms(rng(1), 60, -3, 3), [1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1]);

describe("LeakyReLU", () => {
  it("Keras 2 'alpha', Keras 3 'negative_slope', default 0.3, like tfjs; keeps the mask", () => {
    const input = x();
    for (const [cfg, alpha] of [[{ alpha: 0.30000001192092896 }, 0.3], [{ negative_slope: 0.1 }, 0.1], [{}, 0.3]] as const) {
      const [y] = forward(leakyRelu, makeLayer("LeakyReLU", cfg), [input]);
      expectMatches(y, tfApply(tf.layers.leakyReLU({ alpha }), [input]), ATOL);
      expect(y.mask).toBe(input.mask);
    }
    expect(leakyRelu.outputShapes(makeLayer("LeakyReLU", {}), [[null, 4, 5]], model)).toEqual([tfOutputShape(tf.layers.leakyReLU({}), [[null, 4, 5]])]);
  });
});

describe("ReLU", () => {
  it("plain and with max_value, like tfjs", () => {
    const input = x();
    expectMatches(forward(relu, makeLayer("ReLU", {}), [input])[0], tfApply(tf.layers.reLU({}), [input]), 0);
    expectMatches(forward(relu, makeLayer("ReLU", { max_value: 1.5 }), [input])[0], tfApply(tf.layers.reLU({ maxValue: 1.5 }), [input]), 0);
  });

  it("negative_slope, threshold and max_value follow Keras' relu()", () => {
    const input = x();
    const t = tf.tensor(Float32Array.from(input.data), input.shape);
    for (const [slope, threshold, maxValue] of [[0.2, 0, null], [0.2, 0.5, null], [0, 0.5, 2], [0.1, 0.5, 2], [0.1, 0, 6]] as [number, number, number | null][]) {
      // ReLU.static_call: negative_part = relu(threshold − x); x = x if x > threshold else 0 (relu when threshold = 0);
      // clip to [0, max_value]; x −= negative_slope · negative_part.
      const neg = tf.relu(t.neg().add(threshold));
      let y = threshold !== 0 ? tf.where(t.greater(threshold), t, tf.zerosLike(t)) : tf.relu(t);
      if (maxValue !== null) y = tf.clipByValue(y, 0, maxValue);
      if (slope !== 0) y = y.sub(neg.mul(slope));
      const [ours] = forward(relu, makeLayer("ReLU", { negative_slope: slope, threshold, max_value: maxValue }), [input]);
      expectMatches(ours, { shape: y.shape, data: y.dataSync() }, ATOL);
    }
  });
});

describe("ELU / ThresholdedReLU", () => {
  it("ELU alpha 1 like tfjs, other alphas by Keras' formula alpha·(eˣ − 1)", () => {
    const input = x();
    expectMatches(forward(elu, makeLayer("ELU", {}), [input])[0], tfApply(tf.layers.elu({}), [input]), ATOL);
    const t = tf.tensor(Float32Array.from(input.data), input.shape);
    const ref = tf.where(t.greater(0), t, t.exp().sub(1).mul(0.5));
    expectMatches(forward(elu, makeLayer("ELU", { alpha: 0.5 }), [input])[0], { shape: ref.shape, data: ref.dataSync() }, ATOL);
  });

  it("ThresholdedReLU like tfjs", () => {
    const input = x();
    expectMatches(forward(thresholdedRelu, makeLayer("ThresholdedReLU", { theta: 0.7 }), [input])[0], tfApply(tf.layers.thresholdedReLU({ theta: 0.7 }), [input]), 0);
  });
});

describe("PReLU", () => {
  it("per-element and shared-axes alpha like tfjs; Keras 1 'alphas'", () => {
    const input = x();
    const full = randoms(rng(2), 20, 0, 0.5);
    const [y] = forward(prelu, makeLayer("PReLU", {}, { alpha: { shape: [4, 5], data: full } }), [input]);
    expectMatches(y, tfApply(tf.layers.prelu({}), [input], [{ shape: [4, 5], data: full }]), ATOL);
    const shared = randoms(rng(3), 5, 0, 0.5);
    const [y2] = forward(prelu, makeLayer("PReLU", { shared_axes: [1] }, { alpha: { shape: [1, 5], data: shared } }), [input]);
    expectMatches(y2, tfApply(tf.layers.prelu({ sharedAxes: [1] }), [input], [{ shape: [1, 5], data: shared }]), ATOL);
    const [y3] = forward(prelu, makeLayer("PReLU", {}, { alphas: { shape: [4, 5], data: full } }), [input], makeModel({ kerasMajor: 1, kerasVersion: "1.2.2" }));
    expect(Array.from(y3.data)).toEqual(Array.from(y.data));
    expect(() => forward(prelu, makeLayer("PReLU", {}, { alpha: { shape: [3], data: [0, 0, 0] } }), [input])).toThrow(/does not fit/);
  });
});

describe("Softmax", () => {
  it("over the last axis like tfjs, and over axis 1", () => {
    const input = value([3, 4, 5], randoms(rng(4), 60, -3, 3));
    expectMatches(forward(softmax, makeLayer("Softmax", {}), [input])[0], tfApply(tf.layers.softmax({ axis: -1 }), [input]), ATOL);
    // tfjs' softmax only works on the last axis: axis 1 is checked as exp(x − logsumexp(x)) along it.
    const t = tf.tensor(Float32Array.from(input.data), input.shape);
    const ref = t.sub(tf.logSumExp(t, 1, true)).exp();
    expectMatches(forward(softmax, makeLayer("Softmax", { axis: 1 }), [input])[0], { shape: ref.shape, data: ref.dataSync() }, ATOL);
  });

  it("refuses a masked input", () => {
    expect(() => forward(softmax, makeLayer("Softmax", {}), [x()])).toThrow(UnsupportedError);
  });
});
