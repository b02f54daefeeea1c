// MaxPooling1D / AveragePooling1D vs tfjs' maxPooling1d / averagePooling1d, and
// GlobalAveragePooling1D / GlobalMaxPooling1D vs tfjs' global pooling layers; the masked
// average against the formula of keras/src/layers/pooling/global_average_pooling1d.py
// (tfjs' layer has no mask). Float32 both sides, values of order 1: 1e-5 absolute.
import { beforeAll, describe, expect, it } from "vitest";

import { UnsupportedError } from "../../src/errors.js";
import { globalPooling1d } from "../../src/layers/global-pooling1d.js";
import { pooling1d } from "../../src/layers/pooling1d.js";
import { ATOL, expectMatches, forward, makeLayer, makeModel, randoms, rng, tf, tfApply, tfOutputShape, tfReady, value } from "./helpers.js";

beforeAll(tfReady);
const model = makeModel();

describe("MaxPooling1D / AveragePooling1D", () => {
  const L = 10;
  const C = 3;
  for (const cls of ["MaxPooling1D", "AveragePooling1D"]) {
    for (const padding of ["valid", "same"] as const) {
      for (const [size, strides] of [[2, null], [3, 1], [3, 2], [4, 3], [5, 5]] as [number, number | null][]) {
        it(`${cls} pool_size=${size} strides=${strides} padding=${padding} matches tfjs, with its output shape`, () => {
          const r = rng(size * 10 + (strides ?? 0) + padding.length * 100 + cls.length);
          const x = value([2, L, C], randoms(r, 2 * L * C), new Array(2 * L).fill(1));
          const layer = makeLayer(cls, { pool_size: [size], strides: strides === null ? null : [strides], padding, data_format: "channels_last" });
          const make = () =>
            cls === "MaxPooling1D"
              ? tf.layers.maxPooling1d({ poolSize: size, strides: strides ?? undefined, padding })
              : tf.layers.averagePooling1d({ poolSize: size, strides: strides ?? undefined, padding });
          const [y] = forward(pooling1d, layer, [x]);
          expectMatches(y, tfApply(make(), [x]), ATOL);
          expect(y.mask).toBeUndefined();
          expect(pooling1d.outputShapes(layer, [[null, L, C]], model)).toEqual([tfOutputShape(make(), [[null, L, C]])]);
        });
      }
    }
  }

  it("reads Keras 1 pool_length/stride", () => {
    const x = value([1, 6, 2], randoms(rng(3), 12));
    const layer = makeLayer("MaxPooling1D", { pool_length: 3, stride: 2, padding: "valid" });
    expectMatches(forward(pooling1d, layer, [x])[0], tfApply(tf.layers.maxPooling1d({ poolSize: 3, strides: 2, padding: "valid" }), [x]), 0);
  });

  it("refuses channels_first and unknown padding", () => {
    const x = value([1, 4, 2], new Array(8).fill(0));
    expect(() => forward(pooling1d, makeLayer("MaxPooling1D", { data_format: "channels_first" }), [x])).toThrow(UnsupportedError);
    expect(() => forward(pooling1d, makeLayer("AveragePooling1D", { padding: "full" }), [x])).toThrow(/padding "full"/);
  });
});

describe("GlobalAveragePooling1D / GlobalMaxPooling1D", () => {
  it("match tfjs without a mask, with their output shapes", () => {
    const x = value([3, 5, 4], randoms(rng(4), 60));
    for (const [cls, make] of [
      ["GlobalAveragePooling1D", () => tf.layers.globalAveragePooling1d({})],
      ["GlobalMaxPooling1D", () => tf.layers.globalMaxPooling1d({})],
    ] as const) {
      const layer = makeLayer(cls, { data_format: "channels_last" });
      expectMatches(forward(globalPooling1d, layer, [x])[0], tfApply(make(), [x]), ATOL);
      expect(globalPooling1d.outputShapes(layer, [[null, 5, 4]], model)).toEqual([tfOutputShape(make(), [[null, 5, 4]])]);
    }
  });

  it("the average counts only unmasked steps, the maximum ignores the mask; both drop it", () => {
    const r = rng(5);
    const mask = [1, 1, 0, 0, 0, 1, 0, 1, 1, 1];
    const x = value([2, 5, 3], randoms(r, 30), mask);
    const [avg] = forward(globalPooling1d, makeLayer("GlobalAveragePooling1D", {}), [x]);
    const xt = tf.tensor(Float32Array.from(x.data), x.shape);
    const m = tf.tensor(Float32Array.from(mask), [2, 5, 1]);
    const ref = tf.sum(xt.mul(m), 1).div(tf.sum(m, 1));
    expectMatches(avg, { shape: ref.shape, data: ref.dataSync() });
    expect(avg.mask).toBeUndefined();
    const [max] = forward(globalPooling1d, makeLayer("GlobalMaxPooling1D", {}), [x]);
    expectMatches(max, tfApply(tf.layers.globalMaxPooling1d({}), [x]), 0);
    expect(max.mask).toBeUndefined();
  });

  it("keepdims and channels_first (Keras base_global_pooling.py compute_output_shape; values via tf.mean)", () => {
    const x = value([2, 3, 4], randoms(rng(6), 24));
    const keep = makeLayer("GlobalAveragePooling1D", { keepdims: true });
    const [y] = forward(globalPooling1d, keep, [x]);
    const ref = tf.mean(tf.tensor(Float32Array.from(x.data), x.shape), 1, true);
    expectMatches(y, { shape: ref.shape, data: ref.dataSync() });
    expect(globalPooling1d.outputShapes(keep, [[null, 3, 4]], model)).toEqual([[null, 1, 4]]);
    const first = makeLayer("GlobalAveragePooling1D", { data_format: "channels_first" });
    const [y2] = forward(globalPooling1d, first, [x]);
    const ref2 = tf.mean(tf.tensor(Float32Array.from(x.data), x.shape), 2);
    expectMatches(y2, { shape: ref2.shape, data: ref2.dataSync() });
    expect(globalPooling1d.outputShapes(first, [[null, 3, 4]], model)).toEqual([[null, 3]]);
  });
});

describe("output shapes of the 1-D kinds on inputs of the wrong rank", () => {
  it("throw (summary then prints '?') instead of inventing dims", () => {
    for (const [kind, cls] of [[pooling1d, "MaxPooling1D"], [globalPooling1d, "GlobalAveragePooling1D"]] as const) {
      expect(() => kind.outputShapes(makeLayer(cls, {}), [[null, 4]], model)).toThrow(/rank 2/);
    }
  });
});
