// Attention, AdditiveAttention and MultiHeadAttention, layer by layer.
//
// 1. Keras 3's own expectations: the constant-weight cases of keras/src/layers/attention/
//    attention_test.py, additive_attention_test.py and multi_head_attention_test.py (each test
//    names the Keras test it repeats), held at the tolerance Keras' test holds them.
// 2. A float32 numpy reference written from Keras' source (test/reference/attention_reference.py)
//    on random cases: masks, causal masks, scales, score modes, attention_axes, value_dim,
//    output_shape. Both sides compute in float32 with values of order 1 and sums of a few
//    dozen terms: 1e-5 absolute covers the different summation orders. Skipped, saying so,
//    where python3 with numpy is absent.
import { afterAll, describe, expect, it } from "vitest";

import { additiveAttention, attention } from "../../src/layers/attention.js";
import type { EvalContext, ResolvedCall, Value } from "../../src/layers/kind.js";
import { multiHeadAttention } from "../../src/layers/multi-head-attention.js";
import type { Layer } from "../../src/model.js";
import { flat, nested, noteNumpySkipped, numpyAvailable, runAttentionReference, stopAttentionReference } from "../reference/attention.js";
import { makeCtx, makeLayer, makeModel, maxAbsDiff, randoms, rng, value, type W } from "./helpers.js";

noteNumpySkipped();
afterAll(stopAttentionReference);

function run(kind: typeof attention, layer: Layer, call: ResolvedCall, kerasMajor: 2 | 3 = 3): Value[] {
  const ctx: EvalContext = { ...makeCtx(makeModel({ kerasMajor })), call };
  return kind.forward!(layer, [], ctx);
}

function close(actual: ArrayLike<number>, expected: number[], atol: number): void {
  const d = maxAbsDiff(actual, expected);
  expect(d, `max |difference| ${d}`).toBeLessThanOrEqual(atol);
}

const q2 = () => value([1, 2, 2], [1, 0, 0, 1]);
const k2 = () => value([1, 2, 2], [0, 1, 1, 0]);
const v2 = () => value([1, 2, 2], [1, 2, 3, 4]);

describe("Keras 3's expectations (atol 1e-3, as the Keras tests hold them)", () => {
  it("attention_test.py test_attention_correctness, score_mode='dot'", () => {
    const [out, scores] = run(attention, makeLayer("Attention", { score_mode: "dot" }), { args: [[q2(), v2(), k2()]], kwargs: { return_attention_scores: true } });
    close(out.data, [2.462, 3.462, 1.538, 2.538], 1e-3);
    close(scores.data, [0.269, 0.731, 0.731, 0.269], 1e-3);
  });

  it("attention_test.py test_attention_correctness, score_mode='concat'", () => {
    const layer = makeLayer("Attention", { score_mode: "concat" }, { concat_score_weight: { shape: [], data: [1] } });
    const [out, scores] = run(attention, layer, { args: [[q2(), v2(), k2()]], kwargs: { return_attention_scores: true } });
    close(out.data, [1.727, 2.727, 2.272, 3.272], 1e-3);
    close(scores.data, [0.636, 0.363, 0.363, 0.636], 1e-3);
  });

  it("attention_test.py test_attention_with_mask (mask=[query_mask, value_mask])", () => {
    const ones = value([1, 2, 2], [1, 1, 1, 1]);
    const mask = value([1, 2], [1, 0]);
    const [out, scores] = run(attention, makeLayer("Attention", {}), { args: [[q2(), ones]], kwargs: { mask: [mask, mask], return_attention_scores: true } });
    close(out.data, [1, 1, 0, 0], 1e-6);
    close(scores.data, [1, 0, 1, 0], 1e-6);
  });

  it("attention_test.py test_attention_with_mask, the masks arriving as the inputs' Keras masks (Keras 3 may record mask=[null, null])", () => {
    for (const kwargs of [{}, { mask: [null, null] }]) {
      const [out] = run(attention, makeLayer("Attention", {}), { args: [[value([1, 2, 2], [1, 0, 0, 1], [1, 0]), value([1, 2, 2], [1, 1, 1, 1], [1, 0])]], kwargs });
      close(out.data, [1, 1, 0, 0], 1e-6);
      expect(Array.from(out.mask ?? [])).toEqual([1, 0]);
    }
  });

  it("attention_test.py test_attention_calculate_score_mask_with_causal_and_vmask: what the mask hides", () => {
    // Scores of 0 everywhere: the weights are uniform over what the mask leaves (tril & v_mask).
    const q = value([1, 3, 1], [0, 0, 0]);
    const v = value([1, 4, 1], [1, 2, 3, 4], [1, 0, 1, 0]);
    const [, scores] = run(attention, makeLayer("Attention", {}), { args: [[q, v]], kwargs: { use_causal_mask: true, return_attention_scores: true } });
    close(scores.data, [1, 0, 0, 0, 1, 0, 0, 0, 0.5, 0, 0.5, 0], 1e-6);
  });

  it("additive_attention_test.py test_attention_correctness (use_scale=False)", () => {
    const [out, scores] = run(additiveAttention, makeLayer("AdditiveAttention", { use_scale: false }), { args: [[q2(), v2(), k2()]], kwargs: { return_attention_scores: true } });
    close(out.data, [1.727, 2.727, 2.272, 3.272], 1e-3);
    close(scores.data, [0.636, 0.363, 0.363, 0.636], 1e-3);
  });

  it("additive_attention_test.py test_attention_with_mask", () => {
    const ones = value([1, 2, 2], [1, 1, 1, 1]);
    const mask = value([1, 2], [1, 0]);
    const [out, scores] = run(additiveAttention, makeLayer("AdditiveAttention", { use_scale: false }), { args: [[q2(), ones]], kwargs: { mask: [mask, mask], return_attention_scores: true } });
    close(out.data, [1, 1, 0, 0], 1e-6);
    close(scores.data, [1, 0, 1, 0], 1e-6);
  });

  it("multi_head_attention_test.py test_correctness (no flash attention; Keras computes it in float16, atol 1e-2)", () => {
    const H = 8;
    const d = 8;
    // kernel = repeat(identity[:, None, :], num_heads, axis=1); all biases 0; set_weights([kernel, bias] * 3 + [kernel, output_bias]).
    const kernel: number[] = [];
    for (let a = 0; a < d; a++) for (let h = 0; h < H; h++) for (let c = 0; c < d; c++) kernel.push(a === c ? 1 : 0);
    const w = (shape: number[], data: number[]): W => ({ shape, data });
    const layer = makeLayer("MultiHeadAttention", { num_heads: H, key_dim: d }, {
      "query/kernel": w([d, H, d], kernel),
      "query/bias": w([H, d], new Array(H * d).fill(0)),
      "key/kernel": w([d, H, d], kernel),
      "key/bias": w([H, d], new Array(H * d).fill(0)),
      "value/kernel": w([d, H, d], kernel),
      "value/bias": w([H, d], new Array(H * d).fill(0)),
      "attention_output/kernel": w([H, d, d], kernel),
      "attention_output/bias": w([d], new Array(d).fill(0)),
    });
    const identity = Array.from({ length: d * d }, (_, i) => (Math.floor(i / d) === i % d ? 1 : 0));
    const query = value([1, d, d], identity);
    const key = value([1, d, d], identity);
    const val = value([1, d, d], Array.from({ length: d * d }, (_, i) => i / 100));
    const [out, scores] = run(multiHeadAttention, layer, { args: [], kwargs: { query, value: val, key, return_attention_scores: true } });
    const expectedRow = [2.406, 2.44, 2.473, 2.504, 2.535, 2.568, 2.602, 2.633];
    expect(out.shape).toEqual([1, d, d]);
    close(out.data, expectedRow.flatMap((x) => new Array(d).fill(x)), 1e-2);
    expect(scores.shape).toEqual([1, H, d, d]);
    const scoreRow = (t: number) => Array.from({ length: d }, (_, s) => (s === t ? 0.1691 : 0.1187));
    close(scores.data, Array.from({ length: H }, () => Array.from({ length: d }, (_, t) => scoreRow(t)).flat()).flat(), 1e-2);
  });
});

/** A MultiHeadAttention layer with random weights (names as HDF5 files store them, or as .keras archives do). */
function randomMha(r: () => number, o: { H: number; keyDim: number; valueDim: number; Dq: number; Dv: number; Dk?: number; outDims?: number[]; useBias?: boolean; axes?: number[] | number; keras3Names?: boolean }) {
  const Dk = o.Dk ?? o.Dv;
  const outDims = o.outDims ?? [o.Dq];
  const useBias = o.useBias ?? true;
  const weights: Record<string, W> = {};
  const put = (part: string, kernel: number[], bias: number[]) => {
    const name = o.keras3Names ? `${part === "attention_output" ? "output" : part}_dense` : part;
    weights[`${name}/kernel`] = { shape: kernel, data: randoms(r, kernel.reduce((a, b) => a * b, 1)) };
    if (useBias) weights[`${name}/bias`] = { shape: bias, data: randoms(r, bias.reduce((a, b) => a * b, 1), -0.5, 0.5) };
  };
  put("query", [o.Dq, o.H, o.keyDim], [o.H, o.keyDim]);
  put("key", [Dk, o.H, o.keyDim], [o.H, o.keyDim]);
  put("value", [o.Dv, o.H, o.valueDim], [o.H, o.valueDim]);
  put("attention_output", [o.H, o.valueDim, ...outDims], outDims);
  const config = { num_heads: o.H, key_dim: o.keyDim, value_dim: o.valueDim, use_bias: useBias, output_shape: o.outDims ?? null, attention_axes: o.axes ?? null };
  const layer = makeLayer("MultiHeadAttention", config, weights);
  // The reference takes the HDF5 names.
  const refWeights = Object.fromEntries(
    Object.entries(weights).map(([n, w]) => [n.replace(/^output_dense/, "attention_output").replace(/_dense\//, "/"), nested(w.data, w.shape)]),
  );
  return { layer, config, refWeights };
}

const randomValue = (r: () => number, shape: number[], mask?: number[]) => value(shape, randoms(r, shape.reduce((a, b) => a * b, 1)), mask);
const maskOf = (v: Value) => (v.mask ? nested(v.mask, [v.shape[0], v.shape[1]]) : null);

describe.skipIf(!numpyAvailable())("against the numpy reference written from Keras' source (float32, atol 1e-5)", () => {
  const ATOL = 1e-5;

  for (const c of [
    { name: "dot", config: { score_mode: "dot" }, weights: {} },
    { name: "dot, use_scale", config: { score_mode: "dot", use_scale: true }, weights: { scale: { shape: [], data: [0.7] } } },
    { name: "concat", config: { score_mode: "concat" }, weights: { concat_score_weight: { shape: [], data: [1.3] } } },
    { name: "concat, use_scale", config: { score_mode: "concat", use_scale: true }, weights: { scale: { shape: [], data: [0.6] }, concat_score_weight: { shape: [], data: [1.3] } } },
  ] as { name: string; config: Record<string, unknown>; weights: Record<string, W> }[]) {
    it(`Attention ${c.name}: separate key, value and query masks, causal mask`, async () => {
      const r = rng(11);
      const q = randomValue(r, [3, 4, 5], [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1]);
      const v = randomValue(r, [3, 6, 3], [1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
      const k = randomValue(r, [3, 6, 5]);
      for (const causal of [false, true]) {
        const [out, scores] = run(attention, makeLayer("Attention", c.config, c.weights), { args: [[q, v, k]], kwargs: { use_causal_mask: causal, return_attention_scores: true } });
        const ref = await runAttentionReference({
          layer: "attention",
          score_mode: c.config.score_mode,
          scale: c.weights.scale?.data[0] ?? null,
          concat_score_weight: c.weights.concat_score_weight?.data[0] ?? null,
          query: nested(q.data, q.shape),
          value: nested(v.data, v.shape),
          key: nested(k.data, k.shape),
          query_mask: maskOf(q),
          value_mask: maskOf(v),
          causal,
        });
        close(out.data, flat(ref.output), ATOL);
        close(scores.data, flat(ref.scores), ATOL);
      }
    });
  }

  it("Attention on 2-D tensors (tf.keras): the batch is scored against itself", async () => {
    const r = rng(12);
    const q = randomValue(r, [7, 5]);
    const [out, scores] = run(attention, makeLayer("Attention", { score_mode: "dot" }), { args: [[q, q]], kwargs: { return_attention_scores: true } }, 2);
    expect(scores.shape).toEqual([7, 7]);
    const ref = await runAttentionReference({ layer: "attention", score_mode: "dot", query: nested(q.data, q.shape), value: nested(q.data, q.shape) });
    close(out.data, flat(ref.output), ATOL);
  });

  it("AdditiveAttention with and without scale, masks, causal mask", async () => {
    const r = rng(13);
    const q = randomValue(r, [2, 3, 4], [1, 1, 0, 1, 1, 1]);
    const v = randomValue(r, [2, 5, 2], [1, 1, 1, 0, 1, 1, 0, 1, 1, 1]);
    const k = randomValue(r, [2, 5, 4]);
    const scale = randoms(r, 4);
    for (const [useScale, causal] of [[true, false], [false, true], [true, true]]) {
      const layer = makeLayer("AdditiveAttention", { use_scale: useScale }, useScale ? { scale: { shape: [4], data: scale } } : {});
      const [out] = run(additiveAttention, layer, { args: [[q, v, k]], kwargs: { use_causal_mask: causal } });
      const ref = await runAttentionReference({
        layer: "additive",
        scale: useScale ? Array.from(scale) : null,
        query: nested(q.data, q.shape),
        value: nested(v.data, v.shape),
        key: nested(k.data, k.shape),
        query_mask: maskOf(q),
        value_mask: maskOf(v),
        causal,
      });
      close(out.data, flat(ref.output), ATOL);
    }
  });

  for (const c of [
    { name: "self-attention, 3 heads", o: { H: 3, keyDim: 4, valueDim: 4, Dq: 5, Dv: 5 }, q: [2, 4, 5], v: [2, 4, 5], self: true },
    { name: "cross-attention, value_dim ≠ key_dim, separate key, no bias", o: { H: 2, keyDim: 3, valueDim: 2, Dq: 4, Dv: 6, Dk: 3, useBias: false }, q: [2, 3, 4], v: [2, 5, 6], k: [2, 5, 3] },
    { name: "output_shape (2, 3), .keras sub-layer names", o: { H: 2, keyDim: 2, valueDim: 3, Dq: 4, Dv: 4, outDims: [2, 3], keras3Names: true }, q: [2, 3, 4], v: [2, 2, 4] },
    { name: "4-D inputs, default attention_axes (1, 2)", o: { H: 2, keyDim: 2, valueDim: 2, Dq: 3, Dv: 3 }, q: [2, 3, 2, 3], v: [2, 2, 4, 3] },
    { name: "4-D inputs, attention_axes (2,)", o: { H: 2, keyDim: 2, valueDim: 2, Dq: 3, Dv: 3, axes: [2] }, q: [2, 3, 4, 3], v: [2, 3, 2, 3] },
    { name: "5-D inputs, attention_axes (2, 3)", o: { H: 2, keyDim: 2, valueDim: 2, Dq: 3, Dv: 3, axes: [2, 3] }, q: [2, 2, 3, 2, 3], v: [2, 2, 2, 3, 3] },
  ] as { name: string; o: Parameters<typeof randomMha>[1]; q: number[]; v: number[]; k?: number[]; self?: boolean }[]) {
    it(`MultiHeadAttention ${c.name}`, async () => {
      const r = rng(21);
      const { layer, config, refWeights } = randomMha(r, c.o);
      const q = randomValue(r, c.q);
      const v = c.self ? q : randomValue(r, c.v);
      const k = c.k ? randomValue(r, c.k) : undefined;
      const [out, scores] = run(multiHeadAttention, layer, { args: [q, v, ...(k ? [k] : [])], kwargs: { return_attention_scores: true } });
      const ref = await runAttentionReference({
        layer: "mha",
        num_heads: config.num_heads,
        key_dim: config.key_dim,
        value_dim: config.value_dim,
        attention_axes: config.attention_axes,
        weights: refWeights,
        query: nested(q.data, q.shape),
        value: nested(v.data, v.shape),
        key: k ? nested(k.data, k.shape) : null,
      });
      close(out.data, flat(ref.output), ATOL);
      close(scores.data, flat(ref.scores), ATOL);
    });
  }

  it("MultiHeadAttention with the query's and value's Keras masks, a causal mask and an attention_mask together", async () => {
    const r = rng(22);
    const { layer, config, refWeights } = randomMha(r, { H: 2, keyDim: 3, valueDim: 3, Dq: 4, Dv: 4 });
    const q = randomValue(r, [2, 5, 4], [1, 1, 1, 1, 0, 1, 1, 0, 0, 0]);
    const v = randomValue(r, [2, 5, 4], [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    const am = value([5, 5], Array.from({ length: 25 }, (_, i) => (i % 7 === 3 ? 0 : 1)));
    const [out] = run(multiHeadAttention, layer, { args: [q, v], kwargs: { use_causal_mask: true, attention_mask: am } });
    const ref = await runAttentionReference({
      layer: "mha",
      num_heads: config.num_heads,
      key_dim: config.key_dim,
      value_dim: config.value_dim,
      attention_axes: null,
      weights: refWeights,
      query: nested(q.data, q.shape),
      value: nested(v.data, v.shape),
      query_mask: maskOf(q),
      value_mask: maskOf(v),
      attention_mask: nested(am.data, am.shape),
      causal: true,
    });
    close(out.data, flat(ref.output), ATOL);
    expect(Array.from(out.mask ?? [])).toEqual(Array.from(q.mask!));
  });
});

describe("MultiHeadAttention: Keras 3 test cases that compare the layer with itself", () => {
  it("multi_head_attention_test.py test_masking: Keras masks equal the attention_mask they imply (causal and not)", () => {
    const r = rng(31);
    const { layer } = randomMha(r, { H: 2, keyDim: 2, valueDim: 2, Dq: 8, Dv: 8 });
    const qMask = [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
    const vMask = [1, 1, 0, 1, 0, 0, 1, 1, 1];
    const q = randomValue(r, [3, 5, 8], qMask);
    const v = randomValue(r, [3, 3, 8], vMask);
    for (const causal of [false, true]) {
      const [auto] = run(multiHeadAttention, layer, { args: [], kwargs: { query: q, value: v, use_causal_mask: causal } });
      // mask[b, t, s] = q_mask[b, t] & v_mask[b, s] (& s <= t), as the Keras test writes it out.
      const mask: number[] = [];
      for (let b = 0; b < 3; b++) for (let t = 0; t < 5; t++) for (let s = 0; s < 3; s++) mask.push(qMask[b * 5 + t] & vMask[b * 3 + s] & (!causal || s <= t ? 1 : 0));
      const plain = (x: Value) => value(x.shape, x.data);
      const [manual] = run(multiHeadAttention, layer, { args: [], kwargs: { query: plain(q), value: plain(v), attention_mask: value([3, 5, 3], mask) } });
      close(auto.data, Array.from(manual.data), 1e-6);
    }
  });

  it("multi_head_attention_test.py test_masking_with_different_shapes: masks (5, 5), (2, 5, 5), (2, 2, 5, 5) agree", () => {
    const r = rng(32);
    const { layer } = randomMha(r, { H: 2, keyDim: 4, valueDim: 4, Dq: 8, Dv: 8 });
    const x = randomValue(r, [2, 5, 8]);
    const tril = Array.from({ length: 25 }, (_, i) => (i % 5 <= Math.floor(i / 5) ? 1 : 0));
    const outs = [value([5, 5], tril), value([2, 5, 5], [...tril, ...tril]), value([2, 2, 5, 5], [...tril, ...tril, ...tril, ...tril])].map(
      (m) => run(multiHeadAttention, layer, { args: [], kwargs: { query: x, value: x, attention_mask: m } })[0],
    );
    close(outs[1].data, Array.from(outs[0].data), 1e-6);
    close(outs[2].data, Array.from(outs[0].data), 1e-6);
  });

  it("multi_head_attention_test.py test_attention_axes_negative_indexing: attention_axes -2 is 2 for a 4-D input", () => {
    const r = rng(33);
    const { layer } = randomMha(r, { H: 2, keyDim: 4, valueDim: 4, Dq: 4, Dv: 4, axes: 2 });
    const negative = { ...layer, config: { ...layer.config, attention_axes: -2 } };
    const x = randomValue(r, [2, 3, 8, 4]);
    const [a, sa] = run(multiHeadAttention, layer, { args: [x, x], kwargs: { return_attention_scores: true } });
    const [b, sb] = run(multiHeadAttention, negative, { args: [x, x], kwargs: { return_attention_scores: true } });
    expect(sa.shape).toEqual([2, 3, 2, 8, 8]);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(Array.from(sb.data)).toEqual(Array.from(sa.data));
  });

  it("tf.keras 2 records mha(q, v) as the first argument plus kwargs {value}; positional Keras 3 args read by name", () => {
    const r = rng(34);
    const { layer } = randomMha(r, { H: 2, keyDim: 2, valueDim: 2, Dq: 3, Dv: 3 });
    const q = randomValue(r, [1, 4, 3]);
    const v = randomValue(r, [1, 2, 3]);
    const [k2out] = run(multiHeadAttention, layer, { args: [q], kwargs: { value: v } }, 2);
    const [k3out] = run(multiHeadAttention, layer, { args: [q, v], kwargs: { query_mask: null, value_mask: null } }, 3);
    expect(Array.from(k2out.data)).toEqual(Array.from(k3out.data));
  });
});
