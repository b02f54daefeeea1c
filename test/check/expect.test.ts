// --input X --expect Y against outputs computed by an implementation we did not write:
// TensorFlow.js (tfjs-layers, CPU backend) running the same weights. tfjs computes in
// float32 like Keras but sums in its own order, so ours and its outputs differ by a few
// float32 ulps (measured below: < 1e-6 on outputs of size ~1); the default tolerance
// (atol = rtol = 1e-5, Keras' own) must accept that, and must reject one element moved by 1e-3.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { runChecks } from "../../src/check/index.js";
import { UsageError } from "../../src/errors.js";
import type { NdArray } from "../../src/npy.js";
import { readNpy, writeNpyFloat32 } from "../../src/npy.js";
import { parseJsonValues } from "../../src/inputs.js";
import { runTfjs } from "../reference/tfjs.js";
import type { RnnSpec } from "../reference/rnn-spec.js";
import { gruSpec, loadSpec, lstmDenseSpec, type ModelSpec, tensor } from "./models.js";

beforeAll(async () => {
  tf.env().set("PROD", true);
  await tf.setBackend("cpu");
  await tf.ready();
});

// Two samples of 5 steps × 3 features.
const X: number[][][] = [0, 1].map((s) => Array.from({ length: 5 }, (_, t) => [0.1 * t - 0.2 * s, Math.sin(t + s), 0.5 - 0.05 * t]));
const xArray = (x: number[][][]): NdArray => ({ shape: [x.length, x[0].length, x[0][0].length], data: Float64Array.from(x.flat(2)) });

/** model.predict in tfjs: Sequential LSTM(4, tanh/sigmoid) + Dense(2), weights set from the spec. */
function tfjsLstmDense(spec: ModelSpec, x: number[][][]): number[][] {
  const k = (layer: string, role: string) => tensor(spec, layer, role);
  const model = tf.sequential({
    layers: [
      tf.layers.lstm({ units: 4, inputShape: [5, 3], activation: "tanh", recurrentActivation: "sigmoid", unitForgetBias: false, kernelInitializer: "zeros", recurrentInitializer: "zeros" }),
      tf.layers.dense({ units: 2, kernelInitializer: "zeros" }),
    ],
  });
  try {
    const t = (s: { shape: number[]; data: number[] }) => tf.tensor(s.data, s.shape);
    model.layers[0].setWeights([t(k("lstm_1", "kernel")), t(k("lstm_1", "recurrent_kernel")), t(k("lstm_1", "bias"))]);
    model.layers[1].setWeights([t(k("dense_1", "kernel")), t(k("dense_1", "bias"))]);
    return tf.tidy(() => (model.predict(tf.tensor3d(x)) as tf.Tensor).arraySync() as number[][]);
  } finally {
    model.dispose();
  }
}

describe("--expect against tfjs with the same weights", () => {
  it("passes on tfjs' output (JSON), and names the worst element when one is nudged by 1e-3", async () => {
    const spec = await lstmDenseSpec();
    const model = await loadSpec(spec);
    const y = tfjsLstmDense(spec, X);
    expect([y.length, y[0].length]).toEqual([2, 2]);
    const expected = parseJsonValues(JSON.stringify(y), "y.json");

    const ok = runChecks(model, { inputs: [xArray(X)], expected: [{ label: "y.json", array: expected }] });
    const c = ok.checks.find((k) => k.id === "expect")!;
    expect(c.status, c.detail).toBe("pass");
    const measured = (c.data as { outputs: { maxAbsDiff: number }[] }).outputs[0].maxAbsDiff;
    console.log(`[check/expect] LSTM+Dense, ours vs tfjs: max |Δ| ${measured.toExponential(2)}`);
    expect(measured).toBeLessThan(1e-6);
    expect(c.detail).toMatch(/^4 value\(s\) of dense_1 match y\.json within atol 1e-5, rtol 1e-5/);

    const nudged = { shape: expected.shape, data: Float64Array.from(expected.data) };
    nudged.data[2] += 1e-3; // sample 1, unit 0
    const bad = runChecks(model, { inputs: [xArray(X)], expected: [{ label: "y.json", array: nudged }] });
    const f = bad.checks.find((k) => k.id === "expect")!;
    expect(bad.verdict).toBe("fail");
    expect(f.status).toBe("fail");
    expect(f.detail).toMatch(/^worst dense_1\[1, 0\]: ours -?\d\.\d+, expected -?\d\.\d+, \|Δ\| 1\.00e-3 > 1\.\d\de-5 allowed \(atol 1e-5, rtol 1e-5\); dense_1: 1 of 4 value\(s\) outside/);

    // Within the tolerance: a nudge of 2e-6 is accepted.
    const slight = { shape: expected.shape, data: Float64Array.from(expected.data) };
    slight.data[2] += 2e-6;
    expect(runChecks(model, { inputs: [xArray(X)], expected: [{ label: "y.json", array: slight }] }).verdict).toBe("pass");
  });

  it("reads Y from .npy as numpy saves it (float32), and honours --atol/--rtol", async () => {
    const spec = await lstmDenseSpec();
    const model = await loadSpec(spec);
    const y = tfjsLstmDense(spec, X).flat();
    const npy = readNpy(writeNpyFloat32([2, 2], y.map((v, i) => (i === 3 ? v + 5e-4 : v))), "y.npy");
    const strict = runChecks(model, { inputs: [xArray(X)], expected: [{ label: "y.npy", array: npy }] });
    expect(strict.checks.find((k) => k.id === "expect")!.detail).toContain("worst dense_1[1, 1]");
    // A GPU-style tolerance accepts the same Y.
    const loose = runChecks(model, { inputs: [xArray(X)], expected: [{ label: "y.npy", array: npy }], tolerance: { atol: 1e-3, rtol: 1e-3 } });
    expect(loose.verdict).toBe("pass");
  });

  it("passes on the shared tfjs harness' GRU output (reset_after=false)", async () => {
    const spec = await gruSpec({ units: 3, features: 2, resetAfter: false });
    const model = await loadSpec(spec);
    const t = (role: string) => Float32Array.from(tensor(spec, "gru_1", role).data);
    const rnn: RnnSpec = { kind: "gru", units: 3, inputDim: 2, activation: "tanh", recurrentActivation: "sigmoid", useBias: true, kernel: t("kernel"), recurrentKernel: t("recurrent_kernel"), bias: t("bias") };
    const x = [0, 1, 2].map((s) => Array.from({ length: 4 }, (_, k) => [Math.cos(k + s), 0.3 * k - s]));
    const { output } = await runTfjs(rnn, x);
    const expected = parseJsonValues(JSON.stringify(output), "gru.json");
    const r = runChecks(model, { inputs: [xArray(x)], expected: [{ label: "gru.json", array: expected }] });
    expect(r.checks.find((k) => k.id === "expect")!.status).toBe("pass");
  });

  it("accepts Y without the batch axis for one sample", async () => {
    const spec = await lstmDenseSpec();
    const model = await loadSpec(spec);
    const y = tfjsLstmDense(spec, [X[0]])[0];
    const r = runChecks(model, { inputs: [xArray([X[0]])], expected: [{ label: "y.json", array: { shape: [2], data: Float64Array.from(y) } }] });
    expect(r.verdict).toBe("pass");
  });

  it("Y of the wrong shape is a usage error naming both shapes (exit 2, not a failed check)", async () => {
    const model = await loadSpec(await lstmDenseSpec());
    const call = () => runChecks(model, { inputs: [xArray(X)], expected: [{ label: "y.npy", array: { shape: [2, 3], data: new Float64Array(6) } }] });
    expect(call).toThrow(UsageError);
    expect(call).toThrow("--expect y.npy has shape (2, 3), but the model's output 'dense_1' for this input has shape (2, 2)");
  });

  it("--expect without an input is a usage error", async () => {
    const model = await loadSpec(await lstmDenseSpec());
    expect(() => runChecks(model, { expected: [{ label: "y.npy", array: { shape: [2, 2], data: new Float64Array(4) } }] })).toThrow(/--expect needs the input/);
  });

  it("a NaN in the weights makes the outputs NaN: expect fails next to finite", async () => {
    const spec = await lstmDenseSpec();
    const y = tfjsLstmDense(spec, X);
    tensor(spec, "dense_1", "bias").data[0] = NaN;
    const model = await loadSpec(spec);
    const r = runChecks(model, { inputs: [xArray(X)], expected: [{ label: "y.json", array: parseJsonValues(JSON.stringify(y), "y.json") }] });
    expect(r.checks.filter((k) => k.status === "fail").map((k) => k.id)).toEqual(["finite", "expect"]);
    expect(r.checks.find((k) => k.id === "expect")!.detail).toMatch(/^worst dense_1\[0, 0\]: ours NaN/);
  });
});
