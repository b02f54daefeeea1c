/**
 * Keras 3 sharded weights (`*.weights.json` + `<base>_NNNNN.weights.h5`), issue 16, item 3.
 * sharded.weights.json was written by Keras 3.15.1's save_weights(max_shard_size=200 bytes)
 * from float32.keras' model (test/fixtures/dtypes/write_dtype_fixtures.py): three shards, the
 * LSTM's variables split between the first two. Read as one store, its tensors must be
 * float32.keras' exactly (tolerance 0: the same float32 datasets), and so must the LSTM's
 * step. Hostile copies are made in a temporary folder: each must be refused in one line
 * naming the problem, with exit code 2 (README: exit codes).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, statSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileError } from "../../src/errors.js";
import { evaluateStep } from "../../src/eval/step.js";
import { loadModel } from "../../src/load/index.js";
import { allWeights, type Model } from "../../src/model.js";
import { isCleanError, REPO_ROOT, runCli } from "../support/cli.js";

const DIR = join(REPO_ROOT, "test/fixtures/dtypes");
const SHARDS = ["sharded_00000.weights.h5", "sharded_00001.weights.h5", "sharded_00002.weights.h5"];
const tmp = mkdtempSync(join(tmpdir(), "ki-shards-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the sharded set in its own folder, its index rewritten by `edit`. */
function copySet(name: string, edit: (index: { weight_map: Record<string, string[]> }) => void = () => {}): string {
  const folder = join(tmp, name);
  mkdirSync(folder);
  for (const s of SHARDS) copyFileSync(join(DIR, s), join(folder, s));
  const index = JSON.parse(readFileSync(join(DIR, "sharded.weights.json"), "utf8"));
  edit(index);
  writeFileSync(join(folder, "sharded.weights.json"), JSON.stringify(index, null, 4));
  return join(folder, "sharded.weights.json");
}

function byClassAndRole(model: Model) {
  return new Map(model.layers.flatMap((l) => allWeights(l).map((t) => [`${l.className}/${t.name}`, t] as const)));
}

async function refusal(path: string): Promise<string> {
  const err = await loadModel(path).then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(FileError);
  expect(err.message).not.toContain("\n");
  return err.message;
}

describe("Keras 3 sharded weights", () => {
  it("reads the three shards as one store, equal to float32.keras", async () => {
    const model = await loadModel(join(DIR, "sharded.weights.json"));
    expect(model.format).toBe("keras3-weights");
    expect(model.name).toBe("sharded");
    expect(model.notes.at(-1)).toBe(`weights read from 3 shard file(s) listed in the index: ${SHARDS.join(", ")}`);
    const got = byClassAndRole(model);
    const want = byClassAndRole(await loadModel(join(DIR, "float32.keras")));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [role, t] of got) {
      expect(t.shape, role).toEqual(want.get(role)!.shape);
      expect(Array.from(t.data), role).toEqual(Array.from(want.get(role)!.data));
    }
    // Each tensor names the shard it came from; the LSTM's lie in two.
    const lstm = model.layers.find((l) => l.className === "LSTM")!;
    expect(lstm.weights.map((t) => t.path)).toEqual([
      "sharded_00000.weights.h5:/layers/lstm/cell/vars/0",
      "sharded_00001.weights.h5:/layers/lstm/cell/vars/1",
      "sharded_00001.weights.h5:/layers/lstm/cell/vars/2",
    ]);
  });

  it("steps the LSTM as the ordinary file does", async () => {
    const x = { shape: [1, 4, 3], data: Float64Array.from({ length: 12 }, (_, i) => (i - 6) / 8) };
    const step = async (file: string, layer: string) =>
      evaluateStep(await loadModel(join(DIR, file)), { dtype: "float32", inputs: [x], rawInput: true, layer }).trace.directions[0].values;
    const sharded = await step("sharded.weights.json", "lstm");
    const reference = await step("float32.keras", "lstm_1");
    expect(Array.from(sharded)).toEqual(Array.from(reference));
  });

  it("refuses a shard path that leaves the folder", async () => {
    const path = copySet("escape", (i) => (i.weight_map["/layers/dense/vars"] = ["../sharded_00002.weights.h5"]));
    expect(await refusal(path)).toBe(`${path}: weight shard '../sharded_00002.weights.h5' leaves the model's folder ('..'); only files in the model's folder are read`);
  });

  it("refuses a shard that links out of the folder", async () => {
    const path = copySet("link");
    const folder = join(tmp, "link");
    rmSync(join(folder, SHARDS[2]));
    symlinkSync(join(DIR, SHARDS[2]), join(folder, SHARDS[2]));
    expect(await refusal(path)).toMatch(/weight shard 'sharded_00002.weights.h5' resolves \(through a symbolic link\) to .*, outside the model's folder/);
  });

  it("refuses an index naming a missing shard", async () => {
    const path = copySet("missing", (i) => i.weight_map["/layers/gru/cell/vars"].push("sharded_00009.weights.h5"));
    expect(await refusal(path)).toBe(`${path}: weight shard 'sharded_00009.weights.h5': no such file`);
  });

  it("refuses a truncated shard", async () => {
    const path = copySet("truncated");
    const shard = join(tmp, "truncated", SHARDS[1]);
    truncateSync(shard, Math.floor(statSync(shard).size / 2));
    expect(await refusal(path)).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: weight shard 'sharded_00001.weights.h5': `));
  });

  it("refuses a map that places a group in a shard without it", async () => {
    const path = copySet("misplaced", (i) => (i.weight_map["/layers/dense/vars"] = ["sharded_00000.weights.h5"]));
    expect(await refusal(path)).toBe(`${path}: weight_map places '/layers/dense/vars' in shard 'sharded_00000.weights.h5', which has no such group`);
  });

  it("refuses an index without a weight_map of file names", async () => {
    const path = copySet("no-names", (i) => ((i.weight_map as Record<string, unknown>)["/layers/dense/vars"] = [3]));
    expect(await refusal(path)).toBe(`${path}: weight_map entry '/layers/dense/vars' does not name its shard files (a file name or a list of them)`);
  });

  it("the CLI: one line on stderr, exit code 2", () => {
    const path = copySet("cli", (i) => (i.weight_map["/layers/dense/vars"] = ["/etc/passwd"]));
    const r = runCli(["summary", path]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toContain("weight shard '/etc/passwd' is an absolute path; only files in the model's folder are read");
    const ok = runCli(["summary", join(DIR, "sharded.weights.json")]);
    expect(ok.status, ok.stderr).toBe(0);
  });
});
