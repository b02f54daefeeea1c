/**
 * A reader that closes the pipe early (`| head -1`) ends the command quietly: exit 0, no
 * message, no stack trace, for every command. step and predict get inputs long enough that
 * they are still writing when head exits (hundreds of kB of output), so EPIPE really happens
 * there (without the handler those four cases fail with Node's EPIPE stack trace); the
 * others write less and check that nothing else is said.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { BIN, REPO_ROOT } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ki-pipes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 3,000 steps of 2 features: step prints 3,000 tables.
const long = join(dir, "long.json");
writeFileSync(long, JSON.stringify(Array.from({ length: 3000 }, (_, t) => [Math.sin(t), Math.cos(t)])));
const many = join(dir, "many.json");
writeFileSync(many, JSON.stringify(Array.from({ length: 3000 }, (_, b) => [[b / 3000, 1], [0.5, -b / 3000]])));

const GRU = join(REPO_ROOT, "samples/gru.h5");
const SEED = join(REPO_ROOT, "samples/seed-lstm.h5");

function throughHead(args: string[]): { status: number; stderr: string; first: string } {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const r = spawnSync("bash", ["-c", `${quoted} 2>"${dir}/stderr" | head -1; echo "status \${PIPESTATUS[0]}"; cat "${dir}/stderr"`], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 60_000,
  });
  const [first, statusLine, ...rest] = r.stdout.split("\n");
  return { first, status: Number(statusLine.replace("status ", "")), stderr: rest.join("\n").trim() };
}

describe("| head -1", () => {
  const cases: [string, string[]][] = [
    ["step (tables)", ["step", GRU, "--input-file", long]],
    ["step --json", ["step", GRU, "--input-file", long, "--json"]],
    ["step --heatmap", ["step", GRU, "--input-file", long, "--heatmap"]],
    ["predict", ["predict", GRU, "--input-file", many, "--batch-size", "16", "--threads", "1"]],
    ["predict --json", ["predict", GRU, "--input-file", many, "--json"]],
    ["explain", ["explain", GRU, "--input-file", long]],
    ["weights --full", ["weights", GRU, "--full"]],
    ["summary --weights", ["summary", SEED, "--weights"]],
    ["check", ["check", SEED]],
    ["diff", ["diff", SEED, GRU]],
  ];
  for (const [name, args] of cases) {
    it(`${name}: exit 0, nothing on stderr`, () => {
      const r = throughHead(args);
      expect(r.first.length).toBeGreaterThan(0);
      expect(r.stderr).toBe("");
      // diff exits 1 when the files differ: that is its answer, not a pipe error.
      expect(r.status).toBe(name === "diff" ? 1 : 0);
    });
  }
});
