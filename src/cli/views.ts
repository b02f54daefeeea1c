/**
 * The views of a recurrent layer's trace that both `step` and `explain` give: the heatmap,
 * the HTML page, and where an explained layer came from. Commands import them from here,
 * not from each other.
 */
import type { ResolvedLayer } from "../eval/step.js";
import type { LayerTrace } from "../eval/trace.js";
import { resetAfter } from "../layers/gru.js";
import { recurrentKindOf } from "../layers/registry.js";
import type { Model } from "../model.js";
import { makeChalk, terminalColourLevel } from "../present/colour.js";
import { buildExplanation, type ExplainContext } from "../present/explain.js";
import { formatHeatmap } from "../present/heatmap.js";
import { htmlReport } from "../present/html.js";
import { heatmapWidth } from "./output.js";

/** Where the explained layer came from: the file, its writer, and GRU's reset_after. */
export function explainContext(model: Model, resolved: ResolvedLayer, file: string): ExplainContext {
  const layer = resolved.layer.className === "Bidirectional" ? resolved.layer.children[0] : resolved.layer;
  return {
    file,
    kerasVersion: model.kerasVersion,
    kerasMajor: model.kerasMajor,
    resetAfter: recurrentKindOf(layer.className)?.kind === "gru" ? resetAfter(layer) : undefined,
  };
}

/** `step --heatmap`. */
export function stepHeatmap(trace: LayerTrace, opts: { units?: number[]; steps?: number[]; width?: number }): string {
  return formatHeatmap(trace, { width: heatmapWidth(opts), units: opts.units, steps: opts.steps, chalk: makeChalk(terminalColourLevel()) });
}

/** `step --html`: the page for the steps shown, with the last of them explained for the first shown unit. */
export function stepHtml(model: Model, resolved: ResolvedLayer, trace: LayerTrace, file: string, view: { units?: number[]; steps?: number[]; digits: number }): string {
  const t = trace.directions[0];
  const step = view.steps ? view.steps[view.steps.length - 1] : t.steps - 1;
  const ctx = explainContext(model, resolved, file);
  const ex = buildExplanation(t, { sample: 0, step, unit: view.units?.[0] ?? 0 }, ctx, view.digits);
  const explainAt = (k: number, unit: number) => buildExplanation(t, { sample: 0, step: k, unit }, ctx, view.digits);
  return htmlReport(trace, { explanation: ex, digits: view.digits, units: view.units, steps: view.steps, explainAt });
}

