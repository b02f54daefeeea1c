/**
 * Merge layers that combine several inputs: Concatenate(axis) and the elementwise
 * Add, Subtract, Multiply, Average, Maximum, Minimum
 * (keras/src/layers/merging/*.py; Keras 2.2.4 keras/layers/merge.py).
 *
 * Elementwise inputs of lower rank get size-1 axes inserted after the batch axis,
 * then broadcast (base_merge.py call / _compute_elemwise_op_output_shape).
 *
 * Masks (only (batch, steps) masks on 3-D values exist here) follow the writer's
 * Keras version, because the rule changed twice:
 * - Keras 1/2 and tf.keras: the output mask is the AND of the masks present
 *   (2.2.4 merge.py `_Merge.compute_mask`, `Concatenate.compute_mask` with ones for
 *   unmasked inputs); values are not touched.
 * - Keras 3.0 to 3.3: Layer.__call__ read the mask of the input *list* (always
 *   None), so merge outputs carried no mask.
 * - Keras 3.4 and later (keras-team/keras#19685): the OR of the masks when every
 *   input has one, else none; Concatenate ORs with ones for unmasked inputs;
 *   Multiply treats masked entries as 1 and zeroes the output outside the OR mask;
 *   Maximum/Minimum ignore masked entries (base_merge.py _apply_merge_op_and_or_mask).
 */
import { InspectError } from "../errors.js";
import type { Layer, Model } from "../model.js";
import type { EvalContext, LayerKind, Shape, Value } from "./kind.js";
import { kerasAtLeast, product, resolveAxis, stridesOf } from "./options.js";

type MaskRule = "and" | "none" | "or";

export function mergeMaskRule(model: Model): MaskRule {
  if (model.kerasMajor < 3) return "and";
  return kerasAtLeast(model, 3, 4) ? "or" : "none";
}

function needInputs(layer: Layer, inputs: unknown[], min: number, exact?: number): void {
  if (inputs.length < min || (exact !== undefined && inputs.length !== exact)) {
    const want = exact !== undefined ? `exactly ${exact}` : `at least ${min}`;
    throw new InspectError(`layer '${layer.name}' (${layer.className}) takes ${want} inputs, got ${inputs.length}`);
  }
}

// ---------------------------------------------------------------------------
// Elementwise merges
// ---------------------------------------------------------------------------

/** Output (non-batch) shape of broadcasting, Keras' _compute_elemwise_op_output_shape. */
function broadcastShape(layer: Layer, shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 1; i < rank; i++) {
    let dim: number | null = 1;
    for (const s of shapes) {
      const d = s.length - rank + i >= 1 ? s[s.length - rank + i] : 1;
      if (d === null || dim === null) dim = d === 1 ? dim : null;
      else if (dim === 1) dim = d;
      else if (d !== 1 && d !== dim) {
        throw new InspectError(
          `layer '${layer.name}' (${layer.className}): inputs of shapes ${shapes.map((x) => `(${x.join(", ")})`).join(" and ")} cannot be combined elementwise`,
        );
      }
    }
    out.push(dim);
  }
  const batches = new Set(shapes.map((s) => s[0]).filter((b) => b !== null));
  return [batches.size === 1 ? [...batches][0] : null, ...out];
}

type Op = "add" | "subtract" | "multiply" | "average" | "maximum" | "minimum";

const OPS: Record<string, Op> = {
  Add: "add",
  Subtract: "subtract",
  Multiply: "multiply",
  Average: "average",
  Maximum: "maximum",
  Minimum: "minimum",
};

/** Reads input k at output flat index o through broadcasting. */
function broadcaster(x: Value, outShape: number[]): (o: number) => number {
  const rank = outShape.length;
  const shape = [x.shape[0], ...new Array(rank - x.shape.length).fill(1), ...x.shape.slice(1)];
  const inStrides = stridesOf(shape).map((s, i) => (shape[i] === 1 && outShape[i] !== 1 ? 0 : s));
  const outStrides = stridesOf(outShape);
  if (shape.every((d, i) => d === outShape[i])) return (o) => o;
  return (o) => {
    let src = 0;
    for (let i = 0; i < rank; i++) {
      const idx = Math.floor(o / outStrides[i]) % outShape[i];
      src += idx * inStrides[i];
    }
    return src;
  };
}

function elementwise(layer: Layer, op: Op, inputs: Value[], ctx: EvalContext): Value {
  needInputs(layer, inputs, op === "subtract" ? 2 : 1, op === "subtract" ? 2 : undefined);
  const outShape = broadcastShape(layer, inputs.map((x) => x.shape)) as number[];
  if (new Set(inputs.map((x) => x.shape[0])).size > 1) {
    throw new InspectError(`layer '${ctx.path}' (${layer.className}): inputs have different batch sizes`);
  }
  const size = product(outShape);
  const { round } = ctx;
  const readers = inputs.map((x) => broadcaster(x, outShape));
  const rule = mergeMaskRule(ctx.model);
  const masked = outShape.length === 3 && inputs.some((x) => x.mask);
  // keep(k, o): whether input k's entry at o is real (Keras >= 3.4 masked merges only).
  const useMaskedValues = rule === "or" && masked && (op === "multiply" || op === "maximum" || op === "minimum");
  const keep = (k: number, o: number) => {
    const x = inputs[k];
    return x.mask === undefined || x.shape.length !== 3 || x.mask[Math.floor(readers[k](o) / x.shape[2])] === 1;
  };
  const allMasked = inputs.every((x) => x.mask && x.shape.length === 3);
  const out = new Float64Array(size);
  for (let o = 0; o < size; o++) {
    if (useMaskedValues && op === "multiply") {
      let acc = 1;
      let first = true;
      let anyReal = false;
      for (let k = 0; k < inputs.length; k++) {
        const real = keep(k, o);
        anyReal ||= real;
        const v = real ? inputs[k].data[readers[k](o)] : 1;
        acc = first ? v : round(acc * v);
        first = false;
      }
      out[o] = allMasked && !anyReal ? 0 : acc;
      continue;
    }
    if (useMaskedValues) {
      // Sequential fold as in _apply_merge_op_and_or_mask.
      let acc = inputs[0].data[readers[0](o)];
      let accReal: boolean | null = inputs[0].mask && inputs[0].shape.length === 3 ? keep(0, o) : null;
      for (let k = 1; k < inputs.length; k++) {
        let v = inputs[k].data[readers[k](o)];
        const hasMask = inputs[k].mask !== undefined && inputs[k].shape.length === 3;
        const real = keep(k, o);
        if (hasMask && !real) v = acc;
        if (accReal !== null && !accReal) acc = v;
        accReal = hasMask && accReal !== null ? accReal || real : null;
        acc = op === "maximum" ? Math.max(acc, v) : Math.min(acc, v);
      }
      out[o] = acc;
      continue;
    }
    let acc = inputs[0].data[readers[0](o)];
    for (let k = 1; k < inputs.length; k++) {
      const v = inputs[k].data[readers[k](o)];
      switch (op) {
        case "add":
        case "average":
          acc = round(acc + v);
          break;
        case "subtract":
          acc = round(acc - v);
          break;
        case "multiply":
          acc = round(acc * v);
          break;
        case "maximum":
          acc = Math.max(acc, v);
          break;
        case "minimum":
          acc = Math.min(acc, v);
          break;
      }
    }
    out[o] = op === "average" ? round(acc / inputs.length) : acc;
  }
  const y: Value = { shape: outShape, data: out };
  if (masked) {
    const mask = elementwiseMask(rule, inputs, outShape);
    if (mask) y.mask = mask;
  }
  return y;
}

function elementwiseMask(rule: MaskRule, inputs: Value[], outShape: number[]): Uint8Array | undefined {
  if (rule === "none") return undefined;
  const present = inputs.filter((x) => x.mask && x.shape.length === 3 && x.shape[1] === outShape[1]).map((x) => x.mask!);
  if (present.length === 0) return undefined;
  if (rule === "or" && present.length !== inputs.length) return undefined;
  const n = outShape[0] * outShape[1];
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    mask[i] = rule === "and" ? (present.every((m) => m[i] === 1) ? 1 : 0) : present.some((m) => m[i] === 1) ? 1 : 0;
  }
  return mask;
}

export const elementwiseMerge: LayerKind = {
  classNames: Object.keys(OPS),
  outputShapes(layer, inputs): Shape[] {
    needInputs(layer, inputs, OPS[layer.className] === "subtract" ? 2 : 1, OPS[layer.className] === "subtract" ? 2 : undefined);
    return [broadcastShape(layer, inputs)];
  },
  forward(layer, inputs, ctx) {
    return [elementwise(layer, OPS[layer.className], inputs, ctx)];
  },
};

// ---------------------------------------------------------------------------
// Concatenate
// ---------------------------------------------------------------------------

function concatAxis(layer: Layer, rank: number, key = "axis"): number {
  const a = layer.config[key] ?? -1;
  if (typeof a !== "number") throw new InspectError(`layer '${layer.name}' (Concatenate): config 'axis' is ${JSON.stringify(a)}, expected an integer`);
  const axis = resolveAxis(layer, a, rank);
  if (axis === 0) throw new InspectError(`layer '${layer.name}' (Concatenate): cannot concatenate along the batch axis`);
  return axis;
}

function concatShape(layer: Layer, inputs: Shape[], key = "axis"): Shape {
  needInputs(layer, inputs, 1);
  const rank = inputs[0].length;
  if (inputs.some((s) => s.length !== rank)) throw new InspectError(`layer '${layer.name}' (${layer.className}): inputs have different ranks`);
  const axis = concatAxis(layer, rank, key);
  const out = [...inputs[0]];
  for (let i = 1; i < rank; i++) {
    if (i === axis) {
      out[i] = inputs.some((s) => s[i] === null) ? null : inputs.reduce((sum, s) => sum + (s[i] as number), 0);
    } else {
      const known = inputs.map((s) => s[i]).filter((d) => d !== null);
      if (new Set(known).size > 1) {
        throw new InspectError(
          `layer '${layer.name}' (Concatenate): inputs ${inputs.map((s) => `(${s.map((d) => d ?? "None").join(", ")})`).join(", ")} differ outside axis ${axis}`,
        );
      }
      out[i] = known.length > 0 ? known[0] : null;
    }
  }
  const batches = new Set(inputs.map((s) => s[0]).filter((b) => b !== null));
  out[0] = batches.size === 1 ? [...batches][0] : null;
  return out;
}

export const concatenate: LayerKind = {
  classNames: ["Concatenate"],
  outputShapes: (layer, inputs): Shape[] => [concatShape(layer, inputs)],
  forward(layer, inputs, ctx) {
    const outShape = concatShape(layer, inputs.map((x) => x.shape)) as number[];
    const rank = outShape.length;
    const axis = concatAxis(layer, rank);
    const outer = product(outShape.slice(0, axis));
    const inner = product(outShape.slice(axis + 1));
    const out = new Float64Array(product(outShape));
    let pos = 0;
    for (let o = 0; o < outer; o++) {
      for (const x of inputs) {
        const chunk = x.shape[axis] * inner;
        out.set(x.data.subarray(o * chunk, (o + 1) * chunk), pos);
        pos += chunk;
      }
    }
    const y: Value = { shape: outShape, data: out };
    const mask = concatMask(mergeMaskRule(ctx.model), inputs, outShape, axis);
    if (mask) y.mask = mask;
    return [y];
  },
};

function concatMask(rule: MaskRule, inputs: Value[], outShape: number[], axis: number): Uint8Array | undefined {
  if (rule === "none" || outShape.length !== 3 || !inputs.some((x) => x.mask)) return undefined;
  const [B, T] = outShape;
  const mask = new Uint8Array(B * T);
  if (axis === 1) {
    // Along the steps: the masks side by side, ones for unmasked inputs.
    for (let b = 0; b < B; b++) {
      let t0 = 0;
      for (const x of inputs) {
        const Tx = x.shape[1];
        for (let t = 0; t < Tx; t++) mask[b * T + t0 + t] = x.mask ? x.mask[b * Tx + t] : 1;
        t0 += Tx;
      }
    }
    return mask;
  }
  // Along the features: AND (Keras 2) or OR (Keras >= 3.4) over inputs, an unmasked input counting as all ones.
  for (let i = 0; i < B * T; i++) {
    const bits = inputs.map((x) => (x.mask ? x.mask[i] : 1));
    mask[i] = rule === "and" ? (bits.every((v) => v === 1) ? 1 : 0) : bits.some((v) => v === 1) ? 1 : 0;
  }
  return mask;
}

// ---------------------------------------------------------------------------
// Keras 1 Merge
// ---------------------------------------------------------------------------

/**
 * Keras 1's `Merge` layer (1.2.2 keras/engine/topology.py Merge): shown by
 * `summary` for its simple modes, never evaluated: its `mode` may be a Python
 * function, and Keras 2 replaced it with the classes above.
 */
export const keras1Merge: LayerKind = {
  classNames: ["Merge"],
  outputShapes(layer, inputs): Shape[] {
    const mode = layer.config.mode ?? "sum";
    if (mode === "concat") {
      return [concatShape(layer, inputs, "concat_axis")];
    }
    if (mode === "sum" || mode === "mul" || mode === "ave" || mode === "max") return [broadcastShape(layer, inputs)];
    throw new InspectError(`layer '${layer.name}' (Merge): no output shape rule for mode ${JSON.stringify(mode)}`);
  },
};
