/**
 * `--html FILE` for `explain` and `step`: one self-contained page (inline CSS and
 * inline SVG, one inline script; no fonts, no links, no requests) with the explanation (definitions,
 * substituted equations, the cell diagram as SVG), a line chart per unit of every
 * gate and state over time, and the step tables.
 *
 * Every number is written twice: as text with the chosen decimals, and in full in a
 * `data-value` attribute, so a browser test can check the page against the trace (a chart
 * of more than 60 steps leaves its values to the embedded trace: they were half the page).
 * Every string from the model file is escaped.
 *
 * With an explanation, the page is interactive (html-interactive.ts): it embeds the
 * explained direction's trace and one inline script lets the reader choose the step and
 * the unit; without the script the page reads as before, at the explained step and unit.
 * A long trace's page stays small enough to open at once: beyond MAX_INTERACTIVE_TABLE_ROWS
 * it writes the chosen step's table and the chosen unit's steps around it rather than every
 * step's, and a chart of more than 60 steps draws its lines as compact path data.
 */
import type { LayerTrace, StepTrace } from "../eval/trace.js";
import { pageRgb, rgbHex } from "./colour.js";
import { renderDiagramSvg, diagramLegend } from "./diagram.js";
import { colourScale, type Explanation } from "./explain.js";
import { heatmapQuantities } from "./heatmap.js";
import { INTERACTIVE_SCRIPT, interactiveData, scriptJson, WINDOW_STEPS } from "./html-interactive.js";
import { displayName } from "./notation.js";
import { fixed, safe, significant } from "./text.js";

export interface HtmlOptions {
  explanation?: Explanation;
  digits: number;
  /** Units to chart and tabulate (default: all, up to MAX_CHARTED_UNITS charts). */
  units?: number[];
  /** Processing steps to chart and tabulate, from 0 (default: all). */
  steps?: number[];
  /**
   * The explanation of another step and unit of the explained direction: the interactive page
   * takes its lines from a step that was not masked when the explained one was.
   */
  explainAt?: (step: number, unit: number) => Explanation;
}

/** Charts per page at most (units × samples × directions); the tables still hold every unit. */
export const MAX_CHARTS = 32;
/** Table rows per direction and sample at most; beyond, the first and last steps are shown. */
export const MAX_TABLE_ROWS = 2000;
/**
 * Rows of every-step tables an interactive page writes out at most; a longer trace gets the
 * chosen step's table and the chosen unit's steps around it instead, which follow the pickers
 * (the every-step tables of a 905-step × 64-unit GRU were 1.3 MB and a second of loading).
 */
export const MAX_INTERACTIVE_TABLE_ROWS = 256;

export function escapeHtml(s: string): string {
  return safe(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const num = (v: number) => (Number.isNaN(v) ? "NaN" : String(v));

const SERIES_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"];

function niceRange(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (hi - lo < 1e-12) {
    lo -= 1;
    hi += 1;
  }
  return [lo, hi];
}

/** A chart of every gate and state of one unit over the `steps` shown (processing steps, from 0). */
function lineChart(t: StepTrace, sample: number, unit: number, steps: number[], digits: number): string {
  const names = heatmapQuantities(t).map((q) => q.name);
  const [W, H] = [440, 220];
  const [L, R, T, B] = [52, 12, 12, 34];
  const n = steps.length;
  const series = names.map((name) => steps.map((k) => t.get(sample, k, name, unit)));
  const [lo, hi] = niceRange(series.flat());
  const xs = (s: number) => L + (n === 1 ? (W - L - R) / 2 : (s * (W - L - R)) / (n - 1));
  // One step: the series side by side, each named under its dot, so that close values do not hide each other.
  const xAt = (s: number, k: number) => (n === 1 ? L + ((k + 0.5) * (W - L - R)) / names.length : xs(s));
  const ys = (v: number) => T + ((hi - v) * (H - T - B)) / (hi - lo);
  const parts: string[] = [];
  // axes and ticks at round numbers
  const raw = (hi - lo) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const tick = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((t) => t >= raw) ?? 10 * mag;
  for (let v = Math.ceil(lo / tick - 1e-9) * tick; v <= hi + 1e-9 * tick; v += tick) {
    parts.push(`<line class="grid" x1="${L}" x2="${W - R}" y1="${ys(v)}" y2="${ys(v)}"/>`);
    parts.push(`<text class="tick" x="${L - 6}" y="${ys(v)}" text-anchor="end" dominant-baseline="central">${significant(v, 3)}</text>`);
  }
  if (lo < 0 && hi > 0) parts.push(`<line class="zero" x1="${L}" x2="${W - R}" y1="${ys(0)}" y2="${ys(0)}"/>`);
  const ticks = n === 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1].filter((v, i, a) => a.indexOf(v) === i);
  if (n > 1) for (const s of ticks) parts.push(`<text class="tick" x="${xs(s)}" y="${H - B + 16}" text-anchor="middle">${steps[s] + 1}</text>`);
  parts.push(`<text class="axis" x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle">${n === 1 ? `step ${steps[0] + 1}` : "step"}</text>`);
  const markers = n <= 60;
  series.forEach((vals, k) => {
    const colour = SERIES_COLOURS[k % SERIES_COLOURS.length];
    if (!markers) {
      // A long series as compact path data: x counts steps, y tenths of a pixel, scaled back by
      // the transform (the stroke keeps its width); every step is drawn (905 steps were 1.5 MB
      // of "x.xx,y.yy" pairs for 32 charts, now about a third of it).
      const scaleX = n === 1 ? 1 : (W - L - R) / (n - 1);
      parts.push(
        `<path class="series" data-name="${names[k]}" data-label="${displayName(names[k])}" stroke="${colour}" vector-effect="non-scaling-stroke" transform="translate(${L} 0) scale(${Number(scaleX.toFixed(6))} 0.1)" d="${compactPath(vals.map((v) => Math.round(10 * (Number.isFinite(v) ? ys(v) : ys(0)))))}"/>`,
      );
      return;
    }
    const pts = vals.map((v, s) => `${xAt(s, k).toFixed(2)},${(Number.isFinite(v) ? ys(v) : ys(0)).toFixed(2)}`).join(" ");
    parts.push(
      `<polyline class="series" data-name="${names[k]}" data-label="${displayName(names[k])}"${markers ? ` data-values="${vals.map(num).join(" ")}"` : ""} stroke="${colour}" points="${pts}"/>`,
    );
    if (markers) {
      vals.forEach((v, s) => {
        parts.push(
          `<circle class="point" data-name="${names[k]}" data-step="${steps[s] + 1}" data-value="${num(v)}" cx="${xAt(s, k).toFixed(2)}" cy="${(Number.isFinite(v) ? ys(v) : ys(0)).toFixed(2)}" r="${n === 1 ? 4 : 3}" fill="${colour}"><title>${displayName(names[k])} at step ${steps[s] + 1}: ${fixed(v, digits)}</title></circle>`,
        );
        if (n === 1) parts.push(`<text class="tick series-name" x="${xAt(s, k).toFixed(2)}" y="${H - B + 16}" text-anchor="middle">${displayName(names[k])}</text>`);
      });
    }
  });
  const legend = names
    .map((n, k) => `<span class="key"><span class="swatch" style="background:${SERIES_COLOURS[k % SERIES_COLOURS.length]}"></span>${displayName(n)}</span>`)
    .join(" ");
  // The chosen step's marker, placed by the page's script (hidden without it).
  parts.push(`<line class="marker" x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" style="display:none"/>`);
  return (
    `<figure class="chart" data-unit="${unit}" data-sample="${sample + 1}" data-direction="${t.direction}" data-steps="${steps.join(",")}" data-left="${L}" data-right="${W - R}">` +
    `<figcaption>unit ${unit}${t.samples > 1 ? `, sample ${sample + 1}` : ""}${t.direction === "backward" ? ", backward" : ""} ${legend}</figcaption>` +
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="gates of unit ${unit} over time">${parts.join("")}</svg>` +
    `<div class="readout" aria-live="polite"></div></figure>`
  );
}

/** Path data through (s, ys[s]) for s = 0, 1, …: integers, each point relative to the one before. */
export function compactPath(ys: readonly number[]): string {
  const out = [`M0 ${ys[0]}`];
  for (let s = 1; s < ys.length; s++) {
    const dy = ys[s] - ys[s - 1];
    // "l1 5 1-3 1 0": a minus sign separates the pair's numbers by itself.
    out.push(`${s === 1 ? "l" : " "}1${dy < 0 ? dy : ` ${dy}`}`);
  }
  return out.join("");
}

function stepTable(t: StepTrace, sample: number, step: number, units: number[], digits: number, highlight?: { unit: number }): string {
  const x = Array.from(t.input(sample, step), (v) => significant(v, 6)).join(", ");
  const head = `<tr><th>unit</th>${t.columns.map((c) => `<th>${displayName(c)}</th>`).join("")}</tr>`;
  const rows = units
    .map((j) => {
      const cells = t.columns
        .map((c) => {
          const v = t.get(sample, step, c, j);
          const colour = rgbHex(pageRgb(v, colourScale(c)));
          return `<td data-name="${c}" data-value="${num(v)}" style="color:${colour}">${fixed(v, digits)}</td>`;
        })
        .join("");
      return `<tr data-unit="${j}"${highlight?.unit === j ? ' class="chosen"' : ""}><td>${j}</td>${cells}</tr>`;
    })
    .join("");
  const masked = t.mask[sample * t.steps + step] ? " (masked: states carried over)" : "";
  return (
    `<table class="step" data-direction="${t.direction}" data-sample="${sample + 1}" data-step="${step + 1}">` +
    `<caption>${t.samples > 1 ? `sample ${sample + 1}, ` : ""}step ${step + 1} of ${t.steps} (t=${t.timeIndex[step]}), x = [${escapeHtml(x)}]${masked}</caption>` +
    `<thead>${head}</thead><tbody>${rows}</tbody></table>`
  );
}

/** The steps of `steps` around `step` (WINDOW_STEPS each side, fewer at the ends). */
export function stepWindow(steps: readonly number[], step: number): number[] {
  const at = Math.max(0, steps.indexOf(step));
  const from = Math.max(0, Math.min(at - WINDOW_STEPS, steps.length - (2 * WINDOW_STEPS + 1)));
  return steps.slice(from, from + 2 * WINDOW_STEPS + 1);
}

/** One unit over the steps around the chosen one (the page's script rewrites it as the reader moves). */
function windowTable(t: StepTrace, sample: number, step: number, unit: number, steps: readonly number[], digits: number): string {
  const head = `<tr><th>step</th>${t.columns.map((c) => `<th>${displayName(c)}</th>`).join("")}</tr>`;
  const rows = stepWindow(steps, step)
    .map((k) => {
      const cells = t.columns
        .map((c) => {
          const v = t.get(sample, k, c, unit);
          return `<td data-name="${c}" data-value="${num(v)}" style="color:${rgbHex(pageRgb(v, colourScale(c)))}">${fixed(v, digits)}</td>`;
        })
        .join("");
      return `<tr data-step="${k + 1}"${k === step ? ' class="chosen"' : ""}><td>${k + 1}</td>${cells}</tr>`;
    })
    .join("");
  return `<table class="window" data-unit="${unit}"><caption>unit ${unit}, steps around step ${step + 1}</caption><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}

function explanationSections(ex: Explanation): string {
  const defs = ex.definitions
    .map((d) => `<tr><td class="eq">${escapeHtml(d.equation)}</td><td>${escapeHtml(d.meaning)}</td></tr>`)
    .join("");
  const acts = ex.activations
    .filter((a) => a.formula !== `${a.name}(x)`)
    .map(
      (a) =>
        `<li data-activation="${escapeHtml(a.name)}"><span class="eq">${escapeHtml(a.symbol)}(x) = ${escapeHtml(a.formula)}</span> (${a.role})${a.note ? `: ${escapeHtml(a.note)}` : ""}</li>`,
    )
    .join("");
  const symbols = ex.symbols
    .map(
      (s) =>
        `<tr><td class="eq">${escapeHtml(s.symbol)}</td><td>${s.weights ? escapeHtml(s.weights) : ""}</td><td class="shape">${s.shape.join("×")}</td><td>${escapeHtml(s.meaning)}</td></tr>`,
    )
    .join("");
  const numbers = ex.numbers
    .map((n) => {
      const colour = rgbHex(pageRgb(n.value, colourScale(n.name)));
      return (
        `<li class="equation" data-name="${n.name}" data-value="${num(n.value)}"><span class="eq">${escapeHtml(n.symbol)} = ${escapeHtml(n.equation)}</span>` +
        `<span class="work"> = ${n.work.map(escapeHtml).join(" = ")} = <b class="result" style="color:${colour}">${fixed(n.value, ex.digits)}</b></span></li>`
      );
    })
    .join("");
  const state = Object.entries(ex.before)
    .map(([s, v]) => `<li data-state="${s}">${s}₍ₜ₋₁₎ = [${v.map((x) => fixed(x, ex.digits)).join(", ")}]</li>`)
    .join("");
  return (
    `<section id="definitions"><h2>Mathematical definitions</h2>` +
    `<table class="definitions"><tbody>${defs}</tbody></table><p>where</p><ul class="activations">${acts}<li>· is the matrix product (row vector times matrix), ⊙ the element-wise product</li></ul>` +
    `<h3>Shapes in this model</h3><table class="symbols"><thead><tr><th>symbol</th><th>Keras weights</th><th>shape</th><th>meaning</th></tr></thead><tbody>${symbols}</tbody></table></section>` +
    `<section id="numbers"><h2>The numbers: step ${ex.step + 1} of ${ex.steps} (t=${ex.t}), unit ${ex.unit}${ex.samples > 1 ? `, sample ${ex.sample + 1}` : ""}</h2>` +
    `<ul class="inputs"><li class="x-now">xₜ = [${ex.input.map((x) => significant(x, 6)).join(", ")}]</li>${state}</ul><ol class="equations">${numbers}</ol></section>` +
    `<section id="diagram"><h2>Graphical illustration</h2>${renderDiagramSvg(ex)}<p class="legend">${diagramLegend(ex).map(escapeHtml).join("<br>")}</p></section>`
  );
}

/** What the colours of the numbers say, with examples in those colours. */
function colourLegend(): string {
  const sample = (v: number, scale: number) => `<span class="sample" data-value="${v}" style="color:${rgbHex(pageRgb(v, scale))}">${v}</span>`;
  return (
    `<p class="colour-legend">Colours of the numbers: <b>blue</b> below 0, <b>orange-red</b> above 0, <b>grey</b> at 0; ` +
    `the colour deepens with the magnitude and is full (saturated) from 1 for gates and states, from 4 for x_, rec and the activations' arguments: ` +
    `${[-1, -0.25, 0, 0.25, 1].map((v) => sample(v, 1)).join(" ")} (gates), ${[-4, -1, 1, 4].map((v) => sample(v, 4)).join(" ")} (arguments).</p>`
  );
}

/** The step and unit pickers; the page's script makes them work (without it they stay put). */
function controls(ex: Explanation, units: number[], steps: number[]): string {
  return (
    `<div id="controls" class="controls" role="group" aria-label="choose the step and the unit">` +
    `<label>step <input id="pick-step" type="range" min="0" max="${steps.length - 1}" value="${steps.indexOf(ex.step)}"></label> <output id="pick-step-out">${ex.step + 1} of ${ex.steps} (t=${ex.t})</output>` +
    `<label>unit <input id="pick-unit" type="range" min="0" max="${units.length - 1}" value="${units.indexOf(ex.unit)}"></label> <output id="pick-unit-out">${ex.unit}</output>` +
    `<button id="play" type="button" data-interval="600">▶ play</button>` +
    `<span class="hint">← → step, ↑ ↓ unit, space play</span></div>`
  );
}

/** The pages' style (summary --html uses it too, so they look alike). */
export const PAGE_CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px}
.meta{color:#555;margin:0}.eq,td,th,.work,.inputs{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13.5px}
table{border-collapse:collapse;margin:8px 0 16px;display:block;overflow-x:auto;max-width:100%}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:right}
table.definitions td,table.symbols td,table.symbols th{text-align:left}caption{text-align:left;font-weight:600;padding:4px 0}
tr.chosen{background:#fff6d5}ol.equations li{margin:4px 0}.work{color:#333}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure.chart{margin:0;border:1px solid #e3e3e3;border-radius:6px;padding:6px}
figcaption{font-size:13px}.key{margin-left:8px;white-space:nowrap}.swatch{display:inline-block;width:10px;height:10px;margin-right:3px;border-radius:2px}
.series{fill:none;stroke-width:1.8}.grid{stroke:#eee}.zero{stroke:#bbb}.tick,.axis{font:11px sans-serif;fill:#666}
.controls{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #ddd;padding:8px 0;display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center}
.controls input[type=range]{width:min(320px,60vw);vertical-align:middle}.controls output{font-family:ui-monospace,monospace;min-width:9ch;display:inline-block}
.controls button{font:inherit;padding:2px 12px}.hint{color:#555;font-size:13px}
.typeset math{font-size:17px;margin-right:.35em}.typeset{line-height:2}td.eq math{font-size:17px}ol.equations li{margin:8px 0}
figure.chart.chosen{border-color:#b58900;box-shadow:0 0 0 2px #f3d36b}.marker{stroke:#333;stroke-width:1;stroke-dasharray:3 3}.readout{font:12px ui-monospace,monospace;min-height:1.4em;color:#333}
.colour-legend{font-size:14px;color:#333}.colour-legend .sample{font-family:ui-monospace,monospace;font-weight:600}
.note{color:#6a4c00;background:#fff8e1;padding:4px 8px;border-radius:4px}svg.diagram{max-width:100%;height:auto}
`;

/** The whole page. */
export function htmlReport(trace: LayerTrace, opts: HtmlOptions): string {
  const ex = opts.explanation;
  const first = trace.directions[0];
  const title = `${trace.layer} (${trace.className})`;
  const notes = [...trace.notes, ...(ex ? ex.notes.filter((n) => !trace.notes.includes(n)) : [])];
  const parts: string[] = [];
  parts.push(`<h1>keras-inspect: ${escapeHtml(title)}</h1>`);
  const acts = Object.entries(first.activations)
    .map(([role, name]) => `${role} ${escapeHtml(name)}`)
    .join(", ");
  parts.push(
    `<p class="meta">${ex ? `${escapeHtml(ex.file)}${ex.kerasVersion ? `, written by Keras ${escapeHtml(ex.kerasVersion)}` : ""}; ` : ""}${first.units} unit(s), ${first.inputDim} feature(s), ${first.steps} step(s)${opts.steps ? ` (${opts.steps.length} shown)` : ""}, ${first.dtype}; ${acts}</p>`,
  );
  for (const n of notes) parts.push(`<p class="note">note: ${escapeHtml(n)}</p>`);
  const live = ex ? trace.directions.find((d) => d.direction === ex.direction) : undefined;
  let data = "";
  if (ex && live) {
    const units = [...(opts.units ?? Array.from({ length: live.units }, (_, j) => j))];
    const steps = [...(opts.steps ?? Array.from({ length: live.steps }, (_, k) => k))];
    if (!units.includes(ex.unit)) units.unshift(ex.unit);
    if (!steps.includes(ex.step)) steps.push(ex.step);
    steps.sort((a, b) => a - b);
    data = scriptJson(interactiveData(live, ex, opts.explainAt ?? (() => ex), { units, steps }));
    parts.push(controls(ex, units, steps));
  }
  parts.push(colourLegend());
  if (ex) parts.push(explanationSections(ex));

  // Charts: every gate and state of each unit over time.
  const charts: string[] = [];
  let skipped = 0;
  for (const t of trace.directions) {
    const units = opts.units ?? Array.from({ length: t.units }, (_, j) => j);
    const steps = opts.steps ?? Array.from({ length: t.steps }, (_, k) => k);
    for (let s = 0; s < t.samples; s++) {
      for (const j of units) {
        if (charts.length < MAX_CHARTS) charts.push(lineChart(t, s, j, steps, opts.digits));
        else skipped++;
      }
    }
  }
  parts.push(`<section id="charts"><h2>Gates and states over time</h2>`);
  if (skipped > 0) parts.push(`<p class="note">${skipped} more chart(s) left out (at most ${MAX_CHARTS} per page); choose units with --unit.</p>`);
  parts.push(`<div class="charts">${charts.join("")}</div></section>`);

  // Tables.
  parts.push(`<section id="tables"><h2>Step tables</h2>`);
  if (ex && live) {
    const units = opts.units ?? Array.from({ length: live.units }, (_, j) => j);
    const steps = opts.steps ?? Array.from({ length: live.steps }, (_, k) => k);
    parts.push(`<h3>The chosen step</h3>${stepTable(live, ex.sample, ex.step, units, opts.digits, { unit: ex.unit }).replace('<table class="step"', '<table class="current"')}`);
    parts.push(`<h3>The chosen unit</h3>${windowTable(live, ex.sample, ex.step, ex.unit, steps.includes(ex.step) ? steps : [...steps, ex.step].sort((a, b) => a - b), opts.digits)}`);
    const rows = trace.directions.reduce((n, t) => n + t.samples * (opts.steps?.length ?? t.steps) * (opts.units?.length ?? t.units), 0);
    if (rows > MAX_INTERACTIVE_TABLE_ROWS) {
      parts.push(`<p class="note">Every step's table is left out (${rows} rows, more than ${MAX_INTERACTIVE_TABLE_ROWS}): the two tables above follow the step and unit chosen at the top; the JSON output of step has every step, sample and direction.</p></section>`);
      return page(title, parts, data);
    }
    parts.push(`<h3>Every step</h3>`);
  }
  for (const t of trace.directions) {
    const units = opts.units ?? Array.from({ length: t.units }, (_, j) => j);
    if (trace.directions.length > 1) parts.push(`<h3>${escapeHtml(t.layer)} (${t.direction})</h3>`);
    for (let s = 0; s < t.samples; s++) {
      const perStep = Math.max(1, units.length);
      let steps = opts.steps ?? Array.from({ length: t.steps }, (_, k) => k);
      const selected = steps.length;
      if (steps.length * perStep > MAX_TABLE_ROWS) {
        const keep = Math.max(1, Math.floor(MAX_TABLE_ROWS / perStep / 2));
        steps = [...steps.slice(0, keep), ...steps.slice(steps.length - keep)];
        if (ex && ex.direction === t.direction && ex.sample === s && !steps.includes(ex.step)) steps.push(ex.step);
        steps.sort((a, b) => a - b);
        parts.push(`<p class="note">${selected} steps × ${units.length} units: showing steps ${steps.map((k) => k + 1).join(", ")} (the JSON output of step has them all).</p>`);
      }
      for (const k of steps) {
        const chosen = ex && ex.direction === t.direction && ex.sample === s && ex.step === k ? { unit: ex.unit } : undefined;
        parts.push(stepTable(t, s, k, units, opts.digits, chosen));
      }
    }
  }
  parts.push(`</section>`);
  return page(title, parts, data);
}

function page(title: string, parts: string[], data: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>keras-inspect: ${escapeHtml(title)}</title><style>${PAGE_CSS}</style></head>
<body>${parts.join("\n")}${data ? `\n<script type="application/json" id="trace-data">${data}</script>\n<script>${INTERACTIVE_SCRIPT}</script>` : ""}</body></html>
`;
}
