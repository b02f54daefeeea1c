/**
 * `summary --html FILE`: what Netron shows, for a terminal user. One self-contained page
 * (inline CSS and SVG, no script, no request) with the model's layers as a graph
 * (model-graph.ts: branches and merges, nested models as boxes holding their graph, shapes
 * on the edges, parameter counts in the boxes), summary's table, and a section per
 * recurrent layer: its gate layout, activations and each gate block's statistics as
 * `weights` gives them, the cell diagram explain draws (its wiring: a summary has no step's
 * numbers), and the command that writes its interactive cell page. Every
 * recurrent box in the graph links to its section. Every string from the file is escaped.
 */
import { isNestedModel } from "../eval/shapes.js";
import { FORMAT_DESCRIPTIONS, type FormatName, isWeightsOnly, type Layer, type Model } from "../model.js";
import { type CellReport, isGatedLayer, layerReports, type RecurrentReport } from "../slice/index.js";
import type { ModelSummary } from "../summary.js";
import { diagramLegend, renderDiagramSvg } from "./diagram.js";
import { actSymbol, type Explanation } from "./explain.js";
import { escapeHtml, PAGE_CSS } from "./html.js";
import { type ModelGraph, modelGraph, renderModelGraphSvg } from "./model-graph.js";
import { fixed, thousands } from "./text.js";
import { cellHeader, gateCaption } from "./weights.js";

/** Decimals of the gate statistics, as `weights` prints them by default. */
const DIGITS = 6;

interface RecurrentSection {
  anchor: string;
  /** The recurrent layer's path (`bidirectional_1`, `time_distributed_1/lstm_1`, `model_2/gru_1`). */
  path: string;
  /** The graph box it belongs to (a wrapper's, for a layer inside TimeDistributed). */
  node: string;
  report: RecurrentReport;
}

/** Every recurrent layer, in model order, with the graph box that holds it. */
function recurrentSections(model: Model): RecurrentSection[] {
  const out: RecurrentSection[] = [];
  const visit = (layer: Layer, path: string, node: string) => {
    if (isGatedLayer(layer)) {
      const report = layerReports(model, path)[0];
      if (report?.type === "recurrent") out.push({ anchor: `recurrent-${out.length + 1}`, path, node, report });
      return;
    }
    // A nested model's layers are boxes of their own; a wrapper's layer lives in the wrapper's box.
    for (const c of layer.children) visit(c, `${path}/${c.name}`, isNestedModel(layer) ? `${path}/${c.name}` : node);
  };
  for (const l of model.layers) visit(l, l.name, l.name);
  return out;
}

/** A cell with no step evaluated: what the diagram needs to draw its wiring (its kind, activations, GRU's reset_after), no numbers. */
function wiring(cell: CellReport): Explanation {
  const activations = Object.entries(cell.activations).map(([role, name]) => ({ role, name, symbol: actSymbol(name), formula: "" }));
  return {
    file: "",
    layer: cell.path,
    className: cell.className,
    kind: cell.kind,
    direction: cell.direction,
    dtype: cell.dtype,
    resetAfter: cell.resetAfter ?? undefined,
    sample: 0,
    samples: 1,
    step: 0,
    steps: 0,
    t: 0,
    unit: 0,
    units: cell.units,
    inputDim: cell.inputDim,
    masked: false,
    digits: DIGITS,
    activations,
    definitions: [],
    symbols: [],
    numbers: [],
    input: [],
    before: { h: [] },
    scalars: {},
    notes: [],
    withoutNumbers: true,
  };
}

/** A word for a POSIX shell: as it is when it is plain, else single-quoted. */
function shellWord(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function sectionHtml(s: RecurrentSection, file: string): string {
  const out = `${s.path.replace(/[^\w.-]+/g, "_")}.html`;
  const command = `keras-inspect explain ${shellWord(file)} --layer ${shellWord(s.path)} --input-file YOUR_INPUT.npy --html ${shellWord(out)}`;
  const r = s.report;
  const merge = r.mergeMode === undefined ? "" : `<p>merge_mode ${r.mergeMode === null ? "None (both outputs returned)" : escapeHtml(r.mergeMode)}</p>`;
  const cells = r.cells
    .map((cell) => {
      const stat = (v: number | null) => `<td>${v === null ? "-" : fixed(v, DIGITS)}</td>`;
      const rows = cell.tensors
        .map((t) => {
          const odd = [t.stats.nan > 0 ? `NaN ${t.stats.nan}` : "", t.stats.inf > 0 ? `Inf ${t.stats.inf}` : ""].filter(Boolean).join(", ");
          return `<tr data-tensor="${t.name}"><td>${escapeHtml(gateCaption(cell, t))}${odd ? ` (${odd})` : ""}</td>${stat(t.stats.min)}${stat(t.stats.max)}${stat(t.stats.mean)}${stat(t.stats.std)}</tr>`;
        })
        .join("");
      // The explain page's diagram of this cell, its value slots empty (explain fills them for a step of an input).
      const diagram = cell.direction === "forward" ? wiring(cell) : undefined;
      return (
        `<pre class="overview">${cellHeader(cell).map(escapeHtml).join("\n")}</pre>` +
        (diagram
          ? `<figure class="cell">${renderDiagramSvg(diagram)}<figcaption>The cell's wiring, as explain draws it with the numbers of a step: ${diagramLegend(diagram).map(escapeHtml).join(" ")}</figcaption></figure>`
          : "") +
        `<table class="gates"><thead><tr><th>gate block</th><th>min</th><th>max</th><th>mean</th><th>std</th></tr></thead><tbody>${rows}</tbody></table>`
      );
    })
    .join("");
  return (
    `<section class="recurrent" id="${s.anchor}" data-layer="${escapeHtml(s.path)}">` +
    `<h3>${escapeHtml(s.path)} (${escapeHtml(r.className)})</h3>${merge}${cells}` +
    `<p>Its interactive cell page (equations with your numbers, the cell diagram, every gate over time), for an input of yours (<code>--input</code> or <code>--input-file</code>):</p>` +
    `<pre class="command">${escapeHtml(command)}</pre>` +
    `</section>`
  );
}

function summaryTable(s: ModelSummary): string {
  // As summary's text: the "Connected to" column where some layer consumes more than one tensor.
  const functional = !s.layers.every((l) => l.connectedTo.length <= 1);
  const head = `<tr><th>Layer (type)</th><th>Output Shape</th><th>Param #</th>${functional ? "<th>Connected to</th>" : ""}</tr>`;
  const rows = s.layers
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.name)} (${escapeHtml(l.className)}${l.inferred ? ", inferred" : ""})</td><td>${escapeHtml(l.outputShape)}</td><td>${thousands(l.params)}</td>` +
        `${functional ? `<td>${l.connectedTo.map(escapeHtml).join("<br>")}</td>` : ""}</tr>`,
    )
    .join("");
  return (
    `<table class="summary"><thead>${head}</thead><tbody>${rows}</tbody></table>` +
    `<p>Total params: ${thousands(s.totalParams)}<br>Trainable params: ${thousands(s.trainableParams)}<br>Non-trainable params: ${thousands(s.nonTrainableParams)}</p>`
  );
}

/** Why a graph is drawn without edges. */
function unconnectedNote(model: Model): string {
  if (isWeightsOnly(model)) {
    return "This file holds weights only: it records no connections between its layers, so they are drawn in the file's order, unconnected. Give the model's config with --config to draw its graph.";
  }
  return "Only this graph's recurrent nodes are read as layers (the notes above name the other ops), so they are drawn in graph order, unconnected.";
}

const CSS = `
.graph-box{overflow:auto;max-width:100%;border:1px solid #e3e3e3;border-radius:6px;background:#fff}
.graph-box svg{display:block}h1,h2,h3,p,li{overflow-wrap:anywhere}
pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px;white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7f9;padding:8px;border-radius:4px}
table.summary td,table.summary th,table.gates td:first-child,table.gates th:first-child{text-align:left}table.gates td:first-child{font-family:system-ui,sans-serif;font-size:14px}.graph-legend{font-size:14px;color:#333}
.graph-legend .box{display:inline-block;width:14px;height:10px;border:1.4px solid #333;border-radius:3px;vertical-align:middle;margin:0 3px 0 8px}
.graph-legend .rec{background:#fdf0e6;border-color:#b34700}.graph-legend .nest{border:1.4px dashed #7570b3}
section.recurrent:target h3{background:#fff6d5}figure.cell{margin:8px 0}figure.cell figcaption{font-size:14px;color:#333}
`;

/** The whole page. */
export function summaryHtml(model: Model, summary: ModelSummary): string {
  const sections = recurrentSections(model);
  const anchors = new Map<string, string>();
  for (const s of sections) if (!anchors.has(s.node)) anchors.set(s.node, s.anchor);
  const graph: ModelGraph = modelGraph(model, anchors);
  const title = `${summary.name} (${summary.file})`;
  const parts: string[] = [];
  parts.push(`<h1>keras-inspect: ${escapeHtml(summary.name)}</h1>`);
  parts.push(
    `<p class="meta">${escapeHtml(summary.file)}: ${escapeHtml(FORMAT_DESCRIPTIONS[summary.format as FormatName] ?? summary.format)}; ` +
      `Keras version ${summary.kerasVersion ? escapeHtml(summary.kerasVersion) : "not recorded"}${summary.backend ? `, backend ${escapeHtml(summary.backend)}` : ""}; ` +
      `model class ${escapeHtml(summary.modelClass)}; ${thousands(summary.totalParams)} parameters</p>`,
  );
  for (const n of summary.notes) parts.push(`<p class="note">note: ${escapeHtml(n)}</p>`);
  parts.push(`<section id="graph"><h2>Graph</h2>`);
  if (!graph.connected) parts.push(`<p class="note">${unconnectedNote(model)}</p>`);
  parts.push(
    `<p class="graph-legend">Each box is a layer: its name, class and parameter count; an arrow is a tensor, with its shape (None: any batch size; ? where it cannot be inferred). ` +
      `<span class="box rec"></span>recurrent (click for its cell) <span class="box nest"></span>a model used as a layer, holding its own layers; a thick border marks an output.</p>`,
  );
  parts.push(`<div class="graph-box">${renderModelGraphSvg(graph, title)}</div></section>`);
  parts.push(`<section id="layers"><h2>Layers</h2>${summaryTable(summary)}</section>`);
  if (sections.length > 0) {
    parts.push(`<section id="recurrent-layers"><h2>Recurrent layers</h2>${sections.map((s) => sectionHtml(s, summary.file)).join("\n")}</section>`);
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>keras-inspect: ${escapeHtml(title)}</title><style>${PAGE_CSS}${CSS}</style></head>
<body>${parts.join("\n")}</body></html>
`;
}
