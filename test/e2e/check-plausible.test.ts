// `check`'s plausibility warning (issue 13, item 9): a value no trained float32 weight has
// (-2.8e37, or 1e6 in a tensor of ~0.2 values) is a warning naming tensor, index and
// value, in text, --json, JUnit and GitHub annotations; --strict makes it fail (exit 1).
// No real file may be flagged: every real fixture here and in ../shared is judged.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plausibleCheck, PLAUSIBLE_SPREAD } from "../../src/check/values.js";
import { loadModel } from "../../src/load/index.js";
import { walkLayers } from "../../src/model.js";
import { runCli } from "../support/cli.js";
import { LOCAL_FIXTURES, SHARED_FIXTURES } from "../load/fixture-paths.js";

const dir = mkdtempSync(join(tmpdir(), "ki-plausible-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const REAL = join(LOCAL_FIXTURES, "k2_lstm_dense_full.h5"); // Apache-2.0, copied with provenance
let huge: string;
let million: string;

/**
 * A copy of a real file with one float32 of one tensor replaced: the tensor's bytes are
 * found in the file (HDF5 stores this one contiguous and little-endian) by the run of four
 * values starting at the index, which occurs once.
 */
async function patched(name: string, layer: string, tensor: string, index: number, value: number): Promise<string> {
  const model = await loadModel(REAL);
  const t = [...walkLayers(model.layers)].find((l) => l.path === layer)!.layer.weights.find((w) => w.name === tensor)!;
  const run = Buffer.from(Float32Array.from(t.data.subarray(index, index + 4)).buffer);
  const bytes = readFileSync(REAL);
  const at = bytes.indexOf(run);
  expect(at).toBeGreaterThan(0);
  expect(bytes.indexOf(run, at + 1)).toBe(-1);
  bytes.writeFloatLE(value, at);
  const out = join(dir, name);
  writeFileSync(out, bytes);
  return out;
}

beforeAll(async () => {
  huge = await patched("huge.h5", "lstm_1", "recurrent_kernel", 7 * 200 + 13, -2.8e37);
  million = await patched("million.h5", "lstm_1", "kernel", 42, 1e6);
});

describe("check flags implausible weights by default, as a warning", () => {
  it("-2.8e37: a warning naming tensor, index and value; exit 0; --strict exits 1", () => {
    const r = runCli(["check", huge]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^! plausible\s+implausible value\(s\): lstm_1\/recurrent_kernel\[7, 13\] = -2\.800e\+37: beyond ±2\^64, where w² overflows float32$/m);
    expect(r.stdout).toMatch(/^PASS: 3 of 4 check\(s\) passed \(1 warning\(s\)\)$/m);
    const strict = runCli(["check", huge, "--strict"]);
    expect(strict.status).toBe(1);
    expect(strict.stdout).toMatch(/^✗ plausible\s+implausible value\(s\): lstm_1\/recurrent_kernel\[7, 13\].*\(a warning; --strict fails it\)$/m);
    expect(strict.stdout.trimEnd().split("\n").pop()).toBe("FAIL: 1 of 4 check(s) failed: plausible");
  });

  it("1e6 in a kernel of ~0.2 values: far beyond the tensor's own spread", () => {
    const r = runCli(["check", million, "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    const c = doc.checks.find((k: { id: string }) => k.id === "plausible");
    expect(c.status).toBe("warn");
    expect(c.detail).toMatch(/^implausible value\(s\): lstm_1\/kernel\[0, 42\] = 1\.000e\+6: [\d.e+]+ MADs from the tensor's median/);
    expect(doc.results.plausible.implausible).toEqual([expect.objectContaining({ tensor: "lstm_1/kernel", index: [0, 42], value: 1e6, reason: "spread" })]);
    expect(doc.counts.warn).toBe(1);
    expect(doc.verdict).toBe("pass");
  });

  it("JUnit carries the warning as a passing test's system-out; GitHub Actions as ::warning", () => {
    const xml = join(dir, "r.xml");
    const r = runCli(["check", million, "--junit", xml], { env: { GITHUB_ACTIONS: "true" } });
    expect(r.status).toBe(0);
    const text = readFileSync(xml, "utf8");
    expect(text).toMatch(/<testcase classname="keras-inspect.check" name="plausible" time="0">\s*<system-out>warning: implausible value\(s\): lstm_1\/kernel\[0, 42\]/);
    expect(text).toMatch(/failures="0"/);
    expect(r.stdout).toMatch(/^::warning file=.*million\.h5,title=keras-inspect check%3A plausible::implausible value\(s\): lstm_1\/kernel\[0, 42\]/m);
  });

  it("the untouched file passes", () => {
    const r = runCli(["check", REAL]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^✓ plausible\s+every value of \d+ tensor\(s\) within 10000 MADs/m);
  });
});

describe("no real file is flagged", () => {
  const files = [LOCAL_FIXTURES, SHARED_FIXTURES]
    .filter((d) => existsSync(d))
    .flatMap((d) => readdirSync(d).filter((f) => /\.(h5|keras)$/.test(f)).map((f) => join(d, f)));
  if (!existsSync(SHARED_FIXTURES)) console.log(`[check-plausible] ${SHARED_FIXTURES} is absent: judging test/fixtures/real only`);

  it(`every real fixture's tensors stay within ${PLAUSIBLE_SPREAD} MADs (the widest measured: 521, a GRU kernel)`, async () => {
    let widest = 0;
    for (const f of files) {
      const c = plausibleCheck(await loadModel(f, { missingTensors: "keep" }));
      expect(c.status, `${f}: ${c.detail}`).toBe("pass");
      widest = Math.max(widest, (c.data as { widest: { mads: number } | null }).widest?.mads ?? 0);
    }
    expect(widest).toBeLessThan(PLAUSIBLE_SPREAD / 10);
  }, 60_000);
});
