// Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum and Dot vs tfjs'
// merge layers (Subtract: tfjs has no layer, so tf.sub). Float32 both sides, values of
// order 1: 1e-5 absolute. Mask rules are checked against the Keras sources cited in
// src/layers/merge.ts (tfjs merges do not propagate masks in eager mode).
import { beforeAll, describe, expect, it } from "vitest";

import { InspectError } from "../../src/errors.js";
import { dot } from "../../src/layers/dot.js";
import { concatenate, elementwiseMerge, keras1Merge } from "../../src/layers/merge.js";
import { ATOL, expectMatches, forward, makeLayer, makeModel, randoms, rng, tf, tfApply, tfOutputShape, tfReady, value } from "./helpers.js";

beforeAll(tfReady);
const model = makeModel();
const keras2 = makeModel({ kerasMajor: 2, kerasVersion: "2.2.4" });
const keras33 = makeModel({ kerasMajor: 3, kerasVersion: "3.3.3" });
const keras34 = makeModel({ kerasMajor: 3, kerasVersion: "3.4.1" });

const TFJS: Record<string, () => tf.layers.Layer> = {
  Add: () => tf.layers.add({}),
  Multiply: () => tf.layers.multiply({}),
  Average: () => tf.layers.average({}),
  Maximum: () => tf.layers.maximum({}),
  Minimum: () => tf.layers.minimum({}),
};

describe("Concatenate", () => {
  it("matches tfjs along every axis, and its output shape", () => {
    const r = rng(1);
    // tfjs' Concatenate layer mis-resolves axis=-2, so that case is checked against tf.concat(axis 1).
    for (const axis of [-1, 1, 2, -2]) {
      const a = value([2, 3, 4], randoms(r, 24));
      const bShape = [2, 3, 4];
      bShape[axis < 0 ? 3 + axis : axis] = 5;
      const b = value(bShape, randoms(r, bShape.reduce((p, d) => p * d, 1)));
      const layer = makeLayer("Concatenate", { axis });
      const [y] = forward(concatenate, layer, [a, b]);
      const shapes = [[null, ...a.shape.slice(1)], [null, ...b.shape.slice(1)]];
      if (axis === -2) {
        const t = tf.concat([tf.tensor(Float32Array.from(a.data), a.shape), tf.tensor(Float32Array.from(b.data), b.shape)], 1);
        expectMatches(y, { shape: t.shape, data: t.dataSync() }, 0);
        expect(concatenate.outputShapes(layer, shapes, model)).toEqual([[null, 8, 4]]);
        continue;
      }
      expectMatches(y, tfApply(tf.layers.concatenate({ axis }), [a, b]), 0);
      expect(concatenate.outputShapes(layer, shapes, model)).toEqual([tfOutputShape(tf.layers.concatenate({ axis }), shapes)]);
    }
  });

  it("three 2-D inputs, default axis", () => {
    const r = rng(2);
    const xs = [value([3, 2], randoms(r, 6)), value([3, 4], randoms(r, 12)), value([3, 1], randoms(r, 3))];
    const [y] = forward(concatenate, makeLayer("Concatenate", {}), xs);
    expectMatches(y, tfApply(tf.layers.concatenate({}), xs), 0);
  });

  it("refuses inputs that differ outside the axis", () => {
    expect(() => concatenate.outputShapes(makeLayer("Concatenate", { axis: -1 }), [[null, 3, 4], [null, 5, 4]], model)).toThrow(/differ outside axis 2/);
  });

  it("masks: AND over features in Keras 2, OR from Keras 3.4, none in 3.0-3.3, side by side along the steps", () => {
    const a = value([1, 3, 2], new Array(6).fill(1), [1, 1, 0]);
    const b = value([1, 3, 2], new Array(6).fill(1), [1, 0, 0]);
    const c = value([1, 3, 2], new Array(6).fill(1)); // unmasked: counts as ones
    const layer = makeLayer("Concatenate", { axis: -1 });
    expect(Array.from(forward(concatenate, layer, [a, b], keras2)[0].mask!)).toEqual([1, 0, 0]);
    expect(Array.from(forward(concatenate, layer, [a, b], keras34)[0].mask!)).toEqual([1, 1, 0]);
    expect(Array.from(forward(concatenate, layer, [a, c], keras34)[0].mask!)).toEqual([1, 1, 1]);
    expect(Array.from(forward(concatenate, layer, [a, c], keras2)[0].mask!)).toEqual([1, 1, 0]);
    expect(forward(concatenate, layer, [a, b], keras33)[0].mask).toBeUndefined();
    const steps = makeLayer("Concatenate", { axis: 1 });
    expect(Array.from(forward(concatenate, steps, [a, c], keras2)[0].mask!)).toEqual([1, 1, 0, 1, 1, 1]);
  });
});

describe("elementwise merges", () => {
  for (const cls of ["Add", "Multiply", "Average", "Maximum", "Minimum"]) {
    it(`${cls} matches tfjs on three inputs and with rank broadcasting`, () => {
      const r = rng(cls.length * 7);
      const xs = [0, 1, 2].map(() => value([2, 3, 4], randoms(r, 24)));
      const layer = makeLayer(cls, {});
      expectMatches(forward(elementwiseMerge, layer, xs)[0], tfApply(TFJS[cls](), xs), ATOL);
      const low = [value([2, 3, 4], randoms(r, 24)), value([2, 4], randoms(r, 8))];
      expectMatches(forward(elementwiseMerge, layer, low)[0], tfApply(TFJS[cls](), low), ATOL);
      expect(elementwiseMerge.outputShapes(layer, [[null, 3, 4], [null, 4]], model)).toEqual([tfOutputShape(TFJS[cls](), [[null, 3, 4], [null, 4]])]);
    });
  }

  it("Subtract matches tf.sub and takes exactly two inputs", () => {
    const r = rng(9);
    const a = value([2, 5], randoms(r, 10));
    const b = value([2, 5], randoms(r, 10));
    const ref = tf.sub(tf.tensor(Float32Array.from(a.data), a.shape), tf.tensor(Float32Array.from(b.data), b.shape));
    expectMatches(forward(elementwiseMerge, makeLayer("Subtract", {}), [a, b])[0], { shape: ref.shape, data: ref.dataSync() });
    expect(() => forward(elementwiseMerge, makeLayer("Subtract", {}), [a, b, a])).toThrow(/exactly 2 inputs/);
    expect(() => elementwiseMerge.outputShapes(makeLayer("Subtract", {}), [[null, 5]], model)).toThrow(InspectError);
  });

  it("refuses shapes that do not broadcast", () => {
    expect(() => elementwiseMerge.outputShapes(makeLayer("Add", {}), [[null, 3], [null, 4]], model)).toThrow(/cannot be combined/);
  });

  it("masks and masked values by Keras version (base_merge.py, multiply.py)", () => {
    const a = value([1, 3, 1], [2, 3, 4], [1, 1, 0]);
    const b = value([1, 3, 1], [5, -6, 7], [1, 0, 0]);
    const c = value([1, 3, 1], [1, 1, 1]);
    const add = makeLayer("Add", {});
    // Keras 2: AND of the masks present, values untouched.
    let y = forward(elementwiseMerge, add, [a, b], keras2)[0];
    expect(Array.from(y.data)).toEqual([7, -3, 11]);
    expect(Array.from(y.mask!)).toEqual([1, 0, 0]);
    expect(Array.from(forward(elementwiseMerge, add, [a, c], keras2)[0].mask!)).toEqual([1, 1, 0]);
    // Keras 3.0-3.3: no output mask.
    expect(forward(elementwiseMerge, add, [a, b], keras33)[0].mask).toBeUndefined();
    // Keras >= 3.4: OR when all inputs are masked, else none.
    y = forward(elementwiseMerge, add, [a, b], keras34)[0];
    expect(Array.from(y.data)).toEqual([7, -3, 11]);
    expect(Array.from(y.mask!)).toEqual([1, 1, 0]);
    expect(forward(elementwiseMerge, add, [a, c], keras34)[0].mask).toBeUndefined();
    // Multiply: masked entries count as 1, and the output is 0 outside the OR mask.
    y = forward(elementwiseMerge, makeLayer("Multiply", {}), [a, b], keras34)[0];
    expect(Array.from(y.data)).toEqual([10, 3, 0]);
    y = forward(elementwiseMerge, makeLayer("Multiply", {}), [a, c], keras34)[0];
    expect(Array.from(y.data)).toEqual([2, 3, 1]);
    // Maximum/Minimum: a masked entry takes the other input's value; where both are masked
    // the fold keeps the first input's (worked by hand from _apply_merge_op_and_or_mask).
    y = forward(elementwiseMerge, makeLayer("Maximum", {}), [a, b], keras34)[0];
    expect(Array.from(y.data)).toEqual([5, 3, 4]);
    y = forward(elementwiseMerge, makeLayer("Minimum", {}), [b, a], keras34)[0];
    expect(Array.from(y.data)).toEqual([2, 3, 7]);
    // Keras 2 Maximum ignores masks in the values.
    expect(Array.from(forward(elementwiseMerge, makeLayer("Maximum", {}), [a, b], keras2)[0].data)).toEqual([5, 3, 7]);
  });
});

describe("Dot", () => {
  const cases: { a: number[]; b: number[]; axes: number | number[] }[] = [
    { a: [2, 5], b: [2, 5], axes: 1 },
    { a: [2, 5], b: [2, 5], axes: -1 },
    { a: [2, 3, 4], b: [2, 5, 4], axes: 2 },
    { a: [2, 3, 4], b: [2, 3, 5], axes: 1 },
    { a: [2, 3, 4], b: [2, 5, 3], axes: [1, 2] },
    { a: [2, 4], b: [2, 3, 4], axes: [1, 2] },
  ];
  for (const normalize of [false, true]) {
    for (const c of cases) {
      it(`axes=${JSON.stringify(c.axes)} ${JSON.stringify(c.a)}·${JSON.stringify(c.b)} normalize=${normalize} matches tfjs`, () => {
        const r = rng(c.a.length * 13 + c.b.length + (normalize ? 100 : 0));
        const a = value(c.a, randoms(r, c.a.reduce((p, d) => p * d, 1)));
        const b = value(c.b, randoms(r, c.b.reduce((p, d) => p * d, 1)));
        const layer = makeLayer("Dot", { axes: c.axes, normalize });
        const [y] = forward(dot, layer, [a, b]);
        const tfl = () => tf.layers.dot({ axes: Array.isArray(c.axes) ? ([...c.axes] as [number, number]) : c.axes, normalize });
        expectMatches(y, tfApply(tfl(), [a, b]));
        expect(y.mask).toBeUndefined();
        const shapes = [[null, ...c.a.slice(1)], [null, ...c.b.slice(1)]];
        expect(dot.outputShapes(layer, shapes, model)).toEqual([tfOutputShape(tfl(), shapes)]);
      });
    }
  }

  it("refuses mismatched axis sizes and the batch axis", () => {
    expect(() => dot.outputShapes(makeLayer("Dot", { axes: 1 }), [[null, 3], [null, 4]], model)).toThrow(/has size 3 but axis 1 of the second has 4/);
    expect(() => dot.outputShapes(makeLayer("Dot", { axes: 0 }), [[null, 3], [null, 3]], model)).toThrow(/batch axis/);
  });
});

describe("Keras 1 Merge", () => {
  it("has output shapes for its simple modes and no forward pass", () => {
    expect(keras1Merge.outputShapes(makeLayer("Merge", { mode: "concat", concat_axis: -1 }), [[null, 3], [null, 4]], model)).toEqual([[null, 7]]);
    expect(keras1Merge.outputShapes(makeLayer("Merge", { mode: "sum" }), [[null, 3], [null, 3]], model)).toEqual([[null, 3]]);
    expect(keras1Merge.forward).toBeUndefined();
  });
});
