// summary through the real executable. Expected rows are what Keras' model.summary()
// prints for these models (the seed's row is given in DEVELOPERS.md:
// "lstm_1 (LSTM)  (None, 1)  16"); parameter counts follow Keras' formulas
// (LSTM 4(D·u + u² + u), GRU reset_after=False 3(D·u + u² + u), Dense D·u + u).
import { describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../support/cli.js";

function row(out: string, layer: string): string[] {
  const line = out.split("\n").find((l) => l.startsWith(`${layer} (`));
  if (!line) throw new Error(`no row for ${layer} in:\n${out}`);
  // Keras 2's sequential layout: columns end at 29, 55 and 65.
  return [line.slice(0, 29), line.slice(29, 55), line.slice(55, 65)].map((s) => s.trim());
}

describe("keras-inspect summary", () => {
  it("prints Keras' row for the seed LSTM", () => {
    const r = runCli(["summary", "samples/seed-lstm.h5"]);
    expect(r.status).toBe(0);
    expect(row(r.stdout, "lstm_1")).toEqual(["lstm_1 (LSTM)", "(None, 1)", "16"]);
    expect(r.stdout).toContain("Total params: 16\nTrainable params: 16\nNon-trainable params: 0");
    expect(r.stdout).toMatch(/Keras version: 2\.2\.4\s+Backend: tensorflow/);
  });

  it("prints every layer of the stacked sample with Keras' shapes and counts", () => {
    const r = runCli(["summary", "samples/stacked-lstm-dense.h5"]);
    expect(r.status).toBe(0);
    // D=3, u=8: 4(24 + 64 + 8) = 384; D=8, u=4: 4(32 + 16 + 4) = 208; Dense 4·1 + 1 = 5.
    expect(row(r.stdout, "lstm_2")).toEqual(["lstm_2 (LSTM)", "(None, 5, 8)", "384"]);
    expect(row(r.stdout, "lstm_3")).toEqual(["lstm_3 (LSTM)", "(None, 4)", "208"]);
    expect(row(r.stdout, "dense_1")).toEqual(["dense_1 (Dense)", "(None, 1)", "5"]);
    expect(r.stdout).toContain("Total params: 597");
  });

  it("shows a Bidirectional layer's concatenated output and both directions' parameters", () => {
    const r = runCli(["summary", "samples/bidirectional-lstm.h5"]);
    // Keras 2 truncates the first column at 29 characters, as here.
    expect(row(r.stdout, "bidirectional_1")).toEqual(["bidirectional_1 (Bidirection", "(None, 4, 6)", "144"]);
  });

  it("--json is one document with the documented fields", () => {
    const r = runCli(["summary", "samples/gru.h5", "--json", "--weights"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ format: "keras-h5", kerasVersion: "2.2.4", modelClass: "Sequential", totalParams: 94 });
    expect(doc.layers.map((l: { name: string }) => l.name)).toEqual(["gru_1", "dense_2"]);
    expect(doc.tensors.map((t: { name: string; shape: number[] }) => [t.name, t.shape])).toEqual([
      ["kernel", [2, 12]],
      ["recurrent_kernel", [4, 12]],
      ["bias", [12]],
      ["kernel", [4, 2]],
      ["bias", [2]],
    ]);
  });

  it.each([
    [["summary", "samples/missing.h5"], /samples\/missing\.h5: no such file/],
    [["summary", "samples"], /is a directory/],
    [["summary", "README.md"], /README\.md: /],
    [["summary"], /missing required argument 'file' \(run 'keras-inspect summary --help' for usage\)/],
    [["summary", "samples/seed-lstm.h5", "--bogus"], /unknown option '--bogus'/],
    [["bogus"], /unknown command 'bogus' \(run 'keras-inspect --help' for usage\)/],
    [["sumary", "x.h5"], /^keras-inspect: unknown command 'sumary' \(Did you mean summary\?\) \(run 'keras-inspect --help' for usage\)\n$/],
    [["summary", "samples/seed-lstm.h5", "--jsn"], /^keras-inspect: unknown option '--jsn' \(Did you mean --json\?\) \(run 'keras-inspect summary --help' for usage\)\n$/],
  ])("%j fails with one line and exit 2", (args, message) => {
    const r = runCli(args as string[]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(isCleanError(r), r.stderr).toBe(true);
  });
});
