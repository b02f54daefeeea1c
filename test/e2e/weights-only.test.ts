// Weights-only files (issue 13, item 2), through the real executable: without the model's
// structure, predict refuses and says what it would have to guess; step evaluates a layer
// fed directly and prints each setting it assumed (stderr, and `assumptions` in --json);
// --config supplies the structure from a model JSON, a .keras config.json or another model
// file, and the numbers then equal those of the full model, exactly (same file bytes, same
// arithmetic: any difference would be a wrong weight assignment, not rounding).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import h5wasm from "h5wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../support/cli.js";

const REAL = "test/fixtures/real";
const FULL = `${REAL}/k2_lstm_dense_full.h5`;
const WEIGHTS = `${REAL}/k2_lstm_dense_weights.h5`; // save_weights() of the same model (Keras 2.0.6)
const V3 = `${REAL}/tfk2_gru_stacked_v3.keras`;
const dir = mkdtempSync(join(tmpdir(), "ki-weights-only-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const X = "0.5"; // k2_lstm_dense takes (1 step, 1 feature)
const X_V3 = Array.from({ length: 20 }, (_, t) => Array.from({ length: 6 }, (_, f) => (((t * 7 + f * 3) % 11) / 10 - 0.5).toFixed(2)).join(",")).join(";");

let toJson: string; // the full model's model_config, as model.to_json() writes it
let renamed: string; // the same with other layer names (another instance of the architecture)
let v3Weights: string; // model.weights.h5 of the .keras archive: a Keras-3-format weights file
let v3Config: string; // its config.json

function values(args: string[]): number[] {
  const r = runCli([...args, "--json"]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { outputs: { values: number[] }[] }).outputs.flatMap((o) => o.values);
}

beforeAll(async () => {
  const m = await h5wasm.ready;
  m.FS.writeFile("/full.h5", readFileSync(FULL));
  const f = new h5wasm.File("/full.h5", "r");
  const config = JSON.parse(f.attrs.model_config.value as string) as { config: { config?: { name: string } }[] | { layers: { config: { name: string } }[] } };
  f.close();
  toJson = join(dir, "model.json");
  writeFileSync(toJson, JSON.stringify({ ...config, keras_version: "2.0.6", backend: "tensorflow" }));
  const layers = Array.isArray(config.config) ? config.config : config.config.layers;
  const text = JSON.stringify(config).replaceAll('"lstm_1"', '"lstm_9"').replaceAll('"dense_1"', '"dense_9"');
  expect(text).toContain("lstm_9");
  expect(layers.length).toBeGreaterThan(1);
  renamed = join(dir, "renamed.json");
  writeFileSync(renamed, text);
  const entries = unzipSync(readFileSync(V3));
  v3Weights = join(dir, "model.weights.h5");
  v3Config = join(dir, "config.json");
  writeFileSync(v3Weights, entries["model.weights.h5"]);
  writeFileSync(v3Config, entries["config.json"]);
});

describe("weights-only files without their structure", () => {
  it("predict refuses, naming what it would guess and --config", () => {
    const r = runCli(["predict", WEIGHTS, "--input", X]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toMatch(/stores weights only, so predict would guess return_sequences.*activations of its Dense layers.*--config FILE/);
  });

  it("a Keras 3 weights file is refused too: it does not record the order of its layers", () => {
    const r = runCli(["predict", v3Weights, "--input", X_V3]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toMatch(/the order of its layers/);
    const s = runCli(["step", v3Weights, "--layer", "gru", "--input", X_V3]);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/does not record the order of its layers, so what feeds 'gru' is unknown: .*--raw-input.*--config/);
  });

  it("step on the first layer says every assumption on stderr and in --json", () => {
    const r = runCli(["step", WEIGHTS, "--input", X]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("keras-inspect: assumed: lstm_1: activation tanh, recurrent_activation hard_sigmoid (the Keras 2 defaults; the file does not record them)");
    expect(r.stderr).toContain("keras-inspect: assumed: lstm_1: go_backwards false, no masking");
    const j = runCli(["step", WEIGHTS, "--input", X, "--json"]);
    expect((JSON.parse(j.stdout) as { assumptions: string[] }).assumptions).toHaveLength(2);
  });

  it("step past the first layer refuses unless the layer is fed directly", () => {
    const file = `${REAL}/k2_lstm_stacked_theano_weights.h5`;
    const r = runCli(["step", file, "--layer", "lstm_2", "--input", "0.5"]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toMatch(/'lstm_2' follows 1 layer\(s\) whose settings .* does not record \(weights only: lstm_1: LSTM\): step it on its own input with --raw-input, or give the model's structure with --config/);
    const raw = runCli(["step", file, "--layer", "lstm_2", "--raw-input", "--input", Array.from({ length: 96 }, () => "0.1").join(",")]);
    expect(raw.status, raw.stderr).toBe(0);
    expect(raw.stderr).toContain("assumed: lstm_2:");
  });
});

describe("--config gives a weights-only file its structure", () => {
  it("from the full model file, a to_json() JSON, or a config with other layer names: predict equals the full model's", () => {
    const expected = values(["predict", FULL, "--input", X]);
    expect(values(["predict", WEIGHTS, "--config", FULL, "--input", X])).toEqual(expected);
    expect(values(["predict", WEIGHTS, "--config", toJson, "--input", X])).toEqual(expected);
    expect(values(["predict", WEIGHTS, "--config", renamed, "--input", X])).toEqual(expected);
    const s = runCli(["summary", WEIGHTS, "--config", renamed]);
    expect(s.stdout).toMatch(/matched in order, as Keras' load_weights does: lstm_1 → lstm_9, dense_1 → dense_9/);
    // No assumptions once the structure is known.
    const step = runCli(["step", WEIGHTS, "--config", FULL, "--input", X]);
    expect(step.status, step.stderr).toBe(0);
    expect(step.stderr).toBe("");
  });

  it("a Keras 3 weights file with its config.json or its .keras: predict equals the archive's", () => {
    const expected = values(["predict", V3, "--input", X_V3]);
    expect(values(["predict", v3Weights, "--config", v3Config, "--input", X_V3])).toEqual(expected);
    expect(values(["predict", v3Weights, "--config", V3, "--input", X_V3])).toEqual(expected);
  });

  it("check --expect needs the structure too, and passes with it", () => {
    const y = join(dir, "y.npy");
    const made = runCli(["predict", FULL, "--input", X, "-o", y]);
    expect(made.status, made.stderr).toBe(0);
    const without = runCli(["check", WEIGHTS, "--input", X, "--expect", y]);
    expect(without.status).toBe(2);
    expect(without.stderr).toMatch(/stores weights only, so check --expect would guess .*--config FILE/);
    const withConfig = runCli(["check", WEIGHTS, "--config", FULL, "--input", X, "--expect", y]);
    expect(withConfig.status, withConfig.stdout + withConfig.stderr).toBe(0);
  });

  it("refuses a config of another model, and a file that has its own", () => {
    const other = runCli(["predict", WEIGHTS, "--config", `${REAL}/k2_mlp_full.h5`, "--input", X]);
    expect(other.status).toBe(2);
    expect(isCleanError(other)).toBe(true);
    expect(other.stderr).toMatch(/not this model's weights/);
    const own = runCli(["predict", FULL, "--config", FULL, "--input", X]);
    expect(own.status).toBe(2);
    expect(isCleanError(own)).toBe(true);
    expect(own.stderr).toMatch(/--config applies to weights-only files; .* records its own model config/);
    const notConfig = runCli(["predict", WEIGHTS, "--config", WEIGHTS, "--input", X]);
    expect(notConfig.status).toBe(2);
    expect(notConfig.stderr).toMatch(/has no model_config \(it is a weights-only file too\)/);
    writeFileSync(join(dir, "bad.json"), '{"layers": []}');
    const bad = runCli(["predict", WEIGHTS, "--config", join(dir, "bad.json"), "--input", X]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is JSON but not a Keras model config/);
    const missing = runCli(["predict", WEIGHTS, "--config", join(dir, "nope.json"), "--input", X]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: no such file/);
  });
});
