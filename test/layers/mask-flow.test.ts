// How a mask travels through predict: Embedding(mask_zero) makes it, Dropout / Dense /
// activation layers keep it, the recurrent layer consumes it, Flatten / Conv1D /
// GlobalAveragePooling1D drop it. References: tfjs Sequential models (tfjs propagates
// masks through model.predict and skips masked steps in its LSTM the way Keras does
// when the initial state is zero) and, for the masked average, the formula of
// keras/src/layers/pooling/global_average_pooling1d.py. Float32 both sides: 1e-5.
import { beforeAll, describe, expect, it } from "vitest";

import { predict } from "../../src/eval/predict.js";
import type { Layer, Model } from "../../src/model.js";
import { ATOL, makeLayer, makeModel, maxAbsDiff, randoms, rng, tf, tfReady, value } from "./helpers.js";

beforeAll(tfReady);

const VOCAB = 6;
const DIM = 3;
const UNITS = 4;
const r = rng(42);
const table = randoms(r, VOCAB * DIM);
const lstmW = { kernel: randoms(r, DIM * 4 * UNITS), recurrent: randoms(r, UNITS * 4 * UNITS), bias: randoms(r, 4 * UNITS) };
const denseW = { kernel: randoms(r, DIM * DIM), bias: randoms(r, DIM) };
// Right-padded token ids: sample 0 has 3 real steps, sample 1 has 5, sample 2 has 1.
const IDS = [4, 2, 5, 0, 0, 1, 3, 3, 2, 5, 2, 0, 0, 0, 0];

function emb(): Layer {
  return makeLayer("Embedding", { input_dim: VOCAB, output_dim: DIM, mask_zero: true, batch_input_shape: [null, 5] }, { embeddings: { shape: [VOCAB, DIM], data: table } }, "emb");
}
function lstm(): Layer {
  return makeLayer(
    "LSTM",
    { units: UNITS, activation: "tanh", recurrent_activation: "sigmoid", use_bias: true, return_sequences: false },
    { kernel: { shape: [DIM, 4 * UNITS], data: lstmW.kernel }, recurrent_kernel: { shape: [UNITS, 4 * UNITS], data: lstmW.recurrent }, bias: { shape: [4 * UNITS], data: lstmW.bias } },
    "lstm",
  );
}
function dense(): Layer {
  return makeLayer("Dense", { units: DIM, activation: "tanh" }, { kernel: { shape: [DIM, DIM], data: denseW.kernel }, bias: { shape: [DIM], data: denseW.bias } }, "dense");
}
function sequential(layers: Layer[]): Model {
  return makeModel({ modelClass: "Sequential", layers, kerasMajor: 3, kerasVersion: "3.9.2" });
}
function run(model: Model) {
  return predict(model, [value([3, 5], IDS)], { dtype: "float32" }).outputs[0].value;
}

const zeros = { kernelInitializer: "zeros", recurrentInitializer: "zeros", biasInitializer: "zeros" } as const;
function tfEmb() {
  const l = tf.layers.embedding({ inputDim: VOCAB, outputDim: DIM, maskZero: true, inputShape: [5], embeddingsInitializer: "zeros" });
  return { l, w: [tf.tensor(Float32Array.from(table), [VOCAB, DIM])] };
}
function tfLstm() {
  const l = tf.layers.lstm({ units: UNITS, activation: "tanh", recurrentActivation: "sigmoid", unitForgetBias: false, ...zeros });
  return { l, w: [tf.tensor(Float32Array.from(lstmW.kernel), [DIM, 4 * UNITS]), tf.tensor(Float32Array.from(lstmW.recurrent), [UNITS, 4 * UNITS]), tf.tensor(Float32Array.from(lstmW.bias), [4 * UNITS])] };
}
function tfDense() {
  const l = tf.layers.dense({ units: DIM, activation: "tanh", ...zeros });
  return { l, w: [tf.tensor(Float32Array.from(denseW.kernel), [DIM, DIM]), tf.tensor(Float32Array.from(denseW.bias), [DIM])] };
}
function tfRun(parts: { l: tf.layers.Layer; w: tf.Tensor[] }[]): Float32Array {
  const m = tf.sequential({ layers: parts.map((p) => p.l) });
  for (const p of parts) if (p.w.length) p.l.setWeights(p.w);
  return (m.predict(tf.tensor2d(IDS, [3, 5])) as tf.Tensor).dataSync() as Float32Array;
}

describe("masks through predict", () => {
  it("Embedding(mask_zero) -> LSTM skips the padded steps, as in tfjs", () => {
    const ours = run(sequential([emb(), lstm()]));
    const ref = tfRun([tfEmb(), tfLstm()]);
    expect(maxAbsDiff(ours.data, ref)).toBeLessThanOrEqual(ATOL);
    // And the mask mattered: without it the result differs.
    const unmasked = run(sequential([makeLayer("Embedding", { ...emb().config, mask_zero: false }, { embeddings: { shape: [VOCAB, DIM], data: table } }, "emb"), lstm()]));
    expect(maxAbsDiff(ours.data, unmasked.data)).toBeGreaterThan(1e-3);
  });

  it("Dropout, Dense, LeakyReLU, LayerNormalization and BatchNormalization keep the mask on its way to the LSTM", () => {
    const bn = makeLayer("BatchNormalization", { epsilon: 0.001 }, {
      gamma: { shape: [DIM], data: [1, 1, 1] },
      beta: { shape: [DIM], data: [0, 0, 0] },
      moving_mean: { shape: [DIM], data: [0, 0, 0] },
      moving_variance: { shape: [DIM], data: [1, 1, 1] },
    }, "bn");
    const ln = makeLayer("LayerNormalization", { epsilon: 0.001, center: false, scale: false }, {}, "ln");
    const ours = run(sequential([emb(), makeLayer("Dropout", { rate: 0.5 }, {}, "drop"), dense(), makeLayer("LeakyReLU", { alpha: 0.3 }, {}, "lrelu"), ln, bn, lstm()]));
    const ref = tfRun([
      tfEmb(),
      { l: tf.layers.dropout({ rate: 0.5 }), w: [] },
      tfDense(),
      { l: tf.layers.leakyReLU({ alpha: 0.3 }), w: [] },
      { l: tf.layers.layerNormalization({ epsilon: 0.001, center: false, scale: false }), w: [] },
      { l: tf.layers.batchNormalization({ epsilon: 0.001 }), w: [tf.ones([DIM]), tf.zeros([DIM]), tf.zeros([DIM]), tf.ones([DIM])] },
      tfLstm(),
    ]);
    expect(maxAbsDiff(ours.data, ref)).toBeLessThanOrEqual(ATOL);
  });

  it("Conv1D drops the mask (Keras 3 does; tfjs refuses it), so the LSTM then sees every step", () => {
    const conv = makeLayer("Conv1D", { filters: DIM, kernel_size: [1], padding: "valid", activation: "linear" }, {
      kernel: { shape: [1, DIM, DIM], data: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
      bias: { shape: [DIM], data: [0, 0, 0] },
    }, "conv");
    const ours = run(sequential([emb(), conv, lstm()]));
    const unmaskedEmb = tf.layers.embedding({ inputDim: VOCAB, outputDim: DIM, inputShape: [5], embeddingsInitializer: "zeros" });
    const ref = tfRun([{ l: unmaskedEmb, w: [tf.tensor(Float32Array.from(table), [VOCAB, DIM])] }, tfLstm()]);
    expect(maxAbsDiff(ours.data, ref)).toBeLessThanOrEqual(ATOL);
  });

  it("GlobalAveragePooling1D averages only the real steps and consumes the mask; Flatten drops it", () => {
    const gap = makeLayer("GlobalAveragePooling1D", {}, {}, "gap");
    const ours = predict(sequential([emb(), gap]), [value([3, 5], IDS)], { dtype: "float32" }).outputs[0].value;
    expect(ours.mask).toBeUndefined();
    const e = tf.gather(tf.tensor(Float32Array.from(table), [VOCAB, DIM]), tf.tensor1d(IDS, "int32")).reshape([3, 5, DIM]);
    const m = tf.tensor(IDS.map((i) => (i !== 0 ? 1 : 0)), [3, 5, 1]);
    const ref = tf.sum(e.mul(m), 1).div(tf.sum(m, 1));
    expect(ours.shape).toEqual([3, DIM]);
    expect(maxAbsDiff(ours.data, ref.dataSync())).toBeLessThanOrEqual(ATOL);
    const flat = predict(sequential([emb(), makeLayer("Flatten", {}, {}, "flat")]), [value([3, 5], IDS)], { dtype: "float32" }).outputs[0].value;
    expect(flat.mask).toBeUndefined();
    expect(maxAbsDiff(flat.data, e.reshape([3, 5 * DIM]).dataSync())).toBe(0);
  });
});
