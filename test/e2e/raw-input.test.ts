// `--raw-input` feeds one layer directly (issue 13, item 1): on a model with several inputs
// it takes the one array for that layer, as it does on a one-input model, instead of asking
// for every model input. Its numbers are the layer's own: the same as stepping the layer
// from the model's input when that input reaches it unchanged (exact: same arithmetic).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../support/cli.js";
import { sampleWriter } from "../support/sample-writer.js";

const MULTI = "test/fixtures/real/k2_lstm_multi_io_states_full.h5"; // 5 inputs; lstm_8 reads input_2 (1 step, 10 features)
const X = "1,2,3,4,5,6,7,8,9,10";

function stepJson(args: string[]): { directions: unknown[] } {
  const r = runCli([...args, "--json"]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { directions: unknown[] };
}

describe("--raw-input on a model with several inputs", () => {
  it("step and explain take the one array for the layer", () => {
    const raw = stepJson(["step", MULTI, "--layer", "lstm_8", "--raw-input", "--input", X]);
    // input_2 goes straight into lstm_8: stepping it through the model gives the same trace.
    const named = ["input_1", "input_2", "input_3", "input_4", "input_5"].map((n) =>
      n === "input_2" ? `--input=${n}=${X}` : `--input=${n}=${n === "input_1" ? Array.from({ length: 17 }, () => "0,0,0,0").join(";") : n === "input_3" ? "0,0,0,0" : Array(12).fill(0).join(",")}`,
    );
    const viaModel = stepJson(["step", MULTI, "--layer", "lstm_8", ...named]);
    expect(raw.directions).toEqual(viaModel.directions);
    const e = runCli(["explain", MULTI, "--layer", "lstm_8", "--raw-input", "--input", X]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toContain("lstm_8 (LSTM)");
  });

  it("more than one array, or a model input's name, is one clear error", () => {
    for (const extra of [["--input", X, "--input", X], [`--input=input_2=${X}`]]) {
      const r = runCli(["step", MULTI, "--layer", "lstm_8", "--raw-input", ...extra]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toMatch(/--raw-input feeds one layer directly: give it one array/);
    }
  });
});

describe("--raw-input on a layer whose config contradicts its kernel", () => {
  const tmp = mkdtempSync(join(tmpdir(), "keras-inspect-raw-input-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  // Found by the fuzz suite (seed direct-1, iteration 260, h5-json-semantic): a GRU declaring
  // batch_input_shape [null, 905, 0] over a kernel of 1 row was stepped as if it took 1 feature.
  it("refuses in one line, naming both feature counts, instead of answering for the kernel", async () => {
    const w = await sampleWriter();
    const bytes = await w.writeKerasH5({
      modelConfig: w.sequentialConfig("sequential_1", [w.lstmConfig("lstm_1", 1, { batch_input_shape: [null, 3, 0], recurrent_activation: "sigmoid" })]),
      layers: [
        {
          name: "lstm_1",
          weights: [
            { name: "lstm_1/kernel:0", shape: [1, 4], data: [0.1, 0.2, 0.3, 0.4] },
            { name: "lstm_1/recurrent_kernel:0", shape: [1, 4], data: [0.5, 0.6, 0.7, 0.8] },
            { name: "lstm_1/bias:0", shape: [4], data: [0, 1, 0, 0] },
          ],
        },
      ],
    });
    const file = join(tmp, "contradiction.h5");
    writeFileSync(file, bytes);
    const r = runCli(["step", file, "--raw-input", "--input", "0.9;0.8;0.7"]);
    expect(r.status).toBe(2);
    expect(isCleanError(r), r.stderr).toBe(true);
    expect(r.stderr).toMatch(/layer 'lstm_1' declares 0 feature\(s\) per step \(input shape \[null,3,0\]\) but the kernel of 'lstm_1' takes 1; the file contradicts itself/);
  });
});
