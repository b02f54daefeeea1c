// Keras 1 LSTM assembly, checked two ways on the real Keras 1 files (raw arrays read by h5dump):
//
// 1. Element by element against Keras 2's own loader formula (keras/engine/topology.py,
//    preprocess_weights_for_loading, Keras 2.0.0; same code in keras/engine/saving.py of 2.2.4):
//    kernel = concatenate([W_i, W_f, W_c, W_o]) from the stored order i, c, f, o, written in
//    numpy in keras_layouts.py. Moving float32 values: compared exactly.
// 2. Numerically: these dl4j files carry no stored outputs, so the expected output is Keras
//    1.2.2's own LSTM.step run on the per-gate arrays by name (numpy, keras_layouts.py), which
//    never sees our assembly. tfjs' LSTM loaded with OUR canonical kernel / recurrent_kernel /
//    bias must give the same h at every step, and so must our evaluator. Tolerance 1e-5
//    absolute: both sides compute in float32 (|h| ≤ 1) and sum in different orders over at
//    most 50 + 50 terms per step for 6 steps; a wrong gate order gives errors of order 0.1.
import { afterAll, describe, expect, it } from "vitest";
import { runDirection } from "../../src/eval/recurrent.js";
import { lstm } from "../../src/layers/lstm.js";
import { loadModel } from "../../src/load/index.js";
import { walkLayers } from "../../src/model.js";
import { layerReports, type CellReport, type RecurrentReport } from "../../src/slice/index.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { noteNumpySkipped, numpyAvailable } from "../reference/numpy.js";
import { runTfjs } from "../reference/tfjs.js";
import { ErrorLog, expectAllClose } from "../support/compare.js";
import { h5dumpAvailable, h5dumpDatasets, type Dumped } from "./h5dump.js";
import { KERAS_LAYOUTS, runPython } from "./python.js";

interface Case {
  file: string;
  /** Cell path in the model. */
  cell: string;
  /** HDF5 dataset path of W_i with "{}" for the array name (W_i, U_c, ...). */
  dataset: string;
}

const CASES: Case[] = [
  { file: "k1_lstm_theano_full.h5", cell: "lstm_1", dataset: "/model_weights/lstm_1/lstm_1_{}" },
  { file: "k1_embedding_lstm_tf_full.h5", cell: "lstm_1", dataset: "/model_weights/lstm_1/lstm_1_{}:0" },
  { file: "k1_lstm_dense_tf_full_optim.h5", cell: "lstm_1", dataset: "/model_weights/lstm_1/lstm_1_{}:0" },
  { file: "k1_lstm_dense_theano_weights.h5", cell: "lstm_1", dataset: "/lstm_1/lstm_1_{}" },
  { file: "k1_bidir_lstm_theano_full.h5", cell: "bidirectional_1/forward_lstm_1", dataset: "/model_weights/bidirectional_1/forward_lstm_1_{}" },
  { file: "k1_bidir_lstm_theano_full.h5", cell: "bidirectional_1/backward_lstm_1", dataset: "/model_weights/bidirectional_1/backward_lstm_1_{}" },
];

/** Keras 1's stored (trainable_weights) order: i, c, f, o. */
const STORED = ["W_i", "U_i", "b_i", "W_c", "U_c", "b_c", "W_f", "U_f", "b_f", "W_o", "U_o", "b_o"];

function toNested(d: Dumped): number[] | number[][] {
  if (d.shape.length === 1) return d.data;
  const [rows, cols] = d.shape;
  return Array.from({ length: rows }, (_, r) => d.data.slice(r * cols, (r + 1) * cols));
}

function findCell(reports: RecurrentReport[], path: string): CellReport {
  const c = reports.flatMap((r) => r.cells).find((x) => x.path === path);
  if (!c) throw new Error(`no cell ${path}`);
  return c;
}

/** Deterministic inputs in [-1, 1). */
function inputs(batch: number, steps: number, dim: number, seed: number): number[][][] {
  let a = seed >>> 0;
  const next = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 2 ** 32) * 2 - 1;
  };
  return Array.from({ length: batch }, () => Array.from({ length: steps }, () => Array.from({ length: dim }, next)));
}

const tools = h5dumpAvailable() && numpyAvailable();
const log = new ErrorLog();
afterAll(() => {
  if (log.byKind.size > 0) console.log(log.summary("Keras 1 LSTM assembly (h at every step, 2 samples × 6 steps)"));
});
if (!h5dumpAvailable()) console.warn("note: h5dump not found; Keras 1 assembly checks against raw datasets are skipped");
noteNumpySkipped();

describe("Keras 1 LSTM: 12 per-gate arrays assembled into Keras 2's layout", () => {
  noteMissing("keras1 assembly", [...new Set(CASES.map((c) => c.file))]);
  for (const c of CASES) {
    const path = fixturePath(c.file);
    it.skipIf(!path || !tools)(`${c.file} ${c.cell}: equals Keras 2's concatenate([W_i, W_f, W_c, W_o]) and evaluates like Keras 1`, async () => {
      const model = await loadModel(path!);
      const reports = layerReports(model).filter((r): r is RecurrentReport => r.type === "recurrent");
      const cell = findCell(reports, c.cell);
      expect(cell.notes.join(" ")).toMatch(/Keras 1 stored this LSTM as 12 per-gate arrays/);
      const dumped = h5dumpDatasets(path!, STORED.map((n) => c.dataset.replace("{}", n)));
      const raw = Object.fromEntries(STORED.map((n, k) => [n, dumped[k]]));
      const inner = cell.activations.recurrent_activation;
      expect(inner).toBe("hard_sigmoid");
      const x = inputs(2, 6, cell.inputDim, 7 + cell.units);
      const gates = ["i", "f", "c", "o"];
      const named = (prefix: string) => Object.fromEntries(gates.map((g) => [g, toNested(raw[`${prefix}_${g}`])]));
      const [keras2, keras1] = runPython<[{ kernel: number[][]; recurrent_kernel: number[][]; bias: number[] }, { h: number[][][] }]>(KERAS_LAYOUTS, {
        op: "batch",
        requests: [
          { op: "keras1_to_keras2", weights: STORED.map((n) => toNested(raw[n])) },
          { op: "keras1_lstm", W: named("W"), U: named("U"), b: named("b"), x, activation: cell.activations.activation, inner_activation: inner },
        ],
      });

      // 1. Element by element against Keras 2's loader formula.
      const packed = Object.fromEntries(cell.packed.map((p) => [p.name, p]));
      expect(packed.kernel.shape).toEqual([raw.W_i.shape[0], 4 * cell.units]);
      expect(Array.from(packed.kernel.data)).toEqual(keras2.kernel.flat());
      expect(Array.from(packed.recurrent_kernel.data)).toEqual(keras2.recurrent_kernel.flat());
      expect(Array.from(packed.bias.data)).toEqual(keras2.bias);

      // 2. Keras 1.2.2's step on the named arrays vs tfjs (and our evaluator) on our canonical tensors.
      const expected = keras1.h;
      const tf = await runTfjs(
        {
          kind: "lstm",
          units: cell.units,
          inputDim: cell.inputDim,
          activation: cell.activations.activation,
          recurrentActivation: inner,
          useBias: true,
          returnSequences: true,
          kernel: Float32Array.from(packed.kernel.data),
          recurrentKernel: Float32Array.from(packed.recurrent_kernel.data),
          bias: Float32Array.from(packed.bias.data),
        },
        x,
        { hardSigmoid: "keras2" },
      );
      const want = expected.flat(2);
      expectAllClose((tf.output as number[][][]).flat(2), want, { atol: 1e-5 }, `${c.file} ${c.cell}: tfjs on the assembled tensors`, { log, kind: "tfjs LSTM on our assembled tensors vs Keras 1.2.2 step on the named arrays" });

      // Our evaluator on the same stored layer, run forward in time like the references.
      const storedLayer = [...walkLayers(model.layers)].find((e) => e.path === c.cell)!.layer;
      const run = runDirection(lstm, { ...storedLayer, config: { ...storedLayer.config, go_backwards: false } }, model, { shape: [2, 6, cell.inputDim], data: Float64Array.from(x.flat(2)) }, { dtype: "float32", path: c.cell });
      expectAllClose(run.sequence.data, want, { atol: 1e-5 }, `${c.file} ${c.cell}: our evaluator`, { log, kind: "our evaluator vs Keras 1.2.2 step on the named arrays" });
    });
  }
});
