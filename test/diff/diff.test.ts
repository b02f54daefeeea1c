// diff: layers matched by name (then order, with a warning), tensors compared value by
// value, recurrent layers in Keras 2's packed layout with every change also named by gate.
import { describe, expect, it } from "vitest";
import { diffModels, float16Spacing } from "../../src/diff/index.js";
import type { Model, Tensor } from "../../src/model.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import { fixturePath } from "../load/fixture-paths.js";
import { writer } from "../support/rnn-model-file.js";
import { at, clone, gruSpec, loadSpec, lstmDenseSpec, type ModelSpec, tensor } from "../check/models.js";

describe("diff of a file against itself", () => {
  for (const file of ["samples/seed-lstm.h5", "samples/bidirectional-lstm.h5", "samples/gru.h5"]) {
    it(`${file}: equal`, async () => {
      const r = diffModels(await loadModel(file), await loadModel(file));
      expect(r.verdict).toBe("equal");
      expect(r.warnings).toEqual([]);
      expect(r.layers.every((l) => l.status === "equal" && l.matchedBy === "path")).toBe(true);
    });
  }
  for (const file of ["k1_lstm_theano_full.h5", "k2_cudnnlstm_functional_full.h5", "tfk2_gru_stacked_v3.keras"]) {
    it.skipIf(!fixturePath(file))(`${file} (real fixture): equal`, async () => {
      const r = diffModels(await loadModel(fixturePath(file)!), await loadModel(fixturePath(file)!));
      expect(r.verdict).toBe("equal");
      expect(r.counts.differentTensors).toBe(0);
    });
  }
});

describe("diff against a copy with one recurrent weight changed", () => {
  it("names the layer, the tensor, the element, the gate and the unit", async () => {
    const spec = await lstmDenseSpec({ units: 4 });
    const changed = clone(spec);
    // recurrent_kernel_o[2, 1]: gate o is columns 12..15 of the (4, 16) matrix.
    tensor(changed, "lstm_1", "recurrent_kernel").data[at(16, 2, 12 + 1)] += 0.25;
    const r = diffModels(await loadSpec(spec, "a.h5"), await loadSpec(changed, "b.h5"));
    expect(r.verdict).toBe("different");
    const lstm = r.layers.find((l) => l.pathA === "lstm_1")!;
    expect(lstm.status).toBe("different");
    const rk = lstm.tensors.find((t) => t.name === "recurrent_kernel")!;
    expect(rk.changed).toBe(1);
    expect(rk.maxAbsDiff).toBeCloseTo(0.25, 6); // float32 storage: within 1e-7 of 0.25
    expect(rk.worst).toMatchObject({ index: [2, 13], gate: "o", unit: 1 });
    expect(lstm.tensors.filter((t) => t.status !== "equal").map((t) => t.name)).toEqual(["recurrent_kernel"]);
    expect(lstm.gates.filter((g) => g.changed).map((g) => [g.gate, g.worst])).toEqual([["o", "recurrent_kernel_o[2, 1]"]]);
    expect(r.layers.find((l) => l.pathA === "dense_1")!.status).toBe("equal");
  });

  it("GRU reset_after: a recurrent bias of gate h is named as such", async () => {
    const spec = await gruSpec({ units: 3, resetAfter: true });
    const changed = clone(spec);
    tensor(changed, "gru_1", "bias").data[9 + 6 + 2] -= 0.1; // row 1 (recurrent bias), gate h = columns 6..8, unit 2
    const r = diffModels(await loadSpec(spec), await loadSpec(changed));
    const gru = r.layers[0];
    expect(gru.tensors.filter((t) => t.status !== "equal").map((t) => [t.name, t.worst?.gate, t.worst?.unit])).toEqual([["recurrent_bias", "h", 2]]);
    expect(gru.gates.filter((g) => g.changed).map((g) => g.worst)).toEqual(["recurrent_bias_h[2]"]);
  });

  it("--atol: a change of 1e-4 counts as equal within 1e-3 and as different within 0", async () => {
    const spec = await lstmDenseSpec();
    const changed = clone(spec);
    tensor(changed, "dense_1", "kernel").data[3] += 1e-4;
    const [a, b] = [await loadSpec(spec), await loadSpec(changed)];
    expect(diffModels(a, b).verdict).toBe("different");
    expect(diffModels(a, b, { atol: 1e-3 }).verdict).toBe("equal");
  });

  it("NaN in the same place in both is equal; NaN against a number is different", async () => {
    const spec = clone(await lstmDenseSpec());
    tensor(spec, "lstm_1", "bias").data[0] = NaN;
    expect(diffModels(await loadSpec(spec), await loadSpec(spec)).verdict).toBe("equal");
    const r = diffModels(await loadSpec(spec), await loadSpec(await lstmDenseSpec()));
    expect(r.layers[0].tensors.find((t) => t.name === "bias")!.changed).toBe(1);
  });
});

describe("diff across formats and layouts", () => {
  // MANIFEST.tsv lists no Keras 3 .keras and legacy .h5 of the same model: the .keras files
  // (k3_*.keras, tfk2_*_v3.keras) and the legacy .h5 files come from different repositories or
  // different trainings, and writing a .keras needs Keras itself. So the cross-format case is a
  // full-model .h5 against a weights-only .h5 of the same model: dl4j's simple_lstm_tf_keras_2
  // model and weights (Keras 2.0.6).
  it.skipIf(!fixturePath("k2_lstm_dense_full.h5") || !fixturePath("k2_lstm_dense_weights.h5"))(
    "k2_lstm_dense_full.h5 (model.save) and k2_lstm_dense_weights.h5 (save_weights) are equal",
    async () => {
      const r = diffModels(await loadModel(fixturePath("k2_lstm_dense_full.h5")!), await loadModel(fixturePath("k2_lstm_dense_weights.h5")!));
      expect(r.verdict).toBe("equal");
      expect(r.layers.map((l) => [l.pathA, l.pathB, l.matchedBy, l.status])).toEqual([
        ["lstm_1", "lstm_1", "path", "equal"],
        ["dense_1", "dense_1", "path", "equal"],
      ]);
      expect(r.warnings).toEqual([expect.stringContaining("weights-only file records no config")]);
    },
  );

  // The odd pair: same repository and architecture name, but the v3 file has two
  // LayerNormalization layers more and was trained again: every shared tensor differs.
  it.skipIf(!fixturePath("tfk2_bidir_gru_multiinput_h5ext.keras") || !fixturePath("tfk2_bidir_gru_multiinput_v3.keras"))(
    "the two tfk2_bidir_gru_multiinput files are different models (.h5 written with a .keras name vs a .keras archive)",
    async () => {
      const r = diffModels(
        await loadModel(fixturePath("tfk2_bidir_gru_multiinput_h5ext.keras")!),
        await loadModel(fixturePath("tfk2_bidir_gru_multiinput_v3.keras")!),
      );
      expect(r.verdict).toBe("different");
      expect(r.layers.filter((l) => l.status === "only-b").map((l) => l.pathB)).toEqual(["layer_normalization_1", "layer_normalization"]);
    },
  );

  it("Keras 1 per-gate arrays (W_i, U_i, b_i, W_c, ...) and Keras 2 packed tensors of the same numbers are equal", async () => {
    const spec = await lstmDenseSpec({ units: 4, features: 3 });
    const w = await writer();
    const u = 4;
    const cols = (t: { shape: number[]; data: number[] }, g: number) => {
      const [rows, width] = t.shape.length === 1 ? [1, t.shape[0]] : t.shape;
      const out: number[] = [];
      for (let r = 0; r < rows; r++) for (let j = 0; j < u; j++) out.push(t.data[r * width + g * u + j]);
      return out;
    };
    const K = tensor(spec, "lstm_1", "kernel");
    const R = tensor(spec, "lstm_1", "recurrent_kernel");
    const B = tensor(spec, "lstm_1", "bias");
    const gateIndex = { i: 0, f: 1, c: 2, o: 3 } as const;
    // Keras 1 stored the gates in the order i, c, f, o.
    const keras1 = (["i", "c", "f", "o"] as const).flatMap((g) => [
      { name: `lstm_1_W_${g}:0`, shape: [3, u], data: cols(K, gateIndex[g]) },
      { name: `lstm_1_U_${g}:0`, shape: [u, u], data: cols(R, gateIndex[g]) },
      { name: `lstm_1_b_${g}:0`, shape: [u], data: cols(B, gateIndex[g]) },
    ]);
    const dense = spec.layers[1].tensors;
    const bytes = await w.writeKerasH5({
      kerasVersion: "1.2.2",
      layers: [
        { name: "lstm_1", weights: keras1 },
        { name: "dense_1", weights: [{ name: "dense_1_W:0", shape: dense[0].shape, data: dense[0].data }, { name: "dense_1_b:0", shape: dense[1].shape, data: dense[1].data }] },
      ],
    });
    const old = await loadModelFromBytes(bytes, "keras1_weights.h5");
    expect(old.layers[0].weights.map((t) => t.name).slice(0, 3)).toEqual(["W_i", "U_i", "b_i"]);
    const r = diffModels(await loadSpec(spec), old);
    expect(r.verdict).toBe("equal");
    expect(r.layers[0].notes.join(" ")).toContain("compared in Keras 2's packed layout; B: Keras 1 stored this LSTM as 12 per-gate arrays");

    // And a change in Keras 1's b_f is found in gate f of the packed bias.
    keras1.find((t) => t.name === "lstm_1_b_f:0")!.data[1] += 0.5;
    const changed = await loadModelFromBytes(await w.writeKerasH5({ kerasVersion: "1.2.2", layers: [{ name: "lstm_1", weights: keras1 }] }), "k1.h5");
    const d = diffModels(await loadSpec(spec), changed);
    const lstm = d.layers.find((l) => l.pathA === "lstm_1")!;
    expect(lstm.tensors.find((t) => t.name === "bias")!.worst).toMatchObject({ index: [u + 1], gate: "f", unit: 1 });
    expect(d.layers.find((l) => l.pathA === "dense_1")!.status).toBe("only-a");
  });
});

describe("matching and structural differences", () => {
  async function renamed(spec: ModelSpec, from: string, to: string): Promise<ModelSpec> {
    const s = clone(spec);
    const l = s.layers.find((x) => x.name === from)!;
    l.name = to;
    l.config.config.name = to;
    return s;
  }

  it("layers with other names are matched by order, with a warning naming both", async () => {
    const spec = await lstmDenseSpec();
    const r = diffModels(await loadSpec(spec), await loadSpec(await renamed(spec, "lstm_1", "lstm_7")));
    expect(r.verdict).toBe("equal");
    expect(r.warnings).toEqual(["layers matched by order, not name: A 'lstm_1' (LSTM) ↔ B 'lstm_7' (LSTM)"]);
    expect(r.layers.map((l) => l.matchedBy)).toEqual(["order", "path"]);
  });

  it("a change of units is a shape change of every tensor it shapes", async () => {
    const r = diffModels(await loadSpec(await lstmDenseSpec({ units: 4 })), await loadSpec(await lstmDenseSpec({ units: 5 })));
    expect(r.verdict).toBe("different");
    expect(r.layers[0].tensors.map((t) => [t.name, t.status, t.shapeA, t.shapeB])).toEqual([
      ["kernel", "shape", [3, 16], [3, 20]],
      ["recurrent_kernel", "shape", [4, 16], [5, 20]],
      ["bias", "shape", [16], [20]],
    ]);
    expect(r.layers[0].configChanges).toEqual(["units: 4 → 5"]);
  });

  it("a layer only in one file is reported on its side", async () => {
    const spec = await lstmDenseSpec();
    const short = clone(spec);
    short.layers = short.layers.slice(0, 1);
    const r = diffModels(await loadSpec(spec), await loadSpec(short));
    expect(r.layers.map((l) => [l.pathA, l.pathB, l.status])).toEqual([
      ["lstm_1", "lstm_1", "equal"],
      ["dense_1", null, "only-a"],
    ]);
    expect(r.verdict).toBe("different");
  });

  it("a changed activation is a difference even with equal weights", async () => {
    const spec = await lstmDenseSpec();
    const other = clone(spec);
    other.layers[0].config.config.recurrent_activation = "hard_sigmoid";
    const r = diffModels(await loadSpec(spec), await loadSpec(other));
    expect(r.layers[0].configChanges).toEqual(['recurrent_activation: "sigmoid" → "hard_sigmoid"']);
    expect(r.verdict).toBe("different");
  });
});

describe("quantized values: within quantization, measured in steps", () => {
  /** A one-layer model whose Dense kernel holds `data`, stored as given (a quantized export's tensor carries its step). */
  const dense = (data: number[], stored: Partial<Tensor> = {}): Model => ({
    format: "tfjs-layers",
    source: "m.json",
    kerasMajor: 2,
    modelClass: "Sequential",
    name: "m",
    layers: [{ className: "Dense", name: "dense", config: {}, weights: [{ name: "kernel", path: "dense/kernel", shape: [data.length], dtype: "float32", data: Float32Array.from(data), ...stored }], children: [], inbound: [] }],
    inputs: [],
    outputs: [],
    notes: [],
  });

  it("float16Spacing: 2^(e − 10) in [2^e, 2^(e+1)), 2^-24 for subnormals and zero", () => {
    expect([1, 1.5, 0.999, 2 ** -14, 2 ** -15, 0, 1e-9, 1024, 65504, -3].map(float16Spacing)).toEqual([2 ** -10, 2 ** -10, 2 ** -11, 2 ** -24, 2 ** -24, 2 ** -24, 2 ** -24, 1, 32, 2 ** -9]);
  });

  it("a step: half of it is within quantization, 0.51 of it different; max |Δ| in steps either way", () => {
    const s = 0.01;
    const a = dense([0.3, -0.2]);
    const within = diffModels(a, dense([Math.fround(0.3 + 0.5 * s), -0.2], { quantizationStep: Float64Array.of(s, s) }));
    expect([within.verdict, within.layers[0].status, within.counts.withinQuantization]).toEqual(["within-quantization", "within-quantization", 1]);
    // float32 rounding of 0.305 moves it by under 2^-25: 0.5 step within 1e-5.
    expect(within.layers[0].tensors[0].quantization!.maxSteps).toBeCloseTo(0.5, 5);
    const beyond = diffModels(a, dense([Math.fround(0.3 + 0.51 * s), -0.2], { quantizationStep: Float64Array.of(s, s) }));
    const t = beyond.layers[0].tensors[0];
    expect([beyond.verdict, t.status, t.quantization!.beyond, t.worst!.index]).toEqual(["different", "different", 1, [0]]);
    expect(t.quantization!.maxSteps).toBeCloseTo(0.51, 5);
    // --exact: quantized values must be within atol too.
    expect(diffModels(a, dense([Math.fround(0.3 + 0.5 * s), -0.2], { quantizationStep: Float64Array.of(s, s) }), { exact: true }).verdict).toBe("different");
    // A column stored unquantized (step 0) gets no room.
    expect(diffModels(a, dense([0.3, Math.fround(-0.2 + 1e-4)], { quantizationStep: Float64Array.of(s, 0) })).verdict).toBe("different");
  });

  it("GRU reset_after: the stored bias (2, 3u) gives its steps to both packed rows, bias and recurrent_bias", async () => {
    const spec = await gruSpec({ units: 3, resetAfter: true });
    const s = 0.02;
    // B: the stored bias as a quantized export would hold it, one step per column of its last axis (3u = 9).
    const quantized = async (move: (bias: Float32Array) => void) => {
      const m = await loadSpec(spec);
      const layer = m.layers[0];
      const k = layer.weights.findIndex((t) => t.name === "bias");
      const data = Float32Array.from(layer.weights[k].data);
      move(data);
      layer.weights[k] = { ...layer.weights[k], data, quantizationStep: new Float64Array(9).fill(s) };
      return m;
    };
    // Row 1 (the recurrent bias), gate h = columns 6..8, unit 2; and row 0, gate z, unit 0.
    const within = diffModels(await loadSpec(spec), await quantized((b) => ((b[9 + 6 + 2] += 0.3 * s), (b[0] -= 0.4 * s))));
    expect(within.verdict).toBe("within-quantization");
    expect(within.layers[0].tensors.map((t) => [t.name, t.status])).toEqual([["kernel", "equal"], ["recurrent_kernel", "equal"], ["bias", "within-quantization"], ["recurrent_bias", "within-quantization"]]);
    const beyond = diffModels(await loadSpec(spec), await quantized((b) => (b[9 + 6 + 2] += 0.7 * s)));
    expect(beyond.layers[0].gates.map((g) => [g.gate, g.status, g.worst, g.unit])).toEqual([["z", "equal", null, null], ["r", "equal", null, null], ["h", "different", "recurrent_bias_h[2]", 2]]);
    // float32 storage of bias + 0.7 step: 0.7 within 1e-4.
    expect(beyond.layers[0].gates[2].maxSteps!).toBeCloseTo(0.7, 4);
  });

  it("float16: within half the spacing towards the Keras value, which is half as wide below a power of two", () => {
    const a = dense([1 + 2 ** -11, 1 - 2 ** -12, 1 - 2 ** -12 - 2 ** -20]);
    // 1 + 2^-11 and 1 − 2^-12 are ties that round to 1; 1 − 2^-12 − 2^-20 rounds to 1 − 2^-11, so 1 is beyond half a step below 1.
    const r = diffModels(a, dense([1, 1, 1], { storedAsFloat16: true }));
    const t = r.layers[0].tensors[0];
    expect([t.status, t.quantization!.scheme, t.quantization!.beyond, t.worst!.index]).toEqual(["different", "float16", 1, [2]]);
    const ok = diffModels(a, dense([1, 1, 1 - 2 ** -11], { storedAsFloat16: true }));
    expect([ok.verdict, ok.layers[0].tensors[0].quantization!.maxSteps]).toEqual(["within-quantization", 0.5]);
  });
});
