// Whole-model predict on real Keras files that use the non-recurrent kinds, against
// tfjs models rebuilt layer by layer from the same file: tfjs' own layers, configured
// from the stored config and given the stored tensors with setWeights. Our code
// supplies only the loaded file (config, topology, tensors), never a number.
//
// Tolerance: float32 on both sides through several layers (recurrent ones over up to
// 10 steps); outputs are of order 1, so 1e-5 absolute still holds; the worst error
// seen is printed.
import { beforeAll, describe, expect, it } from "vitest";

import { graphOfModel, graphOfNested, callsInOrder, tensorKey, type Graph } from "../../src/eval/graph.js";
import { predict } from "../../src/eval/predict.js";
import { declaredInputShape } from "../../src/layers/core.js";
import { loadModel } from "../../src/load/index.js";
import type { Layer, Model } from "../../src/model.js";
import { ATOL, maxAbsDiff, rng, tf, tfReady } from "./helpers.js";

beforeAll(tfReady);

const DIR = "/work/shared/fixtures/real/";

type TfArgs = Record<string, unknown>;

function act(v: unknown): string {
  const name = typeof v === "string" ? v : "linear";
  if (!["linear", "relu", "tanh", "sigmoid", "softmax", "hard_sigmoid"].includes(name)) throw new Error(`no tfjs activation for ${name}`);
  return name === "hard_sigmoid" ? "hardSigmoid" : name;
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** A tfjs layer configured like the Keras one, plus the tensors to give it in tfjs' weight order. */
function toTfjs(layer: Layer): { tfl: tf.layers.Layer; weights: tf.Tensor[] } {
  const c = layer.config;
  const own = layer.weights.map((w) => tf.tensor(Float32Array.from(w.data), w.shape, "float32"));
  const base: TfArgs = { name: `tf_${layer.name}` };
  // setWeights replaces every weight; zeros skip tfjs' slow orthogonal initializer.
  const init = { kernelInitializer: "zeros", recurrentInitializer: "zeros", biasInitializer: "zeros" } as TfArgs;
  switch (layer.className) {
    case "Dense":
      return { tfl: tf.layers.dense({ ...base, ...init, units: c.units as number, activation: act(c.activation) as "linear", useBias: c.use_bias !== false }), weights: own };
    case "LeakyReLU":
      return { tfl: tf.layers.leakyReLU({ ...base, alpha: (c.negative_slope ?? c.alpha ?? 0.3) as number }), weights: [] };
    case "Reshape":
      return { tfl: tf.layers.reshape({ ...base, targetShape: [...(c.target_shape as number[])] }), weights: [] };
    case "Flatten":
      return { tfl: tf.layers.flatten(base), weights: [] };
    case "Dropout":
      return { tfl: tf.layers.dropout({ ...base, rate: c.rate as number }), weights: [] };
    case "Activation":
      return { tfl: tf.layers.activation({ ...base, activation: act(c.activation) as "linear" }), weights: [] };
    case "RepeatVector":
      return { tfl: tf.layers.repeatVector({ ...base, n: c.n as number }), weights: [] };
    case "Concatenate":
      return { tfl: tf.layers.concatenate({ ...base, axis: c.axis as number }), weights: [] };
    case "Embedding":
      return { tfl: tf.layers.embedding({ ...base, embeddingsInitializer: "zeros", inputDim: c.input_dim as number, outputDim: c.output_dim as number, maskZero: c.mask_zero === true }), weights: own };
    case "Conv1D":
      return {
        tfl: tf.layers.conv1d({
          ...base,
          ...init,
          filters: c.filters as number,
          kernelSize: first(c.kernel_size) as number,
          strides: first(c.strides) as number,
          padding: c.padding as "valid",
          dilationRate: first(c.dilation_rate) as number,
          activation: act(c.activation) as "linear",
          useBias: c.use_bias !== false,
        }),
        weights: own,
      };
    case "BatchNormalization": {
      const axis = first(c.axis);
      if (axis !== -1 && axis !== 2) throw new Error("only last-axis BatchNormalization is rebuilt");
      return { tfl: tf.layers.batchNormalization({ ...base, epsilon: c.epsilon as number, center: c.center !== false, scale: c.scale !== false }), weights: own };
    }
    case "LSTM":
      return {
        tfl: tf.layers.lstm({
          ...base,
          ...init,
          units: c.units as number,
          activation: act(c.activation) as "tanh",
          recurrentActivation: act(c.recurrent_activation) as "sigmoid",
          useBias: c.use_bias !== false,
          returnSequences: c.return_sequences === true,
          returnState: c.return_state === true,
          goBackwards: c.go_backwards === true,
          unitForgetBias: false,
        }),
        weights: own,
      };
    case "Bidirectional": {
      const fw = toTfjs(layer.children[0]);
      const bw = toTfjs(layer.children[1]);
      const mode = c.merge_mode === undefined ? "concat" : c.merge_mode;
      return { tfl: tf.layers.bidirectional({ ...base, layer: fw.tfl as tf.RNN, mergeMode: mode as "concat" }), weights: [...fw.weights, ...bw.weights] };
    }
    case "TimeDistributed": {
      const inner = toTfjs(layer.children[0]);
      return { tfl: tf.layers.timeDistributed({ ...base, layer: inner.tfl }), weights: inner.weights };
    }
    default:
      throw new Error(`no tfjs rebuild for ${layer.className}`);
  }
}

/** Builds a tfjs functional model of a graph; nested models become nested tfjs models. */
function buildTfjs(graph: Graph, inputShapes: number[][]): { model: tf.LayersModel; weights: [tf.layers.Layer, tf.Tensor[]][] } {
  const weights: [tf.layers.Layer, tf.Tensor[]][] = [];
  const inputs = inputShapes.map((s) => tf.input({ shape: s.slice(1) }));
  const values = new Map<string, tf.SymbolicTensor>(graph.inputs.map((ref, k) => [tensorKey(ref), inputs[k]]));
  for (const call of callsInOrder(graph)) {
    const args = call.inputs.map((ref) => values.get(tensorKey(ref))!);
    let outs: tf.SymbolicTensor[];
    if (call.layer.className === "Model" || call.layer.className === "Sequential" || call.layer.className === "Functional") {
      const inner = buildTfjs(graphOfNested(call.layer), args.map((a) => [0, ...(a.shape.slice(1) as number[])]));
      weights.push(...inner.weights);
      const o = inner.model.apply(args.length === 1 ? args[0] : args);
      outs = Array.isArray(o) ? (o as tf.SymbolicTensor[]) : [o as tf.SymbolicTensor];
    } else {
      const { tfl, weights: w } = toTfjs(call.layer);
      const o = tfl.apply(args.length === 1 ? args[0] : args);
      outs = Array.isArray(o) ? (o as tf.SymbolicTensor[]) : [o as tf.SymbolicTensor];
      weights.push([tfl, w]);
    }
    outs.forEach((o, tensor) => values.set(tensorKey({ layer: call.layer.name, node: call.node, tensor }), o));
  }
  const outputs = graph.outputs.map((r) => values.get(tensorKey(r))!);
  return { model: tf.model({ inputs, outputs }), weights };
}

function inputShapesOf(model: Model, graph: Graph): number[][] {
  return graph.inputs.map((ref) => {
    const layer = model.layers.find((l) => l.name === ref.layer) ?? model.layers[0];
    const first = layer.className === "Model" || layer.className === "Sequential" ? layer.children[0] : layer;
    const s = declaredInputShape(first)!;
    return s.map((d, i) => (i === 0 ? 2 : (d ?? 6)));
  });
}

const CASES: { file: string; layers: string; ints?: number }[] = [
  { file: "k3_conv1d_bidir_lstm.keras", layers: "Conv1D, Bidirectional(LSTM), BatchNormalization" },
  { file: "k2_lstm_multiinput_tddense_full.h5", layers: "LeakyReLU, Concatenate(axis=1), Reshape, TimeDistributed(Dense), two inputs" },
  { file: "k2_nested_model_gan_full.h5", layers: "models in a model: LeakyReLU, Reshape, Flatten" },
  { file: "tfk2_bidir_lstm_repeat_full.h5", layers: "RepeatVector, Activation, Bidirectional(LSTM)" },
  { file: "k3_lstm_autoencoder_tddense.keras", layers: "RepeatVector, TimeDistributed(Dense)" },
  { file: "k2_embedding_lstm_full.h5", layers: "Embedding", ints: 1 },
];

describe("predict on real files with non-recurrent layers equals a tfjs rebuild", () => {
  for (const c of CASES) {
    it(`${c.file} (${c.layers})`, async () => {
      const model = await loadModel(DIR + c.file);
      const graph = graphOfModel(model);
      const shapes = inputShapesOf(model, graph);
      const r = rng(c.file.length);
      const emb = model.layers.find((l) => l.className === "Embedding");
      const inputs = shapes.map((shape) => {
        const n = shape.reduce((p, d) => p * d, 1);
        const data = Float64Array.from({ length: n }, () => (emb ? Math.floor(r() * (emb.config.input_dim as number)) : Math.fround(r() * 2 - 1)));
        return { shape, data };
      });
      const ours = predict(model, inputs, { dtype: "float32" }).outputs;

      const { model: tm, weights } = buildTfjs(graph, shapes);
      for (const [tfl, w] of weights) if (w.length > 0) tfl.setWeights(w);
      const tIn = inputs.map((v) => tf.tensor(Float32Array.from(v.data), v.shape));
      const tOut = tm.predict(tIn.length === 1 ? tIn[0] : tIn);
      const refs = Array.isArray(tOut) ? tOut : [tOut];
      expect(ours.length).toBe(refs.length);
      let worst = 0;
      ours.forEach((o, k) => {
        expect(o.value.shape).toEqual(refs[k].shape);
        const d = maxAbsDiff(o.value.data, refs[k].dataSync());
        worst = Math.max(worst, d);
      });
      console.log(`${c.file}: max |ours − tfjs| = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(ATOL);
    });
  }
});
