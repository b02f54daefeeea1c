// `export` through the real executable: the files it writes are read back by numpy.load
// (skipped with a message when python3 + numpy are absent) and compared with the seed
// notebook's float32 weights exactly.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { noteNumpySkipped, numpyAvailable } from "../reference/numpy.js";
import { runPython } from "../slice/python.js";
import { isCleanError, runCli } from "../support/cli.js";

const READ_NPY = new URL("../export/read_npy.py", import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), "keras-inspect-export-e2e-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const numpy = numpyAvailable();
noteNumpySkipped();

type NpyRead = Record<string, { dtype: string; shape: number[]; values: number[] }>;

describe("keras-inspect export", () => {
  it.skipIf(!numpy)("writes the seed's gate tensors as float32 .npy files numpy reads", () => {
    const dir = join(scratch, "seed-keras");
    const r = runCli(["export", "samples/seed-lstm.h5", "--layer", "lstm_1", "--to", dir]);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(`wrote 16 files to ${dir} (layout keras, float32 .npy):`);
    expect(r.stdout).toMatch(/ {2}kernel_i\.npy +\(2, 1\)\n/);
    expect(r.stdout).toMatch(/ {2}bias_f\.npy +\(1,\)\n/);
    const files = ["kernel_i", "kernel_f", "recurrent_kernel_o", "bias_f"].map((n) => join(dir, `${n}.npy`));
    const got = runPython<NpyRead>(READ_NPY, { files });
    expect(got[files[0]]).toEqual({ dtype: "float32", shape: [2, 1], values: [-0.7879, -0.14056396].map(Math.fround) });
    expect(got[files[1]]).toEqual({ dtype: "float32", shape: [2, 1], values: [-0.7968972, -0.34560132].map(Math.fround) });
    expect(got[files[2]]).toEqual({ dtype: "float32", shape: [1, 1], values: [Math.fround(0.41381747)] });
    expect(got[files[3]]).toEqual({ dtype: "float32", shape: [1], values: [1] });
  });

  it.skipIf(!numpy)("--layout torch writes the nn.LSTM state dict and says how to build the module", () => {
    const dir = join(scratch, "seed-torch");
    const r = runCli(["export", "samples/seed-lstm.h5", "--layer", "lstm_1", "--to", dir, "--layout", "torch"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("load into: torch.nn.LSTM(input_size=2, hidden_size=1, batch_first=True)");
    const names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"];
    const files = names.map((n) => join(dir, `${n}.npy`));
    const got = runPython<NpyRead>(READ_NPY, { files });
    // weight_ih_l0 rows in PyTorch's gate order i, f, g, o = Keras' kernel transposed (Keras i, f, c, o).
    expect(got[files[0]]).toEqual({
      dtype: "float32",
      shape: [4, 2],
      values: [-0.7879, -0.14056396, -0.7968972, -0.34560132, 0.9924617, 0.9574034, -0.6057646, 0.7960496].map(Math.fround),
    });
    expect(got[files[1]].values).toEqual([-0.0660542, -0.32508007, -0.8477706, 0.41381747].map(Math.fround));
    expect(got[files[2]].values).toEqual([0, 1, 0, 0]);
    expect(got[files[3]].values).toEqual([0, 0, 0, 0]);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest.pytorch.constructor).toBe("torch.nn.LSTM(input_size=2, hidden_size=1, batch_first=True)");
  });

  it("--format json writes nested arrays", () => {
    const dir = join(scratch, "seed-json");
    const r = runCli(["export", "samples/seed-lstm.h5", "--layer", "lstm_1", "--to", dir, "--format", "json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "kernel_c.json"), "utf8"))).toEqual([[0.9924617], [0.9574034]]);
    expect(existsSync(join(dir, "kernel_c.npy"))).toBe(false);
  });

  it("a Bidirectional in torch layout gets _reverse tensors", () => {
    const dir = join(scratch, "bi-torch");
    const r = runCli(["export", "samples/bidirectional-lstm.h5", "--layer", "bidirectional_1", "--to", dir, "--layout", "torch"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("load into: torch.nn.LSTM(input_size=2, hidden_size=3, batch_first=True, bidirectional=True)");
    for (const n of ["weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]) expect(existsSync(join(dir, `${n}.npy`)), n).toBe(true);
  });

  describe("bad input: one line, exit 2", () => {
    it("--layer naming no layer lists the layers", () => {
      const r = runCli(["export", "samples/gru.h5", "--layer", "lstm_1", "--to", join(scratch, "x")]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toBe("keras-inspect: no layer 'lstm_1' in samples/gru.h5; its layers: gru_1, dense_2\n");
    });

    it("torch layout of a GRU with reset_after=False says why it cannot exist", () => {
      const r = runCli(["export", "samples/gru.h5", "--layer", "gru_1", "--to", join(scratch, "gru"), "--layout", "torch"]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toContain("layer 'gru_1' is a GRU with reset_after=False: Keras applies the reset gate before the recurrent product");
      expect(existsSync(join(scratch, "gru"))).toBe(false);
    });

    it("torch layout of a layer with hard_sigmoid gates asks for the override", () => {
      const r = runCli(["export", "samples/stacked-lstm-dense.h5", "--layer", "lstm_2", "--to", join(scratch, "hs"), "--layout", "torch"]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toContain("--allow-activation-mismatch");
      const ok = runCli(["export", "samples/stacked-lstm-dense.h5", "--layer", "lstm_2", "--to", join(scratch, "hs"), "--layout", "torch", "--allow-activation-mismatch"]);
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain("note: Keras applies recurrent_activation hard_sigmoid; torch.nn.LSTM applies sigmoid and tanh, so its outputs differ from Keras'");
    });

    it("an export directory that cannot be written", () => {
      const file = join(scratch, "plain-file");
      writeFileSync(file, "x");
      const r = runCli(["export", "samples/seed-lstm.h5", "--layer", "lstm_1", "--to", join(file, "sub")]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toBe(`keras-inspect: ${join(file, "sub")}: cannot write the export directory: a file is in the way (not a directory)\n`);
    });

    it.each([
      [["export", "samples/seed-lstm.h5", "--to", "x"], /required option '-l, --layer <name>' not specified/],
      [["export", "samples/seed-lstm.h5", "--layer", "lstm_1"], /required option '--to <dir>' not specified/],
      [["export", "samples/seed-lstm.h5", "--layer", "lstm_1", "--to", "x", "--layout", "onnx"], /--layout.*onnx.*invalid|Allowed choices are keras, torch/],
    ])("%j", (args, message) => {
      const r = runCli(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  });
});
