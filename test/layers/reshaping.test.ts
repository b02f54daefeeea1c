// Flatten, Reshape, RepeatVector, Permute vs tfjs' layers of the same names. They
// only move values, so ours must equal tfjs exactly (tolerance 0).
import { beforeAll, describe, expect, it } from "vitest";

import { InspectError } from "../../src/errors.js";
import { flatten } from "../../src/layers/flatten.js";
import { permute } from "../../src/layers/permute.js";
import { repeatVector } from "../../src/layers/repeat-vector.js";
import { reshape } from "../../src/layers/reshape.js";
import { expectMatches, forward, makeLayer, makeModel, randoms, rng, tf, tfApply, tfOutputShape, tfReady, value } from "./helpers.js";

beforeAll(tfReady);
const model = makeModel();

describe("Flatten", () => {
  it("flattens row-major like tfjs and drops the mask", () => {
    const x = value([2, 3, 4], randoms(rng(1), 24), [1, 1, 0, 1, 0, 0]);
    const [y] = forward(flatten, makeLayer("Flatten", {}), [x]);
    expectMatches(y, tfApply(tf.layers.flatten(), [x]), 0);
    expect(y.mask).toBeUndefined();
  });

  it("channels_first moves the channel axis last first (Keras 3 flatten.py call)", () => {
    const x = value([2, 3, 4], randoms(rng(2), 24));
    const [y] = forward(flatten, makeLayer("Flatten", { data_format: "channels_first" }), [x]);
    const t = tf.tensor(Float32Array.from(x.data), [2, 3, 4]);
    const ref = t.transpose([0, 2, 1]).reshape([2, 12]);
    expectMatches(y, { shape: ref.shape, data: ref.dataSync() }, 0);
  });

  it("output shape as tfjs computes it; unknown dims give None", () => {
    const tfl = tf.layers.flatten();
    expect(flatten.outputShapes(makeLayer("Flatten", {}), [[null, 5, 6]], model)).toEqual([tfOutputShape(tfl, [[null, 5, 6]])]);
    expect(flatten.outputShapes(makeLayer("Flatten", {}), [[null, null, 6]], model)).toEqual([[null, null]]);
  });
});

describe("Reshape", () => {
  it("reshapes with and without -1 like tfjs", () => {
    const x = value([2, 12], randoms(rng(3), 24));
    for (const target of [[3, 4], [-1, 2], [2, -1, 3]]) {
      const [y] = forward(reshape, makeLayer("Reshape", { target_shape: target }), [x]);
      const ref = tfApply(tf.layers.reshape({ targetShape: [...target] }), [x]);
      expectMatches(y, ref, 0);
      // tfjs' computeOutputShape leaves -1 as None even for a known input size; Keras resolves it
      // (keras/src/ops/operation_utils.py compute_reshape_output_shape), as tfjs' actual output does.
      expect(reshape.outputShapes(makeLayer("Reshape", { target_shape: target }), [[null, 12]], model)).toEqual([[null, ...ref.shape.slice(1)]]);
    }
  });

  it("keeps -1 unknown when the input size is unknown, and refuses sizes that do not fit", () => {
    expect(reshape.outputShapes(makeLayer("Reshape", { target_shape: [-1, 3] }), [[null, null, 3]], model)).toEqual([[null, null, 3]]);
    expect(() => forward(reshape, makeLayer("Reshape", { target_shape: [5, -1] }), [value([1, 12], new Array(12).fill(0))])).toThrow(/do not divide/);
    expect(() => forward(reshape, makeLayer("Reshape", { target_shape: [5, 2] }), [value([1, 12], new Array(12).fill(0))])).toThrow(InspectError);
    expect(() => forward(reshape, makeLayer("Reshape", { target_shape: [-1, -1] }), [value([1, 12], new Array(12).fill(0))])).toThrow(/more than one -1/);
  });
});

describe("RepeatVector", () => {
  it("repeats like tfjs", () => {
    const x = value([3, 4], randoms(rng(4), 12));
    const [y] = forward(repeatVector, makeLayer("RepeatVector", { n: 5 }), [x]);
    expectMatches(y, tfApply(tf.layers.repeatVector({ n: 5 }), [x]), 0);
    expect(repeatVector.outputShapes(makeLayer("RepeatVector", { n: 5 }), [[null, 4]], model)).toEqual([
      tfOutputShape(tf.layers.repeatVector({ n: 5 }), [[null, 4]]),
    ]);
  });

  it("refuses a 3-D input", () => {
    expect(() => forward(repeatVector, makeLayer("RepeatVector", { n: 2 }), [value([1, 2, 2], [0, 0, 0, 0])])).toThrow(/rank 2/);
  });
});

describe("Permute", () => {
  it("permutes like tfjs for every order of three axes", () => {
    const x = value([2, 3, 4, 5], randoms(rng(5), 120));
    for (const dims of [[1, 2, 3], [2, 1, 3], [3, 1, 2], [3, 2, 1], [1, 3, 2], [2, 3, 1]]) {
      const [y] = forward(permute, makeLayer("Permute", { dims }), [x]);
      expectMatches(y, tfApply(tf.layers.permute({ dims }), [x]), 0);
      expect(permute.outputShapes(makeLayer("Permute", { dims }), [[null, 3, 4, 5]], model)).toEqual([
        tfOutputShape(tf.layers.permute({ dims }), [[null, 3, 4, 5]]),
      ]);
    }
  });

  it("refuses dims that are not a permutation", () => {
    expect(() => forward(permute, makeLayer("Permute", { dims: [1, 1] }), [value([1, 2, 2], [0, 0, 0, 0])])).toThrow(/permutation of 1..2/);
  });
});
