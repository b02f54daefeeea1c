/**
 * `predict` through the CLI: batches (--batch-size) change nothing in the answer, and
 * --output writes what --json prints, as .npy, .csv or .json. The numbers themselves are
 * checked against tfjs and numpy elsewhere (test/eval); here the reference is the
 * in-process forward pass over all samples at once, and numpy's reading of the .npy
 * format (src/npy.ts reader, which the check tests hold to numpy-written files).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { predict } from "../../src/eval/predict.js";
import { modelInputs } from "../../src/eval/step.js";
import { loadModel } from "../../src/load/index.js";
import { readNpy, writeNpyFloat32 } from "../../src/npy.js";
import { toJson } from "../../src/present/json.js";
import { shortestFloat32 } from "../../src/present/text.js";
import { Draw, prng } from "../reference/keras-golden.js";
import { isCleanError, REPO_ROOT, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ki-predict-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GRU = join(REPO_ROOT, "samples/gru.h5");
const MULTI = join(REPO_ROOT, "test/fixtures/real/k2_lstm_multi_io_states_full.h5");

/** 7 samples of 3 steps × 2 features, written as .npy. */
const d = new Draw(prng(11));
const X = d.tensor(7, 3, 2, -2, 2);
const xFile = join(dir, "x.npy");
writeFileSync(xFile, writeNpyFloat32([7, 3, 2], X.flat(2)));

async function inProcess(file: string, inputFiles: string[], dtype: "float32" | "float64" = "float32") {
  const model = await loadModel(file);
  const arrays = inputFiles.map((f) => readNpy(readFileSync(f), f));
  return predict(model, modelInputs(model, arrays, arrays.map(() => "--input")), { dtype });
}

describe("predict in batches", () => {
  it("prints the same for every batch size, and what the whole forward pass computes", async () => {
    const all = runCli(["predict", GRU, "--input-file", xFile]);
    expect(all.status, all.stderr).toBe(0);
    for (const bs of ["1", "2", "3", "7"]) {
      const r = runCli(["predict", GRU, "--input-file", xFile, "--batch-size", bs]);
      expect(r.stdout, `--batch-size ${bs}`).toBe(all.stdout);
    }
    const ref = await inProcess(GRU, [xFile]);
    const { name, value } = ref.outputs[0];
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`${name}: shape (${value.shape.join(", ")}) (samples first)`);
    const printed = (JSON.parse(lines[1]) as number[][]).flat();
    // Printed with 6 decimals: within half a unit of the 6th decimal.
    printed.forEach((v, k) => expect(Math.abs(v - value.data[k])).toBeLessThanOrEqual(5e-7));
  });

  it("worker threads give the same bytes as one thread, and a worker's error is one line with its exit code", () => {
    const one = runCli(["predict", GRU, "--input-file", xFile, "--batch-size", "2", "--threads", "1", "--json"]);
    const two = runCli(["predict", GRU, "--input-file", xFile, "--batch-size", "2", "--threads", "2", "--json"]);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    // The Lambda layer is met inside the workers, batch by batch: refused there, reported here.
    const x1 = join(dir, "x1.npy");
    writeFileSync(x1, writeNpyFloat32([4, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
    const lambda = runCli(["predict", join(REPO_ROOT, "test/fixtures/fuzz/lambda-first.h5"), "--input-file", x1, "--batch-size", "2", "--threads", "2"]);
    expect(lambda.status).toBe(2);
    expect(isCleanError(lambda), lambda.stderr).toBe(true);
    expect(lambda.stderr).toContain("Lambda layer");
  });

  it("--json streams the document toJson makes of the whole result, float32 values as their shortest decimals", async () => {
    const r = runCli(["predict", GRU, "--input-file", xFile, "--json", "--batch-size", "3"]);
    expect(r.status, r.stderr).toBe(0);
    const ref = await inProcess(GRU, [xFile]);
    expect(r.stdout).toBe(`${toJson({ outputs: ref.outputs.map(({ name, value }) => ({ name, shape: value.shape, values: Array.from(value.data, shortestFloat32) })) })}\n`);
    // Every number reads back as the float32 computed.
    const doc = JSON.parse(r.stdout) as { outputs: { values: number[] }[] };
    doc.outputs[0].values.forEach((v, k) => expect(Math.fround(v)).toBe(ref.outputs[0].value.data[k]));
    const f64 = runCli(["predict", GRU, "--input-file", xFile, "--json", "--dtype", "float64"]);
    const ref64 = await inProcess(GRU, [xFile], "float64");
    expect(f64.stdout).toBe(`${toJson({ outputs: ref64.outputs.map(({ name, value }) => ({ name, shape: value.shape, values: value.data })) })}\n`);
  });

  it("a model with several outputs: text, JSON and one file per output, equal for any batch size", async () => {
    const shapes: Record<string, number[]> = { input_1: [17, 4], input_2: [1, 10], input_3: [5, 4], input_4: [12], input_5: [12] };
    const files = Object.entries(shapes).map(([name, shape]) => {
      const f = join(dir, `${name}.npy`);
      const n = shape.reduce((a, b) => a * b, 1);
      writeFileSync(f, writeNpyFloat32([3, ...shape], Array.from(d.floats(3 * n, -1, 1))));
      return { name, f };
    });
    const args = ["predict", MULTI, ...files.flatMap(({ name, f }) => ["--input-file", `${name}=${f}`])];
    const whole = runCli([...args, "--json"]);
    expect(whole.status, whole.stderr).toBe(0);
    const ref = await inProcess(MULTI, files.map(({ f }) => f));
    expect(whole.stdout).toBe(`${toJson({ outputs: ref.outputs.map(({ name, role, value }) => ({ name, ...(role ? { role } : {}), shape: value.shape, values: Array.from(value.data, shortestFloat32) })) })}\n`);
    // A layer's several outputs are told apart as Keras numbers them, and say what they are (issue 13, item 4).
    expect(ref.outputs.filter((o) => o.layer === "lstm_3").map((o) => [o.name, o.role])).toEqual([["lstm_3", "output"], ["lstm_3:1", "state_h"], ["lstm_3:2", "state_c"]]);
    expect(runCli(args).stdout).toMatch(/^lstm_3:1 \(state_h\): shape \(3, 3\) \(samples first\)$/m);
    expect(runCli([...args, "--json", "--batch-size", "2"]).stdout).toBe(whole.stdout);
    expect(runCli([...args, "--batch-size", "1"]).stdout).toBe(runCli(args).stdout);

    const out = runCli([...args, "--output", join(dir, "multi.npy"), "--batch-size", "2"]);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout.trimEnd().split("\n")).toHaveLength(ref.outputs.length);
    const doc = JSON.parse(whole.stdout) as { outputs: { name: string; shape: number[]; values: number[] }[] };
    // Files are named by layer; a layer's several outputs (lstm_3: output, h, c) by their count.
    const layerOf = (name: string) => name.replace(/[:@].*$/, "");
    const repeats = (layer: string) => doc.outputs.filter((o) => layerOf(o.name) === layer).length;
    const seen = new Map<string, number>();
    for (const o of doc.outputs) {
      const layer = layerOf(o.name);
      const n = seen.get(layer) ?? 0;
      seen.set(layer, n + 1);
      const y = readNpy(readFileSync(join(dir, `multi.${layer}${repeats(layer) > 1 ? `.${n}` : ""}.npy`)), o.name);
      expect(y.shape).toEqual(o.shape);
      expect(Array.from(y.data)).toEqual(o.values.map(Math.fround));
    }
  });
});

describe("predict text past 1,000 values", () => {
  it("shows the first and last 3 samples around … as numpy does, whatever the batches; --full shows all", () => {
    const x = join(dir, "x600.npy");
    writeFileSync(x, writeNpyFloat32([600, 3, 2], Array.from(d.floats(3600, -1, 1))));
    const rows = (text: string) => text.split("\n")[1].slice(1, -1).split(/, (?=[[…])/);
    const full = runCli(["predict", "samples/gru.h5", "--input-file", x, "--full"]);
    expect(full.status, full.stderr).toBe(0);
    const all = rows(full.stdout);
    expect(all).toHaveLength(600);
    for (const batch of ["7", "16", "600"]) {
      const short = runCli(["predict", "samples/gru.h5", "--input-file", x, "--batch-size", batch]);
      expect(short.stdout.split("\n")[0]).toBe("dense_2: shape (600, 2) (samples first)");
      expect(rows(short.stdout)).toEqual([...all.slice(0, 3), "…", ...all.slice(597)]);
    }
  });
});

describe("predict --output", () => {
  it(".npy: float32 in float32 mode, float64 in float64 mode, shape (samples, …), the values --json prints", async () => {
    for (const dtype of ["float32", "float64"] as const) {
      const file = join(dir, `y-${dtype}.npy`);
      const r = runCli(["predict", GRU, "--input-file", xFile, "--output", file, "--dtype", dtype, "--batch-size", "4"]);
      expect(r.status, r.stderr).toBe(0);
      const bytes = readFileSync(file);
      expect(bytes.subarray(0, 128).toString("latin1")).toContain(dtype === "float32" ? "'<f4'" : "'<f8'");
      const y = readNpy(bytes, file);
      const ref = await inProcess(GRU, [xFile], dtype);
      expect(y.shape).toEqual(ref.outputs[0].value.shape);
      expect(Array.from(y.data)).toEqual(Array.from(ref.outputs[0].value.data));
      expect(r.stdout).toMatch(new RegExp(`^wrote .*y-${dtype}\\.npy: shape \\(7, 2\\), ${dtype}\\n$`));
    }
  });

  it(".csv: a header naming each value, then one row per sample that reads back exactly", async () => {
    const file = join(dir, "y.csv");
    const r = runCli(["predict", GRU, "--input-file", xFile, "--output", file, "--batch-size", "3"]);
    expect(r.status, r.stderr).toBe(0);
    const [header, ...rows] = readFileSync(file, "utf8").trimEnd().split("\n");
    const ref = await inProcess(GRU, [xFile]);
    const { name, value } = ref.outputs[0];
    expect(header).toBe(`"${name}[0]","${name}[1]"`.replace(/"/g, ""));
    expect(rows).toHaveLength(7);
    // float32 values as their shortest decimals: each reads back as the float32 computed.
    expect(rows.flatMap((row) => row.split(",").map((v) => Math.fround(Number(v))))).toEqual(Array.from(value.data));
  });

  it(".json: the document --json prints", () => {
    const file = join(dir, "y.json");
    const r = runCli(["predict", GRU, "--input-file", xFile, "--output", file]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(runCli(["predict", GRU, "--input-file", xFile, "--json"]).stdout);
  });

  it("refuses an unknown extension, an unwritable path and a batch size of 0 with one line and exit 2", () => {
    for (const args of [
      ["--output", join(dir, "y.txt")],
      ["--output", join(dir, "no-such-dir", "y.npy")],
      ["--batch-size", "0"],
      ["--threads", "0"],
      ["--threads", "many"],
    ]) {
      const r = runCli(["predict", GRU, "--input-file", xFile, ...args]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(isCleanError(r), r.stderr).toBe(true);
    }
  });
});
