// `keras-inspect diff` through the real executable: exit 0 equal, 1 different, 2 error.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { at, clone, lstmDenseSpec, tensor, writeSpec } from "../check/models.js";
import { fixturePath } from "../load/fixture-paths.js";
import { isCleanError, REPO_ROOT, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ki-diff-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let a: string;
let b: string;
let tiny: string;

beforeAll(async () => {
  const spec = await lstmDenseSpec();
  a = join(dir, "a.h5");
  writeFileSync(a, await writeSpec(spec));
  const changed = clone(spec);
  tensor(changed, "lstm_1", "recurrent_kernel").data[at(16, 2, 12 + 1)] += 0.25; // recurrent_kernel_o[2, 1]
  b = join(dir, "b.h5");
  writeFileSync(b, await writeSpec(changed));
  // One float32 kernel value moved by one step of float32 there, 1.9e-9 (issue 13, item 12): seven digits print it unchanged.
  const t = clone(spec);
  const k = tensor(t, "lstm_1", "kernel");
  k.data[0] = -0.01826077;
  tiny = join(dir, "tiny-a.h5");
  writeFileSync(tiny, await writeSpec(t));
  k.data[0] = -0.01826077 + 1.9e-9;
  writeFileSync(join(dir, "tiny-b.h5"), await writeSpec(t));
});

describe("keras-inspect diff", () => {
  it("--partial compares B as a part of A: A's layers B lacks are a warning, not a difference", async () => {
    const spec = await lstmDenseSpec();
    const part = clone(spec);
    part.layers = part.layers.filter((l) => l.name === "lstm_1");
    const p = join(dir, "part.h5");
    writeFileSync(p, await writeSpec(part));
    const whole = runCli(["diff", a, p]);
    expect(whole.status).toBe(1);
    expect(whole.stdout).toMatch(/^− dense_1 \(Dense\): only in A$/m);
    const r = runCli(["diff", a, p, "--partial"]);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^warning: B is compared as part of A: A's layers not in B are not compared: dense_1$/m);
    expect(r.stdout).toMatch(/^= lstm_1 \(LSTM\)/m);
  });

  it("a change of 1.9e-9 prints enough digits to show it, and says what each relative size is relative to", () => {
    const r = runCli(["diff", tiny, join(dir, "tiny-b.h5")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/kernel: max \|Δ\| 1\.[89]\de-9 at \[0, 0\] \(gate i, unit 0\): (-0\.0182607\d+) → (?!\1,)-0\.0182607\d+, relative to the tensor's largest \|value\| /);
  });

  it("a file against itself: exit 0, EQUAL", () => {
    const r = runCli(["diff", a, a]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^= lstm_1 \(LSTM\): kernel, recurrent_kernel, bias equal$/m);
    expect(r.stdout.trimEnd().split("\n").pop()).toBe("EQUAL: 2 layer(s), 5 tensor(s) identical");
  });

  it("one recurrent weight changed: exit 1, naming the layer, the tensor and the gate", () => {
    const r = runCli(["diff", a, b]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^≠ lstm_1 \(LSTM\); gates changed: o \(max \|Δ\| 2\.50e-1 at recurrent_kernel_o\[2, 1\], relative to the gate's largest \|value\| /m);
    expect(r.stdout).toMatch(/^ {4}recurrent_kernel: max \|Δ\| 2\.50e-1 at \[2, 13\] \(gate o, unit 1\): .+, 1 of 64 value\(s\) changed$/m);
    expect(r.stdout).toMatch(/^= dense_1 \(Dense\)/m);
    expect(r.stdout.trimEnd().split("\n").pop()).toBe("DIFFERENT: 1 of 2 layer(s) differ (1 of 5 tensor(s))");
    // Within --atol 0.3 the same files are equal.
    expect(runCli(["diff", a, b, "--atol", "0.3"]).status).toBe(0);
  });

  it("--json: the whole comparison as one document", () => {
    const r = runCli(["diff", a, b, "--json"]);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.verdict).toBe("different");
    const lstm = doc.layers.find((l: { pathA: string }) => l.pathA === "lstm_1");
    expect(lstm.gates.filter((g: { changed: boolean }) => g.changed).map((g: { gate: string }) => g.gate)).toEqual(["o"]);
  });

  it.skipIf(!fixturePath("k2_lstm_dense_full.h5") || !fixturePath("k2_lstm_dense_weights.h5"))("a full model and a weights-only file of the same model: exit 0", () => {
    const r = runCli(["diff", fixturePath("k2_lstm_dense_full.h5")!, fixturePath("k2_lstm_dense_weights.h5")!]);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain("warning: a weights-only file records no config");
  });

  for (const [what, args, message] of [
    ["a missing file", () => ["diff", a, join(dir, "nope.h5")], /nope\.h5: no such file/],
    ["--atol that is not a number", () => ["diff", a, a, "--atol", "1e-x"], /--atol must be a number, got '1e-x'/],
  ] as [string, () => string[], RegExp][]) {
    it(`${what}: one line, exit 2`, () => {
      const r = runCli(args());
      expect(r.status).toBe(2);
      expect(isCleanError(r), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    });
  }

  // tflite-micro's MNIST LSTM and its int8 twin (Apache-2.0, in test/fixtures): the converter quantized these very
  // weights, so every value lies within half a step (tolerance: diff's own, 0.5 step plus float32 slack).
  const mnist = (file: string) => join(REPO_ROOT, "test/fixtures/exports/tflite_mnist_lstm_unpaired", file);
  it("a float32 TFLite model against its int8 export: exit 0, within quantization per gate; --exact: exit 1", () => {
    const r = runCli(["diff", mnist("trained_lstm.tflite"), mnist("trained_lstm_int8.tflite")]);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^≈ lstm ↔ unidirectional_sequence_lstm_1 \(LSTM\): within quantization: gates i \(max \|Δ\| = 0\.[45]\d step\), f \(max \|Δ\| = 0\.[45]\d step\), c \(.*\), o \(.*\)$/m);
    expect(r.stdout).toMatch(/^ {4}kernel: within quantization: max \|Δ\| = 0\.[45]\d step \(B quantized\); max \|Δ\| .* \(gate ., unit \d+\): .*, \d+ of 2240 value\(s\) changed$/m);
    expect(r.stdout.trimEnd().split("\n").pop()).toMatch(/^WITHIN QUANTIZATION: 1 layer\(s\), 3 tensor\(s\): 3 tensor\(s\) of 1 layer\(s\) within half a quantization step \(max \|Δ\| = 0\.[45]\d step\)$/);
    const doc = JSON.parse(runCli(["diff", mnist("trained_lstm.tflite"), mnist("trained_lstm_int8.tflite"), "--json"]).stdout);
    expect([doc.verdict, doc.exact, doc.counts.withinQuantization, doc.counts.withinQuantizationTensors]).toEqual(["within-quantization", false, 1, 3]);
    for (const g of doc.layers[0].gates) expect([g.status, g.maxSteps <= 0.5 + 1e-3]).toEqual(["within-quantization", true]);
    const exact = runCli(["diff", mnist("trained_lstm.tflite"), mnist("trained_lstm_int8.tflite"), "--exact"]);
    expect(exact.status).toBe(1);
    expect(exact.stdout).toMatch(/^ {4}kernel: within half a step, but --exact asks for values within atol: max \|Δ\| = 0\.[45]\d step/m);
    expect(exact.stdout.trimEnd().split("\n").pop()).toBe("DIFFERENT: 1 of 1 layer(s) differ (3 of 3 tensor(s))");
  });

  it("a missing argument is a usage error (exit 2)", () => {
    const r = runCli(["diff", a]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("missing required argument 'b'");
  });
});
