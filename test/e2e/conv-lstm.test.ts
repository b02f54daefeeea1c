/**
 * `predict`, `step` and `explain` on a real ConvLSTM2D file, end to end through the built
 * CLI: tfk2_convlstm2d_full.h5 (tf.keras 2.2.4-tf; two ConvLSTM2D layers, 4 filters, 3 × 3,
 * padding same, channels_first, go_backwards, return_sequences). Read from the shared
 * fixture collection; skipped, saying so, where it is absent.
 *
 * The numbers themselves are held to tfjs and numpy in test/layers/conv-lstm*.test.ts;
 * here: the CLI's predict equals the in-process predict, step's tables and JSON agree with
 * predict's output (the last layer's h at each processing step is its output sequence, in
 * processing order, as Keras returns it with go_backwards), --position / --filter choose
 * the rows, and bad requests fail in one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { predict } from "../../src/eval/predict.js";
import { loadModel } from "../../src/load/index.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { prng } from "../reference/keras-golden.js";
import { isCleanError, runCli } from "../support/cli.js";

const FIXTURE = "tfk2_convlstm2d_full.h5";
const path = fixturePath(FIXTURE);
noteMissing("e2e conv-lstm", [FIXTURE]);

let dir: string;
let inputFile: string;
// One sample (3 steps, 4 channels, 10 × 10), four decimals so that JSON carries it exactly.
const r = prng(16);
const x = Array.from({ length: 3 * 4 * 10 * 10 }, () => Math.round((r() * 2 - 1) * 1e4) / 1e4);
const nested = (flat: number[], shape: number[]): unknown =>
  shape.length === 1 ? flat : Array.from({ length: shape[0] }, (_, k) => nested(flat.slice((k * flat.length) / shape[0], ((k + 1) * flat.length) / shape[0]), shape.slice(1)));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "keras-inspect-convlstm-"));
  inputFile = join(dir, "x.json");
  writeFileSync(inputFile, JSON.stringify([nested(x, [3, 4, 10, 10])]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** predict --json's output values, flat: run once, read by the tests that compare with it. */
let predicted: { status: number | null; stderr: string; doc?: { outputs: { name: string; shape: number[]; values: unknown }[] } } | undefined;
function predictedOutput() {
  if (!predicted) {
    const res = runCli(["predict", path!, "--input-file", inputFile, "--json"]);
    predicted = { status: res.status, stderr: res.stderr, doc: res.status === 0 ? JSON.parse(res.stdout) : undefined };
  }
  return predicted;
}
const flatOutput = () => (predictedOutput().doc!.outputs[0].values as unknown[]).flat(Infinity) as number[];

/** The value at (step, filter, row, col) of a (1, 3, 4, 10, 10) channels_first output. */
const at = (values: ArrayLike<number>, step: number, filter: number, row: number, col: number) => values[((step * 4 + filter) * 10 + row) * 10 + col];

describe.skipIf(path === undefined)(`ConvLSTM2D end to end on ${FIXTURE}`, () => {
  it("predict prints the in-process predict's output, shape (1, 3, 4, 10, 10)", async () => {
    const res = predictedOutput();
    expect(res.status, res.stderr).toBe(0);
    const doc = res.doc!;
    expect(doc.outputs.map((o) => [o.name, o.shape])).toEqual([["conv_lst_m2d_3", [1, 3, 4, 10, 10]]]);
    const model = await loadModel(path!);
    const ours = predict(model, [{ shape: [1, 3, 4, 10, 10], data: Float64Array.from(x) }], { dtype: "float32", record: false }).outputs[0].value;
    // The JSON writes float32 values as their shortest decimals: they read back as the same float32.
    const printed = (doc.outputs[0].values as unknown[]).flat(Infinity) as number[];
    expect(printed.map(Math.fround)).toEqual(Array.from(ours.data, Math.fround));
  });

  it("step on the last layer: the centre position by default, and its h is predict's output in processing order", () => {
    const out = flatOutput();
    const res = runCli(["step", path!, "--input-file", inputFile, "--layer", "conv_lst_m2d_3", "--digits", "6"]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain("showing position (4, 4) (the centre), every filter, of 10 × 10 position(s) × 4 filter(s)");
    expect(res.stdout).toContain("conv_lst_m2d_3 (ConvLSTM2D): 10 × 10 position(s) × 4 filter(s) (400 units) from 10 × 10 × 4 input maps");
    expect(res.stdout).toContain("x under the kernel at (4, 4) (3 × 3 × 4, 0 = padding)");
    const rows = res.stdout.split("\n").filter((l) => l.startsWith("│ (4, 4) f"));
    expect(rows.length).toBe(3 * 4); // 3 steps × 4 filters
    // Each step's table: h (the last column) equals predict's output at that processing step.
    rows.forEach((row, k) => {
      const [step, filter] = [Math.floor(k / 4), k % 4];
      const h = Number(row.split("│").slice(1, -1).at(-1)!.trim());
      expect(Math.abs(h - at(out, step, filter, 4, 4))).toBeLessThanOrEqual(5e-7);
    });
  });

  it("step --json --position --filter: the chosen units, named by position and filter", () => {
    const out = flatOutput();
    const res = runCli(["step", path!, "--input-file", inputFile, "--layer", "conv_lst_m2d_3", "--position", "0,9;7,2", "--filter", "3,1", "--json"]);
    expect(res.status, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    const d = doc.directions[0];
    expect(d.featureMap.dataFormat).toBe("channels_first");
    expect(d.featureMap.output).toEqual([10, 10, 4]);
    const shown = [[0, 9, 3], [0, 9, 1], [7, 2, 3], [7, 2, 1]];
    expect(d.featureMap.shown).toEqual(shown.map(([a, b, f]) => ({ position: [a, b], filter: f })));
    const steps = d.samples[0];
    expect(steps.map((s: { t: number }) => s.t)).toEqual([2, 1, 0]); // go_backwards
    steps.forEach((s: { h: number[]; x: number[] }, step: number) => {
      expect(s.x.length).toBe(400);
      shown.forEach(([row, col, f], k) => expect(Math.fround(s.h[k])).toBe(Math.fround(at(out, step, f, row, col))));
    });
  });

  it("explain shows the convolution form at a position and filter", () => {
    const res = runCli(["explain", path!, "--input-file", inputFile, "--position", "0,3", "--filter", "2", "--steps", "1"], { env: { COLUMNS: "100" } });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain("(Keras' ConvLSTMCell)");
    expect(res.stdout).toContain("x_i = xₜ * W_i + b_i");
    expect(res.stdout).toContain("i  = hard_sigmoid(x_i + h₍ₜ₋₁₎ * U_i)");
    expect(res.stdout).toContain("position p = (0, 3), filter 2 (unit 14 of 400)");
    expect(res.stdout).toMatch(/x_i = \(xₜ \* W_i\)\[p\] \+ b_i = /);
  });

  it("bad requests fail in one line, exit 2", () => {
    const cases: [string[], RegExp][] = [
      [["step", path!, "--input-file", inputFile, "--position", "10,0"], /--position 10,0 is out of range: the output map is 10 × 10 position\(s\) × 4 filter\(s\)/],
      [["step", path!, "--input-file", inputFile, "--position", "3"], /--position 3: expected 2 index\(es\) from 0/],
      [["step", path!, "--input-file", inputFile, "--filter", "4"], /--filter 4 is out of range/],
      [["step", path!, "--input-file", inputFile, "--unit", "3", "--filter", "1"], /--unit and --position\/--filter both choose units/],
      [["step", path!, "--input", "1,2,3"], /do not fit an input of shape \(3, 4, 10, 10\) per sample/],
      [["step", path!, "--input-file", inputFile, "--h0", "0.1,0.2"], /initial h for layer 'conv_lst_m2d_2' has 2 values; its state is a 4 × 10 × 10 map \(channels_first\) = 400 values per sample/],
      [["step", "samples/seed-lstm.h5", "--input", "1,10", "--position", "0"], /--position and --filter apply to ConvLSTM layers; 'lstm_1' is LSTM/],
    ];
    for (const [args, message] of cases) {
      const res = runCli(args);
      expect(res.status, `${args.join(" ")}: ${res.stderr}`).toBe(2);
      expect(isCleanError(res), res.stderr).toBe(true);
      expect(res.stderr).toMatch(message);
      expect(res.stdout).toBe("");
    }
  });

  it("step --raw-input feeds a map of the wrong channel count: one line naming the layer's input", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([[Array.from({ length: 3 }, () => Array.from({ length: 10 }, () => Array(10).fill(0)))]]));
    const res = runCli(["step", path!, "--raw-input", "--layer", "conv_lst_m2d_3", "--input-file", bad]);
    expect(res.status).toBe(2);
    expect(isCleanError(res), res.stderr).toBe(true);
    expect(res.stderr).toMatch(/layer 'conv_lst_m2d_3' \(ConvLSTM2D\) expects 4 input channel\(s\) \(channels_first\), but the input has 3/);
  });
});
