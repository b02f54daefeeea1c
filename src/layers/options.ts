/**
 * Small helpers the non-recurrent layer kinds share: reading numbers, tuples and
 * axes from a config with a clear error, shape arithmetic, and the Keras version
 * tests some kinds need (mask rules changed between versions).
 */
import { InspectError, UnsupportedError } from "../errors.js";
import type { Layer, Model } from "../model.js";
import type { Shape, Value } from "./kind.js";

export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

/** Product of a shape's dims, or null when one is unknown. */
export function knownProduct(dims: Shape): number | null {
  let p = 1;
  for (const d of dims) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}

function describe(layer: Layer): string {
  return `layer '${layer.name}' (${layer.className})`;
}

/** A config number, the default when absent or null; throws when present but not a number. */
export function numberOption(layer: Layer, key: string, fallback: number): number {
  const v = layer.config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new InspectError(`${describe(layer)}: config '${key}' is ${JSON.stringify(v)}, expected a number`);
  }
  return v;
}

/** A positive integer option that Keras may store as `n` or `[n]` (Conv1D kernel_size, strides, ...). */
export function intOption(layer: Layer, keys: readonly string[], fallback?: number): number {
  for (const key of keys) {
    let v = layer.config[key];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      if (v.length !== 1) throw new InspectError(`${describe(layer)}: config '${key}' is ${JSON.stringify(v)}, expected one integer`);
      v = v[0];
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new InspectError(`${describe(layer)}: config '${key}' is ${JSON.stringify(v)}, expected a positive integer`);
    }
    return v;
  }
  if (fallback !== undefined) return fallback;
  throw new InspectError(`${describe(layer)}: config has no '${keys[0]}'`);
}

/** `padding` in {valid, same, causal}. */
export function paddingOption(layer: Layer, allowed: readonly string[]): string {
  const v = layer.config.padding ?? "valid";
  if (typeof v !== "string" || !allowed.includes(v.toLowerCase())) {
    throw new UnsupportedError(`${describe(layer)}: padding ${JSON.stringify(v)} is not supported (expected ${allowed.join(", ")})`);
  }
  return v.toLowerCase();
}

/** Refuses data_format channels_first, which these 1-D kinds do not implement. */
export function requireChannelsLast(layer: Layer): void {
  const f = layer.config.data_format ?? layer.config.dim_ordering;
  if (f === undefined || f === null || f === "channels_last" || f === "tf") return;
  throw new UnsupportedError(
    `${describe(layer)}: data_format ${JSON.stringify(f)} is not supported; keras-inspect evaluates this layer only with data_format "channels_last"`,
  );
}

/** A Keras axis (batch axis 0; negative from the end) resolved against a rank. */
export function resolveAxis(layer: Layer, axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new InspectError(`${describe(layer)}: ${what} ${axis} is out of range for an input of rank ${rank}`);
  }
  return a;
}

/** Axis option that may be an int or a list of ints (BatchNormalization, LayerNormalization). */
export function axesOption(layer: Layer, rank: number, fallback: number): number[] {
  const v = layer.config.axis ?? fallback;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.some((a) => typeof a !== "number")) {
    throw new InspectError(`${describe(layer)}: config 'axis' is ${JSON.stringify(v)}, expected an integer or a list of integers`);
  }
  const axes = [...new Set((list as number[]).map((a) => resolveAxis(layer, a, rank)))].sort((a, b) => a - b);
  if (axes.includes(0)) throw new UnsupportedError(`${describe(layer)}: normalizing over the batch axis is not supported`);
  return axes;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Transposes a row-major tensor: output axis i is input axis perm[i]. */
export function transpose(data: Float64Array, shape: readonly number[], perm: readonly number[]): { shape: number[]; data: Float64Array } {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = stridesOf(shape);
  const out = new Float64Array(data.length);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i] * inStrides[perm[i]];
    out[o] = data[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** Checks that a Value has the expected rank, naming the layer. */
export function expectRank(layer: Layer, x: Value, rank: number, what: string): void {
  if (x.shape.length !== rank) {
    throw new InspectError(`${describe(layer)} expects ${what} (rank ${rank}), got shape (${x.shape.join(", ")})`);
  }
}

/**
 * Whether the file was written by Keras `major.minor` or later. An unknown version
 * of the same major counts as the newest (configs carry no version otherwise).
 */
export function kerasAtLeast(model: Model, major: number, minor: number): boolean {
  if (model.kerasMajor !== major) return model.kerasMajor > major;
  const m = /^\s*(\d+)\.(\d+)/.exec(model.kerasVersion ?? "");
  if (!m) return true;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/** Output-shape rules of the 1-D sequence kinds need (batch, steps, channels). */
export function requireRank3(layer: Layer, shape: Shape): void {
  if (shape.length !== 3) {
    throw new InspectError(`${describe(layer)} expects a (batch, steps, channels) input, got rank ${shape.length}`);
  }
}
