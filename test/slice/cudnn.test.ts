// CuDNNLSTM / CuDNNGRU conversion, checked element by element against Keras' own formula:
// keras/engine/saving.py, _convert_rnn_weights (Keras 2.2.4), from_cudnn=True, written in numpy
// in keras_layouts.py:
//   kernel           per gate block k: k.T.reshape(k.shape, order='F')
//   recurrent_kernel per gate block k: k.T
//   bias             LSTM: sum of the input and recurrent halves (float32); GRU: reshape (2, 3u)
// No stored CuDNN outputs exist to compare with (keras-formats.md §D), so the conversion itself
// is what is checked: the moved values exactly, the LSTM bias sum exactly in float32, as numpy
// computes it. Then "after conversion the layer evaluates as LSTM / GRU with sigmoid/tanh": our
// evaluator on the CuDNN layer equals an independent LSTM (tfjs) / GRU(reset_after=True) (numpy
// reference) run on the numpy-converted weights with sigmoid and tanh, to 1e-5 (float32 on both
// sides, |h| ≤ 1, summation order differs).
import { afterAll, describe, expect, it } from "vitest";
import { runRecurrentLayer } from "../../src/eval/recurrent.js";
import { recurrentKindOf } from "../../src/layers/registry.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import { walkLayers, type Model } from "../../src/model.js";
import { layerReports, type CellReport, type RecurrentReport } from "../../src/slice/index.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { noteNumpySkipped, numpyAvailable, runNumpy } from "../reference/numpy.js";
import { runTfjs } from "../reference/tfjs.js";
import { ErrorLog, expectAllClose } from "../support/compare.js";
import { writer } from "../support/rnn-model-file.js";
import { h5dumpAvailable, h5dumpDatasets } from "./h5dump.js";
import { KERAS_LAYOUTS, runPython } from "./python.js";

interface Converted {
  kernel: number[][];
  recurrent_kernel: number[][];
  bias: number[] | number[][];
}

function rows(data: ArrayLike<number>, shape: number[]): number[][] {
  const [r, c] = shape;
  return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => data[i * c + j]));
}

function cellAt(model: Model, path: string): CellReport {
  const c = layerReports(model, path).flatMap((r) => (r as RecurrentReport).cells)[0];
  if (!c) throw new Error(`no cell ${path}`);
  return c;
}

function expectConverted(cell: CellReport, want: Converted): void {
  const packed = Object.fromEntries(cell.packed.map((p) => [p.name, p]));
  expect(Array.from(packed.kernel.data)).toEqual(want.kernel.flat());
  expect(Array.from(packed.recurrent_kernel.data)).toEqual(want.recurrent_kernel.flat());
  expect(Array.from(packed.bias.data)).toEqual((want.bias as number[] | number[][]).flat());
}

function inputs(batch: number, steps: number, dim: number, seed: number): number[][][] {
  let a = seed >>> 0;
  const next = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 2 ** 32) * 2 - 1;
  };
  return Array.from({ length: batch }, () => Array.from({ length: steps }, () => Array.from({ length: dim }, next)));
}

const log = new ErrorLog();
afterAll(() => {
  if (log.byKind.size > 0) console.log(log.summary("CuDNN layers evaluated after conversion (h at every step)"));
});

function ours(model: Model, path: string, x: number[][][]): number[] {
  const layer = [...walkLayers(model.layers)].find((e) => e.path === path)!.layer;
  const kind = recurrentKindOf(layer.className)!;
  const cfg = { ...layer, config: { ...layer.config, return_sequences: true } };
  const dim = x[0][0].length;
  const { outputs } = runRecurrentLayer(kind, cfg, model, { shape: [x.length, x[0].length, dim], data: Float64Array.from(x.flat(2)) }, { dtype: "float32", path });
  return Array.from(outputs[0].data);
}

const tools = numpyAvailable();
noteNumpySkipped();
if (!h5dumpAvailable()) console.warn("note: h5dump not found; the real CuDNNLSTM file's raw datasets cannot be read independently, its checks are skipped");

describe("CuDNNLSTM in a real Keras 2.2.4 file (k2_cudnnlstm_functional_full.h5)", () => {
  const file = "k2_cudnnlstm_functional_full.h5";
  noteMissing("cudnn", [file]);
  const path = fixturePath(file);
  for (const layer of ["cu_dnnlstm_1", "cu_dnnlstm_2"]) {
    it.skipIf(!path || !tools || !h5dumpAvailable())(`${layer}: converted exactly as Keras' _convert_rnn_weights, then evaluates as LSTM(sigmoid, tanh)`, async () => {
      const model = await loadModel(path!);
      const cell = cellAt(model, layer);
      expect(cell.notes.join(" ")).toMatch(/CuDNNLSTM weights converted to LSTM/);
      expect(cell.activations).toEqual({ activation: "tanh", recurrent_activation: "sigmoid" });
      const [k, r, b] = h5dumpDatasets(path!, ["kernel:0", "recurrent_kernel:0", "bias:0"].map((n) => `/model_weights/${layer}/${layer}/${n}`));
      expect(b.shape).toEqual([8 * 63]);
      const want = runPython<Converted>(KERAS_LAYOUTS, { op: "cudnn_to_keras", kind: "lstm", kernel: rows(k.data, k.shape), recurrent_kernel: rows(r.data, r.shape), bias: b.data });
      expectConverted(cell, want);

      const x = inputs(2, 4, cell.inputDim, 11);
      const tf = await runTfjs(
        {
          kind: "lstm",
          units: 63,
          inputDim: cell.inputDim,
          activation: "tanh",
          recurrentActivation: "sigmoid",
          useBias: true,
          returnSequences: true,
          kernel: Float32Array.from(want.kernel.flat()),
          recurrentKernel: Float32Array.from(want.recurrent_kernel.flat()),
          bias: Float32Array.from(want.bias as number[]),
        },
        x,
      );
      expectAllClose(ours(model, layer, x), (tf.output as number[][][]).flat(2), { atol: 1e-5 }, `${layer} vs tfjs`, { log, kind: "our evaluator vs tfjs LSTM(sigmoid, tanh) on Keras-converted weights" });
    });
  }
});

// Hand-written CuDNN files with a non-square input kernel (D = 3, u = 2), where
// k.T.reshape(k.shape, order='F') is neither the identity nor a transpose.
async function cudnnFile(className: "CuDNNLSTM" | "CuDNNGRU", gates: number, biasFactor: number): Promise<{ model: Model; kernel: number[]; recurrent: number[]; bias: number[] }> {
  const w = await writer();
  const D = 3;
  const u = 2;
  const kernel = Array.from({ length: D * gates * u }, (_, i) => Math.fround(0.01 * (i + 1) * (i % 2 ? -1 : 1)));
  const recurrent = Array.from({ length: u * gates * u }, (_, i) => Math.fround(0.03 * (i - 7)));
  const bias = Array.from({ length: biasFactor * gates * u }, (_, i) => Math.fround(0.1 + 0.07 * i));
  const name = className === "CuDNNLSTM" ? "cu_dnnlstm_1" : "cu_dnngru_1";
  const config = {
    class_name: className,
    config: { name, trainable: true, batch_input_shape: [null, null, D], dtype: "float32", units: u, return_sequences: false, return_state: false, stateful: false },
  };
  const bytes = await w.writeKerasH5({
    modelConfig: w.sequentialConfig("sequential_1", [config]),
    layers: [
      {
        name,
        weights: [
          { name: `${name}/kernel:0`, shape: [D, gates * u], data: kernel },
          { name: `${name}/recurrent_kernel:0`, shape: [u, gates * u], data: recurrent },
          { name: `${name}/bias:0`, shape: [biasFactor * gates * u], data: bias },
        ],
      },
    ],
  });
  return { model: await loadModelFromBytes(bytes, `${className}.h5`), kernel, recurrent, bias };
}

describe("CuDNN layers with a non-square input kernel (written with samples/keras-h5-writer.mjs)", () => {
  it.skipIf(!tools)("CuDNNLSTM (D=3, u=2): converted exactly as Keras does; evaluates as LSTM(sigmoid, tanh)", async () => {
    const f = await cudnnFile("CuDNNLSTM", 4, 2);
    const cell = cellAt(f.model, "cu_dnnlstm_1");
    const want = runPython<Converted>(KERAS_LAYOUTS, { op: "cudnn_to_keras", kind: "lstm", kernel: rows(f.kernel, [3, 8]), recurrent_kernel: rows(f.recurrent, [2, 8]), bias: f.bias });
    expectConverted(cell, want);
    // The conversion is not trivial here: the stored kernel differs from the converted one.
    expect(want.kernel.flat()).not.toEqual(f.kernel);
    const x = inputs(2, 5, 3, 5);
    const tf = await runTfjs(
      {
        kind: "lstm", units: 2, inputDim: 3, activation: "tanh", recurrentActivation: "sigmoid", useBias: true, returnSequences: true,
        kernel: Float32Array.from(want.kernel.flat()), recurrentKernel: Float32Array.from(want.recurrent_kernel.flat()), bias: Float32Array.from(want.bias as number[]),
      },
      x,
    );
    expectAllClose(ours(f.model, "cu_dnnlstm_1", x), (tf.output as number[][][]).flat(2), { atol: 1e-5 }, "CuDNNLSTM vs tfjs", { log, kind: "our evaluator vs tfjs LSTM(sigmoid, tanh) on Keras-converted weights" });
  });

  it.skipIf(!tools)("CuDNNGRU (D=3, u=2): converted exactly as Keras does into GRU(reset_after=True); evaluates as such with sigmoid/tanh", async () => {
    const f = await cudnnFile("CuDNNGRU", 3, 2);
    const cell = cellAt(f.model, "cu_dnngru_1");
    expect(cell.resetAfter).toBe(true);
    expect(cell.notes.join(" ")).toMatch(/CuDNNGRU weights converted to GRU\(reset_after=True\)/);
    const want = runPython<Converted>(KERAS_LAYOUTS, { op: "cudnn_to_keras", kind: "gru", kernel: rows(f.kernel, [3, 6]), recurrent_kernel: rows(f.recurrent, [2, 6]), bias: f.bias });
    expectConverted(cell, want);
    expect((want.bias as number[][]).length).toBe(2);
    const names = Object.fromEntries(cell.tensors.map((t) => [t.name, Array.from(t.data)]));
    expect(names.bias_r).toEqual((want.bias as number[][])[0].slice(2, 4));
    expect(names.recurrent_bias_h).toEqual((want.bias as number[][])[1].slice(4, 6));
    const x = inputs(2, 5, 3, 9);
    const ref = await runNumpy({
      spec: {
        kind: "gru", units: 2, inputDim: 3, activation: "tanh", recurrentActivation: "sigmoid", useBias: true, resetAfter: true, returnSequences: true,
        kernel: Float32Array.from(want.kernel.flat()), recurrentKernel: Float32Array.from(want.recurrent_kernel.flat()), bias: Float32Array.from((want.bias as number[][]).flat()),
      },
      x,
    });
    expectAllClose(ours(f.model, "cu_dnngru_1", x), (ref.output as number[][][]).flat(2), { atol: 1e-5 }, "CuDNNGRU vs numpy GRU", { log, kind: "our evaluator vs numpy GRU(reset_after=True, sigmoid, tanh) on Keras-converted weights" });
  });
});
