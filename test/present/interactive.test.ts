// explain --interactive, driven through stand-ins for the terminal: a key source that records
// raw mode, and a screen that keeps what was written. The numbers on each frame must be the
// explanation's own at the chosen step and unit (the same text explain prints there), and
// `q` must give the terminal back: cooked mode, cursor shown, main screen.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { evaluateStep } from "../../src/eval/step.js";
import { loadModel } from "../../src/load/index.js";
import { makeChalk } from "../../src/present/colour.js";
import { buildExplanation, formatExplanation } from "../../src/present/explain.js";
import { formatHeatmap } from "../../src/present/heatmap.js";
import { decodeKeys, ENTER, LEAVE, runInteractive, section } from "../../src/present/interactive.js";
import { REPO_ROOT, runCli } from "../support/cli.js";
import { join } from "node:path";

class FakeKeys extends EventEmitter {
  isTTY = true;
  raw: boolean[] = [];
  paused = false;
  setRawMode(r: boolean) {
    this.raw.push(r);
  }
  resume() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
  press(s: string) {
    this.emit("data", Buffer.from(s, "utf8"));
  }
}

class FakeScreen extends EventEmitter {
  isTTY = true;
  columns = 100;
  rows = 60;
  written: string[] = [];
  write(s: string) {
    this.written.push(s);
    return true;
  }
  /** The last frame, as plain text lines. */
  frame(): string[] {
    const last = [...this.written].reverse().find((w) => w.startsWith("\x1b[H\x1b[2J"))!;
    return last.slice("\x1b[H\x1b[2J".length).split("\r\n");
  }
}

const INPUT = [1, 2, 3, 0, 0, 1, -1, 0.5, 2, 3, 3, 3, 0, 0, 0];

async function source() {
  const model = await loadModel(join(REPO_ROOT, "samples", "stacked-lstm-dense.h5"));
  const { trace } = evaluateStep(model, { inputs: [{ shape: [1, 5, 3], data: Float64Array.from(INPUT) }], dtype: "float32" });
  const t = trace.directions[0];
  const ctx = { file: "stacked-lstm-dense.h5", kerasMajor: 2 };
  const chalk = makeChalk(0);
  const text = (step: number, unit: number, width: number) => formatExplanation(buildExplanation(t, { sample: 0, step, unit }, ctx, 6), { ascii: false, chalk, width });
  return {
    t,
    text,
    src: { title: "lstm_1 (LSTM)", steps: t.steps, units: t.units, explain: text, heatmap: (width: number) => formatHeatmap(trace, { width, chalk }), timeIndex: (k: number) => t.timeIndex[k] },
  };
}

describe("explain --interactive", () => {
  it("decodes arrows (CSI and SS3), Tab, Ctrl-C and letters from raw input", () => {
    expect(decodeKeys("\x1b[C\x1b[D\x1bOA\x1b[Bq\t\x03e\x1b[6~\x1b[5~")).toEqual(["right", "left", "up", "down", "q", "tab", "quit", "e", "pagedown", "pageup"]);
  });

  it("→ and ↑ move to the next step and unit, the frame shows explain's numbers there; views toggle; q restores the terminal", async () => {
    const { t, text, src } = await source();
    const keys = new FakeKeys();
    const screen = new FakeScreen();
    const done = runInteractive(src, keys, screen, { step: 0, unit: 0 });
    expect(keys.raw).toEqual([true]);
    expect(screen.written[0]).toBe(ENTER);
    const numbersAt = (k: number, j: number) => section(text(k, j, screen.columns), "THE NUMBERS");
    expect(screen.frame()[0]).toContain("step 1 of 5");
    expect(screen.frame().slice(3)).toEqual(numbersAt(0, 0));

    keys.press("\x1b[C");
    keys.press("\x1b[A");
    keys.press("\x1b[A");
    expect(screen.frame()[0]).toContain("step 2 of 5");
    expect(screen.frame()[0]).toContain("unit 2 of 8");
    const shown = screen.frame().slice(3);
    expect(shown).toEqual(numbersAt(1, 2));
    // The numbers themselves: hₜ's line ends with the trace's h at step 2, unit 2.
    const hLine = shown.find((l) => l.includes("hₜ = o·tanh(cₜ)"))!;
    const h = t.get(0, 1, "h", 2);
    expect(shown.join(" ")).toContain(h.toFixed(6));
    expect(hLine).toBeDefined();

    keys.press("d");
    expect(screen.frame()[0]).toContain("diagram");
    expect(screen.frame().slice(3)).toEqual(section(text(1, 2, screen.columns), "GRAPHICAL ILLUSTRATION"));
    keys.press("h");
    expect(screen.frame().join("\n")).toContain("8 unit(s) × 5 step(s)");
    keys.press("v");
    expect(screen.frame()[0]).toContain("equations");
    // Clamped at the ends.
    keys.press("\x1b[B\x1b[B\x1b[B\x1b[B\x1b[D\x1b[D\x1b[D");
    expect(screen.frame()[0]).toContain("step 1 of 5");
    expect(screen.frame()[0]).toContain("unit 0 of 8");

    keys.press("q");
    await done;
    expect(keys.raw).toEqual([true, false]);
    expect(keys.paused).toBe(true);
    expect(screen.written[screen.written.length - 1]).toBe(LEAVE);
    expect(keys.listenerCount("data")).toBe(0);
  });

  it("a short terminal gets the first lines and says how many more there are", async () => {
    const { src } = await source();
    const keys = new FakeKeys();
    const screen = new FakeScreen();
    screen.rows = 12;
    const done = runInteractive(src, keys, screen, { step: 4, unit: 7 });
    const f = screen.frame();
    expect(f.length).toBe(12);
    expect(f[f.length - 1]).toMatch(/^… \d+ more line\(s\): PgDn shows them/);
    const first = f[3];
    keys.press("\x1b[6~");
    expect(screen.frame()[3]).not.toBe(first);
    keys.press("\x1b[5~");
    expect(screen.frame()[3]).toBe(first);
    keys.press("\x03");
    await done;
    expect(screen.written[screen.written.length - 1]).toBe(LEAVE);
  });

  it("a resized terminal gets the frame again, laid out for its new columns and rows", async () => {
    const { text, src } = await source();
    const keys = new FakeKeys();
    const screen = new FakeScreen();
    const done = runInteractive(src, keys, screen, { step: 2, unit: 3 });
    expect(screen.listenerCount("resize")).toBe(1);
    expect(screen.frame().slice(3)).toEqual(section(text(2, 3, 100), "THE NUMBERS"));
    // Narrower and shorter, as SIGWINCH reports it: Node updates columns and rows, then emits "resize".
    screen.columns = 60;
    screen.rows = 14;
    const before = screen.written.length;
    screen.emit("resize");
    expect(screen.written.length).toBe(before + 1);
    const f = screen.frame();
    expect(f.length).toBe(14);
    // explain's own text at 60 columns (its lines wrap there), cut to the 11 rows left under the header.
    const body = section(text(2, 3, 60), "THE NUMBERS");
    expect(body).not.toEqual(section(text(2, 3, 100), "THE NUMBERS"));
    expect(f.slice(3, 13)).toEqual(body.slice(0, 10));
    expect(f[13]).toMatch(/^… \d+ more line\(s\)/);
    for (const line of f) expect(line.length).toBeLessThanOrEqual(60);
    // Wider again: the whole section fits.
    screen.columns = 120;
    screen.rows = 80;
    screen.emit("resize");
    expect(screen.frame().slice(3)).toEqual(section(text(2, 3, 120), "THE NUMBERS"));
    keys.press("q");
    await done;
    expect(screen.listenerCount("resize")).toBe(0);
  });

  it("without a terminal (a pipe), --interactive prints the static explanation and says why", () => {
    const args = ["explain", "samples/seed-lstm.h5", "--input", "1,10"];
    const plain = runCli(args);
    const r = runCli([...args, "--interactive"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(plain.stdout);
    expect(r.stderr).toContain("--interactive needs a terminal");
  });
});
