/**
 * `explain --interactive`: one step and one unit full-screen in the terminal. ←/→ move
 * through the steps, ↑/↓ through the units, PgDn/PgUp (or space) scroll a long view; `v` (or Tab) cycles the view, `e`, `d` and `h`
 * choose it: the equations with the numbers, the cell diagram, the heatmap of every unit
 * over time; `q` (or Ctrl-C) quits and gives the terminal back as it was (main screen,
 * cursor shown, cooked mode).
 *
 * It computes nothing of its own: each frame is the explanation explain.ts writes for the
 * chosen step and unit (the same text, cut into its sections) or heatmap.ts's map, on the
 * alternate screen. When the terminal is resized (Node's "resize" on a TTY stdout, from
 * SIGWINCH) the frame is drawn again for the new columns and rows.
 * The streams are parameters, so a test drives it with fake ones.
 */
import { displayWidth } from "./notation.js";

/** What the view reads keys from: a TTY stream in raw mode (or a test's stand-in). */
export interface KeySource {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
  on(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  off(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Where it draws: a TTY (or a test's stand-in). A TTY emits "resize" when the terminal changes size (SIGWINCH). */
export interface Screen {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  write(s: string): unknown;
  on?(event: "resize", listener: () => void): unknown;
  off?(event: "resize", listener: () => void): unknown;
}

export type View = "equations" | "diagram" | "heatmap";
export const VIEWS: View[] = ["equations", "diagram", "heatmap"];

export interface InteractiveSource {
  /** Title line: the layer and file. */
  title: string;
  steps: number;
  units: number;
  /** explain's text for (step, unit), both from 0, at the given width. */
  explain(step: number, unit: number, width: number): string;
  /** The heatmap of the direction explained, at the given width. */
  heatmap(width: number): string;
  /** The time index the step read (for the header). */
  timeIndex(step: number): number;
}

export const ENTER = "\x1b[?1049h\x1b[?25l";
export const LEAVE = "\x1b[?25h\x1b[?1049l";
const CLEAR = "\x1b[H\x1b[2J";

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** The lines of one section of explain's text: from its heading to the next (headings are upper-case words). */
export function section(text: string, heading: string): string[] {
  const lines = text.split("\n");
  const plain = lines.map((l) => l.replace(ANSI, ""));
  const start = plain.findIndex((l) => l.startsWith(heading));
  if (start < 0) return lines;
  let end = plain.findIndex((l, k) => k > start && /^[A-Z][A-Z ]{5,}(\s|$)/.test(l));
  if (end < 0) end = lines.length;
  return lines.slice(start, end);
}

/** Keys, decoded from what a raw-mode terminal sends. */
export function decodeKeys(chunk: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < chunk.length; ) {
    const page = /^\x1b\[([56])~/.exec(chunk.slice(i));
    if (page) {
      keys.push(page[1] === "5" ? "pageup" : "pagedown");
      i += page[0].length;
      continue;
    }
    const m = /^\x1b(?:\[|O)([ABCDHF])/.exec(chunk.slice(i));
    if (m) {
      keys.push({ A: "up", B: "down", C: "right", D: "left", H: "home", F: "end" }[m[1]]!);
      i += m[0].length;
      continue;
    }
    const c = chunk[i];
    keys.push(c === "\x03" ? "quit" : c === "\t" ? "tab" : c);
    i++;
  }
  return keys;
}

/**
 * Runs the view until `q`; resolves once the terminal is restored. `start` is the step and
 * unit shown first (from 0).
 */
export function runInteractive(src: InteractiveSource, keys: KeySource, screen: Screen, start: { step: number; unit: number; view?: View }): Promise<void> {
  let step = start.step;
  let unit = start.unit;
  let view: View = start.view ?? "equations";
  /** First body line shown (PgDn / PgUp scroll a long view). */
  let top = 0;

  const frame = (): string => {
    // A pseudo-terminal nobody sized reports 0 columns and rows.
    const width = Math.max(40, screen.columns || 80);
    const height = Math.max(10, screen.rows || 24);
    const header = `${src.title} · step ${step + 1} of ${src.steps} (t=${src.timeIndex(step)}) · unit ${unit} of ${src.units} (from 0) · ${view}`;
    const help = "←/→ step  ↑/↓ unit  e equations  d diagram  h heatmap  v next view  PgDn/PgUp scroll  q quit";
    let body: string[];
    if (view === "heatmap") body = src.heatmap(width).split("\n");
    else {
      const text = src.explain(step, unit, width);
      body = view === "equations" ? section(text, "THE NUMBERS") : section(text, "GRAPHICAL ILLUSTRATION");
    }
    const room = height - 3;
    top = Math.max(0, Math.min(top, body.length - room));
    const shown = body.slice(top, top + room);
    if (top + room < body.length) shown[room - 1] = `… ${body.length - top - room + 1} more line(s): PgDn shows them`;
    const cut = (s: string) => (displayWidth(s.replace(ANSI, "")) > width ? s.replace(ANSI, "").slice(0, width - 1) + "…" : s);
    return CLEAR + [cut(header), cut(help), "", ...shown].join("\r\n");
  };
  const draw = () => screen.write(frame());

  return new Promise((resolve) => {
    const onData = (chunk: Buffer | string) => {
      for (const key of decodeKeys(typeof chunk === "string" ? chunk : chunk.toString("utf8"))) {
        if (key === "q" || key === "quit") {
          keys.off("data", onData);
          screen.off?.("resize", onResize);
          keys.setRawMode?.(false);
          keys.pause();
          screen.write(LEAVE);
          resolve();
          return;
        }
        if (key === "left") step = Math.max(0, step - 1);
        else if (key === "right") step = Math.min(src.steps - 1, step + 1);
        else if (key === "home") step = 0;
        else if (key === "end") step = src.steps - 1;
        else if (key === "up") unit = Math.min(src.units - 1, unit + 1);
        else if (key === "down") unit = Math.max(0, unit - 1);
        else if (key === "pagedown" || key === " ") top += Math.max(1, (screen.rows || 24) - 4);
        else if (key === "pageup") top = Math.max(0, top - Math.max(1, (screen.rows || 24) - 4));
        else if (key === "e") view = "equations";
        else if (key === "d") view = "diagram";
        else if (key === "h") view = "heatmap";
        else if (key === "v" || key === "tab") view = VIEWS[(VIEWS.indexOf(view) + 1) % VIEWS.length];
        else continue;
      }
      draw();
    };
    // explain's text is laid out for the width, so a resize draws the whole frame again.
    const onResize = () => {
      draw();
    };
    keys.setRawMode?.(true);
    keys.on("data", onData);
    screen.on?.("resize", onResize);
    keys.resume();
    screen.write(ENTER);
    draw();
  });
}
