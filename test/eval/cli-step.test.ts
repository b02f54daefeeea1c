/**
 * `step` end to end through the real executable (bin/keras-inspect.js -> dist/; built
 * here first when dist/ is missing or older than src/).
 *
 * The seed table: the notebook's values for input [1, 10] were computed in float64,
 * so `--dtype float64` must print them digit for digit; in the default float32 mode
 * x_f = -3.2529106 and x_o = 7.3547316 round to -3.252911 and 7.354732 (see
 * seed-lstm.test.ts), everything else prints the same.
 *
 * Bad inputs (issue 4): each gives exactly one stderr line starting "keras-inspect: ",
 * no stack trace, exit 2, nothing on stdout. NaN in the input is evaluated, with one
 * warning line.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { isCleanError, REPO_ROOT, runCli, type CliResult } from "../support/cli.js";
import { writer } from "../support/rnn-model-file.js";

const SEED = "samples/seed-lstm.h5";
let dir: string;

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "keras-inspect-step-"));
  const dist = join(REPO_ROOT, "dist/cli/main.js");
  if (!existsSync(dist) || newestMtime(join(REPO_ROOT, "src")) > newestMtime(join(REPO_ROOT, "dist"))) {
    // npm run build; type errors elsewhere still emit JavaScript, so only a missing dist/ is fatal.
    spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: "ignore", timeout: 300_000 });
  }
  expect(existsSync(dist), "dist/ is built").toBe(true);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The table row of `unit` under its header, as { column: printed value }. */
function tableRow(stdout: string, unit = "0"): Record<string, string> {
  const lines = stdout.split("\n").filter((l) => l.startsWith("│"));
  const cells = (l: string) => l.split("│").slice(1, -1).map((c) => c.trim());
  const head = cells(lines.find((l) => cells(l)[0] === "unit")!);
  const row = cells(lines.find((l) => cells(l)[0] === unit)!);
  return Object.fromEntries(head.map((h, k) => [h, row[k]]));
}

const SEED_F64 = { x_i: "-2.193540", x_f: "-3.252910", x_c: "10.566496", x_o: "7.354731", i: "0.100332", f: "0.037222", c: "0.100332", o: "0.999361", h: "0.099933" };

describe("step on the seed LSTM, through the executable", () => {
  it("--dtype float64 prints the seed table digit for digit", () => {
    const r = runCli(["step", SEED, "--input", "1,10", "--dtype", "float64"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(tableRow(r.stdout)).toEqual({ unit: "0", ...SEED_F64 });
  });

  it("float32 (the default) prints the same except x_f -3.252911 and x_o 7.354732", () => {
    const r = runCli(["step", SEED, "--input", "1,10"]);
    expect(r.status).toBe(0);
    expect(tableRow(r.stdout)).toEqual({ unit: "0", ...SEED_F64, x_f: "-3.252911", x_o: "7.354732" });
  });

  it("--json: layer, class, dtype, directions[].samples[][] with exactly the columns plus t, x, masked; outputs", () => {
    const r = runCli(["step", SEED, "--input", "1,10", "--json", "--dtype", "float64"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ layer: "lstm_1", class: "LSTM", dtype: "float64" });
    expect(Array.isArray(doc.directions)).toBe(true);
    expect(doc.directions).toHaveLength(1);
    const samples = doc.directions[0].samples;
    expect(samples).toHaveLength(1);
    expect(samples[0]).toHaveLength(1);
    const step = samples[0][0];
    const columns = ["x_i", "x_f", "x_c", "x_o", "i", "f", "c", "o", "h"];
    expect(Object.keys(step).sort()).toEqual([...columns, "t", "x", "masked"].sort());
    expect(step.t).toBe(0);
    expect(step.x).toEqual([1, 10]);
    expect(step.masked).toBe(false);
    // values as numbers, one per unit, agreeing with the seed table to its 6 printed decimals
    for (const [name, text] of Object.entries(SEED_F64)) {
      expect(step[name]).toHaveLength(1);
      expect(Math.abs(step[name][0] - Number(text)), name).toBeLessThanOrEqual(5e-7);
    }
    expect(doc.outputs).toHaveLength(1);
    expect(doc.outputs[0].name).toBe("output");
    expect(doc.outputs[0].shape).toEqual([1]);
    expect(Math.abs(doc.outputs[0].samples[0][0] - 0.0999329)).toBeLessThanOrEqual(5e-8);
  });
});

function expectCleanFailure(r: CliResult, message: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(isCleanError(r), `one line, no stack trace: ${JSON.stringify(r.stderr)}`).toBe(true);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe("");
}

/** A .npy file's bytes (version 1.0) with the given header dict and body. */
function npy(header: string, body: Uint8Array): Uint8Array {
  let h = header;
  const total = 10 + h.length + 1;
  h += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + h.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
  out.set(new TextEncoder().encode(h), 10);
  out.set(body, 10 + h.length);
  return out;
}

describe("step: bad input gives one line on stderr and exit 2", () => {
  it("input width different from the layer's input dim names both numbers", () => {
    expectCleanFailure(runCli(["step", SEED, "--input", "1,10,3"]), /\b2\b.*\b3\b/);
    expectCleanFailure(runCli(["step", SEED, "--raw-input", "--input", "1;2"]), /\b2\b.*\b1\b/);
  });

  it("ragged rows", () => {
    expectCleanFailure(runCli(["step", SEED, "--raw-input", "--input", "1,10;2"]), /row 2 has 1 values?, row 1 has 2/);
    const f = join(dir, "ragged.json");
    writeFileSync(f, "[[1, 10], [2]]");
    expectCleanFailure(runCli(["step", SEED, "--raw-input", "--input-file", f]), /ragged/);
  });

  it("non-numeric values", () => {
    expectCleanFailure(runCli(["step", SEED, "--input", "1,abc"]), /'abc' is not a number/);
    const f = join(dir, "text.csv");
    writeFileSync(f, "1,10\n2,x\n");
    expectCleanFailure(runCli(["step", SEED, "--raw-input", "--input-file", f]), /'x' is not a number/);
  });

  it("an empty sequence", () => {
    expectCleanFailure(runCli(["step", SEED, "--input", ";"]), /no values given/);
    expectCleanFailure(runCli(["step", SEED, "--input", ""]), /no values given/);
    const f = join(dir, "empty.json");
    writeFileSync(f, "[]");
    expectCleanFailure(runCli(["step", SEED, "--raw-input", "--input-file", f]), /keras-inspect: /);
  });

  it("--h0 of the wrong length", () => {
    expectCleanFailure(runCli(["step", SEED, "--input", "1,10", "--h0", "0.5,0.5"]), /initial h .* 2 values; the layer has 1 unit/);
    expectCleanFailure(runCli(["step", SEED, "--input", "1,10", "--h0", "0", "--c0", "1,2,3"]), /initial c .* 3 values/);
    // On a GRU, --c0 is refused for what it is, not for a missing --h0.
    expectCleanFailure(runCli(["step", "test/fixtures/real/k2_gru_hardsigmoid_full.h5", "--input", "1", "--c0", "0.1"]), /--c0 applies to LSTM layers; 'gru_1' is GRU, whose only state is h \(--h0\)/);
  });

  it(".npy with an unsupported dtype or a truncated body", () => {
    const complex = join(dir, "complex.npy");
    writeFileSync(complex, npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 2), }", new Uint8Array(16)));
    expectCleanFailure(runCli(["step", SEED, "--input-file", complex]), /dtype '<c8' is not supported/);
    const text = join(dir, "unicode.npy");
    writeFileSync(text, npy("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(24)));
    expectCleanFailure(runCli(["step", SEED, "--input-file", text]), /dtype '<U3' is not supported/);
    const truncated = join(dir, "truncated.npy");
    writeFileSync(truncated, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", new Uint8Array(new Float32Array([1]).buffer)));
    expectCleanFailure(runCli(["step", SEED, "--input-file", truncated]), /truncated: shape \(1, 2\) needs 8 bytes, the file has 4/);
  });

  it("an unsupported layer before the requested one: a Lambda is reported (never run), another class is named", async () => {
    const w = await writer();
    const lstm = w.lstmConfig("lstm_1", 2, { recurrent_activation: "sigmoid" });
    const lstmWeights = {
      name: "lstm_1",
      weights: [
        { name: "lstm_1/kernel:0", shape: [2, 8], data: new Float32Array(16).fill(0.1) },
        { name: "lstm_1/recurrent_kernel:0", shape: [2, 8], data: new Float32Array(16).fill(0.1) },
        { name: "lstm_1/bias:0", shape: [8], data: new Float32Array(8) },
      ],
    };
    const before = [
      // A Keras 2.2 Lambda: marshalled Python bytecode, which must never be executed.
      { class_name: "Lambda", config: { name: "lambda_1", trainable: true, function: ["4wEAAAAAAAAAAQAAAAIAAABDAAAAcwgAAAB8AGQBFABTACkCTukCAAAAqQApAdoBeHIBAAAAcgEAAAD6HjxpcHl0aG9uLWlucHV0LTEtYjNiNjc3OGZjNDQ1PtoIPGxhbWJkYT4BAAAA8wAAAAA=", null, null], function_type: "lambda", output_shape: null, output_shape_type: "raw", arguments: {} } },
      { class_name: "Cropping1D", config: { name: "cropping1d_1", trainable: true, cropping: [0, 0] } },
    ];
    const expected = [/layer 'lambda_1' is a Lambda layer: it holds Python code, which keras-inspect never runs/, /layer 'cropping1d_1' \(Cropping1D\) cannot be evaluated/];
    for (const [k, layer] of before.entries()) {
      const first = { ...layer, config: { ...layer.config, batch_input_shape: [null, 3, 2], dtype: "float32" } };
      const bytes = await w.writeKerasH5({ modelConfig: w.sequentialConfig("sequential_1", [first, lstm]), layers: [{ name: layer.config.name, weights: [] }, lstmWeights] });
      const f = join(dir, `${layer.class_name}-lstm.h5`);
      writeFileSync(f, bytes);
      expectCleanFailure(runCli(["step", f, "--input", "1,2;3,4;5,6"]), expected[k]);
      // the recurrent layer fed directly is fine
      const ok = runCli(["step", f, "--raw-input", "--input", "1,2;3,4;5,6"]);
      expect(ok.status, ok.stderr).toBe(0);
    }
  });

  it("NaN in the input is evaluated, with one warning line", () => {
    const r = runCli(["step", SEED, "--input", "nan,10"]);
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual(["keras-inspect: warning: the input contains 1 NaN value(s)"]);
    expect(tableRow(r.stdout).h).toBe("NaN");
  });
});
