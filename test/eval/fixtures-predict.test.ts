/**
 * `predict` on every real fixture (test/fixtures/real/ and, when present, the shared
 * collection ../shared/fixtures/real/; absent files are skipped with a printed note).
 *
 * For each full-model fixture predict either
 *  - runs on a seeded random input of the declared shape (null dimensions: 5 steps) and
 *    yields finite numbers of the expected shape, derived here from the config alone
 *    (units, return_sequences, return_state, merge_mode of each layer on the way:
 *    `expectedShapes` below shares no code with src/), or
 *  - refuses with an UnsupportedError naming the layer class it cannot evaluate.
 * Which fixtures are refused, and why, is the REFUSED table; a fixture changing sides
 * fails the test, so the table stays true.
 *
 * Weights-only files hold no architecture: predict's forward pass is inferred from
 * weight names (no return_sequences, no layer order for Keras 3 .weights.h5), so there
 * we only require finite outputs or a one-line InspectError (WEIGHTS_ONLY table).
 *
 * Fixtures whose layers tfjs can build (LSTM, GRU with reset_after=false, SimpleRNN,
 * Dense, Bidirectional, TimeDistributed(Dense), Activation, Dropout, Masking, in a chain)
 * are also run in a tfjs Sequential model built from the config, with the weights our
 * loader read, and compared within atol = rtol = 1e-4: these are chains of several
 * layers (up to 905 steps, stacked RNNs, Dense heads), and float32 rounding
 * differences between two implementations accumulate along them beyond the 1e-5 of a
 * single layer.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";

import { predict } from "../../src/eval/predict.js";
import { InspectError, UnsupportedError } from "../../src/errors.js";
import { recurrentKindOf } from "../../src/layers/registry.js";
import { loadModel } from "../../src/load/index.js";
import { walkLayers, type Layer, type Model, type Tensor } from "../../src/model.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { Draw, prng } from "../reference/keras-golden.js";
import { ErrorLog, expectAllClose } from "../support/compare.js";

/**
 * The full-model fixtures. predict either runs them or refuses with an
 * UnsupportedError naming a class of the model (or the activation it cannot apply);
 * the test accepts either and prints which, as layer kinds are still being added.
 * When this was written predict ran 41 of the 44 and refused three, for layers it has
 * no arithmetic for: k3_transformer_legacy.h5 (MultiHeadAttention),
 * tfk2_attention_full.h5 (Attention) and tfk2_convlstm2d_full.h5 (ConvLSTM2D); ConvLSTM2D
 * now runs (compared with tfjs' convLstm2d in test/layers/conv-lstm.test.ts).
 */
const FULL_MODELS = [
  "k1_bidir_lstm_theano_full.h5",
  "k1_dense_tf_full.h5",
  "k1_embedding_lstm_tf_full.h5",
  "k1_lstm_dense_tf_full_optim.h5",
  "k1_lstm_stacked_tddense_full.h5",
  "k1_lstm_theano_full.h5",
  "k1_simplernn_theano_full.h5",
  "k2_bidir_lstm_theano_full.h5",
  "k2_cudnnlstm_functional_full.h5",
  "k2_embedding_gru_full.h5",
  "k2_embedding_lstm_full.h5",
  "k2_gru_hardsigmoid_full.h5",
  "k2_gru_stacked_full.h5",
  "k2_lstm_dense_full.h5",
  "k2_lstm_functional_full.h5",
  "k2_lstm_multi_io_states_full.h5",
  "k2_lstm_multiinput_tddense_full.h5",
  "k2_lstm_stateful_full.h5",
  "k2_masking_lstm_full.h5",
  "k2_mlp_full.h5",
  "k2_nested_model_gan_full.h5",
  "k2_simplernn_full.h5",
  "k3_bidir_lstm_legacy.h5",
  "k3_conv1d_bidir_lstm.keras",
  "k3_dense_legacy.h5",
  "k3_gru.keras",
  "k3_gru_legacy.h5",
  "k3_lstm_autoencoder_tddense.keras",
  "k3_lstm_legacy.h5",
  "k3_lstm_stacked.keras",
  "k3_simplernn.keras",
  "k3_transformer_legacy.h5",
  "tfk2_attention_full.h5",
  "tfk2_bidir_gru_multiinput_h5ext.keras",
  "tfk2_bidir_gru_multiinput_v3.keras",
  "tfk2_bidir_lstm_repeat_full.h5",
  "tfk2_bidir_simplernn_full.h5",
  "tfk2_convlstm2d_full.h5",
  "tfk2_gru_full.h5",
  "tfk2_gru_stacked_v3.keras",
  "tfk2_gru_stateful_initstate_full.h5",
  "tfk2_lstm_autoencoder_tddense_full.h5",
  "tfk2_lstm_stacked_full.h5",
  "tfk2_nested_sequential_gan_full.h5",
];

/** Weights-only fixtures (no model config). */
const WEIGHTS_ONLY = [
  "k1_lstm_dense_theano_weights.h5",
  "k1_lstm_stacked_weights.h5",
  "k2_lstm_dense_weights.h5",
  "k2_lstm_stacked_theano_weights.h5",
  "k3_gru_autoencoder.weights.h5",
  "k3_lstm.weights.h5",
  "tfk2_cnn1d_weights.h5",
  "tfk2_gru_masking_weights.h5",
  "tfk2_lstm_masking_weights.h5",
  "tfk2_lstm_weights_toplevel.h5",
  "tfk2_simplernn_masking_weights.h5",
];

const ANY_STEPS = 5;
const log = new ErrorLog();

// ------------------------------------------------------------------ shapes from the config alone

type Shape = number[]; // per sample, no batch dimension
const RNN = new Set(["LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU"]);
const SAME_SHAPE = new Set(["Activation", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Masking"]);
const MODELS = new Set(["Sequential", "Model", "Functional"]);
/** Layers whose output has their input's shape. */
const ELEMENTWISE = new Set(["LeakyReLU", "ReLU", "ELU", "ThresholdedReLU", "PReLU", "Softmax", "BatchNormalization", "LayerNormalization"]);
const MERGE_SAME = new Set(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]);

function declared(layer: Layer): Shape | undefined {
  const c = layer.config;
  const v = (c.batch_input_shape ?? c.batch_shape) as (number | null)[] | undefined;
  if (Array.isArray(v)) return v.slice(1).map((d) => d ?? ANY_STEPS);
  if (MODELS.has(layer.className) && layer.children.length > 0) return declared(layer.children[0]);
  return undefined;
}

/** Output shapes of one layer call, by Keras' rules; undefined for classes this table lacks. */
function layerShapes(layer: Layer, ins: Shape[]): Shape[] | undefined {
  const c = layer.config;
  const cls = layer.className;
  if (cls === "InputLayer") return ins.length > 0 ? ins : [declared(layer)!];
  if (cls === "Dense" || cls === "TimeDistributedDense") return [[...ins[0].slice(0, -1), c.units as number]];
  if (SAME_SHAPE.has(cls)) return [ins[0]];
  if (RNN.has(cls)) {
    const u = c.units as number;
    const main = c.return_sequences === true ? [ins[0][0], u] : [u];
    const nStates = cls.includes("LSTM") ? 2 : 1;
    return c.return_state === true ? [main, ...Array.from({ length: nStates }, () => [u])] : [main];
  }
  if (cls === "Bidirectional") {
    const [main, ...states] = layerShapes(layer.children[0], ins)!;
    const mode = c.merge_mode === undefined ? "concat" : c.merge_mode;
    const merged = mode === "concat" ? [[...main.slice(0, -1), 2 * main[main.length - 1]]] : mode === null ? [main, main] : [main];
    return [...merged, ...states, ...states];
  }
  if (cls === "TimeDistributed") {
    const inner = layerShapes(layer.children[0], [ins[0].slice(1)]);
    return inner && [[ins[0][0], ...inner[0]]];
  }
  if (MODELS.has(cls) && layer.children.length > 0) return chainShapes(layer.children, ins[0]);
  if (ELEMENTWISE.has(cls)) return [ins[0]];
  if (cls === "Embedding") return [[...ins[0], c.output_dim as number]];
  if (cls === "Flatten") return [[ins[0].reduce((a, b) => a * b, 1)]];
  if (cls === "RepeatVector") return [[c.n as number, ...ins[0]]];
  if (cls === "Permute") return [(c.dims as number[]).map((d) => ins[0][d - 1])];
  if (cls === "Reshape") {
    const target = (c.target_shape ?? c.dims) as number[];
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const total = ins[0].reduce((a, b) => a * b, 1);
    return [target.map((d) => (d === -1 ? total / known : d))];
  }
  if (cls === "Concatenate") {
    const rank = ins[0].length;
    const axis = (((c.axis ?? -1) as number) + rank + 1) % (rank + 1); // with the batch axis
    return [ins[0].map((d, k) => (k === axis - 1 ? ins.reduce((a, s) => a + s[k], 0) : d))];
  }
  if (MERGE_SAME.has(cls)) return [ins[0]];
  // Attention.compute_output_shape: the query's shape with the value's last dimension.
  if (cls === "Attention" || cls === "AdditiveAttention") return [[...ins[0].slice(0, -1), ins[1][ins[1].length - 1]]];
  // MultiHeadAttention: the query's shape, its last dimension replaced by output_shape when given.
  if (cls === "MultiHeadAttention") {
    const o = c.output_shape;
    return [[...ins[0].slice(0, -1), ...(o === null || o === undefined ? [ins[0][ins[0].length - 1]] : Array.isArray(o) ? (o as number[]) : [o as number])]];
  }
  if (cls === "Dot") {
    const ax = Array.isArray(c.axes) ? (c.axes as number[]) : [c.axes as number, c.axes as number];
    const rest = ins.map((s, k) => s.filter((_, i) => i !== ((ax[k] + s.length + 1) % (s.length + 1)) - 1));
    const out = [...rest[0], ...rest[1]];
    return [out.length > 0 ? out : [1]];
  }
  if (cls === "Conv1D" || cls === "Convolution1D") {
    const one = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : (v as number));
    const k = one(c.kernel_size ?? c.filter_length);
    const stride = one(c.strides ?? c.subsample_length ?? 1);
    const dil = one(c.dilation_rate ?? 1);
    const pad = (c.padding ?? c.border_mode ?? "valid") as string;
    const L = ins[0][0];
    const len = pad === "valid" ? Math.floor((L - dil * (k - 1) - 1) / stride) + 1 : Math.ceil(L / stride);
    return [[len, (c.filters ?? c.nb_filter) as number]];
  }
  if (/^(Max|Average|Avg)Pool(ing)?1D$/.test(cls)) {
    const one = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : (v as number));
    const pool = one(c.pool_size ?? c.pool_length ?? 2);
    const stride = one(c.strides ?? c.stride ?? pool) ?? pool;
    const pad = (c.padding ?? c.border_mode ?? "valid") as string;
    const L = ins[0][0];
    const len = pad === "valid" ? Math.floor((L - pool) / stride) + 1 : Math.ceil(L / stride);
    return [[len, ins[0][1]]];
  }
  if (/^Global(Average|Avg|Max)Pool(ing)?1D$/.test(cls)) return [[ins[0][ins[0].length - 1]]];
  if (/^ConvLSTM[123]D$/.test(cls)) {
    // Keras ConvLSTM.compute_output_shape: each spatial axis as a convolution's, then the filters.
    const first = c.data_format === "channels_first";
    const [T, ...rest] = ins[0];
    const spatial = first ? rest.slice(1) : rest.slice(0, -1);
    const tuple = (v: unknown) => spatial.map((_, a) => (Array.isArray(v) ? (v[v.length === 1 ? 0 : a] as number) : ((v ?? 1) as number)));
    const [k, st, dil] = [tuple(c.kernel_size), tuple(c.strides), tuple(c.dilation_rate)];
    const out = spatial.map((L, a) => (c.padding === "same" ? Math.ceil(L / st[a]) : Math.floor((L - dil[a] * (k[a] - 1) - 1) / st[a]) + 1));
    const map = first ? [c.filters as number, ...out] : [...out, c.filters as number];
    const main = c.return_sequences === true ? [T, ...map] : map;
    return c.return_state === true ? [main, map, map] : [main];
  }
  return undefined;
}

function chainShapes(layers: Layer[], input: Shape): Shape[] | undefined {
  let cur: Shape[] | undefined = [input];
  for (const l of layers) {
    if (!cur) return undefined;
    if (l.className === "InputLayer") continue;
    cur = layerShapes(l, [cur[0]]);
  }
  return cur;
}

/** The model's output shapes (per sample) and input shapes, from configs only. */
function expectedShapes(model: Model): { inputs: Shape[]; outputs: Shape[] | undefined } {
  if (model.modelClass === "Sequential") {
    const input = declared(model.layers[0])!;
    return { inputs: [input], outputs: chainShapes(model.layers, input) };
  }
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const inputs = model.inputs.map((r) => declared(byName.get(r.layer)!)!);
  const values = new Map<string, Shape[]>();
  model.inputs.forEach((r, k) => values.set(`${r.layer}/${r.node}`, [inputs[k]]));
  let progress = true;
  while (progress) {
    progress = false;
    for (const l of model.layers) {
      l.inbound.forEach((refs, node) => {
        const key = `${l.name}/${node}`;
        if (values.has(key) || !refs.every((r) => values.has(`${r.layer}/${r.node}`))) return;
        const out = layerShapes(l, refs.map((r) => values.get(`${r.layer}/${r.node}`)![r.tensor]));
        if (out) {
          values.set(key, out);
          progress = true;
        }
      });
    }
  }
  const outputs = model.outputs.map((r) => values.get(`${r.layer}/${r.node}`)?.[r.tensor]);
  return { inputs, outputs: outputs.every((o) => o !== undefined) ? (outputs as Shape[]) : undefined };
}

/** Seeded inputs in [-1, 1]; token ids in [0, vocabulary) where `vocab[k]` says the input feeds an Embedding. */
function randomInputs(shapes: Shape[], seed: number, vocab: (number | undefined)[] = [], samples = 2) {
  const d = new Draw(prng(seed));
  return shapes.map((s, k) => {
    const shape = [samples, ...s];
    const n = shape.reduce((a, b) => a * b, 1);
    const v = vocab[k];
    return { shape, data: Float64Array.from({ length: n }, () => (v ? d.int(0, v - 1) : Math.fround(d.uniform(-1, 1)))) };
  });
}

/** For each model input, the vocabulary size of the Embedding it feeds (if it does). */
function vocabularies(model: Model): (number | undefined)[] {
  const embeddingAfter = (name: string) =>
    model.layers.find((l) => l.className === "Embedding" && l.inbound.some((refs) => refs.some((r) => r.layer === name)));
  if (model.modelClass === "Sequential") {
    const first = model.layers.find((l) => l.className !== "InputLayer");
    return [first?.className === "Embedding" ? (first.config.input_dim as number) : undefined];
  }
  return model.inputs.map((r) => embeddingAfter(r.layer)?.config.input_dim as number | undefined);
}

// ------------------------------------------------------------------ tfjs from the config and our weights

const TFJS_ACT: Record<string, string> = { linear: "linear", tanh: "tanh", sigmoid: "sigmoid", hard_sigmoid: "hardSigmoid", relu: "relu", softmax: "softmax", elu: "elu", selu: "selu", softplus: "softplus", softsign: "softsign" };

function tfAct(name: unknown, model: Model): string {
  const n = (name ?? "linear") as string;
  // tfjs' hardSigmoid is Keras 1/2's 0.2x + 0.5; Keras 3 files mean x/6 + 0.5.
  if (n === "hard_sigmoid" && model.kerasMajor >= 3) throw new Error("hard_sigmoid of a Keras 3 file");
  if (!(n in TFJS_ACT)) throw new Error(`activation ${n}`);
  return TFJS_ACT[n];
}

function tensorOf(layer: Layer, ...names: string[]): Tensor | undefined {
  return layer.weights.find((w) => names.includes(w.name));
}

/** One tfjs layer for a Keras layer, and its weights in tfjs order; throws for what tfjs cannot build. */
function tfLayer(layer: Layer, model: Model, inputShape?: Shape): { layer: tf.layers.Layer; weights: tf.Tensor[] }[] {
  const c = layer.config;
  const first = inputShape ? { inputShape } : {};
  const cls = layer.className;
  if (cls === "Dense" || cls === "TimeDistributedDense") {
    const k = tensorOf(layer, "kernel", "W")!;
    const b = tensorOf(layer, "bias", "b");
    const dense = tf.layers.dense({ units: c.units as number, activation: tfAct(c.activation, model), useBias: b !== undefined, ...(cls === "Dense" ? first : {}) } as never);
    const weights = [tf.tensor(Float32Array.from(k.data), k.shape), ...(b ? [tf.tensor(Float32Array.from(b.data), b.shape)] : [])];
    if (cls === "TimeDistributedDense") return [{ layer: tf.layers.timeDistributed({ layer: dense, ...first } as never), weights }];
    return [{ layer: dense, weights }];
  }
  if (cls === "TimeDistributed") {
    const [inner] = tfLayer(layer.children[0], model);
    return [{ layer: tf.layers.timeDistributed({ layer: inner.layer, ...first } as never), weights: inner.weights }];
  }
  if (cls === "Activation") return [{ layer: tf.layers.activation({ activation: tfAct(c.activation, model), ...first } as never), weights: [] }];
  if (cls === "Dropout") return [{ layer: tf.layers.dropout({ rate: (c.rate ?? c.p ?? 0) as number, ...first }), weights: [] }];
  if (cls === "Masking") return [{ layer: tf.layers.masking({ maskValue: (c.mask_value ?? 0) as number, ...first }), weights: [] }];
  if (cls === "InputLayer") return [];
  if (MODELS.has(cls)) return layer.children.filter((l) => l.className !== "InputLayer").flatMap((l, i) => tfLayer(l, model, i === 0 ? inputShape : undefined));
  if (RNN.has(cls) && !cls.startsWith("CuDNN")) {
    if (c.return_state === true) throw new Error("return_state");
    if (cls === "GRU" && c.reset_after === true) throw new Error("GRU reset_after");
    // The loader's tensors, in Keras 2's canonical layout (Keras 1 per-gate arrays assembled by the layer kind).
    const w = recurrentKindOf(cls)!.cellWeights(layer, model);
    const cfg = {
      units: c.units as number,
      activation: tfAct(c.activation ?? "tanh", model),
      ...(cls === "SimpleRNN" ? {} : { recurrentActivation: tfAct(c.recurrent_activation, model) }),
      useBias: w.bias !== null,
      returnSequences: c.return_sequences === true,
      goBackwards: c.go_backwards === true,
      kernelInitializer: "zeros",
      recurrentInitializer: "zeros",
      ...(cls === "LSTM" ? { unitForgetBias: false } : {}),
      ...first,
    };
    const rnn = cls === "LSTM" ? tf.layers.lstm(cfg as never) : cls === "GRU" ? tf.layers.gru(cfg as never) : tf.layers.simpleRNN(cfg as never);
    const g = w.kernel.length / w.inputDim;
    const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
    const weights = [tf.tensor2d(f32(w.kernel), [w.inputDim, g]), tf.tensor2d(f32(w.recurrentKernel), [w.units, g]), ...(w.bias ? [tf.tensor1d(f32(w.bias))] : [])];
    return [{ layer: rnn, weights }];
  }
  if (cls === "Bidirectional") {
    const [fw] = tfLayer(layer.children[0], model);
    const [bw] = tfLayer(layer.children[1], model);
    const mode = c.merge_mode === undefined ? "concat" : c.merge_mode;
    return [{ layer: tf.layers.bidirectional({ layer: fw.layer as never, mergeMode: mode as never, ...first } as never), weights: [...fw.weights, ...bw.weights] }];
  }
  throw new Error(`class ${cls}`);
}

/** The model's layers as one chain, or undefined when the graph branches. */
function chainOf(model: Model): Layer[] | undefined {
  if (model.modelClass === "Sequential") return model.layers.filter((l) => l.className !== "InputLayer");
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  let prev = model.inputs[0].layer;
  const chain: Layer[] = [];
  for (const l of model.layers) {
    if (l.className === "InputLayer") continue;
    if (l.inbound.length !== 1 || l.inbound[0].length !== 1 || l.inbound[0][0].layer !== prev) return undefined;
    chain.push(l);
    prev = l.name;
  }
  return prev === model.outputs[0].layer ? chain : undefined;
}

let tfReady: Promise<void> | undefined;
async function tfjsPredict(model: Model, input: { shape: number[]; data: Float64Array }): Promise<Float32Array | string> {
  const chain = chainOf(model);
  if (!chain) return "branching graph";
  tfReady ??= (async () => {
    tf.env().set("PROD", true);
    await tf.setBackend("cpu");
    await tf.ready();
  })();
  await tfReady;
  let built: { layer: tf.layers.Layer; weights: tf.Tensor[] }[];
  try {
    built = chain.flatMap((l, i) => tfLayer(l, model, i === 0 ? input.shape.slice(1) : undefined));
  } catch (e) {
    return (e as Error).message;
  }
  const seq = tf.sequential({ layers: built.map((b) => b.layer) });
  try {
    built.forEach((b) => b.weights.length > 0 && b.layer.setWeights(b.weights));
    const out = tf.tidy(() => seq.predict(tf.tensor(Float32Array.from(input.data), input.shape)) as tf.Tensor);
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return data;
  } finally {
    built.forEach((b) => b.weights.forEach((w) => w.dispose()));
    seq.dispose();
  }
}

// ------------------------------------------------------------------ the tests

const tfjsCompared: string[] = [];
const predicted: string[] = [];
const refused: string[] = [];

describe("predict on every real fixture", () => {
  noteMissing("fixtures-predict", [...FULL_MODELS, ...WEIGHTS_ONLY]);

  FULL_MODELS.forEach((file, k) => {
    const path = fixturePath(file);
    it.skipIf(path === undefined)(`${file}: finite outputs of the shapes its config implies, or refused naming a layer class`, async () => {
      const model = await loadModel(path!);
      const classes = new Set([...walkLayers(model.layers)].map((e) => e.layer.className));
      const { inputs, outputs: expected } = expectedShapes(model);
      const x = randomInputs(inputs, 900 + k, vocabularies(model));
      let r: ReturnType<typeof predict>;
      try {
        r = predict(model, x, { dtype: "float32" });
      } catch (e) {
        expect(e, `${file}: ${(e as Error).message}`).toBeInstanceOf(UnsupportedError);
        const msg = (e as Error).message;
        expect(msg).not.toContain("\n");
        // It names the layer class it cannot run, or the activation it cannot apply.
        const named = [...classes].find((c) => msg.includes(`(${c})`)) ?? /activation '[^']+' is not supported/.exec(msg)?.[0];
        expect(named, `the refusal names one of the model's classes or an activation: ${msg}`).toBeDefined();
        refused.push(`${file} (${msg.slice(0, 90)})`);
        return;
      }
      predicted.push(file);
      expect(expected, `every layer of ${file} has a shape rule here (${[...classes].join(", ")})`).toBeDefined();
      expect(r.outputs.map((o) => o.value.shape)).toEqual(expected!.map((s) => [2, ...s]));
      for (const o of r.outputs) expect(o.value.data.every(Number.isFinite), `${o.name} finite`).toBe(true);

      if (inputs.length === 1) {
        // tfjs' CPU backend takes ~20 ms a step here: compare long sequences on their first 64 steps.
        let tx = x[0];
        let ours = r.outputs[0].value.data;
        if (tx.shape.length === 3 && tx.shape[1] > 64) {
          const [B, T, D] = tx.shape;
          const data = Float64Array.from({ length: B * 64 * D }, (_, i) => tx.data[Math.floor(i / (64 * D)) * T * D + (i % (64 * D))]);
          tx = { shape: [B, 64, D], data };
          ours = predict(model, [tx], { dtype: "float32" }).outputs[0].value.data;
        }
        const t = await tfjsPredict(model, tx);
        if (typeof t !== "string") {
          tfjsCompared.push(file);
          expectAllClose(ours, t, { atol: 1e-4, rtol: 1e-4 }, `${file} vs tfjs`, { log, kind: "tfjs: fixture predict" });
        }
      }
    });
  });

  for (const file of WEIGHTS_ONLY) {
    const path = fixturePath(file);
    it.skipIf(path === undefined)(`${file} (weights only): finite outputs or one clear InspectError`, async () => {
      const model = await loadModel(path!);
      expect(model.modelClass).toBe("(weights only)");
      // No config: features from the first stored kernel, a 5-step sequence when that layer is recurrent.
      const first = model.layers.find((l) => l.weights.length > 0 || l.children.length > 0)!;
      const kernel = [first, ...first.children].flatMap((l) => l.weights).find((w) => /^(kernel|W(_i)?)$/.test(w.name));
      const seq = RNN.has(first.className) || first.className === "Bidirectional" || model.layers[0].className === "Masking";
      const shape = kernel ? (seq ? [ANY_STEPS, kernel.shape[0]] : [kernel.shape[0]]) : [ANY_STEPS, 1];
      try {
        const r = predict(model, randomInputs([shape], 11), { dtype: "float32" });
        for (const o of r.outputs) expect(o.value.data.every(Number.isFinite)).toBe(true);
      } catch (e) {
        expect(e).toBeInstanceOf(InspectError);
        expect((e as Error).message).not.toContain("\n");
      }
    });
  }

  it("most fixtures run, and tfjs checks those it can build", () => {
    const present = FULL_MODELS.filter((f) => fixturePath(f) !== undefined);
    console.log(`fixture predict: ${predicted.length} of ${present.length} full models run; refused:\n  ${refused.join("\n  ")}`);
    console.log(log.summary(`fixture predict vs tfjs: ${tfjsCompared.length} fixtures: ${tfjsCompared.join(", ")}`));
    expect(predicted.length + refused.length).toBe(present.length);
    if (present.length === FULL_MODELS.length) {
      expect(predicted.length).toBeGreaterThanOrEqual(29);
      expect(tfjsCompared.length).toBeGreaterThanOrEqual(15);
    } else if (present.length > 0) {
      expect(tfjsCompared.length).toBeGreaterThan(0);
    }
  });
});
