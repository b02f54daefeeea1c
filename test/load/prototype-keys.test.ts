/**
 * Strings from a file used as keys: a class, activation or layer named "__proto__",
 * "constructor" or "toString" must be looked up as the plain string it is, never reach
 * Object.prototype. Found by the fuzzer (a GRU whose class_name became "__proto__" gave
 * "TABLE[className] is not a function"). The files are written with
 * samples/keras-h5-writer.mjs (a valid Keras 2.2 layout) around the reference example;
 * the layer named like a prototype member must give the seed table's h (|Δ| < 5e-7: the
 * table prints h with 7 decimals; float32 rounding moves it by about 1e-8).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { translateKeras1Config } from "../../src/load/config.js";
import { activationName, getActivation } from "../../src/activations.js";
import { storedWeightNames } from "../../src/layers/weight-names.js";
import { isCleanError, runCli } from "../support/cli.js";
import { type LayerConfig, type SampleWriter, sampleWriter, seedLstmWeights } from "../support/sample-writer.js";
import { SEED_TABLE } from "../support/seed.js";

const KEYS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
/** Through the CLI (a process each): the three kinds of key, setter, function and method. */
const CLI_KEYS = KEYS.slice(0, 3);

let dir: string;
let w: SampleWriter;

async function seedFile(file: string, name: string, layer: (c: LayerConfig) => object): Promise<string> {
  const path = join(dir, file);
  const cfg = w.lstmConfig(name, 1, { batch_input_shape: [null, 1, 2], dtype: "float32", recurrent_activation: "sigmoid" });
  writeFileSync(
    path,
    await w.writeKerasH5({
      modelConfig: w.sequentialConfig("seq", [layer(cfg)]),
      layers: [seedLstmWeights(name)],
    }),
  );
  return path;
}

beforeAll(async () => {
  w = await sampleWriter();
  dir = mkdtempSync(join(tmpdir(), "keras-inspect-proto-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("prototype property names from a file are plain strings", () => {
  it("the lookup tables answer 'unknown' for them", () => {
    for (const k of KEYS) {
      expect(storedWeightNames(k, {})).toBeUndefined();
      expect(activationName(k, "tanh")).toBe(k);
      expect(activationName({ class_name: "function", config: k }, "tanh")).toBe(k);
      expect(() => getActivation(k, "keras2", "lstm_1")).toThrow(/activation '.*' is not supported/);
    }
  });

  it("a Keras 1 config keeps them as its own keys and never takes a prototype from the file", () => {
    const cfg = JSON.parse('{"name": "lstm_1", "output_dim": 3, "consume_less": "toString", "__proto__": {"units": 7, "polluted": true}, "constructor": 1}');
    const out = translateKeras1Config("LSTM", cfg);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.units).toBe(3);
    expect((out as Record<string, unknown>).polluted).toBeUndefined();
    expect(out.implementation).toBeUndefined();
    expect(Object.keys(out)).toContain("__proto__");
    expect(out.constructor).toBe(1);
  });

  for (const k of CLI_KEYS) {
    it(`a layer named '${k}' is evaluated like any other`, async () => {
      const file = await seedFile(`named-${k}.h5`, k, (c) => c);
      const r = runCli(["step", file, "--input", "1,10", "--json"]);
      expect(r.status, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(JSON.stringify(doc)).toContain(`"${k}"`);
      expect(doc.directions[0].samples[0][0].h[0]).toBeCloseTo(SEED_TABLE.h, 6);
    });

    it(`a layer of class '${k}' is shown and refused by name, not by a JavaScript error`, async () => {
      const file = await seedFile(`class-${k}.h5`, "lstm_1", (c) => ({ ...c, class_name: k }));
      const s = runCli(["summary", file, "--weights"]);
      expect([0, 2]).toContain(s.status);
      if (s.status === 0) expect(s.stdout).toContain(k);
      else expect(isCleanError(s), s.stderr).toBe(true);
      const r = runCli(["step", file, "--input", "1,10"]);
      expect(r.status, r.stderr).toBe(2);
      expect(isCleanError(r), r.stderr).toBe(true);
      expect(r.stderr).toContain(k);
      expect(r.stderr).not.toMatch(/is not a function|Cannot read|undefined/);
    });

    for (const key of ["activation", "recurrent_activation"]) {
      it(`${key} '${k}' is an unsupported activation`, async () => {
        const file = await seedFile(`${key}-${k}.h5`, "lstm_1", (c) => ({ ...c, config: { ...c.config, [key]: k } }));
        const r = runCli(["step", file, "--input", "1,10"]);
        expect(r.status, r.stderr).toBe(2);
        expect(isCleanError(r), r.stderr).toBe(true);
        expect(r.stderr).toContain(`activation '${k}' is not supported`);
      });
    }
  }
});
