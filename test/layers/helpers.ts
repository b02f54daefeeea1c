/**
 * Shared by the layer-kind tests: minimal Layer/Model objects, a seeded random
 * source, running one kind's forward, and running the same layer in tfjs
 * (CPU backend, float32) with the same weights as the independent reference.
 */
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";

import { hardSigmoidFor } from "../../src/activations.js";
import type { EvalContext, LayerKind, Shape, Value } from "../../src/layers/kind.js";
import type { Layer, Model } from "../../src/model.js";

export { tf };

/** Both sides compute in float32, values are of order 1: 1e-5 absolute covers last-ulp differences in summation order. */
export const ATOL = 1e-5;

let ready: Promise<void> | undefined;
export function tfReady(): Promise<void> {
  ready ??= (async () => {
    tf.env().set("PROD", true); // silences the "running in Node.js" banner only
    await tf.setBackend("cpu");
    await tf.ready();
  })();
  return ready;
}

/** The seeded generator the reference tests draw with (mulberry32, uniform in [0, 1)). */
export { prng as rng } from "../reference/keras-golden.js";

/** n float32-representable values uniform in [lo, hi). */
export function randoms(r: () => number, n: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(lo + (hi - lo) * r());
  return out;
}

export interface W {
  shape: number[];
  data: ArrayLike<number>;
}

export function makeLayer(className: string, config: Record<string, unknown>, weights: Record<string, W> = {}, name = "l"): Layer {
  return {
    className,
    name,
    config: { name, ...config },
    weights: Object.entries(weights).map(([n, w]) => ({
      name: n,
      path: `/${name}/${n}`,
      shape: w.shape,
      dtype: "float32" as const,
      data: Float32Array.from(w.data),
    })),
    children: [],
    inbound: [],
  };
}

export function makeModel(over: Partial<Model> = {}): Model {
  return {
    format: "keras-h5",
    source: "test",
    kerasMajor: 3,
    kerasVersion: "3.9.2",
    modelClass: "Functional",
    name: "m",
    layers: [],
    inputs: [],
    outputs: [],
    notes: [],
    ...over,
  };
}

export function makeCtx(model: Model = makeModel(), dtype: "float32" | "float64" = "float32"): EvalContext {
  return {
    dtype,
    model,
    round: dtype === "float32" ? Math.fround : (x: number) => x,
    hardSigmoidVariant: hardSigmoidFor(model.kerasMajor),
    path: "l",
  };
}

export function value(shape: number[], data: ArrayLike<number>, mask?: ArrayLike<number>): Value {
  const v: Value = { shape, data: Float64Array.from(data) };
  if (mask) v.mask = Uint8Array.from(mask);
  return v;
}

export function forward(kind: LayerKind, layer: Layer, inputs: Value[], model: Model = makeModel()): Value[] {
  return kind.forward!(layer, inputs, makeCtx(model));
}

/** Runs a built tfjs layer on the inputs with the given weights; returns shape and values. */
export function tfApply(layer: tf.layers.Layer, inputs: Value[], weights?: W[]): { shape: number[]; data: Float32Array } {
  const ts = inputs.map((v) => tf.tensor(Float32Array.from(v.data), v.shape, "float32"));
  const arg = ts.length === 1 ? ts[0] : ts;
  layer.apply(arg); // builds the layer
  if (weights) layer.setWeights(weights.map((w) => tf.tensor(Float32Array.from(w.data), w.shape, "float32")));
  const y = layer.apply(arg) as tf.Tensor;
  const out = { shape: y.shape, data: y.dataSync() as Float32Array };
  tf.dispose([...ts, y]);
  return out;
}

/** max |a − e|, after checking the lengths agree. */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let m = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? (Number.isNaN(actual[i]) && Number.isNaN(expected[i]) ? m : Infinity) : d;
  }
  return m;
}

/** Our value equals tfjs' in shape and, within ATOL, in every number. */
export function expectMatches(ours: Value, ref: { shape: number[]; data: ArrayLike<number> }, atol = ATOL): void {
  expect(ours.shape).toEqual(ref.shape);
  expect(maxAbsDiff(ours.data, ref.data)).toBeLessThanOrEqual(atol);
}

/** tfjs' computeOutputShape with a null batch, as a Shape. */
export function tfOutputShape(layer: tf.layers.Layer, inputs: Shape[]): Shape {
  const s = layer.computeOutputShape(inputs.length === 1 ? inputs[0] : inputs) as (number | null)[];
  return s.map((d) => (d === undefined ? null : d));
}
