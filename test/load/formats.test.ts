/**
 * Loader rules on small synthetic files (written in memory with h5wasm / fflate) and
 * on the pure helpers: magic-byte sniffing, snake_case names, Keras 1 config keys,
 * inbound nodes, chunked attributes, weights-only inference, Keras 3 stores.
 */
import { readFileSync } from "node:fs";
import { strToU8, unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { FileError } from "../../src/errors.js";
import { normalizeEndpoints, normalizeInbound, translateKeras1Config } from "../../src/load/config.js";
import { PagedReader } from "../../src/load/byte-source.js";
import { isGlobalHeapLoop } from "../../src/load/hdf5-guard.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import { toSnakeCase, toSnakeCaseTfKeras } from "../../src/load/infer.js";
import { sniff } from "../../src/load/sniff.js";
import { fixturePath } from "./fixture-paths.js";
import { writeH5, type H5Spec } from "./h5-write.js";

const seq = (n: number, scale = 0.01) => Array.from({ length: n }, (_, i) => i * scale);

async function failure(p: Promise<unknown>): Promise<FileError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FileError);
    expect((err as Error).message).not.toContain("\n");
    return err as FileError;
  }
  throw new Error("expected a FileError");
}

describe("sniffing by magic bytes", () => {
  it("finds HDF5 at 0 and after a user block, ZIP, and nothing in text", () => {
    const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
    const sniffBytes = (b: Uint8Array) => sniff(PagedReader.of(b));
    expect(sniffBytes(Uint8Array.from(sig))).toEqual({ kind: "hdf5", offset: 0 });
    const ub = new Uint8Array(1024 + 8);
    ub.set(sig, 1024);
    expect(sniffBytes(ub)).toEqual({ kind: "hdf5", offset: 1024 });
    const odd = new Uint8Array(700 + 8);
    odd.set(sig, 700); // not a power-of-two offset: not a superblock position
    expect(sniffBytes(odd)).toBeUndefined();
    expect(sniffBytes(strToU8("PK\x03\x04rest"))).toEqual({ kind: "zip", offset: 0 });
    expect(sniffBytes(strToU8("{\"a\":1}"))).toBeUndefined();
  });

  it("a real HDF5 file behind a 512-byte user block still loads (HDF5 finds the superblock)", async () => {
    const file = readFileSync(fixturePath("k2_lstm_dense_full.h5")!);
    const withBlock = new Uint8Array(512 + file.length);
    withBlock.set(file, 512);
    const m = await loadModelFromBytes(withBlock, "userblock.h5");
    expect(m.layers.map((l) => l.className)).toEqual(["LSTM", "Dense"]);
  });

  it("the .keras extension is not trusted: an HDF5 file named .keras is read as HDF5", async () => {
    const m = await loadModel(fixturePath("tfk2_bidir_gru_multiinput_h5ext.keras")!);
    expect(m.format).toBe("keras-h5");
  });
});

describe("Keras naming rules", () => {
  it("to_snake_case as Keras 3 and tf.keras 2.x write it", () => {
    const k3: Record<string, string> = {
      LSTM: "lstm",
      GRU: "gru",
      SimpleRNN: "simple_rnn",
      Bidirectional: "bidirectional",
      TimeDistributed: "time_distributed",
      ConvLSTM2D: "conv_lstm2d",
      InputLayer: "input_layer",
      Conv1D: "conv1d",
      BatchNormalization: "batch_normalization",
      LayerNormalization: "layer_normalization",
      MultiHeadAttention: "multi_head_attention",
    };
    for (const [cls, snake] of Object.entries(k3)) expect(toSnakeCase(cls), cls).toBe(snake);
    // tf.keras counts digits as lower case: the layer names in tfk2_convlstm2d_full.h5 are conv_lst_m2d_2, _3.
    expect(toSnakeCaseTfKeras("ConvLSTM2D")).toBe("conv_lst_m2d");
    expect(toSnakeCaseTfKeras("CuDNNLSTM")).toBe("cu_dnnlstm");
  });
});

describe("Keras 1 config keys", () => {
  it("renames LSTM keys to Keras 2 names and builds batch_input_shape", () => {
    // Keys as in k1_lstm_stacked_tddense_full.h5's lstm_2 config (h5dump -a /model_config).
    const out = translateKeras1Config("LSTM", {
      name: "lstm_2",
      output_dim: 2,
      inner_activation: "hard_sigmoid",
      init: "glorot_uniform",
      inner_init: "orthogonal",
      consume_less: "gpu",
      dropout_W: 0.5,
      dropout_U: 0.25,
      W_regularizer: { l2: 0.1 },
      U_regularizer: null,
      b_regularizer: null,
      forget_bias_init: "one",
      input_dim: 3,
      input_length: null,
    });
    expect(out).toEqual({
      name: "lstm_2",
      units: 2,
      recurrent_activation: "hard_sigmoid",
      kernel_initializer: "glorot_uniform",
      recurrent_initializer: "orthogonal",
      implementation: 2,
      dropout: 0.5,
      recurrent_dropout: 0.25,
      kernel_regularizer: { l2: 0.1 },
      recurrent_regularizer: null,
      bias_regularizer: null,
      unit_forget_bias: true,
      batch_input_shape: [null, null, 3],
    });
    expect(translateKeras1Config("LSTM", { consume_less: "cpu" }).implementation).toBe(0);
    expect(translateKeras1Config("LSTM", { consume_less: "mem" }).implementation).toBe(1);
  });

  it("keeps Embedding's input_dim/output_dim and TimeDistributedDense's class", async () => {
    expect(translateKeras1Config("Embedding", { input_dim: 4, output_dim: 5, init: "uniform", input_length: 7 })).toEqual({
      input_dim: 4,
      output_dim: 5,
      embeddings_initializer: "uniform",
      input_length: 7,
      batch_input_shape: [null, 7],
    });
    const m = await loadModel(fixturePath("k1_lstm_stacked_tddense_full.h5")!);
    const td = m.layers[2];
    expect(td.className).toBe("TimeDistributedDense");
    expect(td.config).toMatchObject({ units: 3, use_bias: true, kernel_initializer: "glorot_uniform" });
    expect(m.layers[0].config).toMatchObject({ units: 3, recurrent_activation: "hard_sigmoid", dropout: 0.5, implementation: 0, batch_input_shape: [null, 10, 2] });
  });

  it("a Keras 1 Bidirectional's backward copy has go_backwards flipped", async () => {
    const m = await loadModel(fixturePath("k1_bidir_lstm_theano_full.h5")!);
    const [fw, bw] = m.layers[0].children;
    expect(fw.config.go_backwards).toBe(false);
    expect(bw.config.go_backwards).toBe(true);
    expect(fw.config.units).toBe(10);
  });
});

describe("inbound nodes", () => {
  it("Keras 2 lists, with and without kwargs", () => {
    expect(normalizeInbound([[["a", 0, 0, {}], ["b", 1, 2]]], "f", "x")).toEqual([
      [
        { layer: "a", node: 0, tensor: 0 },
        { layer: "b", node: 1, tensor: 2 },
      ],
    ]);
  });

  it("Keras 3 {args, kwargs} with keras_history, nested args and tensors in kwargs", () => {
    const kt = (name: string, node = 0, tensor = 0) => ({ class_name: "__keras_tensor__", config: { shape: [null, 4], keras_history: [name, node, tensor] } });
    const nodes = [{ args: [[kt("a"), kt("b", 0, 1)]], kwargs: { initial_state: [kt("h0")], training: false, mask: null } }];
    expect(normalizeInbound(nodes, "f", "x")).toEqual([
      [
        { layer: "a", node: 0, tensor: 0 },
        { layer: "b", node: 0, tensor: 1 },
        { layer: "h0", node: 0, tensor: 0 },
      ],
    ]);
  });

  it("input_layers/output_layers as one triple or a list", () => {
    expect(normalizeEndpoints(["in", 0, 0], "f", "input_layers")).toEqual([{ layer: "in", node: 0, tensor: 0 }]);
    expect(normalizeEndpoints([["a", 0, 0], ["b", 0, 1]], "f", "output_layers")).toEqual([
      { layer: "a", node: 0, tensor: 0 },
      { layer: "b", node: 0, tensor: 1 },
    ]);
  });

  it("real files: Sequential inputs/outputs are the first/last layer; functional ones from the config", async () => {
    const s = await loadModel(fixturePath("k2_lstm_dense_full.h5")!);
    expect(s.inputs).toEqual([{ layer: "lstm_1", node: 0, tensor: 0 }]);
    expect(s.outputs).toEqual([{ layer: "dense_1", node: 0, tensor: 0 }]);
    expect(s.layers[1].inbound).toEqual([]);
    const f = await loadModel(fixturePath("k2_lstm_multi_io_states_full.h5")!);
    expect(f.outputs.slice(1, 4)).toEqual([
      { layer: "lstm_3", node: 0, tensor: 0 },
      { layer: "lstm_3", node: 0, tensor: 1 },
      { layer: "lstm_3", node: 0, tensor: 2 },
    ]);
    const lstm15 = f.layers.find((l) => l.name === "lstm_15")!;
    expect(lstm15.inbound).toEqual([
      [
        { layer: "input_3", node: 0, tensor: 0 },
        { layer: "input_4", node: 0, tensor: 0 },
        { layer: "input_5", node: 0, tensor: 0 },
      ],
    ]);
    const k3 = await loadModel(fixturePath("tfk2_bidir_gru_multiinput_v3.keras")!);
    expect(k3.layers.find((l) => l.name === "concat_output")!.inbound).toEqual([
      [
        { layer: "option_dense_output", node: 0, tensor: 0 },
        { layer: "stock_gru_output", node: 0, tensor: 0 },
      ],
    ]);
  });
});

/** A Keras 2.2-style weights-only file at the root. */
function weightsOnly(layers: Record<string, Record<string, number[]>>, extraRootAttrs: Record<string, string | string[]> = {}): H5Spec {
  const attrs: H5Spec["attrs"] = { "/": { layer_names: Object.keys(layers), keras_version: "2.2.4", backend: "tensorflow", ...extraRootAttrs } };
  const datasets: H5Spec["datasets"] = {};
  for (const [layer, weights] of Object.entries(layers)) {
    const names = Object.keys(weights);
    attrs[`/${layer}`] = { weight_names: names.length ? names : "EMPTY_F64" };
    for (const [w, shape] of Object.entries(weights)) datasets[`/${layer}/${w}`] = { shape, data: seq(shape.reduce((a, b) => a * b, 1)) };
  }
  return { attrs, datasets };
}

describe("weights-only HDF5: classes inferred from names and shapes", () => {
  it("GRU reset_after from a (2, 3u) bias, LSTM, SimpleRNN, Dense, Embedding, BatchNorm, weightless by name", async () => {
    const spec = weightsOnly({
      embedding_1: { "embedding_1/embeddings:0": [10, 4] },
      gru_1: { "gru_1/kernel:0": [4, 9], "gru_1/recurrent_kernel:0": [3, 9], "gru_1/bias:0": [2, 9] },
      gru_2: { "gru_2/kernel:0": [3, 6], "gru_2/recurrent_kernel:0": [2, 6], "gru_2/bias:0": [6] },
      lstm_1: { "lstm_1/kernel:0": [2, 8], "lstm_1/recurrent_kernel:0": [2, 8] },
      simple_rnn_1: { "simple_rnn_1/kernel:0": [2, 5], "simple_rnn_1/recurrent_kernel:0": [5, 5], "simple_rnn_1/bias:0": [5] },
      batch_normalization_1: Object.fromEntries(["gamma", "beta", "moving_mean", "moving_variance"].map((n) => [`batch_normalization_1/${n}:0`, [5]])),
      dropout_1: {},
      masking_1: {},
      flatten_1: {},
      activation_1: {},
      mystery: {},
      dense_1: { "dense_1/kernel:0": [5, 1], "dense_1/bias:0": [1] },
    });
    const m = await loadModelFromBytes(await writeH5(spec), "w.h5");
    expect(m.format).toBe("keras-h5-weights");
    expect(m.modelClass).toBe("(weights only)");
    expect(m.layers.map((l) => [l.className, l.inferred])).toEqual([
      ["Embedding", true],
      ["GRU", true],
      ["GRU", true],
      ["LSTM", true],
      ["SimpleRNN", true],
      ["BatchNormalization", true],
      ["Dropout", true],
      ["Masking", true],
      ["Flatten", true],
      ["Activation", true],
      ["Unknown", true],
      ["Dense", true],
    ]);
    expect(m.layers[1].config).toMatchObject({ units: 3, use_bias: true, reset_after: true });
    expect(m.layers[2].config).toMatchObject({ units: 2, reset_after: false });
    expect(m.layers[3].config).toMatchObject({ units: 2, use_bias: false });
    expect(m.layers[3].config.return_sequences).toBeUndefined();
    expect(m.layers[0].config).toMatchObject({ input_dim: 10, output_dim: 4 });
    expect(m.notes.some((n) => /inferred from weight names and shapes/.test(n))).toBe(true);
  });

  it("Keras 1 per-gate names: i,c,f,o is an LSTM, z,r,h a GRU; tensors kept as stored", async () => {
    const gates = (layer: string, letters: string[], d: number, u: number) =>
      Object.fromEntries(letters.flatMap((g) => [[`${layer}_W_${g}`, [d, u]], [`${layer}_U_${g}`, [u, u]], [`${layer}_b_${g}`, [u]]]));
    const spec = weightsOnly({ lstm_1: gates("lstm_1", ["i", "c", "f", "o"], 3, 2), gru_1: gates("gru_1", ["z", "r", "h"], 2, 4) });
    delete spec.attrs!["/"].keras_version;
    const m = await loadModelFromBytes(await writeH5(spec), "k1.h5");
    expect(m.kerasMajor).toBe(1);
    expect(m.layers.map((l) => l.className)).toEqual(["LSTM", "GRU"]);
    expect(m.layers[0].weights.map((w) => w.name)).toEqual(["W_i", "U_i", "b_i", "W_c", "U_c", "b_c", "W_f", "U_f", "b_f", "W_o", "U_o", "b_o"]);
    expect(m.layers[1].config).toMatchObject({ units: 4, reset_after: false });
  });

  it("a weights-only Bidirectional becomes forward/backward children", async () => {
    const w = (p: string, d: number, u: number) => ({ [`bidirectional_1/${p}/kernel:0`]: [d, 4 * u], [`bidirectional_1/${p}/recurrent_kernel:0`]: [u, 4 * u], [`bidirectional_1/${p}/bias:0`]: [4 * u] });
    const m = await loadModelFromBytes(await writeH5(weightsOnly({ bidirectional_1: { ...w("forward_lstm_1", 3, 2), ...w("backward_lstm_1", 3, 2) } })), "b.h5");
    const b = m.layers[0];
    expect(b.className).toBe("Bidirectional");
    expect(b.children.map((c) => [c.className, c.name, c.weights.length])).toEqual([
      ["LSTM", "forward_lstm_1", 3],
      ["LSTM", "backward_lstm_1", 3],
    ]);
    expect(b.children[1].weights[0].path).toBe("/bidirectional_1/bidirectional_1/backward_lstm_1/kernel:0");
  });

  it("chunked layer_names0/1 and weight_names0/1 (lists over 64512 bytes) are concatenated", async () => {
    const spec: H5Spec = {
      attrs: {
        "/": { layer_names0: ["dense_1"], layer_names1: ["dropout_1", "dense_2"], keras_version: "2.2.4" },
        "/dense_1": { weight_names0: ["dense_1/kernel:0"], weight_names1: ["dense_1/bias:0"] },
        "/dropout_1": { weight_names: "EMPTY_F64" },
        "/dense_2": { weight_names: ["dense_2/kernel:0", "dense_2/bias:0"] },
      },
      datasets: {
        "/dense_1/dense_1/kernel:0": { shape: [2, 3], data: seq(6) },
        "/dense_1/dense_1/bias:0": { shape: [3], data: seq(3) },
        "/dense_2/dense_2/kernel:0": { shape: [3, 1], data: seq(3) },
        "/dense_2/dense_2/bias:0": { shape: [1], data: [0.5] },
      },
    };
    const m = await loadModelFromBytes(await writeH5(spec), "chunked.h5");
    expect(m.layers.map((l) => [l.name, l.className, l.weights.map((w) => w.name).join(",")])).toEqual([
      ["dense_1", "Dense", "kernel,bias"],
      ["dropout_1", "Dropout", ""],
      ["dense_2", "Dense", "kernel,bias"],
    ]);
  });

  it("weights are read through weight_names even when other datasets sit in the group", async () => {
    const spec = weightsOnly({ dense_1: { "dense_1/kernel:0": [2, 1], "dense_1/bias:0": [1] } });
    spec.datasets!["/dense_1/stray"] = { shape: [1], data: [9] };
    const m = await loadModelFromBytes(await writeH5(spec), "stray.h5");
    expect(m.layers[0].weights.map((w) => w.path)).toEqual(["/dense_1/dense_1/kernel:0", "/dense_1/dense_1/bias:0"]);
  });

  it("a weight_names entry without its dataset is a FileError naming it", async () => {
    const spec = weightsOnly({ dense_1: { "dense_1/kernel:0": [2, 1] } });
    spec.attrs!["/dense_1"].weight_names = ["dense_1/kernel:0", "dense_1/bias:0"];
    const err = await failure(loadModelFromBytes(await writeH5(spec), "missing.h5"));
    expect(err.message).toMatch(/^missing\.h5: weight 'bias' should be at '\/dense_1\/dense_1\/bias:0', but there is no dataset there$/);
  });

  it("a float16 dataset is decoded from its bits (h5wasm cannot decode half floats, keras-inspect does)", async () => {
    // h5wasm cannot write float16, so write float32 with version-1 (unchecksummed) object
    // headers and rewrite its datatype message (HDF5 spec IV.A.2.d, class 1) into IEEE half:
    // size 2, precision 16, exponent at bit 10 (5 bits), mantissa 10 bits, bias 15, sign bit 15.
    const spec = weightsOnly({ dense_1: { "dense_1/kernel:0": [1, 2] } });
    spec.datasets!["/dense_1/dense_1/kernel:0"] = { shape: [1, 2], data: [1, 2] };
    const bytes = await writeH5({ ...spec, libver: "earliest" });
    const f32 = [0x11, 0x20, 0x1f, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x17, 0x08, 0x00, 0x17, 0x7f, 0x00, 0x00, 0x00];
    const f16 = [0x11, 0x20, 0x0f, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0a, 0x05, 0x00, 0x0a, 0x0f, 0x00, 0x00, 0x00];
    const at: number[] = [];
    for (let i = 0; i + f32.length <= bytes.length; i++) if (f32.every((v, j) => bytes[i + j] === v)) at.push(i);
    expect(at).toHaveLength(1);
    bytes.set(f16, at[0]);
    // The storage still holds float32 1 and 2 (little-endian 00 00 80 3f, 00 00 00 40); read as
    // halves, its first four bytes are 0x0000 = 0 and 0x3f80 = 1.875 (1 + 896/1024).
    const m = await loadModelFromBytes(bytes, "half.h5");
    const kernel = m.layers[0].weights[0];
    expect(kernel.dtype).toBe("float16");
    expect(Array.from(kernel.data)).toEqual([0, 1.875]);
  });

  it("NaN weights load as they are (checks report them, not the loader)", async () => {
    const spec = weightsOnly({ dense_1: { "dense_1/kernel:0": [1, 2] } });
    spec.datasets!["/dense_1/dense_1/kernel:0"] = { shape: [1, 2], data: [NaN, 1.5] };
    const m = await loadModelFromBytes(await writeH5(spec), "nan.h5");
    expect(Number.isNaN(m.layers[0].weights[0].data[0])).toBe(true);
    expect(m.layers[0].weights[0].data[1]).toBe(1.5);
  });
});

describe("full-model HDF5 edge cases", () => {
  const modelConfig = (layers: unknown[]) => JSON.stringify({ class_name: "Sequential", config: { name: "s", layers } });

  it("a Lambda layer is kept as data and never run", async () => {
    const lambdaCfg = { name: "lambda_1", function: ["4wEAAAAAAAAA", null, null], function_type: "lambda", output_shape: null };
    const spec: H5Spec = {
      attrs: {
        "/": { keras_version: "2.2.4", backend: "tensorflow", model_config: modelConfig([{ class_name: "Lambda", config: lambdaCfg }]) },
        "/model_weights": { layer_names: ["lambda_1"], keras_version: "2.2.4" },
        "/model_weights/lambda_1": { weight_names: "EMPTY_F64" },
      },
    };
    const m = await loadModelFromBytes(await writeH5(spec), "lambda.h5");
    expect(m.layers[0].className).toBe("Lambda");
    expect(m.layers[0].config).toEqual(lambdaCfg);
  });

  it("a model_config that is not JSON, or without layers, is a FileError", async () => {
    const bad = (config: string) =>
      writeH5({ attrs: { "/": { keras_version: "2.2.4", model_config: config }, "/model_weights": { layer_names: "EMPTY_F64" } } });
    expect((await failure(loadModelFromBytes(await bad("{not json"), "a.h5"))).message).toMatch(/^a\.h5: model_config is not valid JSON/);
    expect((await failure(loadModelFromBytes(await bad('{"class_name": "MyModel", "config": {}}'), "b.h5"))).message).toMatch(
      /^b\.h5: the model config \(MyModel\) has no layer list/,
    );
  });

  it("a nested model's weight that names none of its layers is a FileError", async () => {
    const inner = { class_name: "Sequential", config: { name: "inner", layers: [{ class_name: "Dense", config: { name: "dense_1", units: 1 } }] } };
    const spec: H5Spec = {
      attrs: {
        "/": { keras_version: "2.2.4", model_config: modelConfig([inner]) },
        "/model_weights": { layer_names: ["inner"], keras_version: "2.2.4" },
        "/model_weights/inner": { weight_names: ["other/kernel:0"] },
      },
      datasets: { "/model_weights/inner/other/kernel:0": { shape: [1, 1], data: [1] } },
    };
    const err = await failure(loadModelFromBytes(await writeH5(spec), "nested.h5"));
    expect(err.message).toMatch(/weight 'other\/kernel:0' of Sequential layer 'inner' does not name any of its inner layers \(dense_1\)/);
  });
});

/** Builds a .keras zip from a config and a weights spec. */
async function archive(config: unknown, weights: H5Spec, level: 0 | 6 = 0): Promise<Uint8Array> {
  return zipSync(
    {
      "metadata.json": strToU8(JSON.stringify({ keras_version: "3.9.2", date_saved: "2025-01-01@00:00:00" })),
      "config.json": strToU8(JSON.stringify(config)),
      "model.weights.h5": await writeH5(weights),
    },
    { level },
  );
}

const k3Layer = (class_name: string, config: Record<string, unknown>) => ({ module: "keras.layers", class_name, config, registered_name: null });

describe("Keras 3 stores", () => {
  it("a re-zipped archive with DEFLATE entries loads like the STORED original", async () => {
    const path = fixturePath("tfk2_gru_stacked_v3.keras")!;
    const entries = unzipSync(readFileSync(path));
    const deflated = zipSync(entries, { level: 6 });
    const a = await loadModel(path);
    const b = await loadModelFromBytes(deflated, path);
    expect(b.layers.map((l) => l.weights.map((w) => [w.name, w.shape]))).toEqual(a.layers.map((l) => l.weights.map((w) => [w.name, w.shape])));
    expect(Array.from(b.layers[1].weights[2].data)).toEqual(Array.from(a.layers[1].weights[2].data));
  });

  it("MultiHeadAttention sub-objects are named by sub-path; vars sort numerically (vars/10 after vars/9)", async () => {
    const config = {
      module: "keras",
      class_name: "Sequential",
      config: { name: "s", layers: [k3Layer("MultiHeadAttention", { name: "mha", num_heads: 1, key_dim: 2 }), k3Layer("Custom", { name: "custom" })] },
    };
    const datasets: H5Spec["datasets"] = {};
    for (const part of ["query_dense", "key_dense", "value_dense", "output_dense"]) {
      datasets[`/layers/multi_head_attention/${part}/vars/0`] = { shape: [2, 1, 2], data: seq(4) };
      datasets[`/layers/multi_head_attention/${part}/vars/1`] = { shape: [1, 2], data: seq(2) };
    }
    for (let i = 0; i < 11; i++) datasets[`/layers/custom/vars/${i}`] = { shape: [1], data: [i] };
    const m = await loadModelFromBytes(await archive(config, { datasets }), "mha.keras");
    expect(m.layers[0].weights.map((w) => w.name).sort()).toEqual(
      ["key_dense/bias", "key_dense/kernel", "output_dense/bias", "output_dense/kernel", "query_dense/bias", "query_dense/kernel", "value_dense/bias", "value_dense/kernel"],
    );
    expect(m.layers[1].weights.map((w) => w.name)).toEqual(Array.from({ length: 11 }, (_, i) => `vars/${i}`));
    expect(m.layers[1].weights.map((w) => w.data[0])).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(m.notes.some((n) => /custom: Custom is not a known layer class/.test(n))).toBe(true);
  });

  it("a nested Sequential's layers are read from its own layers/ container", async () => {
    const inner = { module: "keras", class_name: "Sequential", config: { name: "inner", layers: [k3Layer("InputLayer", { name: "in", batch_shape: [null, 3] }), k3Layer("Dense", { name: "d", units: 2 })] } };
    const config = { module: "keras", class_name: "Sequential", config: { name: "outer", layers: [inner, k3Layer("Dense", { name: "out", units: 1 })] } };
    const weights: H5Spec = {
      datasets: {
        "/layers/sequential/layers/dense/vars/0": { shape: [3, 2], data: seq(6) },
        "/layers/sequential/layers/dense/vars/1": { shape: [2], data: seq(2) },
        "/layers/dense/vars/0": { shape: [2, 1], data: seq(2) },
        "/layers/dense/vars/1": { shape: [1], data: [0.25] },
      },
    };
    const m = await loadModelFromBytes(await archive(config, weights), "nested.keras");
    expect(m.layers[0].children.map((c) => [c.name, c.weights.map((w) => `${w.name}${JSON.stringify(w.shape)}`)])).toEqual([
      ["in", []],
      ["d", ["kernel[3,2]", "bias[2]"]],
    ]);
    expect(m.layers[1].weights[1].data[0]).toBe(0.25);
  });

  it("a variable count that disagrees with the class is a FileError naming the layer and counts", async () => {
    const config = { module: "keras", class_name: "Sequential", config: { name: "s", layers: [k3Layer("LSTM", { name: "lstm_a", units: 2, use_bias: true })] } };
    const weights: H5Spec = {
      datasets: { "/layers/lstm/cell/vars/0": { shape: [1, 8], data: seq(8) }, "/layers/lstm/cell/vars/1": { shape: [2, 8], data: seq(16) } },
    };
    const err = await failure(loadModelFromBytes(await archive(config, weights), "count.keras"));
    expect(err.message).toMatch(
      /^count\.keras!model\.weights\.h5: LSTM layer 'lstm_a' should store 3 variables \(kernel, recurrent_kernel, bias\) but '\/layers\/lstm\/cell\/vars' has 2$/,
    );
  });

  it("more config layers of a class than weight groups is a FileError, not a silent shift", async () => {
    const config = {
      module: "keras",
      class_name: "Sequential",
      config: { name: "s", layers: [k3Layer("Dense", { name: "a", units: 1 }), k3Layer("Dense", { name: "b", units: 1 })] },
    };
    const weights: H5Spec = { datasets: { "/layers/dense/vars/0": { shape: [1, 1], data: [1] }, "/layers/dense/vars/1": { shape: [1], data: [0] } } };
    const err = await failure(loadModelFromBytes(await archive(config, weights), "short.keras"));
    expect(err.message).toMatch(/the config has 2 Dense layer\(s\) but the weights file has 1 matching group\(s\) under '\/layers' \(dense\)/);
  });
});

describe("corrupt HDF5 that would hang the HDF5 library", () => {
  it("a global heap with a zero-size free-space object is refused before HDF5 parses it", async () => {
    // Found by mutating k3_dense_legacy.h5: bytes 3992 (0x70 -> 0x5c) and 4636 (-> 0x00).
    // `cmp -l` shows the two changes; `timeout 5 h5dump -A` on the result never finishes,
    // because the heap's free-space size then points at a zeroed object header.
    const bytes = Uint8Array.from(readFileSync(fixturePath("k3_dense_legacy.h5")!));
    expect(isGlobalHeapLoop(PagedReader.of(bytes), 2048)).toBe(false);
    bytes[3992] = 0x5c;
    bytes[4636] = 0x00;
    expect(isGlobalHeapLoop(PagedReader.of(bytes), 2048)).toBe(true);
    const err = await failure(loadModelFromBytes(bytes, "heap.h5"));
    expect(err.message).toBe("heap.h5: corrupt HDF5 global heap at byte 2048 (an object of size 0); the file is damaged");
  });

  it("random byte changes in real files give a model or a FileError, never anything else", async () => {
    let seed = 4242;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (const file of ["k1_lstm_theano_full.h5", "tfk2_bidir_simplernn_full.h5", "k3_dense_legacy.h5", "tfk2_gru_stacked_v3.keras"]) {
      const orig = readFileSync(fixturePath(file)!);
      for (let k = 0; k < 20; k++) {
        const b = Uint8Array.from(orig);
        for (let j = 0; j < 3; j++) b[8 + Math.floor(rnd() * (b.length - 8))] = Math.floor(rnd() * 256);
        try {
          await loadModelFromBytes(b, `${file}#${k}`);
        } catch (err) {
          expect(err, `${file}#${k}`).toBeInstanceOf(FileError);
          expect((err as Error).message).not.toContain("\n");
          expect((err as Error).message).not.toMatch(/could not read it as a Keras model/);
        }
      }
    }
  }, 30_000);
});
