/**
 * Text output fits the terminal: in an 80-column pseudo-terminal (util-linux `script`,
 * with `stty cols 80`), no line of step, weights, summary --weights, check or diff is
 * wider than 80 columns; piped (not a terminal) the same output is not limited, and
 * `--width N` forces a width either way.
 *
 * Where `script` is missing the pseudo-terminal cases are skipped (saying so) and the same
 * commands are checked with `--width 80`, which goes through the same fitting code: the
 * only thing the terminal adds is where the 80 comes from (process.stdout.columns).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFloat32 } from "../../src/npy.js";
import { displayWidth } from "../../src/present/notation.js";
import { at, clone, lstmDenseSpec, tensor, writeSpec } from "../check/models.js";
import { BIN, REPO_ROOT, runCli } from "../support/cli.js";
import { writeRnnModel } from "../support/rnn-model-file.js";

const SCRIPT = ["/usr/bin/script", "/bin/script"].find((p) => existsSync(p));
if (!SCRIPT) console.warn("note: util-linux `script` not found; the 80-column pseudo-terminal cases are skipped (the --width 80 cases still run)");

const dir = mkdtempSync(join(tmpdir(), "ki-width-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;

/** Runs keras-inspect in a pseudo-terminal `columns` wide; its output, with the terminal's \r\n as \n. */
function inTerminal(args: string[], columns = 80): { status: number | null; stdout: string } {
  const command = `stty cols ${columns} rows 50; exec ${[process.execPath, BIN, ...args].map(quote).join(" ")}`;
  const r = spawnSync(SCRIPT!, ["-qec", command, "/dev/null"], { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout.replace(/\r\n/g, "\n") };
}

function widest(text: string): number {
  return Math.max(0, ...text.split("\n").map(displayWidth));
}

const gruInput = join(dir, "gru-x.npy");
const cases: [string, string[]][] = [
  ["step, LSTM tables", ["step", "samples/stacked-lstm-dense.h5", "--input", "1,2,3;0,0,1;-1,0.5,2;3,3,3;0,0,0"]],
  ["step, 40-feature inputs", ["step", join(dir, "wide.h5"), "--input-file", join(dir, "wide-x.npy"), "--raw-input"]],
  ["step, a 905 × 64 output", ["step", "test/fixtures/real/k2_gru_hardsigmoid_full.h5", "--input-file", gruInput, "--steps", "-2:"]],
  ["weights, LSTM by gate", ["weights", "test/fixtures/real/k2_lstm_dense_full.h5"]],
  ["weights, Bidirectional", ["weights", "samples/bidirectional-lstm.h5"]],
  ["summary --weights, sequential", ["summary", "samples/stacked-lstm-dense.h5", "--weights"]],
  ["summary --weights, functional", ["summary", "test/fixtures/real/k2_lstm_functional_full.h5", "--weights"]],
  ["check", ["check", join(dir, "b.h5"), "--require-layer", "LSTM:16", "--keras-version", ">=2.2 <3", "--max-abs", "100", "--input", "1,2,3;0,0,1;-1,0.5,2;3,3,3;0,0,0"]],
  ["diff", ["diff", join(dir, "a.h5"), join(dir, "b.h5")]],
];

/** diff answers 1 for files that differ; every other case succeeds. */
const answered = (args: string[], status: number | null) => status === 0 || (status === 1 && args[0] === "diff");

beforeAll(async () => {
  // An LSTM of 2 units over 40 features: each step's x is a long vector.
  const r = (k: number) => Math.sin(k * 1.7) * 0.5;
  const wide = { kind: "lstm" as const, units: 2, inputDim: 40, activation: "tanh", recurrentActivation: "sigmoid", useBias: true, returnSequences: true,
    kernel: Float32Array.from({ length: 40 * 8 }, (_, k) => r(k)), recurrentKernel: Float32Array.from({ length: 16 }, (_, k) => r(k + 400)), bias: Float32Array.from({ length: 8 }, (_, k) => r(k + 500)) };
  writeFileSync(join(dir, "wide.h5"), (await writeRnnModel(wide)).bytes);
  writeFileSync(join(dir, "wide-x.npy"), writeNpyFloat32([1, 3, 40], Array.from({ length: 120 }, (_, k) => Math.cos(k) * 1e-3 * (k + 1))));
  // Two saves of an LSTM + Dense, one with a recurrent weight changed, for diff; the changed one for check.
  const spec = await lstmDenseSpec({ units: 16 });
  writeFileSync(join(dir, "a.h5"), await writeSpec(spec));
  const changed = clone(spec);
  tensor(changed, "lstm_1", "recurrent_kernel").data[at(64, 2, 48 + 1)] += 0.25;
  writeFileSync(join(dir, "b.h5"), await writeSpec(changed));
  writeFileSync(gruInput, writeNpyFloat32([1, 905, 1], Array.from({ length: 905 }, (_, k) => Math.sin(k / 40))));
});

describe("text output fits the width", () => {
  it.each(cases)("%s: piped (not a terminal), lines are not limited (this output is wider than 80)", (_name, args) => {
    const r = runCli(args);
    expect(answered(args, r.status), r.stderr).toBe(true);
    expect(widest(r.stdout)).toBeGreaterThan(80);
  });

  it.skipIf(!SCRIPT).each(cases)("%s: in an 80-column terminal, no line is wider than 80", (_name, args) => {
    const r = inTerminal(args);
    expect(answered(args, r.status), r.stdout.slice(0, 300)).toBe(true);
    const over = r.stdout.split("\n").filter((l) => displayWidth(l) > 80);
    expect(over).toEqual([]);
    // Everything is still there: the fitted output holds the same numbers as the unlimited one
    // (in another order where a table was cut into blocks of columns).
    const numbers = (s: string) => (s.match(/-?\d+\.\d{3,}/g) ?? []).sort().join(" ");
    expect(numbers(r.stdout)).toBe(numbers(inTerminal([...args, "--width", "0"]).stdout));
  });

  it.each(cases)("%s: --width N forces the width, piped or not", (_name, args) => {
    for (const width of [60, 80]) {
      const r = runCli([...args, "--width", String(width)]);
      expect(answered(args, r.status), r.stderr).toBe(true);
      expect(widest(r.stdout), `at ${width}`).toBeLessThanOrEqual(width);
    }
  });

  it.skipIf(!SCRIPT)("in a terminal, --width overrides its width", () => {
    const args = ["step", "samples/stacked-lstm-dense.h5", "--input", "1,2,3;0,0,1;-1,0.5,2;3,3,3;0,0,0"];
    expect(widest(inTerminal([...args, "--width", "200"], 80).stdout)).toBeGreaterThan(80);
    expect(widest(inTerminal(args, 100).stdout)).toBeLessThanOrEqual(100);
  });

  it("wraps a wide step table into blocks of whole columns, each with the unit labels", () => {
    const r = runCli(["step", "samples/stacked-lstm-dense.h5", "--input", "1,2,3;0,0,1;-1,0.5,2;3,3,3;0,0,0", "--steps", "0", "--width", "80"]);
    const heads = r.stdout.split("\n").filter((l) => l.startsWith("│ unit")).map((l) => l.split("│").slice(1, -1).map((c) => c.trim()));
    // lstm_2's one table (step 1), in two blocks.
    expect(heads.length).toBe(2);
    expect(heads.flatMap((h) => h.slice(1))).toEqual(["x_i", "x_f", "x_c", "x_o", "i", "f", "c", "o", "h"]);
  });

  it("a bad --width is one line and exit 2", () => {
    const r = runCli(["weights", "samples/seed-lstm.h5", "--width", "wide"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("keras-inspect: --width must be a whole number ≥ 0, got 'wide'\n");
  });
});
