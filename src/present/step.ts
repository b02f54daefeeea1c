/**
 * `step` as text and JSON: for each sample and processing step, a table with the
 * layer's units as rows and the seed notebook's intermediates as columns.
 */
import Table from "cli-table3";
import type { LayerTrace, OutputTensor, StepTrace } from "../eval/trace.js";
import { fixed, safe, shortestFloat32, significant } from "./text.js";

export interface StepView {
  digits: number;
  /** Units to show (all when undefined). */
  units?: number[];
}

function describeLayer(t: StepTrace): string {
  const acts = Object.entries(t.activations)
    .map(([role, name]) => `${role} ${name}${name === "hard_sigmoid" && t.hardSigmoid ? ` (${t.hardSigmoid === "keras3" ? "Keras 3: clip(x/6 + 0.5, 0, 1)" : "Keras 1/2: clip(0.2·x + 0.5, 0, 1)"})` : ""}`)
    .join(", ");
  return `${safe(t.layer)} (${safe(t.className)}${t.direction === "backward" ? ", backward direction" : ""}): ${t.units} unit(s), ${t.inputDim} feature(s), ${t.dtype}, ${acts}`;
}

function unitList(t: StepTrace, view: StepView): number[] {
  return view.units ?? Array.from({ length: t.units }, (_, j) => j);
}

export function formatOutput(name: string, out: OutputTensor, sample: number, digits: number): string {
  const size = out.shape.reduce((a, b) => a * b, 1);
  const values = Array.from(out.data.subarray(sample * size, (sample + 1) * size), (v) => fixed(v, digits));
  const rows = out.shape.length === 2 ? Array.from({ length: out.shape[0] }, (_, r) => `[${values.slice(r * out.shape[1], (r + 1) * out.shape[1]).join(", ")}]`) : null;
  return `${safe(name)} (${out.shape.join(" × ")}): ${rows ? `[${rows.join(", ")}]` : `[${values.join(", ")}]`}`;
}

export function formatStepTables(trace: LayerTrace, view: StepView): string {
  const lines: string[] = [];
  const samples = trace.directions[0].samples;
  for (const note of trace.notes) lines.push(`note: ${safe(note)}`);
  for (let s = 0; s < samples; s++) {
    for (const t of trace.directions) {
      lines.push("", describeLayer(t));
      for (let step = 0; step < t.steps; step++) {
        const x = Array.from(t.input(s, step), (v) => significant(v, 7)).join(", ");
        const masked = t.mask[s * t.steps + step] ? "  [masked: states carried over]" : "";
        lines.push(`${samples > 1 ? `sample ${s + 1}, ` : ""}step ${step + 1} of ${t.steps} (t=${t.timeIndex[step]}), x = [${x}]${masked}`);
        const table = new Table({ head: ["unit", ...t.columns], style: { head: [], border: [] }, colAligns: ["left", ...t.columns.map(() => "right" as const)] });
        for (const j of unitList(t, view)) table.push([String(j), ...t.columns.map((name) => fixed(t.get(s, step, name, j), view.digits))]);
        lines.push(table.toString());
      }
    }
    for (const o of trace.outputs) lines.push(`${samples > 1 ? `sample ${s + 1} ` : ""}${formatOutput(o.name, o.tensor, s, view.digits)}`);
  }
  return lines.join("\n").replace(/^\n/, "");
}

/** The documented `step --json` document (README: JSON output). */
export function stepJson(trace: LayerTrace, view: Pick<StepView, "units">) {
  const first = trace.directions[0];
  // float32 values are written as their shortest float32 decimals, as numpy prints them.
  const num = first.dtype === "float32" ? shortestFloat32 : (v: number) => v;
  return {
    layer: trace.layer,
    class: trace.className,
    dtype: first.dtype,
    mergeMode: trace.mergeMode,
    notes: trace.notes,
    directions: trace.directions.map((t) => {
      const units = unitList(t, { digits: 6, units: view.units });
      return {
        direction: t.direction,
        units: t.units,
        activations: t.activations,
        hardSigmoid: t.hardSigmoid ?? null,
        samples: Array.from({ length: t.samples }, (_, s) =>
          Array.from({ length: t.steps }, (_, step) => ({
            t: t.timeIndex[step],
            x: Array.from(t.input(s, step), num),
            masked: t.mask[s * t.steps + step] === 1,
            ...Object.fromEntries(t.columns.map((name) => [name, units.map((j) => num(t.get(s, step, name, j)))])),
          })),
        ),
      };
    }),
    outputs: trace.outputs.map((o) => {
      const size = o.tensor.shape.reduce((a, b) => a * b, 1);
      return {
        name: o.name,
        shape: o.tensor.shape,
        samples: Array.from({ length: o.tensor.samples }, (_, s) => Array.from(o.tensor.data.subarray(s * size, (s + 1) * size), num)),
      };
    }),
  };
}
