/**
 * Attention (Luong, dot-product) and AdditiveAttention (Bahdanau), as Keras computes them
 * at inference (keras/src/layers/attention/attention.py and additive_attention.py; tf.keras
 * 2.x keras/layers/attention/base_dense_attention.py, attention.py, additive_attention.py):
 *
 *   inputs [query (…, Tq, dim), value (…, Tv, dv), key (…, Tv, dim) = value]
 *   Attention, score_mode "dot":     score[i, j] = scale · Σ_d q[i, d]·k[j, d]
 *   Attention, score_mode "concat":  score[i, j] = concat_score_weight · Σ_d tanh(scale · (q[i, d] + k[j, d]))
 *   AdditiveAttention:               score[i, j] = Σ_d scale[d] · tanh(q[i, d] + k[j, d])
 *   (scale is 1 without use_scale: a scalar for Attention, one per feature for AdditiveAttention)
 *   score[i, j] -= 1e9 where the value mask or the causal mask (j > i) hides position j
 *   weights = softmax over j;  out[i] = Σ_j weights[i, j]·v[j];  out[i] = 0 where the query mask is 0
 *
 * The matrices are the last two axes: every axis before them indexes a separate product, as
 * matmul does. tf.keras 2.x accepts 2-D inputs (batch, dim): then Tq and Tv are the *batch*,
 * and each sample is scored against every sample of the same call (see predict's batching).
 * Dropout applies only in training and is ignored. The output carries the query's mask.
 * `return_attention_scores=True` adds the weights as a second output.
 */
import { InspectError, UnsupportedError } from "../errors.js";
import type { Layer } from "../model.js";
import type { EvalContext, LayerKind, Shape, Value } from "./kind.js";
import { product } from "./options.js";
import { tensorNamed } from "./recurrent.js";

/** What a call of an attention layer works on, from its recorded arguments or its inputs. */
export interface AttentionCall {
  query: Value;
  value: Value;
  key: Value;
  /** (batch, Tq) and (batch, Tv), 1 = keep: the `mask=[…]` argument's tensors, else the inputs' Keras masks. */
  queryMask?: Uint8Array;
  valueMask?: Uint8Array;
  useCausalMask: boolean;
  returnScores: boolean;
}

function isValue(v: unknown): v is Value {
  return typeof v === "object" && v !== null && "shape" in v && "data" in v;
}

/** A mask given as a tensor (batch, T) of 0/1 (or booleans read as numbers). */
function maskOf(v: unknown): Uint8Array | undefined {
  if (!isValue(v)) return undefined;
  return Uint8Array.from(v.data, (x) => (x !== 0 ? 1 : 0));
}

/** Query, value and key of a call: `layer([q, v, k], mask=[…], use_causal_mask=…)` in Keras 2 and 3 alike. */
export function attentionCall(layer: Layer, inputs: Value[], ctx: EvalContext): AttentionCall {
  const call = ctx.call;
  const first = call?.args[0];
  const list = Array.isArray(first) ? first.filter(isValue) : inputs;
  if (list.length < 2 || list.length > 3) {
    throw new InspectError(`layer '${ctx.path}' (${layer.className}) is called on ${list.length} tensor(s); it takes [query, value] or [query, value, key]`);
  }
  const [query, value] = list;
  const key = list[2] ?? value;
  const kwargs = call?.kwargs ?? {};
  // Keras 3 may record the mask positionally: call(inputs, mask, training, return_attention_scores, use_causal_mask).
  const given = kwargs.mask ?? call?.args[1];
  const masks = Array.isArray(given) ? given : undefined;
  const flag = (name: string, position: number) => (kwargs[name] ?? call?.args[position]) === true;
  return {
    query,
    value,
    key,
    // Keras 3 records the masks it filled in at construction: [null, null] where the inputs had none.
    queryMask: maskOf(masks?.[0]) ?? query.mask,
    valueMask: maskOf(masks?.[1]) ?? value.mask,
    // tf.keras 2.1-2.9 also had a `causal` constructor argument, replaced by use_causal_mask.
    useCausalMask: flag("use_causal_mask", 4) || layer.config.causal === true,
    returnScores: flag("return_attention_scores", 3),
  };
}

/** Softmax of row[0 … n) in place, max-shifted as Keras' softmax is. */
export function softmaxInPlace(row: Float64Array, round: (x: number) => number): void {
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let sum = 0;
  for (let j = 0; j < row.length; j++) {
    row[j] = round(Math.exp(round(row[j] - max)));
    sum = round(sum + row[j]);
  }
  for (let j = 0; j < row.length; j++) row[j] = round(row[j] / sum);
}

/** Keras subtracts this from a hidden position's score (65504 under float16, which we do not compute in). */
export const MASKED_SCORE_PENALTY = 1e9;

type ScoreFn = (q: Float64Array, qo: number, k: Float64Array, ko: number, dim: number) => number;

function scalarWeight(layer: Layer, name: string): number | undefined {
  const t = tensorNamed(layer, name);
  if (!t) return undefined;
  if (t.data.length !== 1) throw new InspectError(`layer '${layer.name}' (${layer.className}): '${name}' has ${t.data.length} values, expected a scalar`);
  return t.data[0];
}

/** Attention's score of one query row against one key row. */
function dotProductScore(layer: Layer, ctx: EvalContext): ScoreFn {
  const { round } = ctx;
  const mode = layer.config.score_mode ?? "dot";
  const useScale = layer.config.use_scale === true;
  const scale = useScale ? scalarWeight(layer, "scale") : undefined;
  if (useScale && scale === undefined) throw new InspectError(`layer '${ctx.path}' (Attention) has use_scale=True but stores no 'scale'`);
  if (mode === "dot") {
    return (q, qo, k, ko, dim) => {
      let acc = 0;
      for (let d = 0; d < dim; d++) acc = round(acc + round(q[qo + d] * k[ko + d]));
      return scale === undefined ? acc : round(acc * scale);
    };
  }
  if (mode === "concat") {
    const weight = scalarWeight(layer, "concat_score_weight");
    if (weight === undefined) throw new InspectError(`layer '${ctx.path}' (Attention) has score_mode='concat' but stores no 'concat_score_weight'`);
    return (q, qo, k, ko, dim) => {
      let acc = 0;
      for (let d = 0; d < dim; d++) {
        const sum = round(q[qo + d] + k[ko + d]);
        acc = round(acc + round(Math.tanh(scale === undefined ? sum : round(scale * sum))));
      }
      return round(weight * acc);
    };
  }
  throw new UnsupportedError(`layer '${ctx.path}' (Attention): score_mode ${JSON.stringify(mode)} is not one Keras has ('dot', 'concat')`);
}

/** AdditiveAttention's score: Σ_d scale[d]·tanh(q[d] + k[d]). */
function additiveScore(layer: Layer, ctx: EvalContext, dim: number): ScoreFn {
  const { round } = ctx;
  const useScale = layer.config.use_scale !== false;
  const scale = useScale ? tensorNamed(layer, "scale") : undefined;
  if (useScale && !scale) throw new InspectError(`layer '${ctx.path}' (AdditiveAttention) has use_scale=True but stores no 'scale'`);
  if (scale && scale.data.length !== dim) {
    throw new InspectError(`layer '${ctx.path}' (AdditiveAttention): 'scale' has ${scale.data.length} values, the query has ${dim} features`);
  }
  return (q, qo, k, ko, n) => {
    let acc = 0;
    for (let d = 0; d < n; d++) {
      const t = round(Math.tanh(round(q[qo + d] + k[ko + d])));
      acc = round(acc + (scale ? round(scale.data[d] * t) : t));
    }
    return acc;
  };
}

function attentionForward(layer: Layer, inputs: Value[], ctx: EvalContext, additive: boolean): Value[] {
  const c = attentionCall(layer, inputs, ctx);
  const { query: q, value: v, key: k } = c;
  const rank = q.shape.length;
  if (rank < 2 || v.shape.length !== rank || k.shape.length !== rank) {
    throw new InspectError(`layer '${ctx.path}' (${layer.className}): query, value and key have ranks ${q.shape.length}, ${v.shape.length}, ${k.shape.length}; they must be equal and at least 2`);
  }
  const lead = q.shape.slice(0, -2);
  const [Tq, dim] = q.shape.slice(-2);
  const [Tv, dv] = v.shape.slice(-2);
  if (lead.join() !== k.shape.slice(0, -2).join() || lead.join() !== v.shape.slice(0, -2).join() || k.shape[rank - 2] !== Tv || k.shape[rank - 1] !== dim) {
    throw new InspectError(`layer '${ctx.path}' (${layer.className}): query (${q.shape.join(", ")}), value (${v.shape.join(", ")}) and key (${k.shape.join(", ")}) do not fit together`);
  }
  const L = product(lead);
  const score = additive ? additiveScore(layer, ctx, dim) : dotProductScore(layer, ctx);
  const { round } = ctx;
  // Keras masks are (batch, T); they apply where the matrices are per sample (rank 3).
  const valueMask = c.valueMask && c.valueMask.length === L * Tv ? c.valueMask : undefined;
  const queryMask = c.queryMask && c.queryMask.length === L * Tq ? c.queryMask : undefined;
  const out = new Float64Array(L * Tq * dv);
  const weights = new Float64Array(L * Tq * Tv);
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < Tq; i++) {
      const row = weights.subarray((l * Tq + i) * Tv, (l * Tq + i + 1) * Tv);
      for (let j = 0; j < Tv; j++) {
        let s = score(q.data, (l * Tq + i) * dim, k.data, (l * Tv + j) * dim, dim);
        const hidden = (valueMask !== undefined && valueMask[l * Tv + j] === 0) || (c.useCausalMask && j > i);
        if (hidden) s = round(s - MASKED_SCORE_PENALTY);
        row[j] = s;
      }
      softmaxInPlace(row, round);
      const keep = queryMask === undefined || queryMask[l * Tq + i] !== 0;
      for (let e = 0; e < dv; e++) {
        let acc = 0;
        for (let j = 0; j < Tv; j++) acc = round(acc + round(row[j] * v.data[(l * Tv + j) * dv + e]));
        out[(l * Tq + i) * dv + e] = keep ? acc : 0;
      }
    }
  }
  const result: Value = { shape: [...lead, Tq, dv], data: out, ...(rank === 3 && c.queryMask ? { mask: c.queryMask } : {}) };
  return c.returnScores ? [result, { shape: [...lead, Tq, Tv], data: weights }] : [result];
}

function outputShapes(inputs: Shape[]): Shape[] {
  const [q, v] = inputs;
  if (!q || !v) return [];
  return [[...q.slice(0, -1), v[v.length - 1]]];
}

export const attention: LayerKind = {
  classNames: ["Attention"],
  outputShapes: (_layer, inputs) => outputShapes(inputs),
  forward: (layer, inputs, ctx) => attentionForward(layer, inputs, ctx, false),
};

export const additiveAttention: LayerKind = {
  classNames: ["AdditiveAttention"],
  outputShapes: (_layer, inputs) => outputShapes(inputs),
  forward: (layer, inputs, ctx) => attentionForward(layer, inputs, ctx, true),
};
