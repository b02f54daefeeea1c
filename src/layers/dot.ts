/**
 * Dot(axes, normalize): per sample, the sum over x's axis a0 and y's axis a1 of
 * x·y; the output shape is x's shape without a0, then y's without the batch and
 * a1, padded to (batch, 1) when nothing else is left (keras/src/layers/merging/dot.py
 * batch_dot and Dot.compute_output_shape; Keras 2.2.4 keras/layers/merge.py Dot).
 *
 * normalize=True first L2-normalizes both inputs along their dot axes:
 * x · rsqrt(max(Σx², ε)), with ε = 1e-12 in Keras 2 (tf.nn.l2_normalize) and
 * ε = epsilon² = 1e-14 in Keras 3 (keras/src/ops/nn.py _normalize); the two differ
 * only for all-zero vectors. Dot outputs carry no mask (Dot.compute_mask).
 */
import { InspectError } from "../errors.js";
import type { Layer } from "../model.js";
import type { EvalContext, LayerKind, Shape, Value } from "./kind.js";
import { product, transpose } from "./options.js";

function axesFor(layer: Layer, rankX: number, rankY: number): [number, number] {
  const a = layer.config.axes;
  let axes: [number, number];
  if (typeof a === "number") axes = a < 0 ? [mod(a, rankX), mod(a, rankY)] : [a, a];
  else if (Array.isArray(a) && a.length === 2 && a.every((v) => typeof v === "number")) {
    axes = [a[0] < 0 ? mod(a[0], rankX) : a[0], a[1] < 0 ? mod(a[1], rankY) : a[1]];
  } else {
    throw new InspectError(`layer '${layer.name}' (Dot): config 'axes' is ${JSON.stringify(a)}, expected an integer or two integers`);
  }
  if (axes[0] <= 0 || axes[0] >= rankX || axes[1] <= 0 || axes[1] >= rankY) {
    throw new InspectError(`layer '${layer.name}' (Dot): axes ${JSON.stringify(a)} do not fit inputs of rank ${rankX} and ${rankY} (the batch axis cannot be used)`);
  }
  return axes;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function twoInputs(layer: Layer, n: number): void {
  if (n !== 2) throw new InspectError(`layer '${layer.name}' (Dot) takes exactly 2 inputs, got ${n}`);
}

function outputShape(layer: Layer, x: Shape, y: Shape): Shape {
  const [a0, a1] = axesFor(layer, x.length, y.length);
  const dx = x[a0];
  const dy = y[a1];
  if (dx !== null && dy !== null && dx !== dy) {
    throw new InspectError(`layer '${layer.name}' (Dot): axis ${a0} of the first input has size ${dx} but axis ${a1} of the second has ${dy}`);
  }
  const out = [...x.filter((_, i) => i !== a0), ...y.filter((_, i) => i !== 0 && i !== a1)];
  return out.length === 1 ? [...out, 1] : out;
}

/** L2-normalizes `data` (shape (rows, K), K contiguous) row by row. */
function normalizeRows(data: Float64Array, K: number, eps: number, round: (v: number) => number): Float64Array {
  const out = new Float64Array(data.length);
  for (let r = 0; r < data.length / K; r++) {
    let sq = 0;
    for (let k = 0; k < K; k++) sq = round(sq + round(data[r * K + k] * data[r * K + k]));
    const inv = round(1 / Math.sqrt(Math.max(sq, eps)));
    for (let k = 0; k < K; k++) out[r * K + k] = round(data[r * K + k] * inv);
  }
  return out;
}

function dotForward(layer: Layer, x: Value, y: Value, ctx: EvalContext): Value {
  const shape = outputShape(layer, x.shape, y.shape) as number[];
  const [a0, a1] = axesFor(layer, x.shape.length, y.shape.length);
  if (x.shape[0] !== y.shape[0]) throw new InspectError(`layer '${ctx.path}' (Dot): inputs have different batch sizes`);
  const B = x.shape[0];
  const K = x.shape[a0];
  // x -> (B, I, K) with the dot axis last; y -> (B, J, K) with the dot axis last too.
  const permX = [...x.shape.keys()].filter((i) => i !== a0).concat(a0);
  const permY = [...y.shape.keys()].filter((i) => i !== a1).concat(a1);
  let xs = transpose(x.data, x.shape, permX).data;
  let ys = transpose(y.data, y.shape, permY).data;
  const normalize = layer.config.normalize === true;
  if (normalize) {
    const eps = ctx.model.kerasMajor >= 3 ? 1e-14 : 1e-12;
    xs = normalizeRows(xs, K, eps, ctx.round);
    ys = normalizeRows(ys, K, eps, ctx.round);
  }
  const I = product(x.shape) / (B * K);
  const J = product(y.shape) / (B * K);
  const out = new Float64Array(B * I * J);
  const { round } = ctx;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < I; i++) {
      const xo = (b * I + i) * K;
      for (let j = 0; j < J; j++) {
        const yo = (b * J + j) * K;
        let acc = 0;
        for (let k = 0; k < K; k++) acc = round(acc + round(xs[xo + k] * ys[yo + k]));
        out[(b * I + i) * J + j] = acc;
      }
    }
  }
  return { shape, data: out };
}

export const dot: LayerKind = {
  classNames: ["Dot"],
  outputShapes(layer, inputs): Shape[] {
    twoInputs(layer, inputs.length);
    return [outputShape(layer, inputs[0], inputs[1])];
  },
  forward(layer, inputs, ctx) {
    twoInputs(layer, inputs.length);
    return [dotForward(layer, inputs[0], inputs[1], ctx)];
  },
};
