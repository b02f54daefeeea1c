/**
 * `step --heatmap`: each gate (and the states) of a recurrent layer as a grid of
 * units × time steps, shaded by value with Unicode blocks (coloured by sign and
 * magnitude where the terminal supports it), with a scale legend. A student sees at a
 * glance e.g. the forget gate closing at a given step.
 *
 * Sequences longer than the terminal is wide are binned: each column then shows the
 * mean of a run of consecutive steps, and the header says how many.
 */
import type { ChalkInstance } from "chalk";
import type { LayerTrace, StepTrace } from "../eval/trace.js";
import { paintValue } from "./colour.js";
import { unitLabel } from "./feature-map.js";
import { displayName, wrapWords } from "./notation.js";
import { safe, significant } from "./text.js";

export interface HeatmapOptions {
  /** Terminal width in columns (default 80). */
  width?: number;
  /** Units to show (default all). */
  units?: number[];
  /** Processing steps to show, from 0 (default all). */
  steps?: number[];
  chalk: ChalkInstance;
}

export interface Quantity {
  name: string;
  label: string;
  /** The activation that produced it, when it has a known range. */
  activation?: string;
}

/** What each kind's heatmap (and the HTML charts) show: the gates, then the states. */
export function heatmapQuantities(t: StepTrace): Quantity[] {
  const ra = t.activations.recurrent_activation;
  const a = t.activations.activation;
  if (t.kind === "lstm" || t.kind === "conv_lstm") {
    return [
      { name: "i", label: "input gate", activation: ra },
      { name: "f", label: "forget gate", activation: ra },
      { name: "c_tilde", label: "candidate cell state", activation: a },
      { name: "o", label: "output gate", activation: ra },
      { name: "c", label: "cell state" },
      { name: "h", label: "hidden state (output)" },
    ];
  }
  if (t.kind === "gru") {
    return [
      { name: "z", label: "update gate", activation: ra },
      { name: "r", label: "reset gate", activation: ra },
      { name: "hh", label: "candidate state", activation: a },
      { name: "h", label: "hidden state (output)" },
    ];
  }
  return [{ name: "h", label: "hidden state (output)", activation: a }];
}

/** A row's name: `unit 3`, or a ConvLSTM unit's position and filter, `(4, 5) f2`. */
function rowLabel(t: StepTrace, j: number): string {
  return t.featureMap ? unitLabel(t.featureMap, j) : `unit ${j}`;
}

/** Ranges of bounded activations. */
const BOUNDED: Record<string, [number, number]> = {
  sigmoid: [0, 1],
  hard_sigmoid: [0, 1],
  tanh: [-1, 1],
  softsign: [-1, 1],
};

export const SHADES = [" ", "░", "▒", "▓", "█"];

/** The scale of a grid: the activation's range when every value lies in it, else the data's (symmetric around 0 when signed). */
export function scaleFor(q: Quantity, values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 0;
  const bounded = q.activation ? BOUNDED[q.activation] : undefined;
  if (bounded && lo >= bounded[0] && hi <= bounded[1]) return bounded;
  if (q.name === "h" || q.name === "c") {
    // h and c of tanh cells mostly stay within ±1: keep that scale when they do.
    if (lo >= -1 && hi <= 1) return lo >= 0 ? [0, 1] : [-1, 1];
  }
  if (lo >= 0) return [0, hi > 0 ? hi : 1];
  if (hi <= 0) return [lo < 0 ? lo : -1, 0];
  const m = Math.max(-lo, hi);
  return [-m, m];
}

export function shadeIndex(v: number, lo: number, hi: number): number {
  if (!Number.isFinite(v)) return -1;
  const k = Math.floor(((v - lo) / (hi - lo)) * SHADES.length);
  return Math.max(0, Math.min(SHADES.length - 1, k));
}

export interface Binning {
  /** Steps per column. */
  size: number;
  columns: number;
  /** Terminal columns per cell (1–3, wider when the sequence is short). */
  cellWidth: number;
}

export function binning(steps: number, available: number): Binning {
  const avail = Math.max(10, available);
  if (steps <= avail) {
    const cellWidth = Math.max(1, Math.min(3, Math.floor(avail / steps)));
    return { size: 1, columns: steps, cellWidth };
  }
  const size = Math.ceil(steps / avail);
  return { size, columns: Math.ceil(steps / size), cellWidth: 1 };
}

function fmt(v: number): string {
  return significant(Number(v.toPrecision(3)), 3);
}

/** The step numbers under the grid; `steps` are the processing steps shown, from 0. */
function stepAxis(b: Binning, steps: number[], indent: number): string {
  const width = b.columns * b.cellWidth;
  const line = new Array<string>(width).fill(" ");
  let free = 0;
  const place = (col: number, text: string) => {
    const at = Math.min(col, width - text.length);
    if (at < free) return;
    for (let k = 0; k < text.length; k++) line[at + k] = text[k];
    free = at + text.length + 1;
  };
  const every = b.cellWidth >= 3 ? 1 : b.cellWidth === 2 ? 5 : 10;
  const centre = Math.floor((b.cellWidth - 1) / 2);
  let lastPlaced = "";
  for (let c = 0; c < b.columns; c++) {
    const first = String(steps[c * b.size] + 1);
    if (c === 0 || (c + 1) % every === 0) {
      const before = free;
      place(c * b.cellWidth + centre, first);
      if (free !== before) lastPlaced = first;
    }
  }
  // The last step, when its column has no label yet.
  const last = String(steps[steps.length - 1] + 1);
  if (b.size === 1 && lastPlaced !== last && free <= width - last.length) place(width - last.length, last);
  return `${"step".padEnd(indent)}${line.join("").trimEnd()}`;
}

function grid(t: StepTrace, sample: number, q: Quantity, units: number[], steps: number[], width: number, chalk: ChalkInstance): string[] {
  const labelWidth = Math.max(...units.map((j) => rowLabel(t, j).length)) + 1;
  const b = binning(steps.length, width - labelWidth - 2 - 1);
  const name = t.indexOf(q.name);
  const cellValue = (j: number, c: number): number => {
    const from = c * b.size;
    const to = Math.min(steps.length, from + b.size);
    let sum = 0;
    for (let k = from; k < to; k++) sum += t.values[t.offset(sample, steps[k], name) + j];
    return sum / (to - from);
  };
  const values: number[][] = units.map((j) => Array.from({ length: b.columns }, (_, c) => cellValue(j, c)));
  const [lo, hi] = scaleFor(q, values.flat());
  const scale = Math.max(Math.abs(lo), Math.abs(hi));
  const act = q.activation ? `, ${q.activation}` : "";
  const lines = [`${displayName(q.name)}  ${q.label}${act}  (scale ${fmt(lo)} … ${fmt(hi)})`];
  const inner = b.columns * b.cellWidth;
  lines.push(`${" ".repeat(labelWidth)}┌${"─".repeat(inner)}┐`);
  units.forEach((j, r) => {
    const row = values[r]
      .map((v) => {
        const k = shadeIndex(v, lo, hi);
        const glyph = (k < 0 ? "?" : SHADES[k]).repeat(b.cellWidth);
        return k < 0 ? glyph : paintValue(chalk, glyph, v, scale);
      })
      .join("");
    lines.push(`${rowLabel(t, j).padEnd(labelWidth)}│${row}│`);
  });
  lines.push(`${" ".repeat(labelWidth)}└${"─".repeat(inner)}┘`);
  lines.push(stepAxis(b, steps, labelWidth + 1));
  // The legend: one band per shade, packed into as few lines as the width allows.
  let line = " ".repeat(labelWidth);
  let used = labelWidth;
  SHADES.forEach((g, k) => {
    const a = lo + ((hi - lo) * k) / SHADES.length;
    const z = lo + ((hi - lo) * (k + 1)) / SHADES.length;
    const glyph = g === " " ? "' '" : g;
    const text = `${glyph} ${fmt(a)} … ${fmt(z)}`;
    if (used > labelWidth && used + 3 + text.length > width) {
      lines.push(line);
      line = " ".repeat(labelWidth);
      used = labelWidth;
    }
    line += `${used > labelWidth ? "   " : ""}${paintValue(chalk, glyph, (a + z) / 2, scale)}${text.slice(glyph.length)}`;
    used += (used > labelWidth ? 3 : 0) + text.length;
  });
  lines.push(line);
  return lines;
}

/** The heatmaps of every direction and sample of a layer's trace. */
export function formatHeatmap(trace: LayerTrace, opts: HeatmapOptions): string {
  const width = Math.max(40, opts.width ?? 80);
  const out: string[] = [];
  for (const note of trace.notes) out.push(`note: ${safe(note)}`);
  for (const t of trace.directions) {
    const units = opts.units ?? Array.from({ length: t.units }, (_, j) => j);
    const steps = opts.steps ?? Array.from({ length: t.steps }, (_, k) => k);
    const labelWidth = Math.max(...units.map((j) => rowLabel(t, j).length)) + 1;
    const b = binning(steps.length, width - labelWidth - 3);
    for (let s = 0; s < t.samples; s++) {
      out.push("");
      out.push(
        ...wrapWords(`${safe(t.layer)} (${safe(t.className)}${t.direction === "backward" ? ", backward direction: steps in processing order" : ""})` +
          `${t.samples > 1 ? `, sample ${s + 1} of ${t.samples}` : ""}: ${units.length} unit(s) × ${opts.steps ? `${steps.length} of ${t.steps}` : t.steps} step(s)`, width),
      );
      if (b.size > 1) {
        const lastSize = steps.length - (b.columns - 1) * b.size;
        out.push(
          ...wrapWords(
            `binned to fit ${width} columns: each column is the mean of ${b.size} consecutive steps` +
              `${lastSize !== b.size ? ` (the last of ${lastSize})` : ""}, ${b.columns} columns in all; shades from low (blank) to high (█)`,
            width,
          ),
        );
      } else {
        out.push(...wrapWords(`one column${b.cellWidth > 1 ? ` (${b.cellWidth} characters wide)` : ""} per step; shades from low (blank) to high (█)`, width));
      }
      for (const q of heatmapQuantities(t)) out.push("", ...grid(t, s, q, units, steps, width, opts.chalk));
    }
  }
  return out.join("\n").replace(/^\n/, "");
}
