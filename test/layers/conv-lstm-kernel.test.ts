// ConvLSTM's fast path (the convolutions as products in the SIMD kernel, eval/engines.ts
// ConvKernelEngine) against the readable step of layers/conv-lstm.ts: every recorded
// intermediate and every output must be the same bits (tolerance 0), in float32 and float64,
// for 1-, 2- and 3-D maps, both paddings, strides, dilations, channels_first, masks, initial
// states and go_backwards. Weights that are not finite keep the reference (0·∞ would be NaN
// where the reference skips a padding tap).
import { describe, expect, it } from "vitest";

import { ConvKernelEngine } from "../../src/eval/engines.js";
import { runRecurrentLayer } from "../../src/eval/recurrent.js";
import { convLstm } from "../../src/layers/conv-lstm.js";
import type { Value } from "../../src/layers/kind.js";
import { makeLayer, makeModel, randoms, rng, value } from "./helpers.js";

interface Case {
  spatial: number[];
  kernel: number[];
  strides?: number[];
  dilation?: number[];
  padding: "same" | "valid";
  dataFormat?: "channels_first";
  goBackwards?: boolean;
  mask?: boolean;
  initialState?: boolean;
  useBias?: boolean;
}

const CASES: Case[] = [
  { spatial: [9], kernel: [3], padding: "same" },
  { spatial: [10], kernel: [4], strides: [3], padding: "valid", goBackwards: true, initialState: true },
  { spatial: [7, 6], kernel: [3, 3], padding: "same", mask: true },
  { spatial: [7, 6], kernel: [2, 3], strides: [2, 2], padding: "same", dataFormat: "channels_first", useBias: false },
  { spatial: [8, 8], kernel: [3, 2], dilation: [2, 3], padding: "same", goBackwards: true, initialState: true, mask: true },
  { spatial: [4, 5, 3], kernel: [3, 3, 2], padding: "same", dataFormat: "channels_first" },
  { spatial: [5, 6, 4], kernel: [2, 3, 2], strides: [2, 1, 2], padding: "valid", initialState: true },
];

function setup(c: Case, n: number) {
  const r = rng(4200 + n);
  const rank = c.spatial.length;
  const [B, T, C, F] = [2, 3, 2, 3];
  const taps = c.kernel.reduce((a, b) => a * b, 1);
  const layer = makeLayer(
    `ConvLSTM${rank}D`,
    {
      filters: F,
      kernel_size: c.kernel,
      strides: c.strides ?? 1,
      dilation_rate: c.dilation ?? 1,
      padding: c.padding,
      data_format: c.dataFormat ?? "channels_last",
      recurrent_activation: "hard_sigmoid",
      use_bias: c.useBias !== false,
      return_sequences: true,
      return_state: true,
      go_backwards: c.goBackwards === true,
    },
    {
      kernel: { shape: [...c.kernel, C, 4 * F], data: randoms(r, taps * C * 4 * F, -0.5, 0.5) },
      recurrent_kernel: { shape: [...c.kernel, F, 4 * F], data: randoms(r, taps * F * 4 * F, -0.5, 0.5) },
      ...(c.useBias === false ? {} : { bias: { shape: [4 * F], data: randoms(r, 4 * F, -0.5, 0.5) } }),
    },
  );
  const shape = c.dataFormat ? [B, T, C, ...c.spatial] : [B, T, ...c.spatial, C];
  const mask = c.mask ? [1, 0, 1, 0, 1, 1] : undefined;
  const x = value(shape, randoms(r, shape.reduce((a, b) => a * b, 1), -2, 2), mask);
  const model = makeModel({ kerasMajor: 2, kerasVersion: "2.15.0" });
  const stateSize = convLstm.outputShapes(layer, [[null, ...shape.slice(1)]], model)[1].slice(1).reduce((a, b) => a! * b!, 1) as number;
  const init = c.initialState ? [randoms(r, B * stateSize), randoms(r, B * stateSize)] : undefined;
  return { layer, x, model, init };
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let k = 0; k < a.length; k++) {
    if (!Object.is(a[k], b[k])) expect.fail(`${what}: element ${k} is ${a[k]} on the kernel path, ${b[k]} on the reference`);
  }
}

describe("ConvLSTM: the kernel path equals the readable step bit for bit", () => {
  CASES.forEach((c, n) => {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${c.spatial.length}-D ${c.spatial.join("×")} kernel ${c.kernel} ${c.padding}${c.strides ? ` strides ${c.strides}` : ""}${c.dilation ? ` dilation ${c.dilation}` : ""}${c.dataFormat ? " channels_first" : ""}${c.goBackwards ? " backwards" : ""}${c.mask ? " masked" : ""}${c.initialState ? " initial state" : ""} ${dtype}`, () => {
        const { layer, x, model, init } = setup(c, n);
        const run = (engine: "kernel" | "reference") => runRecurrentLayer(convLstm, layer, model, x, { dtype, path: "l", engine, initialState: init });
        const fast = run("kernel");
        const ref = run("reference");
        sameBits(fast.trace!.directions[0].values, ref.trace!.directions[0].values, "trace");
        fast.outputs.forEach((o: Value, k) => sameBits(o.data, ref.outputs[k].data, `output ${k}`));
      });
    }
  });

  it("weights that are not finite, or not float32 values in float32 mode, keep the reference", () => {
    const { layer, x, model } = setup(CASES[2], 2);
    const maps = convLstm.featureMaps!(layer, model, x, "l");
    expect(ConvKernelEngine.usable(maps.w, "float32")).toBe(true);
    maps.w.kernel[5] = Infinity;
    expect(ConvKernelEngine.usable(maps.w, "float64")).toBe(false);
    maps.w.kernel[5] = 0.1; // not a float32 value
    expect(ConvKernelEngine.usable(maps.w, "float32")).toBe(false);
    expect(ConvKernelEngine.usable(maps.w, "float64")).toBe(true);
  });
});
