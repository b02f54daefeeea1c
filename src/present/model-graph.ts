/**
 * The model as a graph for `summary --html`: one box per layer, an edge per tensor a call
 * consumes, the tensor's shape on it, and a model used as a layer drawn as a box holding
 * its own graph. The structure is the one eval/graph.ts walks (a Sequential's chain, a
 * functional model's inbound nodes, the keyword arguments summary's "Connected to" lists),
 * the shapes are the ones summary prints (eval/shapes.ts), so the drawing and the table
 * cannot disagree. graph-layout.ts places the boxes; this file draws them as SVG.
 */
import { callsInOrder, type Graph, graphOfModel, graphOfNested, SEQUENTIAL_INPUT } from "../eval/graph.js";
import { formatShape, type InferredShapes, inferShapes, isNestedModel } from "../eval/shapes.js";
import type { Shape } from "../layers/kind.js";
import { allWeights, isWeightsOnly, type Layer, type Model, tensorSize } from "../model.js";
import { callInputs } from "../summary.js";
import { layeredLayout } from "./graph-layout.js";
import { escapeHtml } from "./html.js";
import { safe, thousands } from "./text.js";

export interface GraphNode {
  /** Unique in the whole model: the layer's path (`model_2/dense_1`), or the graph's path and `(input)`. */
  path: string;
  name: string;
  className: string;
  /** `Bidirectional(LSTM)`, `TimeDistributed(Dense)`: the wrapped layer's class. */
  wraps?: string;
  params: number;
  /** The layer's output shape as summary prints it ("" for the virtual input of a Sequential without an InputLayer). */
  outputShape: string;
  /** A Sequential's input when it has no InputLayer: not a layer of the file. */
  virtual?: boolean;
  /** A model used as a layer: its own graph. */
  inner?: ModelGraph;
  /** Recurrent (gated) layers: the section of the page describing it. */
  anchor?: string;
  output?: boolean;
}

export interface GraphEdge {
  /** Paths of the producing and consuming nodes. */
  from: string;
  to: string;
  /** Which of the producer's calls and output tensors (Keras' [layer, node, tensor]). */
  node: number;
  tensor: number;
  /** The tensor's shape, as summary prints shapes ("?" where it cannot be inferred). */
  shape: string;
}

export interface ModelGraph {
  path: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /**
   * False where the file records no connections between its layers (a weights-only file
   * without --config; an ONNX or TFLite graph, of which only the recurrent nodes are read).
   */
  connected: boolean;
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}/${name}` : name);

function oneShape(shapes: InferredShapes, layer: string, tensor: number): string {
  const s = shapes.get(layer);
  return formatShape(s === undefined ? undefined : [s[tensor] as Shape]);
}

function graphOf(graph: Graph, prefix: string, shapes: InferredShapes, nested: Map<Layer, InferredShapes>, anchors: Map<string, string>, connected: boolean): ModelGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const outputs = new Set(graph.outputs.map((r) => r.layer));
  if (connected && graph.inputs.some((r) => r.layer === SEQUENTIAL_INPUT)) {
    nodes.push({ path: join(prefix, SEQUENTIAL_INPUT), name: "input", className: "", params: 0, outputShape: oneShape(shapes, SEQUENTIAL_INPUT, 0), virtual: true });
  }
  for (const layer of graph.layers) {
    const path = join(prefix, layer.name);
    const inner = isNestedModel(layer) ? graphOf(graphOfNested(layer), path, nested.get(layer) ?? new Map(), nested, anchors, connected) : undefined;
    // Bidirectional's directions, TimeDistributed's layer.
    const wrapped = !inner && layer.children.length > 0 ? layer.children[0].className : undefined;
    nodes.push({
      path,
      name: layer.name,
      className: layer.className,
      wraps: wrapped,
      params: allWeights(layer).reduce((s, t) => s + tensorSize(t.shape), 0),
      outputShape: formatShape(shapes.get(layer.name)),
      inner,
      anchor: anchors.get(path),
      output: connected && outputs.has(layer.name),
    });
  }
  if (connected) {
    for (const call of callsInOrder(graph)) {
      const refs = graph.sequential ? call.inputs : callInputs(call.layer, call.node);
      for (const ref of refs) {
        edges.push({ from: join(prefix, ref.layer), to: join(prefix, call.layer.name), node: ref.node, tensor: ref.tensor, shape: oneShape(shapes, ref.layer, ref.tensor) });
      }
    }
  }
  return { path: prefix, nodes, edges, connected };
}

/**
 * The model's graph. `anchors` names the page section of each recurrent layer, by path.
 * A graph that cannot be walked (a layer consuming what nothing produces) fails as summary's
 * shape inference does not: the page would otherwise draw edges that are not there.
 */
export function modelGraph(model: Model, anchors: Map<string, string>): ModelGraph {
  const nested = new Map<Layer, InferredShapes>();
  const shapes = inferShapes(model, nested);
  const connected = !(isWeightsOnly(model) && model.configFrom === undefined) && model.layersRead !== "recurrent";
  return graphOf(graphOfModel(model), "", shapes, nested, anchors, connected);
}

// ---------------------------------------------------------------------------
// Drawing

/** Characters shown of a name at most; the whole name is in the box's tooltip. */
const MAX_LABEL = 36;
/** Width of a character of the boxes' 12 px monospace font, a little generous. */
const CHAR = 7.4;
const LINE = 16;
const PAD = 8;
/** A nested model's title band and inner margin. */
const HEADER = 3 * LINE + PAD;
const INSET = 12;

function clip(s: string): string {
  const chars = [...safe(s)];
  return chars.length <= MAX_LABEL ? chars.join("") : `${chars.slice(0, MAX_LABEL - 1).join("")}…`;
}

function nodeLines(n: GraphNode): string[] {
  if (n.virtual) return ["input", n.outputShape];
  const cls = n.wraps ? `${n.className}(${n.wraps})` : n.className;
  const third = n.className === "InputLayer" ? n.outputShape : `${thousands(n.params)} param${n.params === 1 ? "" : "s"}`;
  return [clip(n.name), clip(cls), third];
}

interface Drawn {
  svg: string;
  width: number;
  height: number;
}

/** A shape label's width, for keeping it inside the drawing. */
const labelWidth = (s: string) => [...s].length * 6.2 + 8;

function drawGraph(g: ModelGraph): Drawn {
  const inner = new Map<string, Drawn>();
  const sizes = g.nodes.map((n) => {
    if (n.inner) {
      const d = drawGraph(n.inner);
      inner.set(n.path, d);
      const title = Math.max(...nodeLines(n).map((l) => [...l].length)) * CHAR;
      return { id: n.path, width: Math.max(d.width + 2 * INSET, title + 2 * PAD), height: d.height + HEADER + 2 * INSET };
    }
    const lines = nodeLines(n);
    return { id: n.path, width: Math.max(96, Math.max(...lines.map((l) => [...l].length)) * CHAR + 2 * PAD), height: lines.length * LINE + 2 * PAD - 4 };
  });
  const layout = layeredLayout(sizes, g.edges, { gapX: 28, gapY: g.connected ? 52 : 16, stacked: !g.connected });
  const parts: string[] = [];
  let extra = 0;
  // A tensor's shape is written once, under the box that produces it (stacked when a box's several outputs are used).
  const tensors = new Map<string, string[]>();
  for (const e of g.edges) {
    const key = `${e.node}:${e.tensor}`;
    const list = tensors.get(e.from) ?? [];
    if (!list.includes(key)) list.push(key);
    tensors.set(e.from, list);
  }
  const labelled = new Set<string>();
  g.edges.forEach((e, k) => {
    const pts = layout.routes[k];
    if (pts.length < 2) return;
    const d = pts.map((p, j) => `${j === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
    const key = `${e.node}:${e.tensor}`;
    const list = tensors.get(e.from)!;
    let label = "";
    if (!labelled.has(`${e.from}\u0000${key}`)) {
      labelled.add(`${e.from}\u0000${key}`);
      const text = list.length > 1 ? `${e.node > 0 ? `call ${e.node} ` : ""}[${e.tensor}] ${e.shape}` : e.shape;
      const lx = pts[0].x + 5;
      const ly = pts[0].y + 13 + 12 * list.indexOf(key);
      extra = Math.max(extra, lx + labelWidth(text) - layout.width);
      label = `<text class="shape" x="${lx.toFixed(1)}" y="${ly.toFixed(1)}">${escapeHtml(text)}</text>`;
    }
    parts.push(
      `<g class="edge" data-from="${escapeHtml(e.from)}" data-to="${escapeHtml(e.to)}" data-node="${e.node}" data-tensor="${e.tensor}" data-shape="${escapeHtml(e.shape)}">` +
        `<path d="${d}" marker-end="url(#arrow)"/>${label}</g>`,
    );
  });
  for (const n of g.nodes) {
    const p = layout.nodes.get(n.path)!;
    const lines = nodeLines(n);
    const cls = ["node", n.inner ? "nested" : "", n.anchor ? "recurrent" : "", n.virtual ? "virtual" : "", n.output ? "output" : ""].filter(Boolean).join(" ");
    const attrs = n.virtual ? `data-input="${escapeHtml(n.path)}"` : `data-layer="${escapeHtml(n.path)}" data-class="${escapeHtml(n.className)}" data-params="${n.params}" data-shape="${escapeHtml(n.outputShape)}"`;
    const tip = n.virtual ? "the model's input" : `${safe(n.name)} (${safe(n.className)}): output ${n.outputShape}, ${thousands(n.params)} parameter(s)`;
    let body = `<rect x="0" y="0" width="${p.width.toFixed(1)}" height="${p.height}" rx="6"/>`;
    const text = (line: string, j: number) =>
      `<text class="${j === 0 ? "name" : j === 1 ? "class" : "detail"}" x="${PAD}" y="${PAD + LINE * j + 12}">${escapeHtml(line)}</text>`;
    if (n.inner) {
      body += lines.map(text).join("");
      body += `<g class="graph" transform="translate(${INSET},${HEADER + INSET})">${inner.get(n.path)!.svg}</g>`;
    } else body += lines.map(text).join("");
    const box = `<title>${escapeHtml(tip)}</title>${body}`;
    parts.push(
      `<g class="${cls}" ${attrs} transform="translate(${p.x.toFixed(1)},${p.y})">` +
        (n.anchor ? `<a href="#${n.anchor}" aria-label="${escapeHtml(`${safe(n.name)}: its cell`)}">${box}</a>` : box) +
        `</g>`,
    );
  }
  return { svg: parts.join(""), width: layout.width + Math.max(0, extra), height: layout.height };
}

const SVG_STYLE =
  `.node rect{fill:#f4f6fb;stroke:#333;stroke-width:1.4}.node.recurrent rect{fill:#fdf0e6;stroke:#b34700}.node.nested>rect{fill:#fbfbfb;stroke:#7570b3;stroke-dasharray:5 3}` +
  `.node.virtual rect{fill:#fff;stroke-dasharray:3 3}.node.output>rect,.node.output>a>rect{stroke-width:2.6}.node a:hover rect{fill:#fbe0c8}` +
  `text{font:12px ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;fill:#1d1d1f}.name{font-weight:bold}.class{fill:#444}.detail{fill:#555}` +
  `.edge path{fill:none;stroke:#555;stroke-width:1.4}.shape{font-size:11px;fill:#5a3d99}#arrow path{fill:#555}`;

/** The whole model as one inline SVG (no external resources), at its natural size. */
export function renderModelGraphSvg(g: ModelGraph, title: string): string {
  const d = drawGraph(g);
  const m = 12;
  const w = Math.ceil(d.width + 2 * m);
  const h = Math.ceil(d.height + 2 * m);
  return (
    `<svg class="model-graph" viewBox="${-m} ${-m} ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeHtml(`the layers of ${safe(title)}`)}">` +
    `<style>${SVG_STYLE}</style><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>` +
    d.svg +
    `</svg>`
  );
}
