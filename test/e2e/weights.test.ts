// `weights` through the real executable. Values are the seed notebook's weights (float32,
// printed with 6 decimals by default) and h5dump-read spot values of a real file.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath } from "../load/fixture-paths.js";
import { isCleanError, runCli } from "../support/cli.js";
import { writer } from "../support/rnn-model-file.js";

const scratch = mkdtempSync(join(tmpdir(), "keras-inspect-weights-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The block of output lines from a table caption to its statistics line. */
function section(out: string, caption: string): string {
  const start = out.indexOf(`\n${caption}`);
  if (start < 0) throw new Error(`no '${caption}' in:\n${out}`);
  const end = out.indexOf("\n  min ", start);
  return out.slice(start + 1, out.indexOf("\n", end + 1));
}

describe("keras-inspect weights", () => {
  it("shows the seed LSTM's gate tables with rows by input feature and columns by unit, and stats per gate", () => {
    const r = runCli(["weights", "samples/seed-lstm.h5"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^lstm_1 \(LSTM\): 1 unit, 2 input features, float32\n/);
    expect(r.stdout).toContain("gates i, f, c, o (Keras order): gate k is columns [k·u, (k+1)·u) of kernel (2 × 4), recurrent_kernel (1 × 4), bias (4)");
    expect(r.stdout).toContain("activation tanh, recurrent_activation sigmoid");
    const ki = section(r.stdout, "kernel_i (2 × 1)");
    expect(ki).toMatch(/│ x\[0\] │ -0\.787900 │/);
    expect(ki).toMatch(/│ x\[1\] │ -0\.140564 │/);
    // mean of the two, population std (|a - b| / 2)
    expect(ki).toContain("min -0.787900  max -0.140564  mean -0.464232  std 0.323668");
    expect(section(r.stdout, "recurrent_kernel_c (1 × 1)")).toMatch(/│ h\[0\] │ -0\.847771 │/);
    expect(section(r.stdout, "bias_f (1)")).toMatch(/│ bias_f │ 1\.000000 │/);
    const order = [...r.stdout.matchAll(/^(\w+) \(/gm)].map((m) => m[1]).slice(1);
    expect(order).toEqual([
      "kernel_i", "kernel_f", "kernel_c", "kernel_o",
      "recurrent_kernel_i", "recurrent_kernel_f", "recurrent_kernel_c", "recurrent_kernel_o",
      "bias_i", "bias_f", "bias_c", "bias_o",
    ]);
  });

  it("--json gives every value as the float32's shortest decimals, by tensor name", () => {
    const r = runCli(["weights", "samples/seed-lstm.h5", "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    const cell = doc.layers[0].cells[0];
    expect(doc.layers[0]).toMatchObject({ path: "lstm_1", class: "LSTM", recurrent: true });
    expect(cell).toMatchObject({ kind: "lstm", units: 1, inputDim: 2, gates: ["i", "f", "c", "o"], dtype: "float32" });
    expect(cell.tensors.kernel_i).toMatchObject({ role: "kernel", gate: "i", shape: [2, 1], values: [[-0.7879], [-0.14056396]] });
    expect(cell.tensors.kernel_i.stats).toMatchObject({ min: -0.7879, max: -0.14056396 });
    expect(cell.tensors.recurrent_kernel_o.values).toEqual([[0.41381747]]);
    expect(cell.tensors.bias_f).toMatchObject({ shape: [1], values: [1], stats: { min: 1, max: 1, mean: 1, std: 0 } });
    expect(cell.packedShapes).toEqual({ kernel: [2, 4], recurrent_kernel: [1, 4], bias: [4] });
  });

  it("--layer takes a nested path; --gate keeps one gate; the Bidirectional's merge mode is shown", () => {
    const r = runCli(["weights", "samples/bidirectional-lstm.h5", "--layer", "bidirectional_1/backward_lstm_4", "--gate", "o"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("(one direction of a Bidirectional, merge_mode concat)");
    expect(r.stdout).toContain("bidirectional_1/backward_lstm_4 (LSTM, backward direction): 3 units, 2 input features");
    expect([...r.stdout.matchAll(/^(\w+) \(\d/gm)].map((m) => m[1])).toEqual(["kernel_o", "recurrent_kernel_o", "bias_o"]);
    const both = runCli(["weights", "samples/bidirectional-lstm.h5", "--layer", "bidirectional_1", "--gate", "f"]);
    expect(both.stdout).toContain("bidirectional_1 (Bidirectional, merge_mode concat): a forward and a backward LSTM");
    expect(both.stdout).toContain("bidirectional_1/forward_lstm_4 (LSTM): 3 units");
  });

  it("abbreviates a tensor of more than 1,000 values as numpy does (first and last 3 of each axis) unless --full", () => {
    const path = fixturePath("k2_lstm_dense_full.h5");
    if (!path) return;
    const r = runCli(["weights", path, "--layer", "lstm_1", "--gate", "f"]);
    expect(r.status).toBe(0);
    // h5dump -m %.9g -d "/model_weights/lstm_1/lstm_1/kernel:0" -s "0,50" -c "1,3": 0.059661597, 0.00975972414, 0.00818885863
    // kernel_f has 50 values, under numpy's threshold: every one is printed.
    const kf = section(r.stdout, "kernel_f (1 × 50)");
    expect(kf).not.toContain("…");
    expect(kf).toMatch(/│ +│ +unit 0 │ +unit 1 │ +unit 2 │ +unit 3 │/);
    expect(kf).toContain("unit 25");
    expect(kf).toMatch(/│ x\[0\] │ +0\.059662 │ +0\.009760 │ +0\.008189 │/);
    // recurrent_kernel_f has 2,500: rows and columns 0-2 and 47-49.
    const rk = section(r.stdout, "recurrent_kernel_f (50 × 50)");
    expect(rk).toMatch(/│ +│ +unit 0 │ +unit 1 │ +unit 2 │ … │ +unit 47 │ +unit 48 │ +unit 49 │/);
    expect(rk.split("\n").filter((l) => l.startsWith("│ h[")).map((l) => l.split("│")[1].trim())).toEqual(["h[0]", "h[1]", "h[2]", "h[47]", "h[48]", "h[49]"]);
    expect(rk).toContain("│ …     │");
    const full = runCli(["weights", path, "--layer", "lstm_1", "--gate", "f", "--full", "--digits", "3"]);
    const fullRk = section(full.stdout, "recurrent_kernel_f (50 × 50)");
    expect(fullRk).not.toContain("…");
    expect(fullRk.split("\n").filter((l) => l.startsWith("│ h["))).toHaveLength(50);
    expect(fullRk).toContain("unit 25");
    expect(section(full.stdout, "kernel_f (1 × 50)")).toMatch(/│ x\[0\] │ +0\.060 │ +0\.010 │ +0\.008 │/);
  });

  it("abbreviates the 5000 × 50 Embedding to its corners, and --full prints all 250,000 values", () => {
    const path = fixturePath("k2_embedding_gru_full.h5");
    if (!path) return;
    const r = runCli(["weights", path, "--layer", "embedding_2"]);
    expect(r.status).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => /^│ \[\d+\]/.test(l)).map((l) => l.split("│")[1].trim());
    expect(rows).toEqual(["[0]", "[1]", "[2]", "[4997]", "[4998]", "[4999]"]);
    const full = runCli(["weights", path, "--layer", "embedding_2", "--full"]);
    expect(full.status).toBe(0);
    const lines = full.stdout.split("\n").filter((l) => /^│ \[\d+\]/.test(l));
    expect(lines).toHaveLength(5000);
    // A row label and 50 values: 52 rules, so 53 pieces around them.
    expect(lines.every((l) => l.split("│").length === 53)).toBe(true);
  });

  it("shows non-recurrent layers plainly with their tensors", () => {
    const r = runCli(["weights", "samples/stacked-lstm-dense.h5", "--layer", "dense_1"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dense_1 \(Dense\)\n\nkernel \(4 × 1, float32\)\n/);
    expect(r.stdout).toContain("bias (1, float32)");
  });

  it("says when Keras 1 arrays were assembled and when CuDNN weights were converted", () => {
    const k1 = fixturePath("k1_lstm_theano_full.h5");
    if (k1) expect(runCli(["weights", k1, "--gate", "f"]).stdout).toContain("note: Keras 1 stored this LSTM as 12 per-gate arrays (order i, c, f, o); assembled into Keras 2's i, f, c, o layout");
    const cu = fixturePath("k2_cudnnlstm_functional_full.h5");
    if (cu) {
      const out = runCli(["weights", cu, "--layer", "cu_dnnlstm_1", "--gate", "i"]).stdout;
      expect(out).toContain("note: CuDNNLSTM weights converted to LSTM as Keras does");
      expect(out).toContain("activation tanh, recurrent_activation sigmoid");
    }
  });

  it("cuts ConvLSTM2D kernels by gate along the last axis and prints one table per kernel position", () => {
    const path = fixturePath("tfk2_convlstm2d_full.h5");
    if (!path) return;
    const r = runCli(["weights", path, "--layer", "conv_lst_m2d_2", "--gate", "f"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("conv_lst_m2d_2 (ConvLSTM2D): 4 filters, 4 input channels, kernel size 3 × 3, float32");
    expect(r.stdout).toContain("kernel_f (3 × 3 × 4 × 4): rows = input channel x[c], columns = filter");
    // h5dump -m %.9g -d "/model_weights/conv_lst_m2d_2/conv_lst_m2d_2/kernel:0" -s "1,2,3,4" -c "1,1,1,4":
    //   -0.0115338117, 0.00310714543, 0.0685233474, 0.0257026106  (filters 0-3 of gate f at [1, 2], channel 3)
    const at12 = r.stdout.slice(r.stdout.indexOf("kernel_f[1, 2, :, :]"));
    expect(at12).toMatch(/│ x\[3\] │ -0\.011534 │ +0\.003107 │ +0\.068523 │ +0\.025703 │/);
    // bias_f is all ones (unit_forget_bias), and the stats line says so.
    expect(r.stdout).toContain("min 1.000000  max 1.000000  mean 1.000000  std 0.000000  (all 4 values equal 1.000000)");
  });

  describe("bad input: one line, exit 2", () => {
    it("--layer naming no layer lists the layers", () => {
      const r = runCli(["weights", "samples/stacked-lstm-dense.h5", "--layer", "lstm_9"]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toBe("keras-inspect: no layer 'lstm_9' in samples/stacked-lstm-dense.h5; its layers: lstm_2, lstm_3, dense_1\n");
    });

    it("a gate the layer does not have", () => {
      const r = runCli(["weights", "samples/gru.h5", "--layer", "gru_1", "--gate", "f"]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toBe("keras-inspect: layer 'gru_1' has no gate 'f': GRU has gates z, r, h\n");
    });

    it("a recurrent layer whose tensor shape disagrees with its config names the tensor and both shapes", async () => {
      const w = await writer();
      const f32 = (n: number) => Array.from({ length: n }, (_, k) => 0.01 * k);
      const bytes = await w.writeKerasH5({
        modelConfig: w.sequentialConfig("sequential_1", [w.lstmConfig("lstm_1", 3, { batch_input_shape: [null, null, 2] })]),
        layers: [
          {
            name: "lstm_1",
            weights: [
              { name: "lstm_1/kernel:0", shape: [2, 12], data: f32(24) },
              { name: "lstm_1/recurrent_kernel:0", shape: [3, 12], data: f32(36) },
              { name: "lstm_1/bias:0", shape: [8], data: f32(8) },
            ],
          },
        ],
      });
      const file = join(scratch, "bad-bias.h5");
      writeFileSync(file, bytes);
      const r = runCli(["weights", file]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toContain("tensor 'bias' has shape [8] but units=3 implies [12]");
    });

    it.each([
      [["weights", "samples/missing.h5"], /samples\/missing\.h5: no such file/],
      [["weights", "samples/seed-lstm.h5", "--digits", "x"], /--digits must be a whole number/],
      [["weights"], /missing required argument/],
    ])("%j", (args, message) => {
      const r = runCli(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  });
});
