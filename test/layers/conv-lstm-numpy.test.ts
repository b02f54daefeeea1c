// ConvLSTM1D and ConvLSTM3D against test/reference/conv_lstm_reference.py, a float32 numpy
// ConvLSTM written from Keras' ConvLSTMCell source (tfjs has only convLstm2d). Skipped,
// saying so, where python3 with numpy is absent.
//
// Tolerance 1e-5 absolute: both compute in float32 on values of order 1, numpy summing each
// window tap with tensordot (its own order) and we tap by tap, channel by channel; the
// difference is a few float32 ulps per gate, over ≤ 4 steps of bounded activations.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { runRecurrentLayer } from "../../src/eval/recurrent.js";
import { convLstm } from "../../src/layers/conv-lstm.js";
import { noteNumpySkipped, numpyAvailable } from "../reference/numpy.js";
import { makeLayer, makeModel, maxAbsDiff, randoms, rng, value } from "./helpers.js";

const SCRIPT = fileURLToPath(new URL("../reference/conv_lstm_reference.py", import.meta.url));
const PYTHON = process.env.PYTHON ?? "python3";
const ATOL = 1e-5;

interface Case {
  rank: 1 | 3;
  spatial: number[];
  kernel: number[];
  strides: number[];
  dilation: number[];
  padding: "same" | "valid";
  dataFormat: "channels_last" | "channels_first";
  goBackwards: boolean;
  recurrentActivation: "sigmoid" | "hard_sigmoid";
  kerasMajor: 2 | 3;
  useBias: boolean;
  initialState: boolean;
  /** Steps masked out, per sample (input time indices). */
  masked?: number[][];
}

const CASES: Case[] = [
  { rank: 1, spatial: [9], kernel: [3], strides: [1], dilation: [1], padding: "same", dataFormat: "channels_last", goBackwards: false, recurrentActivation: "sigmoid", kerasMajor: 3, useBias: true, initialState: false },
  { rank: 1, spatial: [10], kernel: [4], strides: [3], dilation: [1], padding: "same", dataFormat: "channels_first", goBackwards: true, recurrentActivation: "hard_sigmoid", kerasMajor: 2, useBias: true, initialState: true },
  { rank: 1, spatial: [11], kernel: [3], strides: [1], dilation: [3], padding: "valid", dataFormat: "channels_last", goBackwards: true, recurrentActivation: "hard_sigmoid", kerasMajor: 3, useBias: false, initialState: false },
  { rank: 3, spatial: [4, 5, 3], kernel: [3, 3, 2], strides: [1, 1, 1], dilation: [1, 1, 1], padding: "same", dataFormat: "channels_last", goBackwards: false, recurrentActivation: "sigmoid", kerasMajor: 3, useBias: true, initialState: true },
  { rank: 3, spatial: [5, 6, 4], kernel: [2, 3, 2], strides: [2, 1, 2], dilation: [1, 1, 1], padding: "valid", dataFormat: "channels_first", goBackwards: true, recurrentActivation: "hard_sigmoid", kerasMajor: 2, useBias: true, initialState: false },
  { rank: 3, spatial: [5, 4, 4], kernel: [2, 2, 2], strides: [1, 1, 1], dilation: [2, 1, 2], padding: "same", dataFormat: "channels_last", goBackwards: false, recurrentActivation: "hard_sigmoid", kerasMajor: 3, useBias: true, initialState: false },
  // Masks: a masked step keeps the states and repeats the previous output (zeros before the first).
  { rank: 1, spatial: [8], kernel: [3], strides: [1], dilation: [1], padding: "same", dataFormat: "channels_last", goBackwards: false, recurrentActivation: "sigmoid", kerasMajor: 3, useBias: true, initialState: true, masked: [[1], [0, 2]] },
  { rank: 3, spatial: [4, 4, 3], kernel: [3, 3, 3], strides: [1, 1, 1], dilation: [1, 1, 1], padding: "valid", dataFormat: "channels_first", goBackwards: true, recurrentActivation: "sigmoid", kerasMajor: 3, useBias: true, initialState: false, masked: [[2], [1]] },
];

/** A flat row-major array as nested lists of the given shape. */
function nest(data: ArrayLike<number>, shape: number[]): unknown {
  if (shape.length === 0) return data[0];
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, k) => nest(Array.prototype.slice.call(data, k * per, (k + 1) * per), shape.slice(1)));
}

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

/** A case's layer, weights and input, and the same as a request to the numpy reference. */
function prepare(c: Case, n: number) {
  const r = rng(3100 + n);
  const [B, T, C, F] = [2, 3, 2, 3];
  const taps = c.kernel.reduce((a, b) => a * b, 1);
  const kernel = { shape: [...c.kernel, C, 4 * F], data: randoms(r, taps * C * 4 * F, -0.4, 0.4) };
  const recurrent = { shape: [...c.kernel, F, 4 * F], data: randoms(r, taps * F * 4 * F, -0.4, 0.4) };
  const bias = { shape: [4 * F], data: randoms(r, 4 * F, -0.5, 0.5) };
  const first = c.dataFormat === "channels_first";
  const xShape = first ? [B, T, C, ...c.spatial] : [B, T, ...c.spatial, C];
  const mask = c.masked ? Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => !c.masked![b].includes(t))) : undefined;
  const x = value(xShape, randoms(r, xShape.reduce((a, b) => a * b, 1)), mask?.flat().map(Number));
  const layer = makeLayer(
    `ConvLSTM${c.rank}D`,
    {
      filters: F,
      kernel_size: c.kernel,
      strides: c.strides,
      dilation_rate: c.dilation,
      padding: c.padding,
      data_format: c.dataFormat,
      activation: "tanh",
      recurrent_activation: c.recurrentActivation,
      use_bias: c.useBias,
      return_sequences: true,
      return_state: true,
      go_backwards: c.goBackwards,
    },
    { kernel, recurrent_kernel: recurrent, ...(c.useBias ? { bias } : {}) },
  );
  const model = makeModel({ kerasMajor: c.kerasMajor, kerasVersion: c.kerasMajor === 3 ? "3.9.2" : "2.15.0" });
  const [seqShape, stateShape] = convLstm.outputShapes(layer, [[null, ...xShape.slice(1)]], model).map((s) => [B, ...s.slice(1)] as number[]);
  const stateSize = stateShape.reduce((a, b) => a * b, 1);
  const init = c.initialState ? [randoms(r, stateSize), randoms(r, stateSize)] : undefined;
  const request = {
    rank: c.rank,
    filters: F,
    kernel_size: c.kernel,
    strides: c.strides,
    dilation_rate: c.dilation,
    padding: c.padding,
    data_format: c.dataFormat,
    activation: "tanh",
    recurrent_activation: c.recurrentActivation === "sigmoid" ? "sigmoid" : `hard_sigmoid_keras${c.kerasMajor}`,
    go_backwards: c.goBackwards,
    kernel: nest(kernel.data, kernel.shape),
    recurrent_kernel: nest(recurrent.data, recurrent.shape),
    bias: c.useBias ? Array.from(bias.data) : null,
    x: nest(x.data, xShape),
    initial_state: init ? init.map((st) => nest(st, stateShape)) : null,
    mask: mask ?? null,
  };
  return { layer, model, x, init, seqShape, stateShape, request };
}

describe("ConvLSTM1D / ConvLSTM3D match a numpy ConvLSTMCell written from Keras' source", () => {
  noteNumpySkipped();
  const prepared = CASES.map(prepare);
  // One python process answers every case (its start-up and numpy import take a second or two).
  let answers: { sequence: unknown; h: unknown; c: unknown }[] | undefined;
  const reference = (n: number) => {
    if (!answers) {
      const p = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(prepared.map((q) => q.request)), encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
      expect(p.status, p.stderr).toBe(0);
      answers = JSON.parse(p.stdout);
    }
    return answers![n];
  };
  CASES.forEach((c, n) => {
    const title = `ConvLSTM${c.rank}D ${c.spatial.join("×")} kernel ${c.kernel} strides ${c.strides} dilation ${c.dilation} ${c.padding} ${c.dataFormat}${c.goBackwards ? " backwards" : ""} ${c.recurrentActivation} (Keras ${c.kerasMajor})${c.useBias ? "" : " no-bias"}${c.initialState ? " initial state" : ""}${c.masked ? " masked" : ""}`;
    it.skipIf(!numpyAvailable())(title, () => {
      const { layer, model, x, init, seqShape, stateShape } = prepared[n];
      const ours = runRecurrentLayer(convLstm, layer, model, x, { dtype: "float32", path: "l", record: false, initialState: init }).outputs;
      const ref = reference(n);
      expect(ours[0].shape).toEqual(seqShape);
      expect(ours[1].shape).toEqual(stateShape);
      expect(maxAbsDiff(ours[0].data, flat(ref.sequence))).toBeLessThanOrEqual(ATOL);
      expect(maxAbsDiff(ours[1].data, flat(ref.h))).toBeLessThanOrEqual(ATOL);
      expect(maxAbsDiff(ours[2].data, flat(ref.c))).toBeLessThanOrEqual(ATOL);
    });
  });
});
