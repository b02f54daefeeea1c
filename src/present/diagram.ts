/**
 * The notebook's "Graphical Illustration" for the user's own cell: a box-drawing
 * diagram of one LSTM, GRU or SimpleRNN step with the explained unit's values on the
 * wires and in the boxes (gate boxes show the activation and the argument it got;
 * wires the value they carry).
 *
 * A diagram is a list of primitives on a grid of character cells (lines, boxes,
 * arrowheads, ⊗-style nodes and text slots). The same list is drawn as text
 * (Unicode box drawing, or 7-bit ASCII) and as SVG for the HTML page, so the two
 * never disagree. Every layout fits 79 columns.
 */
import type { ChalkInstance } from "chalk";
import { pageRgb, paintValue, rgbHex } from "./colour.js";
import type { Explanation } from "./explain.js";
import { asciiText, displayWidth, wrapWords } from "./notation.js";
import { fixed, significant } from "./text.js";

export const DIAGRAM_COLUMNS = 79;

type Dir = "up" | "down" | "left" | "right";

/** A run of text in a slot; `value` colours it by sign and magnitude. */
export interface Segment {
  text: string;
  /** The 7-bit spelling when it is not asciiText(text) (short labels where space is tight). */
  ascii?: string;
  value?: number;
  scale?: number;
  /** Name of the value (for the HTML page's data attributes and tests). */
  name?: string;
  /** A vector's formatted elements: shortened from the end when space is tight. */
  items?: string[];
}

type Primitive =
  | { kind: "hline"; row: number; from: number; to: number }
  | { kind: "vline"; col: number; from: number; to: number }
  | { kind: "box"; row: number; col: number; width: number; height: number; gate?: string }
  | { kind: "arrow"; row: number; col: number; dir: Dir }
  | { kind: "node"; row: number; col: number; label: string }
  | { kind: "slot"; row: number; col: number; width: number; align: "left" | "centre" | "right"; content: Segment[] };

export interface Diagram {
  rows: number;
  cols: number;
  primitives: Primitive[];
  /** Lines printed under the diagram (what the boxes and wires mean). */
  legend: string[];
}

// ---------------------------------------------------------------------------
// Building

class Layout {
  readonly primitives: Primitive[] = [];
  hline(row: number, from: number, to: number): this {
    this.primitives.push({ kind: "hline", row, from, to });
    return this;
  }
  vline(col: number, from: number, to: number): this {
    this.primitives.push({ kind: "vline", col, from, to });
    return this;
  }
  /** `gate`: the gate's name, written in the box's corner on the page (the text has no room). */
  box(row: number, col: number, width: number, height: number, gate?: string): this {
    this.primitives.push({ kind: "box", row, col, width, height, gate });
    return this;
  }
  arrow(row: number, col: number, dir: Dir): this {
    this.primitives.push({ kind: "arrow", row, col, dir });
    return this;
  }
  /** A small operator node `(×)` centred at col. */
  node(row: number, col: number, label: string): this {
    this.primitives.push({ kind: "node", row, col, label });
    return this;
  }
  slot(row: number, col: number, width: number, content: Segment[], align: "left" | "centre" | "right" = "left"): this {
    this.primitives.push({ kind: "slot", row, col, width, align, content });
    return this;
  }
}

const PREV = "₍ₜ₋₁₎";

/** Explanation values, with placeholders where a value does not exist (a masked step's argument). */
function scalar(ex: Explanation, name: string): number | undefined {
  return ex.scalars[name];
}

function valueSeg(ex: Explanation, name: string, scale = 1): Segment {
  const v = scalar(ex, name);
  if (ex.withoutNumbers) return { text: "" };
  return v === undefined ? { text: "n/a" } : { text: fixed(v, ex.digits), value: v, scale, name };
}

function labelled(label: string, ex: Explanation, name: string, scale = 1, ascii?: string): Segment[] {
  return [{ text: `${label} `, ascii: ascii === undefined ? undefined : `${ascii} ` }, valueSeg(ex, name, scale)];
}

function vectorSegs(label: string, v: number[] | undefined, fmt: (x: number) => string): Segment[] {
  if (v === undefined) return [{ text: label }];
  return [{ text: `${label} = ` }, { text: `[${v.map(fmt).join(", ")}]`, items: v.map(fmt) }];
}

function actSymbol(ex: Explanation, role: string): string {
  return ex.activations.find((a) => a.role === role)?.symbol ?? ex.activations[0].symbol;
}

/** A gate box of width 15 centred at `c`, rows 9–12, fed from the bus below. */
function gateBox(l: Layout, ex: Explanation, c: number, act: string, argName: string, gate: string): void {
  l.box(9, c - 7, 15, 4, gate)
    .slot(10, c - 6, 13, [{ text: act }], "centre")
    .slot(11, c - 6, 13, [valueSeg(ex, argName, 4)], "centre")
    .vline(c, 12, 14)
    .arrow(13, c, "up");
}

function busLabel(ex: Explanation): Segment[] {
  const fmt = (v: number) => fixed(v, ex.digits);
  return [
    ...vectorSegs("x\u209c", ex.withoutNumbers ? undefined : ex.input, (v) => significant(v, 6)),
    { text: "   " },
    ...vectorSegs(`h${PREV}`, ex.withoutNumbers ? undefined : ex.before.h, fmt),
  ];
}

function lstmDiagram(ex: Explanation): Diagram {
  const l = new Layout();
  const ra = actSymbol(ex, "recurrent_activation");
  const a = actSymbol(ex, "activation");
  const [F, I, C, O] = [8, 26, 42, 60];
  // The cell-state lane: c₍ₜ₋₁₎ → ×f → + → cₜ
  l.slot(0, 1, 24, labelled(`c${PREV}`, ex, "c_prev")).slot(0, 60, 19, labelled("c\u209c", ex, "c"), "right");
  l.hline(1, 0, 78).arrow(1, 78, "right").node(1, F, "×").node(1, 34, "+");
  // forget gate up to ×
  l.vline(F, 2, 9).arrow(2, F, "up").slot(7, F + 2, 14, labelled("f", ex, "f"));
  // input gate and candidate into i·c̃, then up to +
  l.vline(I, 5, 9).hline(5, I, 32).arrow(5, 32, "right").slot(7, I + 2, 14, labelled("i", ex, "i"));
  l.vline(C, 5, 9).hline(5, 36, C).arrow(5, 36, "left").slot(7, C + 2, 14, labelled("c̃", ex, "c_tilde", 1, "c~"));
  l.node(5, 34, "×").vline(34, 2, 4).arrow(2, 34, "up").slot(3, 36, 10, [{ text: "i·c̃", ascii: "i*c~" }]);
  // cₜ → act → × o → hₜ
  l.vline(O, 1, 3).box(3, O - 6, 13, 3).slot(4, O - 5, 11, [{ text: a }], "centre");
  l.vline(O, 5, 6).arrow(6, O, "down").node(7, O, "×");
  l.hline(7, O + 2, O + 4).arrow(7, O + 4, "right").slot(7, O + 6, 13, labelled("h\u209c", ex, "h"));
  l.vline(O, 8, 9).arrow(8, O, "up").slot(8, O + 2, 14, labelled("o", ex, "o"));
  // the four gates, fed by [xₜ, h₍ₜ₋₁₎]
  gateBox(l, ex, F, ra, "arg_f", "f");
  gateBox(l, ex, I, ra, "arg_i", "i");
  gateBox(l, ex, C, a, "arg_c_tilde", "c̃");
  gateBox(l, ex, O, ra, "arg_o", "o");
  l.hline(14, 0, O);
  l.slot(15, 1, 78, busLabel(ex));
  return {
    rows: 16,
    cols: DIAGRAM_COLUMNS,
    primitives: l.primitives,
    legend: [
      `Gate boxes, left to right: f, i, c̃, o; each shows its activation and the argument it received (x_g + h${PREV}·U_g).`,
      `Wires carry the results; × and + act unit by unit. All four gates read the whole of x\u209c and h${PREV} (the line at the bottom).`,
    ],
  };
}

function gruDiagram(ex: Explanation): Diagram {
  const l = new Layout();
  const ra = actSymbol(ex, "recurrent_activation");
  const a = actSymbol(ex, "activation");
  const [Z, H, R] = [9, 27, 55];
  l.slot(0, 1, 24, labelled(`h${PREV}`, ex, "h_prev")).slot(0, 60, 19, labelled("h\u209c", ex, "h"), "right");
  l.hline(1, 0, 78).arrow(1, 78, "right").node(1, Z, "×").node(1, H, "+");
  // z: up to z·h₍ₜ₋₁₎, and through (1 − z) to multiply hh
  l.vline(Z, 2, 9).arrow(2, Z, "up").slot(3, Z + 2, 14, labelled("z", ex, "z"));
  l.hline(6, Z, Z + 6).arrow(6, Z + 6, "right").node(6, Z + 8.5, "1−").hline(6, Z + 11, H - 2).arrow(6, H - 2, "right").node(6, H, "×");
  l.vline(H, 2, 5).arrow(2, H, "up").slot(3, H + 2, 14, [{ text: "(1 − z)·hh" }]);
  l.vline(H, 7, 9).arrow(7, H, "up").slot(8, H + 2, 14, labelled("hh", ex, "hh"));
  // r feeds the candidate box from the right
  l.hline(10, H + 7, R - 7).arrow(10, H + 8, "left").slot(11, H + 9, 11, labelled("r", ex, "r"));
  gateBox(l, ex, Z, ra, "arg_z", "z");
  gateBox(l, ex, H, a, "arg_hh", "hh");
  gateBox(l, ex, R, ra, "arg_r", "r");
  // h₍ₜ₋₁₎ drops from the lane into the bus; xₜ joins from below
  l.vline(0, 1, 14).hline(14, 0, R).vline(4, 14, 15).arrow(15, 4, "up");
  l.slot(16, 1, 78, busLabel(ex));
  const where = ex.resetAfter ? `hh = ${a}(x_h + r ⊙ (h${PREV}·U_h + rb_h)): reset_after=True` : `hh = ${a}(x_h + (r ⊙ h${PREV})·U_h): reset_after=False`;
  return {
    rows: 17,
    cols: DIAGRAM_COLUMNS,
    primitives: l.primitives,
    legend: [
      `Boxes, left to right: z, hh, r; each shows its activation and the argument it received. r enters the candidate box: ${where}.`,
      `Wires carry the results; ×, + and 1− act unit by unit. All gates read the whole of x\u209c and h${PREV} (the line at the bottom).`,
    ],
  };
}

function simpleRnnDiagram(ex: Explanation): Diagram {
  const l = new Layout();
  const a = actSymbol(ex, "activation");
  const fmt = (v: number) => fixed(v, ex.digits);
  l.slot(0, 1, 28, vectorSegs(`h${PREV}`, ex.withoutNumbers ? undefined : ex.before.h, fmt)).hline(1, 0, 29).arrow(1, 29, "right");
  l.slot(3, 1, 28, vectorSegs("x\u209c", ex.withoutNumbers ? undefined : ex.input, (v) => significant(v, 6))).hline(2, 0, 29).arrow(2, 29, "right");
  l.box(0, 30, 17, 4).slot(1, 31, 15, [{ text: a }], "centre").slot(2, 31, 15, [valueSeg(ex, "arg_h", 4)], "centre");
  l.hline(1, 46, 70).arrow(1, 70, "right").slot(0, 49, 20, labelled("h\u209c", ex, "h"));
  return {
    rows: 4,
    cols: DIAGRAM_COLUMNS,
    primitives: l.primitives,
    legend: [`The box shows the activation and the argument it received (x + h${PREV}·U); h\u209c is also the next step's h${PREV}.`],
  };
}

export function buildDiagram(ex: Explanation): Diagram {
  // A ConvLSTM cell is wired as an LSTM's; at one position and filter the values are the same kind.
  if (ex.kind === "lstm" || ex.kind === "conv_lstm") return lstmDiagram(ex);
  if (ex.kind === "gru") return gruDiagram(ex);
  return simpleRnnDiagram(ex);
}

// ---------------------------------------------------------------------------
// Text

const UP = 1;
const DOWN = 2;
const LEFT = 4;
const RIGHT = 8;

const JUNCTIONS: Record<number, [string, string]> = {
  [LEFT | RIGHT]: ["─", "-"],
  [LEFT]: ["─", "-"],
  [RIGHT]: ["─", "-"],
  [UP | DOWN]: ["│", "|"],
  [UP]: ["│", "|"],
  [DOWN]: ["│", "|"],
  [RIGHT | DOWN]: ["┌", "+"],
  [LEFT | DOWN]: ["┐", "+"],
  [RIGHT | UP]: ["└", "+"],
  [LEFT | UP]: ["┘", "+"],
  [LEFT | RIGHT | DOWN]: ["┬", "+"],
  [LEFT | RIGHT | UP]: ["┴", "+"],
  [UP | DOWN | RIGHT]: ["├", "+"],
  [UP | DOWN | LEFT]: ["┤", "+"],
  [UP | DOWN | LEFT | RIGHT]: ["┼", "+"],
};

const ARROWS: Record<Dir, [string, string]> = { up: ["▲", "^"], down: ["▼", "v"], left: ["◀", "<"], right: ["▶", ">"] };

interface Cell {
  ch: string;
  seg?: Segment;
}

/** Splits text into terminal cells: a base character with its combining marks. */
function cells(text: string): string[] {
  return text.match(/\P{M}\p{M}*/gu) ?? [];
}

/** Fits slot content into `width` cells: shortens numbers, then vectors, then cuts with "…". */
function fitSegments(content: Segment[], width: number, ascii: boolean): Segment[] {
  let segs = content.map((s) => ({ ...s, text: ascii ? (s.ascii ?? asciiText(s.text)) : s.text }));
  const total = () => segs.reduce((n, s) => n + displayWidth(s.text), 0);
  if (total() <= width) return segs;
  // Numbers: fewer digits.
  segs = segs.map((s) => (s.value !== undefined ? { ...s, text: significant(s.value, 4) } : s));
  if (total() <= width) return segs;
  // Vectors: drop elements from the end of the longest until it fits.
  const ell = ascii ? "..." : "…";
  const shown = segs.map((s) => s.items?.length ?? 0);
  while (total() > width) {
    let k = -1;
    shown.forEach((n, j) => {
      if (n > 0 && (k < 0 || n > shown[k])) k = j;
    });
    if (k < 0) break;
    shown[k]--;
    const items = segs[k].items!;
    segs[k] = { ...segs[k], text: `[${[...items.slice(0, shown[k]), ell].join(", ")}]` };
  }
  if (total() <= width) return segs;
  // Last resort: cut.
  const out: Segment[] = [];
  let left = width - 1;
  for (const s of segs) {
    const cs = cells(s.text);
    if (cs.length <= left) {
      out.push(s);
      left -= cs.length;
    } else {
      out.push({ ...s, text: cs.slice(0, Math.max(0, left)).join("") + (ascii ? "~" : "…") });
      break;
    }
  }
  return out;
}

function rasterize(d: Diagram, ascii: boolean): Cell[][] {
  const grid: Cell[][] = Array.from({ length: d.rows }, () => Array.from({ length: d.cols }, () => ({ ch: " " })));
  const bits: number[][] = Array.from({ length: d.rows }, () => new Array<number>(d.cols).fill(0));
  const set = (r: number, c: number, b: number) => {
    if (r >= 0 && r < d.rows && c >= 0 && c < d.cols) bits[r][c] |= b;
  };
  const hline = (row: number, from: number, to: number) => {
    for (let c = from; c <= to; c++) set(row, c, (c > from ? LEFT : 0) | (c < to ? RIGHT : 0) | (from === to ? LEFT | RIGHT : 0));
  };
  const vline = (col: number, from: number, to: number) => {
    for (let r = from; r <= to; r++) set(r, col, (r > from ? UP : 0) | (r < to ? DOWN : 0));
  };
  for (const p of d.primitives) {
    if (p.kind === "hline") hline(p.row, p.from, p.to);
    else if (p.kind === "vline") vline(p.col, p.from, p.to);
    else if (p.kind === "box") {
      const [r0, c0, r1, c1] = [p.row, p.col, p.row + p.height - 1, p.col + p.width - 1];
      hline(r0, c0, c1);
      hline(r1, c0, c1);
      vline(c0, r0, r1);
      vline(c1, r0, r1);
    }
  }
  for (let r = 0; r < d.rows; r++) {
    for (let c = 0; c < d.cols; c++) {
      const j = JUNCTIONS[bits[r][c]];
      if (j) grid[r][c] = { ch: j[ascii ? 1 : 0] };
    }
  }
  const put = (r: number, c: number, text: string, seg?: Segment) => {
    cells(text).forEach((ch, k) => {
      if (r >= 0 && r < d.rows && c + k >= 0 && c + k < d.cols) grid[r][c + k] = { ch, seg };
    });
  };
  for (const p of d.primitives) {
    if (p.kind === "arrow") put(p.row, p.col, ARROWS[p.dir][ascii ? 1 : 0]);
    else if (p.kind === "node") {
      const label = ascii ? asciiText(p.label) : p.label;
      const text = `(${label})`;
      put(p.row, Math.round(p.col - (cells(text).length - 1) / 2), text);
    } else if (p.kind === "slot") {
      const segs = fitSegments(p.content, p.width, ascii);
      const w = segs.reduce((n, s) => n + cells(s.text).length, 0);
      let c = p.align === "left" ? p.col : p.align === "right" ? p.col + p.width - w : p.col + Math.floor((p.width - w) / 2);
      for (const s of segs) {
        put(p.row, c, s.text, s.value !== undefined ? s : undefined);
        c += cells(s.text).length;
      }
    }
  }
  return grid;
}

export interface DiagramTextOptions {
  ascii: boolean;
  chalk: ChalkInstance;
}

/** The diagram as text lines (trailing spaces trimmed), then its legend. */
export function renderDiagramText(ex: Explanation, opts: DiagramTextOptions): string[] {
  const d = buildDiagram(ex);
  const grid = rasterize(d, opts.ascii);
  const lines = grid.map((row) => {
    let out = "";
    let k = 0;
    while (k < row.length) {
      const seg = row[k].seg;
      let text = "";
      while (k < row.length && row[k].seg === seg) text += row[k++].ch;
      out += seg?.value !== undefined ? paintValue(opts.chalk, text, seg.value, seg.scale ?? 1) : text;
    }
    return out.replace(/\s+$/, "");
  });
  const notes = opts.ascii && ex.kind === "lstm" ? [...d.legend, "c~ on the diagram is c_tilde."] : d.legend;
  const legend = notes.flatMap((l) => wrapWords(opts.ascii ? asciiText(l) : l, DIAGRAM_COLUMNS));
  return [...lines, "", ...legend];
}

// ---------------------------------------------------------------------------
// SVG

const CW = 10;
const CH = 22;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The diagram as an inline SVG element (no external resources). */
export function renderDiagramSvg(ex: Explanation): string {
  const d = buildDiagram(ex);
  const x = (c: number) => c * CW + CW / 2;
  const y = (r: number) => r * CH + CH / 2;
  const parts: string[] = [];
  for (const p of d.primitives) {
    if (p.kind === "hline") parts.push(`<line class="wire" x1="${x(p.from)}" y1="${y(p.row)}" x2="${x(p.to)}" y2="${y(p.row)}"/>`);
    else if (p.kind === "vline") parts.push(`<line class="wire" x1="${x(p.col)}" y1="${y(p.from)}" x2="${x(p.col)}" y2="${y(p.to)}"/>`);
    else if (p.kind === "box") {
      parts.push(`<rect class="box" x="${x(p.col)}" y="${y(p.row)}" width="${(p.width - 1) * CW}" height="${(p.height - 1) * CH}" rx="6"/>`);
      if (p.gate) parts.push(`<text class="gate" data-gate="${esc(p.gate)}" x="${x(p.col) + 7}" y="${y(p.row) + 15}">${esc(p.gate)}</text>`);
    }
  }
  for (const p of d.primitives) {
    if (p.kind === "arrow") {
      const [cx, cy] = [x(p.col), y(p.row)];
      const s = 6;
      const pts =
        p.dir === "right"
          ? [[cx + s, cy], [cx - s, cy - s], [cx - s, cy + s]]
          : p.dir === "left"
            ? [[cx - s, cy], [cx + s, cy - s], [cx + s, cy + s]]
            : p.dir === "up"
              ? [[cx, cy - s], [cx - s, cy + s], [cx + s, cy + s]]
              : [[cx, cy + s], [cx - s, cy - s], [cx + s, cy - s]];
      parts.push(`<polygon class="arrow" points="${pts.map((q) => q.join(",")).join(" ")}"/>`);
    } else if (p.kind === "node") {
      const wide = p.label.length > 1;
      parts.push(
        wide
          ? `<rect class="node" x="${x(p.col) - 16}" y="${y(p.row) - 10}" width="32" height="20" rx="10"/>`
          : `<circle class="node" cx="${x(p.col)}" cy="${y(p.row)}" r="10"/>`,
        `<text class="op" x="${x(p.col)}" y="${y(p.row)}" text-anchor="middle" dominant-baseline="central">${esc(p.label)}</text>`,
      );
    } else if (p.kind === "slot") {
      const anchor = p.align === "left" ? "start" : p.align === "right" ? "end" : "middle";
      const tx = p.align === "left" ? p.col * CW : p.align === "right" ? (p.col + p.width) * CW : (p.col + p.width / 2) * CW;
      const spans = fitSegments(p.content, p.width, false).map((s) => {
        if (s.value === undefined) return `<tspan>${esc(s.text)}</tspan>`;
        const colour = rgbHex(pageRgb(s.value, s.scale ?? 1));
        return `<tspan class="value" fill="${colour}" data-name="${esc(s.name ?? "")}" data-value="${String(s.value)}">${esc(s.text)}</tspan>`;
      });
      parts.push(`<text class="label" x="${tx}" y="${y(p.row)}" text-anchor="${anchor}" dominant-baseline="central">${spans.join("")}</text>`);
    }
  }
  const w = d.cols * CW;
  const h = d.rows * CH;
  return (
    `<svg class="diagram" viewBox="-8 -8 ${w + 16} ${h + 16}" width="${w + 16}" height="${h + 16}" role="img" aria-label="cell diagram">` +
    `<style>.wire{stroke:#555;stroke-width:1.6;fill:none}.box{fill:#f4f6fb;stroke:#333;stroke-width:1.6}.arrow{fill:#555}` +
    `.node{fill:#fff;stroke:#333;stroke-width:1.6}.op{font:bold 14px sans-serif}.gate{font:bold italic 15px serif;fill:#222}.label{font:14px monospace;fill:#222;white-space:pre}</style>` +
    parts.join("") +
    `</svg>`
  );
}

export function diagramLegend(ex: Explanation): string[] {
  return buildDiagram(ex).legend;
}
