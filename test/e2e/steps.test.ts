/**
 * --steps: which processing steps step (tables, JSON, heatmap, HTML) and explain show, as
 * a Python index or slice counted from 0. The selection rules are Python's
 * (`list(range(n))[spec]`): checked against python3 itself when it is here, and against
 * expectations written from Python's rules always. A bad spec is one line and exit 2.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSteps, selectSteps } from "../../src/cli/options.js";
import { isCleanError, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ki-steps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const select = (spec: string, n: number) => selectSteps(parseSteps(spec), n);

/** Written from Python: list(range(10))[spec]. */
const TEN: [string, number[]][] = [
  ["3", [3]],
  ["-1", [9]],
  ["-10", [0]],
  ["+2", [2]],
  ["0:3", [0, 1, 2]],
  ["-5:", [5, 6, 7, 8, 9]],
  [":2", [0, 1]],
  [":", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ["::3", [0, 3, 6, 9]],
  ["8:100", [8, 9]],
  ["-100:2", [0, 1]],
  ["::-1", [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
  ["5:1:-2", [5, 3]],
  ["-1:-4:-1", [9, 8, 7]],
  ["100::-3", [9, 6, 3, 0]],
  [" 1:3 ", [1, 2]],
];

describe("--steps selects as Python slices do", () => {
  it.each(TEN)("range(10)[%s]", (spec, expected) => {
    expect(select(spec, 10)).toEqual(expected);
  });

  it("agrees with python3 on every slice of small ranges", () => {
    const python = ["python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "pass"]).status === 0);
    if (!python) {
      console.warn("note: no python3; the slice rules were checked against the written expectations only");
      return;
    }
    const parts = ["", "0", "1", "2", "-1", "-2", "-7", "7", "-3", "3"];
    const steps = ["", "1", "2", "-1", "-2", "3"];
    const specs = parts.flatMap((a) => parts.flatMap((b) => steps.map((c) => `${a}:${b}${c ? `:${c}` : ""}`)));
    const ns = [1, 2, 5, 7];
    const script = `import json, sys\nspecs, ns = json.load(sys.stdin)\nout = []\nfor n in ns:\n  for s in specs:\n    a, b, *c = [int(p) if p else None for p in s.split(":")]\n    out.append(list(range(n))[slice(a, b, c[0] if c else None)])\nprint(json.dumps(out))`;
    const r = spawnSync(python, ["-c", script], { input: JSON.stringify([specs, ns]), encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const expected: number[][] = JSON.parse(r.stdout);
    let k = 0;
    for (const n of ns) {
      for (const spec of specs) {
        const want = expected[k++];
        if (want.length === 0) expect(() => select(spec, n), `${spec} of ${n}`).toThrow(/selects no step/);
        else expect(select(spec, n), `${spec} of ${n}`).toEqual(want);
      }
    }
  });

  it.each([
    ["10", 10, "--steps 10 is out of range: the input has 10 step(s); its steps are 0 to 9 (or -10 to -1)"],
    ["-11", 10, "--steps -11 is out of range: the input has 10 step(s); its steps are 0 to 9 (or -10 to -1)"],
    ["1", 1, "--steps 1 is out of range: the input has 1 step(s); its only step is 0 (or -1)"],
    ["5:2", 10, "--steps 5:2 selects no step: the input has 10 step(s); its steps are 0 to 9 (or -10 to -1)"],
    ["20:", 10, "--steps 20: selects no step: the input has 10 step(s); its steps are 0 to 9 (or -10 to -1)"],
    ["0:5:0", 10, "--steps 0:5:0: a slice's step cannot be zero"],
    ["last", 10, "--steps takes an index or a slice START:STOP[:STEP] counted from 0 as Python counts (3, -1, 0:10, -5:, ::2), got 'last'"],
    ["1.5", 10, "--steps takes an index or a slice START:STOP[:STEP] counted from 0 as Python counts (3, -1, 0:10, -5:, ::2), got '1.5'"],
    ["1:2:3:4", 10, "--steps takes an index or a slice START:STOP[:STEP] counted from 0 as Python counts (3, -1, 0:10, -5:, ::2), got '1:2:3:4'"],
    ["", 10, "--steps takes an index or a slice START:STOP[:STEP] counted from 0 as Python counts (3, -1, 0:10, -5:, ::2), got ''"],
  ])("%j of %i steps: %s", (spec, n, message) => {
    expect(() => select(spec, n)).toThrow(message);
  });
});

const GRU = "samples/gru.h5";
const INPUT = "1,2;3,4;-1,0.5;0,0;2,-2;1,1";

describe("step --steps", () => {
  it("tables: only the chosen steps, numbered as in the whole sequence", () => {
    const r = runCli(["step", GRU, "--input", INPUT, "--steps", "-2:"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("step "))).toEqual(["step 5 of 6 (t=4), x = [2, -2]", "step 6 of 6 (t=5), x = [1, 1]"]);
    // The tables are those of the full run.
    const all = runCli(["step", GRU, "--input", INPUT]).stdout;
    expect(all).toContain(r.stdout.slice(r.stdout.indexOf("step 5 of 6"), r.stdout.indexOf("output (")));
    // The layer's output is the whole output still.
    expect(r.stdout.slice(r.stdout.indexOf("output ("))).toBe(all.slice(all.indexOf("output (")));
  });

  it("--json: the chosen steps, each with its time index", () => {
    const r = runCli(["step", GRU, "--input", INPUT, "--steps", "::2", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const steps = JSON.parse(r.stdout).directions[0].samples[0];
    expect(steps.map((s: { t: number }) => s.t)).toEqual([0, 2, 4]);
    const all = JSON.parse(runCli(["step", GRU, "--input", INPUT, "--json"]).stdout).directions[0].samples[0];
    expect(steps).toEqual([all[0], all[2], all[4]]);
  });

  it("--heatmap: a column per chosen step, labelled with its number", () => {
    const r = runCli(["step", GRU, "--input", INPUT, "--steps", "2:5", "--heatmap", "--unit", "0"], { env: { COLUMNS: "80" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("gru_1 (GRU): 1 unit(s) × 3 of 6 step(s)");
    expect(r.stdout).toMatch(/^step +3 +4 +5$/m);
  });

  it("--html: charts and tables of the chosen steps, the last of them explained", () => {
    const page = join(dir, "steps.html");
    const r = runCli(["step", GRU, "--input", INPUT, "--steps", "1:3", "--html", page]);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(page, "utf8");
    expect([...html.matchAll(/<table class="step"[^>]* data-step="(\d+)"/g)].map((m) => m[1])).toEqual(["2", "3"]);
    expect(new Set([...html.matchAll(/<circle class="point"[^>]* data-step="(\d+)"/g)].map((m) => m[1]))).toEqual(new Set(["2", "3"]));
    expect(html).toContain("The numbers: step 3 of 6");
  });

  it.each([
    [["--steps", "6"], /^keras-inspect: --steps 6 is out of range: the input has 6 step\(s\); its steps are 0 to 5 \(or -6 to -1\)$/],
    [["--steps", "4:1"], /^keras-inspect: --steps 4:1 selects no step/],
    [["--steps", "x:"], /^keras-inspect: --steps takes an index or a slice/],
    [["--steps", "::0", "--json"], /^keras-inspect: --steps ::0: a slice's step cannot be zero$/],
  ])("%j: one line, exit 2, nothing on stdout", (args, message) => {
    const r = runCli(["step", GRU, "--input", INPUT, ...args]);
    expect(r.status).toBe(2);
    expect(isCleanError(r), r.stderr).toBe(true);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stdout).toBe("");
  });
});
