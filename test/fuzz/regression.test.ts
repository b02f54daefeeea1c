/**
 * The fuzz regression corpus (test/fixtures/fuzz/manifest.json): every reproducer the
 * fuzzer found, run through the command lines listed for it in one fuzz worker (in-process
 * runs of the real program, killed past a deadline), with the exit code and the one-line
 * message each must give now. The control archive runs first and last in the same process
 * and must print the same thing both times.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ACCEPTABLE, classify } from "./classify.js";
import { COMMAND_SPECS } from "./commands.js";
import { REPO_ROOT } from "./engine.js";
import { FuzzWorker, type RunOutcome } from "./pool.js";

interface Run {
  argv: string[];
  exit: number;
  stderr?: string;
  stdout?: string;
  /**
   * A bound on the run's time, for files whose work is driven by what they claim (issue
   * 17): generous (other test files share the two cores; the fixed refusals take tens of
   * milliseconds), and far below what the bug cost (12-19 s), so it fails before the fix.
   */
  maxMs?: number;
}

interface Entry {
  file: string;
  found: string;
  bug: string;
  runs: Run[];
}

const DIR = join(REPO_ROOT, "test/fixtures/fuzz");
const MANIFEST = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")) as Entry[];
const worker = new FuzzWorker({ deadlineMs: 20000, rssLimit: 2048 * 2 ** 20, heapMb: 2048, probes: [], startMs: 120000 });
afterAll(() => worker.close());

async function run(entry: Entry, r: Run): Promise<RunOutcome> {
  const path = join(DIR, entry.file);
  return worker.run(
    r.argv.map((a) => (a === "FILE" ? path : a)),
    path,
    [0, 1],
  );
}

describe("fuzz regression corpus", () => {
  let control: string | undefined;

  for (const entry of MANIFEST) {
    for (const r of entry.runs) {
      it(`${entry.file}: ${r.argv.filter((a) => !a.startsWith("[")).join(" ")} -> exit ${r.exit}`, async () => {
        const outcome = await run(entry, r);
        expect(outcome.type, `${entry.bug}\n${JSON.stringify(outcome).slice(0, 500)}`).toBe("result");
        if (outcome.type !== "result") return;
        expect(outcome.exitCode, outcome.stderr).toBe(r.exit);
        // check and diff answer with exit 1 too (a failed check, a difference).
        const answerCodes = COMMAND_SPECS.find((spec) => spec.name === r.argv[0])?.answerCodes ?? [0];
        const c = classify({ outcome, file: join(DIR, entry.file), answerCodes, json: r.argv.includes("--json"), mustFail: false, evaluates: false });
        expect(ACCEPTABLE.has(c.cls), `${c.cls}: ${c.why}`).toBe(true);
        if (r.stderr) {
          const lines = outcome.stderr.split("\n").filter((l) => l.length > 0);
          expect(lines).toHaveLength(1);
          expect(lines[0].startsWith("keras-inspect: ")).toBe(true);
          expect(lines[0]).toMatch(new RegExp(r.stderr));
        }
        if (r.stdout) expect(outcome.stdout).toMatch(new RegExp(r.stdout));
        if (r.maxMs) expect(outcome.ms, `${r.argv[0]} took ${Math.round(outcome.ms)} ms`).toBeLessThan(r.maxMs);
        if (entry.file === "keras3-dense-control.keras" && r.argv[0] === "summary") control = outcome.stdout;
      });
    }
  }

  it("the control archive prints the same after all of the above, in the same process", async () => {
    const entry = MANIFEST.find((e) => e.file === "keras3-dense-control.keras")!;
    const outcome = await run(entry, entry.runs[0]);
    expect(outcome.type).toBe("result");
    expect(control).toBeDefined();
    expect((outcome as { stdout: string }).stdout).toBe(control);
  });
});
