// Whole models with attention layers through the CLI (predict, step), against the float32
// numpy reference written from Keras' source (test/reference/attention_reference.py).
// Skipped, saying so, where python3 with numpy is absent; the real fixtures' tests are
// skipped, saying so, where the file is not present.
//
// Tolerance: float32 on both sides, values of order 1 after a few sums of at most 64 terms;
// the CLI prints the shortest decimal of each float32 (--json), so 1e-5 absolute covers
// summation-order differences.
//
// Two traps in the real files decide what is tested where:
// - tfk2_attention_full.h5 applies Attention to 2-D tensors (batch, 32); tf.keras 2.11 then
//   scores each sample against every sample of the same batch, so its outputs depend on which
//   samples are predicted together: the reference groups samples by 32 (Keras' predict
//   default) and the tests check that predict does too, and says so.
// - k3_transformer_legacy.h5 normalizes over an axis of size 1 before its MultiHeadAttention,
//   so the attention always sees zero tokens and any MHA gives the model the same output. It
//   cannot tell a right MHA from a wrong one; MHA is therefore tested on files written here
//   (with non-zero biases and tokens that differ), in the Keras 3 and tf.keras 2 layouts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { loadModel } from "../../src/load/index.js";
import { runCli } from "../support/cli.js";
import { writer } from "../support/rnn-model-file.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { flat, nested, noteNumpySkipped, numpyAvailable, runAttentionReference, stopAttentionReference } from "../reference/attention.js";
import { randoms, rng } from "../layers/helpers.js";

noteNumpySkipped();
noteMissing("attention-models", ["tfk2_attention_full.h5", "k3_transformer_legacy.h5"]);
afterAll(stopAttentionReference);

const ATOL = 1e-5;
const dir = mkdtempSync(join(tmpdir(), "ki-attention-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function maxDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(0, ...a.map((x, i) => Math.abs(x - b[i])));
}

interface PredictJson {
  batch?: { size: number; samples_scored_together_by: string };
  outputs: { name: string; shape: number[]; values: number[] }[];
}

function predictJson(file: string, inputFile: string, extra: string[] = []): { doc: PredictJson; stderr: string } {
  const r = runCli(["predict", file, "--input-file", inputFile, "--json", ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return { doc: JSON.parse(r.stdout) as PredictJson, stderr: r.stderr };
}

const tfk2 = fixturePath("tfk2_attention_full.h5");

describe.skipIf(tfk2 === undefined || !numpyAvailable())("tfk2_attention_full.h5: Attention on 2-D tensors scores each batch against itself", async () => {
  const samples = 70; // batches of 32, 32 and 6
  const x = Array.from({ length: samples }, (_, s) => Array.from(randoms(rng(500 + s), 22, 0, 1)));
  const xFile = join(dir, "tfk2-x.json");
  writeFileSync(xFile, JSON.stringify(x));
  const reference = async (batchSize: number) => {
    const model = await loadModel(tfk2!);
    const weights: Record<string, unknown> = {};
    for (const layer of model.layers) for (const t of layer.weights) weights[`${layer.name}/${t.name}`] = nested(t.data, t.shape);
    return flat((await runAttentionReference({ layer: "tfk2_attention_model", weights, x, batch_size: batchSize })).output);
  };

  it("predict groups samples by 32 as Keras' predict does, says so on stderr and in the JSON, and matches the reference", async () => {
    const { doc, stderr } = predictJson(tfk2!, xFile);
    expect(doc.batch).toEqual({ size: 32, samples_scored_together_by: "attention" });
    expect(stderr).toContain("each sample is scored against every sample of its batch");
    expect(stderr).toContain("batches of 32 samples, Keras' predict default");
    const ref32 = await reference(32);
    expect(maxDiff(doc.outputs[0].values, ref32)).toBeLessThanOrEqual(ATOL);
    // The grouping matters: all 70 together give other numbers (worst difference far above the tolerance).
    const ref70 = await reference(70);
    expect(maxDiff(ref70, ref32)).toBeGreaterThan(1e-3);
  });

  it("check --expect compares with Keras' predict as Keras groups the samples (32 at a time)", async () => {
    const ref32 = await reference(32);
    const expected = join(dir, "tfk2-expected.json");
    writeFileSync(expected, JSON.stringify(ref32.map((v) => [v])));
    const ok = runCli(["check", tfk2!, "--input-file", xFile, "--expect", expected, "--json"]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { checks: { id: string; status: string; detail: string }[] };
    expect(report.checks.find((c) => c.id === "expect")?.status).toBe("pass");
    // The same numbers for one batch of all 70 (what Keras gives with batch_size=70) are not these.
    writeFileSync(expected, JSON.stringify((await reference(70)).map((v) => [v])));
    expect(runCli(["check", tfk2!, "--input-file", xFile, "--expect", expected]).status).toBe(1);
  });

  it("--batch-size changes the grouping, as batch_size does in Keras; worker threads keep Keras' grouping", async () => {
    const { doc, stderr } = predictJson(tfk2!, xFile, ["--batch-size", "70"]);
    expect(doc.batch?.size).toBe(70);
    expect(stderr).toContain("batches of 70 samples (--batch-size)");
    expect(maxDiff(doc.outputs[0].values, await reference(70))).toBeLessThanOrEqual(ATOL);
    const one = predictJson(tfk2!, xFile, ["--threads", "1"]).doc;
    const two = predictJson(tfk2!, xFile, ["--threads", "2"]).doc;
    expect(two.outputs[0].values).toEqual(one.outputs[0].values);
  });
});

const transformer = fixturePath("k3_transformer_legacy.h5");

describe.skipIf(transformer === undefined || !numpyAvailable())("k3_transformer_legacy.h5 (a file that cannot test MHA: its LayerNormalization over one feature outputs 0)", () => {
  it("gives the same output for any input, the one Keras' equations give for zero tokens", async () => {
    const xa = join(dir, "tr-a.json");
    const xb = join(dir, "tr-b.json");
    writeFileSync(xa, JSON.stringify([[[1], [2], [3], [4]]]));
    writeFileSync(xb, JSON.stringify([[[-7], [0.5], [30], [2]]]));
    const a = predictJson(transformer!, xa).doc.outputs[0].values;
    const b = predictJson(transformer!, xb).doc.outputs[0].values;
    expect(b).toEqual(a);
    // The reference: MHA on four zero tokens (the LayerNormalization's beta), then Flatten, Dense relu, Dense.
    const model = await loadModel(transformer!);
    const layer = (name: string) => model.layers.find((l) => l.name === name)!;
    const w = (l: string, t: string) => {
      const tensor = layer(l).weights.find((x) => x.name === t)!;
      return nested(tensor.data, tensor.shape);
    };
    const mha = layer("multi_head_attention");
    const weights = Object.fromEntries(mha.weights.map((t) => [t.name, nested(t.data, t.shape)]));
    const zeros = [[[0], [0], [0], [0]]];
    const attended = flat((await runAttentionReference({ layer: "mha", num_heads: 2, key_dim: 2, value_dim: 2, attention_axes: [1], weights, query: zeros, value: zeros })).output);
    const dense = (x: number[], k: number[][], bias: number[], relu: boolean) =>
      bias.map((bj, j) => {
        const v = Math.fround(x.reduce((acc, xi, i) => acc + xi * k[i][j], 0) + bj);
        return relu ? Math.max(0, v) : v;
      });
    const h = dense(attended, w("dense_9", "kernel") as number[][], w("dense_9", "bias") as number[], true);
    const expected = dense(h, w("dense_10", "kernel") as number[][], w("dense_10", "bias") as number[], false);
    expect(maxDiff(a, expected)).toBeLessThanOrEqual(ATOL);
  });
});

/** A MultiHeadAttention's tensors with random values (non-zero biases), named as HDF5 files store them. */
function mhaWeights(seed: number, prefix: string, suffix: string, H: number, keyDim: number, valueDim: number, D: number) {
  const r = rng(seed);
  const list: { name: string; shape: number[]; data: Float64Array }[] = [];
  const put = (part: string, kernel: number[], bias: number[]) => {
    list.push({ name: `${prefix}${part}/kernel${suffix}`, shape: kernel, data: randoms(r, kernel.reduce((a, b) => a * b, 1)) });
    list.push({ name: `${prefix}${part}/bias${suffix}`, shape: bias, data: randoms(r, bias.reduce((a, b) => a * b, 1), -0.5, 0.5) });
  };
  put("query", [D, H, keyDim], [H, keyDim]);
  put("key", [D, H, keyDim], [H, keyDim]);
  put("value", [D, H, valueDim], [H, valueDim]);
  put("attention_output", [H, valueDim, D], [D]);
  const byRole = Object.fromEntries(list.map((t) => [t.name.slice(prefix.length).replace(suffix, ""), nested(t.data, t.shape)]));
  return { list, byRole };
}

const mhaConfig = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  trainable: true,
  dtype: "float32",
  num_heads: 2,
  key_dim: 3,
  value_dim: 2,
  dropout: 0.1,
  use_bias: true,
  output_shape: null,
  attention_axes: [1],
  ...extra,
});

const keras3Tensor = (layer: string, shape: (number | null)[]) => ({ class_name: "__keras_tensor__", config: { shape, dtype: "float32", keras_history: [layer, 0, 0] } });

describe.skipIf(!numpyAvailable())("MultiHeadAttention in files written here (HDF5 layouts of Keras 3 and tf.keras 2)", () => {
  it("Keras 3: mha(query=x, value=y, use_causal_mask=True) recorded as args/kwargs", async () => {
    const D = 4;
    const { list, byRole } = mhaWeights(601, "mha/", "", 2, 3, 2, D);
    const config = {
      class_name: "Functional",
      config: {
        name: "m",
        layers: [
          { class_name: "InputLayer", config: { batch_shape: [null, 5, D], dtype: "float32", name: "x" }, name: "x", inbound_nodes: [] },
          { class_name: "InputLayer", config: { batch_shape: [null, 6, D], dtype: "float32", name: "y" }, name: "y", inbound_nodes: [] },
          {
            class_name: "MultiHeadAttention",
            config: mhaConfig("mha"),
            name: "mha",
            inbound_nodes: [{ args: [keras3Tensor("x", [null, 5, D]), keras3Tensor("y", [null, 6, D])], kwargs: { query_mask: null, value_mask: null, use_causal_mask: true } }],
          },
        ],
        input_layers: [["x", 0, 0], ["y", 0, 0]],
        output_layers: [["mha", 0, 0]],
      },
    };
    const w = await writer();
    const file = join(dir, "k3-mha.h5");
    writeFileSync(file, await w.writeKerasH5({ kerasVersion: "3.9.2", modelConfig: config, layers: [{ name: "x", weights: [] }, { name: "y", weights: [] }, { name: "mha", weights: list }] }));
    const r = rng(602);
    const x = nested(randoms(r, 3 * 5 * D), [3, 5, D]);
    const y = nested(randoms(r, 3 * 6 * D), [3, 6, D]);
    const xFile = join(dir, "k3-mha-x.json");
    writeFileSync(xFile, JSON.stringify({ x, y }));
    const { doc, stderr } = predictJson(file, xFile);
    expect(doc.batch).toBeUndefined();
    expect(stderr).toBe("");
    expect(doc.outputs[0].shape).toEqual([3, 5, D]);
    const ref = await runAttentionReference({ layer: "mha", num_heads: 2, key_dim: 3, value_dim: 2, attention_axes: [1], weights: byRole, query: x, value: y, causal: true });
    expect(maxDiff(doc.outputs[0].values, flat(ref.output))).toBeLessThanOrEqual(ATOL);
    // Without the causal mask the numbers differ: the call's kwargs are read, not ignored.
    const open = await runAttentionReference({ layer: "mha", num_heads: 2, key_dim: 3, value_dim: 2, attention_axes: [1], weights: byRole, query: x, value: y });
    expect(maxDiff(flat(open.output), flat(ref.output))).toBeGreaterThan(1e-3);
  });

  it("tf.keras 2: mha(x, x) recorded as [x, {value: x}], then an LSTM that `step` evaluates on the attention's output", async () => {
    const D = 4;
    const { list, byRole } = mhaWeights(603, "multi_head_attention/", ":0", 2, 3, 2, D);
    const r = rng(604);
    const units = 3;
    const lstm = [
      { name: "lstm/lstm_cell/kernel:0", shape: [D, 4 * units], data: randoms(r, D * 4 * units) },
      { name: "lstm/lstm_cell/recurrent_kernel:0", shape: [units, 4 * units], data: randoms(r, units * 4 * units) },
      { name: "lstm/lstm_cell/bias:0", shape: [4 * units], data: randoms(r, 4 * units) },
    ];
    const config = {
      class_name: "Functional",
      config: {
        name: "model",
        layers: [
          { class_name: "InputLayer", config: { batch_input_shape: [null, 5, D], dtype: "float32", name: "x" }, name: "x", inbound_nodes: [] },
          { class_name: "MultiHeadAttention", config: mhaConfig("multi_head_attention", { attention_axes: null }), name: "multi_head_attention", inbound_nodes: [[["x", 0, 0, { value: ["x", 0, 0] }]]] },
          {
            class_name: "LSTM",
            config: { name: "lstm", units, activation: "tanh", recurrent_activation: "sigmoid", use_bias: true, return_sequences: false, return_state: false, go_backwards: false, stateful: false, unroll: false, implementation: 2 },
            name: "lstm",
            inbound_nodes: [[["multi_head_attention", 0, 0, {}]]],
          },
        ],
        input_layers: [["x", 0, 0]],
        output_layers: [["multi_head_attention", 0, 0], ["lstm", 0, 0]],
      },
    };
    const w = await writer();
    const file = join(dir, "tfk2-mha-lstm.h5");
    writeFileSync(
      file,
      await w.writeKerasH5({
        kerasVersion: "2.11.0",
        modelConfig: config,
        layers: [{ name: "x", weights: [] }, { name: "multi_head_attention", weights: list }, { name: "lstm", weights: lstm }],
      }),
    );
    const x = nested(randoms(rng(605), 2 * 5 * D), [2, 5, D]);
    const xFile = join(dir, "tfk2-mha-x.json");
    writeFileSync(xFile, JSON.stringify(x));
    const { doc } = predictJson(file, xFile);
    const ref = flat((await runAttentionReference({ layer: "mha", num_heads: 2, key_dim: 3, value_dim: 2, attention_axes: null, weights: byRole, query: x, value: x })).output);
    expect(maxDiff(doc.outputs[0].values, ref)).toBeLessThanOrEqual(ATOL);

    // summary connects the MHA to x twice, as Keras' does (query, and value from the kwargs).
    const summary = runCli(["summary", file]);
    expect(summary.status, summary.stderr).toBe(0);
    const row = summary.stdout.split("\n").findIndex((l) => l.startsWith("multi_head_attention ("));
    expect(summary.stdout.split("\n")[row]).toContain("x[0][0]");
    expect(summary.stdout.split("\n")[row + 1].trim()).toBe("x[0][0]");

    // step on the LSTM: its inputs are the attention's outputs, its last h the model's second output.
    const s = runCli(["step", file, "--layer", "lstm", "--input-file", xFile, "--json"]);
    expect(s.status, s.stderr).toBe(0);
    const trace = JSON.parse(s.stdout) as { directions: { samples: { x: number[]; h: number[] }[][] }[] };
    const steps = trace.directions[0].samples;
    expect(maxDiff(steps.flatMap((sample) => sample.flatMap((st) => st.x)), ref)).toBeLessThanOrEqual(ATOL);
    expect(steps.flatMap((sample) => sample[sample.length - 1].h)).toEqual(doc.outputs[1].values);
  });
});

describe("step after an attention that scores the batch against itself", () => {
  it("evaluates up to 32 samples as one batch and refuses more, pointing to predict", async () => {
    const units = 2;
    const r = rng(606);
    const config = {
      class_name: "Functional",
      config: {
        name: "model",
        layers: [
          { class_name: "InputLayer", config: { batch_input_shape: [null, 4], dtype: "float32", name: "x" }, name: "x", inbound_nodes: [] },
          { class_name: "Attention", config: { name: "attention", use_scale: false, score_mode: "dot", dropout: 0.0 }, name: "attention", inbound_nodes: [[["x", 0, 0, {}], ["x", 0, 0, {}]]] },
          { class_name: "RepeatVector", config: { name: "repeat", n: 3 }, name: "repeat", inbound_nodes: [[["attention", 0, 0, {}]]] },
          {
            class_name: "LSTM",
            config: { name: "lstm", units, activation: "tanh", recurrent_activation: "sigmoid", use_bias: true, return_sequences: false, go_backwards: false, stateful: false, implementation: 2 },
            name: "lstm",
            inbound_nodes: [[["repeat", 0, 0, {}]]],
          },
        ],
        input_layers: [["x", 0, 0]],
        output_layers: [["lstm", 0, 0]],
      },
    };
    const lstm = [
      { name: "lstm/lstm_cell/kernel:0", shape: [4, 4 * units], data: randoms(r, 16 * units) },
      { name: "lstm/lstm_cell/recurrent_kernel:0", shape: [units, 4 * units], data: randoms(r, 4 * units * units) },
      { name: "lstm/lstm_cell/bias:0", shape: [4 * units], data: randoms(r, 4 * units) },
    ];
    const w = await writer();
    const file = join(dir, "tfk2-attention-lstm.h5");
    writeFileSync(file, await w.writeKerasH5({ kerasVersion: "2.11.0", modelConfig: config, layers: [{ name: "x", weights: [] }, { name: "attention", weights: [] }, { name: "repeat", weights: [] }, { name: "lstm", weights: lstm }] }));
    const few = join(dir, "few.json");
    const many = join(dir, "many.json");
    writeFileSync(few, JSON.stringify(nested(randoms(r, 3 * 4), [3, 4])));
    writeFileSync(many, JSON.stringify(nested(randoms(r, 40 * 4), [40, 4])));
    const ok = runCli(["step", file, "--input-file", few, "--json"]);
    expect(ok.status, ok.stderr).toBe(0);
    // The LSTM's last h per sample is what predict gives for the same three samples (one batch either way).
    const trace = JSON.parse(ok.stdout) as { directions: { samples: { h: number[] }[][] }[] };
    const predicted = predictJson(file, few).doc.outputs[0].values;
    expect(trace.directions[0].samples.flatMap((sample) => sample[sample.length - 1].h)).toEqual(predicted);
    const refused = runCli(["step", file, "--input-file", many]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^keras-inspect: layer 'attention' \(Attention\) scores each sample against the other samples of its batch.*at most 32/);
  });
});
