// Pipeline contracts: --require-layer and --keras-version. Version ranges follow npm's
// semver rules (docs.npmjs.com, "semver": X-ranges, tilde and caret ranges), written out
// here case by case rather than computed.
import { describe, expect, it } from "vitest";
import { kerasVersionCheck, parseLayerRequirement, parseVersionRange, requireLayerCheck, versionInRange } from "../../src/check/contract.js";
import { maxAbsCheck } from "../../src/check/values.js";
import { UsageError } from "../../src/errors.js";
import { clone, gruSpec, loadSpec, lstmDenseSpec, tensor } from "./models.js";

describe("--keras-version ranges", () => {
  const cases: [string, string, boolean][] = [
    ["2.2.4", "2.2.4", true],
    ["2.2.4", "2.2.5", false],
    ["2.2", "2.2.5", true],
    ["2.2", "2.3.0", false],
    ["2.x", "2.13.1", true],
    ["2.x", "3.0.0", false],
    ["3", "3.6.0", true],
    ["3.*", "2.9.0", false],
    [">=2.3 <3", "2.3.0", true],
    [">=2.3 <3", "2.2.5", false],
    [">=2.3 <3", "3.0.0", false],
    [">= 2.3 < 3", "2.15.0", true],
    [">2.3", "2.3.9", false], // a partial version in >X.Y means above every 2.3 release
    [">2.3", "2.4.0", true],
    ["<=2.2", "2.2.5", true],
    ["<=2.2", "2.3.0", false],
    ["~2.2.4", "2.2.9", true],
    ["~2.2.4", "2.3.0", false],
    ["^2.3", "2.15.0", true],
    ["^2.3", "3.0.0", false],
    ["^0.3.1", "0.3.9", true],
    ["^0.3.1", "0.4.0", false],
    ["2.2.x || >=3.1", "3.6.0", true],
    ["2.2.x || >=3.1", "3.0.0", false],
    ["2.2.x || >=3.1", "2.2.4", true],
    // tf.keras writes "2.2.4-tf": compared as 2.2.4
    ["2.2.4", "2.2.4-tf", true],
    [">=2.3", "2.2.4-tf", false],
    ["*", "1.2.2", true],
  ];
  for (const [range, version, ok] of cases) {
    it(`${version} ${ok ? "is" : "is not"} in '${range}'`, () => {
      expect(versionInRange(version, parseVersionRange(range))).toBe(ok);
    });
  }

  for (const bad of ["", "latest", ">=two", "2.x.3", "2..3", "||"]) {
    it(`'${bad}' is a usage error (exit 2)`, () => {
      expect(() => parseVersionRange(bad)).toThrow(UsageError);
    });
  }

  it("passes and fails on a real model's recorded version", async () => {
    const model = await loadSpec(await lstmDenseSpec()); // written as Keras 2.2.4
    expect(kerasVersionCheck(model, parseVersionRange("2.2.x"))).toMatchObject({ status: "pass", detail: "written by Keras 2.2.4, within '2.2.x'" });
    expect(kerasVersionCheck(model, parseVersionRange(">=3"))).toMatchObject({ status: "fail", detail: "written by Keras 2.2.4, outside '>=3'" });
  });

  it("fails when the file does not record its version", async () => {
    const model = await loadSpec(await lstmDenseSpec());
    model.kerasVersion = undefined;
    const c = kerasVersionCheck(model, parseVersionRange("2.x"));
    expect(c.status).toBe("fail");
    expect(c.detail).toContain("does not record which Keras version wrote it");
  });
});

describe("--require-layer", () => {
  it("parses CLASS and CLASS:UNITS, and rejects anything else with exit 2", () => {
    expect(parseLayerRequirement("LSTM")).toEqual({ className: "LSTM", text: "LSTM" });
    expect(parseLayerRequirement("GRU:64")).toEqual({ className: "GRU", units: 64, text: "GRU:64" });
    for (const bad of ["LSTM:", "LSTM:x", "LSTM:0", "LSTM:-3", ":4", "LS TM"]) expect(() => parseLayerRequirement(bad), bad).toThrow(UsageError);
  });

  it("finds the layer by class and units, and says what there is when it is not found", async () => {
    const model = await loadSpec(await lstmDenseSpec({ units: 4 }));
    expect(requireLayerCheck(model, parseLayerRequirement("LSTM"))).toMatchObject({ status: "pass", detail: "found lstm_1 (4 units)" });
    expect(requireLayerCheck(model, parseLayerRequirement("LSTM:4")).status).toBe("pass");
    expect(requireLayerCheck(model, parseLayerRequirement("LSTM:64"))).toMatchObject({
      status: "fail",
      detail: "no LSTM layer has 64 units; LSTM layers: lstm_1 (4 units)",
    });
    expect(requireLayerCheck(model, parseLayerRequirement("GRU"))).toMatchObject({
      status: "fail",
      detail: "no GRU layer; the model's layer classes: LSTM, Dense",
    });
  });

  it("matches the class without regard to case", async () => {
    const model = await loadSpec(await lstmDenseSpec({ units: 4 }));
    expect(requireLayerCheck(model, parseLayerRequirement("lstm:4"))).toMatchObject({ status: "pass", detail: "found lstm_1 (4 units)" });
    expect(requireLayerCheck(model, parseLayerRequirement("dense")).status).toBe("pass");
  });

  it("looks inside wrappers (the GRU of a model is found by class)", async () => {
    const model = await loadSpec(await gruSpec({ units: 3 }));
    expect(requireLayerCheck(model, parseLayerRequirement("GRU:3")).status).toBe("pass");
  });
});

describe("--max-abs", () => {
  it("names every tensor with a value beyond the limit, with its largest |w| and how many", async () => {
    const spec = clone(await lstmDenseSpec());
    tensor(spec, "lstm_1", "recurrent_kernel").data[3] = -12.5;
    tensor(spec, "dense_1", "kernel").data[0] = 40;
    const model = await loadSpec(spec);
    const c = maxAbsCheck(model, 10);
    expect(c.status).toBe("fail");
    expect(c.problems).toEqual(["lstm_1/recurrent_kernel: max |w| 12.50 > 10 (1 of 64 values)", "dense_1/kernel: max |w| 40.00 > 10 (1 of 8 values)"]);
    // Weights are uniform in ±0.5 otherwise.
    expect(maxAbsCheck(await loadSpec(await lstmDenseSpec()), 10)).toMatchObject({ status: "pass" });
    expect(maxAbsCheck(await loadSpec(await lstmDenseSpec()), 10).detail).toMatch(/^largest \|w\| is 0\.4\d+ \(.+\), within 10$/);
  });
});
