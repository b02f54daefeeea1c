// TensorFlow.js layers-models (src/load/tfjs.ts) against TensorFlow.js itself:
// - every weight of every real tfjs export equals, bit for bit, what tfjs-core's own
//   decoder (tf.io.decodeWeights) makes of the same shard bytes;
// - the model tfjs builds from the same files (tf.loadLayersModel on an in-memory handler,
//   the weights laid out as tfjs' http loader lays them) predicts what our predict does;
// - quantized weights (uint8, uint16, float16), which no public export was found to use,
//   in a model this test writes itself: dequantized exactly as tfjs does; diffed against the
//   float model they came from: "within quantization" in every tensor and gate, while one code
//   moved by 2 steps is "different", naming the gate and unit;
// - the Keras file a tfjs export was converted from diffs "equal" against it, and a copy
//   with one value changed diffs "different" naming the gate and unit;
// - shard paths and manifest claims from a hostile model.json are refused in one line.
import * as tf from "@tensorflow/tfjs";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { diffModels } from "../../src/diff/index.js";
import { FileError } from "../../src/errors.js";
import { predict } from "../../src/eval/predict.js";
import type { Value } from "../../src/layers/kind.js";
import { loadModel } from "../../src/load/index.js";
import { halfToNumber } from "../../src/load/half.js";
import { loadTfjs } from "../../src/load/tfjs.js";
import { allWeights, type Model, type Tensor, walkLayers } from "../../src/model.js";
import { Draw, prng } from "../reference/keras-golden.js";
import { expectAllClose } from "../support/compare.js";
import { exportPath, noteMissingExports } from "./export-fixtures.js";

/**
 * The real exports, with the input each is fed: floats in [-1, 1], or one-hot rows for the
 * text generator, which was trained on one-hot characters; on dense random rows its
 * hard_sigmoid LSTM amplifies float32 rounding until our own float32 and float64 results
 * differ by 1e-2, so no two float32 implementations could agree there. Models behind an
 * Embedding get token ids.
 */
const TFJS_EXPORTS: [folder: string, file: string, input: "floats" | "one-hot"][] = [
  ["tfjs_bilstm3_keras215_pair", "model.json", "floats"],
  ["tfjs_bilstm_conv1d_unpaired", "model.json", "floats"],
  ["tfjs_gru_resetafter_false_unpaired", "model.json", "floats"],
  ["tfjs_lstm_textgen_legacy_format_unpaired", "model.json", "one-hot"],
  ["tfjs_simplernn_unpaired", "model.json", "floats"],
  ["tfjs_written_by_tfjs_bidirectional_lstm_unpaired", "model.json", "floats"],
  ["tfjs_written_by_tfjs_gru_unpaired", "model.json", "floats"],
  ["tfjs_written_by_tfjs_simple_rnn_unpaired", "model.json", "floats"],
  ["tfjs_written_by_tfjs_time_distributed_lstm_unpaired", "model.json", "floats"],
];
noteMissingExports(
  "exports-tfjs",
  TFJS_EXPORTS.map(([d, f]) => [d, f]),
);

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

/**
 * What tfjs' http loader hands to loadLayersModel for a model.json: the topology, every
 * group's weight entries in order, and every group's shard files concatenated in order.
 */
async function tfjsArtifacts(modelJson: string): Promise<tf.io.ModelArtifacts> {
  const json = JSON.parse(await readFile(modelJson, "utf8"));
  const buffers: Buffer[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) buffers.push(await readFile(join(dirname(modelJson), p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(buffers);
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
}

/** Our tensors by the name the manifest gave them (Tensor.path). */
function byManifestName(model: Model): Map<string, Tensor> {
  return new Map(model.layers.flatMap(allWeights).map((t) => [t.path, t]));
}

async function expectSameWeights(ours: Model, artifacts: tf.io.ModelArtifacts): Promise<void> {
  const theirs = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  const mine = byManifestName(ours);
  expect([...mine.keys()].sort()).toEqual(Object.keys(theirs).sort());
  for (const [name, t] of Object.entries(theirs)) {
    const m = mine.get(name)!;
    expect(m.shape, name).toEqual(t.shape);
    expect(Array.from(m.data), name).toEqual(Array.from(await t.data()));
  }
}

/** A seeded input for a tfjs model's first input: token ids behind an Embedding, else floats or one-hot rows. */
function inputFor(model: tf.LayersModel, seed: number, kind: "floats" | "one-hot"): { shape: number[]; data: Float64Array } {
  const shape = model.inputs[0].shape.map((d, k) => (d !== null ? d : k === 0 ? 2 : 6));
  const draw = new Draw(prng(seed));
  const first = model.layers.find((l) => l.getClassName() !== "InputLayer")!;
  const vocabulary = first.getClassName() === "Embedding" ? (first.getConfig().inputDim as number) : 0;
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  const width = shape[shape.length - 1];
  if (kind === "one-hot") for (let row = 0; row < data.length / width; row++) data[row * width + draw.int(0, width - 1)] = 1;
  else for (let k = 0; k < data.length; k++) data[k] = vocabulary > 0 ? draw.int(1, vocabulary - 1) : Math.fround(draw.uniform(-1, 1));
  return { shape, data };
}

async function expectSamePredict(ours: Model, artifacts: tf.io.ModelArtifacts, seed: number, what: string, kind: "floats" | "one-hot" = "floats"): Promise<void> {
  const theirs = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const x = inputFor(theirs, seed, kind);
  const expected = tf.tidy(() => (theirs.predict(tf.tensor(Float32Array.from(x.data), x.shape)) as tf.Tensor).dataSync());
  const input: Value = { shape: x.shape, data: x.data };
  const got = predict(ours, [input], { dtype: "float32" }).outputs[0].value.data;
  // Stacks of recurrent layers (three Bidirectional LSTMs, two 256-unit GRUs) add up float32
  // rounding that tfjs and we order differently: 1e-5 per value, relative to its size.
  expectAllClose(got, expected, { atol: 1e-5, rtol: 1e-5 }, `${what}: predict against tf.loadLayersModel`);
  theirs.dispose();
}

describe("real TensorFlow.js exports", () => {
  for (const [folder, file, input] of TFJS_EXPORTS) {
    const path = exportPath(folder, file);
    it.skipIf(!path)(`${folder}: weights equal tf.io.decodeWeights, predict equals tf.loadLayersModel`, async () => {
      const ours = await loadTfjs(dirname(path!));
      expect(ours.format).toBe("tfjs-layers");
      expect(ours.source).toBe(path);
      const artifacts = await tfjsArtifacts(path!);
      await expectSameWeights(ours, artifacts);
      await expectSamePredict(ours, artifacts, 14, folder, input);
    });
  }

  const pair = exportPath("tfjs_bilstm3_keras215_pair", "model.json");
  const keras = exportPath("tfjs_bilstm3_keras215_pair", "fav.h5");
  it.skipIf(!pair || !keras)("the Keras file it was converted from diffs equal to it, layer by layer and gate by gate", async () => {
    const r = diffModels(await loadModel(keras!), await loadTfjs(pair!));
    expect(r.verdict).toBe("equal");
    expect(r.layers.map((l) => [l.pathA, l.matchedBy, l.status])).toEqual([
      ["bidirectional_51/forward_lstm_67", "path", "equal"],
      ["bidirectional_51/backward_lstm_67", "path", "equal"],
      ["bidirectional_52/forward_lstm_68", "path", "equal"],
      ["bidirectional_52/backward_lstm_68", "path", "equal"],
      ["bidirectional_53/forward_lstm_69", "path", "equal"],
      ["bidirectional_53/backward_lstm_69", "path", "equal"],
      ["dense_22", "path", "equal"],
    ]);
    expect(r.layers[0].gates.map((g) => [g.gate, g.changed])).toEqual([
      ["i", false],
      ["f", false],
      ["c", false],
      ["o", false],
    ]);
  });
});

// ---------------------------------------------------------------------------
// Models this test writes: quantized weights, a changed value, hostile manifests
// ---------------------------------------------------------------------------

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "keras-inspect-tfjs-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface WrittenModel {
  dir: string;
  artifacts: tf.io.ModelArtifacts;
}

/** Writes model.json and its weights, cut into shards of `shardBytes`, into a new folder. */
async function writeTfjsModel(name: string, topology: unknown, specs: tf.io.WeightsManifestEntry[], data: Uint8Array, shardBytes = 1 << 20, extra: Record<string, unknown> = {}): Promise<WrittenModel> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let at = 0, k = 1; at < data.length || k === 1; at += shardBytes, k++) {
    const shard = `group1-shard${k}.bin`;
    await writeFile(join(dir, shard), data.subarray(at, at + shardBytes));
    paths.push(shard);
    if (at + shardBytes >= data.length) break;
  }
  await writeFile(join(dir, "model.json"), JSON.stringify({ format: "layers-model", modelTopology: topology, weightsManifest: [{ paths, weights: specs }], ...extra }));
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  return { dir, artifacts: { modelTopology: topology as tf.io.ModelArtifacts["modelTopology"], weightSpecs: specs, weightData } };
}

/** A small LSTM + Dense model built by tfjs with seeded weights, as tfjs saves it. */
async function smallModel(): Promise<{ topology: unknown; specs: tf.io.WeightsManifestEntry[]; values: Float32Array[] }> {
  const model = tf.sequential({
    layers: [tf.layers.lstm({ units: 5, inputShape: [4, 3], recurrentActivation: "sigmoid" }), tf.layers.dense({ units: 2 })],
  });
  const draw = new Draw(prng(3));
  model.setWeights(model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => draw.uniform(-0.8, 0.8)), w.shape)));
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
  const specs = saved!.weightSpecs!;
  const all = new Float32Array(saved!.weightData as ArrayBuffer);
  let at = 0;
  const values = specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = all.slice(at, at + n);
    at += n;
    return v;
  });
  model.dispose();
  return { topology: saved!.modelTopology, specs, values };
}

/** The positive finite half-precision values, in bit order (which is value order). */
const HALVES = Array.from({ length: 0x7c00 }, (_, b) => (b >> 10 === 0 ? (b & 0x3ff) * 2 ** -24 : ((b & 0x3ff) + 1024) * 2 ** ((b >> 10) - 25)));

/** The half-precision bits nearest to x (ties to the lower magnitude; any valid rounding serves here). */
function toHalfBits(x: number): number {
  const a = Math.abs(x);
  let lo = 0;
  let hi = HALVES.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (HALVES[mid] <= a) lo = mid;
    else hi = mid;
  }
  const bits = a - HALVES[lo] <= HALVES[hi] - a ? lo : hi;
  return (x < 0 || Object.is(x, -0) ? 0x8000 : 0) | bits;
}

type Scheme = "uint8" | "uint16" | "float16";

/** Quantizes each tensor by its scheme, as the tfjs converter's affine quantization does, into one byte stream. */
function quantize(specs: tf.io.WeightsManifestEntry[], values: Float32Array[], schemes: Scheme[]): { specs: tf.io.WeightsManifestEntry[]; data: Uint8Array; steps: number[] } {
  const parts: Uint8Array[] = [];
  const steps: number[] = [];
  const out = specs.map((spec, k) => {
    const v = values[k];
    const scheme = schemes[k % schemes.length];
    if (scheme === "float16") {
      const bits = Uint16Array.from(v, toHalfBits);
      parts.push(new Uint8Array(bits.buffer));
      steps.push(0);
      return { ...spec, quantization: { dtype: "float16" as const } };
    }
    const levels = scheme === "uint8" ? 255 : 65535;
    const min = Math.min(...v);
    const scale = (Math.max(...v) - min) / levels || 1;
    const q = Array.from(v, (x) => Math.min(levels, Math.max(0, Math.round((x - min) / scale))));
    parts.push(scheme === "uint8" ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer));
    steps.push(scale);
    return { ...spec, quantization: { dtype: scheme, scale, min } };
  });
  const data = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { specs: out, data, steps };
}

describe("quantized weights (written by this test: no public export uses them)", () => {
  for (const schemes of [["uint8"], ["uint16"], ["float16"], ["uint8", "uint16", "float16"]] as Scheme[][]) {
    it(`${schemes.join(" + ")}: dequantized as tf.io.decodeWeights does, within a step of the original, predict as tfjs`, async () => {
      const { topology, specs, values } = await smallModel();
      const q = quantize(specs, values, schemes);
      // Shards of 37 bytes: weights straddle shard boundaries at odd offsets.
      const written = await writeTfjsModel(`quantized-${schemes.join("-")}`, topology, q.specs, q.data, 37);
      const ours = await loadTfjs(written.dir);
      await expectSameWeights(ours, written.artifacts);
      const mine = byManifestName(ours);
      q.specs.forEach((spec, k) => {
        const got = mine.get(spec.name)!.data;
        // uint: half a step of rounding plus float32's; float16: half a unit in its 11th bit.
        values[k].forEach((x, i) => expect(Math.abs(got[i] - x), spec.name).toBeLessThanOrEqual(q.steps[k] ? q.steps[k] * 0.5001 : Math.abs(x) * 2 ** -11 + 2 ** -25));
      });
      const lstm = [...walkLayers(ours.layers)].find((e) => e.layer.className === "LSTM")!.layer;
      expect(lstm.notes!.join("\n")).toMatch(schemes[0] === "float16" ? /kernel: stored as float16, widened to float32 exactly/ : new RegExp(`kernel: stored as ${schemes[0]} q with scale .* and min .*: dequantized as q·scale \\+ min`));
      expect(ours.notes.some((n) => /stored quantized; dequantized as TensorFlow\.js does/.test(n))).toBe(true);
      await expectSamePredict(ours, written.artifacts, 5, "quantized");
      // Against the float model: every weight within half a step (uint: the scale, float16: the
      // float16 spacing at the value), so "within quantization", each gate's max |Δ| ≤ 0.5 step
      // (tolerance: diff's float32 slack, under 0.016 step for uint16, none beyond 0.5 here but 1e-3 is allowed).
      const float = await writeTfjsModel(`float-for-${schemes.join("-")}`, topology, specs, new Uint8Array(Float32Array.from(values.flatMap((v) => Array.from(v))).buffer));
      const r = diffModels(await loadTfjs(float.dir), ours);
      expect(r.verdict).toBe("within-quantization");
      expect(r.layers.map((l) => l.status)).toEqual(["within-quantization", "within-quantization"]);
      const tensors = r.layers.flatMap((l) => l.tensors);
      expect(tensors.map((t) => t.quantization?.scheme)).toEqual(q.specs.map((s) => (s.quantization!.dtype === "float16" ? "float16" : "step")));
      // A tensor of two values (the Dense bias) holds exactly its min and max, which uint codes 0 and 255 give back: equal.
      for (const t of tensors) expect([t.count > 2 || t.quantization!.scheme === "float16" ? t.status === "within-quantization" : t.status === "equal", t.quantization!.side, t.quantization!.beyond, t.quantization!.maxSteps <= 0.5 + 1e-3], t.name).toEqual([true, "B", 0, true]);
      const gates = r.layers.find((l) => l.classA === "LSTM")!.gates;
      expect(gates.map((g) => g.status)).toEqual(["within-quantization", "within-quantization", "within-quantization", "within-quantization"]);
      for (const g of gates) expect(g.maxSteps!).toBeLessThanOrEqual(0.5 + 1e-3);
    });
  }

  it("uint8 with one code moved by 2 steps: 'different', naming the gate and unit; the other gates within quantization", async () => {
    const { topology, specs, values } = await smallModel();
    const q = quantize(specs, values, ["uint8"]);
    const kernel = specs.findIndex((s) => /lstm.*\/kernel$/.test(s.name));
    // uint8: one byte per value, tensors in manifest order. kernel is (3, 20): row 1, column 7 is gate f (columns 5-9), unit 2.
    const at = specs.slice(0, kernel).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0) + 1 * 20 + 7;
    q.data[at] += q.data[at] <= 253 ? 2 : -2;
    const float = await writeTfjsModel("float-for-nudged", topology, specs, new Uint8Array(Float32Array.from(values.flatMap((v) => Array.from(v))).buffer));
    const nudged = await writeTfjsModel("uint8-nudged", topology, q.specs, q.data);
    const r = diffModels(await loadTfjs(float.dir), await loadTfjs(nudged.dir));
    expect(r.verdict).toBe("different");
    const lstm = r.layers.find((l) => l.classA === "LSTM")!;
    expect(lstm.status).toBe("different");
    expect(lstm.gates.map((g) => [g.gate, g.status])).toEqual([["i", "within-quantization"], ["f", "different"], ["c", "within-quantization"], ["o", "within-quantization"]]);
    const f = lstm.gates[1];
    expect([f.worst, f.unit]).toEqual(["kernel_f[1, 2]", 2]);
    // Moved by 2 steps from a code within half a step of the value: 1.5 to 2.5 steps away.
    expect(f.maxSteps!).toBeGreaterThanOrEqual(1.5);
    expect(f.maxSteps!).toBeLessThanOrEqual(2.5 + 1e-3);
    const k = lstm.tensors.find((t) => t.name === "kernel")!;
    expect([k.status, k.quantization!.beyond, k.worst!.index, k.worst!.gate, k.worst!.unit]).toEqual(["different", 1, [1, 7], "f", 2]);
    expect(r.layers.find((l) => l.classA === "Dense")!.status).toBe("within-quantization");
  });

  it("float16 zero, subnormals, the largest half, infinities and NaN decode as tfjs decodes them", async () => {
    const bits = Uint16Array.from([0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x3555]);
    const [t] = Object.values(tf.io.decodeWeights(bits.buffer, [{ name: "w", shape: [bits.length], dtype: "float32", quantization: { dtype: "float16" } }]));
    expect(Array.from(bits, halfToNumber)).toEqual(Array.from(await t.data()));
    expect(Object.is(halfToNumber(0x8000), -0)).toBe(true);
  });
});

describe("diff against a changed copy", () => {
  it("one kernel value changed is 'different', naming the tensor, gate and unit", async () => {
    const { topology, specs, values } = await smallModel();
    const bytes = (vs: Float32Array[]) => new Uint8Array(Float32Array.from(vs.flatMap((v) => Array.from(v))).buffer);
    const original = await writeTfjsModel("original", topology, specs, bytes(values));
    const changed = values.map((v) => v.slice());
    const kernel = specs.findIndex((s) => /lstm.*\/kernel$/.test(s.name));
    // kernel is (3, 20): row 1, column 7 is gate f (columns 5-9), unit 2.
    changed[kernel][1 * 20 + 7] += 0.25;
    const edited = await writeTfjsModel("edited", topology, specs, bytes(changed));
    const r = diffModels(await loadTfjs(original.dir), await loadTfjs(edited.dir));
    expect(r.verdict).toBe("different");
    const lstm = r.layers.find((l) => l.classA === "LSTM")!;
    expect(lstm.gates.filter((g) => g.changed).map((g) => [g.gate, g.worst])).toEqual([["f", "kernel_f[1, 2]"]]);
    const kernelDiff = lstm.tensors.find((t) => t.name === "kernel")!;
    expect([kernelDiff.worst?.gate, kernelDiff.worst?.unit, kernelDiff.changed]).toEqual(["f", 2, 1]);
  });
});

// ---------------------------------------------------------------------------
// Hostile model.json files
// ---------------------------------------------------------------------------

const LSTM_TOPOLOGY = {
  class_name: "Sequential",
  config: { name: "s", layers: [{ class_name: "LSTM", config: { name: "lstm", units: 1, batch_input_shape: [null, 2, 1] } }] },
};
const LSTM_SPECS = [
  { name: "lstm/kernel", shape: [1, 4], dtype: "float32" },
  { name: "lstm/recurrent_kernel", shape: [1, 4], dtype: "float32" },
  { name: "lstm/bias", shape: [4], dtype: "float32" },
];

async function hostile(name: string, manifest: unknown, extra: Record<string, unknown> = {}): Promise<string> {
  const dir = join(scratch, "hostile", name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "model.json"), JSON.stringify({ modelTopology: LSTM_TOPOLOGY, weightsManifest: manifest, ...extra }));
  return dir;
}

async function refusal(dir: string): Promise<string> {
  const err = await loadTfjs(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FileError);
  const message = (err as FileError).message;
  expect(message).not.toContain("\n");
  expect(message.startsWith(join(dir, "model.json"))).toBe(true);
  return message;
}

describe("hostile model.json: one line, nothing read outside the folder, nothing allocated by a claim", () => {
  const shardOf = (paths: string[]) => [{ paths, weights: LSTM_SPECS }];

  it("shard paths that leave the folder, are absolute, or are URLs", async () => {
    await writeFile(join(scratch, "outside.bin"), new Uint8Array(48));
    expect(await refusal(await hostile("dotdot", shardOf(["../../outside.bin"])))).toMatch(/weight shard '\.\.\/\.\.\/outside\.bin' leaves the model's folder/);
    expect(await refusal(await hostile("dotdot-inner", shardOf(["a/../../outside.bin"])))).toMatch(/leaves the model's folder/);
    expect(await refusal(await hostile("absolute", shardOf([join(scratch, "outside.bin")])))).toMatch(/is an absolute path/);
    expect(await refusal(await hostile("url", shardOf(["https://example.com/w.bin"])))).toMatch(/is a URL/);
  });

  it("a symbolic link out of the folder is refused, one inside it is followed", async () => {
    const out = await hostile("link-out", shardOf(["w.bin"]));
    await symlink(join(scratch, "outside.bin"), join(out, "w.bin"));
    expect(await refusal(out)).toMatch(/weight shard 'w\.bin' resolves \(through a symbolic link\) to .*outside\.bin, outside the model's folder/);
    const inside = await hostile("link-in", shardOf(["w.bin"]));
    await writeFile(join(inside, "real.bin"), new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).buffer));
    await symlink(join(inside, "real.bin"), join(inside, "w.bin"));
    const m = await loadTfjs(inside);
    expect(Array.from(m.layers[0].weights[2].data)).toEqual([9, 10, 11, 12]);
  });

  it("a FIFO or a folder as a shard is refused without waiting on it", async () => {
    const fifo = await hostile("fifo", shardOf(["w.bin"]));
    execFileSync("mkfifo", [join(fifo, "w.bin")]);
    expect(await refusal(fifo)).toMatch(/weight shard 'w\.bin' is not a regular file/);
    const folder = await hostile("folder", shardOf(["w.bin"]));
    await mkdir(join(folder, "w.bin"));
    expect(await refusal(folder)).toMatch(/weight shard 'w\.bin' is not a regular file/);
  });

  it("shards shorter than the weights, a missing shard", async () => {
    const short = await hostile("short", shardOf(["w.bin"]));
    await writeFile(join(short, "w.bin"), new Uint8Array(47));
    expect(await refusal(short)).toMatch(/weight group 1 needs 48 bytes for its 3 weight\(s\), but its shards \(w\.bin\) hold 47/);
    expect(await refusal(await hostile("missing", shardOf(["nothing.bin"])))).toMatch(/weight shard 'nothing\.bin': no such file/);
  });

  it("a claimed shape of 10^12 values is refused before any shard is opened", async () => {
    const dir = await hostile("huge", [{ paths: ["absent.bin"], weights: [{ name: "lstm/kernel", shape: [1000000, 1000000], dtype: "float32" }] }]);
    expect(await refusal(dir)).toMatch(/weight 'lstm\/kernel' claims shape \[1000000, 1000000\], over the \d+-byte limit/);
    const many = await hostile("many", [{ paths: ["absent.bin"], weights: Array.from({ length: 5 }, (_, k) => ({ name: `w${k}`, shape: [16384, 16384], dtype: "float32" })) }]);
    expect(await refusal(many)).toMatch(/weightsManifest claims over \d+ bytes of weights/);
  });

  it("malformed entries: negative or fractional dims, unknown dtypes and quantizations, duplicate names, unknown layers", async () => {
    const one = (w: Record<string, unknown>) => [{ paths: ["w.bin"], weights: [w] }];
    expect(await refusal(await hostile("neg", one({ name: "lstm/kernel", shape: [-1, 4], dtype: "float32" })))).toMatch(/shape that is not a list of at most 16 non-negative integers/);
    expect(await refusal(await hostile("frac", one({ name: "lstm/kernel", shape: [1.5], dtype: "float32" })))).toMatch(/non-negative integers/);
    expect(await refusal(await hostile("string", one({ name: "lstm/kernel", shape: [1], dtype: "string" })))).toMatch(/has dtype "string"; Keras layer weights are float32/);
    expect(await refusal(await hostile("q", one({ name: "lstm/kernel", shape: [1], dtype: "float32", quantization: { dtype: "int4" } })))).toMatch(/quantization that is not uint8, uint16 or float16/);
    expect(await refusal(await hostile("q-noscale", one({ name: "lstm/kernel", shape: [1], dtype: "float32", quantization: { dtype: "uint8" } })))).toMatch(/uint8-quantized without a finite scale and min/);
    const twice = await hostile("twice", [{ paths: ["w.bin"], weights: [LSTM_SPECS[0], LSTM_SPECS[0]] }]);
    expect(await refusal(twice)).toMatch(/names weight 'lstm\/kernel' twice/);
    const stranger = await hostile("stranger", [{ paths: ["w.bin"], weights: [{ name: "dense_9/kernel", shape: [1], dtype: "float32" }] }]);
    await writeFile(join(stranger, "w.bin"), new Uint8Array(4));
    expect(await refusal(stranger)).toMatch(/holds weight 'dense_9\/kernel', which names no layer of the model config/);
  });

  it("not a layers-model: graph models, other formats, not JSON, no topology", async () => {
    expect(await refusal(await hostile("graph", [], { format: "graph-model" }))).toMatch(/is a TensorFlow\.js graph model .*not a layers-model/);
    const graphTopology = join(scratch, "hostile", "graph-topology");
    await mkdir(graphTopology, { recursive: true });
    await writeFile(join(graphTopology, "model.json"), JSON.stringify({ modelTopology: { node: [], versions: {} }, weightsManifest: [] }));
    expect(await refusal(graphTopology)).toMatch(/TensorFlow\.js graph model/);
    const notJson = join(scratch, "hostile", "not-json");
    await mkdir(notJson, { recursive: true });
    await writeFile(join(notJson, "model.json"), "{ this is not JSON");
    expect(await refusal(notJson)).toMatch(/model\.json is not valid JSON/);
    const deep = join(scratch, "hostile", "deep");
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, "model.json"), "[".repeat(100000));
    expect(await refusal(deep)).toMatch(/nested deeper than 200 levels/);
  });
});

describe("loadModel finds a TensorFlow.js model by content, from model.json or its folder", () => {
  const dir = exportPath("tfjs_written_by_tfjs_gru_unpaired", "model.json");
  it.skipIf(!dir)("a folder holding model.json, model.json itself, and model.json under another name", async () => {
    const folder = dirname(dir!);
    expect((await loadModel(folder)).format).toBe("tfjs-layers");
    expect((await loadModel(dir!)).format).toBe("tfjs-layers");
    const renamed = join(scratch, "renamed");
    await mkdir(renamed, { recursive: true });
    await writeFile(join(renamed, "exported.bin"), await readFile(join(folder, "weights.bin")));
    const json = JSON.parse(await readFile(dir!, "utf8"));
    json.weightsManifest[0].paths = ["exported.bin"];
    await writeFile(join(renamed, "gru.h5"), "\ufeff  " + JSON.stringify(json));
    const m = await loadModel(join(renamed, "gru.h5"));
    expect([m.format, m.layers.map((l) => l.name)]).toEqual(["tfjs-layers", ["embedding_Embedding2", "gru_GRU1"]]);
  });

  it("JSON that names no modelTopology is still not a model file; a model.json from bytes alone is refused", async () => {
    const { loadModelFromBytes } = await import("../../src/load/index.js");
    const other = join(scratch, "other.json");
    await writeFile(other, '{"class_name": "Sequential"}');
    await expect(loadModel(other)).rejects.toThrow(/other\.json: not a TensorFlow\.js model\.json \(no JSON object naming modelTopology/);
    await expect(loadModelFromBytes(new TextEncoder().encode('{"modelTopology": {}}'), "bytes#1")).rejects.toThrow(
      /^bytes#1: is a TensorFlow\.js model\.json: read it from its file, where the files it names lie beside it$/,
    );
  });
});
