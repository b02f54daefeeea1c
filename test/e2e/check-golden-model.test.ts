// `check --write-golden` / `--golden` on a whole model (issue 13, item 7): the golden file
// holds every recurrent layer's trace and the model's outputs, so a corrupted Dense after
// the LSTM fails the check, naming the output; and a golden input that cannot exercise a
// weight (one step from a zero state, a gate saturated at every step) is a warning, in
// text, --json, JUnit and --strict. The comparison is the one --golden always made:
// |now − golden| ≤ atol + rtol·|golden|, atol = rtol = 1e-5; the same binary recomputes
// the same values bit for bit, and the changes below move values by 0.1 or more.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFloat32 } from "../../src/npy.js";
import { at, clone, lstmDenseSpec, type ModelSpec, tensor, writeSpec } from "../check/models.js";
import { runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ki-golden-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);
let spec: ModelSpec;

async function save(name: string, change?: (s: ModelSpec) => void): Promise<string> {
  const s = clone(spec);
  change?.(s);
  writeFileSync(p(name), await writeSpec(s));
  return p(name);
}

const X = [0, 1].map((s) => Array.from({ length: 5 }, (_, t) => [0.1 * t - 0.2 * s, Math.sin(t + s), 0.5 - 0.05 * t]));

beforeAll(async () => {
  spec = await lstmDenseSpec({ steps: null }); // LSTM(4) on 3 features, any number of steps, then Dense(2)
  await save("good.h5");
  await save("dense.h5", (s) => (tensor(s, "dense_1", "kernel").data[at(2, 1, 0)] += 0.5));
  await save("recurrent.h5", (s) => (tensor(s, "lstm_1", "recurrent_kernel").data[at(16, 3, 4 + 1)] += 0.5)); // U_f[3, 1]
  await save("nan.h5", (s) => (tensor(s, "lstm_1", "recurrent_kernel").data[7] = NaN));
  await save("saturated.h5", (s) => (tensor(s, "lstm_1", "bias").data[4 + 2] = 30)); // b_f of unit 2: σ flat at 1
  writeFileSync(p("x.npy"), writeNpyFloat32([2, 5, 3], X.flat(2)));
  writeFileSync(p("x1.npy"), writeNpyFloat32([2, 1, 3], X.map((s) => s[0]).flat()));
  const w = runCli(["check", p("good.h5"), "--input-file", p("x.npy"), "--write-golden", p("golden.json")]);
  expect(w.status, w.stdout + w.stderr).toBe(0);
});

describe("golden files of a whole model", () => {
  it("records the input, every recurrent layer's trace and the outputs; passes on the same model without --input", () => {
    const doc = JSON.parse(readFileSync(p("golden.json"), "utf8"));
    expect([doc.format, doc.version, doc.dtype]).toEqual(["keras-inspect golden", 2, "float32"]);
    expect(doc.inputs[0].shape).toEqual([2, 5, 3]);
    expect(doc.layers.map((l: { layer: string }) => l.layer)).toEqual(["lstm_1"]);
    expect(doc.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape])).toEqual([["dense_1", [2]]]);
    const r = runCli(["check", p("good.h5"), "--golden", p("golden.json")]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ golden lstm_1\s+lstm_1: all \d+ intermediate value\(s\) of 2 sample\(s\) × 5 step\(s\) match/m);
    expect(r.stdout).toMatch(/^✓ golden output dense_1\s+output 'dense_1': all 4 value\(s\) match/m);
    expect(r.stdout).toMatch(/^✓ golden coverage\s+every recurrent layer/m);
  });

  it("a corrupted Dense after the LSTM fails, naming the output (a step --json trace of the LSTM passes it)", () => {
    const r = runCli(["check", p("dense.h5"), "--golden", p("golden.json")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^✓ golden lstm_1\s/m);
    expect(r.stdout).toMatch(/^✗ golden output dense_1\s+output 'dense_1' moved at sample 1 \[0\]: -?\d\.\d+ → -?\d\.\d+; 2 of 4 value\(s\) moved beyond atol 1e-5, rtol 1e-5$/m);
    expect(r.stdout.trimEnd().split("\n").pop()).toBe("FAIL: 1 of 7 check(s) failed: golden output dense_1");
    // What the issue saw: the old one-layer golden cannot see the Dense.
    const step = runCli(["step", p("good.h5"), "--input-file", p("x.npy"), "--json"]);
    writeFileSync(p("step.json"), step.stdout);
    expect(runCli(["check", p("dense.h5"), "--golden", p("step.json"), "--input-file", p("x.npy")]).status).toBe(0);
  });

  it("a changed recurrent kernel fails the layer, naming the first intermediate that moved, at step 2", () => {
    const r = runCli(["check", p("recurrent.h5"), "--golden", p("golden.json"), "--json"]);
    expect(r.status).toBe(1);
    const c = JSON.parse(r.stdout).checks.find((k: { id: string }) => k.id === "golden:lstm_1");
    expect(c.status).toBe("fail");
    expect(c.detail).toMatch(/^lstm_1: first moved f \(gate f \(forget\)\) at step 2 \(t=1\), sample 1, unit 1: /);
  });
});

describe("the coverage warning", () => {
  it("a one-step golden cannot see the recurrent kernel: a warning (exit 0), JSON warn, JUnit system-out, --strict fails", () => {
    const w = runCli(["check", p("good.h5"), "--input-file", p("x1.npy"), "--write-golden", p("one.json"), "--junit", p("one.xml")]);
    expect(w.status, w.stdout + w.stderr).toBe(0);
    expect(w.stdout).toMatch(/^! golden coverage\s+the input of .*one\.json cannot exercise every weight: lstm_1: every step starts from a zero state \(one step from the zero initial state\), so rec = h₍ₜ₋₁₎·U is 0 and the recurrent kernel is never exercised/m);
    expect(readFileSync(p("one.xml"), "utf8")).toMatch(/name="golden coverage" time="0">\s*<system-out>warning: the input of/);
    // ... and the golden indeed passes a changed recurrent kernel: what the warning is for.
    const r = runCli(["check", p("recurrent.h5"), "--golden", p("one.json"), "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.checks.find((k: { id: string }) => k.id === "golden-coverage").status).toBe("warn");
    expect(doc.counts.warn).toBe(1);
    expect(runCli(["check", p("recurrent.h5"), "--golden", p("one.json"), "--strict"]).status).toBe(1);
    // A one-layer step --json golden of one step says so too.
    const step = runCli(["step", p("good.h5"), "--input-file", p("x1.npy"), "--json"]);
    writeFileSync(p("step1.json"), step.stdout);
    expect(runCli(["check", p("good.h5"), "--golden", p("step1.json")]).stdout).toMatch(/^! golden coverage\s+.*recurrent kernel is never exercised/m);
  });

  it("a forget gate saturated at every step is named by unit", () => {
    const r = runCli(["check", p("saturated.h5"), "--input-file", p("x.npy"), "--write-golden", p("sat.json")]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^! golden coverage\s+.*lstm_1: 1 unit\(s\) have a gate saturated at every step .*: unit 2 gate f$/m);
  });

  it("NaN pre-activations are not called saturated (they fail the comparison instead)", () => {
    const r = runCli(["check", p("nan.h5"), "--golden", p("golden.json")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^✓ golden coverage\s/m);
  });

  it("--write-golden without an input, or with several files, cannot run (exit 2)", () => {
    const r = runCli(["check", p("good.h5"), "--write-golden", p("none.json")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--write-golden records the model's answer to an input: pass --input or --input-file/);
    expect(runCli(["check", p("good.h5"), p("dense.h5"), "--input-file", p("x.npy"), "--write-golden", p("two.json")]).status).toBe(2);
  });
});
