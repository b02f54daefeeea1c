// `export` as a library: what it writes, read back by numpy (numpy.load) and by our readNpy,
// and the torch layout checked against PyTorch's documented equations run in numpy
// (torch_reference.py) on the exported state dict. That reference shares nothing with
// src/: it reads only the .npy files and manifest.json. It must give the same h as our
// evaluator on the same input, to 1e-5 (as the issue asks: both sides float32, |h| ≤ 1 for
// sigmoid/tanh cells, summation orders differ, so agreement is ~1e-7; a gate in the wrong
// PyTorch row block or a misplaced GRU bias gives errors of order 0.1).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileError, UnsupportedError, UsageError } from "../../src/errors.js";
import { runDirection } from "../../src/eval/recurrent.js";
import { exportLayer, planExport, safeFileName, type ExportPlan } from "../../src/export/index.js";
import { recurrentKindOf } from "../../src/layers/registry.js";
import { loadModel } from "../../src/load/index.js";
import { walkLayers, type Model } from "../../src/model.js";
import { readNpy } from "../../src/npy.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { noteNumpySkipped, numpyAvailable } from "../reference/numpy.js";
import { runPython } from "../slice/python.js";
import { ErrorLog, expectAllClose } from "../support/compare.js";

const TORCH_REFERENCE = new URL("./torch_reference.py", import.meta.url);
const READ_NPY = new URL("./read_npy.py", import.meta.url);

const scratch = mkdtempSync(join(tmpdir(), "keras-inspect-export-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(scratch, `out-${++counter}`);

const numpy = numpyAvailable();
noteNumpySkipped();

function inputs(batch: number, steps: number, dim: number, seed: number): number[][][] {
  let a = seed >>> 0;
  const next = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 2 ** 32) * 2 - 1;
  };
  return Array.from({ length: batch }, () => Array.from({ length: steps }, () => Array.from({ length: dim }, next)));
}

function reverseTime(seq: Float64Array, batch: number, steps: number, units: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) for (let t = steps - 1; t >= 0; t--) for (let j = 0; j < units; j++) out.push(seq[(b * steps + t) * units + j]);
  return out;
}

/** Our evaluator's h sequence (time order) for one stored cell: forward in time, or backward as Keras' backward layer runs. */
function ourSequence(model: Model, cellPath: string, backward: boolean, x: number[][][]): number[] {
  const layer = [...walkLayers(model.layers)].find((e) => e.path === cellPath)!.layer;
  const kind = recurrentKindOf(layer.className)!;
  const [B, T, D] = [x.length, x[0].length, x[0][0].length];
  const run = runDirection(kind, { ...layer, config: { ...layer.config, go_backwards: backward } }, model, { shape: [B, T, D], data: Float64Array.from(x.flat(2)) }, { dtype: "float32", path: cellPath });
  const seq = run.sequence.data;
  return backward ? reverseTime(seq, B, T, seq.length / (B * T)) : Array.from(seq);
}

const log = new ErrorLog();
afterAll(() => {
  if (log.byKind.size > 0) console.log(log.summary("torch layout (h at every step, 2 samples × 5 steps)"));
});

describe("keras layout", () => {
  it.skipIf(!numpy)("writes the seed's gate tensors as float32 .npy that numpy.load and readNpy read back exactly", async () => {
    const model = await loadModel("samples/seed-lstm.h5");
    const dir = freshDir();
    const { written } = await exportLayer(model, { layer: "lstm_1", layout: "keras", format: "npy" }, dir);
    expect(written).toEqual([
      "kernel_i.npy", "kernel_f.npy", "kernel_c.npy", "kernel_o.npy",
      "recurrent_kernel_i.npy", "recurrent_kernel_f.npy", "recurrent_kernel_c.npy", "recurrent_kernel_o.npy",
      "bias_i.npy", "bias_f.npy", "bias_c.npy", "bias_o.npy",
      "kernel.npy", "recurrent_kernel.npy", "bias.npy", "manifest.json",
    ]);
    const files = written.filter((f) => f.endsWith(".npy")).map((f) => join(dir, f));
    const byNumpy = runPython<Record<string, { dtype: string; shape: number[]; values: number[] }>>(READ_NPY, { files });
    // The seed notebook's values (float32).
    const expected: Record<string, [number[], number[]]> = {
      "kernel_i.npy": [[2, 1], [-0.7879, -0.14056396]],
      "kernel_o.npy": [[2, 1], [-0.6057646, 0.7960496]],
      "recurrent_kernel_c.npy": [[1, 1], [-0.8477706]],
      "bias_f.npy": [[1], [1]],
      "kernel.npy": [[2, 4], [-0.7879, -0.7968972, 0.9924617, -0.6057646, -0.14056396, -0.34560132, 0.9574034, 0.7960496]],
      "bias.npy": [[4], [0, 1, 0, 0]],
    };
    for (const [file, [shape, values]] of Object.entries(expected)) {
      const n = byNumpy[join(dir, file)];
      expect(n.dtype, file).toBe("float32");
      expect(n.shape, file).toEqual(shape);
      expect(n.values, file).toEqual(values.map(Math.fround));
      const ours = readNpy(readFileSync(join(dir, file)), file);
      expect(ours.shape).toEqual(shape);
      expect(Array.from(ours.data)).toEqual(values.map(Math.fround));
    }
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ layer: "lstm_1", class: "LSTM", layout: "keras", format: "npy", dtype: "float32" });
    expect(manifest.files[0]).toEqual({ file: "kernel_i.npy", tensor: "kernel_i", shape: [2, 1] });
  });

  it("--format json writes nested arrays of the float32 values' shortest decimals", async () => {
    const model = await loadModel("samples/seed-lstm.h5");
    const dir = freshDir();
    await exportLayer(model, { layer: "lstm_1", layout: "keras", format: "json" }, dir);
    expect(JSON.parse(readFileSync(join(dir, "kernel_i.json"), "utf8"))).toEqual([[-0.7879], [-0.14056396]]);
    expect(JSON.parse(readFileSync(join(dir, "bias_f.json"), "utf8"))).toEqual([1]);
    expect(JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8"))[1]).toEqual([-0.14056396, -0.34560132, 0.9574034, 0.7960496]);
  });

  it("a Bidirectional writes forward/ and backward/; a GRU with reset_after also recurrent_bias_g and bias (2, 3u)", async () => {
    const path = fixturePath("tfk2_bidir_gru_multiinput_h5ext.keras");
    if (!path) return;
    const plan = planExport(await loadModel(path), { layer: "bidirectional", layout: "keras", format: "npy" });
    const files = Object.fromEntries(plan.files.map((f) => [f.file, f.shape]));
    expect(files["forward/kernel_z.npy"]).toEqual([1, 32]);
    expect(files["backward/recurrent_bias_h.npy"]).toEqual([32]);
    expect(files["backward/bias.npy"]).toEqual([2, 96]);
    expect(plan.manifest.mergeMode).toBe("concat");
  });

  it("exports a non-recurrent layer's tensors as stored, under safe file names", async () => {
    const model = await loadModel("samples/stacked-lstm-dense.h5");
    const plan = planExport(model, { layer: "dense_1", layout: "keras", format: "npy" });
    expect(plan.files.map((f) => [f.file, f.shape])).toEqual([
      ["kernel.npy", [4, 1]],
      ["bias.npy", [1]],
    ]);
    expect(safeFileName("../../etc/passwd")).toBe("__.._etc_passwd");
    expect(safeFileName("query/kernel")).toBe("query_kernel");
  });
});

interface TorchCase {
  file: string;
  layer: string;
  /** Cells (paths) in PyTorch's direction order. */
  cells: string[];
  module: "LSTM" | "GRU" | "RNN";
  files: Record<string, number[]>;
}

const TORCH_CASES: TorchCase[] = [
  { file: "samples/seed-lstm.h5", layer: "lstm_1", cells: ["lstm_1"], module: "LSTM", files: { weight_ih_l0: [4, 2], weight_hh_l0: [4, 1], bias_ih_l0: [4], bias_hh_l0: [4] } },
  { file: "samples/bidirectional-lstm.h5", layer: "bidirectional_1", cells: ["bidirectional_1/forward_lstm_4", "bidirectional_1/backward_lstm_4"], module: "LSTM", files: { weight_hh_l0_reverse: [12, 3] } },
  { file: "k2_lstm_multi_io_states_full.h5", layer: "lstm_2", cells: ["lstm_2"], module: "LSTM", files: { weight_ih_l0: [12, 8], weight_hh_l0: [12, 3] } },
  {
    file: "k2_lstm_multi_io_states_full.h5", layer: "bidirectional_3", cells: ["bidirectional_3/forward_lstm_7", "bidirectional_3/backward_lstm_7"], module: "LSTM",
    files: { weight_ih_l0: [12, 4], weight_ih_l0_reverse: [12, 4], bias_hh_l0_reverse: [12] },
  },
  { file: "k2_cudnnlstm_functional_full.h5", layer: "cu_dnnlstm_2", cells: ["cu_dnnlstm_2"], module: "LSTM", files: { weight_ih_l0: [252, 63] } },
  {
    file: "tfk2_bidir_gru_multiinput_h5ext.keras", layer: "bidirectional", cells: ["bidirectional/forward_gru", "bidirectional/backward_gru"], module: "GRU",
    files: { weight_ih_l0: [96, 1], weight_hh_l0_reverse: [96, 32], bias_ih_l0: [96], bias_hh_l0_reverse: [96] },
  },
  { file: "tfk2_gru_stacked_v3.keras", layer: "gru", cells: ["gru"], module: "GRU", files: { weight_ih_l0: [150, 6] } },
  { file: "tfk2_gru_stateful_initstate_full.h5", layer: "gru_1", cells: ["gru_1"], module: "GRU", files: { bias_ih_l0: [3] } },
  { file: "k2_simplernn_full.h5", layer: "simple_rnn_1", cells: ["simple_rnn_1"], module: "RNN", files: { weight_ih_l0: [50, 1] } },
  { file: "tfk2_bidir_simplernn_full.h5", layer: "bidirectional_5", cells: ["bidirectional_5/forward_simple_rnn_7", "bidirectional_5/backward_simple_rnn_7"], module: "RNN", files: {} },
  { file: "k3_gru.keras", layer: "gru", cells: ["gru"], module: "GRU", files: { weight_ih_l0: [192, 9] } },
  { file: "k3_conv1d_bidir_lstm.keras", layer: "bidirectional_16", cells: ["bidirectional_16/forward_lstm_20", "bidirectional_16/backward_lstm_20"], module: "LSTM", files: {} },
];

function locate(file: string): string | undefined {
  return file.startsWith("samples/") ? file : fixturePath(file);
}

interface Prepared {
  model: Model;
  plan: ExportPlan;
  dir: string;
  manifest: { pytorch: { module: string; bidirectional: boolean; batch_first: boolean; input_size: number } };
  x?: number[][][];
  reference?: { directions: { output: number[][][]; h_n: number[][] }[]; tensors: Record<string, { dtype: string }> };
}

describe("torch layout: PyTorch's equations on the exported state dict give our evaluator's h", () => {
  noteMissing("export torch", TORCH_CASES.filter((c) => !c.file.startsWith("samples/")).map((c) => c.file));
  const prepared = new Map<TorchCase, Prepared>();

  // Export every case, then run the PyTorch reference once over all of them (one Python start).
  beforeAll(async () => {
    const pending: Prepared[] = [];
    for (const c of TORCH_CASES) {
      const path = locate(c.file);
      if (!path) continue;
      const model = await loadModel(path);
      const dir = freshDir();
      // tfk2_gru_stateful_initstate_full.h5's GRU (use_bias=False) applies activation 'linear', which
      // PyTorch cannot: exported with the override, it is checked for its shapes and zero biases only.
      const allowActivationMismatch = c.file === "tfk2_gru_stateful_initstate_full.h5";
      const { plan } = await exportLayer(model, { layer: c.layer, layout: "torch", format: "npy", allowActivationMismatch }, dir);
      const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Prepared["manifest"];
      const p: Prepared = { model, plan, dir, manifest };
      if (!allowActivationMismatch) {
        const d = manifest.pytorch.input_size;
        p.x = inputs(2, 5, d, 3 + d);
        pending.push(p);
      }
      prepared.set(c, p);
    }
    if (numpy && pending.length > 0) {
      const answers = runPython<Prepared["reference"][]>(TORCH_REFERENCE, { requests: pending.map((p) => ({ dir: p.dir, x: p.x })) });
      pending.forEach((p, k) => (p.reference = answers[k]));
    }
  });

  for (const c of TORCH_CASES) {
    const path = locate(c.file);
    it.skipIf(!path || !numpy)(`${c.file} ${c.layer} -> torch.nn.${c.module}`, () => {
      const { model, plan, manifest, x, reference } = prepared.get(c)!;
      const shapes = Object.fromEntries(plan.files.map((f) => [f.tensor, f.shape]));
      for (const [name, shape] of Object.entries(c.files)) expect(shapes[name], name).toEqual(shape);
      const suffixes = c.cells.length === 2 ? ["", "_reverse"] : [""];
      expect(Object.keys(shapes).sort()).toEqual(suffixes.flatMap((s) => ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"].map((n) => n + s)).sort());
      expect(manifest.pytorch).toMatchObject({ module: c.module, bidirectional: c.cells.length === 2, batch_first: true });
      if (!reference || !x) {
        expect(plan.notes.join(" ")).toMatch(/Keras applies activation linear/);
        expect(Array.from(plan.files.find((f) => f.tensor === "bias_hh_l0")!.data)).toEqual([0, 0, 0]);
        return;
      }
      for (const t of Object.values(reference.tensors)) expect(t.dtype).toBe("float32");
      expect(reference.directions.length).toBe(c.cells.length);
      c.cells.forEach((cell, k) => {
        const ours = ourSequence(model, cell, k === 1, x);
        expectAllClose(ours, reference.directions[k].output.flat(2), { atol: 1e-5 }, `${cell} h at every step`, { log, kind: "our evaluator vs PyTorch's equations (numpy) on the exported state dict" });
      });
    });
  }
});

describe("refusals, each one line naming the layer and the reason", () => {
  it("GRU with reset_after=False: no PyTorch GRU computes it", async () => {
    const path = fixturePath("k2_gru_hardsigmoid_full.h5");
    if (!path) return;
    const model = await loadModel(path);
    expect(() => planExport(model, { layer: "gru_1", layout: "torch", format: "npy", allowActivationMismatch: true })).toThrow(UnsupportedError);
    expect(() => planExport(model, { layer: "gru_1", layout: "torch", format: "npy" })).toThrow(
      "layer 'gru_1' is a GRU with reset_after=False: Keras applies the reset gate before the recurrent product ((r ⊙ h)·U_h) but torch.nn.GRU after it (r ⊙ (W_hn h + b_hn)), so no PyTorch GRU computes the same function (use --layout keras)",
    );
  });

  it("activations PyTorch does not have (hard_sigmoid, relu) unless --allow-activation-mismatch", async () => {
    const model = await loadModel("samples/stacked-lstm-dense.h5");
    expect(() => planExport(model, { layer: "lstm_2", layout: "torch", format: "npy" })).toThrow(/layer 'lstm_2' uses recurrent_activation hard_sigmoid; torch\.nn\.LSTM always applies sigmoid gates and tanh/);
    const plan = planExport(model, { layer: "lstm_2", layout: "torch", format: "npy", allowActivationMismatch: true });
    expect(plan.notes.join(" ")).toMatch(/outputs differ/);
    const k3 = fixturePath("k3_lstm_legacy.h5");
    if (k3) {
      const m = await loadModel(k3);
      expect(() => planExport(m, { layer: "lstm", layout: "torch", format: "npy" })).toThrow(/uses activation relu/);
    }
  });

  it("ConvLSTM2D and non-recurrent layers have no torch layout", async () => {
    const conv = fixturePath("tfk2_convlstm2d_full.h5");
    if (conv) {
      const m = await loadModel(conv);
      expect(() => planExport(m, { layer: "conv_lst_m2d_2", layout: "torch", format: "npy" })).toThrow(/PyTorch has no ConvLSTM module/);
    }
    const model = await loadModel("samples/stacked-lstm-dense.h5");
    expect(() => planExport(model, { layer: "dense_1", layout: "torch", format: "npy" })).toThrow(/--layout torch applies to recurrent layers/);
    expect(() => planExport(model, { layer: "nope", layout: "keras", format: "npy" })).toThrow(UsageError);
    expect(() => planExport(model, { layer: "nope", layout: "keras", format: "npy" })).toThrow("no layer 'nope' in samples/stacked-lstm-dense.h5; its layers: lstm_2, lstm_3, dense_1");
  });

  it("an export directory that cannot be written", async () => {
    const model = await loadModel("samples/seed-lstm.h5");
    const file = join(scratch, "a-file");
    writeFileSync(file, "x");
    const dir = join(file, "out");
    await expect(exportLayer(model, { layer: "lstm_1", layout: "keras", format: "npy" }, dir)).rejects.toThrow(FileError);
    await expect(exportLayer(model, { layer: "lstm_1", layout: "keras", format: "npy" }, dir)).rejects.toThrow(`${dir}: cannot write the export directory: a file is in the way (not a directory)`);
  });
});
