// `--raw-input` feeds one layer directly (issue 13, item 1): on a model with several inputs
// it takes the one array for that layer, as it does on a one-input model, instead of asking
// for every model input. Its numbers are the layer's own: the same as stepping the layer
// from the model's input when that input reaches it unchanged (exact: same arithmetic).
import { describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../support/cli.js";

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
