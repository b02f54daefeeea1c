// ONNX models with LSTM / GRU / RNN nodes (src/load/onnx.ts), against implementations we did
// not write:
// - every real ONNX export paired with its Keras file diffs "equal" against it, layer by layer
//   and gate by gate (the converter's transposes and gate reorderings undone exactly);
// - ONNX files written here from real Keras files' weights (test/support/onnx-writer.ts maps
//   Keras to ONNX on its own) diff equal to them, and a copy with one value changed is
//   "different" at the gate and unit it was changed in;
// - ONNX Runtime (onnxruntime-web, when importable) runs each recurrent node of the real
//   exports, and synthetic nodes covering GRU linear_before_reset 0/1, RNN, reverse and
//   bidirectional directions, HardSigmoid and non-zero recurrent biases; our step on the layer
//   read from the same file gives the same h at every step (≤ 1e-5), and so does our step on
//   the Keras twin; whole real exports run by ONNX Runtime predict what our predict on their
//   Keras twin does;
// - float16 weights read as float16 numbers: diff measures them in float16 spacings ("within
//   quantization" against float32 weights half a spacing away, "different" a whole one away);
// - graphs without an RNN node and hostile files are refused in one line.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { diffModels } from "../../src/diff/index.js";
import { FileError } from "../../src/errors.js";
import { predict } from "../../src/eval/predict.js";
import { evaluateStep, modelInputShapes } from "../../src/eval/step.js";
import { loadModel } from "../../src/load/index.js";
import { loadOnnx } from "../../src/load/onnx.js";
import { decodeModel, type Int64 } from "../../src/load/onnx-schema.js";
import { type Layer, type Model, walkLayers } from "../../src/model.js";
import { fixturePath } from "./fixture-paths.js";
import { Draw, prng } from "../reference/keras-golden.js";
import { expectAllClose } from "../support/compare.js";
import { ONNX_DOUBLE, ONNX_FLOAT16, ONNX_INT64, onnxModel, type OnnxAttribute, type OnnxTensor } from "../support/onnx-writer.js";
import { exportPath, noteMissingExports } from "./export-fixtures.js";

/**
 * The part of onnxruntime-web's API this file uses, written out: the package is installed
 * only for the comparisons (npm install --no-save), so its types cannot be imported where
 * it is absent (CI, npm run typecheck on a fresh clone).
 */
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}
interface Ort {
  env: { wasm: { numThreads: number } };
  InferenceSession: { create(model: Uint8Array): Promise<OrtSession> };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
}
let ort: Ort | undefined;
const ORT_WEB = "onnxruntime-web";
beforeAll(async () => {
  try {
    ort = (await import(/* @vite-ignore */ ORT_WEB)) as Ort;
    ort.env.wasm.numThreads = 1;
  } catch (e) {
    // CI does not install it (npm install --no-save onnxruntime-web brings it).
    console.log(`[exports-onnx] onnxruntime-web is not importable (${(e as Error).message.split("\n")[0]}): the ONNX Runtime comparisons are skipped`);
  }
});

/** Real exports with fused RNN nodes, with the Keras file each came from (null: none public) and whether it holds only part of it. */
const PAIRS: { folder: string; onnx: string; keras: string | null; partial?: boolean; layers: [string, string][] }[] = [
  { folder: "dtln_keras_onnx_tflite_pair", onnx: "model_1.onnx", keras: "model.h5", partial: true, layers: [["lstm", "lstm_4"], ["lstm_1", "lstm_5"]] },
  { folder: "onnx_lstm_interesting_keras3_pair", onnx: "lstm_model.onnx", keras: "model.keras", layers: [["lstm_24", "LSTM__51"], ["lstm_25", "LSTM__72"]] },
  { folder: "onnx_lstm_waterforecast_keras3_pair", onnx: "lstm_model.onnx", keras: "lstm_model.keras", layers: [["lstm_4", "LSTM__51"], ["lstm_5", "LSTM__72"]] },
  { folder: "onnx_tflite_lstm_airquality_keras3_triple", onnx: "lstm_model.onnx", keras: "lstm_model.keras", layers: [["lstm", "LSTM__51"], ["lstm_1", "LSTM__72"]] },
  { folder: "onnx_lstm_opset9_unity_unpaired", onnx: "LSTMPushUps.onnx", keras: null, layers: [] },
  { folder: "onnx_tflite_fp16_lstm_earthpulse_no_keras", onnx: "lstm_model.onnx", keras: null, layers: [] },
];
const NO_RNN_NODE: { folder: string; onnx: string; says: RegExp }[] = [
  { folder: "dtln_keras_onnx_tflite_pair", onnx: "model_2.onnx", says: /look unrolled into MatMul\/Sigmoid\/Tanh ops/ },
  { folder: "onnx_gru_loop_waterforecast_keras3_pair", onnx: "gru_model.onnx", says: /exported as Loop\/Scan ops/ },
];
noteMissingExports("exports-onnx", [
  ...PAIRS.flatMap((p): [string, string][] => [[p.folder, p.onnx], ...(p.keras ? ([[p.folder, p.keras]] as [string, string][]) : [])]),
  ...NO_RNN_NODE.map((p): [string, string] => [p.folder, p.onnx]),
]);

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "keras-inspect-onnx-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function writeOnnx(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, bytes);
  return path;
}

// ---------------------------------------------------------------------------
// Diff against the Keras file
// ---------------------------------------------------------------------------

describe("real exports against the Keras files they came from", () => {
  for (const p of PAIRS.filter((q) => q.keras)) {
    const onnx = exportPath(p.folder, p.onnx);
    const keras = exportPath(p.folder, p.keras!);
    it.skipIf(!onnx || !keras)(`${p.folder}: diff is equal for every recurrent layer and gate`, async () => {
      const r = diffModels(await loadModel(keras!), await loadOnnx(onnx!), { partial: p.partial });
      expect(r.verdict).toBe("equal");
      expect(r.layers.map((l) => [l.pathA, l.pathB, l.status])).toEqual(p.layers.map(([a, b]) => [a, b, "equal"]));
      for (const l of r.layers) {
        expect(l.gates.map((g) => [g.gate, g.changed])).toEqual(["i", "f", "c", "o"].map((g) => [g, false]));
        expect(l.notes.join(" ")).toMatch(/ONNX LSTM W and R rows in ONNX's gate order i, o, f, c, transposed and reordered/);
      }
      expect(r.warnings.some((w) => /B \(onnx\) holds only its recurrent layers as layers; not compared: A's /.test(w))).toBe(true);
    });
  }

  for (const p of NO_RNN_NODE) {
    const onnx = exportPath(p.folder, p.onnx);
    it.skipIf(!onnx)(`${p.folder}/${p.onnx}: no RNN node, refused in one line saying what the graph holds`, async () => {
      const message = await refusal(onnx!);
      expect(message).toMatch(/ONNX graph with no LSTM, GRU or RNN node \(\d+ nodes: /);
      expect(message).toMatch(p.says);
      expect(message).toMatch(/does not map back to Keras layers or evaluate \(diff KERAS EXPORT locates the Keras weights among them\)/);
    });
  }

  const mismatchA = exportPath("onnx_lstm_interesting_keras3_pair", "model.keras");
  const mismatchB = exportPath("onnx_tflite_lstm_airquality_keras3_triple", "lstm_model.onnx");
  it.skipIf(!mismatchA || !mismatchB)("an export of another model is 'different'", async () => {
    const r = diffModels(await loadModel(mismatchA!), await loadOnnx(mismatchB!));
    expect(r.verdict).toBe("different");
    expect(r.layers.map((l) => l.status)).toEqual(["different", "different"]);
  });
});

// ---------------------------------------------------------------------------
// ONNX files written from Keras weights, by a mapping written here
// ---------------------------------------------------------------------------

/** Keras gate k of an LSTM sits in ONNX block ONNX_BLOCK_OF_KERAS[k] (ONNX: i, o, f, c). */
const ONNX_BLOCK_OF_KERAS: Record<string, number[]> = { LSTM: [0, 2, 3, 1], GRU: [0, 1, 2], SimpleRNN: [0] };
const ONNX_OP: Record<string, string> = { LSTM: "LSTM", GRU: "GRU", SimpleRNN: "RNN" };
const ONNX_ACTIVATION: Record<string, string> = { sigmoid: "Sigmoid", tanh: "Tanh", hard_sigmoid: "HardSigmoid", relu: "Relu" };

/** An ONNX node with a Keras layer's weights: W, R (blocks in ONNX's order, one row per unit), B = [Wb; Rb]. */
function onnxFromKeras(layer: Layer, change?: { tensor: "W" | "R"; kerasGate: number; unit: number; col: number; by: number }): Uint8Array {
  const cls = layer.className;
  const blocks = ONNX_BLOCK_OF_KERAS[cls];
  const G = blocks.length;
  const kernel = layer.weights.find((t) => t.name === "kernel")!;
  const recurrent = layer.weights.find((t) => t.name === "recurrent_kernel")!;
  const bias = layer.weights.find((t) => t.name === "bias");
  const [input, width] = kernel.shape;
  const u = width / G;
  const onnxRows = (m: { data: ArrayLike<number> }, cols: number) => {
    const out = new Float32Array(G * u * cols);
    for (let g = 0; g < G; g++) for (let j = 0; j < u; j++) for (let k = 0; k < cols; k++) out[(blocks[g] * u + j) * cols + k] = m.data[k * width + g * u + j];
    return out;
  };
  const W = onnxRows(kernel, input);
  const R = onnxRows(recurrent, u);
  if (change) (change.tensor === "W" ? W : R)[(blocks[change.kerasGate] * u + change.unit) * (change.tensor === "W" ? input : u) + change.col] += change.by;
  const B = new Float32Array(2 * G * u);
  const resetAfter = bias?.shape.length === 2;
  if (bias) {
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < u; j++) {
        B[blocks[g] * u + j] = bias.data[g * u + j];
        if (resetAfter) B[G * u + blocks[g] * u + j] = bias.data[width + g * u + j];
      }
    }
  }
  const activations = cls === "SimpleRNN" ? [layer.config.activation] : cls === "LSTM" ? [layer.config.recurrent_activation, layer.config.activation, layer.config.activation] : [layer.config.recurrent_activation, layer.config.activation];
  const attributes: OnnxAttribute[] = [
    { name: "hidden_size", int: u },
    { name: "activations", texts: activations.map((a) => ONNX_ACTIVATION[a as string]) },
  ];
  if (cls === "GRU") attributes.push({ name: "linear_before_reset", int: resetAfter ? 1 : 0 });
  return onnxModel({
    nodes: [{ op: ONNX_OP[cls], name: layer.name, inputs: ["X", "W", "R", bias ? "B" : ""], outputs: ["Y", "Y_h"], attributes }],
    initializers: [
      { name: "W", dims: [1, G * u, input], values: W },
      { name: "R", dims: [1, G * u, u], values: R },
      ...(bias ? [{ name: "B", dims: [1, 2 * G * u], values: B }] : []),
    ],
    inputs: [{ name: "X", dims: ["steps", "batch", input] }],
    outputs: [{ name: "Y" }, { name: "Y_h" }],
  });
}

const KERAS_FILES: { file: string; layer: string; change: { tensor: "W" | "R"; kerasGate: number; unit: number; col: number }; says: string }[] = [
  { file: "k2_lstm_dense_full.h5", layer: "lstm_1", change: { tensor: "R", kerasGate: 3, unit: 7, col: 11 }, says: "recurrent_kernel_o[11, 7]" },
  { file: "k2_gru_hardsigmoid_full.h5", layer: "gru_1", change: { tensor: "W", kerasGate: 1, unit: 5, col: 0 }, says: "kernel_r[5]" },
  { file: "tfk2_gru_stacked_v3.keras", layer: "gru", change: { tensor: "R", kerasGate: 2, unit: 3, col: 9 }, says: "recurrent_kernel_h[9, 3]" },
  { file: "k2_simplernn_full.h5", layer: "simple_rnn_1", change: { tensor: "W", kerasGate: 0, unit: 4, col: 0 }, says: "kernel[4]" },
];

describe("ONNX files written from real Keras files' weights", () => {
  for (const k of KERAS_FILES) {
    const path = fixturePath(k.file);
    it.skipIf(!path)(`${k.file} '${k.layer}': equal as written, different at ${k.says} when one value changes`, async () => {
      const keras = await loadModel(path!);
      const layer = keras.layers.find((l) => l.name === k.layer)!;
      const same = diffModels(keras, await loadOnnx(await writeOnnx(`${k.file}.onnx`, onnxFromKeras(layer))), { partial: true });
      expect(same.verdict).toBe("equal");
      expect(same.layers.map((l) => [l.pathA, l.pathB, l.matchedBy, l.configChanges])).toEqual([[k.layer, k.layer, "path", []]]);
      const changed = diffModels(keras, await loadOnnx(await writeOnnx(`${k.file}.changed.onnx`, onnxFromKeras(layer, { ...k.change, by: 0.125 }))), { partial: true });
      expect(changed.verdict).toBe("different");
      const gates = changed.layers[0].gates.filter((g) => g.changed);
      expect(gates.map((g) => g.worst)).toEqual([k.says]);
    });
  }
});

// ---------------------------------------------------------------------------
// ONNX Runtime against our step
// ---------------------------------------------------------------------------

/** ONNX Runtime's Y [steps, dirs, batch, units] for a one-input model fed X [steps, batch, input]. */
async function runtimeY(bytes: Uint8Array, x: Float32Array, dims: number[], output = "Y"): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort!.InferenceSession.create(bytes);
  const result = await session.run({ [session.inputNames[0]]: new ort!.Tensor("float32", x, dims) });
  await session.release();
  const y = result[output];
  return { data: y.data as Float32Array, dims: y.dims };
}

/** Our h at every step of every direction of `layerPath`, laid out as ONNX's Y from X [steps, batch, input]. */
function oursY(model: Model, layerPath: string, x: Float32Array, [steps, batch, input]: number[]): Float64Array {
  // ONNX's X is time-major, Keras' batch-major.
  const data = new Float64Array(batch * steps * input);
  for (let t = 0; t < steps; t++) for (let b = 0; b < batch; b++) for (let k = 0; k < input; k++) data[(b * steps + t) * input + k] = x[(t * batch + b) * input + k];
  const { trace } = evaluateStep(model, { layer: layerPath, inputs: [{ shape: [batch, steps, input], data }], rawInput: true, dtype: "float32" });
  const dirs = trace.directions.length;
  const units = trace.directions[0].units;
  const y = new Float64Array(steps * dirs * batch * units);
  trace.directions.forEach((d, dir) => {
    for (let s = 0; s < steps; s++) {
      const t = d.timeIndex[s];
      for (let b = 0; b < batch; b++) y.set(d.vector(b, s, "h"), ((t * dirs + dir) * batch + b) * units);
    }
  });
  return y;
}

function randomX(steps: number, batch: number, input: number, seed: number): Float32Array {
  const draw = new Draw(prng(seed));
  return Float32Array.from({ length: steps * batch * input }, () => draw.uniform(-1, 1));
}

const int = (v: Int64) => (typeof v === "number" ? v : v.toNumber());

/** A recurrent node of a real export, alone in a model: its W, R, B bytes and attributes as stored, X fed directly. */
function nodeAlone(file: Uint8Array, nodeName: string): { bytes: Uint8Array; input: number } {
  const m = decodeModel(file);
  const node = m.graph!.node.find((n) => n.name === nodeName)!;
  const init = new Map(m.graph!.initializer.map((t) => [t.name, t]));
  const tensor = (name: string): OnnxTensor => {
    const t = init.get(name)!;
    // raw_data (tf2onnx) or float_data (keras2onnx), copied as stored.
    if (t.raw_data.length > 0) return { name, dims: t.dims.map(int), raw: Uint8Array.from(t.raw_data), dataType: t.data_type };
    return { name, dims: t.dims.map(int), values: t.float_data, asFloatData: true };
  };
  const attributes: OnnxAttribute[] = node.attribute.map((a) =>
    a.type === 2 ? { name: a.name, int: int(a.i) } : a.type === 3 ? { name: a.name, text: new TextDecoder().decode(a.s) } : { name: a.name, texts: a.strings.map((s) => new TextDecoder().decode(s)) },
  );
  const [, w, r, b] = node.input;
  const input = int(init.get(w)!.dims[2]);
  const bytes = onnxModel({
    nodes: [{ op: node.op_type, name: node.name, inputs: ["X", w, r, b ?? ""], outputs: ["Y"], attributes }],
    initializers: [tensor(w), tensor(r), ...(b ? [tensor(b)] : [])],
    inputs: [{ name: "X", dims: ["steps", "batch", input] }],
    outputs: [{ name: "Y" }],
    opset: 13,
  });
  return { bytes, input };
}

const STEP_TOLERANCE = { atol: 1e-5, rtol: 1e-5 };

describe("ONNX Runtime runs the nodes of real exports as our step runs the layers we read from them", () => {
  for (const p of PAIRS) {
    const onnx = exportPath(p.folder, p.onnx);
    it.skipIf(!onnx)(`${p.folder}/${p.onnx}`, async (ctx) => {
      if (!ort) return ctx.skip();
      const { readFile } = await import("node:fs/promises");
      const file = new Uint8Array(await readFile(onnx!));
      const ours = await loadOnnx(onnx!);
      const keras = p.keras ? await loadModel(exportPath(p.folder, p.keras)!) : undefined;
      for (const layer of ours.layers) {
        const alone = nodeAlone(file, layer.name);
        const dims = [7, 2, alone.input];
        const x = randomX(dims[0], dims[1], dims[2], 21);
        const { data } = await runtimeY(alone.bytes, x, dims);
        expectAllClose(oursY(ours, layer.name, x, dims), data, STEP_TOLERANCE, `${p.onnx} ${layer.name}: our step on the ONNX layer against ONNX Runtime`);
        const twin = p.layers.find(([, b]) => b === layer.name)?.[0];
        // A weights-only twin (DTLN's model.h5) records no activations: its step would run guessed ones.
        const configured = keras && twin && !keras.layers.find((l) => l.name === twin)!.inferred;
        if (configured) expectAllClose(oursY(keras!, twin!, x, dims), data, STEP_TOLERANCE, `${p.keras} ${twin}: our step on the Keras twin against ONNX Runtime`);
      }
    });
  }

  // Whole exports whose Keras twin our predict can run (Sequential: LSTM, LSTM, Dense, Dense).
  for (const p of PAIRS.filter((q) => q.folder === "onnx_lstm_interesting_keras3_pair" || q.folder === "onnx_tflite_lstm_airquality_keras3_triple")) {
    const onnx = exportPath(p.folder, p.onnx);
    const keras = p.keras ? exportPath(p.folder, p.keras) : undefined;
    it.skipIf(!onnx || !keras)(`${p.folder}: ONNX Runtime on the whole export predicts what our predict on the Keras twin does`, async (ctx) => {
      if (!ort) return ctx.skip();
      const { readFile } = await import("node:fs/promises");
      const model = await loadModel(keras!);
      const session = await ort.InferenceSession.create(new Uint8Array(await readFile(onnx!)));
      const [steps, features] = modelInputShapes(model)[0] as number[];
      const draw = new Draw(prng(8));
      const x = Float32Array.from({ length: 3 * steps * features }, () => draw.uniform(-1, 1));
      const result = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", x, [3, steps, features]) });
      await session.release();
      const expected = result[session.outputNames[0]].data as Float32Array;
      const got = predict(model, [{ shape: [3, steps, features], data: Float64Array.from(x) }], { dtype: "float32" }).outputs[0].value.data;
      expectAllClose(got, expected, STEP_TOLERANCE, `${p.folder}: our predict on the Keras twin against ONNX Runtime on the export`);
    });
  }
});

/** A synthetic node: seeded weights, every attribute ONNX lets a converter set that maps to Keras. */
interface Synthetic {
  title: string;
  op: "LSTM" | "GRU" | "RNN";
  direction?: "forward" | "reverse" | "bidirectional";
  attributes?: OnnxAttribute[];
  /** Leave B out (ONNX's zero biases). */
  noBias?: boolean;
  /** Check against: what our layer config must say. */
  expect: Record<string, unknown>;
}

const SYNTHETIC: Synthetic[] = [
  { title: "LSTM, non-zero recurrent biases (summed)", op: "LSTM", expect: { className: "LSTM", recurrent_activation: "sigmoid", activation: "tanh" } },
  { title: "LSTM reverse (go_backwards)", op: "LSTM", direction: "reverse", expect: { className: "LSTM", go_backwards: true } },
  { title: "LSTM bidirectional", op: "LSTM", direction: "bidirectional", expect: { className: "Bidirectional" } },
  {
    title: "LSTM with HardSigmoid gates and Relu cell",
    op: "LSTM",
    attributes: [{ name: "activations", texts: ["HardSigmoid", "Relu", "Relu"] }],
    expect: { className: "LSTM", recurrent_activation: "hard_sigmoid", activation: "relu" },
  },
  { title: "GRU linear_before_reset=0 (reset_after=False)", op: "GRU", expect: { className: "GRU", reset_after: false } },
  { title: "GRU linear_before_reset=1 (reset_after=True)", op: "GRU", attributes: [{ name: "linear_before_reset", int: 1 }], expect: { className: "GRU", reset_after: true } },
  { title: "GRU bidirectional, linear_before_reset=1", op: "GRU", direction: "bidirectional", attributes: [{ name: "linear_before_reset", int: 1 }], expect: { className: "Bidirectional" } },
  { title: "RNN (SimpleRNN), no B", op: "RNN", noBias: true, expect: { className: "SimpleRNN", use_bias: false, activation: "tanh" } },
];

function syntheticModel(s: Synthetic, input: number, units: number, seed: number): Uint8Array {
  const G = { LSTM: 4, GRU: 3, RNN: 1 }[s.op];
  const dirs = s.direction === "bidirectional" ? 2 : 1;
  const draw = new Draw(prng(seed));
  const values = (n: number, scale: number) => Float32Array.from({ length: n }, () => draw.uniform(-scale, scale));
  return onnxModel({
    nodes: [
      {
        op: s.op,
        name: `${s.op.toLowerCase()}_node`,
        inputs: ["X", "W", "R", s.noBias ? "" : "B"],
        outputs: ["Y"],
        attributes: [{ name: "hidden_size", int: units }, ...(s.direction ? [{ name: "direction", text: s.direction }] : []), ...(s.attributes ?? [])],
      },
    ],
    initializers: [
      { name: "W", dims: [dirs, G * units, input], values: values(dirs * G * units * input, 0.8) },
      { name: "R", dims: [dirs, G * units, units], values: values(dirs * G * units * units, 0.8) },
      ...(s.noBias ? [] : [{ name: "B", dims: [dirs, 2 * G * units], values: values(dirs * 2 * G * units, 0.5) }]),
    ],
    inputs: [{ name: "X", dims: ["steps", "batch", input] }],
    outputs: [{ name: "Y" }],
  });
}

describe("ONNX Runtime runs synthetic nodes as our step runs the layers we read from them", () => {
  for (const [k, s] of SYNTHETIC.entries()) {
    it(s.title, async (ctx) => {
      const bytes = syntheticModel(s, 3, 5, 100 + k);
      const path = await writeOnnx(`synthetic-${k}.onnx`, bytes);
      const ours = await loadOnnx(path);
      const layer = ours.layers[0];
      const { className, ...config } = s.expect;
      expect(layer.className).toBe(className);
      const cells = layer.className === "Bidirectional" ? layer.children : [layer];
      for (const cell of cells) for (const [key, value] of Object.entries(config)) expect(cell.config[key], key).toEqual(value);
      if (!ort) return ctx.skip();
      const dims = [6, 2, 3];
      const x = randomX(dims[0], dims[1], dims[2], 7 + k);
      const { data } = await runtimeY(bytes, x, dims);
      expectAllClose(oursY(ours, layer.name, x, dims), data, STEP_TOLERANCE, `${s.title}: our step against ONNX Runtime`);
    });
  }
});

// ---------------------------------------------------------------------------
// Refusals and hostile files
// ---------------------------------------------------------------------------

async function refusal(path: string): Promise<string> {
  const err = await loadOnnx(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FileError);
  const message = (err as FileError).message;
  expect(message).not.toContain("\n");
  expect(message.startsWith(path)).toBe(true);
  return message;
}

/** A one-node LSTM (1 unit, 1 input) whose tensors the caller chooses. */
function lstmWith(initializers: OnnxTensor[], attributes: OnnxAttribute[] = [], inputs = ["X", "W", "R", "B"]): Uint8Array {
  return onnxModel({
    nodes: [{ op: "LSTM", name: "l", inputs, outputs: ["Y"], attributes: [{ name: "hidden_size", int: 1 }, ...attributes] }],
    initializers,
    inputs: [{ name: "X", dims: [1, 1, 1] }],
    outputs: [{ name: "Y" }],
  });
}
const W1: OnnxTensor = { name: "W", dims: [1, 4, 1], values: [1, 2, 3, 4] };
const R1: OnnxTensor = { name: "R", dims: [1, 4, 1], values: [5, 6, 7, 8] };
const B1: OnnxTensor = { name: "B", dims: [1, 8], values: [1, 2, 3, 4, 0, 0, 0, 0] };

describe("refusals and hostile ONNX files: one line, nothing read outside the folder, nothing allocated by a claim", () => {
  it("not protobuf, not ONNX, truncated", async () => {
    expect(await refusal(await writeOnnx("text.onnx", new TextEncoder().encode("this is plain text, not a protobuf message at all")))).toMatch(/is not an ONNX model/);
    const whole = lstmWith([W1, R1, B1]);
    expect(await refusal(await writeOnnx("truncated.onnx", whole.subarray(0, whole.length - 7)))).toMatch(/is not an ONNX model \(protobuf decoding failed: index out of range/);
    expect(await refusal(await writeOnnx("empty-graph.onnx", onnxModel({ nodes: [], initializers: [], inputs: [], outputs: [] })))).toMatch(/no ir_version or no graph with nodes/);
  });

  it("a graph without RNN nodes names what it holds", async () => {
    const bytes = onnxModel({ nodes: [{ op: "MatMul", inputs: ["X", "W"], outputs: ["Y"] }], initializers: [{ name: "W", dims: [1, 1], values: [1] }], inputs: [{ name: "X", dims: [1, 1] }], outputs: [{ name: "Y" }] });
    expect(await refusal(await writeOnnx("matmul.onnx", bytes))).toMatch(/ONNX graph with no LSTM, GRU or RNN node \(1 nodes: MatMul ×1\); it holds no recurrent layer this tool can see/);
  });

  it("claimed dims larger than the data, huge claims, negative dims, non-float weights", async () => {
    expect(await refusal(await writeOnnx("short.onnx", lstmWith([{ ...W1, dims: [1, 4, 2] }, R1, B1])))).toMatch(/W 'W' of LSTM node 'l' claims shape \[1, 4, 2\] \(32 bytes\) but its raw_data holds 16/);
    const huge = await writeOnnx("huge.onnx", lstmWith([{ name: "W", dims: [1, 4_000_000_000n, 4_000_000_000n], values: [1] }, R1, B1]));
    expect(await refusal(huge)).toMatch(/claims shape \[1, 4000000000, 4000000000\], over the \d+-byte limit/);
    expect(await refusal(await writeOnnx("negative.onnx", lstmWith([{ ...W1, dims: [1, -4, 1] }, R1, B1])))).toMatch(/has a negative dimension/);
    // A dim past 2^53 is said as the int64 it is (the fuzz suite's onnx-dims found it said as "-2147483648:0", its two 32-bit halves).
    expect(await refusal(await writeOnnx("int64-min.onnx", lstmWith([{ ...W1, dims: [1, 2n ** 63n, 1] }, R1, B1])))).toMatch(/dimension 1 of W 'W' of LSTM node 'l' is -9223372036854775808, not an integer this tool can hold/);
    expect(await refusal(await writeOnnx("int64.onnx", lstmWith([{ ...W1, dataType: ONNX_INT64, raw: new Uint8Array(32), values: undefined }, R1, B1])))).toMatch(/holds int64 values; recurrent weights are read as float, float16 or double/);
    expect(await refusal(await writeOnnx("computed.onnx", lstmWith([R1, B1])))).toMatch(/takes its W 'W' from another node, not from a stored tensor/);
  });

  it("float_data and double tensors are read as well as raw_data", async () => {
    const m = await loadOnnx(await writeOnnx("float-data.onnx", lstmWith([{ ...W1, asFloatData: true }, R1, { ...B1, dataType: ONNX_DOUBLE, raw: new Uint8Array(Float64Array.from([1, 2, 3, 4, 0.5, 0, 0, 0]).buffer), values: undefined }])));
    const t = (name: string) => Array.from(m.layers[0].weights.find((w) => w.name === name)!.data);
    // kernel columns in Keras' i, f, c, o from ONNX rows i, o, f, c.
    expect(t("kernel")).toEqual([1, 3, 4, 2]);
    expect(t("recurrent_kernel")).toEqual([5, 7, 8, 6]);
    expect(t("bias")).toEqual([1.5, 3, 4, 2]);
    expect(m.layers[0].weights.find((w) => w.name === "bias")!.dtype).toBe("float64");
  });

  it("float16 weights are float16 numbers: within quantization of float32 weights within half a float16 spacing, different a spacing away", async () => {
    // 1, 2, 3, 4 and 5, 6, 7, 8 are float16 numbers (0x3c00 …); the float32 twin moves W's 1 by a quarter of
    // float16's spacing at 1 (2^-10), then by a whole one.
    const halves = (bits: number[]) => new Uint8Array(Uint16Array.from(bits).buffer);
    const W16: OnnxTensor = { ...W1, dataType: ONNX_FLOAT16, raw: halves([0x3c00, 0x4000, 0x4200, 0x4400]), values: undefined };
    const R16: OnnxTensor = { ...R1, dataType: ONNX_FLOAT16, raw: halves([0x4500, 0x4600, 0x4700, 0x4800]), values: undefined };
    const half = await loadOnnx(await writeOnnx("float16.onnx", lstmWith([W16, R16, B1])));
    const weights = half.layers[0].weights;
    expect(weights.map((w) => [w.name, w.storedAsFloat16 === true])).toEqual([["kernel", true], ["recurrent_kernel", true], ["bias", false]]);
    const near = await loadOnnx(await writeOnnx("float32-near.onnx", lstmWith([{ ...W1, values: [1 + 2 ** -12, 2, 3, 4] }, R1, B1])));
    const r = diffModels(near, half);
    expect(r.verdict).toBe("within-quantization");
    const kernel = r.layers[0].tensors.find((t) => t.name === "kernel")!;
    expect([kernel.status, kernel.quantization]).toEqual(["within-quantization", { side: "B", scheme: "float16", maxSteps: 0.25, beyond: 0 }]);
    const far = await loadOnnx(await writeOnnx("float32-far.onnx", lstmWith([{ ...W1, values: [1 + 2 ** -10, 2, 3, 4] }, R1, B1])));
    const d = diffModels(far, half);
    expect(d.verdict).toBe("different");
    expect(d.layers[0].gates.map((g) => [g.gate, g.status, g.worst])).toEqual([["i", "different", "kernel_i[0]"], ["f", "equal", null], ["c", "equal", null], ["o", "equal", null]]);
  });

  it("what Keras' layers cannot compute: peepholes, clip, coupled gates, unequal activations, other HardSigmoid slopes", async () => {
    const P: OnnxTensor = { name: "P", dims: [1, 3], values: [0, 0.5, 0] };
    expect(await refusal(await writeOnnx("peephole.onnx", lstmWith([W1, R1, B1, P], [], ["X", "W", "R", "B", "", "", "", "P"])))).toMatch(/has peephole connections \(P\), which Keras' LSTM does not/);
    const zeroP = await loadOnnx(await writeOnnx("peephole-zero.onnx", lstmWith([W1, R1, B1, { ...P, values: [0, 0, 0] }], [], ["X", "W", "R", "B", "", "", "", "P"])));
    expect(zeroP.layers[0].notes).toContain("its peephole weights P are all zero, as Keras' LSTM has none");
    expect(await refusal(await writeOnnx("clip.onnx", lstmWith([W1, R1, B1], [{ name: "clip", float: 3 }])))).toMatch(/clips its cell state \(clip=3\)/);
    expect(await refusal(await writeOnnx("coupled.onnx", lstmWith([W1, R1, B1], [{ name: "input_forget", int: 1 }])))).toMatch(/couples its input and forget gates/);
    expect(await refusal(await writeOnnx("acts.onnx", lstmWith([W1, R1, B1], [{ name: "activations", texts: ["Sigmoid", "Tanh", "Relu"] }])))).toMatch(/uses tanh for the cell candidate and relu for the output/);
    expect(await refusal(await writeOnnx("hs.onnx", lstmWith([W1, R1, B1], [{ name: "activations", texts: ["HardSigmoid", "Tanh", "Tanh"] }, { name: "activation_alpha", floats: [0.25] }])))).toMatch(/HardSigmoid\(alpha=0\.25, beta=0\.5\)/);
    expect(await refusal(await writeOnnx("affine.onnx", lstmWith([W1, R1, B1], [{ name: "activations", texts: ["Affine", "Tanh", "Tanh"] }])))).toMatch(/uses the activation "Affine", which no Keras recurrent layer has/);
  });

  it("external data: read from the model's folder, refused outside it", async () => {
    const dir = join(scratch, "external");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "weights.bin"), new Uint8Array(Float32Array.from([0, 0, 1, 2, 3, 4]).buffer));
    const external = (location: string, offset = "8"): OnnxTensor => ({ name: "W", dims: [1, 4, 1], external: { location, offset, length: "16" } });
    const okPath = join(dir, "ok.onnx");
    await writeFile(okPath, lstmWith([external("weights.bin"), R1, B1]));
    const ok = await loadOnnx(okPath);
    expect(Array.from(ok.layers[0].weights[0].data)).toEqual([1, 3, 4, 2]);
    const cases: [string, OnnxTensor, RegExp][] = [
      ["dotdot", external("../outside.bin"), /external data of W 'W' of LSTM node 'l' '\.\.\/outside\.bin' leaves the model's folder/],
      ["absolute", external("/etc/hostname"), /is an absolute path/],
      ["past-end", external("weights.bin", "16"), /holds 24 bytes, but bytes 16 to 32 are claimed/],
      ["bad-offset", external("weights.bin", "-8"), /external-data offset '-8', not a byte count/],
      ["no-location", { name: "W", dims: [1, 4, 1], external: { offset: "0" } }, /is stored externally but names no location/],
      ["link-out", external("link.bin"), /resolves \(through a symbolic link\) to .*, outside the model's folder/],
    ];
    await writeFile(join(scratch, "outside.bin"), new Uint8Array(64));
    await symlink(join(scratch, "outside.bin"), join(dir, "link.bin"));
    for (const [name, tensor, says] of cases) {
      const path = join(dir, `${name}.onnx`);
      await writeFile(path, lstmWith([tensor, R1, B1]));
      expect(await refusal(path), name).toMatch(says);
    }
  });
});

describe("loadModel finds an ONNX model by content", () => {
  it("whatever its name; from bytes alone it is refused (its external data could not be found)", async () => {
    const bytes = lstmWith([W1, R1, B1]);
    const path = await writeOnnx("lstm.h5", bytes);
    const m = await loadModel(path);
    expect([m.format, m.layers.map((l) => l.className)]).toEqual(["onnx", ["LSTM"]]);
    const { loadModelFromBytes } = await import("../../src/load/index.js");
    await expect(loadModelFromBytes(bytes, "bytes#2")).rejects.toThrow(/^bytes#2: is an ONNX model: read it from its file/);
  });

  it("step runs a node on --raw-input only: the ops feeding it are not read", async () => {
    const m = await loadModel(await writeOnnx("step.onnx", lstmWith([W1, R1, B1])));
    const input = { shape: [1, 2, 1], data: Float64Array.from([0.5, -1]) };
    expect(evaluateStep(m, { inputs: [input], rawInput: true, dtype: "float32" }).trace.directions[0].steps).toBe(2);
    expect(() => evaluateStep(m, { inputs: [input], dtype: "float32" })).toThrow(/is read for its recurrent nodes only \(onnx\); the ops before 'l' are not, so feed its input directly with --raw-input/);
  });
});

describe("the whole-model commands on an ONNX export", () => {
  it("predict refuses in one line, naming step --raw-input, since only the recurrent nodes were read", async () => {
    const file = exportPath("dtln_keras_onnx_tflite_pair", "model_1.onnx");
    if (!file) return;
    const model = await loadModel(file);
    expect(() => predict(model, [], { dtype: "float32" })).toThrow(/only the recurrent layers of this onnx export were read, not the graph around them.*'step --raw-input --layer NAME'/);
  });
});
