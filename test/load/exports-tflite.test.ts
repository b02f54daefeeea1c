// TFLite models with fused UNIDIRECTIONAL_SEQUENCE_LSTM ops (src/load/tflite.ts):
// - the real tflite-micro MNIST LSTM (float32) and its int8 twin: the int8 file's dequantized
//   weights lie within half a quantization step of the float32 file's, tensor by tensor (the
//   converter quantized those very weights; tolerance: scale/2 plus one float32 rounding), and
//   diff says so: "within quantization" per tensor, gate and layer, exit 0 (1 with --exact);
// - the HAR pair, whose .tflite holds other weights than its .h5, diffs "different", naming
//   the gates (read from ../shared when present);
// - TFLite files written here by test/support/tflite-writer.ts (its own flatbuffer layout and
//   its own Keras → per-gate mapping) from a Keras LSTM's weights: float32 diffs equal to the
//   Keras layer (tolerance 0: the values are copied) and `step --raw-input` gives the same h
//   bit for bit; float16 behind DEQUANTIZE reads as the float16 rounding of each weight; int8
//   (per tensor and per unit) reads back as scale · q exactly and within half a step of the
//   Keras weights, diffs "within quantization", and its step stays within what that error
//   allows; per unit, each Keras column carries its own unit's step (a value 0.6 of the
//   smallest step off is "different", naming its gate and unit, which a misaligned step would hide);
// - WHILE/Flex, resource-variable and unrolled exports are refused in one line saying what the
//   file holds; damaged flatbuffers are refused in one line.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import { diffModels } from "../../src/diff/index.js";
import { FileError } from "../../src/errors.js";
import { evaluateStep } from "../../src/eval/step.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import type { Layer, Model } from "../../src/model.js";
import { halfToNumber } from "../../src/load/half.js";
import { REPO_ROOT } from "./fixture-paths.js";
import { exportPath, noteMissingExports } from "./export-fixtures.js";
import { flatbuffer, i32s, i8, ref, str, table, tables, u32, lstmTflite, type Storage } from "../support/tflite-writer.js";

const MNIST = "tflite_mnist_lstm_unpaired";
const HAR = "tflite_lstm_har_MISMATCH_pair";
const REFUSED: { folder: string; file: string; says: RegExp }[] = [
  { folder: "tflite_lstm_flood_NOWEIGHTS_pair", file: "lstm_model.tflite", says: /LSTM weights are not stored in this file \(resource variables/ },
  { folder: "tflite_lstm_whileflex_hybridquant_pair", file: "lstm_model.tflite", says: /recurrent layer exported as a WHILE loop with Flex ops; its weights are plain constants of the loop, not mapped back to a Keras layer or evaluated/ },
  { folder: "onnx_tflite_lstm_airquality_keras3_triple", file: "lstm_model.tflite", says: /recurrent layer exported as a WHILE loop with Flex ops/ },
  { folder: "onnx_tflite_fp16_lstm_earthpulse_no_keras", file: "lstm_model_quantized.tflite", says: /WHILE loop with Flex ops/ },
  { folder: "dtln_keras_onnx_tflite_pair", file: "model_1.tflite", says: /look unrolled into FULLY_CONNECTED\/LOGISTIC\/TANH ops/ },
];
noteMissingExports("exports-tflite", [
  [MNIST, "trained_lstm.tflite"],
  [MNIST, "trained_lstm_int8.tflite"],
  ["tflite_dtln_noise_suppression_int8_unpaired", "dtln_noise_suppression.tflite"],
  [HAR, "lstm.h5"],
  [HAR, "lstm.tflite"],
  ...REFUSED.map((r): [string, string] => [r.folder, r.file]),
]);

const tensor = (layer: Layer, name: string) => layer.weights.find((w) => w.name === name)!;
const GATES = ["i", "f", "c", "o"];

describe("real TFLite files", () => {
  const float = exportPath(MNIST, "trained_lstm.tflite");
  const int8 = exportPath(MNIST, "trained_lstm_int8.tflite");

  it.skipIf(!float)("reads the float32 MNIST LSTM as one Keras LSTM (20 units, 28 features)", async () => {
    const m = await loadModel(float!);
    expect(m.format).toBe("tflite");
    expect(m.layersRead).toBe("recurrent");
    expect(m.layers).toHaveLength(1);
    const l = m.layers[0];
    expect([l.className, l.name, l.config.units, l.config.activation, l.config.recurrent_activation]).toEqual(["LSTM", "lstm", 20, "tanh", "sigmoid"]);
    expect(tensor(l, "kernel").shape).toEqual([28, 80]);
    expect(tensor(l, "recurrent_kernel").shape).toEqual([20, 80]);
    expect(tensor(l, "bias").shape).toEqual([80]);
    expect(l.notes!.join("\n")).toMatch(/gate order i, f, c, o/);
    expect(l.notes!.join("\n")).toMatch(/cell_clip 10/);
  });

  it.skipIf(!float || !int8)("the int8 file's weights are the float32 file's within half a quantization step, tensor by tensor", async () => {
    const f = (await loadModel(float!)).layers[0];
    const q = (await loadModel(int8!)).layers[0];
    const notes = q.notes!.join("\n");
    expect(notes).toMatch(/int8 per tensor \(zero point 0\), dequantized as float\(scale · \(q − zero_point\)\): kernel_i \(scale 0\.0089865/);
    expect(notes).toMatch(/int32 per tensor/);
    expect(notes).toMatch(/integer arithmetic/);
    // The scales as the file stores them, read here from the notes the adapter wrote for each gate tensor.
    const u = 20;
    for (const [name, rows] of [["kernel", 28], ["recurrent_kernel", 20], ["bias", 1]] as const) {
      for (let g = 0; g < 4; g++) {
        const scale = Number(new RegExp(`${name}_${GATES[g]} \\(scale ([0-9.e-]+)\\)`).exec(notes)![1]);
        const a = tensor(f, name).data;
        const b = tensor(q, name).data;
        let worst = 0;
        for (let r = 0; r < rows; r++) for (let j = 0; j < u; j++) worst = Math.max(worst, Math.abs(a[r * 80 + g * u + j] - b[r * 80 + g * u + j]));
        // Half a step, plus the float32 rounding of the dequantized value (≤ 2^-24 relative of values below 2).
        expect(worst, `${name}_${GATES[g]}`).toBeLessThanOrEqual(scale / 2 + 2 ** -22);
      }
    }
    // diff says the same in quantization steps, per tensor and per gate: within quantization.
    // Tolerance: 0.5 step plus diff's float32 slack (2^-21 of a column's largest |value|, under 1e-3 step here).
    const report = diffModels(await loadModel(float!), await loadModel(int8!));
    expect(report.verdict).toBe("within-quantization");
    const layer = report.layers[0];
    expect(layer.status).toBe("within-quantization");
    for (const t of layer.tensors) {
      expect([t.name, t.status, t.quantization?.side, t.quantization?.scheme, t.quantization?.beyond]).toEqual([t.name, "within-quantization", "B", "step", 0]);
      expect(t.quantization!.maxSteps).toBeGreaterThan(0.4);
      expect(t.quantization!.maxSteps).toBeLessThanOrEqual(0.5 + 1e-3);
    }
    expect(layer.gates.map((g) => [g.gate, g.status])).toEqual(GATES.map((g) => [g, "within-quantization"]));
    for (const g of layer.gates) expect(g.maxSteps!).toBeLessThanOrEqual(0.5 + 1e-3);
    // --exact: quantized values must be within atol too.
    const exact = diffModels(await loadModel(float!), await loadModel(int8!), { exact: true });
    expect([exact.verdict, exact.layers[0].gates.map((g) => g.status)]).toEqual(["different", ["different", "different", "different", "different"]]);
    expect(exact.layers[0].tensors[0].quantization!.maxSteps).toBe(report.layers[0].tensors[0].quantization!.maxSteps);
  });

  const dtln = exportPath("tflite_dtln_noise_suppression_int8_unpaired", "dtln_noise_suppression.tflite");
  it.skipIf(!dtln)("reads tflite-micro's int8 DTLN core as two stacked Keras LSTMs (257 → 128 → 128)", async () => {
    const m = await loadModel(dtln!);
    expect(m.layers.map((l) => [l.className, l.config.units, tensor(l, "kernel").shape[0]])).toEqual([["LSTM", 128, 257], ["LSTM", 128, 128]]);
    for (const l of m.layers) {
      expect(l.notes!.join("\n")).toMatch(/int8 per tensor \(zero point 0\)/);
      expect(tensor(l, "kernel").quantizationStep).toHaveLength(512);
      expect([...tensor(l, "kernel").data].every(Number.isFinite)).toBe(true);
    }
  });

  const harH5 = exportPath(HAR, "lstm.h5");
  const harTflite = exportPath(HAR, "lstm.tflite");
  it.skipIf(!harH5 || !harTflite)("the HAR pair (different training runs) diffs different, naming every gate", async () => {
    const report = diffModels(await loadModel(harH5!), await loadModel(harTflite!));
    expect(report.verdict).toBe("different");
    expect(report.layers).toHaveLength(1);
    expect(report.layers[0].gates.filter((g) => g.status === "different").map((g) => g.gate).sort()).toEqual(["c", "f", "i", "o"]);
    for (const g of report.layers[0].gates) expect([g.worst, g.unit]).not.toContain(null);
  });

  for (const r of REFUSED) {
    const path = exportPath(r.folder, r.file);
    it.skipIf(!path)(`refuses ${r.folder}/${r.file} in one line saying what it holds`, async () => {
      const err = await loadModel(path!).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileError);
      expect((err as Error).message).not.toContain("\n");
      expect((err as Error).message).toMatch(r.says);
    });
  }
});

// ---------------------------------------------------------------------------
// Files written by the test from a Keras LSTM
// ---------------------------------------------------------------------------

async function kerasLstm(): Promise<{ model: Model; layer: Layer }> {
  const model = await loadModel(`${REPO_ROOT}/samples/stacked-lstm-dense.h5`);
  const layer = model.layers.find((l) => l.name === "lstm_2")!;
  // Keras 2.2.4's default gate activation is hard_sigmoid; a fused TFLite LSTM always uses the
  // sigmoid (the converter refuses others), so the twin is this Keras LSTM with the sigmoid.
  expect(layer.config.recurrent_activation).toBe("hard_sigmoid");
  layer.config.recurrent_activation = "sigmoid";
  return { model, layer };
}

async function written(storage: Storage, options: { activation?: number; cellClip?: number } = {}) {
  const { model, layer } = await kerasLstm();
  const kernel = tensor(layer, "kernel");
  const w = { units: layer.config.units as number, input: kernel.shape[0], kernel: kernel.data, recurrentKernel: tensor(layer, "recurrent_kernel").data, bias: tensor(layer, "bias").data };
  const { bytes, stored } = lstmTflite(w, storage, options);
  return { keras: model, kerasLayer: layer, tflite: await loadModelFromBytes(bytes, `written-${storage}.tflite`), bytes, stored, w };
}

const X = { shape: [2, 4, 3], data: Float64Array.from({ length: 24 }, (_, k) => Math.sin(1.7 * k) * 0.9) };
function hs(model: Model, layer: string): number[] {
  const { trace } = evaluateStep(model, { layer, inputs: [X], rawInput: true, dtype: "float32" });
  const d = trace.directions[0];
  const out: number[] = [];
  for (let b = 0; b < 2; b++) for (let s = 0; s < 4; s++) out.push(...d.vector(b, s, "h"));
  return out;
}

describe("TFLite files written from a Keras LSTM", () => {
  it("float32: diff equal to the Keras layer (tolerance 0) and step --raw-input gives the same h bit for bit", async () => {
    const { keras, tflite } = await written("float32");
    expect(tflite.layers[0].name).toBe("lstm");
    const report = diffModels(keras, tflite, { partial: true });
    expect(report.verdict).toBe("equal");
    expect(report.layers.map((l) => l.status)).toEqual(["equal"]);
    expect(hs(tflite, "lstm")).toEqual(hs(keras, "lstm_2"));
  });

  it("float16 behind DEQUANTIZE: each weight is the float16 value stored, widened exactly", async () => {
    const { keras, tflite, stored } = await written("float16");
    const layer = tflite.layers[0];
    expect(layer.notes!.join("\n")).toMatch(/float16 behind a DEQUANTIZE op, widened exactly: kernel_i, kernel_f/);
    const kernel = tensor(layer, "kernel").data;
    const width = 32;
    for (const s of stored.filter((t) => t.role === "kernel")) {
      const [u, cols] = s.shape;
      for (let j = 0; j < u; j++) for (let k = 0; k < cols; k++) expect(kernel[k * width + s.gate * u + j]).toBe(halfToNumber(s.values[j * cols + k]));
    }
    // Against the Keras layer: kernels within half the float16 spacing at each value (the writer rounds to nearest
    // even; tolerance: diff's, one float32 rounding beyond it); the float32 biases equal.
    const report = diffModels(keras, tflite, { partial: true });
    expect(report.verdict).toBe("within-quantization");
    expect(report.layers[0].tensors.map((t) => [t.name, t.status, t.quantization?.scheme])).toEqual([["kernel", "within-quantization", "float16"], ["recurrent_kernel", "within-quantization", "float16"], ["bias", "equal", undefined]]);
    for (const g of report.layers[0].gates) expect([g.status, g.maxSteps! <= 0.5]).toEqual(["within-quantization", true]);
  });

  for (const storage of ["int8", "int8-per-channel"] as const) {
    it(`${storage}: dequantized exactly as float(scale · q), within half a step of the Keras weights; step within that error's reach`, async () => {
      const { keras, tflite, stored, kerasLayer } = await written(storage);
      const layer = tflite.layers[0];
      expect(layer.notes!.join("\n")).toMatch(storage === "int8" ? /int8 per tensor \(zero point 0\)/ : /int8 per channel \(along dimension 0, zero point 0\)/);
      for (const s of stored) {
        const name = s.role;
        const ours = tensor(layer, name).data;
        const theirs = tensor(kerasLayer, name).data;
        const u = s.shape[0];
        const cols = s.shape[1] ?? 1;
        for (let j = 0; j < u; j++) {
          const scale = s.scales![s.scales!.length > 1 ? j : 0];
          for (let k = 0; k < cols; k++) {
            const at = name === "bias" ? s.gate * u + j : k * 32 + s.gate * u + j;
            expect(ours[at]).toBe(Math.fround(scale * s.values[j * cols + k]));
            expect(Math.abs(ours[at] - theirs[at])).toBeLessThanOrEqual(scale / 2 + 2 ** -24);
          }
        }
      }
      // Every weight moved by at most half a step (≤ 0.5 · max|w| / 127 ≈ 0.4 % of the largest): the
      // h of a 4-step, 8-unit LSTM with |x| < 1 stays within 0.05 of the Keras layer's.
      const a = hs(keras, "lstm_2");
      const b = hs(tflite, "lstm");
      expect(Math.max(...a.map((v, k) => Math.abs(v - b[k])))).toBeLessThan(0.05);
      // Tolerance: 0.5 step plus diff's float32 slack (the writer rounds in double: only the dequantizing fround remains).
      const report = diffModels(keras, tflite, { partial: true });
      expect(report.verdict).toBe("within-quantization");
      // The int32 biases (2^20 levels) read back bit for bit here: equal.
      expect(report.layers[0].tensors.map((t) => [t.name, t.status])).toEqual([["kernel", "within-quantization"], ["recurrent_kernel", "within-quantization"], ["bias", "equal"]]);
      for (const t of report.layers[0].tensors) expect(t.quantization!.maxSteps).toBeLessThanOrEqual(0.5 + 1e-6);
      expect(report.layers[0].gates.map((g) => g.status)).toEqual(["within-quantization", "within-quantization", "within-quantization", "within-quantization"]);
    });
  }

  it("int8 per unit: each Keras column carries its own unit's step, so 0.6 of the smallest step is different, naming gate and unit", async () => {
    const { keras, tflite, stored, kerasLayer } = await written("int8-per-channel");
    const u = 8;
    const width = 4 * u;
    const steps = tensor(tflite.layers[0], "kernel").quantizationStep!;
    // Column g·u + j of Keras' kernel is unit j of gate g's input_to weights: its scale.
    for (const s of stored.filter((t) => t.role === "kernel")) for (let j = 0; j < u; j++) expect(steps[s.gate * u + j]).toBe(s.scales![j]);
    // The column with the smallest step, and a step at least 1.2 times it elsewhere: a step taken from
    // the wrong column (or the largest, as a per-tensor scale) would call 0.6 of the smallest step within half a step.
    let col = 0;
    for (let c = 1; c < width; c++) if (steps[c] < steps[col]) col = c;
    expect(Math.max(...steps)).toBeGreaterThan(1.2 * steps[col]);
    const k = tensor(kerasLayer, "kernel").data;
    const b = tensor(tflite.layers[0], "kernel").data;
    k[1 * width + col] = b[1 * width + col] + 0.6 * steps[col];
    const report = diffModels(keras, tflite, { partial: true });
    expect(report.verdict).toBe("different");
    const layer = report.layers[0];
    const gate = GATES[Math.floor(col / u)];
    expect(layer.gates.filter((g) => g.status === "different").map((g) => [g.gate, g.worst, g.unit])).toEqual([[gate, `kernel_${gate}[1, ${col % u}]`, col % u]]);
    expect(layer.gates.filter((g) => g.status === "within-quantization")).toHaveLength(3);
    const kernel = layer.tensors.find((t) => t.name === "kernel")!;
    expect([kernel.status, kernel.quantization!.beyond, kernel.worst!.index, kernel.worst!.gate, kernel.worst!.unit]).toEqual(["different", 1, [1, col], gate, col % u]);
    expect(kernel.quantization!.maxSteps).toBeCloseTo(0.6, 5);
  });

  it("maps TFLite's fused activation (RELU) to Keras' activation and refuses one Keras lacks", async () => {
    expect((await written("float32", { activation: 1 })).tflite.layers[0].config.activation).toBe("relu");
    const err = await written("float32", { activation: 3 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/fused activation RELU6/);
  });
});

describe("damaged TFLite files", () => {
  it("refuses truncated and offset-damaged flatbuffers in one line", async () => {
    const { bytes } = lstmTflite({ units: 2, input: 1, kernel: new Float32Array(8), recurrentKernel: new Float32Array(16), bias: new Float32Array(8) }, "float32");
    const cases: Uint8Array[] = [bytes.slice(0, 40), bytes.slice(0, bytes.length / 2)];
    const badRoot = bytes.slice();
    new DataView(badRoot.buffer).setUint32(0, 0x7ffffff0, true);
    cases.push(badRoot);
    for (const c of cases) {
      const err = await loadModelFromBytes(c, "bad.tflite").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileError);
      expect((err as Error).message).not.toContain("\n");
    }
  });

  it("refuses a tensor whose shape claims more than its buffer holds, before allocating", async () => {
    const { bytes } = lstmTflite({ units: 2, input: 1, kernel: new Float32Array(8), recurrentKernel: new Float32Array(16), bias: new Float32Array(8) }, "float32");
    // The first kernel tensor's shape [2, 1] → [2, 1e9]: find the i32 vector [2, 1] (count 2) and change it.
    const v = new DataView(bytes.buffer);
    let patched = false;
    for (let at = 8; at + 12 <= bytes.length && !patched; at += 4) {
      if (v.getUint32(at, true) === 2 && v.getInt32(at + 4, true) === 2 && v.getInt32(at + 8, true) === 1) {
        v.setInt32(at + 8, 1_000_000_000, true);
        patched = true;
      }
    }
    expect(patched).toBe(true);
    const err = await loadModelFromBytes(bytes, "huge.tflite").catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/claims shape \[2, 1000000000\] of float32 but its buffer holds 8 bytes/);
  });

  it("refuses tables shared over and over (a small file claiming millions of tensors) before decoding them all", async () => {
    // One tensor table referenced 3000 times by one subgraph, referenced 3000 times by the model:
    // 9 million tensors to decode from a file of about 36 KB.
    const tensor = table([ref(i32s([1, 2])), i8(0), u32(0), ref(str("t"))]);
    const subgraph = table([ref(tables(Array(3000).fill(tensor))), ref(i32s([])), ref(i32s([])), ref(tables([])), ref(str("g"))]);
    const model = table([u32(3), ref(tables([])), ref(tables(Array(3000).fill(subgraph))), undefined, ref(tables([]))]);
    const bytes = flatbuffer(model);
    expect(bytes.length).toBeLessThan(40_000);
    const started = Date.now();
    const err = await loadModelFromBytes(bytes, "shared.tflite").catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/refer to the same data over and over/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

it("the local fixtures are the collection's bytes", () => {
  const local = `${REPO_ROOT}/test/fixtures/exports/${MNIST}/trained_lstm.tflite`;
  expect(readFileSync(local).subarray(4, 8).toString("latin1")).toBe("TFL3");
});
