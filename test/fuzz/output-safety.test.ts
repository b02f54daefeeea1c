/**
 * Output safety (issue 7, part 4): names and strings from a file reach the terminal with
 * control characters and escape sequences neutralized, and --json stays valid JSON that
 * gives the names back exactly. The model is written with samples/keras-h5-writer.mjs
 * (a valid Keras 2.2 file); its layer names carry an ANSI colour sequence, BEL, an OSC
 * title sequence, a newline, a C1 CSI and a right-to-left override. Runs the built CLI as a
 * user would (npm test builds dist/ first).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../support/cli.js";
import { sampleWriter, seedLstmWeights } from "../support/sample-writer.js";

const RNN = "\u001b[31mred\u0007";
const DENSE = "\u001b]0;pwned\u0007nl\nC1\u009b2J\u202eevil";
/** C0 controls except newline and tab, DEL, C1 controls, bidi overrides and isolates: what may not reach a terminal raw. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let dir: string;
let file: string;
/** Same model, hostile strings elsewhere: keras_version, backend, and an unknown layer class. */
let file2: string;
/** Same model again, hostile activation names (fuzz seed issue7-close, iteration 7218: weights printed one raw). */
let file3: string;


beforeAll(async () => {
  const w = await sampleWriter();
  dir = mkdtempSync(join(tmpdir(), "keras-inspect-names-"));
  file = join(dir, "nasty-names.h5");
  const bytes = await w.writeKerasH5({
    modelConfig: w.sequentialConfig("sequential_\u001b[2J", [
      w.lstmConfig(RNN, 1, { batch_input_shape: [null, 2, 2], dtype: "float32", recurrent_activation: "sigmoid" }),
      w.denseConfig(DENSE, 1),
    ]),
    layers: [
      seedLstmWeights(RNN),
      {
        name: DENSE,
        weights: [
          { name: `${DENSE}/kernel:0`, shape: [1, 1], data: [0.5] },
          { name: `${DENSE}/bias:0`, shape: [1], data: [0.25] },
        ],
      },
    ],
  });
  writeFileSync(file, bytes);
  file2 = join(dir, "nasty-strings.h5");
  const lstm = seedLstmWeights("lstm_1");
  writeFileSync(
    file2,
    await w.writeKerasH5({
      kerasVersion: "2.2.4\u001b[2J\u0007",
      backend: "tensorflow\u001b]0;x\u0007",
      modelConfig: w.sequentialConfig("seq", [
        // hard_sigmoid: explain then quotes the writer's version in its note on the definition.
        w.lstmConfig("lstm_1", 1, { batch_input_shape: [null, 2, 2], dtype: "float32", recurrent_activation: "hard_sigmoid" }),
        { class_name: "Evil\u001b[31mLayer\u009b", config: { name: "evil_1" } },
      ]),
      layers: [lstm, { name: "evil_1", weights: [] }],
    }),
  );
  file3 = join(dir, "nasty-activations.h5");
  writeFileSync(
    file3,
    await w.writeKerasH5({
      modelConfig: w.sequentialConfig("seq", [
        w.lstmConfig("lstm_1", 1, { batch_input_shape: [null, 2, 2], dtype: "float32", activation: "\u001b[2J", recurrent_activation: "sig\u001b]0;x\u0007" }),
        w.denseConfig("dense_1", 1, { activation: "\u009b31m\u202e" }),
      ]),
      layers: [
        lstm,
        {
          name: "dense_1",
          weights: [
            { name: "dense_1/kernel:0", shape: [1, 1], data: [0.5] },
            { name: "dense_1/bias:0", shape: [1], data: [0.25] },
          ],
        },
      ],
    }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every string inside a parsed JSON document. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push(k), strings(x, out);
  return out;
}

const INPUT = ["--input", "1,10;2,20"];

describe("names from the file cannot drive the terminal", () => {
  const textRuns: [string, string[]][] = [
    ["summary", ["summary", "FILE"]],
    ["summary --weights", ["summary", "FILE", "--weights"]],
    ["step", ["step", "FILE", ...INPUT]],
    ["weights", ["weights", "FILE"]],
    ["predict", ["predict", "FILE", ...INPUT]],
    ["check", ["check", "FILE", ...INPUT]],
    ["explain", ["explain", "FILE", ...INPUT]],
  ];
  for (const [label, argv] of textRuns) {
    it(`${label}: no raw control characters in the text output`, () => {
      const r = runCli(argv.map((a) => (a === "FILE" ? file : a)));
      if (/unknown command/.test(r.stderr)) return; // a command not written yet
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(RAW_CONTROL);
      expect(r.stderr).not.toMatch(RAW_CONTROL);
      // The layer name shows up, escaped.
      if (label !== "predict") expect(r.stdout).toContain("\\x1b[31mred\\x07");
    });
  }

  const jsonRuns: [string, string[]][] = [
    ["summary --json", ["summary", "FILE", "--weights", "--json"]],
    ["step --json", ["step", "FILE", ...INPUT, "--json"]],
    ["weights --json", ["weights", "FILE", "--json"]],
    ["check --json", ["check", "FILE", ...INPUT, "--json"]],
  ];
  for (const [label, argv] of jsonRuns) {
    it(`${label}: valid JSON, no raw control characters, the names given back exactly`, () => {
      const r = runCli(argv.map((a) => (a === "FILE" ? file : a)));
      if (/unknown command/.test(r.stderr)) return;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.replace(/\n/g, "")).not.toMatch(RAW_CONTROL);
      const doc = JSON.parse(r.stdout);
      const all = strings(doc);
      expect(all.some((s) => s.includes(RNN))).toBe(true);
      // step and check talk about the recurrent layer only; the others list every layer.
      if (label === "summary --json" || label === "weights --json") expect(all.some((s) => s.includes(DENSE))).toBe(true);
    });
  }

  it("an error naming a layer from the command line stays one escaped line", () => {
    const r = runCli(["step", file, ...INPUT, "--layer", "\u001b[2Jnope\u0007"]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr.replace(/\n$/, "")).not.toMatch(RAW_CONTROL);
    // The layer list in the message carries the file's names, escaped too.
    expect(r.stderr).toContain("\\x1b[31mred\\x07");
  });

  const otherStrings: [string, string[]][] = [
    ["summary", ["summary", "FILE"]],
    ["summary --json", ["summary", "FILE", "--json"]],
    ["weights", ["weights", "FILE"]],
    ["step", ["step", "FILE", ...INPUT]],
    ["explain", ["explain", "FILE", ...INPUT]],
    ["check", ["check", "FILE", ...INPUT]],
    ["predict (refuses the unknown class)", ["predict", "FILE", ...INPUT]],
  ];
  for (const [label, argv] of otherStrings) {
    it(`keras_version, backend and class names from the file: ${label} prints none of their control characters`, () => {
      const r = runCli(argv.map((a) => (a === "FILE" ? file2 : a)));
      if (/unknown command/.test(r.stderr)) return;
      expect([0, 1, 2]).toContain(r.status);
      if (r.status === 2) expect(isCleanError(r)).toBe(true);
      expect(r.stdout.replace(/\n/g, "")).not.toMatch(RAW_CONTROL);
      expect(r.stderr.replace(/\n$/, "")).not.toMatch(RAW_CONTROL);
      if (label.endsWith("--json")) expect(() => JSON.parse(r.stdout)).not.toThrow();
    });
  }
  const activationRuns: [string, string[]][] = [
    ["summary --weights", ["summary", "FILE", "--weights"]],
    ["summary --json", ["summary", "FILE", "--json"]],
    ["weights", ["weights", "FILE"]],
    ["weights --json", ["weights", "FILE", "--json"]],
    ["step (refuses the activation)", ["step", "FILE", ...INPUT]],
    ["explain (refuses the activation)", ["explain", "FILE", ...INPUT]],
    ["predict (refuses the activation)", ["predict", "FILE", ...INPUT]],
    ["check", ["check", "FILE", ...INPUT]],
    ["diff against the clean model", ["diff", "OTHER", "FILE"]],
  ];
  for (const [label, argv] of activationRuns) {
    it(`activation names from the file: ${label} prints none of their control characters`, () => {
      const r = runCli(argv.map((a) => (a === "FILE" ? file3 : a === "OTHER" ? file : a)));
      if (/unknown command/.test(r.stderr)) return;
      expect([0, 1, 2]).toContain(r.status);
      if (r.status === 2) expect(isCleanError(r), r.stderr).toBe(true);
      expect(r.stdout.replace(/\n/g, "")).not.toMatch(RAW_CONTROL);
      expect(r.stderr.replace(/\n$/, "")).not.toMatch(RAW_CONTROL);
      if (label.includes("--json")) expect(() => JSON.parse(r.stdout)).not.toThrow();
      if (label.startsWith("weights") && !label.includes("--json")) expect(r.stdout).toContain("\\x1b[2J");
    });
  }
});
