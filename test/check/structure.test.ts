// The structure, dtypes and finite checks: on every real fixture (files written by real
// Keras releases) they pass; on copies written with one defect (a NaN, a wrong shape, a
// missing bias, ...) exactly the right check fails and names the layer and tensor.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runChecks } from "../../src/check/index.js";
import { dtypeCheck, structureCheck } from "../../src/check/structure.js";
import { finiteCheck } from "../../src/check/values.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import type { Model } from "../../src/model.js";
import { fixturePath, LOCAL_FIXTURES, noteMissing, SHARED_FIXTURES } from "../load/fixture-paths.js";
import { clone, gruSpec, loadSpec, lstmDenseSpec, type ModelSpec, tensor, writeSpec } from "./models.js";

function manifest(dir: string): string[] {
  try {
    return readFileSync(join(dir, "MANIFEST.tsv"), "utf8")
      .split("\n")
      .slice(1)
      .map((l) => l.split("\t")[0])
      .filter((f) => f);
  } catch {
    return [];
  }
}

const FIXTURES = [...new Set([...manifest(LOCAL_FIXTURES), ...manifest(SHARED_FIXTURES)])].sort();
noteMissing("check/structure", FIXTURES);

const statusOf = (m: Model) => Object.fromEntries(runChecks(m).checks.map((c) => [c.id, c.status]));

describe("every real fixture passes structure, dtypes and finite", () => {
  it("finds the fixtures", () => {
    // test/fixtures/real holds the redistributable ones (34 when this was written).
    expect(FIXTURES.length).toBeGreaterThanOrEqual(30);
  });
  for (const file of FIXTURES) {
    const path = fixturePath(file);
    it.skipIf(!path)(file, async () => {
      const model = await loadModel(path!);
      const report = runChecks(model);
      const failing = report.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.detail}`);
      expect(failing).toEqual([]);
      expect(statusOf(model)).toEqual({ structure: "pass", dtypes: "pass", finite: "pass", plausible: "pass" });
    });
  }

  // The one odd fixture: a Keras 3 transformer whose MultiHeadAttention keras-inspect does not
  // know; the check passes on what it knows and says which layer it could not check.
  it.skipIf(!fixturePath("k3_transformer_legacy.h5"))("names the layer it cannot check (k3_transformer_legacy.h5: MultiHeadAttention)", async () => {
    const c = structureCheck(await loadModel(fixturePath("k3_transformer_legacy.h5")!));
    expect(c.status).toBe("pass");
    expect(c.detail).toContain("not checked (class unknown to keras-inspect): multi_head_attention (MultiHeadAttention)");
  });

  it.skipIf(!fixturePath("k2_lstm_dense_weights.h5"))("says a weights-only file's classes were inferred", async () => {
    const c = structureCheck(await loadModel(fixturePath("k2_lstm_dense_weights.h5")!));
    expect(c.status).toBe("pass");
    expect(c.detail).toContain("weights-only file");
  });
});

async function checkOf(spec: ModelSpec) {
  const model = await loadSpec(spec);
  return { model, structure: structureCheck(model), dtypes: dtypeCheck(model), finite: finiteCheck(model) };
}

describe("mutated copies fail with the right check named", () => {
  it("the unmutated model passes", async () => {
    const r = await checkOf(await lstmDenseSpec());
    expect([r.structure.status, r.dtypes.status, r.finite.status]).toEqual(["pass", "pass", "pass"]);
    expect(r.structure.detail).toMatch(/^2 layer\(s\), 5 tensor\(s\)/);
  });

  it("one NaN written into recurrent_kernel: finite fails naming the tensor and the count; structure passes", async () => {
    const spec = clone(await lstmDenseSpec());
    tensor(spec, "lstm_1", "recurrent_kernel").data[7] = NaN;
    const r = await checkOf(spec);
    expect(r.structure.status).toBe("pass");
    expect(r.finite.status).toBe("fail");
    expect(r.finite.detail).toBe("lstm_1/recurrent_kernel has 1 NaN (of 64 values)");
  });

  it("an Inf in a Dense bias and NaNs in a kernel: both named", async () => {
    const spec = clone(await lstmDenseSpec());
    tensor(spec, "dense_1", "bias").data[1] = -Infinity;
    tensor(spec, "lstm_1", "kernel").data[0] = NaN;
    tensor(spec, "lstm_1", "kernel").data[5] = NaN;
    const r = await checkOf(spec);
    expect(r.finite.problems).toEqual(["lstm_1/kernel has 2 NaN (of 48 values)", "dense_1/bias has 1 Inf (of 2 values)"]);
  });

  it("an LSTM kernel with the wrong number of columns: structure fails with both shapes", async () => {
    const spec = clone(await lstmDenseSpec());
    const k = tensor(spec, "lstm_1", "kernel");
    k.shape = [3, 12]; // 3u instead of 4u
    k.data = k.data.slice(0, 36);
    const r = await checkOf(spec);
    expect(r.structure.status).toBe("fail");
    expect(r.structure.detail).toBe("lstm_1 (LSTM): tensor 'kernel' has shape [3, 12] but units=4 and 3 input features imply [3, 16]");
    expect(r.finite.status).toBe("pass");
  });

  it("an LSTM kernel for the wrong number of input features: structure fails", async () => {
    const spec = clone(await lstmDenseSpec());
    const k = tensor(spec, "lstm_1", "kernel");
    k.shape = [5, 16];
    k.data = Array.from({ length: 80 }, (_, i) => i / 100);
    const r = await checkOf(spec);
    expect(r.structure.detail).toBe("lstm_1 (LSTM): tensor 'kernel' has shape [5, 16] but units=4 and 3 input features imply [3, 16]");
  });

  it("a Dense kernel that does not fit the LSTM before it: structure names the Dense layer", async () => {
    const spec = clone(await lstmDenseSpec());
    const k = tensor(spec, "dense_1", "kernel");
    k.shape = [5, 2];
    k.data = Array.from({ length: 10 }, (_, i) => i / 10);
    const r = await checkOf(spec);
    expect(r.structure.detail).toBe("dense_1 (Dense): tensor 'kernel' has shape [5, 2] but units=2 and 4 input features imply [4, 2]");
  });

  it("a missing bias (use_bias=true in the config): structure fails naming it", async () => {
    const spec = clone(await lstmDenseSpec());
    spec.layers[0].tensors = spec.layers[0].tensors.filter((t) => t.role !== "bias");
    const r = await checkOf(spec);
    expect(r.structure.status).toBe("fail");
    expect(r.structure.detail).toBe("lstm_1 (LSTM): missing tensor 'bias' [16] (use_bias=true and units=4 implies it)");
  });

  it("a bias listed in weight_names whose dataset was removed: structure fails naming where it should be; a plain load refuses the file", async () => {
    const spec = clone(await lstmDenseSpec());
    tensor(spec, "lstm_1", "bias").absent = true;
    tensor(spec, "dense_1", "bias").absent = true;
    const bytes = await writeSpec(spec);
    const model = await loadModelFromBytes(bytes, "m.h5", { missingTensors: "keep" });
    const check = structureCheck(model);
    expect(check.status).toBe("fail");
    expect(check.problems).toEqual([
      "lstm_1 (LSTM): missing tensor 'bias' [16]: weight_names lists it at '/model_weights/lstm_1/lstm_1/bias:0', but there is no dataset there",
      "dense_1 (Dense): missing tensor 'bias' [2]: weight_names lists it at '/model_weights/dense_1/dense_1/bias:0', but there is no dataset there",
    ]);
    // Every other reader gets the error, not a model without the tensor.
    await expect(loadModelFromBytes(bytes, "m.h5")).rejects.toThrow("m.h5: weight 'bias' should be at '/model_weights/lstm_1/lstm_1/bias:0', but there is no dataset there");
  });

  it("a bias stored although use_bias=false: reported as extra", async () => {
    const spec = clone(await lstmDenseSpec());
    spec.layers[0].config.config.use_bias = false;
    const r = await checkOf(spec);
    expect(r.structure.detail).toBe("lstm_1 (LSTM): unexpected tensor 'bias' [16] (LSTM stores kernel, recurrent_kernel)");
  });

  it("an extra tensor on a layer: reported as extra", async () => {
    const spec = clone(await lstmDenseSpec());
    spec.layers[1].tensors.push({ role: "scale", shape: [2], data: [1, 2] });
    const r = await checkOf(spec);
    expect(r.structure.detail).toBe("dense_1 (Dense): unexpected tensor 'scale' [2] (Dense stores kernel, bias)");
  });

  it("GRU: the bias shape follows reset_after", async () => {
    // reset_after=true stores (2, 3u); a (3u) bias is then wrong, and the reverse.
    const after = clone(await gruSpec({ resetAfter: true }));
    expect((await checkOf(after)).structure.status).toBe("pass");
    const bad = clone(after);
    bad.layers[0].config.config.reset_after = false;
    expect((await checkOf(bad)).structure.detail).toBe("gru_1 (GRU): tensor 'bias' has shape [2, 9] but reset_after=false and units=3 imply [9]");
    const before = clone(await gruSpec({ resetAfter: false }));
    expect((await checkOf(before)).structure.status).toBe("pass");
    before.layers[0].config.config.reset_after = true;
    expect((await checkOf(before)).structure.detail).toBe("gru_1 (GRU): tensor 'bias' has shape [9] but reset_after=true and units=3 imply [2, 9]");
  });

  it("units in the config that disagree with every tensor: every tensor is named", async () => {
    const spec = clone(await lstmDenseSpec());
    spec.layers[0].config.config.units = 5;
    const r = await checkOf(spec);
    expect(r.structure.problems).toEqual([
      "lstm_1 (LSTM): tensor 'kernel' has shape [3, 16] but units=5 and 3 input features imply [3, 20]",
      "lstm_1 (LSTM): tensor 'recurrent_kernel' has shape [4, 16] but units=5 imply [5, 20]",
      "lstm_1 (LSTM): tensor 'bias' has shape [16] but use_bias=true and units=5 imply [20]",
      "dense_1 (Dense): tensor 'kernel' has shape [4, 2] but units=2 and 5 input features imply [5, 2]",
    ]);
    expect(r.structure.detail).toContain("and 2 more");
  });

  it("float64 tensors are floating point; the dtypes check lists them", async () => {
    const model = await loadSpec(await lstmDenseSpec());
    model.layers[1].weights[0] = { ...model.layers[1].weights[0], dtype: "float64", data: Float64Array.from(model.layers[1].weights[0].data) };
    const c = dtypeCheck(model);
    expect(c.status).toBe("pass");
    expect(c.detail).toBe("floating point: float32 (4), float64 (1)");
  });

  it("an integer tensor fails the dtypes check, named", async () => {
    const model = await loadSpec(await lstmDenseSpec());
    model.layers[0].weights[2] = { ...model.layers[0].weights[2], dtype: "int32" };
    const c = dtypeCheck(model);
    expect(c.status).toBe("fail");
    expect(c.detail).toBe("lstm_1/bias is int32; weights must be floating point");
  });

  it("skips the behaviour checks when the structure is broken, instead of crashing on evaluation", async () => {
    const spec = clone(await lstmDenseSpec());
    spec.layers[0].tensors = spec.layers[0].tensors.filter((t) => t.role !== "bias");
    const model = await loadSpec(spec);
    const report = runChecks(model, { inputs: [{ shape: [1, 5, 3], data: new Float64Array(15).fill(0.5) }] });
    expect(report.verdict).toBe("fail");
    expect(report.checks.find((c) => c.id === "saturation")).toMatchObject({ status: "skip", detail: expect.stringContaining("structure check failed") });
  });
});
