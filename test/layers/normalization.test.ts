// BatchNormalization (inference) and LayerNormalization vs tfjs' layers with the same
// weights. Float32 both sides, outputs of order 1: 1e-5 absolute (the two order the
// float32 operations differently).
import { beforeAll, describe, expect, it } from "vitest";

import { InspectError, UnsupportedError } from "../../src/errors.js";
import { batchNormalization } from "../../src/layers/batch-normalization.js";
import { layerNormalization } from "../../src/layers/layer-normalization.js";
import { ATOL, expectMatches, forward, makeLayer, makeModel, randoms, rng, tf, tfApply, tfOutputShape, tfReady, value } from "./helpers.js";

beforeAll(tfReady);
const model = makeModel();

function bnWeights(r: () => number, n: number) {
  return {
    gamma: { shape: [n], data: randoms(r, n, 0.5, 1.5) },
    beta: { shape: [n], data: randoms(r, n, -0.5, 0.5) },
    moving_mean: { shape: [n], data: randoms(r, n, -0.5, 0.5) },
    moving_variance: { shape: [n], data: randoms(r, n, 0.2, 2) },
  };
}

describe("BatchNormalization", () => {
  it("uses the moving statistics like tfjs at inference, on 2-D and 3-D inputs, and keeps the mask", () => {
    const r = rng(1);
    for (const shape of [[4, 6], [2, 5, 6]]) {
      const w = bnWeights(r, 6);
      const x = value(shape, randoms(r, shape.reduce((p, d) => p * d, 1), -2, 2), shape.length === 3 ? [1, 1, 1, 0, 0, 1, 1, 1, 1, 1] : undefined);
      const [y] = forward(batchNormalization, makeLayer("BatchNormalization", { axis: -1, epsilon: 0.001 }, w), [x]);
      const ref = tfApply(tf.layers.batchNormalization({ axis: -1, epsilon: 0.001 }), [x], [w.gamma, w.beta, w.moving_mean, w.moving_variance]);
      expectMatches(y, ref, ATOL);
      if (shape.length === 3) expect(y.mask).toBe(x.mask);
    }
  });

  it("with center/scale off, like tfjs", () => {
    const r = rng(2);
    const w = bnWeights(r, 3);
    const x = value([2, 5, 3], randoms(r, 30, -2, 2));
    const noScale = { beta: w.beta, moving_mean: w.moving_mean, moving_variance: w.moving_variance };
    const [y2] = forward(batchNormalization, makeLayer("BatchNormalization", { epsilon: 0.01, scale: false }, noScale), [x]);
    expectMatches(y2, tfApply(tf.layers.batchNormalization({ epsilon: 0.01, scale: false }), [x], [w.beta, w.moving_mean, w.moving_variance]));
    const bare = { moving_mean: w.moving_mean, moving_variance: w.moving_variance };
    const [y3] = forward(batchNormalization, makeLayer("BatchNormalization", { axis: [2], epsilon: 0.01, scale: false, center: false }, bare), [x]);
    expectMatches(y3, tfApply(tf.layers.batchNormalization({ epsilon: 0.01, scale: false, center: false }), [x], [w.moving_mean, w.moving_variance]));
  });

  it("normalizes along axis 1, checked against the formula with tf ops", () => {
    // tfjs' BatchNormalization layer broadcasts its statistics wrongly at inference when
    // axis is not the last one (off by ~4.5 here), so this case uses the formula of
    // keras/src/layers/normalization/batch_normalization.py: (x − mean)/sqrt(var + ε)·γ + β.
    const r = rng(2);
    const w = bnWeights(r, 5);
    const x = value([2, 5, 3], randoms(r, 30, -2, 2));
    const [y] = forward(batchNormalization, makeLayer("BatchNormalization", { axis: 1, epsilon: 0.01 }, w), [x]);
    const t = tf.tensor(Float32Array.from(x.data), x.shape);
    const p = (v: { data: ArrayLike<number> }) => tf.tensor(Float32Array.from(v.data), [1, 5, 1]);
    const ref = t.sub(p(w.moving_mean)).div(tf.sqrt(p(w.moving_variance).add(0.01))).mul(p(w.gamma)).add(p(w.beta));
    expectMatches(y, { shape: ref.shape, data: ref.dataSync() });
  });

  it("reads Keras 1 running_mean/running_std (a variance, 1.2.2 normalization.py) and refuses modes 1 and 2", () => {
    const r = rng(3);
    const w = bnWeights(r, 4);
    const k1 = { gamma: w.gamma, beta: w.beta, running_mean: w.moving_mean, running_std: w.moving_variance };
    const x = value([3, 4], randoms(r, 12, -2, 2));
    const m1 = makeModel({ kerasMajor: 1, kerasVersion: "1.2.2" });
    const [y] = forward(batchNormalization, makeLayer("BatchNormalization", { mode: 0, axis: -1, epsilon: 0.001 }, k1), [x], m1);
    expectMatches(y, tfApply(tf.layers.batchNormalization({ epsilon: 0.001 }), [x], [w.gamma, w.beta, w.moving_mean, w.moving_variance]));
    expect(() => forward(batchNormalization, makeLayer("BatchNormalization", { mode: 2 }, k1), [x], m1)).toThrow(UnsupportedError);
  });

  it("refuses statistics whose size does not fit the axis", () => {
    const w = bnWeights(rng(4), 3);
    expect(() => forward(batchNormalization, makeLayer("BatchNormalization", {}, w), [value([1, 4], [0, 0, 0, 0])])).toThrow(/normalized axes hold 4 values/);
    expect(() => forward(batchNormalization, makeLayer("BatchNormalization", {}, { gamma: w.gamma }), [value([1, 3], [0, 0, 0])])).toThrow(InspectError);
  });

  it("output shape is the input shape, as tfjs says", () => {
    expect(batchNormalization.outputShapes(makeLayer("BatchNormalization", {}), [[null, 7, 3]], model)).toEqual([
      tfOutputShape(tf.layers.batchNormalization({}), [[null, 7, 3]]),
    ]);
  });
});

describe("LayerNormalization", () => {
  it("matches tfjs over the last axis, over axes [1, 2], and without center/scale", () => {
    const r = rng(5);
    const x = value([3, 4, 5], randoms(r, 60, -3, 3), [1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1]);
    const g = randoms(r, 5, 0.5, 1.5);
    const b = randoms(r, 5, -0.5, 0.5);
    const layer = makeLayer("LayerNormalization", { axis: [2], epsilon: 0.001 }, { gamma: { shape: [5], data: g }, beta: { shape: [5], data: b } });
    const [y] = forward(layerNormalization, layer, [x]);
    expectMatches(y, tfApply(tf.layers.layerNormalization({ axis: -1, epsilon: 0.001 }), [x], [{ shape: [5], data: g }, { shape: [5], data: b }]));
    expect(y.mask).toBe(x.mask);

    const g2 = randoms(r, 20, 0.5, 1.5);
    const b2 = randoms(r, 20, -0.5, 0.5);
    const both = makeLayer("LayerNormalization", { axis: [1, 2], epsilon: 1e-5 }, { gamma: { shape: [4, 5], data: g2 }, beta: { shape: [4, 5], data: b2 } });
    const [y2] = forward(layerNormalization, both, [x]);
    expectMatches(y2, tfApply(tf.layers.layerNormalization({ axis: [1, 2], epsilon: 1e-5 }), [x], [{ shape: [4, 5], data: g2 }, { shape: [4, 5], data: b2 }]));

    const bare = makeLayer("LayerNormalization", { axis: -1, epsilon: 0.001, center: false, scale: false });
    const [y3] = forward(layerNormalization, bare, [x]);
    expectMatches(y3, tfApply(tf.layers.layerNormalization({ axis: -1, epsilon: 0.001, center: false, scale: false }), [x], []));
  });

  it("normalizes over axis 1 alone (tfk2/k3 files store axis [1]), checked against tf.moments", () => {
    const r = rng(6);
    const x = value([2, 4, 3], randoms(r, 24, -3, 3));
    const g = randoms(r, 4, 0.5, 1.5);
    const b = randoms(r, 4, -0.5, 0.5);
    const layer = makeLayer("LayerNormalization", { axis: [1], epsilon: 0.001 }, { gamma: { shape: [4], data: g }, beta: { shape: [4], data: b } });
    const [y] = forward(layerNormalization, layer, [x]);
    // Formula of keras/src/ops/nn.py _layer_normalization with tf ops.
    const t = tf.tensor(Float32Array.from(x.data), x.shape);
    const { mean, variance } = tf.moments(t, [1], true);
    const gamma = tf.tensor(Float32Array.from(g), [1, 4, 1]);
    const beta = tf.tensor(Float32Array.from(b), [1, 4, 1]);
    const ref = t.sub(mean).mul(tf.rsqrt(variance.add(0.001))).mul(gamma).add(beta);
    expectMatches(y, { shape: ref.shape, data: ref.dataSync() });
  });

  it("refuses rms_scaling and badly shaped weights", () => {
    const x = value([1, 3], [1, 2, 3]);
    expect(() => forward(layerNormalization, makeLayer("LayerNormalization", { rms_scaling: true, center: false, scale: false }), [x])).toThrow(UnsupportedError);
    const bad = makeLayer("LayerNormalization", {}, { gamma: { shape: [2], data: [1, 1] }, beta: { shape: [3], data: [0, 0, 0] } });
    expect(() => forward(layerNormalization, bad, [x])).toThrow(/normalized axes hold 3 values/);
  });
});
