// The slice stage on the seed sample and on hand-built layers of every kind.
// Expected values are the seed notebook's weights (kernel_i = [[-0.7879], [-0.14056396]],
// bias_f = [1], ...), stored as float32: compared exactly with Math.fround of the decimals.
import { describe, expect, it } from "vitest";
import { InspectError, UnsupportedError, UsageError } from "../../src/errors.js";
import { loadModel } from "../../src/load/index.js";
import type { Layer, Model } from "../../src/model.js";
import { sliceLastAxis } from "../../src/slice/conv-lstm.js";
import { findLayer, layerReports, selectGate, sliceCell, type CellReport, type RecurrentReport } from "../../src/slice/index.js";

const f32 = (xs: number[]) => Float32Array.from(xs);

function byName(cell: CellReport): Record<string, { shape: number[]; values: number[] }> {
  return Object.fromEntries(cell.tensors.map((t) => [t.name, { shape: t.shape, values: Array.from(t.data) }]));
}

const SEED_EXPECTED: Record<string, { shape: number[]; values: number[] }> = {
  kernel_i: { shape: [2, 1], values: [-0.7879, -0.14056396] },
  kernel_f: { shape: [2, 1], values: [-0.7968972, -0.34560132] },
  kernel_c: { shape: [2, 1], values: [0.9924617, 0.9574034] },
  kernel_o: { shape: [2, 1], values: [-0.6057646, 0.7960496] },
  recurrent_kernel_i: { shape: [1, 1], values: [-0.0660542] },
  recurrent_kernel_f: { shape: [1, 1], values: [-0.32508007] },
  recurrent_kernel_c: { shape: [1, 1], values: [-0.8477706] },
  recurrent_kernel_o: { shape: [1, 1], values: [0.41381747] },
  bias_i: { shape: [1], values: [0] },
  bias_f: { shape: [1], values: [1] },
  bias_c: { shape: [1], values: [0] },
  bias_o: { shape: [1], values: [0] },
};

describe("seed sample (samples/seed-lstm.h5)", () => {
  it("slices the LSTM into the seed notebook's twelve named gate tensors, in order", async () => {
    const model = await loadModel("samples/seed-lstm.h5");
    const [report] = layerReports(model) as RecurrentReport[];
    expect(report.type).toBe("recurrent");
    const cell = report.cells[0];
    expect(cell.tensors.map((t) => t.name)).toEqual(Object.keys(SEED_EXPECTED));
    const got = byName(cell);
    for (const [name, e] of Object.entries(SEED_EXPECTED)) {
      expect(got[name].shape, name).toEqual(e.shape);
      expect(got[name].values, name).toEqual(e.values.map(Math.fround));
    }
    expect(cell).toMatchObject({ kind: "lstm", units: 1, inputDim: 2, gates: ["i", "f", "c", "o"], useBias: true, resetAfter: null, dtype: "float32" });
    expect(cell.activations).toEqual({ activation: "tanh", recurrent_activation: "sigmoid" });
    // bias_f is all ones (unit_forget_bias): the statistics say so.
    const bf = cell.tensors.find((t) => t.name === "bias_f")!;
    expect(bf.stats).toMatchObject({ min: 1, max: 1, mean: 1, std: 0 });
    const ki = cell.tensors.find((t) => t.name === "kernel_i")!;
    // mean and std of {-0.7879, -0.14056396} (population std, as numpy's default).
    expect(ki.stats.mean!).toBeCloseTo((Math.fround(-0.7879) + Math.fround(-0.14056396)) / 2, 12);
    expect(ki.stats.std!).toBeCloseTo(Math.abs(Math.fround(-0.7879) - Math.fround(-0.14056396)) / 2, 12);
    expect(cell.packed.map((p) => [p.name, p.shape])).toEqual([
      ["kernel", [2, 4]],
      ["recurrent_kernel", [1, 4]],
      ["bias", [4]],
    ]);
  });

  it("--gate f keeps kernel_f, recurrent_kernel_f and bias_f", async () => {
    const model = await loadModel("samples/seed-lstm.h5");
    const [r] = selectGate(layerReports(model, "lstm_1"), "f", true);
    expect(r.cells[0].tensors.map((t) => t.name)).toEqual(["kernel_f", "recurrent_kernel_f", "bias_f"]);
  });
});

// Hand-built layers: weights chosen so every block has distinct values (block k, element e -> 10k + e).
function model(layers: Layer[], kerasMajor: 1 | 2 | 3 = 2): Model {
  return { format: "keras-h5", source: "hand-built.h5", kerasVersion: kerasMajor === 3 ? "3.9.2" : "2.2.4", kerasMajor, modelClass: "Sequential", name: "m", layers, inputs: [], outputs: [], notes: [] };
}

function blocks(rows: number, units: number, gates: number, base = 0): Float32Array {
  const width = gates * units;
  return Float32Array.from({ length: rows * width }, (_, k) => base + 100 * Math.floor((k % width) / units) + Math.floor(k / width) * units + (k % units));
}

function layer(className: string, name: string, config: Record<string, unknown>, weights: [string, number[], Float32Array][], children: Layer[] = []): Layer {
  return {
    className,
    name,
    config,
    weights: weights.map(([n, shape, data]) => ({ name: n, path: `${name}/${n}`, shape, dtype: "float32" as const, data })),
    children,
    inbound: [],
  };
}

const lstmNoBias = layer("LSTM", "lstm_nb", { units: 2, use_bias: false }, [
  ["kernel", [3, 8], blocks(3, 2, 4)],
  ["recurrent_kernel", [2, 8], blocks(2, 2, 4, 1000)],
]);

describe("hand-built layers", () => {
  it("LSTM with use_bias=False has kernel and recurrent_kernel blocks only; gate k is columns [k·u, (k+1)·u)", () => {
    const cell = sliceCell(model([lstmNoBias]), lstmNoBias, "lstm_nb");
    expect(cell.useBias).toBe(false);
    expect(cell.tensors.map((t) => t.name)).toEqual([
      "kernel_i", "kernel_f", "kernel_c", "kernel_o",
      "recurrent_kernel_i", "recurrent_kernel_f", "recurrent_kernel_c", "recurrent_kernel_o",
    ]);
    const g = byName(cell);
    // Row r of block k holds 100k + 2r + j.
    expect(g.kernel_c).toEqual({ shape: [3, 2], values: [200, 201, 202, 203, 204, 205] });
    expect(g.recurrent_kernel_o).toEqual({ shape: [2, 2], values: [1300, 1301, 1302, 1303] });
    expect(cell.packed.map((p) => p.name)).toEqual(["kernel", "recurrent_kernel"]);
  });

  it("GRU reset_after=True shows the input bias row as bias_g and the recurrent row as recurrent_bias_g", () => {
    const gru = layer("GRU", "gru_a", { units: 2, reset_after: true }, [
      ["kernel", [1, 6], blocks(1, 2, 3)],
      ["recurrent_kernel", [2, 6], blocks(2, 2, 3)],
      ["bias", [2, 6], f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])],
    ]);
    const cell = sliceCell(model([gru]), gru, "gru_a");
    const g = byName(cell);
    expect(cell.resetAfter).toBe(true);
    expect(g.bias_z.values).toEqual([1, 2]);
    expect(g.bias_r.values).toEqual([3, 4]);
    expect(g.bias_h.values).toEqual([5, 6]);
    expect(g.recurrent_bias_z.values).toEqual([7, 8]);
    expect(g.recurrent_bias_r.values).toEqual([9, 10]);
    expect(g.recurrent_bias_h.values).toEqual([11, 12]);
    expect(cell.tensors.map((t) => t.name).slice(-6)).toEqual(["bias_z", "bias_r", "bias_h", "recurrent_bias_z", "recurrent_bias_r", "recurrent_bias_h"]);
    expect(cell.packed.find((p) => p.name === "bias")!.shape).toEqual([2, 6]);
  });

  it("a GRU config without reset_after (Keras 1, Keras 2 before 2.1.5) means reset_after=False with a (3u) bias", () => {
    const gru = layer("GRU", "gru_old", { units: 2 }, [
      ["kernel", [1, 6], blocks(1, 2, 3)],
      ["recurrent_kernel", [2, 6], blocks(2, 2, 3)],
      ["bias", [6], f32([1, 2, 3, 4, 5, 6])],
    ]);
    const cell = sliceCell(model([gru]), gru, "gru_old");
    expect(cell.resetAfter).toBe(false);
    expect(byName(cell).bias_h.values).toEqual([5, 6]);
    expect(cell.tensors.some((t) => t.role === "recurrent_bias")).toBe(false);
  });

  it("SimpleRNN keeps the names kernel, recurrent_kernel, bias and has no gates", () => {
    const rnn = layer("SimpleRNN", "rnn", { units: 2 }, [
      ["kernel", [3, 2], blocks(3, 2, 1)],
      ["recurrent_kernel", [2, 2], blocks(2, 2, 1)],
      ["bias", [2], f32([0.5, -0.5])],
    ]);
    const m = model([rnn]);
    const cell = sliceCell(m, rnn, "rnn");
    expect(cell.tensors.map((t) => [t.name, t.gate, t.shape])).toEqual([
      ["kernel", null, [3, 2]],
      ["recurrent_kernel", null, [2, 2]],
      ["bias", null, [2]],
    ]);
    expect(() => selectGate(layerReports(m, "rnn"), "i", true)).toThrow(/no gate 'i': SimpleRNN has no gates/);
  });

  it("finds recurrent layers inside TimeDistributed and nested models, with their paths", () => {
    const inner = layer("LSTM", "inner_lstm", { units: 2, use_bias: false }, lstmNoBias.weights.map((w) => [w.name, w.shape, w.data as Float32Array]));
    const td = layer("TimeDistributed", "td", {}, [], [inner]);
    const dense = layer("Dense", "dense_9", { units: 2 }, [["kernel", [2, 2], f32([1, 2, 3, 4])]]);
    const nested = layer("Sequential", "encoder", {}, [], [td, dense]);
    const m = model([nested]);
    const reports = layerReports(m);
    expect(reports.map((r) => [r.type, r.path])).toEqual([
      ["recurrent", "encoder/td/inner_lstm"],
      ["plain", "encoder/dense_9"],
    ]);
    expect(layerReports(m, "encoder/td/inner_lstm")[0].path).toBe("encoder/td/inner_lstm");
    expect(layerReports(m, "inner_lstm")[0].path).toBe("encoder/td/inner_lstm");
  });

  it("a Bidirectional gives both directions, labelled, with the merge mode; a direction's path gives that one", () => {
    const fwd = layer("LSTM", "forward_lstm_1", { units: 2, use_bias: false }, lstmNoBias.weights.map((w) => [w.name, w.shape, w.data as Float32Array]));
    const bwd = layer("LSTM", "backward_lstm_1", { units: 2, use_bias: false, go_backwards: true }, lstmNoBias.weights.map((w) => [w.name, w.shape, w.data as Float32Array]));
    const bi = layer("Bidirectional", "bidirectional_1", { merge_mode: "sum" }, [], [fwd, bwd]);
    const m = model([bi]);
    const [r] = layerReports(m) as RecurrentReport[];
    expect(r.mergeMode).toBe("sum");
    expect(r.cells.map((c) => [c.path, c.direction])).toEqual([
      ["bidirectional_1/forward_lstm_1", "forward"],
      ["bidirectional_1/backward_lstm_1", "backward"],
    ]);
    const [one] = layerReports(m, "bidirectional_1/backward_lstm_1") as RecurrentReport[];
    expect(one.mergeMode).toBe("sum");
    expect(one.cells.map((c) => c.direction)).toEqual(["backward"]);
  });

  it("a tensor whose shape disagrees with the config is named with the shape found and the shape expected", () => {
    const bad = layer("LSTM", "lstm_bad", { units: 3 }, [
      ["kernel", [2, 12], blocks(2, 3, 4)],
      ["recurrent_kernel", [3, 12], blocks(3, 3, 4)],
      ["bias", [8], f32([0, 0, 0, 0, 0, 0, 0, 0])],
    ]);
    expect(() => layerReports(model([bad]))).toThrow(InspectError);
    expect(() => layerReports(model([bad]))).toThrow("tensor 'bias' has shape [8] but units=3 implies [12]");
  });

  it("--layer naming no layer lists the layers that exist; --gate naming a missing gate lists the gates", () => {
    const m = model([lstmNoBias, layer("Dense", "dense_1", { units: 1 }, [["kernel", [2, 1], f32([1, 2])]])]);
    expect(() => findLayer(m, "lstm_9")).toThrow(UsageError);
    expect(() => findLayer(m, "lstm_9")).toThrow("no layer 'lstm_9' in hand-built.h5; its layers: lstm_nb, dense_1");
    expect(() => selectGate(layerReports(m, "lstm_nb"), "z", true)).toThrow("layer 'lstm_nb' has no gate 'z': LSTM has gates i, f, c, o");
    expect(() => selectGate(layerReports(m), "z", false)).toThrow("no recurrent layer has a gate 'z': LSTM has gates i, f, c, o");
    expect(() => selectGate(layerReports(m, "dense_1"), "i", true)).toThrow("--gate applies to recurrent layers; 'dense_1' is Dense");
  });

  it("Keras 1 ConvLSTM2D per-gate arrays are refused rather than guessed", () => {
    const conv = layer("ConvLSTM2D", "conv", { filters: 1 }, [["W_i", [1, 1, 3, 3], f32(Array(9).fill(0))]]);
    expect(() => sliceCell(model([conv]), conv, "conv")).toThrow(UnsupportedError);
  });
});

describe("sliceLastAxis (ConvLSTM kernels)", () => {
  it("cuts (kh, kw, C, 4f) into four (kh, kw, C, f) blocks along the last axis", () => {
    // shape (2, 1, 1, 8): element value = 10·(leading index) + last index.
    const data = Array.from({ length: 16 }, (_, k) => 10 * Math.floor(k / 8) + (k % 8));
    const parts = sliceLastAxis([2, 1, 1, 8], data, 4);
    expect(parts.map((p) => p.shape)).toEqual([[2, 1, 1, 2], [2, 1, 1, 2], [2, 1, 1, 2], [2, 1, 1, 2]]);
    expect(Array.from(parts[0].data)).toEqual([0, 1, 10, 11]);
    expect(Array.from(parts[3].data)).toEqual([6, 7, 16, 17]);
  });
  it("refuses a last axis that does not split evenly", () => {
    expect(() => sliceLastAxis([3, 6], new Array(18).fill(0), 4)).toThrow(/does not split into 4/);
  });
});
