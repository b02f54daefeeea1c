/**
 * Model files for the check and diff tests, written by samples/keras-h5-writer.mjs
 * (Keras 2.2 layout) from a spec whose tensors a test can mutate before writing:
 * put a NaN in, change a shape, drop the bias, change one weight of one gate.
 */
import { Rng } from "../fuzz/rng.js";
import { writer } from "../support/rnn-model-file.js";
import { loadModelFromBytes } from "../../src/load/index.js";
import type { Model } from "../../src/model.js";

export interface SpecTensor {
  /** Role name: kernel, recurrent_kernel, bias. */
  role: string;
  shape: number[];
  data: number[];
  /** Listed in weight_names, but its dataset left out of the file (as after h5py's `del f[path]`). */
  absent?: boolean;
}

export interface SpecLayer {
  name: string;
  config: { class_name: string; config: Record<string, unknown> };
  tensors: SpecTensor[];
}

export interface ModelSpec {
  kerasVersion?: string;
  layers: SpecLayer[];
}

function uniform(rng: Rng, n: number, scale: number): number[] {
  // Values representable in float32, so that what is written is what is compared.
  return Array.from({ length: n }, () => Math.fround((2 * rng.float() - 1) * scale));
}

/**
 * LSTM(units, sigmoid/tanh) over (steps, features), then Dense(outUnits): the shape of
 * a typical exported sequence model. Weights uniform in ±0.5 from a fixed seed.
 */
export async function lstmDenseSpec(opts: { units?: number; features?: number; steps?: number | null; outUnits?: number; seed?: number } = {}): Promise<ModelSpec> {
  const w = await writer();
  const u = opts.units ?? 4;
  const D = opts.features ?? 3;
  const out = opts.outUnits ?? 2;
  const rng = new Rng(opts.seed ?? 20260601);
  return {
    layers: [
      {
        name: "lstm_1",
        config: w.lstmConfig("lstm_1", u, { batch_input_shape: [null, opts.steps === undefined ? 5 : opts.steps, D], dtype: "float32", recurrent_activation: "sigmoid" }),
        tensors: [
          { role: "kernel", shape: [D, 4 * u], data: uniform(rng, D * 4 * u, 0.5) },
          { role: "recurrent_kernel", shape: [u, 4 * u], data: uniform(rng, u * 4 * u, 0.5) },
          { role: "bias", shape: [4 * u], data: uniform(rng, 4 * u, 0.2) },
        ],
      },
      {
        name: "dense_1",
        config: w.denseConfig("dense_1", out),
        tensors: [
          { role: "kernel", shape: [u, out], data: uniform(rng, u * out, 0.5) },
          { role: "bias", shape: [out], data: uniform(rng, out, 0.1) },
        ],
      },
    ],
  };
}

/** GRU(units, reset_after as given, sigmoid/tanh) alone. */
export async function gruSpec(opts: { units?: number; features?: number; resetAfter?: boolean; seed?: number } = {}): Promise<ModelSpec> {
  const w = await writer();
  const u = opts.units ?? 3;
  const D = opts.features ?? 2;
  const rng = new Rng(opts.seed ?? 20260602);
  const after = opts.resetAfter ?? false;
  return {
    layers: [
      {
        name: "gru_1",
        config: w.gruConfig("gru_1", u, { batch_input_shape: [null, null, D], dtype: "float32", recurrent_activation: "sigmoid", reset_after: after }),
        tensors: [
          { role: "kernel", shape: [D, 3 * u], data: uniform(rng, D * 3 * u, 0.5) },
          { role: "recurrent_kernel", shape: [u, 3 * u], data: uniform(rng, u * 3 * u, 0.5) },
          { role: "bias", shape: after ? [2, 3 * u] : [3 * u], data: uniform(rng, (after ? 2 : 1) * 3 * u, 0.2) },
        ],
      },
    ],
  };
}

export function clone(spec: ModelSpec): ModelSpec {
  return structuredClone(spec);
}

export function tensor(spec: ModelSpec, layer: string, role: string): SpecTensor {
  const t = spec.layers.find((l) => l.name === layer)?.tensors.find((x) => x.role === role);
  if (!t) throw new Error(`spec has no ${layer}/${role}`);
  return t;
}

/** The file bytes: a full model (model.save) or, with weightsOnly, a save_weights() file. */
export async function writeSpec(spec: ModelSpec, opts: { weightsOnly?: boolean } = {}): Promise<Uint8Array> {
  const w = await writer();
  return w.writeKerasH5({
    kerasVersion: spec.kerasVersion,
    modelConfig: opts.weightsOnly ? undefined : w.sequentialConfig("sequential_1", spec.layers.map((l) => l.config)),
    layers: spec.layers.map((l) => ({
      name: l.name,
      weights: l.tensors.map((t) => ({ name: `${l.name}/${t.role}:0`, shape: t.shape, data: t.data, absent: t.absent })),
    })),
  });
}

export async function loadSpec(spec: ModelSpec, label = "model.h5", opts: { weightsOnly?: boolean } = {}): Promise<Model> {
  return loadModelFromBytes(await writeSpec(spec, opts), label);
}

/** Row-major (rows × cols) element index. */
export const at = (cols: number, row: number, col: number) => row * cols + col;
