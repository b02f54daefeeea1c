/**
 * The short fuzz run of `npm test` (issue 7): a fixed seed, a few hundred mutated copies
 * of the real fixtures (Keras files, and small TFLite, ONNX and TensorFlow.js exports),
 * each through summary, weights, step and check (those that exist) in two fuzz workers,
 * plus a sample through the built CLI binary. Every outcome must be an answer or one
 * clean error line with exit 2: no crash, hang, out-of-memory, stack trace, internal error, unsafe output, invalid JSON, silent NaN or silently wrong answer,
 * and the probes re-run between files must keep printing what they printed at the start.
 *
 * The long run is `npm run fuzz -- --iterations 10000 --seed S` (see test/fuzz/cli.ts).
 */
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_COMMANDS } from "./commands.js";
import { defaultCorpusDirs } from "./corpus.js";
import { REPO_ROOT, formatReport, runFuzz } from "./engine.js";

const ITERATIONS = 240;

describe("short fuzz run", () => {
  it(`${ITERATIONS} mutated files, fixed seed: no finding`, async () => {
    const report = await runFuzz({
      iterations: ITERATIONS,
      seed: "npm-test-1",
      corpus: defaultCorpusDirs(REPO_ROOT),
      commands: DEFAULT_COMMANDS,
      jobs: 2,
      // Generous: other test files share the two cores.
      deadlineMs: 30000,
      // Bombs are refused in tens of milliseconds; before issue 17 a lying one took 12-19 s.
      boundedMs: 6000,
      cliEvery: 120,
      log: () => undefined,
    });
    const text = formatReport(report);
    expect(report.findings, text).toBe(0);
    expect(report.files).toBe(ITERATIONS);
    for (const cmd of report.commands) {
      const n = Object.values(report.perCommand[cmd]).reduce((a, b) => a + (b ?? 0), 0);
      expect(n, cmd).toBe(ITERATIONS);
    }
    // The mutations reach both outcomes: some files still load, most are refused.
    expect(report.totals.ok ?? 0).toBeGreaterThan(ITERATIONS / 4);
    expect(report.totals["clean-error"] ?? 0).toBeGreaterThan(ITERATIONS);
    expect(report.probes.length).toBeGreaterThan(0);
    // The small ONNX and TensorFlow.js exports of the default corpus are drawn too.
    const drawn = (prefix: string) => Object.entries(report.perMutator).filter(([name]) => name.startsWith(prefix)).reduce((n, [, v]) => n + v.files, 0);
    expect(drawn("onnx-"), "ONNX files").toBeGreaterThan(10);
    expect(drawn("tfjs-"), "TensorFlow.js models").toBeGreaterThan(10);
    rmSync(report.out, { recursive: true, force: true });
  }, 180_000);
});
