// What check reports beyond pass/fail: gate saturation (information only), the JUnit XML
// file (parsed with a real XML parser: python3's xml.etree, skipped where python3 is
// absent) and GitHub Actions annotations.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runChecks } from "../../src/check/index.js";
import { type Check, makeReport } from "../../src/check/types.js";
import { loadModel } from "../../src/load/index.js";
import { githubAnnotations } from "../../src/present/check.js";
import { junitXml } from "../../src/present/junit.js";
import { loadRnnModel } from "../support/rnn-model-file.js";
import { clone, loadSpec, lstmDenseSpec, tensor } from "./models.js";

describe("saturation", () => {
  it("on the seed example: o = 0.999361 is above 0.99, i = 0.100332 and f = 0.037222 are not (seed table)", async () => {
    const model = await loadModel("samples/seed-lstm.h5");
    const report = runChecks(model, { inputs: [{ shape: [1, 1, 2], data: Float64Array.of(1, 10) }] });
    const c = report.checks.find((k) => k.id === "saturation")!;
    expect(c.status).toBe("info");
    expect(c.detail).toBe("share of (step, unit) with gate < 0.01 or > 0.99 for this input: lstm_1: i 0.0%, f 0.0%, o 100.0%");
    expect(report.verdict).toBe("pass"); // information never fails the run
  });

  it("without an input it is not listed; masked steps are not counted", async () => {
    const model = await loadModel("samples/seed-lstm.h5");
    expect(runChecks(model).checks.map((k) => k.id)).toEqual(["structure", "dtypes", "finite", "plausible"]);
    const spec = {
      kind: "lstm" as const,
      units: 2,
      inputDim: 2,
      activation: "tanh",
      recurrentActivation: "sigmoid",
      useBias: true,
      kernel: new Float32Array(16).fill(0.1),
      recurrentKernel: new Float32Array(16).fill(0.1),
      bias: new Float32Array(8),
    };
    const { model: masked } = await loadRnnModel(spec, { masking: true });
    // Step 2 of 3 is all zeros: masked. 2 real steps × 2 units = 4 (step, unit) pairs per gate.
    const r = runChecks(masked, { inputs: [{ shape: [1, 3, 2], data: Float64Array.from([1, 2, 0, 0, 3, -1]) }] });
    const data = r.checks.find((k) => k.id === "saturation")!.data as { layers: { gates: { gate: string; count: number }[] }[] };
    expect(data.layers[0].gates.map((g) => [g.gate, g.count])).toEqual([["i", 4], ["f", 4], ["o", 4]]);
  });

  it("names each direction of a Bidirectional layer", async () => {
    const model = await loadModel("samples/bidirectional-lstm.h5");
    const r = runChecks(model, { inputs: [{ shape: [1, 4, 2], data: Float64Array.from([1, 0, 0, 1, -1, 2, 0.5, 0.5]) }] });
    expect(r.checks.find((k) => k.id === "saturation")!.detail).toMatch(/bidirectional_1\/forward_lstm_4: i [\d.]+%, f [\d.]+%, o [\d.]+%; bidirectional_1\/backward_lstm_4 \(backward\): i/);
  });
});

const PY_PARSE = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
cases = []
for c in suite.findall("testcase"):
    f = c.find("failure"); s = c.find("skipped"); o = c.find("system-out")
    cases.append({"name": c.get("name"), "failure": None if f is None else f.get("message"), "failureText": None if f is None else f.text,
                  "skipped": s is not None, "out": None if o is None else o.text})
print(json.dumps({"root": root.tag, "tests": int(root.get("tests")), "failures": int(root.get("failures")), "skipped": int(root.get("skipped")),
                  "errors": int(root.get("errors")), "suiteTests": int(suite.get("tests")), "suiteFailures": int(suite.get("failures")), "cases": cases}))
`;

const python = spawnSync("python3", ["--version"]).status === 0;

function parseJunit(xml: string) {
  const dir = mkdtempSync(join(tmpdir(), "ki-junit-"));
  const file = join(dir, "report.xml");
  writeFileSync(file, xml);
  const r = spawnSync("python3", ["-c", PY_PARSE, file], { encoding: "utf8" });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`python3 could not parse the JUnit file: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(!python)("JUnit XML (parsed by python3's xml.etree)", () => {
  it("has one testcase per check and counts that agree with the checks run", async () => {
    const spec = clone(await lstmDenseSpec());
    tensor(spec, "lstm_1", "kernel").data[0] = NaN;
    const model = await loadSpec(spec);
    const report = runChecks(model, { inputs: [{ shape: [1, 5, 3], data: new Float64Array(15).fill(0.2) }], maxAbs: 0.45 });
    const j = parseJunit(junitXml(report));
    expect(j.root).toBe("testsuites");
    expect(j.tests).toBe(report.checks.length);
    expect(j.failures).toBe(report.checks.filter((c) => c.status === "fail").length);
    expect(j.skipped).toBe(report.checks.filter((c) => c.status === "skip").length);
    expect([j.suiteTests, j.suiteFailures, j.errors]).toEqual([j.tests, j.failures, 0]);
    expect(j.cases.map((c: { name: string }) => c.name)).toEqual(report.checks.map((c) => c.name));
    const finite = j.cases.find((c: { name: string }) => c.name === "finite");
    expect(finite.failure).toBe("lstm_1/kernel has 1 NaN (of 48 values)");
    const saturation = j.cases.find((c: { name: string }) => c.name === "saturation");
    expect(saturation.failure).toBeNull();
    expect(saturation.out).toContain("lstm_1: i");
  });

  it("escapes what XML cannot hold as is, and the text comes back unchanged", () => {
    const nasty = `layer 'a<b>&"c"' \u0007bell\nsecond line`;
    const checks: Check[] = [
      { id: "structure", name: "structure <&>", status: "fail", detail: nasty, problems: [nasty, "another"] },
      { id: "golden", name: "golden", status: "skip", detail: "not run: <reason>" },
      { id: "finite", name: "finite", status: "pass", detail: "ok & fine" },
    ];
    const j = parseJunit(junitXml(makeReport("dir/a&b.h5", "keras-h5", "2.2.4", checks)));
    expect([j.tests, j.failures, j.skipped]).toEqual([3, 1, 1]);
    expect(j.cases[0].name).toBe("structure <&>");
    expect(j.cases[0].failure).toBe(`layer 'a<b>&"c"' bell\nsecond line`); // the BEL control character is not allowed in XML 1.0
    expect(j.cases[0].failureText).toContain("- another");
    expect(j.cases[1].skipped).toBe(true);
    expect(j.cases[2].out).toBe("ok & fine");
  });
});

describe("GitHub Actions annotations", () => {
  it("one ::error per failed check, with the workflow-command escapes", () => {
    const checks: Check[] = [
      { id: "finite", name: "finite", status: "fail", detail: "lstm_1/kernel has 1 NaN (50% of 2 values)\nmore" },
      { id: "structure", name: "structure", status: "pass", detail: "fine" },
    ];
    expect(githubAnnotations(makeReport("models/a,b:c.h5", "keras-h5", null, checks))).toEqual([
      "::error file=models/a%2Cb%3Ac.h5,title=keras-inspect check%3A finite::lstm_1/kernel has 1 NaN (50%25 of 2 values)\\x0amore",
    ]);
  });
});
