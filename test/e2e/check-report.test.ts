// `keras-inspect check` as a CI job meets it (issue 13, items 4, 5, 6, 10, 12), through the
// real executable: a report on every outcome (exit 2 included), a removed tensor as a failed
// structure check, --reference, several files in one report, --expect NAME=FILE.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceCheck } from "../../src/check/reference.js";
import { loadModel } from "../../src/load/index.js";
import { writeNpyFloat32 } from "../../src/npy.js";
import { at, clone, lstmDenseSpec, type ModelSpec, tensor, writeSpec } from "../check/models.js";
import { isCleanError, REPO_ROOT, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ki-check-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string) => join(dir, name);

let spec: ModelSpec;
const X = [0, 1].map((s) => Array.from({ length: 5 }, (_, t) => [0.1 * t - 0.2 * s, Math.sin(t + s), 0.5 - 0.05 * t]));

beforeAll(async () => {
  spec = await lstmDenseSpec();
  writeFileSync(path("good.h5"), await writeSpec(spec));
  const nan = clone(spec);
  tensor(nan, "lstm_1", "recurrent_kernel").data[7] = NaN;
  writeFileSync(path("nan.h5"), await writeSpec(nan));
  const f = clone(spec);
  tensor(f, "lstm_1", "kernel").data[at(16, 2, 4 + 2)] += 0.5; // kernel_f[2, 2]
  writeFileSync(path("changed_f.h5"), await writeSpec(f));
  // The dataset of lstm_1's bias removed; weight_names still lists it (as h5py's `del f[...]` leaves the file).
  const noBias = clone(spec);
  tensor(noBias, "lstm_1", "bias").absent = true;
  writeFileSync(path("no_bias.h5"), await writeSpec(noBias));
  // An activation keras-inspect does not know: the model loads, but cannot be evaluated.
  const odd = clone(spec);
  odd.layers[0].config.config.activation = "my_custom_tanh";
  writeFileSync(path("odd_activation.h5"), await writeSpec(odd));
  // A truncated copy: a damaged upload.
  writeFileSync(path("trunc.h5"), readFileSync(path("good.h5")).subarray(0, 3000));
  writeFileSync(path("x.npy"), writeNpyFloat32([2, 5, 3], X.flat(2)));
  writeFileSync(path("y.json"), JSON.stringify([[0, 0], [0, 0]]));
});

const python = spawnSync("python3", ["--version"]).status === 0;

/** The JUnit file as python3's xml.etree reads it: suites with their counts, test cases with their error or failure. */
function parseJunit(file: string) {
  const py = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def case(c):
    e = c.find("error"); f = c.find("failure")
    return {"name": c.get("name"), "error": None if e is None else e.get("message"), "failure": None if f is None else f.get("message")}
print(json.dumps({"tests": int(root.get("tests")), "failures": int(root.get("failures")), "errors": int(root.get("errors")),
  "suites": [{"name": s.get("name"), "tests": int(s.get("tests")), "failures": int(s.get("failures")), "errors": int(s.get("errors")),
              "cases": [case(c) for c in s.findall("testcase")]} for s in root.findall("testsuite")]}))`;
  const r = spawnSync("python3", ["-c", py, file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 could not parse ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as {
    tests: number;
    failures: number;
    errors: number;
    suites: { name: string; tests: number; failures: number; errors: number; cases: { name: string; error: string | null; failure: string | null }[] }[];
  };
}

describe("check: exit 2 still leaves a report (JUnit error, JSON status error, ::error annotation)", () => {
  const cases: [string, () => string[], RegExp][] = [
    ["a truncated file", () => [path("trunc.h5")], /trunc\.h5: .*(damaged|truncated|past the end)/],
    ["a missing file", () => [path("nope.h5")], /nope\.h5: no such file/],
    ["a file that is not a model", () => [path("x.npy")], /not an HDF5 file or a \.keras zip/],
    ["a missing --expect file", () => [path("good.h5"), "--input-file", path("x.npy"), "--expect", path("missing.npy")], /missing\.npy: no such file/],
    ["an unknown activation", () => [path("odd_activation.h5"), "--input-file", path("x.npy"), "--expect", path("y.json")], /my_custom_tanh/],
    ["a bad option value", () => [path("good.h5"), "--atol", "abc"], /--atol must be a number, got 'abc'/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const junit = path(`junit-${what.replace(/\W+/g, "_")}.xml`);
      const r = runCli(["check", ...args(), "--junit", junit, "--json"], { env: { GITHUB_ACTIONS: "true" } });
      expect(r.status, r.stdout + r.stderr).toBe(2);
      // stdout: one JSON document saying what went wrong.
      const doc = JSON.parse(r.stdout);
      expect(doc.status).toBe("error");
      expect(doc.exitCode).toBe(2);
      expect(doc.message).toMatch(message);
      // stderr: the one error line, and (with --json) the annotation.
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines.filter((l) => l.startsWith("keras-inspect: "))).toEqual([`keras-inspect: ${doc.message}`]);
      const annotation = lines.find((l) => l.startsWith("::error "));
      expect(annotation).toMatch(/^::error file=.*,title=keras-inspect check%3A could not check it \(exit 2\)::/);
      expect(annotation).toContain(doc.message.replace(/%/g, "%25"));
      // The JUnit file: one errored test case carrying the message.
      const xml = readFileSync(junit, "utf8");
      expect(xml).toMatch(/<testsuites name="keras-inspect check" tests="1" failures="0" errors="1" skipped="0"/);
      if (python) {
        const j = parseJunit(junit);
        expect(j.suites).toHaveLength(1);
        expect(j.suites[0].cases).toEqual([{ name: "check", error: doc.message, failure: null }]);
      }
    });
  }

  it("without --json: the one error line alone on stderr, as before; the JUnit file is written", () => {
    const junit = path("trunc-text.xml");
    const r = runCli(["check", path("trunc.h5"), "--junit", junit]);
    expect(r.status).toBe(2);
    expect(isCleanError(r), r.stderr).toBe(true);
    expect(r.stdout).toBe("");
    expect(readFileSync(junit, "utf8")).toContain("<error message=");
  });

  it("a --junit path in a missing folder: the shared wording, not a raw code (issue 12)", () => {
    const r = runCli(["check", path("good.h5"), "--junit", path("no/such/dir/j.xml")]);
    expect(r.status).toBe(2);
    expect(isCleanError(r), r.stderr).toBe(true);
    expect(r.stderr).toMatch(/--junit .*j\.xml: no such directory$/m);
    expect(r.stderr).not.toContain("ENOENT");
    const isDir = runCli(["check", path("good.h5"), "--junit", dir]);
    expect(isDir.stderr).toMatch(/--junit .*: is a directory, not a file$/m);
  });
});

describe("check: a tensor listed in weight_names without its dataset", () => {
  it("fails the structure check (exit 1) naming the tensor and where it should be", () => {
    const junit = path("no-bias.xml");
    const r = runCli(["check", path("no_bias.h5"), "--junit", junit, "--input-file", path("x.npy")]);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^✗ structure\s+lstm_1 \(LSTM\): missing tensor 'bias' \[16\]: weight_names lists it at '\/model_weights\/lstm_1\/lstm_1\/bias:0', but there is no dataset there$/m);
    // The model cannot be evaluated without it: behaviour checks say why they did not run.
    expect(r.stdout).toMatch(/^– saturation\s+not run: the structure check failed/m);
    expect(readFileSync(junit, "utf8")).toMatch(/<failure message="lstm_1 \(LSTM\): missing tensor &apos;bias&apos;/);
  });

  it("every other command still refuses the file (the loader does not pretend the tensor is there)", () => {
    for (const args of [["summary"], ["weights"], ["predict", "--input-file", path("x.npy")]]) {
      const r = runCli([args[0], path("no_bias.h5"), ...args.slice(1)]);
      expect(r.status, `${args[0]}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/weight 'bias' should be at '\/model_weights\/lstm_1\/lstm_1\/bias:0', but there is no dataset there/);
    }
  });
});

describe("check --reference", () => {
  it("passes against an identical file, fails naming the gate on a changed one, and --reference-atol loosens it", () => {
    const same = runCli(["check", path("good.h5"), "--reference", path("good.h5")]);
    expect(same.status, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toMatch(/^✓ reference\s+2 layer\(s\), 5 tensor\(s\) identical to .*good\.h5$/m);

    const moved = runCli(["check", path("changed_f.h5"), "--reference", path("good.h5"), "--json"]);
    expect(moved.status).toBe(1);
    const doc = JSON.parse(moved.stdout);
    const ref = doc.checks.find((c: { id: string }) => c.id === "reference");
    expect(ref.status).toBe("fail");
    // kernel_f[2, 2] was moved by 0.5: gate f of lstm_1 and nothing else.
    expect(ref.problems).toEqual(["lstm_1 (LSTM) gate f: 1 value(s) changed, max |Δ| 5.00e-1 at kernel_f[2, 2]"]);
    expect(doc.results.reference.gates[0].gates.map((g: { gate: string; changed: boolean }) => [g.gate, g.changed])).toEqual([["i", false], ["f", true], ["c", false], ["o", false]]);

    const loose = runCli(["check", path("changed_f.h5"), "--reference", path("good.h5"), "--reference-atol", "0.6"]);
    expect(loose.status, loose.stdout).toBe(0);
    expect(loose.stdout).toMatch(/^✓ reference\s+2 layer\(s\), 5 tensor\(s\) within atol 0\.6 to /m);
  });

  // tflite-micro's MNIST LSTM and its int8 twin (Apache-2.0, in test/fixtures): every int8 value lies within half a
  // quantization step of the float32 file's (tolerance: diff's, 0.5 step plus float32 slack).
  it("an int8 export against its float32 model: passes within quantization (text, JSON, JUnit); --reference-exact fails it per gate", () => {
    const mnist = (file: string) => join(REPO_ROOT, "test/fixtures/exports/tflite_mnist_lstm_unpaired", file);
    const junit = path("quantized.xml");
    const r = runCli(["check", mnist("trained_lstm_int8.tflite"), "--reference", mnist("trained_lstm.tflite"), "--junit", junit]);
    expect(r.status, r.stdout).toBe(0);
    const line = /^✓ reference\s+1 layer\(s\), 3 tensor\(s\) within quantization of .*trained_lstm\.tflite: 3 tensor\(s\) within half a quantization step \(max \|Δ\| per gate: unidirectional_sequence_lstm_1 i 0\.[45]\d step, f 0\.[45]\d step, c 0\.[45]\d step, o 0\.[45]\d step\)/m;
    expect(r.stdout).toMatch(line);
    expect(readFileSync(junit, "utf8")).toMatch(/<testcase classname="keras-inspect.check" name="reference" time="0">\n {6}<system-out>1 layer\(s\), 3 tensor\(s\) within quantization of /);
    const doc = JSON.parse(runCli(["check", mnist("trained_lstm_int8.tflite"), "--reference", mnist("trained_lstm.tflite"), "--json"]).stdout);
    expect([doc.results.reference.verdict, doc.results.reference.exact]).toEqual(["within-quantization", false]);
    expect(doc.results.reference.gates[0].gates.map((g: { gate: string; status: string }) => [g.gate, g.status])).toEqual(["i", "f", "c", "o"].map((g) => [g, "within-quantization"]));
    const exact = runCli(["check", mnist("trained_lstm_int8.tflite"), "--reference", mnist("trained_lstm.tflite"), "--reference-exact", "--json"]);
    expect(exact.status).toBe(1);
    const ref = JSON.parse(exact.stdout).checks.find((c: { id: string }) => c.id === "reference");
    expect(ref.detail).toMatch(/^1 of 1 layer\(s\) differ from .* \(\|Δ\| > 0; --reference-exact: quantized values too\): /);
    expect(ref.problems).toHaveLength(4);
    expect(ref.problems[0]).toMatch(/^unidirectional_sequence_lstm_1 \(LSTM\) gate i: \d+ value\(s\) changed, max \|Δ\| = 0\.[45]\d step at kernel_i\[\d+, \d+\]$/);
  });

  // DTLN (MIT, in test/fixtures/exports): the Keras model has four LSTMs; its first stage's ONNX export holds
  // lstm and lstm_1 as ONNX LSTM ops, its int8 TFLite export the same two unrolled (no RNN op: located).
  it("--reference-partial: one stage of a model exported in pieces passes on the layers it holds, naming those it lacks", () => {
    const dtln = (file: string) => join(REPO_ROOT, "test/fixtures/exports/dtln_keras_onnx_tflite_pair", file);
    const reference = dtln("model.h5");
    for (const stage of [dtln("model_1.onnx"), dtln("model_quant_1.tflite")]) {
      const whole = runCli(["check", stage, "--reference", reference, "--json"]);
      expect(whole.status, stage).toBe(1);
      const r = runCli(["check", stage, "--reference", reference, "--reference-partial", "--json"]);
      expect(r.status, `${stage}: ${r.stdout}`).toBe(0);
      const ref = JSON.parse(r.stdout).checks.find((c: { id: string }) => c.id === "reference");
      expect(ref.status).toBe("pass");
      expect(ref.detail).toMatch(/lstm_2, lstm_3/);
    }
    // The ONNX stage's text: both layers compared (equal), the two it lacks in the warning.
    const text = runCli(["check", dtln("model_1.onnx"), "--reference", reference, "--reference-partial"]);
    expect(text.stdout).toMatch(/^✓ reference\s+2 layer\(s\), 6 tensor\(s\) identical to .*model\.h5; warning: .*B is compared as part of A: A's layers not in B are not compared: lstm_2, lstm_3/m);
    // Without --reference it has nothing to apply to: exit 2, one line.
    const alone = runCli(["check", path("good.h5"), "--reference-partial"]);
    expect(alone.status).toBe(2);
    expect(isCleanError(alone)).toBe(true);
    expect(alone.stderr).toMatch(/--reference-partial says how to compare with --reference GOOD, which is not given/);
  });

  it("--reference-partial fails a file that holds none of the reference's layers: nothing was compared", async () => {
    // Layers are matched by name, then by order, so only a file without weighted layers holds none; made in-process.
    const reference = await loadModel(path("good.h5"));
    const empty = { ...(await loadModel(path("good.h5"))), layers: [] };
    const c = referenceCheck(empty, reference, "good.h5", { atol: 0, partial: true });
    expect([c.status, c.detail]).toEqual([
      "fail",
      "none of the layers of good.h5 is in this file, so nothing was compared (--reference-partial); warning: B is compared as part of A: A's layers not in B are not compared: lstm_1, dense_1",
    ]);
    expect(referenceCheck(reference, reference, "good.h5", { atol: 0, partial: true }).status).toBe("pass");
  });

  it("a reference that cannot be read is exit 2, named as the reference", () => {
    const r = runCli(["check", path("good.h5"), "--reference", path("gone.h5"), "--json"]);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).message).toMatch(/^--reference .*gone\.h5: no such file$/);
  });
});

describe("check on several files", () => {
  const files = () => [path("good.h5"), path("nan.h5"), path("trunc.h5"), path("changed_f.h5")];

  it("one JUnit report with a test suite per file, one JSON document, the worst exit code", () => {
    const junit = path("many.xml");
    const r = runCli(["check", ...files(), "--junit", junit, "--json", "--reference", path("good.h5")]);
    expect(r.status, r.stderr).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.files.map((f: { file: string; status: string }) => [f.file, f.status])).toEqual([
      [path("good.h5"), "pass"],
      [path("nan.h5"), "fail"],
      [path("trunc.h5"), "error"],
      [path("changed_f.h5"), "fail"],
    ]);
    expect([doc.counts, doc.verdict, doc.exitCode]).toEqual([{ pass: 1, fail: 2, error: 1 }, "error", 2]);
    // The damaged file is one line on stderr; the others are in the report.
    expect(r.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/^keras-inspect: .*trunc\.h5: /)]);
    const xml = readFileSync(junit, "utf8");
    expect(xml.match(/<testsuite /g)).toHaveLength(4);
    if (python) {
      const j = parseJunit(junit);
      expect(j.suites.map((s) => [s.name, s.failures, s.errors])).toEqual([
        [`keras-inspect check ${path("good.h5")}`, 0, 0],
        [`keras-inspect check ${path("nan.h5")}`, 2, 0], // finite, and reference: the NaN differs from good.h5
        [`keras-inspect check ${path("trunc.h5")}`, 0, 1],
        [`keras-inspect check ${path("changed_f.h5")}`, 1, 0],
      ]);
      expect([j.tests, j.failures, j.errors]).toEqual([j.suites.reduce((a, s) => a + s.tests, 0), 3, 1]);
    }
  });

  it("the same report whether the files are checked on one thread or several; without errors, exit 1 when one fails", () => {
    const args = ["check", path("good.h5"), path("nan.h5"), path("changed_f.h5"), "--input-file", path("x.npy")];
    const parallel = runCli([...args, "--jobs", "3"]);
    const serial = runCli([...args, "--jobs", "1"]);
    expect(parallel.status).toBe(1);
    expect(serial.status).toBe(1);
    expect(parallel.stdout).toBe(serial.stdout);
    expect(parallel.stdout.trimEnd().split("\n").pop()).toBe("FAIL: 3 file(s): 2 passed, 1 failed, 0 could not be checked (exit 1)");
    expect(runCli(["check", path("good.h5"), path("changed_f.h5")]).status).toBe(0);
  });

  it("text: each file in turn, a file that could not be checked as an ERROR line under its name", () => {
    const r = runCli(["check", path("good.h5"), path("nope.h5")]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain(`\n${path("nope.h5")}\nERROR: could not check it (exit 2): no such file\n`);
    expect(r.stderr).toBe(`keras-inspect: ${path("nope.h5")}: no such file\n`);
  });

  it("standard input cannot feed several models", () => {
    const r = runCli(["check", path("good.h5"), path("nan.h5"), "--input-file", "-"], { input: "1,2,3" });
    expect(r.status).toBe(2);
    expect(isCleanError(r), r.stderr).toBe(true);
    expect(r.stderr).toMatch(/--input-file - \(standard input\) can be read for one model only/);
  });
});

describe("check --expect NAME=FILE (outputs named as predict names them)", () => {
  const MULTI = join(REPO_ROOT, "test/fixtures/real/k2_lstm_multi_io_states_full.h5");
  const shapes: Record<string, number[]> = { input_1: [17, 4], input_2: [1, 10], input_3: [5, 4], input_4: [12], input_5: [12] };

  it("compares the named outputs only; a wrong name is exit 2 listing the outputs", () => {
    const inputs = Object.entries(shapes).flatMap(([name, shape]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const f = path(`${name}.npy`);
      writeFileSync(f, writeNpyFloat32([2, ...shape], Array.from({ length: 2 * n }, (_, k) => Math.sin(k * 0.37 + name.length))));
      return ["--input-file", `${name}=${f}`];
    });
    const pred = runCli(["predict", MULTI, ...inputs, "--json"]);
    expect(pred.status, pred.stderr).toBe(0);
    const outputs = JSON.parse(pred.stdout).outputs as { name: string; shape: number[]; values: number[] }[];
    const save = (name: string) => {
      const o = outputs.find((x) => x.name === name)!;
      const f = path(`${name.replace(":", "_")}.npy`);
      writeFileSync(f, writeNpyFloat32(o.shape, o.values));
      return f;
    };
    const [h, c] = [save("lstm_3:1"), save("lstm_3:2")];
    const ok = runCli(["check", MULTI, ...inputs, "--expect", `lstm_3:1=${h}`, "--expect", `lstm_3:2=${c}`]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^✓ expect\s+\d+ value\(s\) of lstm_3:1, lstm_3:2 match /m);
    // h where c is expected: the check fails and names the output.
    const swapped = runCli(["check", MULTI, ...inputs, "--expect", `lstm_3:2=${h}`]);
    expect(swapped.status).toBe(1);
    expect(swapped.stdout).toMatch(/^✗ expect\s+worst lstm_3:2\[/m);
    const wrong = runCli(["check", MULTI, ...inputs, "--expect", `lstm_99=${h}`]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/--expect lstm_99=.*: the model has no output 'lstm_99'; its outputs: .*lstm_3, lstm_3:1, lstm_3:2/);
  });
});
