// `keras-inspect check` through the real executable, as a CI job runs it: exit 0 pass,
// 1 a check failed, 2 the tool could not run; text, --json, --junit, GitHub annotations.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFloat32 } from "../../src/npy.js";
import { at, clone, lstmDenseSpec, type ModelSpec, tensor, writeSpec } from "../check/models.js";
import { isCleanError, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ki-check-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let good: string;
let withNaN: string;
let changedF: string;
let spec: ModelSpec;

const X = [0, 1].map((s) => Array.from({ length: 5 }, (_, t) => [0.1 * t - 0.2 * s, Math.sin(t + s), 0.5 - 0.05 * t]));

beforeAll(async () => {
  spec = await lstmDenseSpec();
  good = join(dir, "model.h5");
  writeFileSync(good, await writeSpec(spec));
  const nan = clone(spec);
  tensor(nan, "lstm_1", "recurrent_kernel").data[7] = NaN;
  withNaN = join(dir, "nan.h5");
  writeFileSync(withNaN, await writeSpec(nan));
  const f = clone(spec);
  tensor(f, "lstm_1", "kernel").data[at(16, 2, 4 + 2)] += 0.5; // kernel_f[2, 2]
  changedF = join(dir, "changed_f.h5");
  writeFileSync(changedF, await writeSpec(f));
  writeFileSync(join(dir, "x.npy"), writeNpyFloat32([2, 5, 3], X.flat(2)));
});

describe("check: pass and fail", () => {
  it("a sound model passes: exit 0, one line per check, PASS", () => {
    const r = runCli(["check", "samples/stacked-lstm-dense.h5"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("samples/stacked-lstm-dense.h5 (Keras HDF5 model, Keras 2.2.4)");
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/).slice(0, 2).join(" "))).toEqual(["✓ structure", "✓ dtypes", "✓ finite", "✓ plausible"]);
    expect(lines[5]).toBe("PASS: 4 of 4 check(s) passed");
  });

  it("a NaN in one tensor: exit 1, the finite check names the tensor and the count", () => {
    const r = runCli(["check", withNaN]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^✗ finite\s+lstm_1\/recurrent_kernel has 1 NaN \(of 64 values\)$/m);
    expect(r.stdout).toMatch(/^✓ structure/m);
    expect(r.stdout.trimEnd().split("\n").pop()).toBe("FAIL: 1 of 4 check(s) failed: finite");
  });

  it("--json: one document with checks, results and verdict", () => {
    const r = runCli(["check", withNaN, "--json", "--max-abs", "10"]);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.verdict).toBe("fail");
    expect(doc.checks.map((c: { id: string; status: string }) => [c.id, c.status])).toEqual([
      ["structure", "pass"],
      ["dtypes", "pass"],
      ["finite", "fail"],
      ["plausible", "pass"],
      ["max-abs", "pass"],
    ]);
    expect(doc.results.finite.tensors).toEqual([{ tensor: "lstm_1/recurrent_kernel", nan: 1, inf: 0, count: 64 }]);
    expect(doc.counts).toEqual({ pass: 4, fail: 1, warn: 0, info: 0, skip: 0 });
  });

  it("contracts: --require-layer and --keras-version", () => {
    const ok = runCli(["check", good, "--require-layer", "LSTM:4", "--require-layer", "Dense", "--keras-version", ">=2.2 <2.3"]);
    expect(ok.status).toBe(0);
    const bad = runCli(["check", good, "--require-layer", "GRU", "--keras-version", "3.x"]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^✗ require GRU\s+no GRU layer; the model's layer classes: LSTM, Dense$/m);
    expect(bad.stdout).toMatch(/^✗ keras version\s+written by Keras 2\.2\.4, outside '3\.x'$/m);
  });
});

describe("check --junit and GitHub annotations", () => {
  it("writes JUnit XML whose counts agree with the checks run", () => {
    const file = join(dir, "junit.xml");
    const r = runCli(["check", withNaN, "--junit", file, "--input-file", join(dir, "x.npy")]);
    expect(r.status).toBe(1);
    const xml = readFileSync(file, "utf8");
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="keras-inspect check" tests="5" failures="1" errors="0" skipped="0"/);
    if (spawnSync("python3", ["--version"]).status === 0) {
      const py = spawnSync(
        "python3",
        ["-c", "import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); s=r.find('testsuite'); print(r.get('tests'), r.get('failures'), len(s.findall('testcase')), len(s.findall('testcase/failure')))", file],
        { encoding: "utf8" },
      );
      expect(py.stdout.trim()).toBe("5 1 5 1");
    }
  });

  it("GITHUB_ACTIONS=true adds one ::error annotation per failed check", () => {
    const r = runCli(["check", withNaN], { env: { GITHUB_ACTIONS: "true" } });
    expect(r.status).toBe(1);
    const annotations = r.stdout.split("\n").filter((l) => l.startsWith("::error"));
    expect(annotations).toEqual([`::error file=${withNaN},title=keras-inspect check%3A finite::lstm_1/recurrent_kernel has 1 NaN (of 64 values)`]);
    // With --json, stdout stays one JSON document; the annotations go to stderr.
    const j = runCli(["check", withNaN, "--json"], { env: { GITHUB_ACTIONS: "true" } });
    expect(JSON.parse(j.stdout).verdict).toBe("fail");
    expect(j.stderr).toContain("::error file=");
    // Outside GitHub Actions, no annotations.
    expect(runCli(["check", withNaN], { env: { GITHUB_ACTIONS: "" } }).stdout).not.toContain("::error");
  });
});

describe("check --golden and --expect through the executable", () => {
  it("a golden saved with `step --json` passes on the same model and names gate f on a changed copy", () => {
    const step = runCli(["step", good, "--input-file", join(dir, "x.npy"), "--json"]);
    expect(step.status).toBe(0);
    const golden = join(dir, "golden.json");
    writeFileSync(golden, step.stdout);
    const same = runCli(["check", good, "--golden", golden]);
    expect(same.status, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toMatch(/^✓ golden\s+lstm_1: all \d+ intermediate value\(s\) of 2 sample\(s\) × 5 step\(s\) match/m);
    const moved = runCli(["check", changedF, "--golden", golden, "--input-file", join(dir, "x.npy")]);
    expect(moved.status).toBe(1);
    expect(moved.stdout).toMatch(/^✗ golden\s+lstm_1: first moved x_f \(gate f \(forget\)\) at step 1 \(t=0\), sample 1, unit 2: /m);
  });

  it("--expect passes on tfjs' predict of the same weights and fails on a nudged copy", async () => {
    tf.env().set("PROD", true);
    await tf.setBackend("cpu");
    const model = tf.sequential({
      layers: [
        tf.layers.lstm({ units: 4, inputShape: [5, 3], recurrentActivation: "sigmoid", unitForgetBias: false }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    const t = (layer: string, role: string) => tf.tensor(tensor(spec, layer, role).data, tensor(spec, layer, role).shape);
    model.layers[0].setWeights([t("lstm_1", "kernel"), t("lstm_1", "recurrent_kernel"), t("lstm_1", "bias")]);
    model.layers[1].setWeights([t("dense_1", "kernel"), t("dense_1", "bias")]);
    const y = (model.predict(tf.tensor3d(X)) as tf.Tensor).arraySync() as number[][];
    model.dispose();
    writeFileSync(join(dir, "y.npy"), writeNpyFloat32([2, 2], y.flat()));
    writeFileSync(join(dir, "y_nudged.json"), JSON.stringify(y.map((row, s) => row.map((v, j) => (s === 0 && j === 1 ? v + 1e-3 : v)))));

    const ok = runCli(["check", good, "--input-file", join(dir, "x.npy"), "--expect", join(dir, "y.npy")]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^✓ expect\s+4 value\(s\) of dense_1 match .*y\.npy within atol 1e-5, rtol 1e-5/m);
    const bad = runCli(["check", good, "--input-file", join(dir, "x.npy"), "--expect", join(dir, "y_nudged.json")]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^✗ expect\s+worst dense_1\[0, 1\]: ours /m);
  });
});

describe("check: bad input is one line and exit 2, never 1", () => {
  const cases: [string, () => string[], RegExp][] = [
    ["a missing file", () => ["check", join(dir, "nope.h5")], /nope\.h5: no such file/],
    ["a directory", () => ["check", dir], /is a directory/],
    ["a file that is not a model", () => ["check", join(dir, "x.npy")], /not an HDF5 file or a \.keras zip/],
    ["--atol that is not a number", () => ["check", good, "--atol", "abc"], /--atol must be a number, got 'abc'/],
    ["a negative --rtol", () => ["check", good, "--rtol", "-1"], /--rtol must be ≥ 0/],
    ["--max-abs 0", () => ["check", good, "--max-abs", "0"], /--max-abs must be > 0/],
    ["an unreadable --keras-version", () => ["check", good, "--keras-version", ">=two"], /--keras-version '>=two': cannot read/],
    ["--require-layer with bad units", () => ["check", good, "--require-layer", "LSTM:x"], /units must be a positive whole number/],
    ["a missing --golden file", () => ["check", good, "--golden", join(dir, "missing.json")], /--golden .*missing\.json: no such file$/m],
    ["a --golden that is not a trace", () => ["check", good, "--golden", join(dir, "x.npy")], /not valid JSON/],
    ["--expect without --input", () => ["check", good, "--expect", join(dir, "x.npy")], /--expect needs the input/],
    ["--expect of the wrong shape", () => ["check", good, "--input-file", join(dir, "x.npy"), "--expect", join(dir, "x.npy")], /--expect .*x\.npy has shape \(2, 5, 3\), but the model's output 'dense_1' for this input has shape \(2, 2\)/],
    ["an input of the wrong length", () => ["check", good, "--input", "1,2,3;4,5,6"], /the model expects 5 time steps per sample, but the input has 2/],
    ["a --junit path that cannot be written", () => ["check", good, "--junit", join(dir, "no/such/dir/j.xml")], /--junit .*j\.xml: no such directory$/m],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = runCli(args());
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(isCleanError(r), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    });
  }
});
