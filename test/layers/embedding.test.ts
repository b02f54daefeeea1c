// Embedding vs tfjs' tf.layers.embedding (same table, same ids), float32 both sides:
// a lookup copies values, so the tolerance is exact equality.
import { beforeAll, describe, expect, it } from "vitest";

import { InspectError, UnsupportedError } from "../../src/errors.js";
import { embedding } from "../../src/layers/embedding.js";
import { expectMatches, forward, makeLayer, makeModel, randoms, rng, tf, tfApply, tfOutputShape, tfReady, value } from "./helpers.js";

beforeAll(tfReady);

const VOCAB = 7;
const DIM = 4;

function ids(r: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(r() * VOCAB));
}

describe("Embedding", () => {
  it("looks up rows as tfjs does, Keras 2+ 'embeddings' tensor", () => {
    const r = rng(1);
    const table = randoms(r, VOCAB * DIM);
    const layer = makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM }, { embeddings: { shape: [VOCAB, DIM], data: table } });
    const x = value([3, 5], ids(r, 15));
    const [y] = forward(embedding, layer, [x]);
    const ref = tfApply(tf.layers.embedding({ inputDim: VOCAB, outputDim: DIM }), [x], [{ shape: [VOCAB, DIM], data: table }]);
    expectMatches(y, ref, 0);
    expect(y.mask).toBeUndefined();
  });

  it("reads the Keras 1 'W' table", () => {
    const r = rng(2);
    const table = randoms(r, VOCAB * DIM);
    const layer = makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM, input_length: 4 }, { W: { shape: [VOCAB, DIM], data: table } });
    const x = value([2, 4], ids(r, 8));
    const [y] = forward(embedding, layer, [x], makeModel({ kerasMajor: 1, kerasVersion: "1.2.2" }));
    const ref = tfApply(tf.layers.embedding({ inputDim: VOCAB, outputDim: DIM }), [x], [{ shape: [VOCAB, DIM], data: table }]);
    expectMatches(y, ref, 0);
  });

  it("mask_zero makes the (batch, steps) mask tfjs computes", () => {
    const r = rng(3);
    const table = randoms(r, VOCAB * DIM);
    const layer = makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM, mask_zero: true }, { embeddings: { shape: [VOCAB, DIM], data: table } });
    const x = value([2, 5], [3, 1, 0, 0, 0, 2, 6, 5, 4, 0]);
    const [y] = forward(embedding, layer, [x]);
    const tfl = tf.layers.embedding({ inputDim: VOCAB, outputDim: DIM, maskZero: true });
    const ref = tfApply(tfl, [x], [{ shape: [VOCAB, DIM], data: table }]);
    expectMatches(y, ref, 0);
    const tfMask = (tfl.computeMask(tf.tensor2d([3, 1, 0, 0, 0, 2, 6, 5, 4, 0], [2, 5])) as tf.Tensor).dataSync();
    expect(Array.from(y.mask!)).toEqual(Array.from(tfMask, (b) => (b ? 1 : 0)));
  });

  it("refuses ids that are not whole numbers in range, naming the value", () => {
    const layer = makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM }, { embeddings: { shape: [VOCAB, DIM], data: new Array(VOCAB * DIM).fill(0) } });
    expect(() => forward(embedding, layer, [value([1, 2], [1, 7])])).toThrow(/input value 7 .*not a token id in \[0, 6\]/);
    expect(() => forward(embedding, layer, [value([1, 2], [1.5, 2])])).toThrow(InspectError);
    expect(() => forward(embedding, layer, [value([1, 2], [-1, 2])])).toThrow(/not a token id/);
  });

  it("refuses a table whose shape disagrees with input_dim/output_dim, and mask_zero on non-2-D ids", () => {
    const bad = makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM }, { embeddings: { shape: [VOCAB, DIM + 1], data: new Array(VOCAB * (DIM + 1)).fill(0) } });
    expect(() => forward(embedding, bad, [value([1, 1], [0])])).toThrow(/has shape \[7, 5\]/);
    const m = makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM, mask_zero: true }, { embeddings: { shape: [VOCAB, DIM], data: new Array(VOCAB * DIM).fill(0) } });
    expect(() => forward(embedding, m, [value([2], [0, 1])])).toThrow(UnsupportedError);
  });

  it("output shape: tfjs' rule, and Keras 2's input_length fill-in for unknown steps", () => {
    const layer = makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM }, {});
    const tfl = tf.layers.embedding({ inputDim: VOCAB, outputDim: DIM });
    expect(embedding.outputShapes(layer, [[null, 9]], makeModel())).toEqual([tfOutputShape(tfl, [[null, 9]])]);
    const withLen = makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM, input_length: 12 }, {});
    // Keras 2.2.4 embeddings.py compute_output_shape: input_length replaces unknown dims.
    expect(embedding.outputShapes(withLen, [[null, null]], makeModel())).toEqual([[null, 12, DIM]]);
  });
});
