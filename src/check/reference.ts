/**
 * `check --reference GOOD`: the candidate's weights against a known-good file, by
 * src/diff (diffModels, reference as A, candidate as B): layers matched by path, name,
 * then order; recurrent layers compared in Keras 2's packed layout and reported per gate
 * (kernel_f, recurrent_kernel_f, bias_f, ...). The check fails when a layer differs by more
 * than atol (default 0, as for `diff`: two saves of one model store the same float32 values
 * bit for bit), is only in one file, or has a different setting (units, activation, ...).
 * A quantized export (TFLite int8, tfjs uint8/uint16/float16) passes when every value lies
 * within half a quantization step of the reference's, as diff's "within quantization" (the
 * detail gives the largest |Δ| in steps, per gate), unless `exact` asks for atol alone.
 */
import type { DiffReport, GateDiff, LayerDiff, TensorDiff } from "../diff/index.js";
import { diffModels } from "../diff/index.js";
import { fmtSteps } from "../present/diff.js";
import type { Model } from "../model.js";
import { formatTolerance } from "./tolerance.js";
import { type Check, firstProblems } from "./types.js";

const sci = (v: number | null) => (v === null ? "-" : Number.isFinite(v) ? (v === 0 ? "0" : v.toExponential(2)) : String(v));
const val = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v));
const shape = (s: number[] | null) => (s ? `[${s.join(", ")}]` : "-");

function layerLabel(l: LayerDiff): string {
  const path = l.pathB ?? l.pathA ?? "";
  return `${path} (${l.classB ?? l.classA ?? ""})`;
}

function tensorProblem(label: string, t: TensorDiff): string {
  switch (t.status) {
    case "only-a":
      return `${label}: tensor '${t.name}' ${shape(t.shapeA)} is only in the reference`;
    case "only-b":
      return `${label}: tensor '${t.name}' ${shape(t.shapeB)} is not in the reference`;
    case "shape":
      return `${label}: tensor '${t.name}' has shape ${shape(t.shapeB)}, the reference ${shape(t.shapeA)}`;
    default: {
      const w = t.worst;
      const where = w ? ` at [${w.index.join(", ")}] (reference ${val(w.a)}, here ${val(w.b)})` : "";
      const size = t.maxAbsDiff !== null && !Number.isFinite(t.maxAbsDiff) ? "NaN or Inf differs" : `max |Δ| ${sci(t.maxAbsDiff)}`;
      const q = t.quantization;
      const steps = q ? ` (${q.beyond} beyond half a quantization step, max |Δ| = ${fmtSteps(q.maxSteps)})` : "";
      return `${label}: '${t.name}' ${t.changed} of ${t.count} value(s) changed${steps}, ${size}${where}`;
    }
  }
}

/** What differs in one layer, per gate where the layer has gates. */
function layerProblems(l: LayerDiff): string[] {
  const label = layerLabel(l);
  if (l.status === "only-a") return [`${l.pathA} (${l.classA}): only in the reference`];
  if (l.status === "only-b") return [`${label}: not in the reference`];
  if (l.status === "equal" || l.status === "within-quantization") return [];
  const out = l.configChanges.map((c) => `${label}: config ${c} (reference → here)`);
  const changedGates = l.gates.filter((g) => g.status === "different");
  if (changedGates.length > 0) {
    for (const g of changedGates) {
      const size = !Number.isFinite(g.maxAbsDiff)
        ? `NaN or Inf differs at ${g.worst}`
        : g.maxSteps !== null
          ? `max |Δ| = ${fmtSteps(g.maxSteps)} at ${g.worst}`
          : `max |Δ| ${sci(g.maxAbsDiff)} at ${g.worst}`;
      out.push(`${label} gate ${g.gate}: ${g.changedValues} value(s) changed, ${size}`);
    }
    // Tensors the gates do not cover (a shape change, a tensor only in one file).
    for (const t of l.tensors) if (t.status !== "equal" && t.status !== "different" && t.status !== "within-quantization") out.push(tensorProblem(label, t));
  } else {
    for (const t of l.tensors) if (t.status !== "equal" && t.status !== "within-quantization") out.push(tensorProblem(label, t));
  }
  return out;
}

const quantized = (report: DiffReport) => report.layers.some((l) => l.tensors.some((t) => t.quantization));

/** The layers within quantization, each with its gates' largest |Δ| in steps: "lstm: i 0.43 step, f 0.50 step, …". */
function quantizedLayers(report: DiffReport): string {
  const gates = (gs: GateDiff[]) => gs.filter((g) => g.maxSteps !== null).map((g) => `${g.gate} ${fmtSteps(g.maxSteps!)}`);
  return report.layers
    .filter((l) => l.status === "within-quantization")
    .map((l) => {
      const per = gates(l.gates);
      const steps = Math.max(0, ...l.tensors.filter((t) => t.quantization).map((t) => t.quantization!.maxSteps));
      return `${l.pathB ?? l.pathA} ${per.length ? per.join(", ") : fmtSteps(steps)}`;
    })
    .join("; ");
}

export interface ReferenceOptions {
  /** Largest |Δ| still counted as equal (--reference-atol). */
  atol: number;
  /** Quantized values too must be within atol (--reference-exact). */
  exact?: boolean;
  /**
   * The file holds part of the reference (one stage of a model exported in pieces,
   * --reference-partial): the reference's layers it lacks are named in a warning, as
   * `diff --partial` names them; it fails when it holds none of them.
   */
  partial?: boolean;
}

export function referenceCheck(model: Model, reference: Model, label: string, { atol, exact = false, partial = false }: ReferenceOptions): Check {
  const report: DiffReport = diffModels(reference, model, { atol, exact, partial });
  const problems = report.layers.flatMap(layerProblems);
  const { layers, different, tensors } = report.counts;
  const within = atol > 0 ? `within atol ${formatTolerance(atol)}` : "identical";
  const gates = report.layers.filter((l) => l.gates.length > 0).map((l) => ({ layer: l.pathB ?? l.pathA, gates: l.gates }));
  const data = { reference: label, atol, exact, partial, verdict: report.verdict, counts: report.counts, warnings: report.warnings, gates, layers: report.layers };
  const warned = report.warnings.length ? `; warning: ${report.warnings.join("; ")}` : "";
  if (partial && !report.layers.some((l) => l.pathA !== null && l.pathB !== null)) {
    const detail = `none of the layers of ${label} is in this file, so nothing was compared (--reference-partial)${warned}`;
    return { id: "reference", name: "reference", status: "fail", detail, problems: [detail], data };
  }
  if (report.verdict === "equal") {
    return { id: "reference", name: "reference", status: "pass", detail: `${layers} layer(s), ${tensors} tensor(s) ${within} to ${label}${warned}`, data };
  }
  if (report.verdict === "within-quantization") {
    const q = report.counts.withinQuantizationTensors;
    return {
      id: "reference",
      name: "reference",
      status: "pass",
      detail: `${layers} layer(s), ${tensors} tensor(s) within quantization of ${label}: ${q} tensor(s) within half a quantization step (max |Δ| per gate: ${quantizedLayers(report)})${q < tensors ? `, the others ${within}` : ""}${warned}`,
      data,
    };
  }
  return {
    id: "reference",
    name: "reference",
    status: "fail",
    detail: `${different} of ${layers} layer(s) differ from ${label} (|Δ| > ${formatTolerance(atol)}${quantized(report) ? (exact ? "; --reference-exact: quantized values too" : ", and beyond half a quantization step where quantized") : ""}): ${firstProblems(problems)}${warned}`,
    problems,
    data,
  };
}
