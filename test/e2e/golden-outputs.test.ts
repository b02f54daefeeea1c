/**
 * The printers now write line by line (and draw their own tables); where the format did
 * not change, what they print must be byte for byte what the old printers printed. The
 * expected outputs were saved from the old code (see golden-outputs/README.md).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, runCli } from "../support/cli.js";

const DIR = join(REPO_ROOT, "test", "e2e", "golden-outputs");
const cases: { name: string; args: string[]; env?: Record<string, string> }[] = JSON.parse(readFileSync(join(DIR, "cases.json"), "utf8"));

describe("streamed output equals the old printers' output", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = runCli(c.args, { env: c.env });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(readFileSync(join(DIR, `${c.name}.txt`), "utf8"));
  });
});
