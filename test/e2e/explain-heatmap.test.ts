// `keras-inspect step --heatmap` through the real executable. The model is an LSTM
// whose forget gate is σ(10·x) and nothing else (every other weight 0), so the grid
// can be predicted without our code: f = σ(10) ≈ 0.99995 (top shade █) where x = 1 and
// σ(-10) ≈ 0.00005 (bottom shade, blank) where x = -1, on the gate's 0…1 scale.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../support/cli.js";
import { writeRnnModel } from "../support/rnn-model-file.js";

const tmp = mkdtempSync(join(tmpdir(), "keras-inspect-heatmap-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

async function forgetModel(): Promise<string> {
  const file = join(tmp, "forget.h5");
  // kernel (1, 4u) in Keras' gate order i, f, c, o: only W_f is non-zero.
  const spec = {
    kind: "lstm" as const,
    units: 1,
    inputDim: 1,
    activation: "tanh",
    recurrentActivation: "sigmoid",
    useBias: true,
    kernel: Float32Array.of(0, 10, 0, 0),
    recurrentKernel: Float32Array.of(0, 0, 0, 0),
    bias: Float32Array.of(0, 0, 0, 0),
  };
  writeFileSync(file, (await writeRnnModel(spec)).bytes);
  return file;
}

/** The rows of one quantity's grid: unit label -> the text between the borders. */
function grid(out: string, name: string): Map<string, string> {
  const lines = out.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`${name}  `));
  expect(start, `no grid for ${name}`).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string>();
  for (const l of lines.slice(start + 2)) {
    const m = /^(unit \d+)\s*│(.*)│$/.exec(l);
    if (!m) break;
    rows.set(m[1], m[2]);
  }
  return rows;
}

function codePoints(line: string): number {
  // eslint-disable-next-line no-control-regex
  return [...line.replace(/\x1b\[[0-9;]*m/g, "")].length;
}

describe("step --heatmap", () => {
  it("shows the forget gate closing at the step where the input turns negative", async () => {
    const file = await forgetModel();
    const xs = [1, 1, 1, -1, 1, 1, 1, 1];
    const r = runCli(["step", file, "--input", xs.join(";"), "--heatmap"], { env: { COLUMNS: "80" } });
    expect(r.status, r.stderr).toBe(0);
    const row = [...grid(r.stdout, "f").get("unit 0")!];
    expect(row.length % xs.length).toBe(0);
    const w = row.length / xs.length;
    const cells = xs.map((_, k) => row.slice(k * w, (k + 1) * w).join(""));
    // Five shades over 0…1: σ(10) lies in the top fifth, σ(-10) in the bottom one.
    expect(sigmoid(10)).toBeGreaterThan(0.8);
    expect(sigmoid(-10)).toBeLessThan(0.2);
    xs.forEach((x, k) => expect(cells[k], `step ${k + 1}`).toBe((x > 0 ? "█" : " ").repeat(w)));
    expect(r.stdout).toMatch(/^f {2}forget gate, sigmoid {2}\(scale 0 … 1\)$/m);
    expect(r.stdout).toContain("' ' 0 … 0.2");
    expect(r.stdout).toContain("█ 0.8 … 1");
    // i = σ(0) = 0.5: the middle shade at every step.
    expect(grid(r.stdout, "i").get("unit 0")).toBe("▒".repeat(w * xs.length));
    for (const l of r.stdout.split("\n")) expect(codePoints(l)).toBeLessThanOrEqual(80);
  });

  it("bins a long sequence to the terminal width and says so", async () => {
    const file = await forgetModel();
    // 200 steps; the gate closes for steps 101–120.
    const xs = Array.from({ length: 200 }, (_, k) => (k >= 100 && k < 120 ? -1 : 1));
    const r = runCli(["step", file, "--input", xs.join(";"), "--heatmap"], { env: { COLUMNS: "80" } });
    expect(r.status, r.stderr).toBe(0);
    const m = /each column is the mean of (\d+) consecutive steps(?: \(the last of (\d+)\))?, (\d+) columns in all/.exec(r.stdout.replace(/\n/g, " "));
    expect(m, r.stdout.slice(0, 400)).not.toBeNull();
    const [size, columns] = [Number(m![1]), Number(m![3])];
    expect(size).toBeGreaterThan(1);
    expect((columns - 1) * size).toBeLessThan(200);
    expect(columns * size).toBeGreaterThanOrEqual(200);
    const row = [...grid(r.stdout, "f").get("unit 0")!];
    expect(row.length).toBe(columns);
    // A column whose steps all lie in 101–120 averages σ(-10): blank; one wholly outside averages σ(10): █.
    for (let c = 0; c < columns; c++) {
      const steps = Array.from({ length: size }, (_, k) => c * size + k).filter((s) => s < 200);
      const closed = steps.filter((s) => xs[s] < 0).length;
      if (closed === steps.length) expect(row[c], `column ${c + 1}`).toBe(" ");
      if (closed === 0) expect(row[c], `column ${c + 1}`).toBe("█");
    }
    expect(row.filter((g) => g === " ").length).toBeGreaterThanOrEqual(Math.floor(20 / size) - 1);
    for (const l of r.stdout.split("\n")) expect(codePoints(l), l).toBeLessThanOrEqual(80);
  });

  it("a real 905-step GRU fits 80 columns, every gate and the state", () => {
    const xs = Array.from({ length: 905 }, (_, k) => (2 * Math.sin(k / 40)).toFixed(4)).join(";");
    const r = runCli(["step", "test/fixtures/real/k2_gru_hardsigmoid_full.h5", "--input", xs, "--heatmap", "--unit", "0,1,2"], { env: { COLUMNS: "80" } });
    expect(r.status, r.stderr).toBe(0);
    for (const name of ["z", "r", "hh", "h"]) expect(grid(r.stdout, name).size).toBe(3);
    expect(r.stdout).toMatch(/^z {2}update gate, hard_sigmoid/m);
    for (const l of r.stdout.split("\n")) expect(codePoints(l), l).toBeLessThanOrEqual(80);
  });

  it("colours the shades where the terminal supports it, never under NO_COLOR", async () => {
    const file = await forgetModel();
    const args = ["step", file, "--input", "1;-1;1", "--heatmap"];
    const coloured = runCli(args, { env: { NO_COLOR: "", FORCE_COLOR: "3" } });
    expect(coloured.stdout).toContain("\x1b[38;2;");
    const plain = runCli(args, { env: { NO_COLOR: "1", FORCE_COLOR: "3" } });
    expect(plain.stdout).not.toContain("\x1b");
    // eslint-disable-next-line no-control-regex
    expect(coloured.stdout.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain.stdout);
  });

  it("refuses --json with --heatmap, and an unwritable --html, in one line", () => {
    for (const [args, message] of [
      [["--heatmap", "--json"], /--json and --heatmap are two different outputs/],
      [["--html", "/nonexistent-dir/step.html"], /--html \/nonexistent-dir\/step\.html: cannot write the page/],
    ] as const) {
      const r = runCli(["step", "samples/gru.h5", "--input", "1,2", ...args]);
      expect(r.status).toBe(2);
      expect(isCleanError(r), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
  });
});
