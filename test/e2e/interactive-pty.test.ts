// explain --interactive in a real pseudo-terminal: tmux runs the built CLI in a pane of a
// detached session (its own server socket), send-keys presses the keys, capture-pane reads
// the screen, resize-window sends SIGWINCH. Skipped, saying so, where tmux is absent
// (.ci/run does not install it; test/present/interactive.test.ts drives the same view
// through stand-in streams everywhere).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, REPO_ROOT, runCli } from "../support/cli.js";

const haveTmux = spawnSync("tmux", ["-V"]).status === 0;
if (!haveTmux) console.warn("note: tmux not found; the pseudo-terminal check of explain --interactive is skipped");

const INPUT = "1,2,3;0,0,1;-1,0.5,2;3,3,3;0,0,0";
const tmp = mkdtempSync(join(tmpdir(), "keras-inspect-pty-"));
const socket = `keras-inspect-test-${process.pid}`;
afterAll(() => {
  if (haveTmux) spawnSync("tmux", ["-L", socket, "kill-server"]);
  rmSync(tmp, { recursive: true, force: true });
});

function tmux(...args: string[]): string {
  const r = spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const screen = () => tmux("capture-pane", "-p", "-t", "t").split("\n");

/** Waits until the screen satisfies `ok` (the CLI draws asynchronously), or fails showing it. */
async function waitFor(ok: (lines: string[]) => boolean, what: string): Promise<string[]> {
  const until = Date.now() + 20_000;
  for (;;) {
    const lines = screen();
    if (ok(lines)) return lines;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; the screen:\n${lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** explain --json's result for one line at (step, unit), written as the screen writes it (6 decimals). */
function resultAt(step: number, unit: number, name: string): string {
  const r = runCli(["explain", "samples/stacked-lstm-dense.h5", "--input", INPUT, "--steps", String(step), "--unit", String(unit), "--json"]);
  expect(r.status, r.stderr).toBe(0);
  const line = (JSON.parse(r.stdout).equations as { name: string; value: number }[]).find((n) => n.name === name)!;
  return line.value.toFixed(6);
}

describe.skipIf(!haveTmux)("explain --interactive in a pseudo-terminal", () => {
  it("→ and ↑ move the step and unit, a resize redraws for the new size, q restores the terminal", async () => {
    const [before, after] = [join(tmp, "stty-before"), join(tmp, "stty-after")];
    // The shell records the terminal's settings around the view and stays, so the restored screen can be read.
    const cmd = `stty -g > ${before}; NO_COLOR=1 '${process.execPath}' '${BIN}' explain samples/stacked-lstm-dense.h5 --input '${INPUT}' --steps 0 --interactive; stty -g > ${after}; echo VIEW-ENDED; sleep 60`;
    tmux("-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "40", "-s", "t", "-c", REPO_ROOT, "sh", "-c", cmd);

    let lines = await waitFor((l) => l[0].includes("step 1 of 5"), "the first frame");
    expect(lines[0]).toContain("unit 0 of 8");
    expect(tmux("display", "-p", "-t", "t", "#{alternate_on} #{cursor_flag}").trim()).toBe("1 0");

    tmux("send-keys", "-t", "t", "Right", "Up");
    lines = await waitFor((l) => l[0].includes("step 2 of 5") && l[0].includes("unit 1 of 8"), "step 2, unit 1");
    expect(lines.join("\n")).toContain(`= ${resultAt(1, 1, "x_i")}`);
    expect(lines.every((l) => l.length <= 100)).toBe(true);

    // 60 × 20: the terminal sends SIGWINCH; the frame is drawn again at 60 columns, cut to 20 rows.
    tmux("resize-window", "-t", "t", "-x", "60", "-y", "20");
    lines = await waitFor((l) => l.some((s) => s.startsWith("… ")) && l[0].endsWith("…"), "the frame at 60 × 20");
    expect(tmux("display", "-p", "-t", "t", "#{pane_width}x#{pane_height}").trim()).toBe("60x20");
    expect(lines[0]).toContain("step 2 of 5");
    // explain's text wraps at 60: x_i's sum continues on the next line, which ends with the result.
    const xi = lines.findIndex((l) => l.trimStart().startsWith("x_i = "));
    expect(xi).toBeGreaterThan(0);
    expect(lines[xi].length).toBeLessThanOrEqual(60);
    expect(lines[xi + 1].trimEnd().endsWith(`= ${resultAt(1, 1, "x_i")}`)).toBe(true);
    expect(lines[19]).toMatch(/^… \d+ more line\(s\): PgDn shows them/);

    tmux("send-keys", "-t", "t", "q");
    lines = await waitFor((l) => l.some((s) => s.includes("VIEW-ENDED")), "the shell after q");
    expect(lines.join("\n")).not.toContain("THE NUMBERS");
    expect(tmux("display", "-p", "-t", "t", "#{alternate_on} #{cursor_flag}").trim()).toBe("0 1");
    expect(readFileSync(after, "utf8")).toBe(readFileSync(before, "utf8"));
  });
});
