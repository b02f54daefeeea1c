// --golden: a `step --json` trace saved earlier, compared with a fresh one. Unchanged
// model: pass. One weight of one gate changed: fail, naming that gate's intermediate,
// the step and the unit — worked out by hand from the LSTM/GRU equations:
//   kernel_f[d, j] enters x_f = x·W_f + b_f at step 1 (when x[d] ≠ 0);
//   bias_c[j] enters x_c at step 1;
//   recurrent_kernel_o[r, j] enters rec_o = h₍ₜ₋₁₎·U_o, zero at step 1 (h0 = 0), so o
//   is the first column to move, at step 2 (x_* and i, f, c of step 2 do not use U_o).
import { describe, expect, it } from "vitest";
import { runChecks } from "../../src/check/index.js";
import { parseGolden } from "../../src/check/golden.js";
import { UsageError } from "../../src/errors.js";
import { evaluateStep } from "../../src/eval/step.js";
import type { Model } from "../../src/model.js";
import type { NdArray } from "../../src/npy.js";
import { toJson } from "../../src/present/json.js";
import { stepJson } from "../../src/present/step.js";
import { loadRnnModel } from "../support/rnn-model-file.js";
import { at, clone, gruSpec, loadSpec, lstmDenseSpec, tensor } from "./models.js";

// Two samples, 5 steps, 3 features; feature 2 is never 0.
const X: NdArray = {
  shape: [2, 5, 3],
  data: Float64Array.from([0, 1].flatMap((s) => Array.from({ length: 5 }, (_, t) => [0.1 * t - 0.2 * s, Math.sin(t + s), 0.5 - 0.05 * t]).flat())),
};

function saveGolden(model: Model, inputs: NdArray[], layer?: string, units?: number[]): string {
  const { trace } = evaluateStep(model, { layer, inputs, dtype: "float32" });
  return toJson(stepJson(trace, { units }));
}

function golden(model: Model, text: string, inputs?: NdArray[]) {
  const report = runChecks(model, { golden: { label: "trace.json", trace: parseGolden(text, "trace.json") }, inputs });
  return report.checks.find((c) => c.id === "golden")!;
}

describe("--golden on an LSTM", () => {
  for (const mode of ["with --input", "replaying the recorded layer input"] as const) {
    const inputs = mode === "with --input" ? [X] : undefined;

    it(`passes on the unchanged model (${mode})`, async () => {
      const model = await loadSpec(await lstmDenseSpec());
      const c = golden(model, saveGolden(model, [X]), inputs);
      expect(c.status, c.detail).toBe("pass");
      expect(c.detail).toMatch(/^lstm_1: all \d+ intermediate value\(s\) of 2 sample\(s\) × 5 step\(s\) match trace\.json within atol 1e-5, rtol 1e-5 \(max \|Δ\| 0\)$/);
    });

    it(`names gate f when one kernel_f weight changes (${mode})`, async () => {
      const spec = await lstmDenseSpec();
      const text = saveGolden(await loadSpec(spec), [X]);
      const changed = clone(spec);
      tensor(changed, "lstm_1", "kernel").data[at(16, 2, 4 + 2)] += 0.5; // kernel_f[2, 2]: gate f = columns 4..7
      const c = golden(await loadSpec(changed), text, inputs);
      expect(c.status).toBe("fail");
      expect(c.detail).toMatch(/^lstm_1: first moved x_f \(gate f \(forget\)\) at step 1 \(t=0\), sample 1, unit 2: /);
      expect((c.data as { firstMoved: { gate: string } }).firstMoved.gate).toBe("f");
    });

    it(`names gate c when one bias_c value changes (${mode})`, async () => {
      const spec = await lstmDenseSpec();
      const text = saveGolden(await loadSpec(spec), [X]);
      const changed = clone(spec);
      tensor(changed, "lstm_1", "bias").data[8 + 3] -= 0.25; // bias_c[3]
      const c = golden(await loadSpec(changed), text, inputs);
      expect(c.detail).toMatch(/^lstm_1: first moved x_c \(gate c \(candidate\)\) at step 1 \(t=0\), sample 1, unit 3: /);
    });

    it(`names gate o at step 2 when one recurrent_kernel_o weight changes (${mode})`, async () => {
      const spec = await lstmDenseSpec();
      const text = saveGolden(await loadSpec(spec), [X]);
      const changed = clone(spec);
      tensor(changed, "lstm_1", "recurrent_kernel").data[at(16, 0, 12 + 1)] += 0.5; // recurrent_kernel_o[0, 1]
      const c = golden(await loadSpec(changed), text, inputs);
      expect(c.detail).toMatch(/^lstm_1: first moved o \(gate o \(output\)\) at step 2 \(t=1\), sample 1, unit 1: /);
    });
  }

  it("a change before the layer (none here: the LSTM is first) or of its input shows as x with --input", async () => {
    const model = await loadSpec(await lstmDenseSpec());
    const text = saveGolden(model, [X]);
    const moved: NdArray = { shape: X.shape, data: Float64Array.from(X.data) };
    moved.data[at(3, 1, 0)] += 0.1; // sample 1, step 2, feature 0
    const c = golden(model, text, [moved]);
    expect(c.detail).toMatch(/^lstm_1: first moved the layer's input x \(feature 0\) at step 2 \(t=1\), sample 1: /);
  });

  it("a different number of units is named as such", async () => {
    const text = saveGolden(await loadSpec(await lstmDenseSpec({ units: 4 })), [X]);
    const c = golden(await loadSpec(await lstmDenseSpec({ units: 5 })), text, [X]);
    expect(c).toMatchObject({ status: "fail", detail: "lstm_1 had 4 units in trace.json, has 5 now" });
  });
});

describe("--golden on a GRU", () => {
  it("names gate z when one kernel_z weight changes, gate r for kernel_r", async () => {
    const spec = await gruSpec({ units: 3, features: 2, resetAfter: true });
    const x: NdArray = { shape: [1, 4, 2], data: Float64Array.from([0.5, -1, 0.25, 0.5, -0.75, 1, 1, 0.1]) };
    const text = saveGolden(await loadSpec(spec), [x]);
    expect(golden(await loadSpec(spec), text).status).toBe("pass");
    const z = clone(spec);
    tensor(z, "gru_1", "kernel").data[at(9, 1, 0 + 2)] += 0.3; // kernel_z[1, 2]
    expect(golden(await loadSpec(z), text).detail).toMatch(/^gru_1: first moved x_z \(gate z \(update\)\) at step 1 \(t=0\), unit 2: /);
    const r = clone(spec);
    tensor(r, "gru_1", "kernel").data[at(9, 0, 3 + 0)] += 0.3; // kernel_r[0, 0]
    expect(golden(await loadSpec(r), text).detail).toMatch(/^gru_1: first moved x_r \(gate r \(reset\)\) at step 1 \(t=0\), unit 0: /);
  });
});

describe("--golden with values that become NaN", () => {
  it("says how many moved to NaN instead of an infinite |Δ| and a max |Δ| of 0", async () => {
    const spec = await lstmDenseSpec();
    const text = saveGolden(await loadSpec(spec), [X]);
    const changed = clone(spec);
    tensor(changed, "lstm_1", "bias").data[8] = Number.NaN; // bias_c[0]: x_c, c and h of unit 0 turn NaN from step 1
    const c = golden(await loadSpec(changed), text, [X]);
    expect(c.status).toBe("fail");
    expect(c.detail).toMatch(/^lstm_1: first moved x_c \(gate c \(candidate\)\) at step 1 \(t=0\), sample 1, unit 0: -?\d\.\d{6} → NaN; \d+ of \d+ value\(s\) moved beyond atol 1e-5, rtol 1e-5 \(/);
    expect(c.detail).not.toMatch(/\|Δ\| Infinity|max \|Δ\| 0$/);
    const data = c.data as { moved: number; movedNonFinite: number };
    expect(data.movedNonFinite).toBeGreaterThan(0);
    // NaN spreads through h to every unit from step 2, so some moved values are finite-to-NaN and the text says how many.
    expect(c.detail).toContain(data.movedNonFinite === data.moved ? "(all to or from NaN/±Infinity)" : `(${data.movedNonFinite} to or from NaN/±Infinity), max |Δ| of the others`);
  });
});

describe("--golden input problems are usage errors (exit 2)", () => {
  it("a trace of another number of samples or steps was not compared: usage error, not a failed check", async () => {
    const model = await loadSpec(await lstmDenseSpec());
    const text = saveGolden(model, [X]);
    const oneSample: NdArray = { shape: [1, 5, 3], data: X.data.slice(0, 15) };
    expect(() => golden(model, text, [oneSample])).toThrow(UsageError);
    expect(() => golden(model, text, [oneSample])).toThrow(/--golden trace\.json has 2 sample\(s\) × 5 step\(s\), the input given 1 × 5: give the input the trace was saved with/);
  });

  it("a trace saved with --unit cannot be compared unit by unit", async () => {
    const model = await loadSpec(await lstmDenseSpec());
    expect(() => parseGolden(saveGolden(model, [X], undefined, [0, 2]), "t.json")).toThrow(/saved with --unit; save the golden trace without --unit/);
  });

  it("not a step --json document", () => {
    for (const text of ["not json", "[1, 2]", "{}", '{"layer": "x", "dtype": "float32", "directions": [{"units": 1, "samples": [[{"t": 0, "x": [1], "h": ["oops"]}]]}]}']) {
      expect(() => parseGolden(text, "t.json"), text).toThrow(UsageError);
    }
  });

  it("a masked trace cannot be replayed from the recorded input; with --input it can", async () => {
    const spec = {
      kind: "lstm" as const,
      units: 2,
      inputDim: 2,
      activation: "tanh",
      recurrentActivation: "sigmoid",
      useBias: true,
      kernel: Float32Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.2, 0.1, -0.3, 0.5, 0.25, -0.15, 0.05, 0.45]),
      recurrentKernel: Float32Array.from([0.3, 0.1, -0.2, 0.4, 0.2, -0.1, 0.5, 0.3, -0.4, 0.2, 0.1, -0.3, 0.6, 0.2, -0.1, 0.05]),
      bias: Float32Array.from([0, 0, 1, 1, 0, 0, 0, 0]),
    };
    const { model, path } = await loadRnnModel(spec, { masking: true });
    const x: NdArray = { shape: [1, 3, 2], data: Float64Array.from([1, 2, 0, 0, 3, -1]) }; // step 2 masked
    const text = saveGolden(model, [x], path);
    expect(() => golden(model, text)).toThrow(/the trace has masked steps/);
    expect(golden(model, text, [x]).status).toBe("pass");
  });
});
