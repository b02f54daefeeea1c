/**
 * float16 / bfloat16 models through the CLI, as a user runs them (issue 16, item 3): the
 * files Keras 3.15.1 wrote in test/fixtures/dtypes/ (write_dtype_fixtures.py). Their weights
 * are held exactly by every dtype, so each 16-bit file must print float32.keras' numbers
 * exactly (tolerance 0, the same float32 arithmetic on the same weights), and say in one
 * note which dtypes Keras computes in and which keras-inspect used.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

const DIR = "test/fixtures/dtypes";
const tmp = mkdtempSync(join(tmpdir(), "ki-half-"));
const x = join(tmp, "x.json");
writeFileSync(x, JSON.stringify(JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")).x));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function json(args: string[]) {
  const r = runCli(args);
  expect(r.status, r.stderr).toBe(0);
  return { doc: JSON.parse(r.stdout), stderr: r.stderr };
}

describe("16-bit models through the CLI", () => {
  it("weights and summary show the stored dtype and the widened values", () => {
    const tensors = json(["summary", `${DIR}/float16.h5`, "--weights", "--json"]).doc.tensors as { dtype: string }[];
    expect(tensors.length).toBe(8);
    for (const t of tensors) expect(t.dtype).toBe("float16");
    const cells = (file: string) => json(["weights", file, "--json"]).doc.layers.filter((l: { recurrent: boolean }) => l.recurrent).map((l: { cells: { tensors: unknown; notes: string[] }[] }) => l.cells[0]);
    const f16 = cells(`${DIR}/float16.h5`);
    const f32 = cells(`${DIR}/float32.keras`);
    expect(f16.map((c: { tensors: unknown }) => c.tensors)).toEqual(f32.map((c: { tensors: unknown }) => c.tensors));
    for (const c of f16) expect(c.notes).toEqual(["weights stored as float16, widened exactly to float32"]);
  });

  it("step --json: float32.keras' values, a note and a precision field", () => {
    const { doc } = json(["step", `${DIR}/bfloat16.keras`, "--input-file", x, "--json"]);
    const ref = json(["step", `${DIR}/float32.keras`, "--input-file", x, "--json"]).doc;
    expect(doc.precision).toEqual({ policies: ["bfloat16"], computeDtype: ["bfloat16"], variableDtype: ["bfloat16"], storedDtype: ["bfloat16"], evaluatedIn: "float32" });
    expect(doc.notes).toEqual([
      "dtype policy bfloat16: Keras computes in bfloat16 with bfloat16 variables; the bfloat16 weights are widened exactly to float32; keras-inspect computes in float32, not in bfloat16 as Keras does, so Keras' own outputs differ from these by bfloat16 rounding (about 1e-2 relative)",
    ]);
    expect(ref.precision).toBeUndefined();
    expect(doc.directions).toEqual(ref.directions);
    expect(doc.outputs).toEqual(ref.outputs);
  });

  it("explain prints the note", () => {
    const r = runCli(["explain", `${DIR}/float16.keras`, "--input-file", x]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/dtype policy float16: Keras computes in float16/g)).toHaveLength(1);
  });

  it("step text prints the note", () => {
    const r = runCli(["step", `${DIR}/mixed_float16.keras`, "--input-file", x]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(
      "note: dtype policy mixed_float16: Keras computes in float16 with float32 variables; keras-inspect computes in float32, not in float16 as Keras does, so Keras' own outputs differ from these by float16 rounding (about 1e-3 relative)",
    );
  });

  it("predict: float32.keras' outputs, the note on stderr, precision in --json", () => {
    const { doc, stderr } = json(["predict", `${DIR}/float16.weights.h5`.replace(".weights.h5", ".h5"), "--input-file", x, "--json"]);
    const ref = json(["predict", `${DIR}/float32.keras`, "--input-file", x, "--json"]).doc;
    expect(doc.precision).toMatchObject({ policies: ["float16"], storedDtype: ["float16"], evaluatedIn: "float32" });
    expect(doc.outputs[0].values).toEqual(ref.outputs[0].values);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^keras-inspect: note: dtype policy float16: .*the float16 weights are widened exactly to float32/);
    expect(ref.precision).toBeUndefined();
  });
});
