/**
 * MultiHeadAttention at inference (keras/src/layers/attention/multi_head_attention.py; tf.keras
 * 2.x keras/layers/attention/multi_head_attention.py). For a query (B, T, Dq) and a value and
 * key (B, S, Dv), (B, S, Dk), with H = num_heads heads:
 *
 *   Q[t, h, :] = query[t]·Wq[:, h, :] + bq[h]      Wq (Dq, H, key_dim),   bq (H, key_dim)
 *   K[s, h, :] = key[s]·Wk[:, h, :] + bk[h]        Wk (Dk, H, key_dim),   bk (H, key_dim)
 *   V[s, h, :] = value[s]·Wv[:, h, :] + bv[h]      Wv (Dv, H, value_dim), bv (H, value_dim)
 *   score[h, t, s] = (Q[t, h] / √key_dim)·K[s, h]   (-1e9 where the attention mask hides s from t)
 *   P[h, t, :] = softmax over s;  C[t, h, :] = Σ_s P[h, t, s]·V[s, h]
 *   out[t] = Σ_h C[t, h]·Wo[h] + bo                  Wo (H, value_dim, Dout), bo (Dout)
 *
 * Dout is query's last dimension unless `output_shape` says otherwise. The sub-layers are
 * EinsumDense layers named query, key, value and attention_output (`query/kernel` in HDF5
 * files, `query_dense/kernel` in .keras archives). With `attention_axes`, inputs of higher
 * rank attend over those axes jointly (softmax over all of them), the others acting like the
 * batch. The attention mask is the AND of the explicit `attention_mask`, the query's Keras mask
 * (B, T, 1), the value's and key's (B, 1, S) and the causal mask (1, T, S), broadcast from the
 * heads axis as Keras' _masked_softmax expands it. Dropout applies only in training and is
 * ignored. The output carries the query's mask.
 *
 * A query position whose whole row is hidden (its own Keras mask is 0) gets uniform weights
 * here, as in tf.keras 2.x and Keras 3's fused path; some Keras 3 versions return zeros there.
 * Either way that position is masked in the output.
 */
import { InspectError, UnsupportedError } from "../errors.js";
import type { Layer, Tensor } from "../model.js";
import { MASKED_SCORE_PENALTY, softmaxInPlace } from "./attention.js";
import type { EvalContext, LayerKind, Shape, Value } from "./kind.js";
import { product, stridesOf } from "./options.js";
import { tensorNamed } from "./recurrent.js";

/** The call's tensors and flags, by name in Keras 3 and tf.keras 2 alike. */
interface MhaCall {
  query: Value;
  value: Value;
  key?: Value;
  valueMask?: Value;
  keyMask?: Value;
  attentionMask?: Value;
  useCausalMask: boolean;
  returnScores: boolean;
}

/** Positional parameters of call() after `query`, by Keras major version. */
const KERAS3_PARAMS = ["value", "key", "query_mask", "value_mask", "key_mask", "attention_mask", "return_attention_scores", "training", "use_causal_mask"];
const KERAS2_PARAMS = ["value", "key", "attention_mask", "return_attention_scores", "training", "use_causal_mask"];

function isValue(v: unknown): v is Value {
  return typeof v === "object" && v !== null && "shape" in v && "data" in v;
}

function mhaCall(layer: Layer, inputs: Value[], ctx: EvalContext): MhaCall {
  const call = ctx.call;
  if (!call) {
    if (inputs.length < 2) throw new InspectError(`layer '${ctx.path}' (MultiHeadAttention) needs a query and a value; it is called on ${inputs.length} tensor(s)`);
    return { query: inputs[0], value: inputs[1], key: inputs[2], useCausalMask: false, returnScores: false };
  }
  const params = ctx.model.kerasMajor >= 3 ? KERAS3_PARAMS : KERAS2_PARAMS;
  const named = (name: string): unknown => {
    if (call.kwargs[name] !== undefined) return call.kwargs[name];
    const at = params.indexOf(name);
    return at >= 0 ? call.args[at + 1] : undefined;
  };
  const query = call.kwargs.query ?? call.args[0];
  const value = named("value");
  if (!isValue(query) || !isValue(value)) {
    throw new InspectError(`layer '${ctx.path}' (MultiHeadAttention): its call in the model config does not name a query and a value tensor`);
  }
  const key = named("key");
  const tensor = (name: string) => {
    const v = named(name);
    return isValue(v) ? v : undefined;
  };
  return {
    query,
    value,
    key: isValue(key) ? key : undefined,
    valueMask: tensor("value_mask"),
    keyMask: tensor("key_mask"),
    attentionMask: tensor("attention_mask"),
    useCausalMask: named("use_causal_mask") === true,
    returnScores: named("return_attention_scores") === true,
  };
}

interface Projection {
  kernel: Tensor;
  bias?: Tensor;
}

/** An EinsumDense sub-layer's tensors: `query/kernel` (HDF5) or `query_dense/kernel` (.keras). */
function projection(layer: Layer, names: string[], useBias: boolean, path: string): Projection {
  const find = (what: string) => names.map((n) => tensorNamed(layer, `${n}/${what}`)).find((t) => t !== undefined);
  const kernel = find("kernel");
  if (!kernel) throw new InspectError(`layer '${path}' (MultiHeadAttention) stores no '${names[0]}/kernel'`);
  const bias = find("bias");
  if (useBias && !bias) throw new InspectError(`layer '${path}' (MultiHeadAttention) has use_bias=True but stores no '${names[0]}/bias'`);
  return { kernel, bias: useBias ? bias : undefined };
}

function expectDims(path: string, t: Tensor, what: string, dims: number[]): void {
  if (t.shape.join() !== dims.join()) {
    throw new InspectError(`layer '${path}' (MultiHeadAttention): ${what} has shape (${t.shape.join(", ")}), expected (${dims.join(", ")}) for this config and input`);
  }
}

/** x (rows, inDim) times kernel (inDim, outDim) plus bias (outDim): one EinsumDense over the last axis. */
function project(x: Float64Array, rows: number, inDim: number, p: Projection, outDim: number, round: (v: number) => number): Float64Array {
  const out = new Float64Array(rows * outDim);
  const w = p.kernel.data;
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let acc = 0;
      for (let d = 0; d < inDim; d++) acc = round(acc + round(x[r * inDim + d] * w[d * outDim + o]));
      out[r * outDim + o] = p.bias ? round(acc + p.bias.data[o]) : acc;
    }
  }
  return out;
}

function positiveInt(layer: Layer, key: string, path: string): number {
  const v = layer.config[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new InspectError(`layer '${path}' (MultiHeadAttention): config '${key}' is ${JSON.stringify(v)}, expected a positive integer`);
  return v;
}

function outputDims(layer: Layer, queryLast: number, path: string): number[] {
  const o = layer.config.output_shape;
  if (o === undefined || o === null) return [queryLast];
  if (typeof o === "number" && Number.isInteger(o) && o > 0) return [o];
  if (Array.isArray(o) && o.length > 0 && o.every((d) => typeof d === "number" && Number.isInteger(d) && d > 0)) return o as number[];
  throw new InspectError(`layer '${path}' (MultiHeadAttention): config 'output_shape' is ${JSON.stringify(o)}, expected an integer or a list of them`);
}

/** Attention axes as axes of the input (1 … n for an input of rank n + 2). */
function attentionAxes(layer: Layer, n: number, path: string): number[] {
  const a = layer.config.attention_axes;
  if (a === undefined || a === null) return Array.from({ length: n }, (_, i) => i + 1);
  const list = typeof a === "number" ? [a] : Array.isArray(a) ? a : [];
  if (list.length === 0 || !list.every((x) => typeof x === "number" && Number.isInteger(x))) {
    throw new InspectError(`layer '${path}' (MultiHeadAttention): config 'attention_axes' is ${JSON.stringify(a)}, expected axes`);
  }
  // Keras counts a negative axis from the projected tensor (rank n + 3): axis + n + 2.
  const axes = (list as number[]).map((x) => (x < 0 ? x + n + 2 : x));
  if (axes.some((x) => x < 1 || x > n) || new Set(axes).size !== axes.length) {
    throw new UnsupportedError(`layer '${path}' (MultiHeadAttention): attention_axes ${JSON.stringify(a)} do not name axes between the batch and the features of a rank-${n + 2} input`);
  }
  return axes.sort((x, y) => x - y);
}

/** A boolean mask broadcast to `shape` as numpy broadcasts (after Keras' expansion): keep[i] for every index. */
function broadcastMask(mask: { shape: number[]; data: ArrayLike<number> }, shape: number[], expansionFromEnd: number, path: string, what: string): Uint8Array {
  const mshape = [...mask.shape];
  // Keras' _masked_softmax inserts axes before the last 2·|attention_axes| ones until the ranks agree.
  while (mshape.length < shape.length) mshape.splice(Math.max(0, mshape.length - expansionFromEnd), 0, 1);
  if (mshape.length !== shape.length || mshape.some((d, i) => d !== 1 && d !== shape[i])) {
    throw new InspectError(`layer '${path}' (MultiHeadAttention): the ${what} has shape (${mask.shape.join(", ")}), which does not broadcast to the attention scores (${shape.join(", ")})`);
  }
  const mstrides = stridesOf(mshape).map((s, i) => (mshape[i] === 1 ? 0 : s));
  const out = new Uint8Array(product(shape));
  // An odometer over the scores' indices, moving the mask's offset along (a broadcast axis moves it by 0).
  const index = new Array<number>(shape.length).fill(0);
  let m = 0;
  for (let flat = 0; flat < out.length; flat++) {
    out[flat] = mask.data[m] !== 0 ? 1 : 0;
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      m += mstrides[ax];
      if (++index[ax] < shape[ax]) break;
      m -= mstrides[ax] * shape[ax];
      index[ax] = 0;
    }
  }
  return out;
}

function mhaForward(layer: Layer, inputs: Value[], ctx: EvalContext): Value[] {
  const path = ctx.path;
  const { round } = ctx;
  const c = mhaCall(layer, inputs, ctx);
  const query = c.query;
  const value = c.value;
  const key = c.key ?? value;
  const rank = query.shape.length;
  if (rank < 3 || value.shape.length !== rank || key.shape.length !== rank) {
    throw new UnsupportedError(`layer '${path}' (MultiHeadAttention): query, value and key have ranks ${query.shape.length}, ${value.shape.length}, ${key.shape.length}; evaluated for equal ranks of 3 or more`);
  }
  const H = positiveInt(layer, "num_heads", path);
  const keyDim = positiveInt(layer, "key_dim", path);
  const valueDim = layer.config.value_dim === null || layer.config.value_dim === undefined ? keyDim : positiveInt(layer, "value_dim", path);
  const useBias = layer.config.use_bias !== false;
  const B = query.shape[0];
  const n = rank - 2;
  const qDims = query.shape.slice(1, -1);
  const kDims = key.shape.slice(1, -1);
  if (value.shape.slice(1, -1).join() !== kDims.join() || value.shape[0] !== B || key.shape[0] !== B) {
    throw new InspectError(`layer '${path}' (MultiHeadAttention): value (${value.shape.join(", ")}) and key (${key.shape.join(", ")}) must agree in every axis but the last, and with the query's batch`);
  }
  const [Dq, Dk, Dv] = [query.shape[rank - 1], key.shape[rank - 1], value.shape[rank - 1]];
  const outDims = outputDims(layer, Dq, path);
  const Dout = product(outDims);
  const wq = projection(layer, ["query", "query_dense"], useBias, path);
  const wk = projection(layer, ["key", "key_dense"], useBias, path);
  const wv = projection(layer, ["value", "value_dense"], useBias, path);
  const wo = projection(layer, ["attention_output", "output_dense"], useBias, path);
  expectDims(path, wq.kernel, "query/kernel", [Dq, H, keyDim]);
  expectDims(path, wk.kernel, "key/kernel", [Dk, H, keyDim]);
  expectDims(path, wv.kernel, "value/kernel", [Dv, H, valueDim]);
  expectDims(path, wo.kernel, "attention_output/kernel", [H, valueDim, ...outDims]);
  if (wq.bias) expectDims(path, wq.bias, "query/bias", [H, keyDim]);
  if (wk.bias) expectDims(path, wk.bias, "key/bias", [H, keyDim]);
  if (wv.bias) expectDims(path, wv.bias, "value/bias", [H, valueDim]);
  if (wo.bias) expectDims(path, wo.bias, "attention_output/bias", outDims);

  // The projections: (B·positions, H·dim), heads side by side.
  const Pq = product(qDims);
  const Pk = product(kDims);
  const Q = project(query.data, B * Pq, Dq, wq, H * keyDim, round);
  const K = project(key.data, B * Pk, Dk, wk, H * keyDim, round);
  const V = project(value.data, B * Pk, Dv, wv, H * valueDim, round);
  const inverseSqrtKeyDim = round(1 / Math.sqrt(keyDim));
  for (let i = 0; i < Q.length; i++) Q[i] = round(Q[i] * inverseSqrtKeyDim);

  // Axes: attention axes A (softmax over the key's positions along them), the rest N like the batch.
  const A = attentionAxes(layer, n, path);
  const N = Array.from({ length: n }, (_, i) => i + 1).filter((ax) => !A.includes(ax));
  for (const ax of N) {
    if (qDims[ax - 1] !== kDims[ax - 1]) throw new InspectError(`layer '${path}' (MultiHeadAttention): axis ${ax} is not an attention axis, so query and key must agree there (${qDims[ax - 1]} and ${kDims[ax - 1]})`);
  }
  const sizes = (dims: number[], axes: number[]) => axes.map((ax) => dims[ax - 1]);
  const C = product(sizes(qDims, N));
  const Tq = product(sizes(qDims, A));
  const Tk = product(sizes(kDims, A));
  // Position (within a sample) of the (N-index c, A-index t) element, for query and key layouts.
  const positions = (dims: number[], count: number): Int32Array => {
    const out = new Int32Array(C * count);
    const strides = stridesOf(dims);
    const nSizes = sizes(dims, N);
    const aSizes = sizes(dims, A);
    for (let ci = 0; ci < C; ci++) {
      for (let t = 0; t < count; t++) {
        let pos = 0;
        let rest = ci;
        for (let m = N.length - 1; m >= 0; m--) {
          pos += (rest % nSizes[m]) * strides[N[m] - 1];
          rest = Math.floor(rest / nSizes[m]);
        }
        rest = t;
        for (let m = A.length - 1; m >= 0; m--) {
          pos += (rest % aSizes[m]) * strides[A[m] - 1];
          rest = Math.floor(rest / aSizes[m]);
        }
        out[ci * count + t] = pos;
      }
    }
    return out;
  };
  const posQ = positions(qDims, Tq);
  const posK = positions(kDims, Tk);

  // Scores (B, N…, H, A of the query…, A of the key…), as Keras lays them out.
  const scoreShape = [B, ...sizes(qDims, N), H, ...sizes(qDims, A), ...sizes(kDims, A)];
  const keep = attentionMask(c, query, key, scoreShape, A.length, rank, path);
  // Every row of weights is kept only when the call returns them; otherwise one row is reused.
  const scores = new Float64Array(c.returnScores ? B * C * H * Tq * Tk : Tk);
  const context = new Float64Array(B * Pq * H * valueDim);
  for (let b = 0; b < B; b++) {
    for (let ci = 0; ci < C; ci++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < Tq; i++) {
          const rowAt = (((b * C + ci) * H + h) * Tq + i) * Tk;
          const row = c.returnScores ? scores.subarray(rowAt, rowAt + Tk) : scores;
          const qo = ((b * Pq + posQ[ci * Tq + i]) * H + h) * keyDim;
          for (let j = 0; j < Tk; j++) {
            const ko = ((b * Pk + posK[ci * Tk + j]) * H + h) * keyDim;
            let s = 0;
            for (let e = 0; e < keyDim; e++) s = round(s + round(Q[qo + e] * K[ko + e]));
            if (keep && keep[rowAt + j] === 0) s = round(s - MASKED_SCORE_PENALTY);
            row[j] = s;
          }
          softmaxInPlace(row, round);
          const co = ((b * Pq + posQ[ci * Tq + i]) * H + h) * valueDim;
          for (let e = 0; e < valueDim; e++) {
            let acc = 0;
            for (let j = 0; j < Tk; j++) acc = round(acc + round(row[j] * V[((b * Pk + posK[ci * Tk + j]) * H + h) * valueDim + e]));
            context[co + e] = acc;
          }
        }
      }
    }
  }
  // The output projection sums over heads and value_dim at once: context rows are (H·value_dim).
  const out = project(context, B * Pq, H * valueDim, wo, Dout, round);
  const result: Value = { shape: [B, ...qDims, ...outDims], data: out, ...(query.mask && rank === 3 ? { mask: query.mask } : {}) };
  return c.returnScores ? [result, { shape: scoreShape, data: scores }] : [result];
}

/** The AND of every mask that applies, over the scores' shape; undefined when none does. */
function attentionMask(c: MhaCall, query: Value, key: Value, scoreShape: number[], attentionRank: number, rank: number, path: string): Uint8Array | undefined {
  const B = query.shape[0];
  const T = query.shape[1];
  const S = key.shape[1];
  const parts: { shape: number[]; data: ArrayLike<number>; what: string }[] = [];
  // Keras masks (batch, steps) exist on 3-D tensors only.
  if (query.mask && rank === 3) parts.push({ shape: [B, T, 1], data: query.mask, what: "query's mask" });
  const valueMask = c.valueMask?.data ?? (rank === 3 ? c.value.mask : undefined);
  if (valueMask) parts.push({ shape: [B, 1, S], data: valueMask, what: "value mask" });
  const keyMask = c.keyMask?.data ?? (rank === 3 && c.key ? c.key.mask : undefined);
  if (keyMask) parts.push({ shape: [B, 1, S], data: keyMask, what: "key mask" });
  if (c.useCausalMask) {
    if (rank !== 3) throw new UnsupportedError(`layer '${path}' (MultiHeadAttention): use_causal_mask is evaluated for 3-D inputs only`);
    const causal = new Uint8Array(T * S);
    for (let t = 0; t < T; t++) for (let s = 0; s <= Math.min(t, S - 1); s++) causal[t * S + s] = 1;
    parts.push({ shape: [1, T, S], data: causal, what: "causal mask" });
  }
  if (c.attentionMask) parts.push({ shape: c.attentionMask.shape, data: c.attentionMask.data, what: "attention_mask" });
  if (parts.length === 0) return undefined;
  const keep = new Uint8Array(product(scoreShape)).fill(1);
  for (const p of parts) {
    const m = broadcastMask(p, scoreShape, 2 * attentionRank, path, p.what);
    for (let i = 0; i < keep.length; i++) keep[i] &= m[i];
  }
  return keep;
}

export const multiHeadAttention: LayerKind = {
  classNames: ["MultiHeadAttention"],
  outputShapes(layer, inputs): Shape[] {
    const q = inputs[0];
    if (!q) return [];
    const last = q[q.length - 1];
    const o = layer.config.output_shape;
    const outDims = o === undefined || o === null ? [last] : typeof o === "number" ? [o] : Array.isArray(o) ? (o as number[]) : [last];
    return [[...q.slice(0, -1), ...outDims]];
  },
  forward: (layer, inputs, ctx) => mhaForward(layer, inputs, ctx),
};
