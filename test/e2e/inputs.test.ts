/**
 * The ways a user gives inputs, end to end through the executable: inline values, CSV/TSV,
 * JSON arrays and JSON objects keyed by input name, .npy and .npz (numpy's zip of .npy
 * members), and the one-line errors for what cannot be read (issue 13, item 11).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { writeNpyFloat32 } from "../../src/npy.js";
import { isCleanError, runCli } from "../support/cli.js";

const SEED = "samples/seed-lstm.h5";
const MULTI = "test/fixtures/real/k2_lstm_multiinput_tddense_full.h5"; // input_1 (3, 3), input_2 (6)
const dir = mkdtempSync(join(os.tmpdir(), "keras-inspect-inputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const npy = (shape: number[], values: number[]) => writeNpyFloat32(shape, Float32Array.from(values));

/** predict's printed values for the seed LSTM and input [1, 10]: the reference example's h. */
const SEED_OUTPUT = "[[0.099933]]";

function fails(args: string[], message: RegExp) {
  const r = runCli(args);
  expect(r.status, r.stdout).toBe(2);
  expect(isCleanError(r), r.stderr).toBe(true);
  expect(r.stderr).toMatch(message);
}

describe("inputs", () => {
  it("an empty field is an error naming it, not a value skipped", () => {
    fails(["predict", SEED, "--input", "1,,10"], /--input, step 1: field 2 of '1,,10' is empty/);
    fails(["predict", SEED, "--input", "1,10,"], /field 3 of '1,10,' is empty/);
    fails(["predict", SEED, "--input-file", file("gap.csv", "1,,10\n")], /--input-file .*gap\.csv, line 1: field 2 of '1,,10' is empty/);
  });

  it("'-' as --input points to --input-file -", () => {
    fails(["predict", SEED, "--input", "-"], /--input: '-' is not a value; to read standard input use --input-file -/);
    const r = runCli(["predict", SEED, "--input-file", "-"], { input: "1,10\n" });
    expect(r.stdout).toContain(SEED_OUTPUT);
  });

  it("reads TSV and space-separated files as it reads CSV", () => {
    for (const [name, text] of [["x.tsv", "1\t10\n"], ["x.txt", "1 10\n"], ["header.tsv", "a\tb\n1\t10\n"]]) {
      const r = runCli(["predict", SEED, "--input-file", file(name, text)]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(SEED_OUTPUT);
    }
  });

  it("a JSON object keyed by input name, inline or in a file", () => {
    const x1 = Array.from({ length: 9 }, (_, k) => k / 10);
    const x2 = [1, 2, 3, 4, 5, 6];
    const doc = JSON.stringify({ input_2: [x2], input_1: [[x1.slice(0, 3), x1.slice(3, 6), x1.slice(6)]] });
    const inline = runCli(["predict", MULTI, "--input", doc, "--json"]);
    expect(inline.status, inline.stderr).toBe(0);
    const fromFile = runCli(["predict", MULTI, "--input-file", file("xs.json", doc), "--json"]);
    expect(fromFile.stdout).toBe(inline.stdout);
    // The same arrays given one by one, by name, agree.
    const named = runCli(["predict", MULTI, "--input", `input_1=${x1.slice(0, 3).join(",")};${x1.slice(3, 6).join(",")};${x1.slice(6).join(",")}`, "--input", `input_2=${x2.join(",")}`, "--json"]);
    expect(named.status, named.stderr).toBe(0);
    expect(named.stdout).toBe(inline.stdout);
    fails(["predict", MULTI, "--input", JSON.stringify({ input_1: [[x1.slice(0, 3)]], other: [x2] })], /no model input is named 'other'; the model's inputs: input_1, input_2/);
  });

  it("an .npz: members by input name, or numpy's arr_0, arr_1 … in input order", () => {
    const x1 = npy([1, 3, 3], Array.from({ length: 9 }, (_, k) => k / 10));
    const x2 = npy([1, 6], [1, 2, 3, 4, 5, 6]);
    const byName = runCli(["predict", MULTI, "--input-file", file("named.npz", zipSync({ "input_2.npy": x2, "input_1.npy": x1 }, { level: 0 })), "--json"]);
    expect(byName.status, byName.stderr).toBe(0);
    const positional = runCli(["predict", MULTI, "--input-file", file("pos.npz", zipSync({ "arr_0.npy": x1, "arr_1.npy": x2 })), "--json"]);
    expect(positional.stdout).toBe(byName.stdout);
    const seed = runCli(["predict", SEED, "--input-file", file("seed.npz", zipSync({ "arr_0.npy": npy([1, 1, 2], [1, 10]) }))]);
    expect(seed.stdout).toContain(SEED_OUTPUT);
    fails(["predict", SEED, "--input-file", file("bad.npz", zipSync({ "notes.txt": new TextEncoder().encode("hi") }))], /member 'notes\.txt' is not a \.npy array/);
  });

  it("an .npz numpy wrote, when python3 with numpy is here", (ctx) => {
    const made = spawnSync("python3", ["-c", `import numpy as np; np.savez(${JSON.stringify(join(dir, "np.npz"))}, np.array([[[1, 10]]], dtype=np.float32))`]);
    if (made.status !== 0) return ctx.skip(); // no python3 with numpy: the fflate-written files above still run
    expect(runCli(["predict", SEED, "--input-file", join(dir, "np.npz")]).stdout).toContain(SEED_OUTPUT);
  });

  it("a mis-shaped file is named in the message, and a missing one says so in words", () => {
    fails(["predict", SEED, "--input-file", file("wide.npy", npy([1, 1, 3], [1, 2, 3]))], /--input-file .*wide\.npy: the model expects 2 features per step, but the input has 3/);
    fails(["predict", SEED, "--input-file", join(dir, "absent.npy")], /--input-file .*absent\.npy: no such file$/m);
    fails(["check", SEED, "--golden", join(dir, "absent.json"), "--input", "1,10"], /--golden .*absent\.json: no such file$/m);
  });

  it("with no input, the hint is the model's own input shape", () => {
    fails(["predict", SEED], /no input given: pass --input '1,2' \(one step of 2 features; ';' separates steps; the model takes 1 step\) or --input-file FILE/);
    fails(["predict", MULTI], /the model takes 2 inputs, input_1 \(3, 3\), input_2 \(6\): pass --input NAME=VALUES for each/);
  });
});
