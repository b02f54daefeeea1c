// `keras-inspect explain` through the real executable (npm test builds dist/ first).
//
// The numbers in an explanation are checked against independent references, never
// against earlier output of ours: the seed notebook's table for the seed LSTM, and for
// the other kinds a float32/float64 cell written from Keras' source in
// test/present/cell-reference.ts, run on weights read from the file with h5wasm
// directly (not through our loader).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import h5wasm, { type Dataset } from "h5wasm";
import { afterAll, describe, expect, it } from "vitest";
import { type CliResult, isCleanError, REPO_ROOT, runCli as spawnCli } from "../support/cli.js";
import { writeRnnModel } from "../support/rnn-model-file.js";
import { ACTIVATIONS, runCell, type RawCell } from "../present/cell-reference.js";
import { SEED_TABLE } from "../support/seed.js";

// Each run of the CLI costs a process start; the same command is run once and shared.
const runs = new Map<string, CliResult>();
function runCli(args: string[], options: { env?: Record<string, string> } = {}): CliResult {
  const key = JSON.stringify([args, options]);
  if (!runs.has(key)) runs.set(key, spawnCli(args, options));
  return runs.get(key)!;
}

const tmp = mkdtempSync(join(tmpdir(), "keras-inspect-explain-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SEED = SEED_TABLE;

/** Display symbols of the explanation back to the trace's names. */
const NAMES: Record<string, string> = { "c̃": "c_tilde", "cₜ": "c", "hₜ": "h", "c_tilde": "c_tilde", "c[t]": "c", "h[t]": "h" };

/**
 * The substituted equations of the text output: symbol -> [the whole equation, its
 * result], with wrapped continuation lines joined.
 */
function numbersOf(text: string): Map<string, { line: string; result: number }> {
  const section = text.slice(text.indexOf("THE NUMBERS"), text.indexOf("GRAPHICAL ILLUSTRATION"));
  const eqs: string[] = [];
  for (const line of section.split("\n").slice(1)) {
    if (/^ {2}\S+ = /.test(line) && !/^ {2}(xₜ|x\[t\]|h₍ₜ₋₁₎|c₍ₜ₋₁₎|h\[t-1\]|c\[t-1\])( \(\d+ values\))? = \[/.test(line)) eqs.push(line.trim());
    else if (/^ {4,}[=+] /.test(line) && eqs.length > 0) eqs[eqs.length - 1] += ` ${line.trim()}`;
  }
  const out = new Map<string, { line: string; result: number }>();
  for (const eq of eqs) {
    const symbol = eq.slice(0, eq.indexOf(" = "));
    const result = Number(eq.slice(eq.lastIndexOf(" = ") + 3));
    out.set(NAMES[symbol] ?? symbol, { line: eq, result });
  }
  return out;
}

function codePoints(line: string): number {
  // eslint-disable-next-line no-control-regex
  return [...line.replace(/\x1b\[[0-9;]*m/g, "")].length;
}

function section(text: string, from: string, to?: string): string {
  const a = text.indexOf(from);
  return to ? text.slice(a, text.indexOf(to, a)) : text.slice(a);
}

describe("explain: the seed example", () => {
  it("every number equals the seed notebook's table (float32, as Keras computes)", () => {
    const r = runCli(["explain", "samples/seed-lstm.h5", "--input", "1,10"]);
    expect(r.status, r.stderr).toBe(0);
    const nums = numbersOf(r.stdout);
    expect([...nums.keys()]).toEqual(["x_i", "x_f", "x_c", "x_o", "i", "f", "c_tilde", "o", "c", "h"]);
    for (const [name, value] of Object.entries(SEED)) {
      // Both are 6-decimal roundings (±5e-7 each) of values that differ by float32
      // rounding (x_f: float32 gives -3.2529106, the seed printed -3.252910): ≤ 1.5e-6.
      expect(Math.abs(nums.get(name)!.result - value), name).toBeLessThanOrEqual(1.5e-6);
    }
    // The operands are the seed's weights, written term by term.
    expect(nums.get("x_i")!.line).toBe("x_i = xₜ·W_i + b_i = 1·(-0.7879) + 10·(-0.140564) + 0 = -2.193540");
    expect(nums.get("i")!.line).toBe("i = σ(x_i + h₍ₜ₋₁₎·U_i) = σ(-2.193540 + 0.000000·(-0.0660542)) = σ(-2.193540) = 0.100332");
    expect(nums.get("c")!.line).toBe("cₜ = f·c₍ₜ₋₁₎ + i·c̃ = 0.037222·0.000000 + 0.100332·1.000000 = 0.100332");
  });

  it("in float64 every printed number is the seed's, to the printed digit", () => {
    const r = runCli(["explain", "samples/seed-lstm.h5", "--input", "1,10", "--dtype", "float64"]);
    expect(r.status, r.stderr).toBe(0);
    const nums = numbersOf(r.stdout);
    // Only the 6-decimal print rounding separates them (h: the seed gives 7 digits).
    for (const [name, value] of Object.entries(SEED)) expect(Math.abs(nums.get(name)!.result - value), name).toBeLessThanOrEqual(5.01e-7);
    expect(nums.get("x_f")!.line.endsWith("= -3.252910")).toBe(true);
  });

  it("--json holds the same numbers as data, with the definitions, symbols and shapes", () => {
    const r = runCli(["explain", "samples/seed-lstm.h5", "--input", "1,10", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ layer: "lstm_1", kind: "lstm", step: 1, steps: 1, unit: 0, units: 1, dtype: "float32", input: [1, 10] });
    for (const [name, value] of Object.entries(SEED)) {
      // Full precision against the seed's 6 decimals: as test/eval/seed-lstm.test.ts, ≤ 1e-6 in float32.
      expect(Math.abs(doc.values[name] - value), name).toBeLessThanOrEqual(1e-6);
    }
    const byName = Object.fromEntries(doc.equations.map((e: { name: string }) => [e.name, e]));
    expect(byName.x_i.operands.terms).toEqual([
      { x: 1, kernel_i: Math.fround(-0.7879) },
      { x: 10, kernel_i: Math.fround(-0.14056396) },
    ]);
    expect(byName.i.equation).toBe("i = σ(x_i + h₍ₜ₋₁₎·U_i)");
    expect(doc.symbols.find((s: { symbol: string }) => s.symbol === "W_i, W_f, W_c, W_o").shape).toEqual([2, 1]);
    expect(doc.symbols.find((s: { symbol: string }) => s.symbol === "U_i, U_f, U_c, U_o").shape).toEqual([1, 1]);
    expect(doc.activations.map((a: { name: string; formula: string }) => [a.name, a.formula])).toEqual([
      ["tanh", "tanh(x)"],
      ["sigmoid", "1 / (1 + e^(-x))"],
    ]);
  });

  it("shows the definitions with the sigmoid the file names, the shapes, and the diagram", () => {
    const r = runCli(["explain", "samples/seed-lstm.h5", "--input", "1,10"]);
    const defs = section(r.stdout, "MATHEMATICAL DEFINITIONS", "THE NUMBERS");
    expect(defs).toMatch(/i {2}= σ\(x_i \+ h₍ₜ₋₁₎·U_i\)/);
    expect(defs).toContain("σ(x) = 1 / (1 + e^(-x))");
    expect(defs).toMatch(/W_i, W_f, W_c, W_o\s+2×1\s+input weights \(kernel_i … kernel_o\)/);
    const diagram = section(r.stdout, "GRAPHICAL ILLUSTRATION");
    // The cell-state lane with its values, and each gate's value on its wire.
    expect(diagram).toMatch(/c₍ₜ₋₁₎ 0\.000000 .* cₜ 0\.100332/);
    expect(diagram).toMatch(/─\(×\)─+\(\+\)─+┬─+▶/);
    for (const v of ["f 0.037222", "i 0.100332", "c̃ 1.000000", "o 0.999361", "hₜ 0.099933", "-2.193540", "-3.252911", "10.566496", "7.354732"]) {
      expect(diagram).toContain(v);
    }
  });
});

describe("explain: a hard_sigmoid GRU written by Keras 2.2.4 (real file)", () => {
  const FILE = "test/fixtures/real/k2_gru_hardsigmoid_full.h5";
  const steps = 905;
  const xs = Array.from({ length: steps }, (_, k) => [3 * Math.cos(k / 40)]);
  const inputFile = join(tmp, "gru-input.json");
  writeFileSync(inputFile, JSON.stringify(xs));

  async function rawCell(): Promise<RawCell> {
    // The stored arrays, read with h5wasm directly (model_weights/gru_1/gru_1/<name>:0).
    const Module = await h5wasm.ready;
    const path = `/explain-test-${process.pid}.h5`;
    Module.FS.writeFile(path, readFileSync(join(REPO_ROOT, FILE)));
    const f = new h5wasm.File(path, "r");
    try {
      const read = (n: string) => Float32Array.from((f.get(`model_weights/gru_1/gru_1/${n}:0`) as Dataset).value as Float32Array);
      const config = JSON.parse(f.attrs["model_config"].value as string).config.layers[0].config;
      expect(config).toMatchObject({ units: 64, recurrent_activation: "hard_sigmoid", activation: "tanh", reset_after: false });
      return { kind: "gru", units: 64, inputDim: 1, kernel: read("kernel"), recurrentKernel: read("recurrent_kernel"), bias: read("bias"), activation: "tanh", recurrentActivation: "hard_sigmoid" };
    } finally {
      f.close();
      Module.FS.unlink(path);
    }
  }

  it("prints Keras 2's hard_sigmoid definition and values that follow it", async () => {
    const cell = await rawCell();
    const ref = runCell(cell, xs.slice(0, 3), (v) => v);
    // The unit whose z argument is largest: where hard_sigmoid and sigmoid differ most.
    const argZ = (j: number) => Math.abs(ref[2].x_z[j] + ref[2].rec_z[j]);
    const unit = Array.from({ length: 64 }, (_, j) => j).reduce((a, b) => (argZ(b) > argZ(a) ? b : a));
    expect(argZ(unit)).toBeGreaterThan(0.2);
    const r = runCli(["explain", FILE, "--input-file", inputFile, "--steps", "2", "--unit", String(unit), "--dtype", "float64"]);
    expect(r.status, r.stderr).toBe(0);
    const defs = section(r.stdout, "MATHEMATICAL DEFINITIONS", "THE NUMBERS");
    expect(defs).toMatch(/z {2}= hard_sigmoid\(x_z \+ h₍ₜ₋₁₎·U_z\)/);
    expect(defs).toMatch(/hh = tanh\(x_h \+ \(r ⊙ h₍ₜ₋₁₎\)·U_h\)/);
    expect(defs).toContain("hard_sigmoid(x) = clip(0.2·x + 0.5, 0, 1)");
    expect(defs).toMatch(/as Keras 2\.2\.4,\s+which\s+wrote\s+this\s+file/);
    expect(defs).toMatch(/U_z, U_r, U_h\s+64×64/);
    expect(defs).toMatch(/W_z, W_r, W_h\s+1×64/);
    expect(defs).toMatch(/x_z, x_r, x_h\s+1×64\s+input parts: xₜ·W \+ b/);
    // rec_h's terms use every unit's r (reset_after=False): the text says so and lists them.
    const said = /In rec_h each term\s+takes\s+its\s+own\s+unit's\s+reset\s+gate,\s+since\s+r ⊙ h₍ₜ₋₁₎\s+comes\s+before\s+·U_h:\s+r\s+=\s+\[([^\]]*)\]/.exec(section(r.stdout, "THE NUMBERS", "GRAPHICAL"));
    expect(said, r.stdout).not.toBeNull();
    const rs = said![1].split(/,\s*/).map(Number);
    expect(rs).toHaveLength(64);
    rs.forEach((v, k) => expect(Math.abs(v - ref[2].r[k]), `r[${k}]`).toBeLessThanOrEqual(5.01e-7));

    const nums = numbersOf(r.stdout);
    // float64 on both sides: the printed values are the reference's to the 6th decimal.
    for (const name of ["x_z", "x_r", "x_h", "rec_z", "rec_r", "rec_h", "z", "r", "hh", "h"]) {
      expect(Math.abs(nums.get(name)!.result - ref[2][name][unit]), name).toBeLessThanOrEqual(5.01e-7);
    }
    // The z line: hard_sigmoid(argument) = value, where value follows Keras 2's formula, not sigmoid's.
    const m = /= hard_sigmoid\((-?\d+\.\d+)\) = (-?\d+\.\d+)$/.exec(nums.get("z")!.line);
    expect(m, nums.get("z")!.line).not.toBeNull();
    const [arg, z] = [Number(m![1]), Number(m![2])];
    expect(Math.abs(z - ACTIVATIONS.hard_sigmoid(arg))).toBeLessThanOrEqual(1e-6); // two 6-decimal roundings, slope 0.2
    expect(Math.abs(z - ACTIVATIONS.sigmoid(arg))).toBeGreaterThan(1e-3);
    // The recurrent dot product has 64 terms: summarized, not written out.
    expect(nums.get("rec_z")!.line).toMatch(/… 60 more terms …/);
  });

  it("float32 (the default) agrees with a float32 reference", async () => {
    const cell = await rawCell();
    const ref = runCell(cell, xs.slice(0, 3), Math.fround);
    const r = runCli(["explain", FILE, "--input-file", inputFile, "--steps", "2", "--unit", "5", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.activations.find((a: { role: string }) => a.role === "recurrent_activation")).toMatchObject({ name: "hard_sigmoid", formula: "clip(0.2·x + 0.5, 0, 1)" });
    for (const name of ["x_z", "x_r", "x_h", "z", "r", "hh", "h"]) {
      // Values are O(1); a 64-term float32 dot product summed in another order differs by
      // at most 64 · 2^-24 · Σ|terms| (Σ|terms| < 4 here), ≈ 1.5e-5; three steps compound a little.
      expect(Math.abs(doc.values[name] - ref[2][name][5]), name).toBeLessThanOrEqual(2e-5);
    }
  });

  it("--hard-sigmoid keras3 switches the definition and says the writer differs", () => {
    const r = runCli(["explain", FILE, "--input-file", inputFile, "--steps", "1", "--hard-sigmoid", "keras3"]);
    expect(r.status, r.stderr).toBe(0);
    const defs = section(r.stdout, "MATHEMATICAL DEFINITIONS", "THE NUMBERS");
    expect(defs).toContain("hard_sigmoid(x) = clip(x/6 + 0.5, 0, 1)");
    expect(defs).toMatch(/chosen\s+with\s+--hard-sigmoid/);
    const m = /= hard_sigmoid\((-?\d+\.\d+)\) = (-?\d+\.\d+)$/.exec(numbersOf(r.stdout).get("r")!.line)!;
    expect(Math.abs(Number(m[2]) - ACTIVATIONS.hard_sigmoid_keras3(Number(m[1])))).toBeLessThanOrEqual(1e-6);
  });
});

describe("explain: GRU reset_after=True and SimpleRNN (files written with chosen weights)", () => {
  // Weights that make every term visible: small layers, values with few digits.
  const wave = (n: number, k: number) => Array.from({ length: n }, (_, j) => Math.round(1000 * Math.sin(1.3 * j + k)) / 1000);

  it("GRU reset_after=True: r multiplies h₍ₜ₋₁₎·U_h + rb_h, and every value matches the reference", async () => {
    const units = 3;
    const spec = {
      kind: "gru" as const,
      units,
      inputDim: 2,
      activation: "tanh",
      recurrentActivation: "sigmoid",
      useBias: true,
      resetAfter: true,
      kernel: Float32Array.from(wave(2 * 9, 1)),
      recurrentKernel: Float32Array.from(wave(3 * 9, 2)),
      bias: Float32Array.from(wave(2 * 9, 3)),
    };
    const { bytes } = await writeRnnModel(spec);
    const file = join(tmp, "gru-reset-after.h5");
    writeFileSync(file, bytes);
    const xs = [
      [1, -2],
      [0.5, 3],
      [-1, 0.25],
    ];
    const ref = runCell({ ...spec, kind: "gru" }, xs, (v) => v);
    const r = runCli(["explain", file, "--input", "1,-2;0.5,3;-1,0.25", "--steps", "-1", "--unit", "1", "--dtype", "float64"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hh = tanh\(x_h \+ r ⊙ \(h₍ₜ₋₁₎·U_h \+ rb_h\)\)/);
    expect(r.stdout).toMatch(/rb_z, rb_r, rb_h\s+3\s+recurrent biases/);
    const nums = numbersOf(r.stdout);
    for (const name of ["x_z", "x_r", "x_h", "rec_z", "rec_r", "rec_h", "z", "r", "hh", "h"]) {
      expect(Math.abs(nums.get(name)!.result - ref[2][name][1]), name).toBeLessThanOrEqual(5.01e-7);
    }
    // Small enough to write every term of h₍ₜ₋₁₎·U_h + rb_h out.
    expect(nums.get("rec_h")!.line).not.toContain("more terms");
    const work = nums.get("rec_h")!.line.split(" = ")[2];
    expect(work.split(" + ").length, work).toBe(units + 1);
    expect(r.stdout).toContain("reset_after=True");
  });

  it("SimpleRNN: h = act(x + h₍ₜ₋₁₎·U), every value matches the reference", async () => {
    const spec = {
      kind: "simple_rnn" as const,
      units: 1,
      inputDim: 3,
      activation: "tanh",
      useBias: true,
      kernel: Float32Array.from([0.5, -0.25, 1.5]),
      recurrentKernel: Float32Array.from([0.75]),
      bias: Float32Array.from([0.125]),
    };
    const { bytes } = await writeRnnModel(spec);
    const file = join(tmp, "simple-rnn.h5");
    writeFileSync(file, bytes);
    const ref = runCell({ ...spec, kind: "simple_rnn" }, [[1, 2, 3], [-1, 0, 1]], (v) => v);
    const r = runCli(["explain", file, "--input", "1,2,3;-1,0,1", "--dtype", "float64"]);
    expect(r.status, r.stderr).toBe(0);
    const nums = numbersOf(r.stdout);
    expect(nums.get("x")!.line).toBe("x = xₜ·W + b = (-1)·0.5 + 0·(-0.25) + 1·1.5 + 0.125 = 1.125000");
    expect(Math.abs(nums.get("x")!.result - ref[1].x[0])).toBeLessThanOrEqual(5.01e-7);
    expect(Math.abs(nums.get("h")!.result - ref[1].h[0])).toBeLessThanOrEqual(5.01e-7);
    expect(nums.get("h")!.line).toMatch(/^hₜ = tanh\(x \+ h₍ₜ₋₁₎·U\) = tanh\(1\.125000 \+ \d\.\d{6}·0\.75\) = tanh\(\d\.\d{6}\) = \d\.\d{6}$/);
  });
});

describe("explain: layout, colour and ASCII", () => {
  const cases: [string, string[]][] = [
    ["LSTM", ["samples/seed-lstm.h5", "--input", "1,10"]],
    ["GRU reset_after=False, 4 units", ["samples/gru.h5", "--input", "1,2;3,4;-1,0.5", "--unit", "2", "--steps", "1"]],
    ["GRU reset_after=True, 50 units, 6 features", ["test/fixtures/real/tfk2_gru_stacked_v3.keras", "--input", Array.from({ length: 20 }, (_, k) => [1, 2, 3, 4, 5, 6].map((j) => Math.sin(k + j).toFixed(3)).join(",")).join(";"), "--unit", "49"]],
    ["SimpleRNN, 50 units", ["test/fixtures/real/k2_simplernn_full.h5", "--input", "0.5", "--unit", "7"]],
    ["LSTM inside Bidirectional", ["samples/bidirectional-lstm.h5", "--input", "1,2;3,4;5,6;7,8", "--layer", "bidirectional_1/backward_lstm_4", "--steps", "1", "--unit", "1"]],
  ];

  it.each(cases)("%s: every line fits 80 columns, in Unicode and in --ascii (7-bit)", (_name, args) => {
    const uni = runCli(["explain", ...args]);
    expect(uni.status, uni.stderr).toBe(0);
    const asc = runCli(["explain", ...args, "--ascii"]);
    expect(asc.status, asc.stderr).toBe(0);
    for (const out of [uni.stdout, asc.stdout]) {
      const over = out.split("\n").filter((l) => codePoints(l) > 80);
      expect(over).toEqual([]);
      expect(section(out, "GRAPHICAL ILLUSTRATION").split("\n").length).toBeGreaterThan(8);
    }
    // eslint-disable-next-line no-control-regex
    expect(asc.stdout).toMatch(/^[\x00-\x7f]*$/);
    expect(asc.stdout).toMatch(/[+|][-]+/); // the diagram, drawn in ASCII
    expect(uni.stdout).toMatch(/[┌└│─]/);
  });

  it("ASCII spells the notation out", () => {
    const r = runCli(["explain", "samples/seed-lstm.h5", "--input", "1,10", "--ascii"]);
    expect(r.stdout).toContain("i = sigmoid(x_i + h[t-1] @ U_i) = sigmoid(-2.193540 + 0.000000*(-0.0660542))");
    // Two products, two symbols (issue 13, item 13): @ for the matrix product, * for the element-wise one.
    expect(r.stdout).toContain("x_i = x[t] @ W_i + b_i");
    expect(r.stdout).toContain("@ is the matrix product (a row times a matrix), * the element-wise one");
    expect(r.stdout).toContain("c[t] = f*c[t-1] + i*c_tilde = 0.037222*0.000000 + 0.100332*1.000000 = 0.100332");
  });

  it("colours values when the terminal supports it, and never under NO_COLOR or --no-color", () => {
    const args = ["explain", "samples/gru.h5", "--input", "1,2;3,4"];
    const coloured = runCli(args, { env: { NO_COLOR: "", FORCE_COLOR: "3" } });
    expect(coloured.status, coloured.stderr).toBe(0);
    expect(coloured.stdout).toContain("\x1b[");
    const noColor = runCli(args, { env: { NO_COLOR: "1", FORCE_COLOR: "3" } });
    expect(noColor.stdout).not.toContain("\x1b");
    const flag = runCli(["--no-color", ...args], { env: { NO_COLOR: "", FORCE_COLOR: "3" } });
    expect(flag.status, flag.stderr).toBe(0);
    expect(flag.stdout).not.toContain("\x1b");
    // The same text once the colour is stripped.
    // eslint-disable-next-line no-control-regex
    expect(coloured.stdout.replace(/\x1b\[[0-9;]*m/g, "")).toBe(noColor.stdout);
  });

  it("a crafted layer name cannot drive the terminal", async () => {
    const spec = { kind: "simple_rnn" as const, units: 1, inputDim: 1, activation: "tanh", useBias: true, kernel: Float32Array.of(1), recurrentKernel: Float32Array.of(1), bias: Float32Array.of(0) };
    const { bytes } = await writeRnnModel(spec, { name: "rnn\u001b[2J\u202eevil" });
    const file = join(tmp, "evil.h5");
    writeFileSync(file, bytes);
    const r = runCli(["explain", file, "--input", "1"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("\u001b");
    expect(r.stdout).not.toContain("\u202e");
    expect(r.stdout).toContain("rnn\\x1b[2J\\u202eevil");
  });
});

describe("explain: which step", () => {
  it("--steps takes a Python index: 1 is the second step, -1 the last (the default)", () => {
    const args = ["explain", "samples/gru.h5", "--input", "1,2;3,4;-1,0.5"];
    expect(runCli([...args, "--steps", "1"]).stdout).toContain("THE NUMBERS  (step 2, unit 0)");
    const last = runCli([...args, "--steps", "-1"]);
    expect(last.stdout).toContain("THE NUMBERS  (step 3, unit 0)");
    expect(runCli(args).stdout).toBe(last.stdout);
    // A slice that selects one step is one step too.
    expect(runCli([...args, "--steps", "1:2"]).stdout).toBe(runCli([...args, "--steps", "1"]).stdout);
  });

  it("--step T (from 1) still works, says it is deprecated, and explains what --steps T-1 does", () => {
    const args = ["explain", "samples/gru.h5", "--input", "1,2;3,4;-1,0.5"];
    const old = runCli([...args, "--step", "2"]);
    expect(old.status).toBe(0);
    expect(old.stderr).toBe("keras-inspect: note: --step is deprecated; use --steps 1 (--steps counts from 0, as Python does)\n");
    expect(old.stdout).toBe(runCli([...args, "--steps", "1"]).stdout);
  });
});

describe("explain: bad input is one line and exit 2", () => {
  it.each([
    [["samples/seed-lstm.h5", "--input", "1,10", "--steps", "1"], /--steps 1 is out of range: the input has 1 step\(s\); its only step is 0 \(or -1\)/],
    [["samples/gru.h5", "--input", "1,2;3,4", "--steps", "-3"], /--steps -3 is out of range: the input has 2 step\(s\); its steps are 0 to 1 \(or -2 to -1\)/],
    [["samples/gru.h5", "--input", "1,2;3,4", "--steps", "0:2"], /explain shows one step, and --steps 0:2 selects 2; give one index, e\.g\. --steps 0 or --steps -1/],
    [["samples/gru.h5", "--input", "1,2;3,4", "--steps", "1:1"], /--steps 1:1 selects no step/],
    [["samples/gru.h5", "--input", "1,2;3,4", "--steps", "last"], /--steps takes an index or a slice START:STOP\[:STEP\] counted from 0/],
    [["samples/gru.h5", "--input", "1,2;3,4", "--steps", "1", "--step", "2"], /--step and --steps both choose the step; give --steps only \(--step is deprecated\)/],
    [["samples/seed-lstm.h5", "--input", "1,10", "--step", "2"], /--step 2 is out of range: the input has 1 step\(s\), so --step is only 1/],
    [["samples/gru.h5", "--input", "1,2", "--unit", "4"], /--unit 4 is out of range: 'gru_1' has 4 unit\(s\), so --unit is 0 to 3/],
    [["samples/gru.h5", "--input", "1,2", "--unit", "-1"], /--unit must be a whole number/],
    [["samples/gru.h5", "--input", "1,2", "--layer", "dense_2"], /layer 'dense_2' is Dense; explain covers LSTM, GRU .*, SimpleRNN and ConvLSTM1D\/2D\/3D/],
    // ConvLSTM2D is explained (test/e2e/conv-lstm.test.ts); an input of the wrong shape is refused first.
    [["test/fixtures/real/tfk2_convlstm2d_full.h5", "--input", "1"], /--input: values of shape \(1, 1\) do not fit an input of shape \(3, 4, 10, 10\) per sample/],
    [["samples/gru.h5", "--input", "1,2", "--html", "/nonexistent-dir/page.html"], /--html \/nonexistent-dir\/page\.html: cannot write the page \(ENOENT\)/],
    [["samples/gru.h5", "--input", "1,2", "--html", "samples"], /--html samples: cannot write the page \(EISDIR\)/],
  ])("explain %j", (args, message) => {
    const r = runCli(["explain", ...args]);
    expect(r.status).toBe(2);
    expect(isCleanError(r), r.stderr).toBe(true);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });
});
